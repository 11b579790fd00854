"""How far a round's jurors are (per juror and per category) and the reminders to those
with reviews still to submit."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from awards import audit
from awards.audit import AuditEvent
from awards.auth.models import User
from awards.db import utcnow
from awards.enums import AssignmentStatus, JurorStatus, ReviewStatus, RoundStatus
from awards.i18n import format_datetime, localized
from awards.jury.models import Assignment, JuryMember, Review, Round, RoundEntry
from awards.jury.setup.common import _NOT_JUDGED, JurySetupError
from awards.mail import queue_mail
from awards.nominations.models import Nomination
from awards.timeutil import utc_to_local

# ---- progress ---------------------------------------------------------------------------------


@dataclass
class JurorProgress:
    juror_id: int
    name: str
    email: str
    assigned: int
    submitted: int
    draft: int
    status: str = "active"

    @property
    def percent(self) -> int:
        return round(100 * self.submitted / self.assigned) if self.assigned else 0

    @property
    def pending(self) -> int:
        return self.assigned - self.submitted


@dataclass
class CategoryProgress:
    category_id: int
    name: str
    entries: int
    needed: int
    done: int

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.needed) if self.needed else 0


@dataclass
class RoundProgress:
    jurors: list[JurorProgress] = field(default_factory=list)
    categories: list[CategoryProgress] = field(default_factory=list)

    @property
    def assigned(self) -> int:
        return sum(j.assigned for j in self.jurors)

    @property
    def submitted(self) -> int:
        return sum(j.submitted for j in self.jurors)

    @property
    def percent(self) -> int:
        return round(100 * self.submitted / self.assigned) if self.assigned else 0


def _is(column, value):
    return func.sum(case((column == value, 1), else_=0))


def round_progress(*, session: Session, round: Round) -> RoundProgress:
    """Per juror and per category, in four queries whatever the size of the round."""
    per_juror = session.execute(
        select(Assignment.juror_id, func.count(Assignment.id).label("assigned"),
               _is(Review.status, ReviewStatus.SUBMITTED).label("submitted"),
               _is(Review.status, ReviewStatus.DRAFT).label("draft"))
        .outerjoin(Review, Review.assignment_id == Assignment.id)
        .where(Assignment.round_id == round.id, Assignment.status == AssignmentStatus.ACTIVE)
        .group_by(Assignment.juror_id)
    ).all()
    counts = {r.juror_id: r for r in per_juror}
    # Every member of the panel (a juror with nothing yet shows 0), and anyone with work who
    # has since left it.
    people = session.execute(
        select(User.id, User.full_name, User.email, JuryMember.status)
        .outerjoin(JuryMember, and_(JuryMember.user_id == User.id,
                                    JuryMember.panel_id == round.panel_id))
        .where((User.id.in_(list(counts)))
               | (User.id.in_(select(JuryMember.user_id)
                              .where(JuryMember.panel_id == round.panel_id))))
    ).all()
    progress = RoundProgress()
    for person in people:
        row = counts.get(person.id)
        progress.jurors.append(JurorProgress(
            person.id, person.full_name or person.email, person.email,
            row.assigned if row else 0, int(row.submitted or 0) if row else 0,
            int(row.draft or 0) if row else 0,
            JurorStatus(person.status).value if person.status else "left"))
    progress.jurors.sort(key=lambda j: (j.name.lower(), j.juror_id))

    entries = dict(session.execute(
        select(Nomination.category_id, func.count(RoundEntry.id))
        .join(Nomination, Nomination.id == RoundEntry.nomination_id)
        .where(RoundEntry.round_id == round.id, Nomination.status.not_in(_NOT_JUDGED))
        .group_by(Nomination.category_id)
    ).all())
    done = dict(session.execute(
        select(Nomination.category_id, func.count(Review.id))
        .select_from(Assignment)
        .join(Review, Review.assignment_id == Assignment.id)
        .join(Nomination, Nomination.id == Assignment.nomination_id)
        .where(Assignment.round_id == round.id, Assignment.status == AssignmentStatus.ACTIVE,
               Review.status == ReviewStatus.SUBMITTED)
        .group_by(Nomination.category_id)
    ).all())
    for category in round.call.categories:
        n = entries.get(category.id, 0)
        progress.categories.append(CategoryProgress(
            category.id, localized(category, "name") or category.code, n,
            n * round.reviews_per_entry, done.get(category.id, 0)))
    return progress


# ---- reminders --------------------------------------------------------------------------------


def pending_reviews(session: Session, round: Round) -> dict[int, int]:
    """Active assignments without a submitted review, per juror."""
    rows = session.execute(
        select(Assignment.juror_id, func.count(Assignment.id))
        .outerjoin(Review, Review.assignment_id == Assignment.id)
        .where(Assignment.round_id == round.id, Assignment.status == AssignmentStatus.ACTIVE,
               (Review.id.is_(None)) | (Review.status != ReviewStatus.SUBMITTED))
        .group_by(Assignment.juror_id)
    ).all()
    return {juror_id: n for juror_id, n in rows if n}


def start_of_local_day(now: datetime, tz: str) -> datetime:
    local = utc_to_local(now, tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(now.tzinfo)


def reminded_since(session: Session, round: Round, since: datetime) -> set[int]:
    """Jurors already reminded about the round since ``since``, read from the audit log (each
    reminder is recorded there, so no extra column is needed)."""
    rows = session.scalars(
        select(AuditEvent.after).where(AuditEvent.action == "jury.remind",
                                       AuditEvent.object_type == "round",
                                       AuditEvent.object_id == str(round.id),
                                       AuditEvent.created_at >= since)
    )
    jurors = set()
    for after in rows:
        try:
            jurors.add(int(json.loads(after)["juror_id"]))
        except (ValueError, KeyError, TypeError):
            continue
    return jurors


@dataclass
class ReminderResult:
    round: Round
    sent: list[tuple[str, int]] = field(default_factory=list)  # (e-mail, pending reviews)
    skipped: int = 0  # already reminded today


def _jury_url() -> str:
    # Built from BASE_URL rather than url_for: the command runs without a request.
    return current_app.config["BASE_URL"].rstrip("/") + "/jury/"


def remind_jurors(*, session: Session, actor, round: Round, now: datetime | None = None,
                  once_per_day: bool = False) -> ReminderResult:
    """One e-mail per juror with reviews still to submit in the round. With ``once_per_day``
    (the scheduled command) a juror already reminded today, in the call's time zone, is
    skipped: a calendar day rather than 24 hours, so a daily job that runs a few seconds
    earlier than the day before still reminds."""
    now = now or utcnow()
    result = ReminderResult(round)
    if round.status != RoundStatus.OPEN:
        raise JurySetupError(_l("Only jurors of an open round can be reminded."))
    pending = pending_reviews(session, round)
    if not pending:
        return result
    skip = (reminded_since(session, round, start_of_local_day(now, round.call.timezone))
            if once_per_day else set())
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(list(pending))))}
    call = round.call
    for juror_id in sorted(pending):
        user = users.get(juror_id)
        if user is None or not user.is_active:
            continue
        if juror_id in skip:
            result.skipped += 1
            continue
        lang = user.preferred_language or "ru"
        closes = format_datetime(round.closes_at, tz=call.tz, locale=lang)
        queue_mail(session, to=user.email, template="jury_reminder", language=lang,
                   kind="jury_reminder", name=user.display_name, count=pending[juror_id],
                   round_name=localized(round, "name", lang),
                   call_title=localized(call, "title", lang),
                   closes_at=closes, timezone=call.timezone, url=_jury_url())
        audit.record(session, action="jury.remind", object_type="round", object_id=round.id,
                     actor=actor, call_id=call.id,
                     after={"juror_id": juror_id, "pending": pending[juror_id]})
        result.sent.append((user.email, pending[juror_id]))
    return result


def rounds_to_remind(*, session: Session, now: datetime, round_id: int | None = None,
                     within: timedelta | None = None) -> list[Round]:
    """Open rounds that have not closed yet, closing within ``within`` from ``now``."""
    query = select(Round).where(Round.status == RoundStatus.OPEN,
                                (Round.opens_at.is_(None)) | (Round.opens_at <= now),
                                (Round.closes_at.is_(None)) | (Round.closes_at > now))
    if round_id is not None:
        query = query.where(Round.id == round_id)
    if within is not None:
        query = query.where(Round.closes_at.is_not(None), Round.closes_at <= now + within)
    return list(session.scalars(query.order_by(Round.closes_at, Round.id)))
