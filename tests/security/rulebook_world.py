"""The world the rulebook matrix runs against: one call judged by one panel, every role of the
issue, three entries with identifying values of their own, built once per module.

``build(session)`` writes the world and returns plain ids and secrets; ``reset(session, w,
phase, blind=...)`` puts it back into the state a call in ``phase`` is in (the call's status
and dates, the rounds, the entries' statuses, the baseline reviews, assignments, conflicts and
decisions), so a cell that changed something (an allowed write) is undone before the next.

The entries of the round (all in the "social" category):
  E1: the applicant's; the juror, the conflicted juror (in conflict with it) and the chair who
      also judges are assigned to it; its file is named after the nominee and its PDF carries
      her name as its author.
  E2: the other applicant's; assigned to the juror, the conflicted juror and the chair-juror.
  E3: the other applicant's; assigned to the juror; the (pure) chair is in conflict with it."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from awards.calls.models import AwardLevel, Call, FormField
from awards.db import utcnow
from awards.enums import (
    AssignmentStatus,
    CallStatus,
    DecisionKind,
    NominationStatus,
    ReviewStatus,
    RoundStatus,
)
from awards.jury.models import (
    Assignment,
    Conflict,
    Criterion,
    Review,
    Round,
    RoundEntry,
    Score,
)
from awards.nominations.models import Answer, Attachment, Nomination
from awards.ranking.models import Decision
from awards.storage import path_for
from tests.api_factories import make_token
from tests.factories import field_of
from tests.jury_factories import (
    add_conflict,
    assign,
    judging_call,
    make_account,
    make_entry,
    make_panel,
    make_round,
    make_rubric,
)

ROLES = ("anonymous", "applicant", "other_applicant", "juror", "conflicted_juror", "chair",
         "chair_juror", "admin")
ACCOUNTS = {
    "applicant": ("dauren.applicantov@example.com", "Dauren Applicantov"),
    "other_applicant": ("saule.otherova@example.com", "Saule Otherova"),
    "juror": ("juror@example.com", "Juror Aida"),
    "conflicted_juror": ("conflicted@example.com", "Juror Bolat"),
    "chair": ("chair@example.com", "Chair Gulnara"),
    "chair_juror": ("chairjuror@example.com", "Chair Yerlan"),
    "admin": ("admin@example.com", "Admin Person"),
}
ENTRIES = {
    # nominee, nominee's e-mail, organisation, owner
    "E1": ("Aigerim Sadykova", "aigerim.sadykova@example.org", "Steppe Rescue Team",
           "applicant"),
    "E2": ("Nurlan Zhaksylykov", "nurlan.zh@example.org", "Aral Green Club", "other_applicant"),
    "E3": ("Bolat Kenzhebekov", "bolat.k@example.org", "Caspian Helpers", "other_applicant"),
}
FILE_NAME = "Aigerim_Sadykova_recommendation.pdf"


def private_email(key: str) -> str:
    """The entry's answer to the identifying question (the contact e-mail)."""
    return ENTRIES[key][0].split()[1].lower() + ".private@mail.kz"
PHASES = (CallStatus.OPEN, CallStatus.SCREENING, CallStatus.JUDGING, CallStatus.DELIBERATION,
          CallStatus.RESULTS_SCHEDULED, CallStatus.PUBLISHED, CallStatus.CORRECTING)


def _state(phase: CallStatus):
    """Where the lifecycle leaves the round and the entries in each phase: nominations are
    screened in screening (E1 still waiting), rounds open only once the call is judged and are
    closed before deliberation. In the frozen phases the round is left open, as the issue
    found it after publication, so what refuses is the freeze itself."""
    if phase == CallStatus.OPEN:
        return RoundStatus.DRAFT, NominationStatus.SUBMITTED, NominationStatus.SUBMITTED
    if phase == CallStatus.SCREENING:
        return RoundStatus.DRAFT, NominationStatus.SUBMITTED, NominationStatus.ELIGIBLE
    if phase == CallStatus.DELIBERATION:
        return RoundStatus.CLOSED, NominationStatus.ELIGIBLE, NominationStatus.ELIGIBLE
    return RoundStatus.OPEN, NominationStatus.ELIGIBLE, NominationStatus.ELIGIBLE


@dataclass
class RulebookWorld:
    call_id: int = 0
    slug: str = ""
    category_id: int = 0
    round_id: int = 0
    next_round_id: int = 0
    gold_id: int = 0
    laureate_id: int = 0
    entry: dict[str, int] = field(default_factory=dict)  # E1.. -> nomination id
    reference: dict[str, str] = field(default_factory=dict)
    document_id: int = 0  # E1's supporting document (named after the nominee)
    criteria: dict[str, int] = field(default_factory=dict)  # key -> criterion id
    # (role, entry) -> assignment id
    assignment: dict[tuple[str, str], int] = field(default_factory=dict)
    conflict_ids: list[int] = field(default_factory=list)
    user_ids: dict[str, int] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str | None] = field(default_factory=dict)

    def identifying(self, key: str) -> tuple[str, ...]:
        """What names entry ``key`` or its applicant: never shown in a blind round."""
        nominee, email, organisation, owner = ENTRIES[key]
        values = (nominee, email, organisation, ACCOUNTS[owner][0], ACCOUNTS[owner][1],
                  private_email(key))
        return values + ((FILE_NAME, "Sadykova") if key == "E1" else ())

    def everything(self, key: str) -> tuple[str, ...]:
        """What a person in conflict with entry ``key`` must never meet: its reference too."""
        nominee, email, organisation, _owner = ENTRIES[key]
        return (self.reference[key], nominee, email, organisation)


def pdf_with_author(author: str) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_metadata({"/Author": author, "/Title": f"Recommendation for {author}"})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _attach(session: Session, nomination: Nomination, field_key: str, name: str,
            data: bytes) -> Attachment:
    import secrets

    stored = secrets.token_hex(16) + ".pdf"
    path = path_for(stored)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    attachment = Attachment(nomination=nomination, field=field_of(nomination.call, field_key),
                            original_name=name, stored_name=stored,
                            content_type="application/pdf", size=len(data), sha256="0" * 64)
    session.add(attachment)
    session.flush()
    return attachment


def build(session: Session) -> RulebookWorld:
    w = RulebookWorld()
    users = {role: make_account(session, email, name=name, admin=(role == "admin"))
             for role, (email, name) in ACCOUNTS.items()}
    w.user_ids = {role: u.id for role, u in users.items()}
    w.emails = {role: u.email for role, u in users.items()}
    call = judging_call(session, slug="rbk-2026", reference_prefix="RBK", title_en="Rulebook")
    w.call_id, w.slug = call.id, call.slug
    rubric = make_rubric(session, call)
    w.criteria = {c.key: c.id for c in rubric.criteria}
    panel = make_panel(session, call, [(users["juror"], False),
                                       (users["conflicted_juror"], False),
                                       (users["chair"], True), (users["chair_juror"], True)])
    round_ = make_round(session, call, rubric=rubric, panel=panel)
    w.round_id = round_.id
    w.next_round_id = make_round(session, call, rubric=rubric, panel=panel,
                                 status=RoundStatus.DRAFT, name_en="Short list").id
    category = next(c for c in call.categories if c.code == "social")
    w.category_id = category.id
    gold = AwardLevel(key="gold", name_en="Winner", name_ru="Победитель", name_kk="Жеңімпаз",
                      count=1, position=1)
    laureate = AwardLevel(key="laureate", name_en="Laureate", name_ru="Лауреат",
                          name_kk="Лауреат", count=2, position=2)
    category.award_levels.extend([gold, laureate])
    session.flush()
    w.gold_id, w.laureate_id = gold.id, laureate.id
    nominations = {}
    for key, (nominee, email, organisation, owner) in ENTRIES.items():
        nomination = make_entry(session, call, applicant=users[owner], nominee_name=nominee,
                                nominee_email=email, organisation_name=organisation,
                                with_files=False)
        for answer in nomination.answers:
            if answer.field.key == "contact_email":
                answer.value = private_email(key)
        nomination.answers.append(Answer(field=field_of(call, "truthful"), value=True))
        nominations[key] = nomination
        w.entry[key], w.reference[key] = nomination.id, nomination.reference
        session.add(RoundEntry(round_id=round_.id, nomination_id=nomination.id))
    w.document_id = _attach(session, nominations["E1"], "documents", FILE_NAME,
                            pdf_with_author(ENTRIES["E1"][0])).id
    for role, keys in (("juror", ("E1", "E2", "E3")), ("conflicted_juror", ("E1", "E2")),
                       ("chair_juror", ("E1", "E2"))):
        for key in keys:
            w.assignment[(role, key)] = assign(session, round_, nominations[key],
                                               users[role]).id
    w.conflict_ids = [add_conflict(session, users["conflicted_juror"], nominations["E1"]).id,
                      add_conflict(session, users["chair"], nominations["E3"]).id]
    w.secrets = {role: make_token(session, user) for role, user in users.items()}
    w.secrets["anonymous"] = None
    return w


# Submitted reviews every phase starts with (so rankings have scores): (role, entry, scores).
BASELINE_REVIEWS = (
    ("juror", "E2", {"impact": 8, "originality": 7, "scale": 4}),
    ("juror", "E3", {"impact": 6, "originality": 5, "scale": 3}),
    ("conflicted_juror", "E2", {"impact": 7, "originality": 7, "scale": 4}),
    ("chair_juror", "E2", {"impact": 9, "originality": 8, "scale": 5}),
)
FULL_SCORES = {"impact": 7, "originality": 6.5, "scale": 4}


def add_review(session: Session, w: RulebookWorld, role: str, key: str,
               scores: dict[str, float], *, submitted: bool = True) -> None:
    criteria = {c.key: c for c in session.scalars(select(Criterion).join(Round, Round.rubric_id
                                                                         == Criterion.rubric_id)
                                                  .where(Round.id == w.round_id))}
    review = Review(assignment_id=w.assignment[(role, key)],
                    status=ReviewStatus.SUBMITTED if submitted else ReviewStatus.DRAFT,
                    submitted_at=utcnow() if submitted else None,
                    total=sum(criteria[k].weight * v for k, v in scores.items()))
    review.scores = [Score(criterion_id=criteria[k].id, value=v) for k, v in scores.items()]
    session.add(review)
    session.flush()


def reset(session: Session, w: RulebookWorld, phase: CallStatus, *, blind: bool = False,
          reviewed: tuple[str, ...] = ()) -> None:
    """The world as a call in ``phase`` has it; ``reviewed``: roles whose review of E1 is
    submitted (to be reopened)."""
    now = utcnow()
    call = session.get(Call, w.call_id)
    call.status = phase
    call.opens_at = now - timedelta(days=60)
    call.closes_at = now + timedelta(days=10) if phase == CallStatus.OPEN \
        else now - timedelta(days=30)
    round_status, first, others = _state(phase)
    rnd = session.get(Round, w.round_id)
    rnd.status, rnd.blind = round_status, blind
    rnd.opens_at, rnd.closes_at = now - timedelta(days=1), now + timedelta(days=7)
    session.get(Round, w.next_round_id).status = RoundStatus.DRAFT
    session.execute(delete(RoundEntry).where(RoundEntry.round_id == w.next_round_id))
    for key, nomination_id in w.entry.items():
        session.execute(update(Nomination).where(Nomination.id == nomination_id).values(
            status=first if key == "E1" else others, withdrawn_at=None))
    session.execute(delete(Decision).where(Decision.call_id == w.call_id))
    session.execute(update(Answer).where(
        Answer.nomination_id.in_(list(w.entry.values())),
        Answer.field_id == select(FormField.id).where(
            FormField.call_id == w.call_id, FormField.key == "title").scalar_subquery())
        .values(value="Clean rivers"))
    kept = list(w.assignment.values())
    session.execute(delete(Score).where(Score.review_id.in_(
        select(Review.id).join(Assignment).where(Assignment.round_id.in_(
            [w.round_id, w.next_round_id])))))
    session.execute(delete(Review).where(Review.assignment_id.in_(
        select(Assignment.id).where(Assignment.round_id.in_([w.round_id, w.next_round_id])))))
    session.execute(delete(Assignment).where(Assignment.round_id.in_(
        [w.round_id, w.next_round_id]), Assignment.id.not_in(kept)))
    session.execute(update(Assignment).where(Assignment.id.in_(kept)).values(
        status=AssignmentStatus.ACTIVE, recused_at=None))
    session.execute(delete(Conflict).where(Conflict.nomination_id.in_(list(w.entry.values())),
                                           Conflict.id.not_in(w.conflict_ids)))
    session.expire_all()
    for role, key, scores in BASELINE_REVIEWS:
        add_review(session, w, role, key, scores)
    for role in reviewed:
        add_review(session, w, role, "E1", FULL_SCORES)
    if phase in (CallStatus.DELIBERATION, CallStatus.RESULTS_SCHEDULED, CallStatus.PUBLISHED,
                 CallStatus.CORRECTING):
        # The winner is decided from deliberation on.
        session.add(Decision(call_id=w.call_id, category_id=w.category_id, round_id=w.round_id,
                             nomination_id=w.entry["E1"], kind=DecisionKind.AWARD,
                             award_level_id=w.gold_id, decided_by_id=w.user_ids["admin"],
                             decided_at=now - timedelta(hours=1)))
    session.flush()
