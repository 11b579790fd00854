"""The rulebook: every "may this person see / do this, now?" is asked here, and only here.

    policy.allows(viewer, action, subject, now=...) -> Decision   (truthy when allowed)
    policy.require(viewer, action, subject, now=...)              (raises Forbidden)
    policy.entry_condition(viewer, round_)                        (the same rule as SQL)
    policy.shows_identity(viewer, round_)                         (blind rounds)

Pages, API endpoints, exports, file downloads, e-mails and CLI commands ask; none decides on its
own. A rule is a composition of small named predicates (``rules.Rule``): the first that fails
gives the reason shown to the person and the HTTP status (404: must not know it exists; 403:
may know, may not touch; 409: not in this phase of the call).

``Viewer`` is the person asking, with what is costly to find out (conflicts per call, panel
seats) loaded once and kept for the request."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, not_, select, true
from sqlalchemy.orm import Session

from awards.enums import (
    AssignmentStatus,
    CallStatus,
    JurorStatus,
    NominationStatus,
    RoundKind,
    RoundStatus,
)
from awards.policy.conflicts import Person, conflict_condition, conflict_kinds, conflicted_ids
from awards.policy.rules import Decision, Forbidden, Rule, negate

__all__ = [
    "FROZEN_PHASES",
    "Action",
    "Decision",
    "Forbidden",
    "Person",
    "Viewer",
    "allows",
    "call_is_frozen",
    "conflict_kinds",
    "entry_condition",
    "require",
    "shows_identity",
]


# ---- phases ------------------------------------------------------------------------------------

# From the moment results are scheduled, what led to them stands still: reviews, assignments,
# imports, nominations. Only the correction path reopens the decisions.
FROZEN_PHASES = frozenset({CallStatus.RESULTS_SCHEDULED, CallStatus.PUBLISHED,
                           CallStatus.CORRECTING, CallStatus.ARCHIVED})
SCREENING_PHASES = frozenset({CallStatus.SCREENING})
# Rounds are prepared (panels, assignments) from the close of nominations on, and judged in
# the judging phase.
PREPARATION_PHASES = frozenset({CallStatus.CLOSED, CallStatus.SCREENING,
                                CallStatus.PUBLIC_STAGE, CallStatus.JUDGING})
JUDGING_PHASES = frozenset({CallStatus.JUDGING})
DECISION_PHASES = frozenset({CallStatus.JUDGING, CallStatus.DELIBERATION,
                             CallStatus.CORRECTING})
ADVANCE_PHASES = frozenset({CallStatus.JUDGING})
PUBLISH_PHASES = frozenset({CallStatus.DELIBERATION, CallStatus.CORRECTING})


def call_is_frozen(call) -> bool:
    return CallStatus(call.status) in FROZEN_PHASES


# ---- the person asking -------------------------------------------------------------------------

class Viewer:
    """The person asking, with their conflicts and panel seats loaded once (per request)."""

    def __init__(self, session: Session, user=None):
        self.session = session
        authenticated = bool(user is not None and getattr(user, "is_authenticated", True)
                             and getattr(user, "id", None) is not None)
        self.user = user if authenticated else None
        self.id: int | None = user.id if authenticated else None
        self.is_admin = bool(authenticated and getattr(user, "is_admin", False))
        self._conflicts: dict[int, frozenset[int]] = {}
        # Nomination id -> in conflict, for a page that read one entry (``preload_conflict``).
        self._conflict_known: dict[int, bool] = {}
        self._seats: dict[int, Any] = {}
        # Nomination id -> has an active decision, for lists (``preload_decisions``).
        self._decided: dict[int, bool] = {}

    @property
    def is_authenticated(self) -> bool:
        return self.id is not None

    @property
    def person(self) -> Person | None:
        return Person.of(self.user) if self.user is not None else None

    def conflicts(self, call_id: int) -> frozenset[int]:
        if self.user is None:
            return frozenset()
        if call_id not in self._conflicts:
            self._conflicts[call_id] = conflicted_ids(self.session, self.person, call_id)
        return self._conflicts[call_id]

    def in_conflict(self, nomination) -> bool:
        known = self._conflict_known.get(nomination.id)
        if known is not None:
            return known
        return nomination.id in self.conflicts(nomination.call_id)

    def preload_conflict(self, nomination_id: int, conflicted: bool) -> None:
        """Keep the answer for one entry that a page read with its own query, by the same SQL
        condition (``conflict_condition``): the juror's score sheet needs no other entry of
        the call, and a call's thousands of entries need not be searched for it."""
        self._conflict_known[nomination_id] = bool(conflicted)

    def preload_decisions(self, nomination_ids) -> None:
        """Answer "is there a decision on it?" for a list of nominations in one query (an
        applicant's "My nominations"), instead of one per row. For showing only: a request
        that changes a nomination asks again under its lock, with a viewer that preloaded
        nothing."""
        from awards.ranking.models import Decision as RankingDecision

        ids = set(nomination_ids)
        decided = set(self.session.scalars(select(RankingDecision.nomination_id).where(
            RankingDecision.nomination_id.in_(ids), RankingDecision.revoked_at.is_(None))))
        self._decided.update({i: i in decided for i in ids})

    def preload_seat(self, panel_id: int, seat) -> None:
        """Keep the viewer's seat (or None) on a panel that a page read with its own query (the
        juror's score sheet reads it with the assignment), instead of asking again."""
        self._seats.setdefault(panel_id, seat)

    def seat(self, round_):
        """The viewer's active seat on the panel judging ``round_``, or None."""
        from awards.jury.models import JuryMember

        if self.id is None or round_.panel_id is None:
            return None
        if round_.panel_id not in self._seats:
            self._seats[round_.panel_id] = self.session.scalar(select(JuryMember).where(
                JuryMember.user_id == self.id, JuryMember.status == JurorStatus.ACTIVE,
                JuryMember.panel_id == round_.panel_id))
        return self._seats[round_.panel_id]

    def is_chair_of(self, round_) -> bool:
        seat = self.seat(round_)
        return bool(seat is not None and seat.is_chair)


# ---- actions and their rules -------------------------------------------------------------------

class Action(StrEnum):
    # a juror's or chair's view of one entry in a round (its page, its row in a list, its files)
    SEE_ENTRY = "see_entry"
    SEE_IDENTITY = "see_identity"
    SCORE = "score"
    REOPEN_REVIEW = "reopen_review"
    RECUSE = "recuse"
    SEE_RANKING = "see_ranking"
    # a nomination's own life
    VIEW_NOMINATION = "view_nomination"
    EDIT_NOMINATION = "edit_nomination"
    WITHDRAW_NOMINATION = "withdraw_nomination"
    DOWNLOAD_FILE = "download_file"
    # administration of a call
    SCREEN = "screen"
    SET_UP_ROUND = "set_up_round"
    ASSIGN = "assign"
    IMPORT_SCORES = "import_scores"
    OPEN_ROUND = "open_round"
    ADVANCE = "advance"
    DECIDE = "decide"
    PUBLISH = "publish"
    CORRECT = "correct"  # open a correction of published results
    PREVIEW_RESULTS = "preview_results"  # read a scheduled results version before it is public
    # the commission's secret ballot (awards.commission)
    COMMISSION_VOTE = "commission_vote"
    COMMISSION_VOTE_ENTRY = "commission_vote_entry"
    COMMISSION_RUN = "commission_run"
    COMMISSION_SEE_COUNT = "commission_see_count"
    COMMISSION_SEE_BALLOTS = "commission_see_ballots"
    COMMISSION_CONFIGURE = "commission_configure"  # its rules and members, before it opens
    COMMISSION_ENTER = "commission_enter"  # its pages: members and administrators
    COMMISSION_CHAIR = "commission_chair"  # the chair's page


@dataclass
class Ctx:
    viewer: Viewer
    now: datetime
    call: Any = None
    round: Any = None
    nomination: Any = None
    assignment: Any = None
    attachment: Any = None
    extra: dict = field(default_factory=dict)


def _ctx(viewer: Viewer, subject: Any, now: datetime) -> Ctx:
    """Spread a subject over the context: an assignment gives its round, entry and call."""
    ctx = Ctx(viewer=viewer, now=now)
    items = subject if isinstance(subject, tuple) else (subject,)
    for item in items:
        kind = type(item).__name__
        if kind == "Assignment":
            ctx.assignment = item
            ctx.round = ctx.round or item.round
            ctx.nomination = ctx.nomination or item.nomination
        elif kind == "Round":
            ctx.round = item
        elif kind == "Nomination":
            ctx.nomination = item
        elif kind == "Attachment":
            ctx.attachment = item
            ctx.nomination = ctx.nomination or item.nomination
        elif kind == "Call":
            ctx.call = item
        elif item is not None:
            raise TypeError(f"the policy has no rule for a {kind}")
    if ctx.call is None:
        source = ctx.round or ctx.nomination
        ctx.call = source.call if source is not None else None
    return ctx


def _phase(ctx: Ctx) -> CallStatus:
    return CallStatus(ctx.call.status)


signed_in = Rule("signed_in", lambda c: c.viewer.is_authenticated,
                 _l("Please log in to access this page."), 404)
is_admin = Rule("is_admin", lambda c: c.viewer.is_admin,
                _l("Only administrators may do this."), 403)
not_admin_only = Rule("is_admin_404", lambda c: c.viewer.is_admin, _l("Not found."), 404)
in_conflict = Rule("in_conflict", lambda c: c.viewer.in_conflict(c.nomination))
not_in_conflict = negate(in_conflict, _l("Not found."), 404)
sits_on_panel = Rule("sits_on_panel", lambda c: c.viewer.seat(c.round) is not None,
                     _l("Not found."), 404)
chairs_panel = Rule("chairs_panel", lambda c: c.viewer.is_chair_of(c.round),
                    _l("Only the panel's chair may do this."), 403)
round_started = Rule("round_started",
                     lambda c: c.round.kind == RoundKind.SCORING
                     and c.round.status != RoundStatus.DRAFT, _l("Not found."), 404)
own_assignment = Rule(
    "own_assignment",
    lambda c: c.assignment is not None and c.assignment.juror_id == c.viewer.id
    and c.assignment.status == AssignmentStatus.ACTIVE, _l("Not found."), 404)
assigned_to_entry = Rule("assigned_to_entry", lambda c: _has_assignment(c), _l("Not found."), 404)
entry_not_withdrawn = Rule("entry_not_withdrawn",
                           lambda c: c.nomination.status != NominationStatus.WITHDRAWN,
                           _l("Not found."), 404)
round_open_now = Rule("round_open_now", lambda c: c.round.is_open_at(c.now),
                      _l("This round is not open for scoring now."), 409)
chairs_see_scores = Rule(
    "chairs_see_scores",
    lambda c: bool(c.round.show_scores_to_chairs and c.round.call.show_scores_to_chairs),
    _l("The panel's scores are not shown to chairs in this round."), 403)
FROZEN_REASON = _l("The results of this call are scheduled or published, so nothing that led "
                   "to them may change; an administrator can open a correction of the "
                   "decisions.")
not_frozen = Rule("not_frozen", lambda c: _phase(c) not in FROZEN_PHASES, FROZEN_REASON, 409)
results_not_out = Rule(
    "results_not_out",
    lambda c: _phase(c) not in (CallStatus.RESULTS_SCHEDULED, CallStatus.PUBLISHED),
    _l("The results of this call are already published or scheduled. To change them, open a "
       "correction first."), 409)
not_blind = Rule("not_blind", lambda c: not c.round.blind,
                 _l("This is a blind round."), 403)


def phase_in(phases: frozenset, reason) -> Rule:
    return Rule("phase_in(" + ",".join(sorted(p.value for p in phases)) + ")",
                lambda c: _phase(c) in phases, reason, 409)


def _has_assignment(ctx: Ctx) -> bool:
    from awards.jury.models import Assignment

    own = ctx.assignment
    if (own is not None and own.juror_id == ctx.viewer.id
            and own.status == AssignmentStatus.ACTIVE and own.round_id == ctx.round.id
            and own.nomination_id == ctx.nomination.id):
        return True  # the viewer's own active assignment at hand: no need to look it up
    return ctx.viewer.session.scalar(select(Assignment.id).where(
        Assignment.round_id == ctx.round.id, Assignment.nomination_id == ctx.nomination.id,
        Assignment.juror_id == ctx.viewer.id,
        Assignment.status == AssignmentStatus.ACTIVE).limit(1)) is not None


is_applicant = Rule(
    "is_applicant",
    lambda c: c.nomination.applicant_id is not None and c.nomination.applicant_id == c.viewer.id,
    _l("Not found."), 404)
nomination_editable = Rule(
    "nomination_editable", lambda c: c.nomination.is_editable_at(c.now),
    _l("This nomination can no longer be edited."), 409)
not_withdrawn_yet = Rule("not_withdrawn_yet",
                         lambda c: c.nomination.status != NominationStatus.WITHDRAWN,
                         _l("This nomination has already been withdrawn."), 409)
no_active_decision = Rule(
    "no_active_decision", lambda c: not _has_decision(c),
    _l("A decision has already been taken on this nomination, so it can no longer be "
       "withdrawn. Please contact the organisers."), 409)


def _has_decision(ctx: Ctx) -> bool:
    from awards.ranking.models import Decision as RankingDecision

    known = ctx.viewer._decided.get(ctx.nomination.id)
    if known is not None:
        return known
    return ctx.viewer.session.scalar(select(RankingDecision.id).where(
        RankingDecision.nomination_id == ctx.nomination.id,
        RankingDecision.revoked_at.is_(None)).limit(1)) is not None


# A juror's or chair's view of an entry in a round: on the panel, assigned to it (or chairing),
# never in conflict, never a withdrawn entry. Administrators see everything.
_juror_sees_entry = (signed_in & round_started & sits_on_panel & not_in_conflict
                     & entry_not_withdrawn & (assigned_to_entry | chairs_panel))

# The commission's round: its members vote on their own entries' behalf never (conflicts), see
# no count before the close, and after it the chair and administrators see the totals; the
# ballot list (no voters in it) is open to the commission.
commission_round = Rule("commission_round",
                        lambda c: c.round.kind in (RoundKind.COMMISSION, RoundKind.VOTE),
                        _l("Not found."), 404)
ballot_open_now = Rule("ballot_open_now", lambda c: c.round.is_open_at(c.now),
                       _l("The ballot is not open now."), 409)
ballot_closed = Rule("ballot_closed", lambda c: c.round.status == RoundStatus.CLOSED,
                     _l("Nobody sees any count before the ballot is closed."), 403)
ballot_not_opened = Rule("ballot_not_opened", lambda c: c.round.status == RoundStatus.DRAFT,
                         _l("The ballot has been opened: its rules and its members can no "
                            "longer change."), 409)
_member = signed_in & commission_round & sits_on_panel
_chair = is_admin | (signed_in & commission_round & chairs_panel)
chairs_commission = Rule("chairs_commission", lambda c: c.viewer.is_chair_of(c.round),
                         _l("Only the commission's chair may do this."), 403)

RULES: dict[Action, Rule] = {
    Action.SEE_ENTRY: is_admin | _juror_sees_entry,
    Action.SEE_IDENTITY: is_admin | not_blind,
    Action.SCORE: (signed_in & own_assignment & round_started & sits_on_panel & not_in_conflict
                   & entry_not_withdrawn & not_frozen & round_open_now),
    Action.REOPEN_REVIEW: (signed_in & own_assignment & round_started & sits_on_panel
                           & not_in_conflict & entry_not_withdrawn & not_frozen
                           & round_open_now),
    Action.RECUSE: (signed_in & own_assignment & round_started & sits_on_panel
                    & entry_not_withdrawn & not_frozen),
    # A round's ranking page is no secret (403, not 404): only who may read it is.
    Action.SEE_RANKING: is_admin | (signed_in & chairs_panel & chairs_see_scores),
    Action.VIEW_NOMINATION: is_admin | (signed_in & is_applicant),
    Action.EDIT_NOMINATION: signed_in & is_applicant & not_frozen & nomination_editable,
    Action.WITHDRAW_NOMINATION: (signed_in & is_applicant & not_withdrawn_yet & not_frozen
                                 & no_active_decision),
    Action.DOWNLOAD_FILE: is_admin | (signed_in & is_applicant),
    Action.SCREEN: is_admin & phase_in(
        SCREENING_PHASES, _l("Screening is done in the screening phase of the call.")),
    Action.SET_UP_ROUND: is_admin & not_frozen,
    Action.ASSIGN: is_admin & not_frozen & phase_in(
        PREPARATION_PHASES,
        _l("Entries are assigned to jurors once nominations are closed and before results "
           "are scheduled.")),
    Action.IMPORT_SCORES: is_admin & not_frozen & phase_in(
        JUDGING_PHASES, _l("Scores are imported while the call is in its judging phase.")),
    Action.OPEN_ROUND: is_admin & not_frozen & phase_in(
        JUDGING_PHASES, _l("A round opens once the call is in its judging phase.")),
    Action.ADVANCE: is_admin & not_frozen & phase_in(
        ADVANCE_PHASES, _l("Entries advance between rounds in the judging phase.")),
    Action.DECIDE: is_admin & phase_in(
        DECISION_PHASES,
        _l("Winners are decided in the judging or deliberation phase, or in a correction.")),
    # Results go out once the jury has finished (deliberation), or again after a correction;
    # scheduled or public results change only through a correction.
    Action.PUBLISH: is_admin & results_not_out & phase_in(
        PUBLISH_PHASES, _l("The results are published from the deliberation phase: end the "
                           "judging on the call's page first.")),
    # A correction reopens the decisions of results that are public (not while a version is
    # only scheduled: that one is withdrawn or moved instead).
    Action.CORRECT: is_admin & phase_in(
        frozenset({CallStatus.PUBLISHED}),
        _l("A correction can be opened only for results that are public.")),
    # A version scheduled but not yet public: administrators alone read it, as a marked preview
    # (everyone else meets a 404, as if it did not exist).
    Action.PREVIEW_RESULTS: not_admin_only,
    Action.COMMISSION_VOTE: _member & not_frozen & ballot_open_now,
    Action.COMMISSION_VOTE_ENTRY: (_member & not_in_conflict & entry_not_withdrawn & not_frozen
                                   & ballot_open_now),
    Action.COMMISSION_RUN: commission_round & _chair & not_frozen & phase_in(
        JUDGING_PHASES, _l("The commission votes while the call is in its judging phase.")),
    Action.COMMISSION_SEE_COUNT: commission_round & _chair & ballot_closed,
    Action.COMMISSION_SEE_BALLOTS: commission_round & (is_admin | _member) & ballot_closed,
    Action.COMMISSION_CONFIGURE: is_admin & commission_round & not_frozen & ballot_not_opened,
    Action.COMMISSION_ENTER: commission_round & (is_admin | _member),
    Action.COMMISSION_CHAIR: (commission_round & (is_admin | _member)
                              & (is_admin | chairs_commission)),
}


def allows(viewer: Viewer, action: Action | str, subject: Any, *, now: datetime) -> Decision:
    """May ``viewer`` do ``action`` to ``subject`` (a call, round, nomination, assignment,
    attachment, or a ``(round, nomination)`` pair) at ``now``?"""
    return RULES[Action(action)].check(_ctx(viewer, subject, now))


def require(viewer: Viewer, action: Action | str, subject: Any, *, now: datetime) -> None:
    decision = allows(viewer, action, subject, now=now)
    if not decision.ok:
        raise Forbidden(decision)


def shows_identity(viewer: Viewer, round_) -> bool:
    """Whether the nominee, applicant, organisation and identifying answers may be shown to
    ``viewer`` for the entries of ``round_`` (``round_`` None: outside any round, admins and
    applicants only ever get there)."""
    if round_ is None:
        return True
    return viewer.is_admin or not round_.blind


def entry_condition(viewer: Viewer, round_) -> ColumnElement[bool]:
    """The entries of ``round_`` the viewer may see in lists, as a WHERE clause on
    ``Nomination``: the same rule as ``Action.SEE_ENTRY``, so a list and a page agree and a
    5,000-entry round costs one query."""
    from awards.jury.models import Assignment
    from awards.nominations.models import Nomination

    if viewer.is_admin:
        return true()
    if viewer.user is None or viewer.seat(round_) is None:
        return Nomination.id.is_(None)
    clause = and_(not_(conflict_condition(viewer.person)),
                  Nomination.status != NominationStatus.WITHDRAWN)
    if not viewer.is_chair_of(round_):
        clause = and_(clause, Nomination.id.in_(select(Assignment.nomination_id).where(
            Assignment.round_id == round_.id, Assignment.juror_id == viewer.id,
            Assignment.status == AssignmentStatus.ACTIVE)))
    return clause
