"""``flask awards backup`` and ``restore``: a round trip gives back every row and file, across
SQLite and PostgreSQL; damaged, foreign or mismatched archives and non-empty targets are refused
with a clear message and change nothing."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from awards import create_app
from awards.audit import AuditEvent
from awards.auth.models import User
from awards.db import Base
from awards.mail import queue_mail
from awards.migrate import upgrade
from tests.conftest import ON_POSTGRES, PASSWORD, login
from tests.factories import PDF, arrange, read
from tests.jury_factories import add_review, jury_setup


def build_world(session):
    from awards import audit

    world = jury_setup(session, entries=3)
    from awards.jury.models import Assignment

    for position, assignment_id in enumerate(world.mine):
        add_review(session, session.get(Assignment, assignment_id),
                   {"impact": 7.0 + position, "originality": 5.5, "scale": 3.0},
                   comment="Сильная заявка — «ясно»", total=20.5 + position)
    add_review(session, session.get(Assignment, world.others[0]), {"impact": 1.0},
               submitted=False, note="draft note")
    queue_mail(session, to="someone@example.com", template="password_changed", language="kk",
               name="Әлия", reset_url="http://localhost/reset")
    audit.record(session, action="test.event", object_type="test", object_id=1,
                 after={"text": "Жыл волонтері", "flag": True, "nothing": None}, ip="10.0.0.1")
    return world


def table_rows(engine) -> dict[str, list[tuple]]:
    """Every row of every table, as Python values (the same on both backends)."""
    out = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            out[table.name] = [tuple(row) for row in conn.execute(select(table).order_by(*order))]
    return out


def upload_files(folder) -> dict[str, bytes]:
    root = Path(folder)
    files = {p.relative_to(root): p for p in sorted(root.rglob("*")) if p.is_file()}
    return {name.as_posix(): p.read_bytes() for name, p in files.items()
            if name.parts[0] != "tmp"}


def engine_of(app):
    return app.extensions["awards_db"]["engine"]


@pytest.fixture
def second_app(tmp_path, app_config, database_template):
    """A second installation with an empty, migrated database and its own upload folder."""
    config = dict(app_config, INSTANCE_PATH=str(tmp_path / "second"))
    admin = None
    if ON_POSTGRES:
        from sqlalchemy.engine import make_url

        url = make_url(app_config["DATABASE_URL"])
        name = url.database + "_restore"
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        config["DATABASE_URL"] = url.set(database=name).render_as_string(hide_password=False)
        upgrade(config["DATABASE_URL"])
    else:
        path = tmp_path / "second.db"
        shutil.copy(database_template["path"], path)
        config["DATABASE_URL"] = f"sqlite:///{path}"
    second = create_app(config)
    yield second
    engine_of(second).dispose()
    if admin is not None:
        with admin.connect() as conn:
            conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
            ), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def backup(app, path) -> object:
    result = app.test_cli_runner().invoke(args=["awards", "backup", "--output", str(path)])
    assert result.exit_code == 0, result.output
    return result


def restore(app, path, *extra):
    return app.test_cli_runner().invoke(args=["awards", "restore", str(path), *extra])


def without_restore_event(rows):
    events = rows["audit_events"]
    return {**rows, "audit_events": [e for e in events if "backup.restore" not in e]}


def test_backup_then_restore_gives_back_every_row_and_file(app, second_app, tmp_path):
    arrange(app, build_world)
    archive = tmp_path / "awards.tar.gz"
    result = backup(app, archive)
    assert "uploaded files" in result.output

    restored = restore(second_app, archive)

    assert restored.exit_code == 0, restored.output
    original, copy = table_rows(engine_of(app)), table_rows(engine_of(second_app))
    assert without_restore_event(copy) == original
    assert upload_files(second_app.config["UPLOAD_FOLDER"]) == upload_files(
        app.config["UPLOAD_FOLDER"])
    assert len(upload_files(app.config["UPLOAD_FOLDER"])) == 6


def test_restore_keeps_the_audit_chain_intact_and_records_itself(app, second_app, tmp_path):
    arrange(app, build_world)
    archive = tmp_path / "awards.tar.gz"
    backup(app, archive)

    assert restore(second_app, archive).exit_code == 0

    verify = second_app.test_cli_runner().invoke(args=["awards", "audit", "verify"])
    assert verify.exit_code == 0, verify.output
    last = read(second_app, lambda s: s.scalars(
        select(AuditEvent).order_by(AuditEvent.id.desc())).first())
    assert (last.action, last.after_data()["revision"]) == (
        "backup.restore", json.loads(_manifest(archive))["alembic_revision"])


def test_restored_service_accepts_new_rows_and_logins(app, second_app, tmp_path):
    """New ids continue after the restored ones (PostgreSQL sequences are reset)."""
    arrange(app, build_world)
    archive = tmp_path / "awards.tar.gz"
    backup(app, archive)
    assert restore(second_app, archive).exit_code == 0
    highest = read(second_app, lambda s: s.scalar(select(func.max(User.id))))

    def add_user(session):
        from awards.auth.services import hash_password

        user = User(email="new@example.com", password_hash=hash_password(PASSWORD),
                    full_name="New", preferred_language="en")
        session.add(user)
        session.flush()
        return user.id

    assert arrange(second_app, add_user) == highest + 1
    client = second_app.test_client()
    login(client, "juror@example.com")
    assert client.get("/jury/").status_code == 200


def test_restore_refuses_a_database_with_data_and_changes_nothing(app, tmp_path):
    arrange(app, build_world)
    archive = tmp_path / "awards.tar.gz"
    backup(app, archive)
    before = table_rows(engine_of(app))

    result = restore(app, archive)

    assert result.exit_code == 1
    assert "the database is not empty" in result.output
    assert "--force" in result.output
    assert table_rows(engine_of(app)) == before


def test_restore_with_force_replaces_what_is_there(app, tmp_path):
    arrange(app, build_world)
    archive = tmp_path / "awards.tar.gz"
    backup(app, archive)
    original_rows = table_rows(engine_of(app))
    original_files = upload_files(app.config["UPLOAD_FOLDER"])

    def change(session):
        session.add(User(email="later@example.com", password_hash="x", full_name="Later",
                         preferred_language="ru"))
        session.flush()

    arrange(app, change)
    stray = Path(app.config["UPLOAD_FOLDER"]) / "zz" / "zz-later.pdf"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(PDF)

    result = restore(app, archive, "--force")

    assert result.exit_code == 0, result.output
    assert without_restore_event(table_rows(engine_of(app))) == original_rows
    assert upload_files(app.config["UPLOAD_FOLDER"]) == original_files
    verify = app.test_cli_runner().invoke(args=["awards", "audit", "verify"])
    assert verify.exit_code == 0, verify.output


def test_restore_refuses_an_upload_folder_with_files(app, second_app, tmp_path):
    arrange(app, build_world)
    archive = tmp_path / "awards.tar.gz"
    backup(app, archive)
    stray = Path(second_app.config["UPLOAD_FOLDER"]) / "ab" / "abc.pdf"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(PDF)

    result = restore(second_app, archive)

    assert result.exit_code == 1
    assert "upload folder" in result.output and "not empty" in result.output
    assert read(second_app, lambda s: s.scalar(select(func.count()).select_from(User))) == 0


# ---- damaged and foreign archives ---------------------------------------------------------------


def _manifest(archive: Path) -> str:
    with tarfile.open(archive, "r:gz") as tar:
        return tar.extractfile("manifest.json").read().decode()


def rewrite(archive: Path, target: Path, *, replace: dict[str, bytes] | None = None,
            add: dict[str, bytes] | None = None, manifest=None) -> Path:
    """A copy of ``archive`` with some members' bytes replaced, some added, and the manifest
    changed by ``manifest(dict)``."""
    replace = dict(replace or {})
    with tarfile.open(archive, "r:gz") as src, tarfile.open(target, "w:gz") as dst:
        for member in src:
            data = src.extractfile(member).read()
            if member.name == "manifest.json" and manifest is not None:
                data = json.dumps(manifest(json.loads(data))).encode()
            data = replace.pop(member.name, data)
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
        for name, data in (add or {}).items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            dst.addfile(info, io.BytesIO(data))
    return target


def _first_upload(archive: Path) -> str:
    return json.loads(_manifest(archive))["uploads"][0]["file"]


@pytest.mark.parametrize("damage", ["changed_row", "changed_file", "missing_part", "extra_part"])
def test_restore_refuses_a_damaged_archive_and_writes_nothing(app, second_app, tmp_path, damage):
    arrange(app, build_world)
    archive = tmp_path / "awards.tar.gz"
    backup(app, archive)
    with tarfile.open(archive, "r:gz") as tar:
        users = tar.extractfile("db/users.jsonl").read()
    bad = tmp_path / "bad.tar.gz"
    if damage == "changed_row":
        rewrite(archive, bad, replace={"db/users.jsonl": users.replace(b"juror@", b"admin@")})
        expected = "db/users.jsonl in the archive is damaged"
    elif damage == "changed_file":
        rewrite(archive, bad, replace={_first_upload(archive): PDF + b"x"})
        expected = f"{_first_upload(archive)} in the archive is damaged"
    elif damage == "missing_part":
        rewrite(archive, bad, manifest=lambda m: {**m, "uploads": [
            *m["uploads"], {"file": "uploads/ff/gone.pdf", "size": 1, "sha256": "0" * 64}]})
        expected = "the archive is incomplete: uploads/ff/gone.pdf is missing"
    else:
        rewrite(archive, bad, add={"uploads/ee/extra.pdf": PDF})
        expected = "the archive holds a file its manifest does not list: uploads/ee/extra.pdf"

    result = restore(second_app, bad)

    assert result.exit_code == 1
    assert expected in result.output
    assert read(second_app, lambda s: s.scalar(select(func.count()).select_from(User))) == 0
    assert upload_files(second_app.config["UPLOAD_FOLDER"]) == {}


@pytest.mark.parametrize("name", ["uploads/../../evil.pdf", "uploads/tmp/x.pdf",
                                  "uploads//etc/passwd"])
def test_restore_refuses_file_names_leading_outside_the_upload_folder(app, second_app, tmp_path,
                                                                      name):
    backup(app, tmp_path / "awards.tar.gz")
    bad = rewrite(tmp_path / "awards.tar.gz", tmp_path / "bad.tar.gz", add={name: PDF},
                  manifest=lambda m: {**m, "uploads": [
                      {"file": name, "size": len(PDF),
                       "sha256": __import__("hashlib").sha256(PDF).hexdigest()}]})

    result = restore(second_app, bad)

    assert result.exit_code == 1
    assert "unsafe file name" in result.output
    assert not (tmp_path / "evil.pdf").exists()
    assert read(second_app, lambda s: s.scalar(select(func.count()).select_from(AuditEvent))) == 0


def test_restore_refuses_a_backup_of_another_schema_revision(app, second_app, tmp_path):
    backup(app, tmp_path / "awards.tar.gz")
    bad = rewrite(tmp_path / "awards.tar.gz", tmp_path / "old.tar.gz",
                  manifest=lambda m: {**m, "alembic_revision": "0000_older"})

    result = restore(second_app, bad)

    assert result.exit_code == 1
    assert "the backup was made at schema revision 0000_older" in result.output


@pytest.mark.parametrize("content", [b"not a tar at all", b""])
def test_restore_refuses_a_file_that_is_not_a_backup(second_app, tmp_path, content):
    path = tmp_path / "other.tar.gz"
    path.write_bytes(content)

    result = restore(second_app, path)

    assert result.exit_code == 1
    assert "cannot be read as a .tar.gz archive" in result.output


def test_backup_refuses_to_overwrite_an_existing_file(app, tmp_path):
    target = tmp_path / "exists.tar.gz"
    target.write_bytes(b"keep me")

    result = app.test_cli_runner().invoke(args=["awards", "backup", "--output", str(target)])

    assert result.exit_code == 1
    assert "already exists" in result.output
    assert target.read_bytes() == b"keep me"


def test_backup_manifest_lists_revision_counts_and_checksums(app, tmp_path):
    import hashlib

    arrange(app, build_world)
    archive = tmp_path / "awards.tar.gz"
    backup(app, archive)

    manifest = json.loads(_manifest(archive))
    with tarfile.open(archive, "r:gz") as tar:
        names = tar.getnames()
        users = tar.extractfile("db/users.jsonl").read()
    counts = {t["name"]: t["rows"] for t in manifest["tables"]}
    assert (manifest["format"], manifest["format_version"]) == ("awards-backup", 1)
    assert manifest["alembic_revision"] == read(
        app, lambda s: s.execute(text("SELECT version_num FROM alembic_version")).scalar())
    assert (counts["users"], counts["reviews"], counts["outgoing_mail"]) == (4, 4, 1)
    users_entry = next(t for t in manifest["tables"] if t["name"] == "users")
    assert users_entry["sha256"] == hashlib.sha256(users).hexdigest()
    assert names[0] == "manifest.json"
    assert [t["name"] for t in manifest["tables"]] == [
        t.name for t in Base.metadata.sorted_tables]


# ---- across database servers ---------------------------------------------------------------------


@pytest.fixture
def sqlite_app(tmp_path, app_config):
    path = tmp_path / "sqlite-side.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    side = create_app(dict(app_config, DATABASE_URL=url,
                           INSTANCE_PATH=str(tmp_path / "sqlite-side")))
    yield side
    engine_of(side).dispose()


@pytest.mark.postgres_only
def test_backup_of_sqlite_restores_into_postgresql(app, sqlite_app, tmp_path):
    arrange(sqlite_app, build_world)
    archive = tmp_path / "from-sqlite.tar.gz"
    backup(sqlite_app, archive)

    result = restore(app, archive)

    assert result.exit_code == 0, result.output
    assert without_restore_event(table_rows(engine_of(app))) == table_rows(
        engine_of(sqlite_app))
    assert app.test_cli_runner().invoke(args=["awards", "audit", "verify"]).exit_code == 0


@pytest.mark.postgres_only
def test_backup_of_postgresql_restores_into_sqlite(app, sqlite_app, tmp_path):
    arrange(app, build_world)
    archive = tmp_path / "from-postgresql.tar.gz"
    backup(app, archive)

    result = restore(sqlite_app, archive)

    assert result.exit_code == 0, result.output
    assert without_restore_event(table_rows(engine_of(sqlite_app))) == table_rows(
        engine_of(app))
    assert sqlite_app.test_cli_runner().invoke(
        args=["awards", "audit", "verify"]).exit_code == 0

