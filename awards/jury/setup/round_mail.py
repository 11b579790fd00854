"""The e-mail that tells each active juror of a round that it has opened: once per round, in
the juror's language, through the outbox (``mail.queue_mail``), with a link to their list.

"Once" is kept in the audit log: the round's ``jury.round_open_mail`` record, written with the
mails, means they went out (a round moved back to draft and opened again sends none). A round
opened while its panel has no active juror sends nothing and records nothing, so opening it
again once jurors have joined does send."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from awards import audit
from awards.db import utcnow
from awards.enums import JurorStatus, RoundKind, RoundStatus
from awards.i18n import localized
from awards.jury.models import JuryMember, Round
from awards.mail import queue_mail

ACTION = "jury.round_open_mail"


def _already_sent(session: Session, round_: Round) -> bool:
    return session.scalar(select(audit.AuditEvent.id).where(
        audit.AuditEvent.action == ACTION, audit.AuditEvent.object_type == "round",
        audit.AuditEvent.object_id == str(round_.id)).limit(1)) is not None


def _dashboard_url() -> str:
    # From BASE_URL, as the reminders: a command may open a round without a request.
    return current_app.config["BASE_URL"].rstrip("/") + "/jury/"


def announce_round_open(*, session: Session, actor, round: Round) -> int:
    """Queue the "round is open" e-mail to each active juror of the round's panel, unless the
    round is not an open scoring round or the mails already went out. Returns how many."""
    if (round.status != RoundStatus.OPEN or round.kind != RoundKind.SCORING
            or round.panel_id is None or _already_sent(session, round)):
        return 0
    members = session.scalars(
        select(JuryMember).where(JuryMember.panel_id == round.panel_id,
                                 JuryMember.status == JurorStatus.ACTIVE,
                                 JuryMember.user_id.is_not(None))
        .options(selectinload(JuryMember.user)).order_by(JuryMember.id)).all()
    call = round.call
    sent = []
    for member in members:
        user = member.user
        if user is None or not user.is_active:
            continue
        lang = user.preferred_language or "ru"
        queue_mail(session, to=user.email, template="jury_round_open", language=lang,
                   kind="jury_round_open", name=user.display_name,
                   round_name=localized(round, "name", lang),
                   call_title=localized(call, "title", lang), opens_at=round.opens_at,
                   opens_later=round.opens_at is not None and round.opens_at > utcnow(),
                   closes_at=round.closes_at, tz=call.tz, timezone=call.timezone,
                   is_chair=member.is_chair, url=_dashboard_url())
        sent.append(user.id)
    if sent:
        audit.record(session, action=ACTION, object_type="round", object_id=round.id,
                     actor=actor, call_id=round.call_id,
                     after={"jurors": sent, "count": len(sent)})
    return len(sent)
