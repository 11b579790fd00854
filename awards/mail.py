"""Outgoing e-mail. ``queue_mail`` writes to the outbox in the caller's transaction; the worker
(``flask awards mail send``) delivers over SMTP, retrying with back-off; nothing is ever dropped."""

from __future__ import annotations

import smtplib
import ssl
import time
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid, parseaddr

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import Integer, String, Text, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from awards.db import Base, utcnow

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"


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
        subject = render_template(f"mail/{template}.subject.txt", **context).strip()
        body = render_template(f"mail/{template}.txt", **context)
    mail = OutgoingMail(
        to_address=to, subject=subject, body_text=body, language=language, kind=kind or template
    )
    session.add(mail)
    session.flush()
    return mail


def _build_message(mail: OutgoingMail, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = mail.to_address
    msg["Subject"] = mail.subject
    domain = parseaddr(sender)[1].partition("@")[2] or "awards.local"
    msg["Message-ID"] = mail.message_id or make_msgid(domain=domain)
    msg["Content-Language"] = mail.language
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
        if config["MAIL_USE_TLS"]:
            smtp.starttls(context=ssl.create_default_context())
    if config["MAIL_USERNAME"]:
        smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
    return smtp


def _claim(session: Session, limit: int) -> list[OutgoingMail]:
    now = utcnow()
    query = (
        select(OutgoingMail)
        .where(
            or_(OutgoingMail.status == PENDING, OutgoingMail.status == FAILED),
            OutgoingMail.next_attempt_at <= now,
        )
        .order_by(OutgoingMail.next_attempt_at, OutgoingMail.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Several workers share the queue: each takes rows no other worker holds.
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query))


def send_pending(session: Session, *, limit: int = 100) -> tuple[int, int]:
    """Deliver due messages. Returns (sent, failed). Commits after each message."""
    config = current_app.config
    sender = config["MAIL_DEFAULT_SENDER"]
    batch = _claim(session, limit)
    if not batch:
        session.rollback()
        return 0, 0
    sent = failed = 0
    smtp = None
    try:
        for mail in batch:
            mail.attempts += 1
            if not mail.message_id:
                mail.message_id = make_msgid(domain=parseaddr(sender)[1].partition("@")[2] or None)
            try:
                if smtp is None:
                    smtp = _smtp_connect(config)
                smtp.send_message(_build_message(mail, sender))
            except (OSError, smtplib.SMTPException) as exc:
                failed += 1
                mail.status = FAILED
                mail.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                delay = config["MAIL_RETRY_BASE_SECONDS"] * (2 ** min(mail.attempts - 1, 10))
                mail.next_attempt_at = utcnow() + timedelta(seconds=delay)
                if smtp is not None:
                    try:
                        smtp.quit()
                    except (OSError, smtplib.SMTPException):
                        pass
                    smtp = None
            else:
                sent += 1
                mail.status = SENT
                mail.sent_at = utcnow()
                mail.last_error = ""
        session.commit()
    finally:
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass
    return sent, failed


def watch(session_factory, *, interval: float = 5.0, stop=None) -> None:
    """Long-running worker loop; ``stop`` is an optional callable that ends the loop."""
    while not (stop and stop()):
        session = session_factory()
        try:
            sent, _failed = send_pending(session)
        finally:
            session.close()
        if not sent:
            time.sleep(interval)


def sender_address() -> str:
    name, addr = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])
    return formataddr((name, addr))
