import os
import re
import signal
import smtplib
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from awards import ROOT
from awards import mail as mail_module
from awards.auth.models import User
from awards.db import utcnow
from awards.mail import FAILED, PENDING, SENT, OutgoingMail, queue_mail, retry_delay, send_pending
from tests.conftest import ON_POSTGRES, free_port

KAZAKH_BODY = "Сәлеметсіз бе, Әлия Қасымқызы!\nӨтініміңіз қабылданды: «Үздік жоба — 2026».\n"
RUSSIAN_SUBJECT = "Заявка принята — «Лучший проект»"


def _add(db, to="aliya@example.kz", subject=RUSSIAN_SUBJECT, body=KAZAKH_BODY):
    row = OutgoingMail(to_address=to, subject=subject, body_text=body, language="kk")
    db.add(row)
    db.commit()
    return row.id


def _send(runner):
    return runner.invoke(args=["awards", "mail", "send"])


def _make_due(db):
    db.execute(update(OutgoingMail).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.commit()


def test_queued_mail_is_rolled_back_with_the_change(db, outbox):
    db.add(User(email="aliya@example.kz", password_hash="x"))
    queue_mail(db, to="aliya@example.kz", template="verify_email", language="en",
               name="Әлия", verify_url="http://localhost/account/verify/t")
    db.rollback()
    assert outbox() == []
    assert db.scalar(select(User)) is None


def test_queued_mail_is_committed_with_the_change(db, outbox):
    db.add(User(email="aliya@example.kz", password_hash="x"))
    queue_mail(db, to="aliya@example.kz", template="verify_email", language="en",
               name="Әлия", verify_url="http://localhost/account/verify/t")
    db.commit()
    [queued] = outbox()
    assert (queued.to_address, queued.status, queued.attempts) == ("aliya@example.kz", PENDING, 0)
    assert queued.subject == "Confirm your e-mail address"
    assert queued.kind == "verify_email"
    assert "Әлия" in queued.body_text
    assert "http://localhost/account/verify/t" in queued.body_text


def test_send_delivers_over_smtp_with_text_intact(db, runner, outbox, smtp_server):
    _add(db)
    result = _send(runner)
    assert result.exit_code == 0, result.output
    assert result.stdout == "sent 1, failed 0\n"
    [received] = smtp_server.messages
    [row] = outbox()
    assert received["To"] == "aliya@example.kz"
    assert received["From"] == "Awards <no-reply@awards.local>"
    assert received["Subject"] == RUSSIAN_SUBJECT
    assert received.get_body(("plain",)).get_content() == KAZAKH_BODY
    assert received.get_body(("plain",))["Content-Transfer-Encoding"] in {
        "base64", "quoted-printable"}
    assert re.fullmatch(r"<[^<>@\s]+@awards\.local>", received["Message-ID"])
    assert received["Message-ID"] == row.message_id
    assert received["Auto-Submitted"] == "auto-generated"
    assert received["Date"].datetime == row.created_at.replace(microsecond=0)
    assert (row.status, row.attempts, row.last_error) == (SENT, 1, "")
    assert row.sent_at is not None


def test_send_delivers_a_rendered_template(db, runner, smtp_server):
    queue_mail(db, to="aliya@example.kz", template="verify_email", language="en",
               name="Әлия Қасымқызы", verify_url="http://localhost/account/verify/abc")
    db.commit()
    assert _send(runner).exit_code == 0
    [received] = smtp_server.messages
    body = received.get_body(("plain",)).get_content()
    assert received["Subject"] == "Confirm your e-mail address"
    assert "Hello, Әлия Қасымқызы!" in body
    assert "http://localhost/account/verify/abc" in body


def test_send_with_nothing_queued_succeeds(runner):
    result = _send(runner)
    assert (result.exit_code, result.stdout) == (0, "sent 0, failed 0\n")


def test_server_down_keeps_mail_for_a_later_retry_then_delivers_once(
    app, db, runner, outbox, smtp_server
):
    _add(db)
    app.config["MAIL_PORT"] = free_port()
    started = utcnow()
    result = _send(runner)
    assert result.exit_code == 1
    assert result.stdout == "sent 0, failed 1\n"
    [row] = outbox()
    assert (row.status, row.attempts) == (FAILED, 1)
    assert row.last_error.startswith("ConnectionRefusedError")
    assert started + timedelta(seconds=30) <= row.next_attempt_at
    assert row.next_attempt_at <= utcnow() + timedelta(seconds=30)
    assert row.sent_at is None

    app.config["MAIL_PORT"] = smtp_server.port
    assert _send(runner).stdout == "sent 0, failed 0\n"
    assert smtp_server.messages == []

    _make_due(db)
    result = _send(runner)
    assert (result.exit_code, result.stdout) == (0, "sent 1, failed 0\n")
    assert _send(runner).stdout == "sent 0, failed 0\n"
    assert [m["To"] for m in smtp_server.messages] == ["aliya@example.kz"]
    [row] = outbox()
    assert (row.status, row.attempts, row.last_error) == (SENT, 2, "")
    assert smtp_server.messages[0]["Message-ID"] == row.message_id


def test_server_down_ends_the_run_without_touching_the_other_messages(app, db, runner, outbox):
    _add(db, to="first@example.kz")
    _add(db, to="second@example.kz")
    result = _send(runner)
    assert (result.exit_code, result.stdout) == (1, "sent 0, failed 1\n")
    first, second = outbox()
    assert (first.status, first.attempts) == (FAILED, 1)
    assert (second.status, second.attempts, second.last_error) == (PENDING, 0, "")


def test_temporary_smtp_rejection_is_retried_and_delivered_once(db, runner, outbox, smtp_server):
    _add(db, to="first@example.kz")
    _add(db, to="second@example.kz")
    smtp_server.fail_next = 1
    result = _send(runner)
    assert (result.exit_code, result.stdout) == (1, "sent 1, failed 1\n")
    first, second = outbox()
    assert (first.status, first.attempts) == (FAILED, 1)
    assert first.last_error.startswith("SMTPDataError: (451")
    assert first.next_attempt_at > utcnow() + timedelta(seconds=25)
    assert (second.status, second.attempts) == (SENT, 1)
    assert [m["To"] for m in smtp_server.messages] == ["second@example.kz"]

    _make_due(db)
    assert _send(runner).stdout == "sent 1, failed 0\n"
    assert _send(runner).stdout == "sent 0, failed 0\n"
    assert [m["To"] for m in smtp_server.messages] == ["second@example.kz", "first@example.kz"]
    first, second = outbox()
    assert (first.status, first.attempts, first.last_error) == (SENT, 2, "")
    assert smtp_server.messages[1]["Message-ID"] == first.message_id


def test_failing_again_backs_off_longer(app, db, runner, outbox):
    _add(db)
    _send(runner)
    _make_due(db)
    before = utcnow()
    assert _send(runner).exit_code == 1
    [row] = outbox()
    assert row.attempts == 2
    assert before + timedelta(seconds=60) <= row.next_attempt_at
    assert row.next_attempt_at <= utcnow() + timedelta(seconds=60)


@pytest.mark.parametrize(
    ("attempts", "seconds"), [(1, 30), (2, 60), (3, 120), (10, 15360), (11, 21600), (500, 21600)]
)
def test_retry_delay_doubles_up_to_the_maximum(attempts, seconds):
    config = {"MAIL_RETRY_BASE_SECONDS": 30, "MAIL_RETRY_MAX_SECONDS": 21600}
    assert retry_delay(attempts, config) == timedelta(seconds=seconds)


def test_unbuildable_message_does_not_block_the_queue(db, runner, outbox, smtp_server):
    _add(db, to="broken@example.kz", subject="line one\nBcc: victim@example.com")
    _add(db, to="fine@example.kz")
    result = _send(runner)
    assert (result.exit_code, result.stdout) == (1, "sent 1, failed 1\n")
    broken, fine = outbox()
    assert (broken.status, broken.attempts) == (FAILED, 1)
    assert broken.last_error.startswith("ValueError")
    assert fine.status == SENT
    assert [m["To"] for m in smtp_server.messages] == ["fine@example.kz"]
    assert smtp_server.messages[0]["Bcc"] is None


def test_queue_mail_keeps_the_subject_on_one_line(db, app, monkeypatch):
    monkeypatch.setitem(app.jinja_env.globals, "_", lambda s, **kw: "Тема\r\nBcc: x@example.com")
    mail = queue_mail(db, to="a@example.kz", template="verify_email", language="en",
                      name="A", verify_url="u")
    assert mail.subject == "Тема Bcc: x@example.com"


def test_message_abandoned_by_a_dead_worker_is_taken_over_after_its_lease(
    db, runner, outbox, smtp_server
):
    row_id = _add(db)
    db.execute(update(OutgoingMail).values(
        status="sending", attempts=1, next_attempt_at=utcnow() + timedelta(minutes=5)))
    db.commit()
    assert _send(runner).stdout == "sent 0, failed 0\n"
    _make_due(db)
    assert _send(runner).stdout == "sent 1, failed 0\n"
    [row] = outbox()
    assert (row.id, row.status, row.attempts) == (row_id, SENT, 2)
    assert len(smtp_server.messages) == 1


def _watch_in_thread(app, factory, stop):
    def run():
        with app.app_context():
            mail_module.watch(factory, interval=0.05, stop=stop.is_set, config=app.config)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_watch_delivers_mail_queued_after_it_started(app, db, outbox, smtp_server):
    real_factory = app.extensions["awards_db"]["session_factory"]
    polls = []

    def factory():
        polls.append(time.monotonic())
        return real_factory()

    stop = threading.Event()
    thread = _watch_in_thread(app, factory, stop)
    try:
        deadline = time.monotonic() + 5
        while len(polls) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(polls) >= 2
        assert smtp_server.messages == []
        _add(db, to="late@example.kz")
        assert [m["To"] for m in smtp_server.wait_for(1)] == ["late@example.kz"]
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()
    [row] = outbox()
    assert row.status == SENT
    assert len(smtp_server.messages) == 1


def test_watch_survives_a_failed_run(app, db, smtp_server, monkeypatch):
    real_claim = mail_module._claim
    calls = []

    def claim(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("SELECT", {}, ConnectionError("database restarting"))
        return real_claim(*args, **kwargs)

    monkeypatch.setattr(mail_module, "_claim", claim)
    _add(db)
    stop = threading.Event()
    thread = _watch_in_thread(app, app.extensions["awards_db"]["session_factory"], stop)
    try:
        assert len(smtp_server.wait_for(1)) == 1
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()
    assert len(calls) >= 2


def test_watch_command_delivers_new_mail_and_stops_on_sigterm(
    app, app_config, db, outbox, smtp_server, tmp_path
):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWARDS_")}
    env.update(
        AWARDS_ENV="testing",
        AWARDS_INSTANCE_PATH=str(tmp_path / "worker-instance"),
        AWARDS_DATABASE_URL=app_config["DATABASE_URL"],
        AWARDS_SECRET_KEY="worker-secret",
        AWARDS_MAIL_SERVER=smtp_server.host,
        AWARDS_MAIL_PORT=str(smtp_server.port),
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "awards", "mail", "send", "--watch",
         "--interval", "0.1"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        time.sleep(1.0)
        assert worker.poll() is None
        _add(db, to="late@example.kz")
        # Generous: a loaded machine can take many seconds to start a Python process.
        assert [m["To"] for m in smtp_server.wait_for(1, timeout=60)] == ["late@example.kz"]
    finally:
        worker.send_signal(signal.SIGTERM)
        stdout, stderr = worker.communicate(timeout=60)
    assert worker.returncode == 0, stderr
    assert stdout == "sent 1, failed 0\n"
    assert outbox()[0].status == SENT


def _send_concurrently(app, monkeypatch, workers=2):
    original = smtplib.SMTP.send_message

    def slow_send(self, *args, **kwargs):
        time.sleep(0.01)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(smtplib.SMTP, "send_message", slow_send)
    factory = app.extensions["awards_db"]["session_factory"]
    barrier = threading.Barrier(workers)
    results, errors = [], []

    def work():
        session = factory()
        try:
            barrier.wait()
            results.append(send_pending(session, config=app.config))
        except Exception as exc:
            errors.append(exc)
        finally:
            session.close()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results, errors


def _assert_each_sent_once(db, outbox, smtp_server, results, errors, count):
    assert errors == []
    assert sorted(r.failed for r in results) == [0, 0]
    assert sum(r.sent for r in results) == count
    assert all(r.sent > 0 for r in results)
    recipients = sorted(m["To"] for m in smtp_server.messages)
    assert recipients == sorted(f"user{n}@example.kz" for n in range(count))
    rows = outbox()
    assert {r.status for r in rows} == {SENT}
    assert {r.attempts for r in rows} == {1}
    assert sorted(m["Message-ID"] for m in smtp_server.messages) == sorted(
        r.message_id for r in rows)


def _queue_many(db, count):
    for n in range(count):
        db.add(OutgoingMail(to_address=f"user{n}@example.kz", subject="S", body_text="B\n"))
    db.commit()


@pytest.mark.postgres_only
def test_two_workers_on_postgres_never_send_a_message_twice(
    app, db, outbox, smtp_server, monkeypatch
):
    _queue_many(db, 40)
    results, errors = _send_concurrently(app, monkeypatch)
    _assert_each_sent_once(db, outbox, smtp_server, results, errors, 40)


@pytest.mark.skipif(ON_POSTGRES, reason="the PostgreSQL variant runs instead")
def test_two_workers_on_sqlite_never_send_a_message_twice(
    app, db, outbox, smtp_server, monkeypatch
):
    _queue_many(db, 40)
    results, errors = _send_concurrently(app, monkeypatch)
    _assert_each_sent_once(db, outbox, smtp_server, results, errors, 40)
