"""Uploads reach their final name only with the commit of the row that refers to them; a process
killed mid-upload leaves no partial file under a final name, and ``flask awards storage sweep``
lists (and with ``--delete`` removes) the files nobody refers to."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from awards.auth.models import User
from awards.db import get_db
from awards.storage import path_for, save_upload, sweep
from tests.factories import PDF, arrange, read

DAY = 24 * 3600


def files_under(app) -> list[str]:
    root = Path(app.config["UPLOAD_FOLDER"])
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def run_sweep(app, *extra):
    return app.test_cli_runner().invoke(args=["awards", "storage", "sweep", *extra])


# ---- moving into place with the commit -----------------------------------------------------------


def test_upload_reaches_its_final_name_only_with_the_commit(app):
    with app.test_request_context():
        stored = save_upload(io.BytesIO(PDF), "report.pdf", allowed=["pdf"], max_bytes=10_000)
        final = path_for(stored.stored_name)
        assert not final.exists()
        [partial] = files_under(app)
        assert partial.startswith("tmp/") and partial.endswith(".part")

        get_db().add(User(email="row@example.com", password_hash="x"))
        get_db().commit()

        assert final.read_bytes() == PDF
        assert files_under(app) == [f"{stored.stored_name[:2]}/{stored.stored_name}"]


@pytest.mark.parametrize("end", ["rollback", "close"])
def test_upload_of_a_transaction_that_does_not_commit_is_removed(app, end):
    with app.test_request_context():
        session = get_db()
        session.add(User(email="row@example.com", password_hash="x"))
        session.flush()
        save_upload(io.BytesIO(PDF), "report.pdf", allowed=["pdf"], max_bytes=10_000)
        getattr(session, end)()
        assert files_under(app) == []


def test_upload_whose_rows_the_database_refuses_is_removed(app, make_user):
    make_user("taken@example.com")
    with app.test_request_context():
        session = get_db()
        stored = save_upload(io.BytesIO(PDF), "report.pdf", allowed=["pdf"], max_bytes=10_000)
        session.add(User(email="taken@example.com", password_hash="x"))
        with pytest.raises(Exception, match=r"(?i)unique"):
            session.commit()
        session.rollback()
        assert not path_for(stored.stored_name).exists()
        assert files_under(app) == []


# ---- killed mid-upload ---------------------------------------------------------------------------


CHILD = textwrap.dedent("""
    import json, sys
    from awards import create_app
    from awards.db import get_db
    from awards.storage import save_upload

    app = create_app(json.loads(sys.argv[1]))
    with app.test_request_context():
        save_upload(sys.stdin.buffer, "report.pdf", allowed=["pdf"], max_bytes=10 * 2**20)
        get_db().commit()
    print("finished")
""")


def test_process_killed_mid_upload_leaves_only_a_temporary_file_the_sweep_removes(app):
    config = {key: app.config[key] for key in (
        "TESTING", "ENV", "INSTANCE_PATH", "DATABASE_URL", "SECRET_KEY", "AUDIT_KEY",
        "UPLOAD_FOLDER")}
    child = subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(config)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             cwd=Path(__file__).parents[2])
    tmp = Path(app.config["UPLOAD_FOLDER"]) / "tmp"
    body = b"%PDF-1.4\n" + b"0" * (2**20 - 9)
    try:
        for _ in range(3):  # 3 MB of an 8 MB upload, then the sender stalls
            child.stdin.write(body)
        child.stdin.flush()
        deadline = time.monotonic() + 30
        while sum(p.stat().st_size for p in tmp.glob("*")) < 2**20:
            assert time.monotonic() < deadline, "the upload never started"
            assert child.poll() is None, "the process ended before it was killed"
            time.sleep(0.01)
        child.send_signal(signal.SIGKILL)
        assert child.wait(30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdin.close()
        child.stdout.close()

    [partial] = files_under(app)
    assert partial.startswith("tmp/") and partial.endswith(".part")
    partial_size = (Path(app.config["UPLOAD_FOLDER"]) / partial).stat().st_size
    assert 2**20 <= partial_size < 8 * 2**20

    recent = run_sweep(app)
    assert recent.exit_code == 0, recent.output
    assert recent.output.splitlines() == [
        "0 orphans older than 24 hours (0 B): nothing to remove",
        "1 newer files with no row left alone (an upload may be in progress)"]

    age(Path(app.config["UPLOAD_FOLDER"]) / partial, 2 * DAY)
    listed = run_sweep(app)
    lines = listed.output.splitlines()
    assert lines[0].startswith(f"{partial}\t")
    assert lines[0].endswith("\tan upload that never finished")
    assert lines[1].startswith("1 orphan older than 24 hours (")
    assert lines[1].endswith("): dry run, nothing removed; run with --delete to remove them")
    assert files_under(app) == [partial]

    removed = run_sweep(app, "--delete")
    assert removed.exit_code == 0, removed.output
    assert removed.output.splitlines()[-1].endswith(": removed 1")
    assert files_under(app) == []
    assert run_sweep(app).output == "0 orphans older than 24 hours (0 B): nothing to remove\n"


# ---- what the sweep counts as an orphan ----------------------------------------------------------


def stray(app, relative: str, *, days: float = 2) -> Path:
    path = Path(app.config["UPLOAD_FOLDER"]) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(PDF)
    age(path, days * DAY)
    return path


def test_sweep_keeps_every_file_a_row_refers_to(app):
    from tests.results_factories import decided_call

    world = arrange(app, decided_call)  # a citation with a photo

    def replace_photo(session):
        from awards.results.models import Citation, Publication

        citation = session.scalar(select(Citation).where(Citation.photo_name.isnot(None)))
        old = citation.photo_name
        citation.photo_name = "f" * 40 + ".png"
        # A published version still shows the photo the citation had before.
        session.add(Publication(call_id=world.call_id, version=1, scheduled_for=datetime.now(UTC),
                                snapshot={"categories": [{"winners": [{"photo": old}]}]},
                                created_by_id=citation.nomination.applicant_id))
        return old

    old_photo = arrange(app, replace_photo)
    stray(app, f"ff/{'f' * 40}.png")
    for path in Path(app.config["UPLOAD_FOLDER"]).rglob("*"):
        if path.is_file():
            age(path, 3 * DAY)
    unreferenced = stray(app, f"ab/{'ab' * 20}.pdf")
    odd = stray(app, "notes.txt")

    with app.app_context():
        report = sweep(get_db(), older_than=timedelta(days=1))

    assert sorted((o.path, o.reason) for o in report.orphans) == [
        (f"ab/{'ab' * 20}.pdf", "unreferenced"), ("notes.txt", "unreferenced")]
    assert (Path(app.config["UPLOAD_FOLDER"]) / old_photo[:2] / old_photo).exists()
    assert unreferenced.exists() and odd.exists()


def test_sweep_lists_but_never_removes_what_an_interrupted_restore_left(app):
    aside = stray(app, f".restore-old-1234/ab/{'ab' * 20}.pdf")
    recent = stray(app, f"cd/{'cd' * 20}.pdf", days=0.5)

    result = run_sweep(app, "--delete")

    assert result.exit_code == 0, result.output
    assert "left by an interrupted restore: check it by hand, never removed here" in result.output
    assert "1 orphan older than 24 hours (" in result.output
    assert "removed 0, kept 1 left by an interrupted restore" in result.output
    assert aside.exists() and recent.exists()
    assert run_sweep(app, "--older-than", "0", "--delete").output.count("removed 1") == 1
    assert aside.exists() and not recent.exists()


def test_sweep_refuses_a_negative_age(app):
    result = run_sweep(app, "--older-than", "-1")
    assert result.exit_code == 2
    assert "--older-than" in result.output
    assert read(app, lambda s: s.scalar(select(User.id))) is None
