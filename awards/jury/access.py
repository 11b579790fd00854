"""Who may see and do what in judging. Every juror page asks these on the server; templates
only use them to hide what the user could not do anyway.

A juror is a person with an *active* seat (status active, account linked) on a panel of the
call; the round's panel decides who judges in that round. Anything that is not the user's own
active assignment in a started scoring round, or that touches an entry they are conflicted
with, is treated as if it did not exist (404): the answer must not tell that it exists."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from awards.enums import (
    AssignmentStatus,
    JurorStatus,
    NominationStatus,
    RoundKind,
    RoundStatus,
)
from awards.jury.models import Assignment, Conflict, JuryMember, Panel, Round


def _user_id(user) -> int | None:
    if user is None or not getattr(user, "is_authenticated", True):
        return None
    return getattr(user, "id", None)


def _active_seats(user_id: int):
    return select(JuryMember).where(
        JuryMember.user_id == user_id, JuryMember.status == JurorStatus.ACTIVE
    )


def is_juror(session: Session, user, call) -> bool:
    """An active member of any panel of the call."""
    user_id = _user_id(user)
    if user_id is None:
        return False
    return session.scalar(
        select(exists(_active_seats(user_id).join(Panel).where(Panel.call_id == call.id)))
    ) or False


def is_chair(session: Session, user, call) -> bool:
    """The chair of an active seat on any panel of the call."""
    user_id = _user_id(user)
    if user_id is None:
        return False
    return session.scalar(
        select(exists(_active_seats(user_id).join(Panel).where(
            Panel.call_id == call.id, JuryMember.is_chair.is_(True))))
    ) or False


def seat_in_round(session: Session, user, round_: Round) -> JuryMember | None:
    """The user's active seat on the panel that judges the round, if any."""
    user_id = _user_id(user)
    if user_id is None or round_.panel_id is None:
        return None
    return session.scalar(_active_seats(user_id).where(JuryMember.panel_id == round_.panel_id))


def has_conflict(session: Session, user_id: int, nomination_id: int) -> bool:
    """A conflict of interest, declared or recorded by an administrator; it holds in every
    round."""
    return session.scalar(
        select(exists().where(Conflict.user_id == user_id,
                              Conflict.nomination_id == nomination_id))
    ) or False


def round_has_started(round_: Round) -> bool:
    """Jurors see a round once the administrator has opened it (and after it closes); drafts
    are still being set up."""
    return round_.kind == RoundKind.SCORING and round_.status != RoundStatus.DRAFT


def round_is_closed(round_: Round, now: datetime) -> bool:
    return round_.status == RoundStatus.CLOSED or (
        round_.closes_at is not None and now > round_.closes_at
    )


def assignment_is_visible(session: Session, user, assignment: Assignment | None) -> bool:
    user_id = _user_id(user)
    if assignment is None or user_id is None:
        return False
    if assignment.juror_id != user_id or assignment.status != AssignmentStatus.ACTIVE:
        return False
    if not round_has_started(assignment.round):
        return False
    if assignment.nomination.status == NominationStatus.WITHDRAWN:
        return False
    if seat_in_round(session, user, assignment.round) is None:
        return False
    return not has_conflict(session, user_id, assignment.nomination_id)


def visible_assignment(session: Session, user, assignment_id: int) -> Assignment | None:
    """The user's own active assignment in a started scoring round of a panel they sit on, for
    an entry they are not conflicted with; ``None`` (the view answers 404) for anything else."""
    assignment = session.get(Assignment, assignment_id)
    return assignment if assignment_is_visible(session, user, assignment) else None


def can_score(session: Session, user, assignment: Assignment, now: datetime) -> bool:
    """Visible, and the round is open now (between its dates, not closed)."""
    return assignment_is_visible(session, user, assignment) and assignment.round.is_open_at(now)


def can_see_panel_scores(session: Session, user, assignment: Assignment) -> bool:
    """A chair of the round's panel sees the panel's reviews of an entry assigned to them,
    unless either the round or the call turned that off, or the chair is conflicted."""
    if not assignment_is_visible(session, user, assignment):
        return False
    round_ = assignment.round
    if not (round_.show_scores_to_chairs and round_.call.show_scores_to_chairs):
        return False
    seat = seat_in_round(session, user, round_)
    return seat is not None and seat.is_chair
