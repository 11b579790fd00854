"""Who may see and do what in judging, as the juror pages and the API ask it. The answers come
from the rulebook (``awards.policy``); these helpers only adapt it to what the pages have at
hand (a session and a user). Templates use them to hide what the user could not do anyway; the
services ask the policy again before they write.

A juror is a person with an *active* seat (status active, account linked) on a panel of the
call; the round's panel decides who judges in that round. Anything that is not the user's own
active assignment in a started scoring round, or that touches an entry they are in conflict
with (declared, recorded, or found: their own entry, their e-mail as the nominee's, their
organisation), is treated as if it did not exist (404): the answer must not tell that it
exists."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session, aliased, contains_eager, joinedload

from awards import policy
from awards.enums import AssignmentStatus, JurorStatus, RoundKind, RoundStatus
from awards.jury.models import Assignment, JuryMember, Panel, Round
from awards.nominations.models import Nomination
from awards.policy.conflicts import Person, conflict_condition


def _user_id(user) -> int | None:
    if user is None or not getattr(user, "is_authenticated", True):
        return None
    return getattr(user, "id", None)


def viewer_for(session: Session, user) -> policy.Viewer:
    """The policy's view of ``user``: the request's own when it is the signed-in person (its
    conflicts and seats are then loaded once per request, whoever asks first), else a new
    one."""
    if isinstance(user, policy.Viewer):
        return user
    from flask import g, has_request_context

    if not has_request_context():
        return policy.Viewer(session, user)
    cached = g.get("_policy_viewer")
    if (cached is not None and cached.session is session
            and cached.id is not None and cached.id == _user_id(user)):
        return cached
    viewer = policy.Viewer(session, user)
    if cached is None and viewer.id is not None and viewer.id == _signed_in_id():
        g._policy_viewer = viewer
    return viewer


def _signed_in_id() -> int | None:
    from flask_login import current_user

    return _user_id(current_user)


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


def has_conflict(session: Session, user_id: int, nomination_id: int) -> bool:
    """A conflict of interest of the user with the entry, declared, recorded or found (see
    ``awards.policy.conflicts``); it holds in every round."""
    from awards.auth.models import User
    from awards.nominations.models import Nomination

    user = session.get(User, user_id)
    nomination = session.get(Nomination, nomination_id)
    if user is None or nomination is None:
        return False
    return bool(policy.conflict_kinds(session, policy.Person.of(user), nomination))


def round_has_started(round_: Round) -> bool:
    """Jurors see a round once the administrator has opened it (and after it closes); drafts
    are still being set up."""
    return round_.kind == RoundKind.SCORING and round_.status != RoundStatus.DRAFT


def round_is_closed(round_: Round, now: datetime) -> bool:
    """Closed to the jurors' changes: by its status, by its closing time, or because the call's
    results are scheduled or published (the freeze: nothing that led to them may move)."""
    return (round_.status == RoundStatus.CLOSED
            or (round_.closes_at is not None and now > round_.closes_at)
            or policy.call_is_frozen(round_.call))


def assignment_is_visible(session: Session, user, assignment: Assignment | None) -> bool:
    """The user's own active assignment, on an entry the policy lets them see."""
    user_id = _user_id(user)
    if assignment is None or user_id is None:
        return False
    if assignment.juror_id != user_id or assignment.status != AssignmentStatus.ACTIVE:
        return False
    viewer = viewer_for(session, user)
    if viewer.is_admin:
        # An administrator on the panel is a juror here: the juror's rule, not the admin's.
        viewer = policy.Viewer(session, user)
        viewer.is_admin = False
    return bool(policy.allows(viewer, policy.Action.SEE_ENTRY, assignment,
                              now=_now()))


def _now() -> datetime:
    from awards.db import utcnow

    return utcnow()


def visible_assignment(session: Session, user, assignment_id: int) -> Assignment | None:
    """The user's own active assignment in a started scoring round of a panel they sit on, for
    an entry they are not in conflict with; ``None`` (the view answers 404) for anything
    else.

    One query reads the assignment with what every juror page of it shows (round, call,
    rubric, entry, category, review), the user's seat on the round's panel and whether they
    are in conflict with the entry (the policy's own SQL condition), which the policy then
    need not ask for again."""
    user_id = _user_id(user)
    if user_id is None:
        return None
    seat = aliased(JuryMember)
    conflicted = conflict_condition(Person.of(user)).label("conflicted")
    row = session.execute(
        select(Assignment, seat, conflicted)
        .join(Assignment.round).join(Assignment.nomination)
        .outerjoin(seat, and_(seat.panel_id == Round.panel_id, seat.user_id == user_id,
                              seat.status == JurorStatus.ACTIVE))
        .where(Assignment.id == assignment_id, Assignment.juror_id == user_id)
        .options(contains_eager(Assignment.round).joinedload(Round.call),
                 contains_eager(Assignment.round).joinedload(Round.rubric),
                 contains_eager(Assignment.nomination).joinedload(Nomination.category),
                 joinedload(Assignment.review))
        .limit(1)
    ).first()
    if row is None:
        return None
    assignment, member, in_conflict = row
    viewer = viewer_for(session, user)
    if assignment.round.panel_id is not None:
        viewer.preload_seat(assignment.round.panel_id, member)
    viewer.preload_conflict(assignment.nomination_id, bool(in_conflict))
    if not assignment_is_visible(session, user, assignment):
        return None
    if member is not None:
        remember_juror()
    return assignment


def remember_juror() -> None:
    """The request's user was just found on a panel, with an active seat: the page's menu need
    not ask whether they are a juror."""
    from flask import g, has_request_context

    if has_request_context():
        g.is_juror = True


def can_score(session: Session, user, assignment: Assignment, now: datetime) -> bool:
    """Visible, the round open now (between its dates, not closed) and the call not frozen."""
    return assignment_is_visible(session, user, assignment) and bool(
        policy.allows(viewer_for(session, user), policy.Action.SCORE, assignment, now=now))


def can_see_panel_scores(session: Session, user, assignment: Assignment) -> bool:
    """A chair of the round's panel sees the panel's reviews of an entry assigned to them,
    unless either the round or the call turned that off, or the chair is in conflict."""
    if not assignment_is_visible(session, user, assignment):
        return False
    round_ = assignment.round
    if not (round_.show_scores_to_chairs and round_.call.show_scores_to_chairs):
        return False
    return viewer_for(session, user).is_chair_of(round_)
