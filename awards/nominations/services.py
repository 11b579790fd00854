"""Nominations: start, save, upload, submit (reference, version, e-mails), edit after submit,
withdraw, and the nominee's consent.

Every function takes keyword-only arguments, flushes, audits, and leaves the commit to the
caller. Each of the applicant's actions is one function that the page and the API both call
(``save_nomination``, ``submit_nomination``, ``withdraw_nomination``): it takes the
nomination's lock first (``lock_nomination``: it serialises concurrent requests on one
nomination, two tabs or a double click, and reloads its state, so every check reads what is
really stored), then asks the policy, then does the work.

Lock order, the same on every path, so two transactions never wait for each other in a
circle: the nomination's row, then the audit chain (taken by the first ``audit.record``), then
the call's reference counter (only in ``submit_nomination``, after ``change_status`` has
recorded its audit event).

The form's rules live in ``nominations.fields``, the read-only helpers in
``nominations.reading``, the writing of answers and files in ``nominations.storing`` (the few
names the pages read through this module are imported here)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import text, update
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from awards import audit, policy
from awards.calls.models import Call, Category
from awards.db import utcnow
from awards.enums import NominationStatus, NominatorKind
from awards.mail import queue_mail
from awards.nominations.authors import authors_at_version
from awards.nominations.fields import NOMINEE_COLUMNS as NOMINEE_COLUMNS
from awards.nominations.fields import fields_for as fields_for
from awards.nominations.fields import missing_fields
from awards.nominations.fields import nominee_rules as nominee_rules
from awards.nominations.fields import question_fields as question_fields
from awards.nominations.lifecycle import change_status
from awards.nominations.models import (
    Nomination,
    NominationVersion,
    ReferenceCounter,
    StatusChange,
)
from awards.nominations.reading import awaiting_nominee_consent as awaiting_nominee_consent
from awards.nominations.reading import consent_token_hash, snapshot
from awards.nominations.reading import find_by_consent_token as find_by_consent_token
from awards.nominations.reading import nominations_of as nominations_of
from awards.nominations.reading import timeline as timeline
from awards.nominations.storing import SaveResult as SaveResult
from awards.nominations.storing import delete_files_of as delete_files_of
from awards.nominations.storing import discard_stored as discard_stored
from awards.nominations.storing import store_changes
from awards.urls import external_url

# A nomination can be withdrawn by its applicant until it is ruled out (or already withdrawn).
WITHDRAWABLE = frozenset({NominationStatus.DRAFT, NominationStatus.SUBMITTED,
                          NominationStatus.CHANGES_REQUESTED, NominationStatus.ELIGIBLE})


class NominationError(Exception):
    """A refusal the user must be told about (the view chooses the words)."""

    def __init__(self, message: str = ""):
        super().__init__(message)
        self.message = message


class CallNotOpen(NominationError):
    pass


class DeadlinePassed(NominationError):
    def __init__(self, closes_at: datetime):
        super().__init__("deadline passed")
        self.closes_at = closes_at


class NotEditable(NominationError):
    pass


class AlreadySubmitted(NominationError):
    pass


class Incomplete(NominationError):
    """Lists what is missing: nominee columns by name, questions by key."""

    def __init__(self, missing: list[str]):
        super().__init__("incomplete")
        self.missing = missing


# ---- locking ----------------------------------------------------------------------------------


def lock_nomination(*, session: Session, nomination: Nomination) -> Nomination:
    """Make this transaction the only one changing ``nomination`` until it ends, and reload it.

    PostgreSQL: a row lock (SELECT ... FOR UPDATE). SQLite: the database's single write lock,
    taken by a write that changes nothing (a plain read would not wait for the other writer)."""
    session.expire_all()
    if session.get_bind().dialect.name == "postgresql":
        session.refresh(nomination, with_for_update=True)
    else:
        session.execute(text("UPDATE nominations SET id = id WHERE id = :id"),
                        {"id": nomination.id})
        session.refresh(nomination)
    return nomination


# ---- starting and saving ----------------------------------------------------------------------


def start_nomination(*, session: Session, call: Call, category: Category, nominator_kind: str,
                     applicant, now: datetime | None = None) -> Nomination:
    now = now or utcnow()
    if not call.is_open_at(now):
        if call.has_closed_at(now):
            raise DeadlinePassed(call.closes_at)
        raise CallNotOpen("call not open")
    if category.call_id != call.id:
        raise NominationError("category of another call")
    if not call.accepts_nominator(nominator_kind):
        raise NominationError("nominator kind not allowed")
    kind = NominatorKind(nominator_kind)
    nomination = Nomination(
        call=call, category=category, applicant_id=applicant.id, nominator_kind=kind,
        status=NominationStatus.DRAFT,
        nominee_consent_required=bool(call.requires_nominee_consent),
    )
    if kind == NominatorKind.SELF:
        nomination.nominee_name = applicant.full_name or ""
        nomination.nominee_email = applicant.email
        nomination.nominee_phone = applicant.phone or ""
    elif kind == NominatorKind.ORGANISATION:
        nomination.organisation_name = applicant.organisation or ""
    session.add(nomination)
    session.flush()
    audit.record(session, action="nomination.create", object_type="nomination",
                 object_id=nomination.id, actor=applicant, call_id=call.id,
                 after={"category": category.code, "nominator_kind": kind.value})
    return nomination


def check_editable(nomination: Nomination, now: datetime) -> None:
    """Raise unless the applicant may change the nomination now."""
    if nomination.is_editable_at(now):
        return
    if (nomination.status in (NominationStatus.DRAFT, NominationStatus.SUBMITTED)
            and nomination.anonymised_at is None and nomination.call.has_closed_at(now)):
        raise DeadlinePassed(nomination.call.closes_at)
    raise NotEditable("not editable")


# ---- submitting ------------------------------------------------------------------------------


def next_reference(*, session: Session, call: Call) -> str:
    """The call's next reference, e.g. VOY-2026-00042.

    One UPDATE ... RETURNING increments and reads the counter, so the row stays locked until
    the transaction ends and no two transactions ever read the same number (PostgreSQL row
    lock; SQLite's single writer). The counter row is created on the first use."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    session.execute(insert(ReferenceCounter).values(call_id=call.id, last_number=0)
                    .on_conflict_do_nothing(index_elements=["call_id"]))
    number = session.execute(
        update(ReferenceCounter).where(ReferenceCounter.call_id == call.id)
        .values(last_number=ReferenceCounter.last_number + 1)
        .returning(ReferenceCounter.last_number),
        execution_options={"synchronize_session": False},
    ).scalar_one()
    return f"{call.reference_prefix}-{call.year}-{number:05d}"


def _add_version(session: Session, nomination: Nomination, actor, **extra) -> NominationVersion:
    number = max((v.number for v in nomination.versions), default=0) + 1
    version = NominationVersion(number=number, author_id=getattr(actor, "id", None),
                                snapshot=snapshot(nomination, version=number, **extra))
    nomination.versions.append(version)
    authors_at_version(session=session, nomination=nomination, actor=actor)  # and flushes
    return version


def _submit(*, session: Session, nomination: Nomination, actor, personal_data_consent: bool,
            now: datetime) -> NominationVersion:
    """First submission (a draft) or resubmission after a request for changes.

    The deadline is checked here, at the moment of submitting; a request for changes may be
    answered after it. Gives the reference on first submission, snapshots a version, and
    mails the applicant (and, for someone else nominated, the nominee's consent request).
    The caller has locked the nomination and asked the policy (``submit_nomination``)."""
    if not personal_data_consent:
        raise Incomplete(["personal_data_consent"])
    missing = missing_fields(nomination)
    if missing:
        raise Incomplete(missing)

    first = nomination.status == NominationStatus.DRAFT
    # change_status takes the audit chain's lock; the counter comes after it (module docstring).
    change_status(session=session, nomination=nomination, to_status=NominationStatus.SUBMITTED,
                  actor=actor, action="nomination.submit" if first else "nomination.resubmit")
    if nomination.reference is None:
        nomination.reference = next_reference(session=session, call=nomination.call)
    if nomination.submitted_at is None:
        nomination.submitted_at = now
    nomination.updated_at = now
    if first and nomination.nominator_kind == NominatorKind.SELF:
        # Nominating oneself is one's own consent.
        nomination.nominee_consent_at = now
    version = _add_version(session, nomination, actor, personal_data_consent=True,
                           submitted_at=now.isoformat())
    applicant = nomination.applicant
    queue_mail(session, to=applicant.email, template="nomination_submitted",
               language=applicant.preferred_language or "ru",
               nomination=nomination, call=nomination.call, version=version, first=first,
               show_url=external_url("nominations.show", nomination_id=nomination.id))
    if first and _needs_consent_request(nomination):
        request_nominee_consent(session=session, nomination=nomination, actor=actor)
    return version


def _needs_consent_request(nomination: Nomination) -> bool:
    return (nomination.nominator_kind != NominatorKind.SELF and bool(nomination.nominee_email)
            and nomination.nominee_email.lower() != (nomination.applicant.email or "").lower())


def _record_edit(*, session: Session, nomination: Nomination, actor, result: SaveResult,
                 now: datetime) -> NominationVersion | None:
    """After a saved change to a submitted nomination: a new version when anything changed.
    The status stays as it is. A changed nominee e-mail asks the new address for consent."""
    if not (result.changed or result.files_changed):
        return None
    missing = missing_fields(nomination)
    if missing:
        raise Incomplete(missing)
    version = _add_version(session, nomination, actor, edited_at=now.isoformat())
    if "nominee.nominee_email" in result.changed and _needs_consent_request(nomination):
        nomination.nominee_consent_at = None
        nomination.nominee_declined_at = None
        request_nominee_consent(session=session, nomination=nomination, actor=actor)
    return version


def _withdraw(*, session: Session, nomination: Nomination, actor, reason: str,
              now: datetime) -> StatusChange:
    was_submitted = nomination.is_submitted
    change = change_status(session=session, nomination=nomination,
                           to_status=NominationStatus.WITHDRAWN, actor=actor,
                           reason=reason.strip(), action="nomination.withdraw")
    nomination.withdrawn_at = now
    nomination.updated_at = now
    session.flush()
    if was_submitted:
        applicant = nomination.applicant
        queue_mail(session, to=applicant.email, template="nomination_withdrawn",
                   language=applicant.preferred_language or "ru", nomination=nomination,
                   call=nomination.call, reason=change.reason)
    return change


# ---- the applicant's actions: one function each, for the page and the API ---------------------
#
# Each takes the nomination's lock, asks the policy, validates, writes, versions, audits and
# queues the mail; it returns what happened or raises a ``NominationError``. The page and the
# API only read their input (through ``read``, a callable that checks the posted values with
# the page's form and returns ``Changes``) and translate the outcome.


@dataclass
class Changes:
    """What a request asks to change, read by the caller's form, which checked each value's
    type: parsed answers by question id, nominee details, files to add and to remove.
    ``errors``: the form found something wrong in what was posted (it keeps the messages)."""

    answers: dict[int, Any] = field(default_factory=dict)
    nominee: dict[str, str] = field(default_factory=dict)
    uploads: dict[int, list[FileStorage]] = field(default_factory=dict)
    remove_ids: list[int] = field(default_factory=list)
    errors: bool = False


# Called once the mode is known: complete=True when every required answer must be valid
# (submitting, or editing a nomination already submitted).
ReadChanges = Callable[[bool], Changes]


@dataclass
class Outcome:
    """What a save or a submission did. ``mode`` is the form's mode when the request came:
    "draft" (Save draft + Submit), "changes" (changes requested: Save + Resubmit) or
    "submitted" (Save changes only)."""

    mode: str
    saved: SaveResult = field(default_factory=SaveResult)
    missing: list[str] = field(default_factory=list)
    # The version made by this request: the submission's, or a new one of an edit.
    version: NominationVersion | None = None
    submitted: bool = False
    form_errors: bool = False

    @property
    def has_errors(self) -> bool:
        return bool(self.form_errors or self.saved.upload_errors or self.missing)


class Invalid(NominationError):
    """A nomination already submitted changes all at once or not at all: what was sent
    cannot be stored. ``saved`` holds the files written meanwhile (``stored_names``, to be
    discarded after the rollback) and their errors; ``missing`` the required answers."""

    def __init__(self, saved: SaveResult | None = None, missing: list[str] | None = None):
        super().__init__("invalid")
        self.saved = saved or SaveResult()
        self.missing = missing or []


class Refused(NominationError):
    """The rulebook said no: ``status`` (404: must not know it exists; 403; 409: not in this
    phase, or not after a decision) and the reason to show."""

    def __init__(self, decision: policy.Decision):
        super().__init__(decision.reason)
        self.status = decision.status
        self.rule = decision.rule


def form_mode(nomination: Nomination) -> str:
    if nomination.status == NominationStatus.DRAFT:
        return "draft"
    if nomination.status == NominationStatus.CHANGES_REQUESTED:
        return "changes"
    return "submitted"


def check_may_edit(viewer: policy.Viewer, nomination: Nomination, now: datetime) -> None:
    """Raise unless ``viewer`` may change ``nomination`` now (the edit page asks it too)."""
    decision = policy.allows(viewer, policy.Action.EDIT_NOMINATION, nomination, now=now)
    if decision.ok:
        return
    if decision.rule == "nomination_editable":
        check_editable(nomination, now)  # the particular refusal: deadline, withdrawn...
    raise Refused(decision)


def save_nomination(*, session: Session, viewer: policy.Viewer, nomination: Nomination,
                    read: ReadChanges, now: datetime | None = None) -> Outcome:
    """Save (a draft, or after a request for changes) or edit a submitted nomination.

    A draft keeps what is valid even when something else is not, files included; the outcome
    reports the rest. A nomination already submitted changes all at once or not at all and
    must stay complete (``Invalid`` otherwise: the caller rolls back); each change is a new
    version, audited as ``nomination.edit``."""
    now = now or utcnow()
    actor = viewer.user
    lock_nomination(session=session, nomination=nomination)
    check_may_edit(viewer, nomination, now)
    mode = form_mode(nomination)
    if mode != "submitted":
        changes = read(False)
        saved = _store(session, nomination, actor, changes, now)
        return Outcome(mode, saved, form_errors=changes.errors)
    changes = read(True)
    if changes.errors:
        raise Invalid()
    saved = _store(session, nomination, actor, changes, now)
    missing = missing_fields(nomination)
    if saved.upload_errors or missing:
        raise Invalid(saved, missing)
    version = _record_edit(session=session, nomination=nomination, actor=actor, result=saved,
                           now=now)
    return Outcome(mode, saved, version=version)


def _store(session: Session, nomination: Nomination, actor, changes: Changes,
           now: datetime) -> SaveResult:
    return store_changes(session=session, nomination=nomination, actor=actor,
                          answers=changes.answers, nominee=changes.nominee,
                          uploads=changes.uploads, remove_ids=changes.remove_ids, now=now)


def submit_nomination(*, session: Session, viewer: policy.Viewer, nomination: Nomination,
                      personal_data_consent: bool, read: ReadChanges | None = None,
                      now: datetime | None = None) -> Outcome:
    """Submit a draft, or resubmit after a request for changes.

    With ``read`` (the page's form), the posted changes are saved first, as a draft save:
    they are kept even when the submission then fails, and the outcome lists what is missing
    (``submitted`` False). ``AlreadySubmitted`` for a second click or a second tab."""
    now = now or utcnow()
    lock_nomination(session=session, nomination=nomination)
    if (nomination.applicant_id == viewer.id and nomination.is_submitted
            and nomination.status != NominationStatus.CHANGES_REQUESTED):
        raise AlreadySubmitted("already submitted")
    check_may_edit(viewer, nomination, now)
    outcome = Outcome(form_mode(nomination))
    if read is not None:
        changes = read(True)
        outcome.form_errors = changes.errors
        outcome.saved = _store(session, nomination, viewer.user, changes, now)
        outcome.missing = missing_fields(nomination)
        if outcome.has_errors:
            return outcome
    try:
        outcome.version = _submit(session=session, nomination=nomination, actor=viewer.user,
                                  personal_data_consent=personal_data_consent, now=now)
    except Incomplete as exc:
        outcome.missing = exc.missing
        return outcome
    outcome.submitted = True
    return outcome


# Refusals about the nomination's own state (already withdrawn, ruled out), told as before;
# the others (the call's phase, a decision) are the rulebook's.
_STATE_RULES = frozenset({"not_withdrawn_yet", "withdrawable"})


def withdrawal(viewer: policy.Viewer, nomination: Nomination, *, now: datetime
               ) -> policy.Decision:
    """May ``viewer`` withdraw ``nomination`` now, and if not, why: the page shows the reason
    where the button would be, and ``withdraw_nomination`` refuses with it."""
    decision = policy.allows(viewer, policy.Action.WITHDRAW_NOMINATION, nomination, now=now)
    if decision.ok and (nomination.status not in WITHDRAWABLE
                        or nomination.anonymised_at is not None):
        return policy.Decision(False, _l("This nomination has been screened and can no longer "
                                         "be withdrawn."), 409, "withdrawable")
    return decision


def check_may_withdraw(viewer: policy.Viewer, nomination: Nomination, *,
                       now: datetime) -> None:
    decision = withdrawal(viewer, nomination, now=now)
    if decision.ok:
        return
    if decision.rule in _STATE_RULES:
        raise NotEditable("not withdrawable")
    raise Refused(decision)


def withdraw_nomination(*, session: Session, viewer: policy.Viewer, nomination: Nomination,
                        reason: str = "", now: datetime | None = None) -> StatusChange:
    """Withdraw: refused once the call is frozen (results scheduled, published, in
    correction, archived) or while a decision (advance, award) stands on the nomination, so
    a published winner never disappears from the ranking behind the results."""
    now = now or utcnow()
    lock_nomination(session=session, nomination=nomination)
    check_may_withdraw(viewer, nomination, now=now)
    return _withdraw(session=session, nomination=nomination, actor=viewer.user,
                     reason=reason, now=now)


# ---- the nominee's consent --------------------------------------------------------------------


def request_nominee_consent(*, session: Session, nomination: Nomination, actor) -> str:
    """Mail the nominee a link to confirm or decline. Only the token's hash is stored; a new
    request replaces the old link. Returns the token, which exists nowhere else but in the
    e-mail."""
    token = secrets.token_urlsafe(32)
    nomination.nominee_consent_token_hash = consent_token_hash(token)
    applicant = nomination.applicant
    language = (applicant.preferred_language if applicant else None) or "ru"
    queue_mail(session, to=nomination.nominee_email, template="nomination_consent_request",
               language=language, nomination=nomination, call=nomination.call,
               applicant_name=applicant.display_name if applicant else "",
               consent_url=external_url("nominations.consent", token=token))
    audit.record(session, action="nomination.consent_request", object_type="nomination",
                 object_id=nomination.id, actor=actor, call_id=nomination.call_id,
                 after={"nominee_email": nomination.nominee_email})
    session.flush()
    return token


def consent_open(nomination: Nomination) -> bool:
    """The nominee may still answer (or change their answer)."""
    return (nomination.anonymised_at is None and nomination.is_submitted
            and nomination.status not in (NominationStatus.WITHDRAWN,
                                          NominationStatus.INELIGIBLE))


def record_nominee_answer(*, session: Session, nomination: Nomination, accept: bool,
                          now: datetime | None = None) -> bool:
    """The nominee's answer through their link. Returns False when nothing changed (the same
    answer given twice)."""
    now = now or utcnow()
    lock_nomination(session=session, nomination=nomination)
    if not consent_open(nomination):
        raise NotEditable("consent closed")
    if accept and nomination.nominee_consent_at is not None:
        return False
    if not accept and nomination.nominee_declined_at is not None:
        return False
    before = {"consent_at": _iso(nomination.nominee_consent_at),
              "declined_at": _iso(nomination.nominee_declined_at)}
    if accept:
        nomination.nominee_consent_at, nomination.nominee_declined_at = now, None
    else:
        nomination.nominee_consent_at, nomination.nominee_declined_at = None, now
    # The nominee has no account; the log names them by the address the link was sent to.
    audit.record(session, action="nomination.nominee_consent" if accept
                 else "nomination.nominee_decline",
                 object_type="nomination", object_id=nomination.id,
                 actor=_NomineeActor(nomination.nominee_email), call_id=nomination.call_id,
                 before=before, after={"consent_at": _iso(nomination.nominee_consent_at),
                                       "declined_at": _iso(nomination.nominee_declined_at)})
    applicant = nomination.applicant
    if applicant is not None:
        queue_mail(session, to=applicant.email, template="nomination_consent_result",
                   language=applicant.preferred_language or "ru", nomination=nomination,
                   call=nomination.call, accepted=accept,
                   show_url=external_url("nominations.show", nomination_id=nomination.id))
    session.flush()
    return True


@dataclass(frozen=True)
class _NomineeActor:
    email: str
    id: None = None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
