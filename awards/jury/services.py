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
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, exists, or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from awards import audit, policy
from awards.calls.models import Call, Category
from awards.enums import (
    AssignmentStatus,
    ConflictSource,
    FieldType,
    JurorStatus,
    NominationStatus,
    ReviewStatus,
    RoundKind,
    RoundStatus,
)
from awards.judging import totals
from awards.jury.access import remember_juror, round_is_closed, viewer_for
from awards.jury.models import (
    Assignment,
    Conflict,
    JuryMember,
    Review,
    Round,
    Rubric,
    Score,
)
from awards.jury.titles import work_titles
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
    """Serialise saves, reopening and recusal of one assignment (two tabs, a double click, a
    script) and read it and its review as the database has them now, not as this session
    last saw them (``assignment.review`` then says the same): the policy is asked after this,
    so a recusal that won the race is seen.

    PostgreSQL: a row lock (SELECT ... FOR UPDATE). SQLite has no row locks and ignores FOR
    UPDATE: a write that changes nothing takes the database's single write lock, so the second
    save waits for the first to commit and then reads what it saved."""
    current = (select(Assignment).where(Assignment.id == assignment.id)
               .execution_options(populate_existing=True))
    if session.get_bind().dialect.name == "postgresql":
        session.scalar(current.with_for_update())
    else:
        session.execute(text("UPDATE assignments SET id = id WHERE id = :id"),
                        {"id": assignment.id})
        session.scalar(current)
    review = session.scalar(
        select(Review).where(Review.assignment_id == assignment.id)
        .execution_options(populate_existing=True)
    )
    set_committed_value(assignment, "review", review)
    return review


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
    review = _lock_assignment(session, assignment)
    _require(session, juror, policy.Action.SCORE, assignment, now, viewer)
    _check_open(round_, now)
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
    review = _lock_assignment(session, assignment)
    _require(session, juror, policy.Action.REOPEN_REVIEW, assignment, now, viewer)
    if round_is_closed(round_, now):
        raise RoundClosed(round_)
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
    _lock_assignment(session, assignment)  # a save of its review in another tab waits
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
            # Authors name people: hidden in a blind round whatever the question says.
            formbuilder.field_name(f) for f in fields
            if f.is_identifying or f.type == FieldType.AUTHORS}
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


@dataclass(frozen=True)
class Row:
    """One line of the juror's list: what the dashboard shows of an assignment, read as plain
    values (a juror's 250 lines cost one query and no ORM objects)."""

    id: int  # the assignment's
    round_id: int
    nomination_id: int
    category_id: int
    title: str  # the reference, and the nominee when the round shows identities to the juror
    state: str
    total: float | None
    work: str = ""  # the work's title (jury.titles), "" when none or hidden from the juror


@dataclass
class RoundGroup:
    round: Round
    items: list[Row] = field(default_factory=list)  # after the filters
    submitted: int = 0  # progress counts every assignment, whatever the filters
    total: int = 0
    is_open: bool = False
    is_closed: bool = False


def _my_assignments_query(person: Person, *columns):
    """The juror's assignments they may open, in the dashboard's order: soonest-closing round
    first (a round without a closing date last, on both databases), then by reference. Never
    an entry they are in conflict with (declared, recorded or found), the same rule as the
    entry's page."""
    seat = exists().where(JuryMember.panel_id == Round.panel_id,
                          JuryMember.user_id == person.id, JuryMember.status == JurorStatus.ACTIVE)
    return (
        select(*(columns or (Assignment,))).select_from(Assignment)
        .join(Assignment.round).join(Assignment.nomination)
        .where(Assignment.juror_id == person.id, Assignment.status == AssignmentStatus.ACTIVE,
               Round.kind == RoundKind.SCORING, Round.status != RoundStatus.DRAFT,
               Nomination.status != NominationStatus.WITHDRAWN, seat,
               ~conflict_condition(person))
        .order_by(Round.closes_at.is_(None), Round.closes_at, Round.id, Nomination.reference,
                  Nomination.id)
    )


# A juror opens page after page: their two statements are built once (per worker) and reused;
# building such a statement costs about as much as running it.
@lru_cache(maxsize=256)
def _rows_statement(person: Person):
    return (_my_assignments_query(
        person, Assignment.id, Assignment.round_id, Assignment.nomination_id,
        Nomination.category_id, Nomination.reference, Nomination.nominee_name,
        Review.status, Review.total)
        .outerjoin(Review, Review.assignment_id == Assignment.id))


@lru_cache(maxsize=256)
def _next_statement(person: Person, by_category: bool, excluding: bool):
    now = bindparam("now")
    query = (
        _my_assignments_query(person, Assignment.id).join(Round.call)
        .outerjoin(Review, Review.assignment_id == Assignment.id)
        .where(Round.status == RoundStatus.OPEN,
               or_(Round.opens_at.is_(None), Round.opens_at <= now),
               or_(Round.closes_at.is_(None), Round.closes_at >= now),
               Call.status.not_in(policy.FROZEN_PHASES),
               or_(Review.id.is_(None), Review.status != ReviewStatus.SUBMITTED))
    )
    if by_category:
        query = query.where(Nomination.category_id == bindparam("category_id"))
    if excluding:
        query = query.where(Assignment.id != bindparam("exclude"))
    # Drafts first: the dashboard's order comes after.
    return query.order_by(None).order_by(
        Review.id.is_(None), Round.closes_at.is_(None), Round.closes_at, Round.id,
        Nomination.reference, Nomination.id).limit(1)


def my_assignments(*, session: Session, user) -> list[Assignment]:
    """Every assignment the juror may open, soonest-closing round first, with its review,
    round, call, entry and category (one query each, whatever the number of assignments)."""
    return list(session.scalars(
        _my_assignments_query(Person.of(user))
        .options(selectinload(Assignment.review),
                 selectinload(Assignment.round).selectinload(Round.call),
                 selectinload(Assignment.nomination).selectinload(Nomination.category))
    ))


def open_for_scoring(round_: Round, now: datetime) -> bool:
    """Between its dates, not closed, the call not frozen: where "Next unscored entry" leads."""
    return round_.is_open_at(now) and not round_is_closed(round_, now)


@dataclass
class Dashboard:
    """The juror's list as read once; the filters, the progress and the next entry are taken
    from it."""

    rows: list[Row]
    rounds: dict[int, Round]
    now: datetime

    @property
    def categories(self) -> list[Category]:
        """The categories of the calls the juror judges, for the filter."""
        found: dict[int, Category] = {}
        for call in {r.call_id: r.call for r in self.rounds.values()}.values():
            for category in call.categories:
                found[category.id] = category
        return list(found.values())

    def groups(self, *, category_id: int | None = None,
               state: str | None = None) -> list[RoundGroup]:
        groups: dict[int, RoundGroup] = {}
        for row in self.rows:
            group = groups.get(row.round_id)
            if group is None:
                round_ = self.rounds[row.round_id]
                group = groups[row.round_id] = RoundGroup(
                    round_, is_open=round_.is_open_at(self.now),
                    is_closed=round_is_closed(round_, self.now))
            group.total += 1
            group.submitted += row.state == SUBMITTED
            if category_id is not None and row.category_id != category_id:
                continue
            if state is not None and row.state != state:
                continue
            group.items.append(row)
        return list(groups.values())

    @property
    def all_done(self) -> bool:
        """Something to score in a round open now, and every review of it submitted."""
        open_rows = [row for row in self.rows
                     if open_for_scoring(self.rounds[row.round_id], self.now)]
        return bool(open_rows) and all(row.state == SUBMITTED for row in open_rows)

    def next_unscored(self, *, category_id: int | None = None) -> int | None:
        """As :func:`next_unscored` answers it from the database."""
        candidates = [row for row in self.rows
                      if open_for_scoring(self.rounds[row.round_id], self.now)
                      and row.state != SUBMITTED
                      and (category_id is None or row.category_id == category_id)]
        drafts = [row for row in candidates if row.state == DRAFT]
        first = (drafts or candidates or [None])[0]
        return first.id if first is not None else None


def juror_dashboard(*, session: Session, user, now: datetime) -> Dashboard:
    """The juror's dashboard: every assignment they may open, read once as plain values, and
    the few rounds they belong to with their calls and the calls' categories."""
    lines = session.execute(_rows_statement(Person.of(user))).all()
    round_ids = {line.round_id for line in lines}
    rounds = {r.id: r for r in session.scalars(
        select(Round).where(Round.id.in_(round_ids))
        .options(selectinload(Round.call).selectinload(Call.categories)))} if lines else {}
    viewer = viewer_for(session, user)
    identity = {i: policy.shows_identity(viewer, r) for i, r in rounds.items()}
    blind_entries = {line.nomination_id for line in lines if not identity[line.round_id]}
    works = work_titles(session, (line.nomination_id for line in lines),
                        {line.nomination_id: line.nomination_id not in blind_entries
                         for line in lines})
    rows = []
    for line in lines:
        title = line.reference or f"#{line.nomination_id}"
        if identity[line.round_id] and line.nominee_name:
            title += f" — {line.nominee_name}"
        state = (TODO if line.status is None
                 else SUBMITTED if line.status == ReviewStatus.SUBMITTED else DRAFT)
        rows.append(Row(id=line.id, round_id=line.round_id, nomination_id=line.nomination_id,
                        category_id=line.category_id, title=title, state=state,
                        total=line.total, work=works.get(line.nomination_id, "")))
    if rows:
        remember_juror()
    return Dashboard(rows, rounds, now)


def next_unscored(*, session: Session, user, now: datetime, category_id: int | None = None,
                  exclude: int | None = None) -> int | None:
    """The assignment id of the first entry not yet submitted in a round open for scoring now:
    drafts before untouched ones, in the dashboard's order. One query (``LIMIT 1``), whatever
    the juror's load; ``exclude`` leaves out the entry the juror is looking at."""
    statement = _next_statement(Person.of(user), category_id is not None, exclude is not None)
    return session.scalar(statement, {"now": now, "category_id": category_id,
                                      "exclude": exclude})


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
