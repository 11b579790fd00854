"""What users see when something underneath fails: the database going away in the middle of a
request, the SMTP server being down, the disk filling up during an upload."""

from __future__ import annotations

import errno
import io
import pathlib
import re

import pytest
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.exc import OperationalError

from awards.mail import FAILED, SENT, OutgoingMail
from awards.nominations.models import Attachment, Nomination, ReferenceCounter
from tests.conftest import get_csrf, post_form
from tests.factories import PDF, arrange, make_call, read, valid_form


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


@pytest.fixture
def applicant(app, client, make_user, login_as):
    arrange(app, lambda s: make_call(s))
    user = make_user("aigerim@example.com", name="Aigerim Sadykova")
    login_as(user)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return user


def start_draft(client) -> int:
    response = post_form(client, "/nominations/start/voy-2026",
                         {"category": "social", "nominator_kind": "self"},
                         csrf_url="/calls/voy-2026")
    assert response.status_code == 303
    return int(response.headers["Location"].split("/")[-2])


def saved(app, nomination_id: int) -> dict:
    def q(s):
        n = s.get(Nomination, nomination_id)
        return {"status": n.status.value, "reference": n.reference,
                "answers": {a.field.key: a.value for a in n.answers},
                "files": sorted(a.original_name for a in n.attachments)}
    return read(app, q)


def uploaded_files(app) -> list[str]:
    root = pathlib.Path(app.config["UPLOAD_FOLDER"])
    return sorted(p.name for p in root.rglob("*") if p.is_file())


def counter(app) -> int | None:
    return read(app, lambda s: s.scalar(select(ReferenceCounter.last_number)))


# ---- the database going away mid-request --------------------------------------------------------


class DatabaseGone:
    """Fails the first statement that matches ``pattern`` as a lost connection would."""

    def __init__(self, app, pattern: str, action=None):
        self.engine = app.extensions["awards_db"]["engine"]
        self.pattern = re.compile(pattern, re.I)
        self.action = action
        self.fired = False

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        if self.fired or not self.pattern.search(statement):
            return
        self.fired = True
        if self.action is not None:
            self.action(conn)  # the real thing: the server drops this connection
            return
        raise OperationalError(statement, parameters, Exception("server closed the connection"))

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self)


def _submit(client, nomination_id):
    return post_form(client, f"/nominations/{nomination_id}/submit", valid_form(),
                     csrf_url="/")


def _assert_clean_failure(response):
    assert response.status_code == 503
    body = text_of(response)
    assert "Service temporarily unavailable" in body
    assert "Traceback" not in body and "OperationalError" not in body
    assert response.headers["Retry-After"] == "30"


def test_database_lost_during_submission_shows_an_error_and_writes_nothing(app, client,
                                                                           applicant):
    nomination_id = start_draft(client)
    csrf = get_csrf(client, "/")

    # The audit record is the last write of a submission: everything before it must go too.
    with DatabaseGone(app, r"^INSERT INTO audit_events") as gone:
        response = client.post(f"/nominations/{nomination_id}/submit",
                               data={**valid_form(), "csrf_token": csrf})

    assert gone.fired
    _assert_clean_failure(response)
    assert saved(app, nomination_id) == {"status": "draft", "reference": None, "answers": {},
                                         "files": []}
    assert counter(app) in (None, 0)
    assert read(app, lambda s: s.scalar(select(Attachment.id))) is None
    assert uploaded_files(app) == []
    retry = _submit(client, nomination_id)
    assert retry.status_code == 303
    assert saved(app, nomination_id)["reference"] == "VOY-2026-00001"


def test_database_down_for_a_logged_in_user_still_renders_the_error_page(app, client,
                                                                         applicant):
    client.get("/nominations/")
    engine = app.extensions["awards_db"]["engine"]

    def down(conn, cursor, statement, parameters, context, executemany):
        raise OperationalError(statement, parameters, Exception("connection refused"))

    event.listen(engine, "before_cursor_execute", down)
    try:
        response = client.get("/nominations/")
    finally:
        event.remove(engine, "before_cursor_execute", down)

    _assert_clean_failure(response)
    assert client.get("/nominations/").status_code == 200


def test_database_error_page_is_translated(app, client, applicant):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ru"
    with DatabaseGone(app, r"FROM nominations"):
        response = client.get("/nominations/")
    assert response.status_code == 503
    assert '<html lang="ru"' in response.get_data(as_text=True)


@pytest.mark.postgres_only
def test_database_connection_killed_mid_request_rolls_back_and_next_request_works(
        app, client, applicant):
    nomination_id = start_draft(client)
    csrf = get_csrf(client, "/")
    killer = create_engine(app.config["DATABASE_URL"], isolation_level="AUTOCOMMIT")

    def terminate(conn):
        pid = conn.connection.dbapi_connection.info.backend_pid
        with killer.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    try:
        with DatabaseGone(app, r"^INSERT INTO audit_events", action=terminate) as gone:
            response = client.post(f"/nominations/{nomination_id}/submit",
                                   data={**valid_form(), "csrf_token": csrf})
    finally:
        killer.dispose()

    assert gone.fired
    _assert_clean_failure(response)
    assert saved(app, nomination_id) == {"status": "draft", "reference": None, "answers": {},
                                         "files": []}
    assert _submit(client, nomination_id).status_code == 303
    assert saved(app, nomination_id)["reference"] == "VOY-2026-00001"


def _kill_other_backends(app) -> int:
    killer = create_engine(app.config["DATABASE_URL"], isolation_level="AUTOCOMMIT")
    try:
        with killer.connect() as conn:
            return len(conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()")).all())
    finally:
        killer.dispose()


@pytest.mark.postgres_only
def test_connections_lost_while_idle_are_replaced_before_a_request_uses_them(
        app, client, applicant, monkeypatch):
    """The database restarted (or a firewall dropped the idle connections) while the site was
    quiet: the next visitor gets the page, not an error."""
    import awards.db

    assert client.get("/nominations/").status_code == 200
    assert _kill_other_backends(app) >= 1
    monkeypatch.setattr(awards.db, "PING_AFTER_IDLE", 0.0)  # as if ten quiet seconds passed
    assert client.get("/nominations/").status_code == 200


@pytest.mark.postgres_only
def test_connections_lost_under_load_cost_one_failed_request_at_most(app, client, applicant):
    """Connections in use a moment ago are not pinged: if the server goes away then, the first
    request fails cleanly (a translated 503, nothing half-done) and the pool reconnects for the
    next one."""
    assert client.get("/nominations/").status_code == 200
    assert _kill_other_backends(app) >= 1
    _assert_clean_failure(client.get("/nominations/"))
    assert client.get("/nominations/").status_code == 200


# ---- the SMTP server going away -----------------------------------------------------------------


def test_smtp_down_request_succeeds_and_mail_is_delivered_when_it_returns(
        app, client, runner, outbox, smtp_server):
    smtp_server.fail_next = 0
    port = smtp_server.port
    app.config["MAIL_PORT"] = 1  # nothing listens: the server is gone

    response = post_form(client, "/account/register", {
        "email": "new@example.com", "full_name": "New Person",
        "password": "long-enough-password", "confirm": "long-enough-password",
        "accept": "y"}, csrf_url="/account/register")
    assert response.status_code == 200
    failed = runner.invoke(args=["awards", "mail", "send"])

    assert failed.exit_code == 1
    assert "sent 0, failed 1" in failed.output
    [kept] = outbox("new@example.com")
    assert (kept.status, kept.attempts, kept.sent_at) == (FAILED, 1, None)
    assert "ConnectionRefusedError" in kept.last_error

    app.config["MAIL_PORT"] = port  # the server is back
    with app.app_context():
        from awards.db import get_db

        get_db().execute(text("UPDATE outgoing_mail SET next_attempt_at = created_at"))
        get_db().commit()
    delivered = runner.invoke(args=["awards", "mail", "send"])

    assert delivered.exit_code == 0, delivered.output
    [message] = smtp_server.wait_for(1)
    assert message["To"] == "new@example.com"
    assert message["Message-ID"] == read(app, lambda s: s.scalar(select(OutgoingMail.message_id)))
    [done] = outbox("new@example.com")
    assert (done.status, done.attempts) == (SENT, 2)


# ---- a full disk ------------------------------------------------------------------------------


@pytest.fixture
def full_disk(app, monkeypatch):
    """Writing an upload's bytes fails with ENOSPC, as on a full disk; nothing else does."""
    real_open = pathlib.Path.open
    uploads = pathlib.Path(app.config["UPLOAD_FOLDER"])

    class Full(io.RawIOBase):
        def __init__(self, fh):
            self.fh = fh

        def writable(self):
            return True

        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

        def close(self):
            self.fh.close()
            super().close()

    def fake_open(self, mode="r", *args, **kwargs):
        fh = real_open(self, mode, *args, **kwargs)
        if "w" in mode and uploads in self.parents:
            return Full(fh)
        return fh

    monkeypatch.setattr(pathlib.Path, "open", fake_open)
    return uploads


def test_full_disk_on_upload_keeps_the_draft_and_says_so(app, client, applicant, full_disk):
    nomination_id = start_draft(client)

    response = post_form(client, f"/nominations/{nomination_id}/edit",
                         valid_form(q_title="Typed before the disk filled up",
                                    q_documents=(io.BytesIO(PDF), "report.pdf")), csrf_url="/")

    assert response.status_code == 400
    body = text_of(response)
    assert ("The server has no room for the file right now. Your draft is saved; please try "
            "the upload again later.") in body
    assert "Typed before the disk filled up" in body
    stored = saved(app, nomination_id)
    assert (stored["status"], stored["answers"]["title"], stored["files"]) == (
        "draft", "Typed before the disk filled up", [])
    assert [p for p in full_disk.rglob("*") if p.is_file()] == []


def test_full_disk_on_submit_keeps_the_draft_unsubmitted(app, client, applicant, full_disk):
    nomination_id = start_draft(client)

    response = _submit(client, nomination_id)

    assert response.status_code == 400
    assert "The server has no room for the file right now." in text_of(response)
    assert saved(app, nomination_id)["status"] == "draft"
    assert saved(app, nomination_id)["reference"] is None
    assert counter(app) in (None, 0)

