"""The life of a call as one state machine: its phases (``CallStatus``), the moves between them
(``TRANSITIONS``), what blocks each move (a guard per transition, answering in the admin's
language) and the moves the clock takes by itself.

    draft -open-> open -close-> closed -screen-> screening -public_stage-> public_stage
          -judge-> judging -deliberate-> deliberation -schedule-> results_scheduled
          -(publication time)-> published -correct-> correcting -publish-> published ...
          -archive-> archived

``available`` lists the moves from where a call stands, each with its blockers; ``advance``
takes one (guard, status, audit) or raises ``PhaseBlocked`` with the reasons; ``sync`` brings
the stored phase up to date with the clock (deadline passed, publication time reached),
audited once even when two requests notice at the same moment.

Publishing, scheduling, withdrawing a scheduled version and opening a correction do more than
change the phase (a versioned publication, certificates, e-mails): they are taken by the
results service (``via="results"``), which asks this module for the guard and the move."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from awards import audit
from awards.enums import CallStatus, NominationStatus, RoundStatus
from awards.refusals import Refusal

AUDIT_ACTION = "call.phase_changed"

PHASE_LABELS = {
    CallStatus.DRAFT: _l("Draft"),
    CallStatus.OPEN: _l("Open for nominations"),
    CallStatus.CLOSED: _l("Closed"),
    CallStatus.SCREENING: _l("Screening"),
    CallStatus.PUBLIC_STAGE: _l("Public stage"),
    CallStatus.JUDGING: _l("Judging"),
    CallStatus.DELIBERATION: _l("Deliberation"),
    CallStatus.RESULTS_SCHEDULED: _l("Results scheduled"),
    CallStatus.PUBLISHED: _l("Published"),
    CallStatus.CORRECTING: _l("Correction in progress"),
    CallStatus.ARCHIVED: _l("Archived"),
}

# What each phase means, for the admin's step list.
PHASE_HINTS = {
    CallStatus.DRAFT: _l("Being set up; not public."),
    CallStatus.OPEN: _l("Nominations are accepted until the deadline."),
    CallStatus.CLOSED: _l("The deadline has passed; no more nominations."),
    CallStatus.SCREENING: _l("Each entry is checked for eligibility."),
    CallStatus.PUBLIC_STAGE: _l("The public votes or discusses the shortlisted entries."),
    CallStatus.JUDGING: _l("The jury scores the entries in its rounds."),
    CallStatus.DELIBERATION: _l("The jury has finished; the winners are decided."),
    CallStatus.RESULTS_SCHEDULED: _l("The results go public at the set time; nothing that "
                                     "led to them may change."),
    CallStatus.PUBLISHED: _l("The results are public."),
    CallStatus.CORRECTING: _l("The published version stays public while the decisions are "
                              "corrected."),
    CallStatus.ARCHIVED: _l("Finished; kept for the record."),
}

# What a visitor of the call's page reads about where the call stands (None: nothing to say,
# the page already shows it: the countdown, the results).
PUBLIC_PHASE_TEXT = {
    CallStatus.CLOSED: _l("Nominations for this call are closed."),
    CallStatus.SCREENING: _l("Nominations are closed; the entries are being checked."),
    CallStatus.PUBLIC_STAGE: _l("Nominations are closed; the public stage is under way."),
    CallStatus.JUDGING: _l("Nominations are closed; the jury is at work."),
    CallStatus.DELIBERATION: _l("The jury has finished its work; the results will be "
                                "announced soon."),
    CallStatus.RESULTS_SCHEDULED: _l("The jury has finished its work; the results will be "
                                     "announced soon."),
    CallStatus.CORRECTING: _l("The published results are being corrected; the current "
                              "version stays public until the corrected one is published."),
    CallStatus.ARCHIVED: _l("This call is finished and archived."),
}


class LifecycleError(Refusal):
    """A move refused; ``reasons`` are translated (lazy) strings, ``status`` the HTTP answer."""

    status = 409

    def __init__(self, reasons):
        reasons = list(reasons) if isinstance(reasons, list | tuple) else [reasons]
        super().__init__("; ".join(str(r) for r in reasons))
        self.reasons = reasons
        self.message = reasons[0] if len(reasons) == 1 else _l(
            "This step cannot be taken yet: %(reasons)s",
            reasons="; ".join(str(r) for r in reasons))


class PhaseBlocked(LifecycleError):
    """The move exists from this phase, but something blocks it now."""


class NoSuchMove(LifecycleError):
    """The call cannot make this move from where it stands."""


# ---- the table ---------------------------------------------------------------------------------

TRANSITIONS: dict[CallStatus, dict[str, CallStatus]] = {
    CallStatus.DRAFT: {"open": CallStatus.OPEN, "archive": CallStatus.ARCHIVED},
    CallStatus.OPEN: {"close": CallStatus.CLOSED, "back_to_draft": CallStatus.DRAFT},
    CallStatus.CLOSED: {"screen": CallStatus.SCREENING, "reopen": CallStatus.OPEN},
    CallStatus.SCREENING: {"public_stage": CallStatus.PUBLIC_STAGE,
                           "judge": CallStatus.JUDGING,
                           "back_to_closed": CallStatus.CLOSED},
    CallStatus.PUBLIC_STAGE: {"judge": CallStatus.JUDGING},
    CallStatus.JUDGING: {"deliberate": CallStatus.DELIBERATION},
    CallStatus.DELIBERATION: {"publish": CallStatus.PUBLISHED,
                              "schedule": CallStatus.RESULTS_SCHEDULED,
                              "back_to_judging": CallStatus.JUDGING},
    CallStatus.RESULTS_SCHEDULED: {"go_live": CallStatus.PUBLISHED,
                                   "unschedule": CallStatus.DELIBERATION,
                                   "unschedule_correction": CallStatus.CORRECTING},
    CallStatus.PUBLISHED: {"correct": CallStatus.CORRECTING, "archive": CallStatus.ARCHIVED},
    CallStatus.CORRECTING: {"publish": CallStatus.PUBLISHED,
                            "schedule": CallStatus.RESULTS_SCHEDULED},
    CallStatus.ARCHIVED: {},
}

ACTION_LABELS = {
    "open": _l("Open nominations"),
    "close": _l("Close nominations"),
    "back_to_draft": _l("Back to “Draft”"),
    "screen": _l("Start screening"),
    "reopen": _l("Reopen nominations"),
    "public_stage": _l("Start the public stage"),
    "judge": _l("Start judging"),
    "back_to_closed": _l("Back to “Closed”"),
    "deliberate": _l("End judging and deliberate"),
    "publish": _l("Publish the results"),
    "schedule": _l("Schedule the results"),
    "back_to_judging": _l("Back to “Judging”"),
    "go_live": _l("Results go public"),
    "unschedule": _l("Withdraw the scheduled results"),
    "unschedule_correction": _l("Withdraw the scheduled correction"),
    "correct": _l("Open a correction"),
    "archive": _l("Archive the call"),
}

# Moves that do more than change the phase, taken by another service (or by the clock only).
VIA = {"publish": "results", "schedule": "results", "unschedule": "results",
       "unschedule_correction": "results", "correct": "results", "go_live": "clock"}
# Moves that go through a confirmation page: broad, irreversible or telling many people.
CONFIRM = frozenset({"close", "publish", "schedule", "archive", "back_to_draft"})
# Moves back, shown as secondary buttons after the forward ones.
BACKWARD = frozenset({"back_to_draft", "reopen", "back_to_closed", "back_to_judging",
                      "unschedule", "unschedule_correction", "archive"})


# ---- what the guards look at ------------------------------------------------------------------

def _count_nominations(session: Session, call, *statuses) -> int:
    from awards.nominations.models import Nomination

    query = select(func.count(Nomination.id)).where(Nomination.call_id == call.id)
    if statuses:
        query = query.where(Nomination.status.in_(statuses))
    return session.scalar(query) or 0


def waiting_for_screening(session: Session, call) -> int:
    return _count_nominations(session, call, NominationStatus.SUBMITTED)


def _rounds(session: Session, call) -> list:
    from awards.jury.models import Round

    return list(session.scalars(select(Round).where(Round.call_id == call.id)
                                .order_by(Round.position, Round.id)))


def _public_stage(session: Session, call):
    from awards.public_stage.models import PublicStage

    return session.scalar(select(PublicStage).where(PublicStage.call_id == call.id))


def _screened(session: Session, call) -> list:
    waiting = waiting_for_screening(session, call)
    if not waiting:
        return []
    return [lazy_ngettext("%(num)d submitted nomination is still waiting for screening.",
                          "%(num)d submitted nominations are still waiting for screening.",
                          waiting)]


def _has_rounds(session: Session, call) -> list:
    if _rounds(session, call):
        return []
    return [_l("Set up at least one jury round first (Jury and rounds).")]


def _when(call, value: datetime) -> str:
    from awards.i18n import format_datetime, timezone_words

    return f"{format_datetime(value, tz=call.tz)} ({timezone_words(call.tz, at=value)})"


# ---- the guards: each returns the reasons a move is blocked (empty: it may go) -----------------

def _guard_open(session: Session, call, now: datetime) -> list:
    reasons = []
    if not call.categories:
        reasons.append(_l("Add at least one category before opening the call."))
    if not call.fields:
        reasons.append(_l("Add at least one question to the application form."))
    if call.closes_at <= now:
        reasons.append(_l("The deadline (%(when)s) has passed: move it to a later date in the "
                          "call's settings first.", when=_when(call, call.closes_at)))
    return reasons


def _guard_back_to_draft(session: Session, call, now: datetime) -> list:
    if _count_nominations(session, call):
        return [_l("The call already has nominations, so it cannot go back to draft. "
                   "Close it instead.")]
    return []


def _guard_reopen(session: Session, call, now: datetime) -> list:
    if call.closes_at <= now:
        return [_l("The deadline (%(when)s) has passed: move it to a later date in the call's "
                   "settings first.", when=_when(call, call.closes_at))]
    return []


def _guard_public_stage(session: Session, call, now: datetime) -> list:
    reasons = _screened(session, call)
    if _public_stage(session, call) is None:
        reasons.append(_l("Set up the public stage first (Public stage)."))
    return reasons


def _guard_judge_from_screening(session: Session, call, now: datetime) -> list:
    return _screened(session, call) + _has_rounds(session, call)


def _guard_judge_from_public_stage(session: Session, call, now: datetime) -> list:
    reasons = []
    stage = _public_stage(session, call)
    if stage is not None and stage.closed_at is None:
        reasons.append(_l("Close the public stage first: its outcome chooses the entries that "
                          "go on to the jury."))
    return reasons + _has_rounds(session, call)


def _guard_deliberate(session: Session, call, now: datetime) -> list:
    from awards.i18n import localized

    return [_l("The round “%(name)s” is still open: close it on the jury page first.",
               name=localized(r, "name") or f"#{r.id}")
            for r in _rounds(session, call) if r.status == RoundStatus.OPEN]


def _guard_publish(session: Session, call, now: datetime) -> list:
    # The results page's own checklist, so the page and the move never disagree.
    from awards.results.services import publish_blockers

    return publish_blockers(session, call)


def _none(session: Session, call, now: datetime) -> list:
    return []


Guard = Callable[[Session, object, datetime], list]

GUARDS: dict[tuple[CallStatus, str], Guard] = {
    (CallStatus.DRAFT, "open"): _guard_open,
    (CallStatus.OPEN, "back_to_draft"): _guard_back_to_draft,
    (CallStatus.CLOSED, "reopen"): _guard_reopen,
    (CallStatus.SCREENING, "public_stage"): _guard_public_stage,
    (CallStatus.SCREENING, "judge"): _guard_judge_from_screening,
    (CallStatus.PUBLIC_STAGE, "judge"): _guard_judge_from_public_stage,
    (CallStatus.JUDGING, "deliberate"): _guard_deliberate,
    (CallStatus.DELIBERATION, "publish"): _guard_publish,
    (CallStatus.DELIBERATION, "schedule"): _guard_publish,
    (CallStatus.CORRECTING, "publish"): _guard_publish,
    (CallStatus.CORRECTING, "schedule"): _guard_publish,
}


def _applies(session: Session, call, phase: CallStatus, action: str) -> bool:
    """Moves that make no sense for this call are not offered at all."""
    if action == "public_stage":
        return bool(call.has_public_stage)
    if phase == CallStatus.SCREENING and action == "judge":
        return not call.has_public_stage
    if action in ("unschedule", "unschedule_correction"):
        from awards.results.models import Publication

        earlier = session.scalar(select(func.count(Publication.id)).where(
            Publication.call_id == call.id)) or 0
        # The scheduled version itself is one of them.
        return (earlier > 1) == (action == "unschedule_correction")
    return True


# ---- reading ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Move:
    action: str
    target: CallStatus
    blockers: list
    via: str | None = None

    @property
    def ok(self) -> bool:
        return not self.blockers

    @property
    def label(self):
        return ACTION_LABELS[self.action]

    @property
    def confirm(self) -> bool:
        return self.action in CONFIRM

    @property
    def backward(self) -> bool:
        return self.action in BACKWARD


def blockers(session: Session, call, action: str, now: datetime) -> list:
    phase = CallStatus(call.status)
    if action not in TRANSITIONS[phase] or not _applies(session, call, phase, action):
        return [_l("A call cannot go from “%(phase)s” to this step.",
                   phase=PHASE_LABELS[phase])]
    return list(GUARDS.get((phase, action), _none)(session, call, now))


def available(session: Session, call, now: datetime) -> list[Move]:
    """Every move from the call's phase that applies to it, forward moves first, each with
    what blocks it now."""
    phase = CallStatus(call.status)
    moves = [Move(action, target, list(GUARDS.get((phase, action), _none)(session, call, now)),
                  VIA.get(action))
             for action, target in TRANSITIONS[phase].items()
             if VIA.get(action) != "clock" and _applies(session, call, phase, action)]
    return sorted(moves, key=lambda m: m.backward)


def notes(session: Session, call, action: str, now: datetime) -> list:
    """What the confirmation page says will happen, beyond the blockers."""
    out = []
    if action == "close":
        if now < call.closes_at:
            out.append(_l("The deadline (%(when)s) has not passed yet: nominations stop being "
                          "accepted now, before it.", when=_when(call, call.closes_at)))
        drafts = _count_nominations(session, call, NominationStatus.DRAFT)
        if drafts:
            out.append(lazy_ngettext("%(num)d unfinished draft can no longer be submitted.",
                                     "%(num)d unfinished drafts can no longer be submitted.",
                                     drafts))
        out.append(_l("No e-mail is sent. The call can be reopened while its deadline is "
                      "in the future."))
    elif action == "archive":
        out.append(_l("The call is finished for good: archiving cannot be undone. Its pages "
                      "and published results stay readable."))
    elif action == "back_to_draft":
        out.append(_l("The call's page is no longer public until it is opened again."))
    elif action == "open":
        out.append(_l("The call's page becomes public and nominations are accepted from "
                      "%(opens)s until %(closes)s.", opens=_when(call, call.opens_at),
                      closes=_when(call, call.closes_at)))
    elif action == "deliberate":
        out.append(_l("The jury's rounds stay as they are; the winners are decided on the "
                      "ranking pages."))
    return out


# ---- moving -----------------------------------------------------------------------------------

def _move(session: Session, call, old: CallStatus, new: CallStatus) -> bool:
    """Set the phase if (and only if) it is still ``old``: of two requests or commands noticing
    the same moment, one moves the call and audits; the other finds nothing to do."""
    from awards.calls.models import Call

    session.flush()
    result = session.execute(
        update(Call).where(Call.id == call.id, Call.status == old)
        .values(status=new, version_id=Call.version_id + 1)
        .execution_options(synchronize_session=False))
    session.refresh(call)
    return result.rowcount == 1


def _record(session: Session, call, old: CallStatus, new: CallStatus, action: str, *,
            actor=None, by: str = "admin", reason: str = "") -> None:
    after = {"status": new.value, "transition": action, "by": by}
    if reason:
        after["reason"] = reason
    audit.record(session, action=AUDIT_ACTION, object_type="call", object_id=call.id,
                 call_id=call.id, actor=actor, before={"status": old.value}, after=after)


def advance(*, session: Session, call, action: str, actor, now: datetime, reason: str = "",
            via: str | None = None, check: bool = True) -> CallStatus:
    """Take ``action`` from the call's current phase: run its guard, set the phase, audit.
    Raises ``NoSuchMove`` or ``PhaseBlocked`` (with every reason) and changes nothing then.

    Moves that belong to another service (``VIA``) are only taken when that service says so
    (``via``); ``check=False`` is for a service that ran the guard itself a moment before."""
    old = CallStatus(call.status)
    target = TRANSITIONS[old].get(action)
    if target is None or not _applies(session, call, old, action) \
            or VIA.get(action) not in (None, via):
        if target is not None and VIA.get(action) == "results":
            raise NoSuchMove([_l("This step is taken on the results page.")])
        raise NoSuchMove([_l("A call cannot go from “%(phase)s” to this step.",
                             phase=PHASE_LABELS[old])])
    if check:
        reasons = list(GUARDS.get((old, action), _none)(session, call, now))
        if reasons:
            raise PhaseBlocked(reasons)
    if not _move(session, call, old, target):
        raise NoSuchMove([_l("Someone else moved this call to another phase meanwhile. "
                             "Nothing was done; review the page and try again.")])
    _record(session, call, old, target, action, actor=actor, reason=reason)
    if target == CallStatus.OPEN and old == CallStatus.DRAFT:
        from awards.announcements.services import draft_for_opened_call

        draft_for_opened_call(session=session, call=call, actor=actor)
    return target


def _due_publication(session: Session, call, now: datetime) -> bool:
    """Whether the newest version's publication time has come."""
    from awards.results.models import Publication

    when = session.scalar(select(Publication.scheduled_for).where(
        Publication.call_id == call.id).order_by(Publication.version.desc()).limit(1))
    return when is not None and when <= now


def sync(session: Session, call, now: datetime) -> bool:
    """Bring the stored phase up to date with the clock: an open call whose deadline passed
    is closed; scheduled results whose time came are published. True if the call moved (the
    caller commits). Safe to call on every request: it writes only when a moment passed."""
    moved = False
    phase = CallStatus(call.status)
    if phase == CallStatus.OPEN and call.closes_at < now:
        if _move(session, call, phase, CallStatus.CLOSED):
            _record(session, call, phase, CallStatus.CLOSED, "close", by="clock")
            moved = True
    elif phase == CallStatus.RESULTS_SCHEDULED and _due_publication(session, call, now):
        if _move(session, call, phase, CallStatus.PUBLISHED):
            _record(session, call, phase, CallStatus.PUBLISHED, "go_live", by="clock")
            moved = True
    return moved


def sync_due(session: Session, now: datetime) -> list:
    """``sync`` every call a moment has passed for (the cron command)."""
    from awards.calls.models import Call

    due = select(Call).where(
        ((Call.status == CallStatus.OPEN) & (Call.closes_at < now))
        | (Call.status == CallStatus.RESULTS_SCHEDULED)).order_by(Call.id)
    return [call for call in session.scalars(due).all() if sync(session, call, now)]


# ---- the admin's step list --------------------------------------------------------------------

MAIN_PATH = (CallStatus.DRAFT, CallStatus.OPEN, CallStatus.CLOSED, CallStatus.SCREENING,
             CallStatus.PUBLIC_STAGE, CallStatus.JUDGING, CallStatus.DELIBERATION,
             CallStatus.RESULTS_SCHEDULED, CallStatus.PUBLISHED, CallStatus.CORRECTING,
             CallStatus.ARCHIVED)
# Steps shown only when the call is in them (or, for the public stage, when it has one).
OPTIONAL = frozenset({CallStatus.RESULTS_SCHEDULED, CallStatus.CORRECTING,
                      CallStatus.ARCHIVED})


@dataclass(frozen=True)
class Step:
    phase: CallStatus
    state: str  # "done", "current", "todo"

    @property
    def label(self):
        return PHASE_LABELS[self.phase]

    @property
    def hint(self):
        return PHASE_HINTS[self.phase]


def steps(call) -> list[Step]:
    current = CallStatus(call.status)
    shown = [p for p in MAIN_PATH
             if (p not in OPTIONAL or p == current)
             and (p != CallStatus.PUBLIC_STAGE or call.has_public_stage
                  or current == CallStatus.PUBLIC_STAGE)]
    index = shown.index(current)
    return [Step(p, "done" if i < index else "current" if i == index else "todo")
            for i, p in enumerate(shown)]
