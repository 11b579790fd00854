"""Eligibility screening: which submitted nominations a call has, and the administrator's
decision on each (eligible, ineligible, changes requested) with the reason the applicant reads.

Every status change goes through ``nominations.lifecycle.change_status`` (timeline + audit),
and only in the call's screening phase (the policy's ``Action.SCREEN``: not while nominations
are still open, not once the jury is at work). Services flush and never commit; a refusal
raises before anything is written, and the caller rolls back whatever a batch had already
done."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from math import ceil

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from awards import policy
from awards.auth.models import User
from awards.boundary import whole_number
from awards.calls.models import Call
from awards.db import utcnow
from awards.enums import CallStatus, NominationStatus
from awards.i18n import localized
from awards.mail import queue_mail
from awards.nominations.lifecycle import change_status
from awards.nominations.models import Answer, Nomination, StatusChange
from awards.urls import external_url

PER_PAGE = 50

DECISIONS = (
    NominationStatus.ELIGIBLE,
    NominationStatus.INELIGIBLE,
    NominationStatus.CHANGES_REQUESTED,
)
# The applicant must be told why an entry is refused or sent back; "eligible" needs no reason.
REASON_REQUIRED = frozenset({NominationStatus.INELIGIBLE, NominationStatus.CHANGES_REQUESTED})
# A decision already taken may be replaced by another one (re-screening). An entry sent back for
# changes waits for the applicant to resubmit it; drafts and withdrawn entries are not screened.
SCREENABLE_FROM = frozenset(
    {NominationStatus.SUBMITTED, NominationStatus.ELIGIBLE, NominationStatus.INELIGIBLE}
)
# What the screening list can show: everything but drafts, which are the applicant's own.
LISTED_STATUSES = (
    NominationStatus.SUBMITTED,
    NominationStatus.ELIGIBLE,
    NominationStatus.INELIGIBLE,
    NominationStatus.CHANGES_REQUESTED,
    NominationStatus.WITHDRAWN,
)
SCREENED_STATUSES = frozenset(DECISIONS)
# Withdrawn entries leave the denominator of the progress bar: nobody has to screen them.
TO_SCREEN_STATUSES = frozenset({NominationStatus.SUBMITTED, *SCREENED_STATUSES})


# ---- refusals -------------------------------------------------------------------------------


class ScreeningRefused(Exception):
    """A decision that cannot be taken; ``message`` is translated and shown as is."""

    status_code = 409

    def __init__(self, message, nomination: Nomination | None = None):
        # Kept lazy: translated when shown, in the language of whoever reads it.
        super().__init__(message)
        self.message = message
        self.nomination = nomination


class NotScreenable(ScreeningRefused):
    pass


class AlreadyDecided(ScreeningRefused):
    pass


class ConsentMissing(ScreeningRefused):
    pass


class StaleNomination(ScreeningRefused):
    pass


class ReasonRequired(ScreeningRefused):
    status_code = 400


class BatchRefused(ScreeningRefused):
    """At least one entry of a batch was refused, so none was changed."""

    def __init__(self, problems: list[ScreeningRefused]):
        super().__init__(_l("Nothing was changed: %(count)d of the selected nominations cannot "
                            "take this decision.", count=len(problems)))
        self.problems = problems
        # A missing reason concerns the whole batch (one form field), not an entry.
        if problems and all(p.status_code == 400 for p in problems):
            self.status_code = 400


STATUS_LABELS = {
    NominationStatus.DRAFT: _l("draft"),
    NominationStatus.SUBMITTED: lazy_pgettext("nomination", "submitted"),
    NominationStatus.ELIGIBLE: _l("eligible"),
    NominationStatus.INELIGIBLE: _l("ineligible"),
    NominationStatus.CHANGES_REQUESTED: _l("changes requested"),
    NominationStatus.WITHDRAWN: _l("withdrawn"),
}


def _label(nomination: Nomination) -> str:
    return nomination.reference or f"#{nomination.id}"


def check_decision(
    *, nomination: Nomination, decision: NominationStatus, reason: str,
    expected_version: int | None,
) -> None:
    """Raise the refusal this decision meets, if any; changes nothing."""
    if decision not in DECISIONS:
        raise NotScreenable(_l("Unknown decision."), nomination)
    if expected_version is not None and nomination.version_id != expected_version:
        raise StaleNomination(
            _l("%(ref)s was changed by someone else (another administrator or the applicant) "
               "after you opened it. Nothing was saved: review the current state and decide "
               "again.", ref=_label(nomination)),
            nomination,
        )
    if nomination.status == NominationStatus.DRAFT or not nomination.submitted_at:
        raise NotScreenable(
            _l("%(ref)s is a draft: it has not been submitted and cannot be screened.",
               ref=_label(nomination)), nomination)
    if nomination.status == NominationStatus.WITHDRAWN:
        raise NotScreenable(
            _l("%(ref)s was withdrawn by the applicant and cannot be screened.",
               ref=_label(nomination)), nomination)
    if nomination.status == NominationStatus.CHANGES_REQUESTED:
        raise NotScreenable(
            _l("%(ref)s is waiting for the applicant's changes; it can be screened again once "
               "it is resubmitted.", ref=_label(nomination)), nomination)
    if nomination.status == decision:
        raise AlreadyDecided(
            _l("%(ref)s is already marked “%(status)s”.", ref=_label(nomination),
               status=STATUS_LABELS[decision]), nomination)
    if decision in REASON_REQUIRED and not reason.strip():
        raise ReasonRequired(
            _l("Give the applicant a reason for this decision."), nomination)
    if decision == NominationStatus.ELIGIBLE and not nomination.has_nominee_consent:
        raise ConsentMissing(
            _l("%(ref)s cannot be marked eligible: this call requires the nominee's consent, "
               "and the nominee has not given it.", ref=_label(nomination)), nomination)


def may_screen(*, session: Session, call: Call, actor: User, viewer=None,
               now=None) -> policy.Decision:
    """Whether screening decisions may be taken on ``call`` now (and why not)."""
    viewer = viewer if viewer is not None else policy.Viewer(session, actor)
    return policy.allows(viewer, policy.Action.SCREEN, call, now=now or utcnow())


def _require_screening(*, session: Session, call: Call, actor: User, viewer=None,
                       now=None) -> None:
    viewer = viewer if viewer is not None else policy.Viewer(session, actor)
    policy.require(viewer, policy.Action.SCREEN, call, now=now or utcnow())


def decide(
    *,
    session: Session,
    nomination: Nomination,
    decision: NominationStatus,
    actor: User,
    reason: str = "",
    note: str = "",
    expected_version: int | None = None,
    viewer=None,
    now=None,
) -> StatusChange:
    """Record a screening decision: status, the reason on the applicant's timeline and in an
    e-mail in their language, and optionally an internal note only administrators see.

    ``expected_version`` is the ``version_id`` the administrator's page was built from; a
    different current version means someone changed the entry meanwhile. Outside the call's
    screening phase the policy refuses (``policy.Forbidden``, 409) before anything changes."""
    reason = reason.strip()
    note = note.strip()
    _require_screening(session=session, call=nomination.call, actor=actor, viewer=viewer,
                       now=now)
    check_decision(nomination=nomination, decision=decision, reason=reason,
                   expected_version=expected_version)
    label = _label(nomination)  # read now: a failed flush leaves the object unreadable
    try:
        # Set before the status so that the row is written (and its version bumped) once.
        nomination.screening_reason = reason
        change = change_status(session=session, nomination=nomination, to_status=decision,
                               actor=actor, reason=reason)
        if note:
            # A timeline entry that changes nothing, hidden from the applicant, so the note
            # sits in the history at the moment it was written.
            change_status(session=session, nomination=nomination, to_status=decision,
                          actor=actor, reason=note, visible_to_applicant=False,
                          action="nomination.internal_note")
        session.flush()
    except StaleDataError as exc:
        # Another transaction committed a change to this row after we read it.
        raise StaleNomination(
            _l("%(ref)s was changed by someone else while you were deciding. Nothing was "
               "saved: review the current state and decide again.", ref=label),
        ) from exc
    _mail_applicant(session=session, nomination=nomination, decision=decision, reason=reason)
    return change


def _mail_applicant(*, session: Session, nomination: Nomination, decision: NominationStatus,
                    reason: str) -> None:
    applicant = nomination.applicant
    if applicant is None or applicant.deleted_at is not None:
        return  # the account was erased: nobody to write to
    language = applicant.preferred_language or current_app.config["BABEL_DEFAULT_LOCALE"]
    queue_mail(
        session,
        to=applicant.email,
        template=f"screening_{decision.value}",
        language=language,
        name=applicant.display_name,
        reference=_label(nomination),
        call_title=localized(nomination.call, "title", language),
        nominee=nomination.nominee_name or nomination.organisation_name,
        reason=reason,
        url=_applicant_page(nomination),
    )


def _applicant_page(nomination: Nomination) -> str:
    """The applicant's page of the entry, served by the nominations feature."""
    if "nominations.show" in current_app.view_functions:
        return external_url("nominations.show", nomination_id=nomination.id)
    return current_app.config["BASE_URL"].rstrip("/") + f"/nominations/{nomination.id}"


def decide_many(
    *,
    session: Session,
    call: Call,
    items: Sequence[tuple[int, int | None]],
    decision: NominationStatus,
    actor: User,
    reason: str = "",
    viewer=None,
    now=None,
) -> list[StatusChange]:
    """Apply one decision to several entries of ``call``: all of them or none.

    ``items`` are (nomination id, version the page showed). Every entry is checked before the
    first is changed; ``BatchRefused`` lists each refusal. Outside the screening phase the
    policy refuses the whole batch (``policy.Forbidden``)."""
    viewer = viewer if viewer is not None else policy.Viewer(session, actor)
    now = now or utcnow()
    _require_screening(session=session, call=call, actor=actor, viewer=viewer, now=now)
    ids = [nomination_id for nomination_id, _version in items]
    nominations = {
        n.id: n for n in session.scalars(
            select(Nomination)
            .where(Nomination.id.in_(ids), Nomination.call_id == call.id)
            .options(joinedload(Nomination.applicant), joinedload(Nomination.call))
        )
    }
    problems: list[ScreeningRefused] = []
    for nomination_id, version in items:
        nomination = nominations.get(nomination_id)
        if nomination is None:
            problems.append(NotScreenable(
                _l("Nomination #%(id)d is not part of this call.", id=nomination_id)))
            continue
        try:
            check_decision(nomination=nomination, decision=decision, reason=reason,
                           expected_version=version)
        except ScreeningRefused as refusal:
            problems.append(refusal)
    if not items:
        problems.append(NotScreenable(_l("Select at least one nomination.")))
    if problems:
        raise BatchRefused(problems)
    return [
        decide(session=session, nomination=nominations[nomination_id], decision=decision,
               actor=actor, reason=reason, expected_version=version, viewer=viewer, now=now)
        for nomination_id, version in items
    ]


# ---- reading --------------------------------------------------------------------------------


@dataclass
class CallProgress:
    call: Call
    counts: dict[NominationStatus, int]

    @property
    def to_screen(self) -> int:
        return sum(self.counts.get(status, 0) for status in TO_SCREEN_STATUSES)

    @property
    def screened(self) -> int:
        return sum(self.counts.get(status, 0) for status in SCREENED_STATUSES)

    @property
    def waiting(self) -> int:
        return self.counts.get(NominationStatus.SUBMITTED, 0)


def screening_overview(*, session: Session) -> list[CallProgress]:
    """Every call past its draft stage with its entries counted by status (two queries)."""
    calls = session.scalars(
        select(Call).where(Call.status != CallStatus.DRAFT)
        .order_by(Call.year.desc(), Call.id.desc())
    ).all()
    counts: dict[int, dict[NominationStatus, int]] = {call.id: {} for call in calls}
    rows = session.execute(
        select(Nomination.call_id, Nomination.status, func.count())
        .where(Nomination.status != NominationStatus.DRAFT)
        .group_by(Nomination.call_id, Nomination.status)
    )
    for call_id, status, count in rows:
        if call_id in counts:
            counts[call_id][status] = count
    return [CallProgress(call, counts[call.id]) for call in calls]


@dataclass
class Page:
    items: list[Nomination]
    total: int
    page: int
    per_page: int
    counts: dict[NominationStatus, int] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def _like_pattern(term: str) -> str:
    escaped = term.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return f"%{escaped}%"


def _case_variants(term: str) -> set[str]:
    # SQLite's lower()/LIKE fold ASCII only; trying the usual spellings lets "алия" find
    # "Алия" and "АЛИЯ" on every backend without a database extension.
    return {term, term.lower(), term.upper(), term.capitalize(), term.title()}


def _json_spellings(term: str) -> set[str]:
    # Answers are JSON; its text escapes non-ASCII letters (\u0410) unless the serializer was
    # told otherwise, so the term is looked for in both spellings.
    escaped = json.dumps(term)[1:-1]
    return {term, escaped}


def search_condition(q: str):
    """Matches reference, nominee, organisation, applicant name or e-mail, or answer text."""
    term = " ".join(q.split())
    if not term:
        return None
    variants = _case_variants(term)
    columns = (
        Nomination.reference, Nomination.nominee_name, Nomination.nominee_email,
        Nomination.organisation_name, User.full_name, User.email, User.organisation,
    )
    conditions = [
        column.ilike(_like_pattern(variant), escape="/")
        for column in columns for variant in variants
    ]
    answer_text = cast(Answer.value, String)
    answer_patterns = {spelling for variant in variants for spelling in _json_spellings(variant)}
    conditions.append(
        Nomination.id.in_(
            select(Answer.nomination_id).where(
                or_(*(answer_text.ilike(_like_pattern(p), escape="/") for p in answer_patterns))
            )
        )
    )
    return or_(*conditions)


def list_nominations(
    *,
    session: Session,
    call: Call,
    category_id: int | None = None,
    status: NominationStatus | None = None,
    q: str = "",
    page: int = 1,
    per_page: int = PER_PAGE,
) -> Page:
    """One page of the call's submitted entries (never drafts), newest submission last.

    Three queries whatever the page holds: the status counts, the total and the page itself
    with category and applicant joined in."""
    base = (
        select(Nomination)
        .outerjoin(User, Nomination.applicant_id == User.id)
        .where(Nomination.call_id == call.id, Nomination.status.in_(LISTED_STATUSES))
    )
    if category_id is not None:
        base = base.where(Nomination.category_id == category_id)
    condition = search_condition(q)
    if condition is not None:
        base = base.where(condition)
    filtered = base
    if status is not None:
        filtered = base.where(Nomination.status == status)

    # Counts per status ignore the status filter, so the filter shows what each choice holds.
    counts = dict(session.execute(
        base.with_only_columns(Nomination.status, func.count()).group_by(Nomination.status)
    ).all())
    total = sum(counts.get(s, 0) for s in ([status] if status is not None else LISTED_STATUSES))
    pages = max(1, ceil(total / per_page))
    page = min(max(1, page), pages)
    items = session.scalars(
        filtered.options(
            joinedload(Nomination.category),
            joinedload(Nomination.applicant),
        )
        .order_by(Nomination.submitted_at, Nomination.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).unique().all()
    return Page(list(items), total, page, per_page, counts)


def get_call(*, session: Session, call_id: int) -> Call | None:
    return session.scalars(
        select(Call).where(Call.id == call_id).options(selectinload(Call.categories))
    ).first()


def get_nomination(*, session: Session, nomination_id: int) -> Nomination | None:
    """An entry with everything the screening page shows, loaded up front."""
    return session.scalars(
        select(Nomination)
        .where(Nomination.id == nomination_id)
        .options(
            joinedload(Nomination.call),
            joinedload(Nomination.category),
            joinedload(Nomination.applicant),
            selectinload(Nomination.answers).joinedload(Answer.field),
            selectinload(Nomination.attachments),
            selectinload(Nomination.status_changes).joinedload(StatusChange.actor),
        )
    ).first()


def ordered_answers(nomination: Nomination) -> list[Answer]:
    return sorted(nomination.answers, key=lambda a: (a.field.position, a.field.id))


def parse_items(values: Iterable[str]) -> list[tuple[int, int | None]]:
    """Checkbox values "<id>:<version>" → (id, version); anything malformed is dropped."""
    items: list[tuple[int, int | None]] = []
    seen: set[int] = set()
    for value in values:
        ident_text, _sep, version_text = str(value).partition(":")
        ident = whole_number(ident_text)
        version = whole_number(version_text) if version_text else None
        if ident is None or (version_text and version is None) or ident in seen:
            continue
        seen.add(ident)
        items.append((ident, version))
    return items

