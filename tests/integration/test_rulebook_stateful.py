"""The rulebook as a stateful property: random sequences of actions by random people, played
through the service functions the pages and the API call, with the invariants checked after
every step.

The world (built once per example): an open call whose deadline is a day away on the test's own
clock, five nominations (three submitted, two drafts), a blind scoring round on a panel where
three of the jurors are in conflict with an entry (its applicant, its nominee, its organisation)
and the chair is a juror too. The actions: submit and withdraw a nomination, screen it, move the
call's phase, invite a juror and accept, assign (automatically and by hand), block a juror,
save, submit, reopen and recuse a review, import paper ballots, a juror's organisation changing,
award and revoke, publish (now or scheduled), open a correction, and advance the clock
(deadline, round close, embargo). Two in three examples start in the judging phase (reached
through the same services), and a ``progress`` rule takes the natural next step of the call's
life, so examples reach publication and correction instead of wandering in the first phases.

An action may be allowed or refused; a refusal must be the service's domain error and change
nothing (compared on a fingerprint of the rows the actions touch, audit log included). Some
refusals are certain whatever else holds (a juror scoring an entry they are in conflict with,
anything the freeze forbids), and those are asserted too.

After every step:
  1. no review whose juror is in conflict with its entry counts in the round's ranking (the
     ranking service of the admin page; conflicts by ``awards.policy.conflicts``);
  2. each published version's winners, as the public results service returns them, stay what
     they were when it was published; the public's current version is the newest visible one;
  3. in the blind round, the jurors' pages (their list and an entry's score page) and the
     chair's ranking page and entry explanation (rendered by the test client) contain no
     nominee name or e-mail, organisation, identifying answer or applicant e-mail of any entry;
  4. the reviews and decisions stored agree with the audit log (see ``_check_audit``)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select, text

from awards import lifecycle, policy
from awards.audit import AuditEvent, verify_chain
from awards.auth.models import User
from awards.auth.services import update_profile
from awards.calls.models import AwardLevel, FormField
from awards.db import Base, get_db, utcnow
from awards.enums import (
    AssignmentStatus,
    CallStatus,
    DecisionKind,
    FieldType,
    JurorStatus,
    NominationStatus,
    NominatorKind,
    RoundStatus,
)
from awards.jury import services as jury
from awards.jury import setup as jury_setup
from awards.jury.models import (
    Assignment,
    Conflict,
    JuryMember,
    Review,
    Round,
    RoundEntry,
    Score,
)
from awards.lifecycle import LifecycleError
from awards.nominations import services as nominations
from awards.nominations.models import Nomination
from awards.policy.conflicts import Person, conflicted_ids
from awards.ranking import importer
from awards.ranking import services as ranking
from awards.ranking.models import Decision
from awards.results import services as results
from awards.results.models import Citation, Publication
from awards.screening import services as screening
from tests.conftest import PASSWORD, IsolatedClient, post_form
from tests.factories import make_call, make_nomination
from tests.jury_factories import make_account, make_panel, make_round, make_rubric

# ---- the world ---------------------------------------------------------------------------------

ORG_OF_J4 = "Steppe Rescue Team"
# (applicant key, nominee name, nominee e-mail, organisation, identifying answer)
ENTRIES = (
    ("alma", "Dana Kairatkyzy", "dana.k@nominees.test", "Aral Sea Friends", "Known in Shymkent"),
    ("alma", "Erlan Serikuly", "j3@jury.test", "Green Steppe Union", "Lives on Abay street"),
    ("bek", "Gulnara Tlegenova", "gulnara.t@nominees.test", ORG_OF_J4, "Phone 8-701-555-0199"),
    ("j2", "Hamit Ospanov", "hamit.o@nominees.test", "Kokshetau Youth Hub", "Born in Taraz 1990"),
    ("bek", "Indira Zhaksybekova", "indira.z@nominees.test", "Caspian Care", "Known in Aktau"),
)
# Accounts: applicants, jurors (j2 submits an entry, j3 is an entry's nominee, j4 belongs to
# an entry's organisation), the chair (a juror too), an invitee without a seat yet.
ACCOUNTS = {
    "admin": ("admin@awards.test", "Site Admin"),
    "alma": ("alma@applicants.test", "Alma Applicant"),
    "bek": ("bek@applicants.test", "Bek Applicant"),
    "j1": ("j1@jury.test", "Juror One"),
    "j2": ("j2@jury.test", "Juror Two"),
    "j3": ("j3@jury.test", "Juror Three"),
    "j4": ("j4@jury.test", "Juror Four"),
    "j5": ("j5@jury.test", "Juror Five"),
    "chair": ("chair@jury.test", "Chair Person"),
}
PRESUBMITTED = (0, 2, 3)  # Dana's, Gulnara's (j4's organisation) and Hamit's (j2's own)
SEATED = ("j1", "j2", "chair")  # active seats from the start; the others come by invitation
JURORS = ("j1", "j2", "j3", "j4", "j5", "chair")
CRITERIA = (("impact", "Impact", 2.0, 0.0, 10.0, 1.0), ("scale", "Scale", 1.0, 1.0, 5.0, 1.0))

FROZEN = policy.FROZEN_PHASES
PHASE_MOVES = ("screen", "judge", "deliberate", "back_to_judging", "close", "reopen",
               "back_to_closed")
NOTES = {"kk": "Түзету.", "ru": "Исправление.", "en": "A correction."}


def form_fields(categories):
    def field(position, key, type_, label, **kw):
        return FormField(key=key, type=type_, position=position, label_en=label,
                         label_ru=label, label_kk=label, **kw)

    return [
        field(1, "title", FieldType.SHORT_TEXT, "Project title", required=True, max_length=200),
        field(2, "story", FieldType.LONG_TEXT, "What was done", max_length=2000),
        field(3, "contact", FieldType.SHORT_TEXT, "How to reach the nominee", max_length=200,
              is_identifying=True),
    ]


def wipe(engine) -> None:
    """An empty database for the next example (as ``tests.conftest`` empties PostgreSQL):
    plain DELETEs on a connection of their own, in dependency order."""
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(text("PRAGMA foreign_keys=OFF"))
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
        if conn.dialect.name == "sqlite":
            conn.execute(text("PRAGMA foreign_keys=ON"))


score_values = st.fixed_dictionaries({
    "impact": st.integers(0, 10).map(float),
    "scale": st.integers(1, 5).map(float),
})
REFUSALS = (policy.Forbidden, nominations.NominationError, screening.ScreeningRefused,
            LifecycleError, jury.JuryRefusal, jury_setup.JurySetupError,
            ranking.RankingError, results.ResultsError)


class Refused(Exception):
    """An action refused by its service (raised by ``_attempt`` after the checks)."""


class RulebookMachine(RuleBasedStateMachine):
    app = None  # set by the test

    def __init__(self):
        super().__init__()
        # The services run inside a request, as the pages and the API call them (their
        # refusals are translated on creation).
        self._ctx = self.app.test_request_context(headers={"Accept-Language": "en"})
        self._ctx.push()
        wipe(self.app.extensions["awards_db"]["engine"])
        self.s = get_db()
        self.published: dict[int, list] = {}  # version -> winners when published
        self.imports: list[tuple[int, set[int]]] = []  # (audit id, assignment ids touched)
        self.clients: dict[str, object] = {}
        self.rendered: dict[tuple[str, str], object] = {}  # (juror, url) -> state rendered
        self.steps = 0

    def teardown(self):
        try:
            self.s.rollback()
            if self.steps:
                assert verify_chain(self.s).ok
        finally:
            self.s.close()
            self._ctx.pop()

    # ---- building ------------------------------------------------------------------------

    @initialize(start=st.sampled_from(("open", "judging", "judging")))
    def build(self, start):
        """The world; for ``start="judging"``, also its first phases played through the
        services (every entry submitted and found eligible, the round opened and assigned),
        so that most examples spend their steps where the jury works."""
        self._build()
        if start == "judging":
            for index in range(len(ENTRIES)):
                if index not in PRESUBMITTED:
                    self.submit(index, True)
            self.tick("deadline")
            self.move_phase("screen")
            for index in range(len(ENTRIES)):
                self.screen(index, True)
            self.move_phase("judge")
            self.add_entries()
            self.round_status(RoundStatus.OPEN)
            self.assign_automatically(0)
            assert self.phase() == CallStatus.JUDGING
        self.steps = 0

    def _build(self):
        s = self.s
        base = utcnow().replace(microsecond=0)
        self.now = base
        self.users = {}
        for key, (email, name) in ACCOUNTS.items():
            self.users[key] = make_account(s, email, name=name, admin=key == "admin")
        self.users["j4"].organisation = ORG_OF_J4
        call = make_call(s, fields=form_fields, opens_at=base - timedelta(days=10),
                         closes_at=base + timedelta(days=1), status=CallStatus.OPEN,
                         show_scores_to_chairs=True)
        social = next(c for c in call.categories if c.code == "social")
        social.award_levels = [
            AwardLevel(key="gold", name_en="Winner", name_ru="Победитель", name_kk="Жеңімпаз",
                       count=1, position=1),
            AwardLevel(key="laureate", name_en="Laureate", name_ru="Лауреат",
                       name_kk="Лауреат", count=2, position=2)]
        rubric = make_rubric(s, call, criteria=CRITERIA)
        panel = make_panel(s, call, [(self.users[k], k == "chair") for k in SEATED])
        round_ = make_round(s, call, rubric=rubric, panel=panel, status=RoundStatus.DRAFT,
                            blind=True, opens_at=base - timedelta(days=1),
                            closes_at=base + timedelta(days=4), reviews_per_entry=2,
                            show_scores_to_chairs=True)
        self.nomination_ids = []
        for i, (owner, name, email, org, secret) in enumerate(ENTRIES):
            nomination = make_nomination(
                s, call=call, applicant_id=self.users[owner].id, category="social",
                kind=NominatorKind.OTHER, nominee_name=name, nominee_email=email,
                organisation_name=org, nominee_phone=f"+7 701 000 00 0{i}",
                answers={"title": f"Project {i + 1}", "story": "Cleaned the riverbanks.",
                         "contact": secret})
            s.add(Citation(nomination_id=nomination.id, text_kk=f"Құрмет {i}",
                           text_ru=f"Почёт {i}", text_en=f"Honour {i}"))
            self.nomination_ids.append(nomination.id)
        s.flush()
        self.call_id, self.round_id, self.panel_id = call.id, round_.id, panel.id
        self.level_ids = [lv.id for lv in social.award_levels]
        self.user_ids = {k: u.id for k, u in self.users.items()}
        s.commit()
        # Three entries are in before the first step (through the applicants' own service), so
        # most examples reach the jury with entries to judge; two are left as drafts.
        for index in PRESUBMITTED:
            self.submit(index, True)

    # ---- reading the state -------------------------------------------------------------------

    def user(self, key) -> User:
        return self.s.get(User, self.user_ids[key])

    @property
    def call(self):
        from awards.calls.models import Call

        return self.s.get(Call, self.call_id)

    @property
    def round(self) -> Round:
        return self.s.get(Round, self.round_id)

    def nomination(self, index: int) -> Nomination:
        return self.s.get(Nomination, self.nomination_ids[index % len(self.nomination_ids)])

    def phase(self) -> CallStatus:
        return CallStatus(self.call.status)

    def frozen(self) -> bool:
        return self.phase() in FROZEN

    def in_conflict(self, juror_key: str, nomination_id: int) -> bool:
        return nomination_id in conflicted_ids(self.s, Person.of(self.user(juror_key)),
                                               self.call_id)

    def assignment_of(self, juror_key: str, nomination_id: int) -> Assignment | None:
        return self.s.scalar(select(Assignment).where(
            Assignment.round_id == self.round_id, Assignment.nomination_id == nomination_id,
            Assignment.juror_id == self.user_ids[juror_key]))

    def fingerprint(self):
        """The rows the actions change, and the audit log's length."""
        s = self.s
        rows = lambda q: sorted(tuple(r) for r in s.execute(q))  # noqa: E731
        return (
            rows(select(Nomination.id, Nomination.status, Nomination.reference)),
            rows(select(Assignment.id, Assignment.status, Assignment.juror_id,
                        Assignment.nomination_id)),
            rows(select(Review.id, Review.status, Review.total, Review.imported)),
            rows(select(Score.id, Score.value)),
            rows(select(Decision.id, Decision.revoked_at.is_(None))),
            rows(select(Publication.id, Publication.status, Publication.version)),
            rows(select(Round.id, Round.status)),
            rows(select(RoundEntry.round_id, RoundEntry.nomination_id)),
            rows(select(Conflict.user_id, Conflict.nomination_id)),
            rows(select(JuryMember.id, JuryMember.status)),
            str(self.call.status),
            s.scalar(select(func.count(AuditEvent.id))),
        )

    # ---- acting ------------------------------------------------------------------------------

    def _attempt(self, action, *, must_refuse: str = ""):
        """Run ``action``; a refusal (a domain error) must leave everything as it was. Returns
        what the action returned, or raises ``Refused``. ``must_refuse`` names a reason the
        rulebook must refuse for, whatever else holds."""
        self.steps += 1
        self.s.commit()
        before = self.fingerprint()
        try:
            out = action()
        except REFUSALS as exc:
            self.s.expire_all()
            assert self.fingerprint() == before, f"refused ({exc!r}) but changed the state"
            self.s.rollback()
            raise Refused(exc) from exc
        if isinstance(out, importer.ImportResult) and not out.ok:
            assert self.fingerprint() == before, "refused import changed the state"
            self.s.rollback()
            raise Refused(out.errors)
        assert not must_refuse, f"allowed although {must_refuse}"
        self.s.commit()
        return out

    def attempt(self, action, *, must_refuse: str = ""):
        try:
            return self._attempt(action, must_refuse=must_refuse)
        except Refused:
            return None

    # ---- applicants --------------------------------------------------------------------------

    @rule(index=st.integers(0, 4), by_owner=st.booleans())
    def submit(self, index, by_owner):
        nomination = self.nomination(index)
        owner = next(k for k, u in self.user_ids.items() if u == nomination.applicant_id)
        who = owner if by_owner else ("bek" if owner != "bek" else "alma")
        viewer = policy.Viewer(self.s, self.user(who))
        outcome = self.attempt(lambda: nominations.submit_nomination(
            session=self.s, viewer=viewer, nomination=nomination, personal_data_consent=True,
            now=self.now), must_refuse="" if by_owner else "not the applicant")
        assert outcome is None or outcome.submitted, outcome.missing

    @rule(index=st.integers(0, 4), by_owner=st.booleans())
    def withdraw(self, index, by_owner):
        nomination = self.nomination(index)
        owner = next(k for k, u in self.user_ids.items() if u == nomination.applicant_id)
        who = owner if by_owner else "j1"
        decided = self.s.scalar(select(Decision.id).where(
            Decision.nomination_id == nomination.id, Decision.revoked_at.is_(None)).limit(1))
        reason = ("not the applicant" if not by_owner else "the call is frozen"
                  if self.frozen() else "a decision stands" if decided else "")
        viewer = policy.Viewer(self.s, self.user(who))
        self.attempt(lambda: nominations.withdraw_nomination(
            session=self.s, viewer=viewer, nomination=nomination, reason="Changed my mind",
            now=self.now), must_refuse=reason)

    # ---- administrators: phases and screening ------------------------------------------------

    @rule(index=st.integers(0, 4), eligible=st.booleans())
    def screen(self, index, eligible):
        nomination = self.nomination(index)
        verdict = NominationStatus.ELIGIBLE if eligible else NominationStatus.INELIGIBLE
        self.attempt(lambda: screening.decide(
            session=self.s, nomination=nomination, decision=verdict, actor=self.user("admin"),
            reason="" if eligible else "Outside the rules", now=self.now))

    @rule(move=st.sampled_from(PHASE_MOVES))
    def move_phase(self, move):
        self.attempt(lambda: lifecycle.advance(session=self.s, call=self.call, action=move,
                                               actor=self.user("admin"), now=self.now))

    # ---- administrators: the jury --------------------------------------------------------

    @rule(key=st.sampled_from(("j3", "j4", "j5")))
    def invite_and_accept(self, key):
        panel = self.round.panel
        member = self.s.scalar(select(JuryMember).where(
            JuryMember.panel_id == panel.id, JuryMember.email == ACCOUNTS[key][0]))
        if member is None:
            self.attempt(lambda: jury_setup.invite_juror(
                session=self.s, actor=self.user("admin"), panel=panel, email=ACCOUNTS[key][0],
                language="en"))
        elif member.status == JurorStatus.INVITED:
            self.attempt(lambda: jury_setup.accept_invitation(
                session=self.s, member=member, user=self.user(key)))

    @rule()
    def add_entries(self):
        self.attempt(lambda: jury_setup.add_entries(
            session=self.s, actor=self.user("admin"), round=self.round),
            must_refuse="the call is frozen" if self.frozen() else "")

    # Closing a round is final, so it is left to ``progress`` (once the jury has worked):
    # closing at random would end most examples before anyone scored.
    @rule(status=st.sampled_from((RoundStatus.OPEN, RoundStatus.DRAFT)))
    def round_status(self, status):
        self.attempt(lambda: jury_setup.update_round(
            session=self.s, actor=self.user("admin"), round=self.round,
            values={"status": status}),
            must_refuse="the call is frozen" if self.frozen() else "")

    @rule(seed=st.integers(0, 3))
    def assign_automatically(self, seed):
        round_ = self.round
        plan = jury_setup.plan_assignment(session=self.s, round=round_, seed=seed)
        out = self.attempt(lambda: jury_setup.save_assignment(
            session=self.s, actor=self.user("admin"), round=round_, seed=seed,
            digest=plan.digest), must_refuse="the call is frozen" if self.frozen() else "")
        if out is not None:
            for juror_id, nomination_id in out.plan.new:
                juror = self.s.get(User, juror_id)
                assert nomination_id not in conflicted_ids(self.s, Person.of(juror),
                                                           self.call_id), \
                    "automatic assignment gave a juror an entry they are in conflict with"

    @rule(juror=st.sampled_from(JURORS), index=st.integers(0, 4))
    def assign_by_hand(self, juror, index):
        nomination = self.nomination(index)
        reason = ("the call is frozen" if self.frozen() else "a conflict of interest"
                  if self.in_conflict(juror, nomination.id) else "")
        self.attempt(lambda: jury_setup.add_assignment(
            session=self.s, actor=self.user("admin"), round=self.round,
            nomination_id=nomination.id, juror_id=self.user_ids[juror]), must_refuse=reason)

    @rule(juror=st.sampled_from(JURORS), index=st.integers(0, 4))
    def block_juror(self, juror, index):
        nomination = self.nomination(index)
        self.attempt(lambda: jury_setup.block_juror(
            session=self.s, actor=self.user("admin"), call=self.call,
            juror_id=self.user_ids[juror], nomination_id=nomination.id, reason="Relative"),
            must_refuse="the call is frozen" if self.frozen() else "")

    @rule(lines=st.lists(st.tuples(st.integers(0, 29), score_values), min_size=1, max_size=3))
    def import_ballots(self, lines):
        """Paper ballots for (juror, entry) pairs of the panel and the round's entries, the
        conflicted ones included; before there are any, for any juror and nomination."""
        seated = [k for k in JURORS if self.s.scalar(select(JuryMember.id).where(
            JuryMember.panel_id == self.panel_id, JuryMember.user_id == self.user_ids[k],
            JuryMember.status == JurorStatus.ACTIVE))]
        entries = sorted(self.s.scalars(select(RoundEntry.nomination_id).where(
            RoundEntry.round_id == self.round_id)))
        candidates = [(k, self.nomination_ids.index(n)) for k in seated for n in entries] \
            or [(k, i) for k in JURORS for i in range(5)]
        rows = ["entry,juror,criterion,score"]
        pairs = set()
        for pick, scores in lines:
            juror, index = candidates[pick % len(candidates)]
            nomination = self.nomination(index)
            if (juror, nomination.id) in pairs:
                continue
            pairs.add((juror, nomination.id))
            for key, value in scores.items():
                rows.append(f"{nomination.reference or 'NONE'},{ACCOUNTS[juror][0]},{key},"
                            f"{value:g}")
        reason = "the call is frozen" if self.frozen() else ""
        if any(self.in_conflict(j, n) for j, n in pairs):
            reason = reason or "a conflict of interest"
        nominations_of = {n for _j, n in pairs}
        result = self.attempt(lambda: importer.import_scores(
            session=self.s, actor=self.user("admin"), round=self.round,
            content="\n".join(rows).encode(), filename="ballots.csv"), must_refuse=reason)
        if result is not None:
            audit_id = self.s.scalar(select(func.max(AuditEvent.id)).where(
                AuditEvent.action == "ranking.scores_import"))
            touched = {self.assignment_of(j, n).id for j, n in pairs}
            assert {self.s.get(Assignment, a).nomination_id for a in touched} == nominations_of
            self.imports.append((audit_id, touched))

    @rule(juror=st.sampled_from(JURORS), index=st.integers(0, 5))
    def juror_changes_organisation(self, juror, index):
        """A juror names (or clears) their organisation in their profile: from then on they
        are in conflict with that organisation's entries, reviews already written included."""
        user = self.user(juror)
        organisation = ENTRIES[index][3] if index < len(ENTRIES) else ""
        self.attempt(lambda: update_profile(
            session=self.s, user=user, full_name=user.full_name, organisation=organisation,
            phone=user.phone or "", language="en"))

    # ---- jurors ------------------------------------------------------------------------------

    # A juror acts on one of the round's assignments (``pick``), their own, or, with a
    # ``forger``, someone else's: what a forged request would aim at.
    forgers = st.sampled_from((None, None, None, "j1", "j3", "chair"))

    def _actor_for(self, pick, forger, *, submitted_first=False):
        assignments = list(self.s.scalars(select(Assignment).where(
            Assignment.round_id == self.round_id).order_by(Assignment.id)))
        if submitted_first:
            # Reopening is about submitted reviews; other assignments only when there are none.
            assignments = [a for a in assignments
                           if a.review is not None and a.review.is_submitted] or assignments
        if not assignments:
            return None, None
        assignment = assignments[pick % len(assignments)]
        owner = next(k for k in JURORS if self.user_ids[k] == assignment.juror_id)
        return assignment, forger or owner

    def _juror_refusal(self, juror, assignment) -> str:
        """Why the rulebook must refuse ``juror`` scoring or reopening ``assignment``, if it
        must (other reasons, like a closed round, may refuse too)."""
        if assignment.juror_id != self.user_ids[juror]:
            return "not their assignment"
        if assignment.status != AssignmentStatus.ACTIVE:
            return "the assignment has ended"
        if self.frozen():
            return "the call is frozen"
        if self.in_conflict(juror, assignment.nomination_id):
            return "a conflict of interest"
        return ""

    @rule(pick=st.integers(0, 29), forger=forgers, scores=score_values, submit=st.booleans())
    def score(self, pick, forger, scores, submit):
        assignment, juror = self._actor_for(pick, forger)
        if assignment is None:
            return
        self.attempt(lambda: jury.save_review(
            session=self.s, juror=self.user(juror), assignment=assignment, scores=scores,
            submit=submit, now=self.now), must_refuse=self._juror_refusal(juror, assignment))

    @rule(pick=st.integers(0, 29), forger=forgers)
    def reopen(self, pick, forger):
        assignment, juror = self._actor_for(pick, forger, submitted_first=True)
        if assignment is None:
            return
        self.attempt(lambda: jury.reopen_review(
            session=self.s, juror=self.user(juror), assignment=assignment, now=self.now),
            must_refuse=self._juror_refusal(juror, assignment))

    @rule(pick=st.integers(0, 29), scores=score_values)
    def reconsider(self, pick, scores):
        """A juror reopens a submitted review and submits new scores."""
        assignment, juror = self._actor_for(pick, None, submitted_first=True)
        if assignment is None:
            return
        self.reopen(pick, None)
        self.attempt(lambda: jury.submit_review(
            session=self.s, juror=self.user(juror), assignment=assignment, scores=scores,
            now=self.now), must_refuse=self._juror_refusal(juror, assignment))

    @rule(pick=st.integers(0, 29), forger=forgers)
    def recuse(self, pick, forger):
        assignment, juror = self._actor_for(pick, forger)
        if assignment is None:
            return
        reason = ("not their assignment" if assignment.juror_id != self.user_ids[juror]
                  else "the call is frozen" if self.frozen() else "")
        self.attempt(lambda: jury.recuse(
            session=self.s, juror=self.user(juror), assignment=assignment,
            reason="I know the nominee", now=self.now), must_refuse=reason)

    # ---- decisions and results -----------------------------------------------------------

    @rule(index=st.integers(0, 4), level=st.integers(0, 1))
    def award(self, index, level):
        nomination = self.nomination(index)
        reason = "the results are scheduled or out" if self.phase() in (
            CallStatus.RESULTS_SCHEDULED, CallStatus.PUBLISHED, CallStatus.ARCHIVED) else ""
        self.attempt(lambda: ranking.decide_award(
            session=self.s, actor=self.user("admin"), round=self.round,
            nomination_id=nomination.id, award_level_id=self.level_ids[level], digest=None),
            must_refuse=reason)

    @rule(pick=st.integers(0, 3))
    def revoke(self, pick):
        active = ranking.active_decisions(self.s, self.call)
        if not active:
            return
        decision = active[pick % len(active)]
        reason = "the results are scheduled or out" if self.phase() in (
            CallStatus.RESULTS_SCHEDULED, CallStatus.PUBLISHED, CallStatus.ARCHIVED) else ""
        self.attempt(lambda: ranking.revoke_decision(
            session=self.s, actor=self.user("admin"), decision=decision, digest=None),
            must_refuse=reason)

    @rule(scheduled=st.booleans())
    def publish(self, scheduled):
        when = self.now + timedelta(hours=2) if scheduled else None
        publication = self.attempt(lambda: results.publish(
            session=self.s, actor=self.user("admin"), call=self.call, scheduled_for=when,
            notes=NOTES, token=None, now=self.now))
        if publication is not None:
            self.published[publication.version] = self.winners_of(publication)

    @rule()
    def open_correction(self):
        self.attempt(lambda: results.open_correction(
            session=self.s, actor=self.user("admin"), call=self.call, reason="A name was wrong",
            token=None, now=self.now))

    # ---- the clock ---------------------------------------------------------------------------

    @rule(to=st.sampled_from(("hour", "hour", "day", "deadline", "round_close", "embargo")))
    def tick(self, to):
        targets = {"hour": self.now + timedelta(hours=1), "day": self.now + timedelta(days=1),
                   "deadline": self.call.closes_at + timedelta(minutes=1),
                   "round_close": (self.round.closes_at or self.now) + timedelta(minutes=1)}
        pending = results.pending_publication(self.s, self.call, self.now)
        targets["embargo"] = (pending.scheduled_for + timedelta(minutes=1)
                              if pending is not None else self.now)
        self.now = max(self.now, targets[to])
        self.steps += 1
        results.settle_due(session=self.s, now=self.now)
        lifecycle.sync(self.s, self.call, self.now)
        self.s.commit()

    # ---- the natural next step ---------------------------------------------------------------

    @rule(choice=st.integers(0, 7), scores=score_values)
    def progress(self, choice, scores):
        """What the organisers (and the jury) would do next in this phase."""
        phase = self.phase()
        if phase == CallStatus.OPEN:
            drafts = [i for i in range(5)
                      if self.nomination(i).status == NominationStatus.DRAFT]
            if drafts and choice < 7:
                nomination = self.nomination(drafts[choice % len(drafts)])
                owner = next(k for k, u in self.user_ids.items()
                             if u == nomination.applicant_id)
                self.submit(self.nomination_ids.index(nomination.id), True) if owner else None
            else:
                self.tick("deadline")
        elif phase == CallStatus.CLOSED:
            self.move_phase("screen")
        elif phase == CallStatus.SCREENING:
            waiting = [i for i in range(5)
                       if self.nomination(i).status == NominationStatus.SUBMITTED]
            if waiting:
                self.screen(waiting[0], choice != 0)
            else:
                self.move_phase("judge")
        elif phase == CallStatus.JUDGING:
            self._progress_judging(choice, scores)
        elif phase == CallStatus.DELIBERATION:
            if not results.award_decisions(self.s, self.call):
                self._award_top()
            else:
                self.publish(choice % 2 == 0)
        elif phase == CallStatus.RESULTS_SCHEDULED:
            self.tick("embargo")
        elif phase == CallStatus.PUBLISHED:
            self.open_correction()
        elif phase == CallStatus.CORRECTING:
            if choice < 3:
                self.award(choice, choice % 2)
            elif choice < 5:
                self.revoke(choice)
            else:
                self.publish(choice % 2 == 0)

    # The same step, offered more often than any single other action, so examples get through
    # the whole life of the call in a few dozen steps.
    @rule(choice=st.integers(0, 7), scores=score_values)
    def progress_again(self, choice, scores):
        self.progress(choice, scores)

    @rule(choice=st.integers(0, 7), scores=score_values)
    def progress_once_more(self, choice, scores):
        self.progress(choice, scores)

    @rule(choice=st.integers(0, 7), scores=score_values)
    def progress_further(self, choice, scores):
        self.progress(choice, scores)

    def _progress_judging(self, choice, scores):
        round_ = self.round
        if round_.status == RoundStatus.DRAFT:
            if not self.s.scalar(select(RoundEntry.id).where(
                    RoundEntry.round_id == round_.id).limit(1)):
                self.add_entries()
            else:
                self.round_status(RoundStatus.OPEN)
            return
        active = list(self.s.scalars(select(Assignment).where(
            Assignment.round_id == round_.id, Assignment.status == AssignmentStatus.ACTIVE)
            .order_by(Assignment.id)))
        if round_.status == RoundStatus.OPEN and not active:
            self.assign_automatically(choice % 4)
            return
        todo = [a for a in active if a.review is None or not a.review.is_submitted]
        if round_.status == RoundStatus.OPEN and todo and choice < 5 \
                and round_.is_open_at(self.now):
            assignment = todo[choice % len(todo)]
            juror = next(k for k in JURORS if self.user_ids[k] == assignment.juror_id)
            self.attempt(lambda: jury.submit_review(
                session=self.s, juror=self.user(juror), assignment=assignment, scores=scores,
                now=self.now))
            return
        if not results.award_decisions(self.s, self.call):
            self._award_top()
        elif round_.status == RoundStatus.OPEN:
            self.round_status(RoundStatus.CLOSED)
        else:
            self.move_phase("deliberate")

    def _award_top(self):
        ranked = ranking.round_ranking(session=self.s, round=self.round, stability=False)
        rows = [row for c in ranked.categories for row in c.rows]
        if rows:
            self.award(self.nomination_ids.index(rows[0].entry.id), 0)

    # ---- invariants --------------------------------------------------------------------------

    def winners_of(self, publication: Publication):
        return sorted((w["nomination_id"], w["award_level_id"], w["name"])
                      for w in results.snapshot_winners(publication.snapshot))

    @invariant()
    def no_conflicted_review_counts(self):
        if not hasattr(self, "call_id"):
            return
        round_ = self.round
        viewer = policy.Viewer(self.s, self.user("admin"))
        ranked = ranking.round_ranking(session=self.s, round=round_, viewer=viewer,
                                       stability=False)
        conflicts = {}
        for category in ranked.categories:
            for row in category.rows:
                for review in row.result.reviews:
                    if review.juror_id not in conflicts:
                        juror = self.s.get(User, review.juror_id)
                        conflicts[review.juror_id] = conflicted_ids(
                            self.s, Person.of(juror), self.call_id)
                    assert row.entry.id not in conflicts[review.juror_id], (
                        f"the review of juror {review.juror_id} counts for entry "
                        f"{row.entry.id}, which they are in conflict with")
        self.s.rollback()

    @invariant()
    def published_versions_never_change(self):
        if not hasattr(self, "call_id"):
            return
        call = self.call
        for version, winners in self.published.items():
            publication = results.publication_version(self.s, call, version)
            assert publication is not None, f"version {version} disappeared"
            assert self.winners_of(publication) == winners, f"version {version} changed"
        current = results.current_publication(self.s, call, self.now)
        visible = [v for v in self.published
                   if results.publication_version(self.s, call, v).is_visible_at(self.now)]
        if visible:
            assert current is not None and current.version == max(visible)
            assert self.winners_of(current) == self.published[max(visible)]
        else:
            assert current is None
        self.s.rollback()

    @invariant()
    def blind_surfaces_hide_identity(self):
        if not hasattr(self, "call_id"):
            return
        round_ = self.round
        if not round_.blind or round_.status == RoundStatus.DRAFT:
            return
        s = self.s
        seats = {row.user_id: row.is_chair for row in s.execute(
            select(JuryMember.user_id, JuryMember.is_chair).where(
                JuryMember.panel_id == self.panel_id, JuryMember.status == JurorStatus.ACTIVE,
                JuryMember.user_id.is_not(None)))}
        assignments = list(s.execute(select(Assignment.id, Assignment.juror_id,
                                            Assignment.nomination_id).where(
            Assignment.round_id == round_.id, Assignment.status == AssignmentStatus.ACTIVE)
            .order_by(Assignment.id)))
        # A page is rendered again only when what decides its entries changed (the reviews'
        # scores do not: they never carry an identity), which keeps the check affordable.
        common = (str(round_.status), str(self.call.status), tuple(sorted(seats.items())),
                  tuple(s.execute(select(Nomination.id, Nomination.status)
                                  .order_by(Nomination.id))),
                  tuple(s.execute(select(Conflict.user_id, Conflict.nomination_id)
                                  .order_by(Conflict.id))),
                  tuple(s.execute(select(User.id, User.organisation).order_by(User.id))))
        everyone = tuple((a.id, a.juror_id) for a in assignments)
        pages = []
        for juror_key in JURORS:
            uid = self.user_ids[juror_key]
            if uid not in seats:
                continue
            mine = tuple(a.id for a in assignments if a.juror_id == uid)
            pages.append((juror_key, "/jury/", mine))
            if mine:
                pages.append((juror_key, f"/jury/assignments/{mine[0]}", mine))
            if seats[uid]:
                pages.append((juror_key, f"/admin/ranking/rounds/{round_.id}", everyone))
                for nid in sorted({a.nomination_id for a in assignments})[:1]:
                    pages.append((juror_key, f"/admin/ranking/rounds/{round_.id}/entries/{nid}",
                                  everyone))
        pages = [(k, url, (common, part)) for k, url, part in pages
                 if self.rendered.get((k, url)) != (common, part)]
        if not pages:
            return
        identifying = self._identifying_values()
        # Juror lists may name the panel's members; an address that is both a member's and an
        # entry's (j2 submitted an entry, j3 is a nominee) says nothing about the entry there.
        panel_people = {self.s.get(User, uid).email for uid in seats}
        own = {k: set(self._own_values(self.user(k))) for k in JURORS}
        self.s.rollback()
        for juror_key, url, key in pages:
            response = self.client_for(juror_key).get(url)
            assert response.status_code in (200, 404), (url, response.status_code)
            body = response.get_data(as_text=True)
            for value in identifying - own[juror_key] - panel_people:
                assert value not in body, f"{url} shows “{value}” to {juror_key} (blind round)"
            self.rendered[(juror_key, url)] = key
        self.s.rollback()

    def _identifying_values(self) -> set[str]:
        values = set()
        for i in range(5):
            n = self.nomination(i)
            values.update({n.nominee_name, n.nominee_email, n.organisation_name,
                           n.applicant.email, ENTRIES[i][4]})
        return {v for v in values if v}

    @staticmethod
    def _own_values(user: User) -> list[str]:
        return [v for v in (user.email, user.full_name, user.organisation) if v]

    def client_for(self, key):
        if key not in self.clients:
            client = IsolatedClient(self.app, self.app.response_class, use_cookies=True)
            client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
            response = post_form(client, "/account/login",
                                 {"email": ACCOUNTS[key][0], "password": PASSWORD},
                                 csrf_url="/account/login")
            assert response.status_code == 302
            self.clients[key] = client
        return self.clients[key]

    @invariant()
    def audit_log_matches(self):
        if not hasattr(self, "call_id"):
            return
        self._check_audit()
        self.s.rollback()

    def _check_audit(self):
        """Reviews, per assignment: replaying its records (``review.save_draft``,
        ``review.submit``, ``review.reopen``, the ``assignment.recuse`` that removes a review,
        and the ``ranking.scores_import`` records of files with its pair, known to the test)
        gives the stored review: each record's "before" is the state the previous ones left,
        the last one's state is the stored status, and a juror's last submission carries the
        stored total and scores. Decisions: the award decisions stored are exactly those of
        the ``decision_award`` records, per nomination, and the revoked ones exactly those of
        the ``decision_revoke`` records."""
        s = self.s
        events = list(s.scalars(select(AuditEvent).where(
            AuditEvent.call_id == self.call_id).order_by(AuditEvent.id)))
        timeline: dict[int, list[tuple[int, str, dict, dict]]] = {}
        awarded: Counter = Counter()
        revoked: Counter = Counter()
        award_ids, revoke_ids = set(), set()
        for event in events:
            after = json.loads(event.after) or {}
            before = json.loads(event.before) or {}
            if event.action in ("review.submit", "review.save_draft", "review.reopen"):
                timeline.setdefault(after["assignment_id"], []).append(
                    (event.id, event.action, before, after))
            elif event.action == "assignment.recuse" and before.get("review"):
                timeline.setdefault(int(event.object_id), []).append(
                    (event.id, event.action, before["review"], {}))
            elif event.action == "ranking.decision_award":
                awarded[after["nomination_id"]] += 1
                award_ids.add(int(event.object_id))
            elif event.action == "ranking.decision_revoke" and before.get("kind") == "award":
                revoked[before["nomination_id"]] += 1
                revoke_ids.add(int(event.object_id))
        for audit_id, touched in self.imports:
            for assignment_id in touched:
                timeline.setdefault(assignment_id, []).append((audit_id, "import", {}, {}))
        reviews = {r.assignment_id: r for r in s.scalars(select(Review))}
        for assignment_id in set(timeline) | set(reviews):
            state, imported, last_submit = None, False, None
            for _id, action, before, after in sorted(timeline.get(assignment_id, []),
                                                     key=lambda t: t[0]):
                if action != "import":
                    assert (before or {}).get("status") == state, (
                        f"assignment {assignment_id}: {action} found the review "
                        f"{(before or {}).get('status')}, the log before it says {state}")
                if action == "assignment.recuse":
                    state, imported, last_submit = None, False, None
                elif action == "import":
                    state, imported, last_submit = "submitted", True, None
                elif action == "review.submit":
                    state, last_submit = "submitted", after
                else:
                    state, last_submit = "draft", None
            review = reviews.get(assignment_id)
            stored = review.status.value if review is not None else None
            assert stored == state, \
                f"assignment {assignment_id}: the review is {stored}, the audit log says {state}"
            if review is None:
                continue
            assert review.imported == imported, \
                f"review {review.id}: imported flag and audit log disagree"
            if last_submit is not None:
                assert last_submit["total"] == review.total
                assert last_submit["scores"] == jury.scores_of(review)
        stored = list(s.scalars(select(Decision).where(Decision.kind == DecisionKind.AWARD)))
        assert {d.id for d in stored} == award_ids
        assert {d.id for d in stored if d.revoked_at is not None} == revoke_ids
        assert Counter(d.nomination_id for d in stored) == awarded
        assert Counter(d.nomination_id for d in stored if d.revoked_at is not None) == revoked
        active = Counter(d.nomination_id for d in stored if d.revoked_at is None)
        assert all(count == 1 for count in active.values())


def test_rulebook_holds_through_random_sequences(app):
    RulebookMachine.app = app
    run_state_machine_as_test(RulebookMachine, settings=settings(
        max_examples=10, stateful_step_count=50, deadline=None,
        suppress_health_check=list(HealthCheck)))


# ---- what the machine found, kept as plain examples ----------------------------------------------


@pytest.fixture
def judged(app):
    RulebookMachine.app = app
    machine = RulebookMachine()
    machine.build("judging")
    yield machine
    machine.teardown()


def withdrawn_entry_of(machine, juror: str) -> int:
    """An entry ``juror`` is assigned to, withdrawn by its applicant (allowed while judging,
    before any decision on it)."""
    assignment = machine.s.scalar(select(Assignment).where(
        Assignment.juror_id == machine.user_ids[juror]).order_by(Assignment.id).limit(1))
    index = machine.nomination_ids.index(assignment.nomination_id)
    machine.withdraw(index, True)
    assert machine.nomination(index).status == NominationStatus.WITHDRAWN
    return assignment.nomination_id


def test_blocking_a_juror_from_a_withdrawn_entry_is_recorded(judged):
    nomination_id = withdrawn_entry_of(judged, "chair")

    conflict, moves = jury_setup.block_juror(
        session=judged.s, actor=judged.user("admin"), call=judged.call,
        juror_id=judged.user_ids["chair"], nomination_id=nomination_id, reason="Relative")
    judged.s.commit()

    assert (conflict.user_id, conflict.nomination_id) == (judged.user_ids["chair"],
                                                          nomination_id)
    assert all(not m.plan.new for m in moves)  # nobody takes over a withdrawn entry


def test_a_juror_assigned_to_a_withdrawn_entry_can_leave_the_panel(judged):
    withdrawn_entry_of(judged, "j1")
    member = judged.s.scalar(select(JuryMember).where(
        JuryMember.user_id == judged.user_ids["j1"]))

    moves = jury_setup.remove_member(session=judged.s, actor=judged.user("admin"),
                                     member=member)
    judged.s.commit()

    assert member.status == JurorStatus.LEFT
    assert all(pair[1] in judged.nomination_ids for m in moves for pair in m.plan.new)
