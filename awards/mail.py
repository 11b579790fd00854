"""Outgoing e-mail. ``queue_mail`` writes to the outbox in the caller's transaction; the worker
(``flask awards mail send``) delivers over SMTP, retrying with back-off; nothing is ever dropped.

How a worker takes a message (and why no two workers send the same one):
one UPDATE both picks the oldest due message and marks it ``sending`` with a lease
(``next_attempt_at`` = now + MAIL_CLAIM_SECONDS), and that is committed *before* the SMTP
conversation starts. On PostgreSQL the picking sub-select is ``FOR UPDATE SKIP LOCKED``, so
concurrent workers take different rows without waiting; on SQLite the single UPDATE runs under
the database's one write lock. Holding a row lock (a transaction) open across the SMTP call
instead was rejected: on SQLite it would block every writer of the web application for as long
as the mail server takes to answer, and on PostgreSQL it keeps long transactions open.
A worker that dies mid-delivery leaves its message ``sending``; when the lease runs out another
worker takes it again. Delivery is therefore at-least-once only across a crash between the SMTP
server's "250" and our commit; the Message-ID is kept, so the copies can be recognised."""

from __future__ import annotations

import logging
import smtplib
import ssl
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from typing import NamedTuple

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from awards.db import Base, utcnow

log = logging.getLogger(__name__)

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"

# Bodies are encoded (quoted-printable or base64) rather than sent as raw 8-bit, so that a relay
# that does not offer 8BITMIME still passes Cyrillic and Kazakh text through unchanged.
_MAIL_POLICY = policy.default.clone(cte_type="7bit")


class OutgoingMail(Base):
    __tablename__ = "outgoing_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    to_address: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(5), default="ru")
    kind: Mapped[str] = mapped_column(String(60), default="")
    status: Mapped[str] = mapped_column(String(12), default=PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None]
    message_id: Mapped[str] = mapped_column(String(255), default="")


def queue_mail(
    session: Session,
    *,
    to: str,
    template: str,
    language: str,
    kind: str = "",
    **context,
) -> OutgoingMail:
    """Render ``templates/mail/<template>.txt`` (and ``.subject``) in the recipient's language."""
    with force_locale(language):
        subject = render_template(f"mail/{template}.subject.txt", **context)
        body = render_template(f"mail/{template}.txt", **context)
    # A subject is one header line; a stray newline from a template would make the message
    # unbuildable later, and an over-long one would fail the caller's whole transaction.
    subject = " ".join(subject.split())[:300]
    mail = OutgoingMail(
        to_address=to, subject=subject, body_text=body, language=language, kind=kind or template
    )
    session.add(mail)
    session.flush()
    return mail


def _sender_domain(sender: str) -> str:
    return parseaddr(sender)[1].partition("@")[2] or "awards.local"


def build_message(mail, sender: str) -> EmailMessage:
    """The message for an outbox row (or any object with the same attributes)."""
    msg = EmailMessage(policy=_MAIL_POLICY)
    msg["From"] = sender
    msg["To"] = mail.to_address
    msg["Subject"] = mail.subject
    msg["Date"] = format_datetime(mail.created_at)
    msg["Message-ID"] = mail.message_id or make_msgid(domain=_sender_domain(sender))
    msg["Content-Language"] = mail.language
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to the service
    msg.set_content(mail.body_text)
    if mail.body_html:
        msg.add_alternative(mail.body_html, subtype="html")
    return msg


def _smtp_connect(config) -> smtplib.SMTP:
    host, port, timeout = config["MAIL_SERVER"], int(config["MAIL_PORT"]), config["MAIL_TIMEOUT"]
    if config["MAIL_USE_SSL"]:
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            host, port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    try:
        if config["MAIL_USE_TLS"] and not config["MAIL_USE_SSL"]:
            smtp.starttls(context=ssl.create_default_context())
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
    except BaseException:
        smtp.close()
        raise
    return smtp


class _Claimed(NamedTuple):
    id: int
    attempts: int
    message: EmailMessage | None
    build_error: Exception | None


def _claim(session: Session, *, due_before: datetime, config, sender: str) -> _Claimed | None:
    """Take the oldest message due at ``due_before`` (see the module docstring) and commit."""
    now = utcnow()
    due = (
        select(OutgoingMail.id)
        .where(
            OutgoingMail.status.in_((PENDING, FAILED, SENDING)),
            OutgoingMail.next_attempt_at <= due_before,
        )
        .order_by(OutgoingMail.next_attempt_at, OutgoingMail.id)
        .limit(1)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    row = session.execute(
        update(OutgoingMail)
        # The due conditions are repeated on the outer statement so that, should the row have
        # been claimed meanwhile, the UPDATE re-checks them against the row as it now is.
        .where(
            OutgoingMail.id == due.scalar_subquery(),
            OutgoingMail.status.in_((PENDING, FAILED, SENDING)),
            OutgoingMail.next_attempt_at <= due_before,
        )
        .values(
            status=SENDING,
            attempts=OutgoingMail.attempts + 1,
            next_attempt_at=now + timedelta(seconds=config["MAIL_CLAIM_SECONDS"]),
        )
        .returning(OutgoingMail.id, OutgoingMail.attempts),
        execution_options={"synchronize_session": False},
    ).first()
    if row is None:
        session.rollback()
        return None
    mail = session.execute(
        select(OutgoingMail).where(OutgoingMail.id == row.id)
        .execution_options(populate_existing=True)
    ).scalar_one()
    if not mail.message_id:
        # Fixed before the first attempt, so a retry (or a copy after a crash) carries the same id.
        mail.message_id = make_msgid(domain=_sender_domain(sender))
    try:
        message, error = build_message(mail, sender), None
    except Exception as exc:
        message, error = None, exc
    session.commit()
    return _Claimed(row.id, row.attempts, message, error)


def _finish(session: Session, claimed: _Claimed, **values) -> None:
    done = session.execute(
        update(OutgoingMail)
        .where(
            OutgoingMail.id == claimed.id,
            OutgoingMail.status == SENDING,
            OutgoingMail.attempts == claimed.attempts,
        )
        .values(**values),
        execution_options={"synchronize_session": False},
    )
    if done.rowcount != 1:
        log.warning("mail %s: claim expired before the result was recorded", claimed.id)
    session.commit()


def retry_delay(attempts: int, config) -> timedelta:
    base = config["MAIL_RETRY_BASE_SECONDS"]
    return timedelta(
        seconds=min(base * 2 ** min(attempts - 1, 30), config["MAIL_RETRY_MAX_SECONDS"])
    )


class SendResult(NamedTuple):
    sent: int
    failed: int


def send_pending(
    session: Session,
    *,
    limit: int | None = None,
    config=None,
    stop: Callable[[], bool] | None = None,
) -> SendResult:
    """Deliver the messages due now (at most ``limit``). Returns (sent, failed).

    Commits as it goes: the caller's session must hold no unfinished work. When the SMTP server
    cannot be reached the run ends after the first message: the rest keep their place and
    attempt count instead of each paying a connection timeout."""
    config = config if config is not None else current_app.config
    sender = config["MAIL_DEFAULT_SENDER"]
    # Only what was due when the run began: a message that fails now is not due again in the
    # same run, whatever the retry delay.
    due_before = utcnow()
    sent = failed = 0
    smtp: smtplib.SMTP | None = None
    try:
        while limit is None or sent + failed < limit:
            if stop is not None and stop():
                break
            claimed = _claim(session, due_before=due_before, config=config, sender=sender)
            if claimed is None:
                break
            connecting = smtp is None
            try:
                if claimed.build_error is not None:
                    connecting = False
                    raise claimed.build_error
                if smtp is None:
                    smtp = _smtp_connect(config)
                    connecting = False
                smtp.send_message(claimed.message)
            except Exception as exc:
                failed += 1
                log.warning("mail %s not delivered (attempt %s): %s",
                            claimed.id, claimed.attempts, exc)
                now = utcnow()
                _finish(
                    session, claimed, status=FAILED,
                    last_error=f"{type(exc).__name__}: {exc}"[:2000],
                    next_attempt_at=now + retry_delay(claimed.attempts, config),
                )
                if smtp is not None:
                    smtp.close()  # the conversation state is unknown; start afresh
                    smtp = None
                if connecting:
                    break
            else:
                sent += 1
                _finish(session, claimed, status=SENT, sent_at=utcnow(), last_error="")
    finally:
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()
        session.expire_all()
    return SendResult(sent, failed)


def watch(
    session_factory,
    *,
    interval: float = 5.0,
    stop: Callable[[], bool] | None = None,
    config=None,
    on_result: Callable[[SendResult], None] | None = None,
) -> None:
    """Worker loop: deliver what is due, wait ``interval`` seconds, repeat until ``stop()``.

    An error (the database restarting, say) is logged and the loop carries on after the wait;
    a worker that died on the first hiccup would silently leave the queue unattended."""
    stopped = stop or (lambda: False)
    while not stopped():
        result = session = None
        try:
            session = session_factory()
            result = send_pending(session, config=config, stop=stopped)
        except Exception:
            log.exception("mail worker: delivery run failed")
        finally:
            if session is not None:
                session.close()
        if result is not None and on_result is not None and (result.sent or result.failed):
            on_result(result)
        deadline = time.monotonic() + interval
        while not stopped() and time.monotonic() < deadline:
            time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))


def sender_address() -> str:
    name, addr = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])
    return formataddr((name, addr))
