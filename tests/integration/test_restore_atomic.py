"""``restore --force`` replaces the upload folder only together with the database: a restore that
fails midway, or at its COMMIT, leaves both the rows and the files as they were."""

from __future__ import annotations

import hashlib
import json
import tarfile
from pathlib import Path

import pytest

from awards.auth.models import User
from tests.factories import PDF, arrange
from tests.integration.test_backup import (
    backup,
    build_world,
    engine_of,
    restore,
    rewrite,
    table_rows,
    upload_files,
    without_restore_event,
)


@pytest.fixture
def changed_since_backup(app, tmp_path):
    """A backup of the world, then a new account and a new file the backup does not have."""
    arrange(app, build_world)
    archive = tmp_path / "awards.tar.gz"
    backup(app, archive)
    arrange(app, lambda s: s.add(User(email="later@example.com", password_hash="x",
                                      full_name="Later", preferred_language="ru")))
    later = Path(app.config["UPLOAD_FOLDER"]) / "ee" / ("ee" * 20 + ".pdf")
    later.parent.mkdir(parents=True, exist_ok=True)  # a world file may share the prefix
    later.write_bytes(PDF)
    return archive


def damaged_table(archive: Path, target: Path) -> Path:
    """The archive with one row of the audit table (loaded after every other table) written
    twice, its checksums made to match: it passes every check and fails while loading."""
    with tarfile.open(archive, "r:gz") as tar:
        lines = tar.extractfile("db/audit_events.jsonl").read().splitlines(keepends=True)
    data = b"".join([*lines, lines[0]])

    def manifest(m):
        for entry in m["tables"]:
            if entry["name"] == "audit_events":
                entry.update(rows=len(lines) + 1, size=len(data),
                             sha256=hashlib.sha256(data).hexdigest())
        return m

    return rewrite(archive, target, replace={"db/audit_events.jsonl": data}, manifest=manifest)


def test_restore_failing_midway_leaves_rows_and_files_as_they_were(app, tmp_path,
                                                                   changed_since_backup):
    bad = damaged_table(changed_since_backup, tmp_path / "bad.tar.gz")
    rows, files = table_rows(engine_of(app)), upload_files(app.config["UPLOAD_FOLDER"])
    assert f"ee/{'ee' * 20}.pdf" in files and len(files) == 7

    result = restore(app, bad, "--force")

    assert result.exit_code == 1
    assert "table audit_events: the database refused a row" in result.output
    assert "Nothing was restored." in result.output
    assert table_rows(engine_of(app)) == rows
    assert upload_files(app.config["UPLOAD_FOLDER"]) == files
    assert sorted(p.name for p in Path(app.config["UPLOAD_FOLDER"]).iterdir()
                  if p.name.startswith(".")) == []


def test_restore_failing_at_its_commit_puts_the_files_back(app, changed_since_backup,
                                                           monkeypatch):
    rows, files = table_rows(engine_of(app)), upload_files(app.config["UPLOAD_FOLDER"])
    dialect = engine_of(app).dialect
    seen = []

    def refused(dbapi_connection):
        # The server refusing the COMMIT, after every row is in and the files have changed
        # places (a lost connection or a serialization failure looks the same).
        seen.append(upload_files(app.config["UPLOAD_FOLDER"]))
        raise dialect.loaded_dbapi.OperationalError("could not commit: the server went away")

    monkeypatch.setattr(dialect, "do_commit", refused)
    result = restore(app, changed_since_backup, "--force")
    monkeypatch.undo()

    assert result.exit_code == 1
    assert ("the database refused to commit the restore (could not commit: the server went "
            "away). Nothing was restored; the upload folder is as it was.") in result.output
    [at_commit] = seen
    assert f"ee/{'ee' * 20}.pdf" not in at_commit  # the backup's files were in place then
    assert table_rows(engine_of(app)) == rows
    assert upload_files(app.config["UPLOAD_FOLDER"]) == files


def test_restore_with_force_then_succeeds_and_leaves_no_staging_folder(app, tmp_path,
                                                                       changed_since_backup):
    with tarfile.open(changed_since_backup, "r:gz") as tar:
        archived = json.loads(tar.extractfile("manifest.json").read())["uploads"]

    result = restore(app, changed_since_backup, "--force")

    assert result.exit_code == 0, result.output
    files = upload_files(app.config["UPLOAD_FOLDER"])
    assert sorted(files) == sorted(u["file"].removeprefix("uploads/") for u in archived)
    assert "later@example.com" not in json.dumps(
        without_restore_event(table_rows(engine_of(app)))["users"], default=str)
    assert [p.name for p in Path(app.config["UPLOAD_FOLDER"]).iterdir()
            if p.name.startswith(".")] == []
