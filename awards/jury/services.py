"""The juror's side of judging: the list of assigned entries, what of an entry a juror may see,
saving and submitting a review, reopening it, and recusing (declaring a conflict of interest).

Services take keyword-only arguments, flush and audit; the caller commits. Saving, submitting,
reopening and recusing each ask the rulebook (``awards.policy``) once, inside the service, so
the page and the API give the same answer: not the juror's own assignment, or an entry they
are in conflict with, is ``NotAvailable`` (404); a round not open is ``RoundNotOpen`` or
``RoundClosed``; a call whose results are scheduled or published is ``Frozen`` (a
``RoundClosed``: the round is closed to the jury for good)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import exists, or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from awards import audit, policy
from awards.calls.models import Call, Category
from awards.enums import (
    AssignmentStatus,
    ConflictSource,
    JurorStatus,
    NominationStatus,
    ReviewStatus,
    RoundKind,
    RoundStatus,
)
from awards.judging import totals
from awards.jury.access import round_is_closed, viewer_for
from awards.jury.models import (
    Assignment,
    Conflict,
    JuryMember,
    Review,
    Round,
    Rubric,
    Score,
)
from awards.nominations import formbuilder
from awards.nominations.models import Attachment, Nomination
from awards.policy.conflicts import Person, conflict_condition

# ---- refusals the view turns into messages ----------------------------------------------------


class JuryRefusal(Exception):
    """Something the juror must be told about; nothing was changed."""


class RoundClosed(JuryRefusal):
    def __init__(self, round_: Round):
        super().__init__("round closed")
        self.round = round_


class RoundNotOpen(JuryRefusal):
    """The round has not opened yet (or has no rubric to score on)."""

    def __init__(self, round_: Round):
        super().__init__("round not open")
        self.round = round_


class Frozen(RoundClosed):
    """The call's results are scheduled or published: reviews stand as they were when the
    results were decided. ``message`` says so in the juror's language."""

    def __init__(self, round_: Round, message):
        super().__init__(round_)
        self.message = message


class NotAvailable(JuryRefusal):
    """Not the juror's own assignment any more (or an entry they are in conflict with): the
    answer is "not found"."""

    def __init__(self, message):
        super().__init__("not available")
        self.message = message


class StaleReview(JuryRefusal):
    """The review changed (in another tab or window) since the page was loaded."""

    def __init__(self, review: Review | None):
        super().__init__("stale review")
        self.review = review


class AlreadySubmitted(JuryRefusal):
    def __init__(self, review: Review):
        super().__init__("already submitted")
        self.review = review


class NotSubmitted(JuryRefusal):
    pass


class InvalidScores(JuryRefusal):
    def __init__(self, errors: Mapping[str, totals.ScoreError]):
        super().__init__(f"invalid scores: {dict(errors)}")
        self.errors = dict(errors)


# ---- scores and totals ----------------------------------------------------------------------


def criteria_of(rubric: Rubric) -> tuple[totals.Criterion, ...]:
    return tuple(totals.Criterion(c.key, c.weight, c.min_score, c.max_score, c.step)
                 for c in rubric.criteria)


def scores_of(review: Review | None) -> dict[str, float | None]:
    if review is None:
        return {}
    return {s.criterion.key: s.value for s in review.scores}


def snapshot(review: Review | None) -> dict[str, Any] | None:
    """What the audit log keeps of a review (never the private note)."""
    if review is None:
        return None
    return {"status": review.status.value, "total": review.total, "scores": scores_of(review),
            "overall_comment": review.overall_comment}


def _require(session: Session, juror, action: policy.Action, assignment: Assignment,
             now: datetime, viewer=None) -> None:
    """Ask the rulebook; its refusal becomes the refusal the pages and the API already
    show."""
    viewer = viewer if viewer is not None else viewer_for(session, juror)
    decision = policy.allows(viewer, action, assignment, now=now)
    if decision.ok:
        return
    round_ = assignment.round
    if decision.status == 404:
        raise NotAvailable(decision.reason)
    if decision.rule == "not_frozen":
        raise Frozen(round_, decision.reason)
    if round_is_closed(round_, now):
        raise RoundClosed(round_)
    raise RoundNotOpen(round_)


def _check_open(round_: Round, now: datetime) -> None:
    if round_is_closed(round_, now):
        raise RoundClosed(round_)
    if not round_.is_open_at(now) or round_.rubric is None or not round_.rubric.criteria:
        raise RoundNotOpen(round_)


def _lock_assignment(session: Session, assignment: Assignment) -> Review | None:
    """Serialise saves of one assignment (two tabs, a double click, a script) and read its
    review as the database has it now, not as this session last saw it.

    PostgreSQL: a row lock (SELECT ... FOR UPDATE). SQLite has no row locks and ignores FOR
    UPDATE: a write that changes nothing takes the database's single write lock, so the second
    save waits for the first to commit and then reads what it saved."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Assignment.id).where(Assignment.id == assignment.id)
                        .with_for_update())
    else:
        session.execute(text("UPDATE assignments SET id = id WHERE id = :id"),
                        {"id": assignment.id})
    return session.scalar(
        select(Review).where(Review.assignment_id == assignment.id)
        .execution_options(populate_existing=True)
    )


def _as_number(value: object) -> object:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def _same_content(review: Review, scores: Mapping[str, object], comments: Mapping[str, str],
                  overall_comment: str, private_note: str) -> bool:
    stored = {s.criterion.key: (s.value, s.comment) for s in review.scores}
    keys = set(stored) | set(scores)
    return (
        all(stored.get(k, (None, ""))[0] == _as_number(scores.get(k)) for k in keys)
        and all(stored.get(k, (None, ""))[1] == (v or "").strip() for k, v in comments.items())
        and review.overall_comment == overall_comment.strip()
        and review.private_note == private_note.strip()
    )


@dataclass(frozen=True)
class SaveResult:
    review: Review
    changed: bool


def save_review(
    *,
    session: Session,
    juror,
    assignment: Assignment,
    scores: Mapping[str, object],
    comments: Mapping[str, str] | None = None,
    overall_comment: str = "",
    private_note: str = "",
    expected_version: int | None = None,
    submit: bool,
    now: datetime,
    viewer=None,
) -> SaveResult:
    """Save the juror's score sheet as a draft, or submit it.

    ``scores`` are by criterion key, ``None`` for "not scored yet"; anything else that is not
    a number reaches validation as it was typed. A draft may leave criteria unscored; a
    submission may not. ``expected_version`` is the review's ``version_id`` the page was built
    from (0 before the first save): a different stored version means another tab saved in
    between, and the save is refused, except that submitting exactly what is already submitted
    is a harmless repeat (a double click) and changes nothing."""
    comments = dict(comments or {})
    round_ = assignment.round
    _require(session, juror, policy.Action.SCORE, assignment, now, viewer)
    _check_open(round_, now)
    review = _lock_assignment(session, assignment)
    if expected_version is not None and (review.version_id if review else 0) != expected_version:
        if (review is not None and submit and review.is_submitted
                and _same_content(review, scores, comments, overall_comment, private_note)):
            return SaveResult(review, changed=False)
        raise StaleReview(review)
    if review is not None and review.is_submitted:
        if submit and _same_content(review, scores, comments, overall_comment, private_note):
            return SaveResult(review, changed=False)
        raise AlreadySubmitted(review)

    rubric = round_.rubric
    criteria = criteria_of(rubric)
    errors = totals.validate_scores(scores, criteria)
    if not submit:
        errors = {k: e for k, e in errors.items() if e is not totals.ScoreError.MISSING}
    if errors:
        raise InvalidScores(errors)

    before = snapshot(review)
    if review is None:
        review = Review(assignment=assignment, status=ReviewStatus.DRAFT)
        session.add(review)
    by_id = {s.criterion_id: s for s in review.scores}
    for criterion in rubric.criteria:
        value = scores.get(criterion.key)
        score = by_id.get(criterion.id)
        if score is None:
            score = Score(criterion=criterion)
            review.scores.append(score)
        score.value = float(value) if value is not None else None  # type: ignore[arg-type]
        score.comment = (comments.get(criterion.key) or "").strip()
    review.overall_comment = overall_comment.strip()
    review.private_note = private_note.strip()
    sheet = {c.key: scores.get(c.key) for c in criteria}
    review.total = totals.review_total(sheet, criteria, rubric.total_method)
    # Touching the row bumps version_id even when only the scores changed, so the other tab
    # learns about this save.
    review.updated_at = now
    if submit:
        review.status = ReviewStatus.SUBMITTED
        review.submitted_at = now
    try:
        session.flush()
    except (IntegrityError, StaleDataError):
        # Another save of this review won a race the lock did not cover; the caller rolls
        # back and shows the review as it is now.
        raise StaleReview(None) from None
    audit.record(session, action="review.submit" if submit else "review.save_draft",
                 object_type="review", object_id=review.id, actor=juror,
                 call_id=round_.call_id, before=before,
                 after={**(snapshot(review) or {}), "assignment_id": assignment.id})
    return SaveResult(review, changed=True)


def save_draft(*, session: Session, juror, assignment: Assignment, scores, now: datetime,
               **kwargs) -> SaveResult:
    return save_review(session=session, juror=juror, assignment=assignment, scores=scores,
                       submit=False, now=now, **kwargs)


def submit_review(*, session: Session, juror, assignment: Assignment, scores, now: datetime,
                  **kwargs) -> SaveResult:
    return save_review(session=session, juror=juror, assignment=assignment, scores=scores,
                       submit=True, now=now, **kwargs)


def reopen_review(*, session: Session, juror, assignment: Assignment,
                  expected_version: int | None = None, now: datetime,
                  viewer=None) -> Review:
    """Back to draft, so the juror can change a submitted review while the round is open (and
    the call's results are neither scheduled nor published)."""
    round_ = assignment.round
    _require(session, juror, policy.Action.REOPEN_REVIEW, assignment, now, viewer)
    if round_is_closed(round_, now):
        raise RoundClosed(round_)
    review = _lock_assignment(session, assignment)
    if review is None or not review.is_submitted:
        raise NotSubmitted()
    if expected_version is not None and review.version_id != expected_version:
        raise StaleReview(review)
    before = snapshot(review)
    review.status = ReviewStatus.DRAFT
    review.submitted_at = None
    review.updated_at = now
    session.flush()
    audit.record(session, action="review.reopen", object_type="review", object_id=review.id,
                 actor=juror, call_id=round_.call_id, before=before,
                 after={**(snapshot(review) or {}), "assignment_id": assignment.id})
    return review


def recuse(*, session: Session, juror, assignment: Assignment, reason: str,
           now: datetime, viewer=None) -> Conflict:
    """The juror withdraws from an entry because of a conflict of interest (before or after
    opening it). The conflict is recorded for every round; the juror's open assignments for the
    entry are recused and any review of theirs on it is removed so it never counts (its scores
    stay in the audit log). Finding a replacement juror is the administrators' job."""
    _require(session, juror, policy.Action.RECUSE, assignment, now, viewer)
    if round_is_closed(assignment.round, now):
        raise RoundClosed(assignment.round)
    reason = reason.strip()
    conflict = session.scalar(select(Conflict).where(
        Conflict.user_id == juror.id, Conflict.nomination_id == assignment.nomination_id))
    if conflict is None:
        conflict = Conflict(user_id=juror.id, nomination_id=assignment.nomination_id,
                            source=ConflictSource.DECLARED, reason=reason,
                            created_by_id=juror.id, created_at=now)
        session.add(conflict)
        session.flush()
        audit.record(session, action="conflict.declare", object_type="conflict",
                     object_id=conflict.id, actor=juror, call_id=assignment.round.call_id,
                     after={"nomination_id": assignment.nomination_id, "reason": reason,
                            "source": ConflictSource.DECLARED.value})
    siblings = session.scalars(
        select(Assignment).join(Assignment.round).where(
            Assignment.juror_id == juror.id,
            Assignment.nomination_id == assignment.nomination_id,
            Assignment.status == AssignmentStatus.ACTIVE,
        )
    ).all()
    for item in siblings:
        if item.id != assignment.id and round_is_closed(item.round, now):
            continue  # a closed round's record stays as it was judged
        review = item.review
        before = {"status": item.status.value, "review": snapshot(review)}
        if review is not None:
            item.review = None  # delete-orphan removes it with its scores
        item.status = AssignmentStatus.RECUSED
        item.recused_at = now
        item.recusal_reason = reason
        session.flush()
        audit.record(session, action="assignment.recuse", object_type="assignment",
                     object_id=item.id, actor=juror, call_id=item.round.call_id, before=before,
                     after={"status": item.status.value, "reason": reason,
                            "conflict_id": conflict.id})
    return conflict


def record_forbidden_attempt(*, session: Session, user, object_type: str, object_id: object,
                             method: str, path: str) -> None:
    """A post aimed at something the user may not touch: kept for the security review."""
    call_id = None
    if object_type == "assignment" and isinstance(object_id, int):
        assignment = session.get(Assignment, object_id)
        call_id = assignment.round.call_id if assignment is not None else None
    audit.record(session, action="security.forbidden_attempt", object_type=object_type,
                 object_id=object_id, actor=user, call_id=call_id,
                 after={"method": method, "path": path})


# ---- what a juror sees of an entry ------------------------------------------------------------


@dataclass(frozen=True)
class EntryView:
    rows: list[formbuilder.AnswerRow]
    attachment_ids: frozenset[int]
    blind: bool


def entry_view(nomination: Nomination, round_: Round, *, identity: bool) -> EntryView:
    """The entry's answers as the juror may see them. Where the policy hides identity
    (``policy.shows_identity``: a blind round) the nominee's details (name, contacts,
    organisation) and every answer and file of a field marked identifying are left out, so
    neither the page nor the download route can show them."""
    from awards.nominations.services import fields_for

    fields = fields_for(nomination)
    rows = formbuilder.answer_rows(nomination, fields)
    if not identity:
        hidden = set(formbuilder.NOMINEE_COLUMNS) | {
            formbuilder.field_name(f) for f in fields if f.is_identifying}
        rows = [row for row in rows if row.name not in hidden]
    ids = frozenset(a.id for row in rows if row.is_file for a in row.attachments)
    return EntryView(rows=rows, attachment_ids=ids, blind=not identity)


def visible_attachment(nomination: Nomination, round_: Round, attachment_id: int, *,
                       identity: bool) -> Attachment | None:
    if attachment_id not in entry_view(nomination, round_, identity=identity).attachment_ids:
        return None
    return next((a for a in nomination.attachments if a.id == attachment_id), None)


# ---- the juror's list -----------------------------------------------------------------------

TODO, DRAFT, SUBMITTED = "todo", "draft", "submitted"
STATES = (TODO, DRAFT, SUBMITTED)


def state_of(assignment: Assignment) -> str:
    review = assignment.review
    if review is None:
        return TODO
    return SUBMITTED if review.is_submitted else DRAFT


@dataclass
class RoundGroup:
    round: Round
    items: list[Assignment] = field(default_factory=list)  # after the filters
    submitted: int = 0  # progress counts every assignment, whatever the filters
    total: int = 0
    is_open: bool = False
    is_closed: bool = False


def _my_assignments_query(user):
    """The juror's assignments they may open, in the dashboard's order: soonest-closing round
    first (a round without a closing date last, on both databases), then by reference. Never
    an entry they are in conflict with (declared, recorded or found), the same rule as the
    entry's page."""
    seat = exists().where(JuryMember.panel_id == Round.panel_id, JuryMember.user_id == user.id,
                          JuryMember.status == JurorStatus.ACTIVE)
    conflicted = conflict_condition(Person.of(user))
    return (
        select(Assignment).join(Assignment.round).join(Assignment.nomination)
        .where(Assignment.juror_id == user.id, Assignment.status == AssignmentStatus.ACTIVE,
               Round.kind == RoundKind.SCORING, Round.status != RoundStatus.DRAFT,
               Nomination.status != NominationStatus.WITHDRAWN, seat, ~conflicted)
        .order_by(Round.closes_at.is_(None), Round.closes_at, Round.id, Nomination.reference,
                  Nomination.id)
    )


def my_assignments(*, session: Session, user, with_categories: bool = False
                   ) -> list[Assignment]:
    """Every assignment the juror may open, soonest-closing round first, with its review,
    round, call, entry and category (one query each, whatever the number of assignments);
    ``with_categories`` also reads every category of the calls (the dashboard's filter)."""
    call = selectinload(Assignment.round).selectinload(Round.call)
    if with_categories:
        call = call.selectinload(Call.categories)
    return list(session.scalars(
        _my_assignments_query(user)
        .options(selectinload(Assignment.review), call,
                 selectinload(Assignment.nomination).selectinload(Nomination.category))
    ))


def open_for_scoring(round_: Round, now: datetime) -> bool:
    """Between its dates, not closed, the call not frozen: where "Next unscored entry" leads."""
    return round_.is_open_at(now) and not round_is_closed(round_, now)


@dataclass
class Dashboard:
    """The juror's list as loaded once; the filters and the next entry are read from it."""

    assignments: list[Assignment]
    now: datetime

    @property
    def categories(self) -> list[Category]:
        """The categories of the calls the juror judges, for the filter."""
        found: dict[int, Category] = {}
        for call in {a.round.call_id: a.round.call for a in self.assignments}.values():
            for category in call.categories:
                found[category.id] = category
        return list(found.values())

    def groups(self, *, category_id: int | None = None,
               state: str | None = None) -> list[RoundGroup]:
        groups: dict[int, RoundGroup] = {}
        for assignment in self.assignments:
            round_ = assignment.round
            group = groups.get(round_.id)
            if group is None:
                group = groups[round_.id] = RoundGroup(
                    round_, is_open=round_.is_open_at(self.now),
                    is_closed=round_is_closed(round_, self.now))
            current = state_of(assignment)
            group.total += 1
            group.submitted += current == SUBMITTED
            if category_id is not None and assignment.nomination.category_id != category_id:
                continue
            if state is not None and current != state:
                continue
            group.items.append(assignment)
        return list(groups.values())

    def next_unscored(self, *, category_id: int | None = None) -> Assignment | None:
        """As :func:`next_unscored` answers it from the database."""
        candidates = [a for a in self.assignments
                      if open_for_scoring(a.round, self.now) and state_of(a) != SUBMITTED
                      and (category_id is None or a.nomination.category_id == category_id)]
        drafts = [a for a in candidates if state_of(a) == DRAFT]
        return (drafts or candidates or [None])[0]


def juror_dashboard(*, session: Session, user, now: datetime) -> Dashboard:
    """The juror's dashboard: every assignment they may open, read once, with the categories
    of their calls."""
    return Dashboard(my_assignments(session=session, user=user, with_categories=True), now)


def dashboard(*, session: Session, user, now: datetime, category_id: int | None = None,
              state: str | None = None) -> list[RoundGroup]:
    return juror_dashboard(session=session, user=user, now=now).groups(
        category_id=category_id, state=state)


def next_unscored(*, session: Session, user, now: datetime, category_id: int | None = None,
                  exclude: int | None = None) -> Assignment | None:
    """The first entry not yet submitted in a round open for scoring now: drafts before
    untouched ones, in the dashboard's order. One query (``LIMIT 1``), whatever the juror's
    load; ``exclude`` leaves out the entry the juror is looking at."""
    query = (
        _my_assignments_query(user).join(Round.call)
        .outerjoin(Review, Review.assignment_id == Assignment.id)
        .where(Round.status == RoundStatus.OPEN,
               or_(Round.opens_at.is_(None), Round.opens_at <= now),
               or_(Round.closes_at.is_(None), Round.closes_at >= now),
               Call.status.not_in(policy.FROZEN_PHASES),
               or_(Review.id.is_(None), Review.status != ReviewStatus.SUBMITTED))
    )
    if category_id is not None:
        query = query.where(Nomination.category_id == category_id)
    if exclude is not None:
        query = query.where(Assignment.id != exclude)
    # Drafts first: the dashboard's order comes after.
    query = query.order_by(None).order_by(
        Review.id.is_(None), Round.closes_at.is_(None), Round.closes_at, Round.id,
        Nomination.reference, Nomination.id)
    return session.scalar(query.limit(1))


# ---- the chair's view of a panel ------------------------------------------------------------


@dataclass(frozen=True)
class PanelRow:
    juror_name: str
    is_me: bool
    state: str
    total: float | None
    scores: dict[str, float | None]
    overall_comment: str


def panel_reviews(*, session: Session, assignment: Assignment, viewer) -> list[PanelRow]:
    """Every panel member's review of the entry in this round. Only submitted reviews show
    scores; private notes are never shown."""
    others = session.scalars(
        select(Assignment).where(Assignment.round_id == assignment.round_id,
                                 Assignment.nomination_id == assignment.nomination_id,
                                 Assignment.status == AssignmentStatus.ACTIVE)
        .options(selectinload(Assignment.review), selectinload(Assignment.juror))
        .order_by(Assignment.id)
    ).all()
    rows = []
    for item in others:
        review = item.review
        submitted = review is not None and review.is_submitted
        rows.append(PanelRow(
            juror_name=item.juror.display_name, is_me=item.juror_id == viewer.id,
            state=state_of(item), total=review.total if submitted else None,
            scores=scores_of(review) if submitted else {},
            overall_comment=review.overall_comment if submitted else "",
        ))
    return rows
