"""Setting up the jury of a call (the administrator's side): rounds and their rubrics, the
entries of a round, panels and invitations, conflicts of interest, assignments (by hand and
automatic), progress and reminders.

Every function takes keyword-only arguments, checks the rules a form cannot check alone,
flushes, writes an audit event and leaves the commit to the caller. A broken rule raises
:class:`JurySetupError` *before* anything is changed, naming the form field the message belongs
to. The choice of who judges what is made by the pure ``awards.judging.assignment`` module;
this module only loads its inputs and stores its output.

Assignments are written with bulk statements (one INSERT for a whole plan), because an
automatic assignment of 5,000 entries x 3 reviews must save in seconds."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from babel.dates import format_datetime as babel_format_datetime
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, insert, select, update
from sqlalchemy.orm import Session, selectinload

from awards import audit, policy
from awards.audit import AuditEvent
from awards.auth.models import User
from awards.calls.models import Call, Category
from awards.calls.services import _apply, snapshot
from awards.db import utcnow
from awards.enums import (
    AssignmentStatus,
    ConflictSource,
    DecisionKind,
    JurorStatus,
    NominationStatus,
    ReviewStatus,
    RoundKind,
    RoundStatus,
    StageKind,
)
from awards.i18n import localized
from awards.judging.assignment import (
    AssignmentPlan,
    EntryToAssign,
    JurorToAssign,
    ReassignmentPlan,
    assign,
    reassign,
)
from awards.jury.models import (
    Assignment,
    Conflict,
    Criterion,
    JuryMember,
    Panel,
    Review,
    Round,
    RoundEntry,
    Rubric,
)
from awards.mail import queue_mail
from awards.nominations.models import Nomination
from awards.policy.conflicts import (
    REASON_LABELS,
    Person,
    conflict_kinds,
    conflicted_entries,
    conflicted_ids,
)
from awards.public_stage.models import PublicStage
from awards.ranking.models import Decision
from awards.refusals import Refusal
from awards.timeutil import utc_to_local

Pair = tuple[int, int]  # (juror user id, nomination id), as in awards.judging.assignment

# Entries that left the competition after they were added to a round are not assigned.
_NOT_JUDGED = (NominationStatus.WITHDRAWN, NominationStatus.INELIGIBLE)


class JurySetupError(Refusal):
    """A change refused by a rule; ``field`` is the form field the message belongs to (None
    for the page as a whole)."""


class PlanChanged(JurySetupError):
    """What a preview showed is no longer what saving would do."""


class NotAllowed(JurySetupError):
    """The rulebook refuses the change (for example: the call's results are scheduled or
    published, so the jury's work is frozen); ``status`` is the HTTP answer (409 for a phase,
    403 otherwise)."""

    def __init__(self, decision: policy.Decision):
        super().__init__(decision.reason)
        self.status = decision.status


def admin_viewer(session: Session, actor) -> policy.Viewer:
    """The policy's view of the administrator acting. A command run on the server (no actor)
    acts with the operator's full rights."""
    viewer = policy.Viewer(session, actor)
    if actor is None:
        viewer.is_admin = True
    return viewer


def refusal(session: Session, actor, action: policy.Action, subject) -> policy.Decision | None:
    """Why ``actor`` may not do ``action`` now (None when they may): for the pages, which show
    the reason instead of the buttons."""
    decision = policy.allows(admin_viewer(session, actor), action, subject, now=utcnow())
    return None if decision.ok else decision


def _require(session: Session, actor, action: policy.Action, subject) -> None:
    decision = refusal(session, actor, action, subject)
    if decision is not None:
        raise NotAllowed(decision)


ROUND_FIELDS = (
    "name_kk", "name_ru", "name_en", "kind", "opens_at", "closes_at", "blind",
    "reviews_per_entry", "panel_id", "show_scores_to_chairs", "status",
)
CRITERION_FIELDS = (
    "key", "title_kk", "title_ru", "title_en", "description_kk", "description_ru",
    "description_en", "min_score", "max_score", "step", "weight", "position",
)
MEMBER_FIELDS = ("email", "status", "is_chair", "user_id")

# Closing is final: jurors' reviews are frozen and the ranking is computed from them.
ROUND_TRANSITIONS: dict[RoundStatus, tuple[RoundStatus, ...]] = {
    RoundStatus.DRAFT: (RoundStatus.OPEN, RoundStatus.CLOSED),
    RoundStatus.OPEN: (RoundStatus.CLOSED, RoundStatus.DRAFT),
    RoundStatus.CLOSED: (),
}


def allowed_round_statuses(current: RoundStatus) -> list[RoundStatus]:
    """The statuses the round's settings form offers: closing is not among them, because it
    is final and goes through its confirmation page (``move_round``)."""
    current = RoundStatus(current)
    return [current, *(s for s in ROUND_TRANSITIONS[current] if s != RoundStatus.CLOSED)]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _member_snapshot(member: JuryMember) -> dict[str, Any]:
    data = snapshot(member, MEMBER_FIELDS)
    data["categories"] = sorted(c.id for c in member.categories)
    return data


def _juror_label(user: User | None, member: JuryMember | None = None) -> str:
    if user is not None:
        return user.display_name
    return member.email if member is not None else ""


# ---- rounds -----------------------------------------------------------------------------------


def _check_round_values(session: Session, call: Call, values: Mapping[str, Any]) -> None:
    opens, closes = values.get("opens_at"), values.get("closes_at")
    if opens and closes and closes <= opens:
        raise JurySetupError(_l("The closing time must be after the opening time."),
                             field="closes_at")
    panel_id = values.get("panel_id")
    if panel_id is not None:
        panel = session.get(Panel, panel_id)
        if panel is None or panel.call_id != call.id:
            raise JurySetupError(_l("Choose a panel of this call."), field="panel_id")


def create_round(*, session: Session, actor, call: Call, values: Mapping[str, Any]) -> Round:
    _require(session, actor, policy.Action.SET_UP_ROUND, call)
    values = dict(values)
    status = RoundStatus(values.pop("status", RoundStatus.DRAFT))
    if status == RoundStatus.CLOSED:
        raise JurySetupError(_l("A new round cannot start closed."), field="status")
    if status == RoundStatus.OPEN:
        _require(session, actor, policy.Action.OPEN_ROUND, call)
    _check_round_values(session, call, values)
    position = (session.scalar(select(func.max(Round.position)).where(Round.call_id == call.id))
                or 0) + 1
    rnd = Round(call_id=call.id, position=position, status=status)
    _apply(rnd, ROUND_FIELDS, values)
    session.add(rnd)
    session.flush()
    if rnd.kind == RoundKind.SCORING:
        ensure_rubric(session=session, round=rnd)
    audit.record(session, action="jury.round_create", object_type="round", object_id=rnd.id,
                 actor=actor, call_id=call.id,
                 after={**snapshot(rnd, ROUND_FIELDS), "position": position,
                        "rubric_id": rnd.rubric_id})
    return rnd


def update_round(*, session: Session, actor, round: Round, values: Mapping[str, Any]) -> bool:
    values = dict(values)
    _require(session, actor, policy.Action.SET_UP_ROUND, round)
    if "status" in values:
        new = RoundStatus(values["status"])
        old = RoundStatus(round.status)
        if new != old and new == RoundStatus.OPEN:
            _require(session, actor, policy.Action.OPEN_ROUND, round)
        if new != old and new not in ROUND_TRANSITIONS[old]:
            if old == RoundStatus.CLOSED:
                message = _l("The round is closed; closing is final.")
            else:
                message = _l("This change of status is not allowed.")
            raise JurySetupError(message, field="status")
    _check_round_values(session, round.call, {
        "opens_at": values.get("opens_at", round.opens_at),
        "closes_at": values.get("closes_at", round.closes_at),
        "panel_id": values.get("panel_id"),
    })
    before, after = _apply(round, ROUND_FIELDS, values)
    if not after:
        return False
    session.flush()
    if round.kind == RoundKind.SCORING:
        ensure_rubric(session=session, round=round)
    audit.record(session, action="jury.round_update", object_type="round", object_id=round.id,
                 actor=actor, call_id=round.call_id, before=before, after=after)
    return True


# ---- opening and closing a round --------------------------------------------------------------

# The moves of a round that go through a confirmation page, by the name used in its URL.
ROUND_MOVES: dict[str, RoundStatus] = {"open": RoundStatus.OPEN, "close": RoundStatus.CLOSED}


@dataclass
class RoundMoveSummary:
    """What opening or closing a round will do, for its confirmation page. ``blockers`` say
    why it cannot be done now (empty when it can), ``status`` is the HTTP answer then."""

    round: Round
    action: str
    target: RoundStatus
    blockers: list = field(default_factory=list)
    status: int = 200
    entries: int = 0
    jurors: int = 0  # active members of the round's panel
    assigned: int = 0
    submitted: int = 0
    drafts: int = 0
    unfinished: list[JurorProgress] = field(default_factory=list)

    @property
    def missing(self) -> int:
        """Active assignments without any review, not even a draft."""
        return self.assigned - self.submitted - self.drafts


def _round_move_refusal(session: Session, actor, round: Round,
                        action: str) -> policy.Decision | None:
    target = ROUND_MOVES[action]
    current = RoundStatus(round.status)
    decision = refusal(session, actor, policy.Action.SET_UP_ROUND, round)
    if decision is None and target == RoundStatus.OPEN:
        decision = refusal(session, actor, policy.Action.OPEN_ROUND, round)
    if decision is not None:
        return decision
    if current == target:
        reason = (_l("The round is already open.") if target == RoundStatus.OPEN
                  else _l("The round is already closed."))
        return policy.Decision(False, reason, 409)
    if target not in ROUND_TRANSITIONS[current]:
        return policy.Decision(False, _l("The round is closed; closing is final."), 409)
    return None


def preview_round_move(*, session: Session, actor, round: Round,
                       action: str) -> RoundMoveSummary:
    """What ``move_round`` would do now, changing nothing: the reviews submitted, still drafts
    or missing, the jurors with unfinished work, and what blocks the move."""
    summary = RoundMoveSummary(round, action, ROUND_MOVES[action])
    decision = _round_move_refusal(session, actor, round, action)
    if decision is not None:
        summary.blockers, summary.status = [decision.reason], decision.status
    progress = round_progress(session=session, round=round)
    summary.entries = session.scalar(
        select(func.count(RoundEntry.id))
        .join(Nomination, Nomination.id == RoundEntry.nomination_id)
        .where(RoundEntry.round_id == round.id, Nomination.status.not_in(_NOT_JUDGED))) or 0
    summary.jurors = sum(1 for j in progress.jurors if j.status == JurorStatus.ACTIVE.value)
    summary.assigned = progress.assigned
    summary.submitted = progress.submitted
    summary.drafts = sum(j.draft for j in progress.jurors)
    summary.unfinished = [j for j in progress.jurors if j.pending]
    return summary


def move_round(*, session: Session, actor, round: Round, action: str) -> RoundMoveSummary:
    """Open a draft round to its jurors, or close a round for good: the jurors' reviews are
    frozen and only the submitted ones count. Refused (``NotAllowed``, 409) once the call's
    results are scheduled, outside the phase that allows it, or when the round is not in a
    state to move; a round changed by someone else meanwhile is refused too."""
    from sqlalchemy.orm.exc import StaleDataError

    summary = preview_round_move(session=session, actor=actor, round=round, action=action)
    if summary.blockers:
        raise NotAllowed(policy.Decision(False, summary.blockers[0], summary.status))
    before = RoundStatus(round.status)
    round.status = summary.target
    try:
        session.flush()
    except StaleDataError:
        raise NotAllowed(policy.Decision(False, _l(
            "Someone else changed this round at the same time. Nothing was saved."),
            409)) from None
    audit.record(session, action=f"jury.round_{action}", object_type="round",
                 object_id=round.id, actor=actor, call_id=round.call_id,
                 before={"status": before.value},
                 after={"status": summary.target.value, "entries": summary.entries,
                        "submitted": summary.submitted, "drafts": summary.drafts,
                        "missing": summary.missing})
    return summary


# ---- rubric -----------------------------------------------------------------------------------


def ensure_rubric(*, session: Session, round: Round) -> Rubric:
    """The round's own rubric, created empty on first need."""
    if round.rubric is not None:
        return round.rubric
    call = round.call
    rubric = Rubric(call_id=call.id, name=localized(round, "name") or f"#{round.position}",
                    total_method=call.total_method)
    session.add(rubric)
    session.flush()
    round.rubric = rubric
    session.flush()
    return rubric


def rubric_review_count(session: Session, rubric: Rubric) -> int:
    """Reviews (draft or submitted) written on this rubric, in any round that uses it."""
    return session.scalar(
        select(func.count(Review.id))
        .join(Assignment, Assignment.id == Review.assignment_id)
        .join(Round, Round.id == Assignment.round_id)
        .where(Round.rubric_id == rubric.id)
    ) or 0


def _check_rubric_editable(session: Session, rubric: Rubric) -> None:
    if rubric_review_count(session, rubric):
        raise JurySetupError(_l(
            "Jurors have already started reviewing on this rubric, so its criteria can no "
            "longer change: the scores given so far would no longer mean the same thing."))


def _check_criterion_key(session: Session, rubric: Rubric, key: str,
                         criterion_id: int | None) -> None:
    query = select(Criterion.id).where(Criterion.rubric_id == rubric.id, Criterion.key == key)
    if criterion_id is not None:
        query = query.where(Criterion.id != criterion_id)
    if session.scalar(query) is not None:
        raise JurySetupError(_l("Another criterion of this rubric already has this key."),
                             field="key")


def add_criterion(*, session: Session, actor, round: Round,
                  values: Mapping[str, Any]) -> Criterion:
    _require(session, actor, policy.Action.SET_UP_ROUND, round)
    rubric = ensure_rubric(session=session, round=round)
    _check_rubric_editable(session, rubric)
    _check_criterion_key(session, rubric, values["key"], None)
    values = dict(values)
    if values.get("position") is None:
        values["position"] = (session.scalar(
            select(func.max(Criterion.position)).where(Criterion.rubric_id == rubric.id)) or 0) + 1
    criterion = Criterion(rubric_id=rubric.id)
    _apply(criterion, CRITERION_FIELDS, values)
    session.add(criterion)
    session.flush()
    audit.record(session, action="jury.criterion_create", object_type="criterion",
                 object_id=criterion.id, actor=actor, call_id=round.call_id,
                 after={**snapshot(criterion, CRITERION_FIELDS), "rubric_id": rubric.id})
    session.expire(rubric, ["criteria"])
    return criterion


def update_criterion(*, session: Session, actor, criterion: Criterion,
                     values: Mapping[str, Any]) -> bool:
    _require(session, actor, policy.Action.SET_UP_ROUND, criterion.rubric.call)
    _check_rubric_editable(session, criterion.rubric)
    _check_criterion_key(session, criterion.rubric, values.get("key", criterion.key),
                         criterion.id)
    values = {k: v for k, v in values.items() if not (k == "position" and v is None)}
    before, after = _apply(criterion, CRITERION_FIELDS, values)
    if not after:
        return False
    session.flush()
    audit.record(session, action="jury.criterion_update", object_type="criterion",
                 object_id=criterion.id, actor=actor, call_id=criterion.rubric.call_id,
                 before=before, after=after)
    return True


def delete_criterion(*, session: Session, actor, criterion: Criterion) -> None:
    rubric = criterion.rubric
    _require(session, actor, policy.Action.SET_UP_ROUND, rubric.call)
    _check_rubric_editable(session, rubric)
    before = {**snapshot(criterion, CRITERION_FIELDS), "rubric_id": rubric.id}
    criterion_id = criterion.id
    session.delete(criterion)
    session.flush()
    audit.record(session, action="jury.criterion_delete", object_type="criterion",
                 object_id=criterion_id, actor=actor, call_id=rubric.call_id, before=before)
    session.expire(rubric, ["criteria"])


# ---- round entries ----------------------------------------------------------------------------


def first_round(session: Session, call: Call) -> Round | None:
    return session.scalar(select(Round).where(Round.call_id == call.id)
                          .order_by(Round.position, Round.id).limit(1))


def add_entries(*, session: Session, actor, round: Round,
                nomination_ids: Collection[int] | None = None) -> int:
    """Add eligible nominations of the round's call: all of them (``nomination_ids`` None,
    first round only) or those chosen. Entries already in the round are left as they are.
    Returns how many were added.

    After a people's vote, "all" means all the vote sent on: the entries with an active
    "advance" decision from the vote, not every eligible one. Later rounds take only the
    entries chosen for them (advanced from the round before, or added by reference)."""
    _require(session, actor, policy.Action.SET_UP_ROUND, round)
    call = round.call
    query = select(Nomination.id).where(Nomination.call_id == call.id,
                                        Nomination.status == NominationStatus.ELIGIBLE)
    if nomination_ids is None:
        first = first_round(session, call)
        if first is None or first.id != round.id:
            raise JurySetupError(_l(
                "All eligible nominations can only be added to the first round; later rounds "
                "take the entries chosen for them."))
        if vote_closed(session, call):
            query = query.where(Nomination.id.in_(_advanced_by_vote(call)))
    else:
        wanted = set(nomination_ids)
        if not wanted:
            raise JurySetupError(_l("Choose at least one nomination."), field="references")
        found = set(session.scalars(query.where(Nomination.id.in_(wanted))))
        if found != wanted:
            raise JurySetupError(_l("Only eligible nominations of this call can be added."),
                                 field="references")
        query = query.where(Nomination.id.in_(wanted))
    present = select(RoundEntry.nomination_id).where(RoundEntry.round_id == round.id)
    ids = sorted(session.scalars(query.where(Nomination.id.not_in(present))))
    if ids:
        now = utcnow()
        session.execute(insert(RoundEntry), [
            {"round_id": round.id, "nomination_id": nid, "added_at": now,
             "added_by_id": getattr(actor, "id", None)} for nid in ids
        ])
        audit.record(session, action="jury.entries_add", object_type="round",
                     object_id=round.id, actor=actor, call_id=call.id,
                     after={"added": len(ids), "nomination_ids": ids if len(ids) <= 50 else None,
                            "all_eligible": nomination_ids is None})
    return len(ids)


def vote_closed(session: Session, call: Call) -> bool:
    """Whether the call had a people's vote, now closed (its outcome decides the first
    round's entries)."""
    return session.scalar(select(PublicStage.id).where(
        PublicStage.call_id == call.id, PublicStage.kind == StageKind.VOTE,
        PublicStage.closed_at.is_not(None))) is not None


def _advanced_by_vote(call: Call):
    """The entries the call's people's vote sent on (active "advance" decisions without a
    round), as a subquery."""
    return select(Decision.nomination_id).where(
        Decision.call_id == call.id, Decision.kind == DecisionKind.ADVANCE,
        Decision.round_id.is_(None), Decision.revoked_at.is_(None))


def find_nominations(session: Session, call: Call,
                     tokens: Iterable[str]) -> tuple[list[int], list[str]]:
    """Nomination ids for references (VOY-2026-00042) or plain ids typed by an administrator;
    returns (ids found, tokens not found)."""
    tokens = [t.strip() for t in tokens if t.strip()]
    refs = [t.upper() for t in tokens if not t.isdigit()]
    numbers = [int(t) for t in tokens if t.isdigit()]
    rows = session.execute(
        select(Nomination.id, Nomination.reference).where(
            Nomination.call_id == call.id,
            (Nomination.reference.in_(refs)) | (Nomination.id.in_(numbers)),
        )
    ).all()
    by_ref = {r.reference: r.id for r in rows if r.reference}
    by_id = {r.id for r in rows}
    found, missing = [], []
    for token in tokens:
        nid = int(token) if token.isdigit() and int(token) in by_id else by_ref.get(token.upper())
        if nid is None:
            missing.append(token)
        elif nid not in found:
            found.append(nid)
    return found, missing


# ---- panels and invitations -------------------------------------------------------------------


def create_panel(*, session: Session, actor, call: Call, name: str) -> Panel:
    name = name.strip()
    if session.scalar(select(Panel.id).where(Panel.call_id == call.id, Panel.name == name)):
        raise JurySetupError(_l("This call already has a panel with this name."), field="name")
    panel = Panel(call_id=call.id, name=name)
    session.add(panel)
    session.flush()
    audit.record(session, action="jury.panel_create", object_type="panel", object_id=panel.id,
                 actor=actor, call_id=call.id, after={"name": name})
    return panel


def _categories_of_call(session: Session, call: Call, ids: Iterable[int]) -> list[Category]:
    ids = set(ids)
    if not ids:
        return []
    found = list(session.scalars(select(Category).where(Category.call_id == call.id,
                                                         Category.id.in_(ids))))
    if len(found) != len(ids):
        raise JurySetupError(_l("Choose categories of this call."), field="categories")
    return found


def _normalise_email(email: str) -> str:
    return email.strip().lower()


def account_for_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == _normalise_email(email)))


def _send_invitation(session: Session, *, member: JuryMember, token: str, inviter,
                     language: str) -> None:
    from awards.urls import external_url

    user = account_for_email(session, member.email)
    lang = user.preferred_language if user is not None else language
    panel = member.panel
    queue_mail(
        session, to=member.email, template="jury_invitation", language=lang,
        kind="jury_invitation",
        name=user.display_name if user is not None else "",
        inviter=getattr(inviter, "display_name", "") or "",
        call_title=localized(panel.call, "title", lang),
        panel_name=panel.name,
        is_chair=member.is_chair,
        url=external_url("jury_admin.invitation", token=token),
    )


@dataclass(frozen=True)
class EntryConflict:
    """An entry of the call a (future) juror is in conflict with, and why."""

    nomination: Nomination
    kinds: tuple[str, ...]

    @property
    def reasons(self) -> list[str]:
        return [str(REASON_LABELS[k]) for k in self.kinds]


def _person_for(session: Session, email: str, user: User | None = None) -> Person:
    """Who the conflict rule looks at: the account when there is one, else the bare address
    (an invitee without an account can still be an entry's nominee)."""
    user = user or account_for_email(session, email)
    if user is not None:
        return Person.of(user)
    return Person.of(_Invitee(email))


@dataclass(frozen=True)
class _Invitee:
    email: str
    id: int = 0  # no account: matches no applicant and no declared conflict
    organisation: str = ""


def entry_conflicts(session: Session, call: Call, *, email: str,
                    user: User | None = None) -> list[EntryConflict]:
    """The call's entries the person with this address (or account) is in conflict with: for
    the warning at invitation and on the panel's page."""
    person = _person_for(session, email, user)
    return [EntryConflict(n, tuple(conflict_kinds(session, person, n)))
            for n in conflicted_entries(session, person, call.id)]


def member_conflicts(session: Session, panel: Panel) -> dict[int, list[EntryConflict]]:
    """Per seat of the panel (not left), the entries its juror is in conflict with; an
    account linked after the invitation is looked at as soon as it is."""
    found = {}
    for member in panel.members:
        if member.status == JurorStatus.LEFT:
            continue
        conflicts = entry_conflicts(session, panel.call, email=member.email, user=member.user)
        if conflicts:
            found[member.id] = conflicts
    return found


def invite_juror(*, session: Session, actor, panel: Panel, email: str, is_chair: bool = False,
                 category_ids: Iterable[int] = (), language: str = "ru") -> JuryMember:
    """Add a seat on the panel and e-mail a link to accept it. Only the token's SHA-256 is
    kept, so the link cannot be rebuilt from the database. The entries the invitee is in
    conflict with are not a reason to refuse (they will never get them), but the audit record
    lists them and the page warns the administrator (``entry_conflicts``)."""
    email = _normalise_email(email)
    if session.scalar(select(JuryMember.id).where(JuryMember.panel_id == panel.id,
                                                  JuryMember.email == email)):
        raise JurySetupError(_l("This address is already invited to the panel."), field="email")
    categories = _categories_of_call(session, panel.call, category_ids)
    token = secrets.token_urlsafe(32)
    member = JuryMember(panel=panel, email=email, is_chair=is_chair,
                        invite_token_hash=hash_token(token), status=JurorStatus.INVITED,
                        invited_at=utcnow())
    member.categories = categories
    session.add(member)
    session.flush()
    conflicts = entry_conflicts(session, panel.call, email=email)
    audit.record(session, action="jury.member_invite", object_type="jury_member",
                 object_id=member.id, actor=actor, call_id=panel.call_id,
                 after={**_member_snapshot(member), "panel_id": panel.id,
                        "conflicts": {str(c.nomination.id): list(c.kinds) for c in conflicts}})
    _send_invitation(session, member=member, token=token, inviter=actor, language=language)
    return member


def resend_invitation(*, session: Session, actor, member: JuryMember,
                      language: str = "ru") -> None:
    """A new link (the old one stops working) for a juror who has not answered yet."""
    if member.status != JurorStatus.INVITED:
        raise JurySetupError(_l("Only a pending invitation can be sent again."))
    token = secrets.token_urlsafe(32)
    member.invite_token_hash = hash_token(token)
    member.invited_at = utcnow()
    session.flush()
    audit.record(session, action="jury.member_reinvite", object_type="jury_member",
                 object_id=member.id, actor=actor, call_id=member.panel.call_id,
                 after={"email": member.email})
    _send_invitation(session, member=member, token=token, inviter=actor, language=language)


def member_for_token(session: Session, token: str) -> JuryMember | None:
    if not token or len(token) > 200:
        return None
    return session.scalar(
        select(JuryMember).where(JuryMember.invite_token_hash == hash_token(token)))


def email_matches(member: JuryMember, user) -> bool:
    return _normalise_email(getattr(user, "email", "") or "") == _normalise_email(member.email)


def accept_invitation(*, session: Session, member: JuryMember, user: User) -> None:
    if member.status != JurorStatus.INVITED:
        raise JurySetupError(_l("This invitation has already been used."))
    if not email_matches(member, user):
        raise JurySetupError(_l("This invitation was sent to another e-mail address."))
    before = _member_snapshot(member)
    member.user_id = user.id
    member.accepted_at = utcnow()
    member.status = JurorStatus.ACTIVE
    session.flush()
    audit.record(session, action="jury.member_accept", object_type="jury_member",
                 object_id=member.id, actor=user, call_id=member.panel.call_id,
                 before=before, after=_member_snapshot(member))


def register_juror(*, session: Session, member: JuryMember, full_name: str, password: str,
                   language: str) -> User:
    """An account for an invited juror who has none. The invitation link reached the address,
    which is what e-mail verification would prove, so the account starts verified."""
    from awards.auth.services import hash_password

    if member.status != JurorStatus.INVITED:
        raise JurySetupError(_l("This invitation has already been used."))
    if account_for_email(session, member.email) is not None:
        raise JurySetupError(_l("An account with this e-mail already exists: log in to accept "
                                "the invitation."))
    now = utcnow()
    user = User(email=_normalise_email(member.email), password_hash=hash_password(password),
                full_name=full_name.strip(), preferred_language=language,
                email_verified_at=now)
    session.add(user)
    session.flush()
    audit.record(session, action="user.register", object_type="user", object_id=user.id,
                 actor=user, after={"email": user.email, "full_name": user.full_name,
                                    "via": "jury_invitation", "email_verified": True})
    accept_invitation(session=session, member=member, user=user)
    return user


def update_member(*, session: Session, actor, member: JuryMember, is_chair: bool,
                  category_ids: Iterable[int]) -> bool:
    """Chair flag and categories (none = every category). Assignments already made are kept:
    moving them is a separate, previewed decision."""
    before = _member_snapshot(member)
    categories = _categories_of_call(session, member.panel.call, category_ids)
    member.is_chair = is_chair
    member.categories = categories
    after = _member_snapshot(member)
    if before == after:
        return False
    session.flush()
    changed = [k for k in after if before[k] != after[k]]
    audit.record(session, action="jury.member_update", object_type="jury_member",
                 object_id=member.id, actor=actor, call_id=member.panel.call_id,
                 before={k: before[k] for k in changed}, after={k: after[k] for k in changed})
    return True


# ---- assignment inputs ------------------------------------------------------------------------


@dataclass
class RoundContext:
    """What the assignment functions need about one round, loaded in a fixed number of
    queries whatever its size."""

    round: Round
    entries: list[EntryToAssign]
    jurors: list[JurorToAssign]
    conflicts: set[Pair]  # every conflict of the jurors with the round's entries (the policy's)
    inactive: set[Pair]  # removed or recused assignments: never given back automatically
    active: dict[Pair, int]  # active assignment -> its id
    submitted: set[Pair]  # active assignments whose review is submitted

    @property
    def blocked(self) -> set[Pair]:
        return self.conflicts | self.inactive

    def digest(self, *extra: Any) -> str:
        data = [
            self.round.id, self.round.reviews_per_entry,
            [(e.id, e.category) for e in self.entries],
            [(j.id, sorted(j.categories) if j.categories is not None else None)
             for j in self.jurors],
            sorted(self.blocked), sorted(self.active), sorted(self.submitted), *extra,
        ]
        body = json.dumps(data, separators=(",", ":"), default=list)
        return hashlib.sha256(body.encode()).hexdigest()


def active_jurors(session: Session, panel_id: int | None) -> list[JuryMember]:
    if panel_id is None:
        return []
    return list(session.scalars(
        select(JuryMember)
        .where(JuryMember.panel_id == panel_id, JuryMember.status == JurorStatus.ACTIVE,
               JuryMember.user_id.is_not(None))
        .options(selectinload(JuryMember.categories), selectinload(JuryMember.user))
        .order_by(JuryMember.id)
    ))


def conflicted_pairs(session: Session, round: Round, users: Iterable[User | None],
                     nomination_ids: Collection[int]) -> set[Pair]:
    """(juror, entry) pairs among these people and entries that are in conflict, found as well
    as declared (``awards.policy.conflicts``): a hard constraint for every assignment."""
    wanted = set(nomination_ids)
    pairs: set[Pair] = set()
    for user in users:
        if user is None or not wanted:
            continue
        pairs.update((user.id, nid) for nid in
                     conflicted_ids(session, Person.of(user), round.call_id) & wanted)
    return pairs


def conflict_reasons(session: Session, pairs: Iterable[Pair]) -> dict[Pair, list[str]]:
    """Why each pair is in conflict, in the reader's language, for the administrator's
    pages."""
    pairs = list(pairs)
    if not pairs:
        return {}
    users = {u.id: u for u in session.scalars(
        select(User).where(User.id.in_({j for j, _e in pairs})))}
    nominations = {n.id: n for n in session.scalars(
        select(Nomination).where(Nomination.id.in_({e for _j, e in pairs})))}
    return {(j, e): [str(REASON_LABELS[k]) for k in
                     conflict_kinds(session, Person.of(users[j]), nominations[e])]
            for j, e in pairs if j in users and e in nominations}


def load_context(session: Session, round: Round) -> RoundContext:
    entries = [
        EntryToAssign(row.nomination_id, row.category_id)
        for row in session.execute(
            select(RoundEntry.nomination_id, Nomination.category_id)
            .join(Nomination, Nomination.id == RoundEntry.nomination_id)
            .where(RoundEntry.round_id == round.id, Nomination.status.not_in(_NOT_JUDGED))
            .order_by(RoundEntry.nomination_id)
        )
    ]
    members = active_jurors(session, round.panel_id)
    jurors = [
        JurorToAssign(m.user_id, frozenset(c.id for c in m.categories) or None)
        for m in members
    ]
    conflicts = conflicted_pairs(session, round, [m.user for m in members],
                                 {e.id for e in entries})
    active: dict[Pair, int] = {}
    inactive: set[Pair] = set()
    submitted: set[Pair] = set()
    for row in session.execute(
        select(Assignment.id, Assignment.juror_id, Assignment.nomination_id, Assignment.status,
               Review.status.label("review_status"))
        .outerjoin(Review, Review.assignment_id == Assignment.id)
        .where(Assignment.round_id == round.id)
    ):
        pair = (row.juror_id, row.nomination_id)
        if row.status == AssignmentStatus.ACTIVE:
            active[pair] = row.id
            if row.review_status == ReviewStatus.SUBMITTED:
                submitted.add(pair)
        else:
            inactive.add(pair)
    return RoundContext(round, entries, jurors, conflicts, inactive, active, submitted)


def _insert_assignments(session: Session, *, round: Round, pairs: Iterable[Pair],
                        actor) -> int:
    now = utcnow()
    rows = [{"round_id": round.id, "juror_id": juror_id, "nomination_id": entry_id,
             "status": AssignmentStatus.ACTIVE, "assigned_at": now,
             "assigned_by_id": getattr(actor, "id", None), "recusal_reason": ""}
            for juror_id, entry_id in pairs]
    if rows:
        session.execute(insert(Assignment), rows)
    return len(rows)


def _end_assignments(session: Session, ids: Collection[int]) -> None:
    ids = sorted(ids)
    for start in range(0, len(ids), 500):
        session.execute(
            update(Assignment).where(Assignment.id.in_(ids[start:start + 500]))
            .values(status=AssignmentStatus.REMOVED),
            execution_options={"synchronize_session": False},
        )
    # ORM copies loaded earlier in this session must not show the old status.
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Assignment) and obj.id in ids:
            session.expire(obj)


# ---- automatic assignment ---------------------------------------------------------------------


@dataclass
class AutoPlan:
    context: RoundContext
    plan: AssignmentPlan
    seed: int
    digest: str

    @property
    def new_count(self) -> int:
        return len(self.plan.new)

    def entry_counts(self) -> dict[int, int]:
        """How many active jurors each entry has after the plan."""
        counts: Counter = Counter({e.id: 0 for e in self.context.entries})
        for _juror, entry in self.context.active:
            if entry in counts:
                counts[entry] += 1
        for _juror, entry in self.plan.new:
            counts[entry] += 1
        return dict(counts)

    def histogram(self) -> list[tuple[int, int]]:
        """(number of jurors, number of entries with that many), ascending."""
        return sorted(Counter(self.entry_counts().values()).items())

    def new_by_juror(self) -> Counter:
        return Counter(juror for juror, _entry in self.plan.new)


def plan_assignment(*, session: Session, round: Round, seed: int = 0) -> AutoPlan:
    """What "assign automatically" would add: existing active assignments are kept, conflicts,
    earlier removals and recusals and the jurors' categories are respected."""
    ctx = load_context(session, round)
    plan = assign(ctx.entries, ctx.jurors, reviews_per_entry=round.reviews_per_entry,
                  conflicts=ctx.blocked, existing=ctx.active.keys(), seed=seed)
    return AutoPlan(ctx, plan, seed, ctx.digest(seed, sorted(plan.new)))


def save_assignment(*, session: Session, actor, round: Round, seed: int,
                    digest: str) -> AutoPlan:
    """Store exactly the plan the administrator previewed. The plan is computed again with
    the same seed (the algorithm is deterministic) and must have the same digest: if entries,
    jurors, conflicts or assignments changed in between, nothing is saved."""
    _require(session, actor, policy.Action.ASSIGN, round)
    if round.status == RoundStatus.CLOSED:
        raise JurySetupError(_l("The round is closed; assignments can no longer change."))
    auto = plan_assignment(session=session, round=round, seed=seed)
    if auto.digest != digest:
        raise PlanChanged(_l("Entries, jurors, conflicts or assignments changed since the "
                             "preview, so nothing was saved. Check the new preview and save "
                             "again."))
    _insert_assignments(session, round=round, pairs=auto.plan.new, actor=actor)
    session.flush()
    audit.record(session, action="jury.assign_auto", object_type="round", object_id=round.id,
                 actor=actor, call_id=round.call_id,
                 after={"new": auto.new_count, "entries": len(auto.context.entries),
                        "jurors": len(auto.context.jurors), "kept": len(auto.context.active),
                        "shortfalls": len(auto.plan.shortfalls),
                        "reviews_per_entry": round.reviews_per_entry, "seed": seed})
    return auto


# ---- manual assignment ------------------------------------------------------------------------


def _conflict_message(conflict: Conflict, name: str):
    if conflict.source == ConflictSource.DECLARED:
        return _l("%(name)s declared a conflict of interest with this entry.", name=name)
    return _l("An administrator has blocked %(name)s from this entry.", name=name)


def add_assignment(*, session: Session, actor, round: Round, nomination_id: int,
                   juror_id: int) -> Assignment:
    """One juror to one entry, by hand. Refused for a pair in conflict of interest, however
    the request was made (the page never offers such a pair)."""
    _require(session, actor, policy.Action.ASSIGN, round)
    if round.status == RoundStatus.CLOSED:
        raise JurySetupError(_l("The round is closed; assignments can no longer change."))
    entry = session.scalar(
        select(RoundEntry).where(RoundEntry.round_id == round.id,
                                 RoundEntry.nomination_id == nomination_id)
        .options(selectinload(RoundEntry.nomination))
    )
    if entry is None:
        raise JurySetupError(_l("This entry is not in the round."), field="nomination_id")
    member = session.scalar(
        select(JuryMember).where(JuryMember.panel_id == round.panel_id,
                                 JuryMember.user_id == juror_id)
    ) if round.panel_id is not None else None
    if member is None or not member.is_active:
        raise JurySetupError(_l("Only jurors of this round's panel who have accepted their "
                                "invitation can be assigned."), field="juror_id")
    name = _juror_label(member.user, member)
    conflict = session.scalar(select(Conflict).where(Conflict.user_id == juror_id,
                                                     Conflict.nomination_id == nomination_id))
    if conflict is not None:
        raise JurySetupError(_conflict_message(conflict, name), field="juror_id")
    nomination = entry.nomination
    kinds = conflict_kinds(session, Person.of(member.user), nomination)
    if kinds:
        raise JurySetupError(_l(
            "%(name)s has a conflict of interest with this entry (%(reasons)s), so they cannot "
            "judge it.", name=name, reasons=", ".join(str(REASON_LABELS[k]) for k in kinds)),
            field="juror_id")
    if not member.covers_category(nomination.category_id):
        raise JurySetupError(
            _l("%(name)s does not judge the category “%(category)s”.", name=name,
               category=localized(nomination.category, "name") or nomination.category.code),
            field="juror_id")
    existing = session.scalar(select(Assignment).where(
        Assignment.round_id == round.id, Assignment.nomination_id == nomination_id,
        Assignment.juror_id == juror_id))
    if existing is not None and existing.status == AssignmentStatus.ACTIVE:
        raise JurySetupError(_l("%(name)s is already assigned to this entry.", name=name),
                             field="juror_id")
    if existing is not None and existing.status == AssignmentStatus.RECUSED:
        raise JurySetupError(_l("%(name)s recused themselves from this entry.", name=name),
                             field="juror_id")
    if existing is not None:
        before = {"status": AssignmentStatus(existing.status).value}
        existing.status = AssignmentStatus.ACTIVE
        existing.assigned_at = utcnow()
        existing.assigned_by_id = getattr(actor, "id", None)
        assignment = existing
    else:
        before = None
        assignment = Assignment(round_id=round.id, nomination_id=nomination_id,
                                juror_id=juror_id, status=AssignmentStatus.ACTIVE,
                                assigned_by_id=getattr(actor, "id", None))
        session.add(assignment)
    session.flush()
    audit.record(session, action="jury.assignment_add", object_type="assignment",
                 object_id=assignment.id, actor=actor, call_id=round.call_id, before=before,
                 after={"round_id": round.id, "nomination_id": nomination_id,
                        "juror_id": juror_id, "status": "active"})
    return assignment


def remove_assignment(*, session: Session, actor, assignment: Assignment) -> None:
    _require(session, actor, policy.Action.ASSIGN, assignment.round)
    if assignment.round.status == RoundStatus.CLOSED:
        raise JurySetupError(_l("The round is closed; assignments can no longer change."))
    if assignment.status != AssignmentStatus.ACTIVE:
        raise JurySetupError(_l("This assignment has already ended."))
    if assignment.review is not None and assignment.review.is_submitted:
        raise JurySetupError(_l("The juror has already submitted this review; block the juror "
                                "from the entry as a conflict of interest if it must not "
                                "count."))
    assignment.status = AssignmentStatus.REMOVED
    session.flush()
    audit.record(session, action="jury.assignment_remove", object_type="assignment",
                 object_id=assignment.id, actor=actor, call_id=assignment.round.call_id,
                 before={"status": "active"},
                 after={"status": "removed", "round_id": assignment.round_id,
                        "nomination_id": assignment.nomination_id,
                        "juror_id": assignment.juror_id})


# ---- moving work: a juror leaves or is blocked ------------------------------------------------


@dataclass
class RoundMove:
    round: Round
    plan: ReassignmentPlan
    context: RoundContext
    kept_submitted: int = 0  # the leaving juror's submitted reviews, which stay

    @property
    def shortfall_count(self) -> int:
        return sum(s.missing for s in self.plan.shortfalls)


def _rounds_in_progress(session: Session, **where) -> list[Round]:
    query = select(Round).where(Round.status != RoundStatus.CLOSED)
    for name, value in where.items():
        query = query.where(getattr(Round, name) == value)
    return list(session.scalars(query.order_by(Round.position, Round.id)))


def _apply_move(session: Session, move: RoundMove, *, actor, reason: str) -> None:
    ctx = move.context
    _end_assignments(session, [ctx.active[pair] for pair in move.plan.removed])
    _insert_assignments(session, round=move.round, pairs=move.plan.new, actor=actor)
    session.flush()
    audit.record(session, action="jury.reassign", object_type="round",
                 object_id=move.round.id, actor=actor, call_id=move.round.call_id,
                 before={"removed": [list(p) for p in move.plan.removed]},
                 after={"reason": reason, "new": [list(p) for p in move.plan.new],
                        "shortfalls": move.shortfall_count})


def plan_member_leave(*, session: Session, member: JuryMember) -> list[RoundMove]:
    """Where the juror's unfinished work would go, per round of the panel that is not closed.
    Submitted reviews stay with the juror; the rest moves to the other jurors."""
    if member.user_id is None:
        return []
    moves = []
    for rnd in _rounds_in_progress(session, panel_id=member.panel_id):
        ctx = load_context(session, rnd)
        mine_submitted = {p for p in ctx.submitted if p[0] == member.user_id}
        # An entry withdrawn meanwhile is no longer judged: its assignments move nowhere.
        judged = {e.id for e in ctx.entries}
        movable = [p for p in ctx.active if p not in mine_submitted and p[1] in judged]
        if not any(p[0] == member.user_id for p in movable):
            continue
        plan = reassign(member.user_id, entries=ctx.entries, jurors=ctx.jurors,
                        assignments=movable, conflicts=ctx.blocked, seed=rnd.id)
        moves.append(RoundMove(rnd, plan, ctx, kept_submitted=len(mine_submitted)))
    return moves


def leave_digest(moves: list[RoundMove]) -> str:
    body = json.dumps([(m.round.id, sorted(m.plan.removed), sorted(m.plan.new)) for m in moves])
    return hashlib.sha256(body.encode()).hexdigest()


def remove_member(*, session: Session, actor, member: JuryMember,
                  digest: str | None = None) -> list[RoundMove]:
    """The juror leaves the panel: status ``left`` and their unfinished assignments are moved
    (exactly as previewed, when ``digest`` is given)."""
    if member.status == JurorStatus.LEFT:
        raise JurySetupError(_l("This juror has already left the panel."))
    moves = plan_member_leave(session=session, member=member)
    for move in moves:
        _require(session, actor, policy.Action.ASSIGN, move.round)
    if digest is not None and leave_digest(moves) != digest:
        raise PlanChanged(_l("Assignments changed since the preview, so nothing was saved. "
                             "Check the new preview and confirm again."))
    before = _member_snapshot(member)
    member.status = JurorStatus.LEFT
    member.left_at = utcnow()
    member.is_chair = False
    session.flush()
    audit.record(session, action="jury.member_leave", object_type="jury_member",
                 object_id=member.id, actor=actor, call_id=member.panel.call_id,
                 before=before, after=_member_snapshot(member))
    for move in moves:
        _apply_move(session, move, actor=actor, reason="juror_left")
    return moves


# ---- conflicts --------------------------------------------------------------------------------


def call_jurors(session: Session, call: Call) -> list[JuryMember]:
    """Members of the call's panels who have an account (the ones a conflict can name)."""
    return list(session.scalars(
        select(JuryMember).join(Panel, Panel.id == JuryMember.panel_id)
        .where(Panel.call_id == call.id, JuryMember.user_id.is_not(None))
        .options(selectinload(JuryMember.user), selectinload(JuryMember.panel))
        .order_by(JuryMember.email, JuryMember.id)
    ))


def block_juror(*, session: Session, actor, call: Call, juror_id: int, nomination_id: int,
                reason: str) -> tuple[Conflict, list[RoundMove]]:
    """An administrator's conflict of interest: the juror never gets the entry, and an
    assignment they already have to it (in a round not yet closed) ends and is given to
    someone else. Refused once the call's results are scheduled or published: the reviews
    that decided them stand (a correction of the decisions is the way to go)."""
    _require(session, actor, policy.Action.SET_UP_ROUND, call)
    nomination = session.get(Nomination, nomination_id)
    if nomination is None or nomination.call_id != call.id:
        raise JurySetupError(_l("No nomination of this call has this reference."),
                             field="reference")
    if juror_id not in {m.user_id for m in call_jurors(session, call)}:
        raise JurySetupError(_l("Choose a juror of this call."), field="juror_id")
    existing = session.scalar(select(Conflict).where(Conflict.user_id == juror_id,
                                                     Conflict.nomination_id == nomination_id))
    if existing is not None:
        raise JurySetupError(_l("A conflict of interest between this juror and this entry is "
                                "already recorded."), field="juror_id")
    conflict = Conflict(user_id=juror_id, nomination_id=nomination_id,
                        source=ConflictSource.ADMIN, reason=reason.strip(),
                        created_by_id=getattr(actor, "id", None))
    session.add(conflict)
    session.flush()
    audit.record(session, action="jury.conflict_add", object_type="conflict",
                 object_id=conflict.id, actor=actor, call_id=call.id,
                 after={"user_id": juror_id, "nomination_id": nomination_id,
                        "source": "admin", "reason": conflict.reason})
    round_ids = set(session.scalars(
        select(Assignment.round_id).join(Round, Round.id == Assignment.round_id)
        .where(Assignment.juror_id == juror_id, Assignment.nomination_id == nomination_id,
               Assignment.status == AssignmentStatus.ACTIVE,
               Round.status != RoundStatus.CLOSED, Round.call_id == call.id)
    ))
    moves = []
    for rnd in _rounds_in_progress(session, call_id=call.id):
        if rnd.id not in round_ids:
            continue
        ctx = load_context(session, rnd)
        # Even a submitted review moves: the conflict makes it one that must not count. An
        # entry withdrawn meanwhile is no longer judged: nobody takes it over.
        judged = {e.id for e in ctx.entries}
        plan = reassign(juror_id, entries=ctx.entries, jurors=ctx.jurors,
                        assignments=[p for p in ctx.active if p[1] in judged],
                        conflicts=ctx.blocked,
                        only_entries={nomination_id}, seed=rnd.id)
        move = RoundMove(rnd, plan, ctx)
        _apply_move(session, move, actor=actor, reason="conflict")
        moves.append(move)
    return conflict, moves


def remove_conflict(*, session: Session, actor, conflict: Conflict) -> None:
    """Lift an administrator's block. A conflict the juror declared is theirs to keep."""
    if conflict.source != ConflictSource.ADMIN:
        raise JurySetupError(_l("Only a block set by an administrator can be removed here; "
                                "the juror declared this conflict."))
    call_id = conflict.nomination.call_id
    before = {"user_id": conflict.user_id, "nomination_id": conflict.nomination_id,
              "source": "admin", "reason": conflict.reason}
    conflict_id = conflict.id
    session.delete(conflict)
    session.flush()
    audit.record(session, action="jury.conflict_remove", object_type="conflict",
                 object_id=conflict_id, actor=actor, call_id=call_id, before=before)


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
        closes = (babel_format_datetime(round.closes_at, "d MMMM y, HH:mm", tzinfo=call.tz,
                                        locale=lang) if round.closes_at else "")
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
