"""Jury data written straight to the database: a call with eligible entries, a scoring round
with its rubric, a panel with jurors, assignments, conflicts and reviews.

Helpers take the session and flush; tests commit through ``tests.factories.arrange``.
``jury_setup`` builds the usual world in one go and returns plain ids, so a test can use them
after the session is gone."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from awards.auth.models import User
from awards.auth.services import hash_password
from awards.calls.models import Call
from awards.db import utcnow
from awards.enums import (
    AssignmentStatus,
    CallStatus,
    ConflictSource,
    JurorStatus,
    NominationStatus,
    ReviewStatus,
    RoundKind,
    RoundStatus,
    TotalMethod,
)
from awards.jury.models import (
    Assignment,
    Conflict,
    Criterion,
    JuryMember,
    Panel,
    Review,
    Round,
    Rubric,
    Score,
)
from awards.nominations.models import Attachment, Nomination
from awards.storage import path_for
from tests.conftest import PASSWORD
from tests.factories import field_of, make_call, make_nomination

NOMINEE = "Aigerim Sadykova"
ORGANISATION = "Steppe Rescue Team"
SECRET_CITY_ANSWER = "Known in Shymkent"  # an identifying answer

# (key, title_en, weight, min, max, step)
CRITERIA = (
    ("impact", "Impact", 2.0, 0.0, 10.0, 1.0),
    ("originality", "Originality", 1.0, 0.0, 10.0, 0.5),
    ("scale", "Scale", 1.0, 1.0, 5.0, 1.0),
)

_password_hash: str | None = None


def make_account(session: Session, email: str, *, name: str = "", admin: bool = False) -> User:
    global _password_hash
    if _password_hash is None:
        _password_hash = hash_password(PASSWORD)
    user = User(email=email, password_hash=_password_hash, full_name=name or email.split("@")[0],
                is_admin=admin, preferred_language="en", email_verified_at=utcnow())
    session.add(user)
    session.flush()
    return user


def judging_call(session: Session, **overrides: Any) -> Call:
    """A call whose nominations closed a month ago and is now being judged; its "contact_email"
    field is identifying (hidden in blind rounds) and so is the "photo" file field."""
    now = utcnow()
    values: dict[str, Any] = {"opens_at": now - timedelta(days=60),
                              "closes_at": now - timedelta(days=30),
                              "status": CallStatus.JUDGING}
    values.update(overrides)
    call = make_call(session, **values)
    field_of(call, "contact_email").is_identifying = True
    field_of(call, "photo").is_identifying = True
    session.flush()
    return call


def make_rubric(session: Session, call: Call, *, method: TotalMethod = TotalMethod.SUM,
                criteria=CRITERIA) -> Rubric:
    rubric = Rubric(call=call, name="Expert scoring", total_method=method)
    rubric.criteria = [
        Criterion(key=key, title_en=title, title_ru=title, title_kk=title,
                  description_en=f"How strong the {title.lower()} is.",
                  weight=weight, min_score=low, max_score=high, step=step, position=position)
        for position, (key, title, weight, low, high, step) in enumerate(criteria, start=1)
    ]
    session.add(rubric)
    session.flush()
    return rubric


def make_panel(session: Session, call: Call, members: list[tuple[User, bool]]) -> Panel:
    """Active members: (user, is_chair)."""
    panel = Panel(call=call, name="Main panel")
    panel.members = [
        JuryMember(email=user.email, user_id=user.id, is_chair=chair,
                   status=JurorStatus.ACTIVE, accepted_at=utcnow())
        for user, chair in members
    ]
    session.add(panel)
    session.flush()
    return panel


def make_round(session: Session, call: Call, *, rubric: Rubric, panel: Panel,
               status: RoundStatus = RoundStatus.OPEN, blind: bool = False,
               closes_in: timedelta | None = timedelta(days=7), **overrides: Any) -> Round:
    now = utcnow()
    values: dict[str, Any] = {
        "position": len(call.rounds) + 1, "name_en": "Long list", "name_ru": "Длинный список",
        "name_kk": "Ұзын тізім", "kind": RoundKind.SCORING, "rubric": rubric, "panel": panel,
        "opens_at": now - timedelta(days=1),
        "closes_at": (now + closes_in) if closes_in is not None else None,
        "status": status, "blind": blind,
    }
    values.update(overrides)
    round_ = Round(call=call, **values)
    session.add(round_)
    session.flush()
    return round_


def make_entry(session: Session, call: Call, *, applicant: User, category: str = "social",
               nominee_name: str = NOMINEE, with_files: bool = True, **columns: Any) -> Nomination:
    """An eligible entry with answers, a supporting PDF and an (identifying) photo."""
    nomination = make_nomination(
        session, call=call, applicant_id=applicant.id, category=category,
        status=NominationStatus.ELIGIBLE, nominee_name=nominee_name,
        organisation_name=columns.pop("organisation_name", ORGANISATION),
        nominee_email=columns.pop("nominee_email", "aigerim@example.org"),
        answers={"title": "Clean rivers", "activity": "We cleaned 12 rivers.",
                 "years": 5, "region": "almaty", "contact_email": SECRET_CITY_ANSWER},
        **columns,
    )
    count = session.query(Nomination).filter(Nomination.call_id == call.id).count()
    nomination.reference = f"{call.reference_prefix}-{call.year}-{count:05d}"
    if with_files:
        add_attachment(session, nomination, "documents", "report.pdf")
        add_attachment(session, nomination, "photo", "face.pdf")
    session.flush()
    return nomination


def add_attachment(session: Session, nomination: Nomination, field_key: str,
                   name: str) -> Attachment:
    import secrets

    stored = secrets.token_hex(16) + ".pdf"
    path = path_for(stored)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = one_page_pdf()  # a real PDF: blind rounds serve a cleaned copy, which must parse
    path.write_bytes(data)
    attachment = Attachment(nomination=nomination, field=field_of(nomination.call, field_key),
                            original_name=name, stored_name=stored,
                            content_type="application/pdf", size=len(data), sha256="0" * 64)
    session.add(attachment)
    session.flush()
    return attachment


def one_page_pdf() -> bytes:
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def assign(session: Session, round_: Round, nomination: Nomination, juror: User,
           status: AssignmentStatus = AssignmentStatus.ACTIVE) -> Assignment:
    assignment = Assignment(round=round_, nomination=nomination, juror_id=juror.id,
                            status=status)
    session.add(assignment)
    session.flush()
    return assignment


def add_conflict(session: Session, user: User, nomination: Nomination,
                 source: ConflictSource = ConflictSource.ADMIN) -> Conflict:
    conflict = Conflict(user_id=user.id, nomination_id=nomination.id, source=source,
                        reason="Relative")
    session.add(conflict)
    session.flush()
    return conflict


def add_review(session: Session, assignment: Assignment, values: dict[str, float | None], *,
               submitted: bool = True, comment: str = "", total: float | None = None,
               note: str = "") -> Review:
    """A review with scores by criterion key (total as given: tests state it)."""
    by_key = {c.key: c for c in assignment.round.rubric.criteria}
    review = Review(assignment=assignment, overall_comment=comment, private_note=note,
                    status=ReviewStatus.SUBMITTED if submitted else ReviewStatus.DRAFT,
                    submitted_at=utcnow() if submitted else None, total=total)
    review.scores = [Score(criterion=by_key[key], value=value) for key, value in values.items()]
    session.add(review)
    session.flush()
    return review


@dataclass
class JuryWorld:
    call_id: int
    round_id: int
    rubric_id: int
    juror_id: int
    juror_email: str
    other_id: int
    other_email: str
    chair_id: int
    chair_email: str
    entry_ids: list[int] = field(default_factory=list)
    # assignment ids of the juror, the other juror and the chair, per entry (same order)
    mine: list[int] = field(default_factory=list)
    others: list[int] = field(default_factory=list)
    chairs: list[int] = field(default_factory=list)
    criterion_ids: dict[str, int] = field(default_factory=dict)


def jury_setup(session: Session, *, entries: int = 2, blind: bool = False,
               method: TotalMethod = TotalMethod.SUM, status: RoundStatus = RoundStatus.OPEN,
               closes_in: timedelta | None = timedelta(days=7),
               categories: tuple[str, ...] = ("social", "ecology"),
               **round_overrides: Any) -> JuryWorld:
    """One open scoring round; a juror, another juror and a chair each assigned every entry.
    Entry *i* is in ``categories[i % len(categories)]``."""
    applicant = make_account(session, "applicant@example.com", name="Applicant Person")
    juror = make_account(session, "juror@example.com", name="Juror One")
    other = make_account(session, "other@example.com", name="Juror Two")
    chair = make_account(session, "chair@example.com", name="Chair Person")
    call = judging_call(session)
    rubric = make_rubric(session, call, method=method)
    panel = make_panel(session, call, [(juror, False), (other, False), (chair, True)])
    round_ = make_round(session, call, rubric=rubric, panel=panel, blind=blind, status=status,
                        closes_in=closes_in, **round_overrides)
    world = JuryWorld(call.id, round_.id, rubric.id, juror.id, juror.email, other.id,
                      other.email, chair.id, chair.email,
                      criterion_ids={c.key: c.id for c in rubric.criteria})
    for i in range(entries):
        entry = make_entry(session, call, applicant=applicant,
                           category=categories[i % len(categories)],
                           nominee_name=NOMINEE if i == 0 else f"Nominee {i + 1}")
        world.entry_ids.append(entry.id)
        world.mine.append(assign(session, round_, entry, juror).id)
        world.others.append(assign(session, round_, entry, other).id)
        world.chairs.append(assign(session, round_, entry, chair).id)
    return world
