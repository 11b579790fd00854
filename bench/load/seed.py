"""A realistic site for the load benchmark, written with bulk inserts (seconds, not minutes):

- an open call (five categories, a five-question form with a required PDF) that already holds
  ``entries`` submitted nominations, so new references continue after them;
- last year's call in judging: ``entries`` eligible entries, an open scoring round with a
  five-criterion rubric and a panel of ``jurors``, each entry assigned to three jurors;
- ``applicants`` + ``jurors`` accounts that log in through the login form. They share one
  password hash at production cost, so each login pays the real argon2 verification."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from awards.auth.models import User
from awards.auth.services import hash_password
from awards.calls.models import Call, Category, FormField, Programme
from awards.db import utcnow
from awards.enums import (
    AssignmentStatus,
    CallStatus,
    FieldType,
    JurorStatus,
    NominationStatus,
    NominatorKind,
    RoundKind,
    RoundStatus,
)
from awards.jury.models import Assignment, Criterion, JuryMember, Panel, Round, RoundEntry, Rubric
from awards.nominations.models import Answer, Nomination, ReferenceCounter
from bench.common import insert_rows

PASSWORD = "bench-password-123"
REVIEWS_PER_ENTRY = 3
CATEGORIES = (
    ("social", "Social helper", "Социальный помощник", "Әлеуметтік көмекші"),
    ("ecology", "Environment", "Экология", "Экология"),
    ("events", "Event volunteering", "Событийное волонтёрство", "Іс-шаралық волонтерлік"),
    ("corporate", "Corporate volunteering", "Корпоративное волонтёрство",
     "Корпоративтік волонтерлік"),
    ("organisation", "Volunteer organisation", "Волонтёрская организация",
     "Волонтерлік ұйым"),
)
REGIONS = ("almaty", "astana", "shymkent", "abroad")
# (key, weight, min, max, step)
CRITERIA = (("impact", 2, 0, 10, 1), ("originality", 1, 0, 10, 0.5), ("scale", 1, 1, 5, 1),
            ("sustainability", 1, 0, 10, 1), ("presentation", 1, 0, 10, 1))
ACTIVITY = ("We organised weekly food deliveries for 120 elderly people in three districts, "
            "trained 45 new volunteers and ran a hotline during the spring floods. ") * 4


@dataclass
class World:
    open_slug: str
    open_prefix: str
    judging_slug: str
    category_codes: list[str]
    applicants: list[str]
    # juror e-mail -> that juror's assignment ids
    jurors: dict[str, list[int]]
    # criterion id -> (min, max, step)
    criteria: dict[int, tuple[float, float, float]]
    entries: int
    password: str = PASSWORD
    read_paths: list = field(default_factory=list)
    # For further calls (bench.load.public): who owns the seeded entries, and the admin.
    programme_id: int = 0
    admin_id: int = 0
    crowd: list[int] = field(default_factory=list)


def add_call(session: Session, programme: Programme, *, slug: str, prefix: str, year: int,
             status: CallStatus, opens, closes) -> Call:
    call = Call(programme=programme, slug=slug, reference_prefix=prefix, year=year,
                title_en=f"Volunteer of the Year {year}", title_ru=f"Волонтёр года — {year}",
                title_kk=f"Жыл волонтері — {year}",
                rules_en="Anyone may nominate.\n\nWinners are announced on 5 December.",
                rules_ru="Выдвигать может любой.\n\nПобедители объявляются 5 декабря.",
                consent_text_en="I agree that my personal data is processed to run the prize.",
                consent_text_ru="Я согласен(на) на обработку персональных данных.",
                opens_at=opens, closes_at=closes, status=status,
                allowed_nominator_kinds=[k.value for k in NominatorKind])
    call.categories = [Category(code=code, name_en=en, name_ru=ru, name_kk=kk, position=i,
                                winners_count=3)
                       for i, (code, en, ru, kk) in enumerate(CATEGORIES, start=1)]
    session.add(call)
    session.flush()
    options = [{"value": v, "label_en": v.title(), "label_ru": v.title(), "label_kk": v.title()}
               for v in REGIONS]
    call.fields = [
        FormField(key="title", type=FieldType.SHORT_TEXT, position=1, required=True,
                  max_length=200, label_en="Project title", label_ru="Название проекта"),
        FormField(key="activity", type=FieldType.LONG_TEXT, position=2, required=True,
                  max_length=4000, label_en="Description of the activity",
                  label_ru="Описание деятельности"),
        FormField(key="region", type=FieldType.SINGLE_CHOICE, position=3, required=True,
                  options=options, label_en="Region", label_ru="Регион"),
        FormField(key="documents", type=FieldType.FILE, position=4, required=True,
                  file_types=["pdf"], file_max_bytes=2 * 1024 * 1024, file_max_count=2,
                  label_en="Supporting documents", label_ru="Подтверждающие документы"),
        FormField(key="truthful", type=FieldType.CHECKBOX, position=5, required=True,
                  label_en="I confirm the information is accurate",
                  label_ru="Подтверждаю достоверность сведений"),
    ]
    session.flush()
    return call


def add_entries(session: Session, call: Call, *, count: int, status: NominationStatus,
                applicant_ids: list[int], now) -> list[int]:
    cats = [c.id for c in call.categories]
    insert_rows(session, Nomination, [
        {"call_id": call.id, "category_id": cats[i % len(cats)],
         "applicant_id": applicant_ids[i % len(applicant_ids)],
         "nominator_kind": NominatorKind.SELF, "status": status,
         "reference": f"{call.reference_prefix}-{call.year}-{i + 1:05d}",
         "nominee_name": f"Nominee {i + 1}", "nominee_email": f"nominee{i + 1}@seed.bench",
         "submitted_at": now - timedelta(days=1), "nominee_consent_at": now,
         "version_id": 1} for i in range(count)])
    ids = list(session.scalars(select(Nomination.id).where(Nomination.call_id == call.id)
                               .order_by(Nomination.id)))
    by_key = {f.key: f.id for f in call.fields}
    answers = []
    for n, nomination_id in enumerate(ids):
        answers += [
            {"nomination_id": nomination_id, "field_id": by_key["title"],
             "value": f"Project {n + 1}: help that reaches people"},
            {"nomination_id": nomination_id, "field_id": by_key["activity"], "value": ACTIVITY},
            {"nomination_id": nomination_id, "field_id": by_key["region"],
             "value": REGIONS[n % len(REGIONS)]},
            {"nomination_id": nomination_id, "field_id": by_key["truthful"], "value": True},
        ]
    insert_rows(session, Answer, answers)
    return ids


def add_accounts(session: Session, prefix: str, count: int, password_hash: str,
                 now) -> list[int]:
    insert_rows(session, User, [
        {"email": f"{prefix}{i}@bench.local", "password_hash": password_hash,
         "full_name": f"{prefix.title()} {i}", "preferred_language": "en",
         "email_verified_at": now} for i in range(count)])
    return list(session.scalars(select(User.id).where(User.email.like(f"{prefix}%@bench.local"))
                                .order_by(User.id)))


def decided_call(session: Session, programme: Programme, admin_id: int, crowd: list[int],
                 now, *, slug: str, year: int, entries: int, status: CallStatus) -> Call:
    """A call of ``entries`` eligible entries whose winners are decided (three per category,
    with citations), not published."""
    from awards.enums import DecisionKind
    from awards.ranking.models import Decision
    from awards.results.models import Citation

    call = add_call(session, programme, slug=slug, prefix="VOY", year=year, status=status,
                    opens=now - timedelta(days=700), closes=now - timedelta(days=650))
    ids = add_entries(session, call, count=entries, status=NominationStatus.ELIGIBLE,
                      applicant_ids=crowd, now=now)
    by_category: dict[int, list[int]] = {}
    for nomination_id, category_id in session.execute(
            select(Nomination.id, Nomination.category_id).where(Nomination.id.in_(ids))):
        by_category.setdefault(category_id, []).append(nomination_id)
    for category_id, members in by_category.items():
        for nomination_id in sorted(members)[:3]:
            session.add(Decision(call_id=call.id, category_id=category_id,
                                 nomination_id=nomination_id, kind=DecisionKind.AWARD,
                                 decided_by_id=admin_id))
            session.add(Citation(nomination_id=nomination_id,
                                 text_en="For years of steady help to people who needed it.",
                                 text_ru="За годы неизменной помощи тем, кто в ней нуждался.",
                                 text_kk="Көмекке мұқтаж адамдарға жылдар бойы көрсеткен "
                                         "көмегі үшін."))
    session.flush()
    return call


def _published_results(session: Session, programme: Programme, admin_id: int, crowd: list[int],
                       now, entries: int) -> str | None:
    """Last edition's call with its published winners, snapshotted by the results service
    itself; None when that service is not there."""
    try:
        from awards.results.models import Publication
        from awards.results.services import build_snapshot, decided_winners
    except ImportError:
        return None
    from awards.enums import PublicationStatus

    call = decided_call(session, programme, admin_id, crowd, now, slug="voy-2024", year=2024,
                        entries=entries, status=CallStatus.PUBLISHED)
    session.add(Publication(call_id=call.id, version=1, status=PublicationStatus.PUBLISHED,
                            scheduled_for=now - timedelta(days=300),
                            published_at=now - timedelta(days=300),
                            snapshot=build_snapshot(call, decided_winners(session, call)),
                            created_by_id=admin_id))
    session.flush()
    return call.slug


def build(session: Session, *, entries: int, jurors: int, applicants: int,
          published_entries: int = 300) -> World:
    now = utcnow()
    password_hash = hash_password(PASSWORD)
    programme = Programme(slug="nvn", name_en="National Volunteer Network",
                          name_ru="Национальная волонтёрская сеть")
    session.add(programme)
    open_call = add_call(session, programme, slug="voy-2026", prefix="VOY", year=2026,
                         status=CallStatus.OPEN, opens=now - timedelta(days=20),
                         closes=now + timedelta(days=20))
    judging_call = add_call(session, programme, slug="voy-2025", prefix="VOY", year=2025,
                            status=CallStatus.JUDGING, opens=now - timedelta(days=400),
                            closes=now - timedelta(days=300))

    # Earlier applicants own the seeded entries and never log in.
    crowd = add_accounts(session, "crowd", max(1, entries // 2), "!", now)
    admin_id = add_accounts(session, "admin", 1, "!", now)[0]
    # The results day is published as this administrator (the policy's Action.PUBLISH).
    session.execute(update(User).where(User.id == admin_id).values(is_admin=True))
    add_accounts(session, "applicant", applicants, password_hash, now)
    juror_ids = add_accounts(session, "juror", jurors, password_hash, now)

    add_entries(session, open_call, count=entries, status=NominationStatus.SUBMITTED,
                applicant_ids=crowd, now=now)
    session.add(ReferenceCounter(call_id=open_call.id, last_number=entries))
    judged = add_entries(session, judging_call, count=entries, status=NominationStatus.ELIGIBLE,
                         applicant_ids=crowd, now=now)

    rubric = Rubric(call_id=judging_call.id, name="Expert scoring")
    rubric.criteria = [Criterion(key=key, title_en=key.title(), title_ru=key.title(),
                                 description_en=f"How strong the {key} is.", weight=weight,
                                 min_score=low, max_score=high, step=step, position=i)
                       for i, (key, weight, low, high, step) in enumerate(CRITERIA, start=1)]
    panel = Panel(call_id=judging_call.id, name="Main panel")
    session.add_all([rubric, panel])
    session.flush()
    insert_rows(session, JuryMember, [
        {"panel_id": panel.id, "user_id": uid, "email": f"juror{j}@bench.local",
         "status": JurorStatus.ACTIVE, "accepted_at": now} for j, uid in enumerate(juror_ids)])
    rnd = Round(call_id=judging_call.id, position=1, name_en="Long list",
                name_ru="Длинный список", kind=RoundKind.SCORING, rubric_id=rubric.id,
                panel_id=panel.id, opens_at=now - timedelta(days=1),
                closes_at=now + timedelta(days=14), status=RoundStatus.OPEN,
                reviews_per_entry=REVIEWS_PER_ENTRY)
    session.add(rnd)
    session.flush()
    insert_rows(session, RoundEntry, [{"round_id": rnd.id, "nomination_id": n} for n in judged])
    spread = max(1, jurors // REVIEWS_PER_ENTRY)
    rows = []
    for i, nomination_id in enumerate(judged):
        for k in range(REVIEWS_PER_ENTRY):
            rows.append({"round_id": rnd.id, "nomination_id": nomination_id,
                         "juror_id": juror_ids[(i + k * spread) % jurors],
                         "status": AssignmentStatus.ACTIVE, "assigned_at": now,
                         "recusal_reason": ""})
    insert_rows(session, Assignment, rows)
    by_juror: dict[int, list[int]] = {uid: [] for uid in juror_ids}
    for assignment_id, juror_id in session.execute(
            select(Assignment.id, Assignment.juror_id).where(Assignment.round_id == rnd.id)
            .order_by(Assignment.id)):
        by_juror[juror_id].append(assignment_id)
    results_slug = _published_results(session, programme, admin_id, crowd, now,
                                      published_entries)
    read_paths = ["/", "/calls/", f"/calls/{open_call.slug}", f"/calls/{judging_call.slug}"]
    if results_slug is not None:
        read_paths += [f"/results/{results_slug}", "/results/"]
    return World(
        open_slug=open_call.slug, open_prefix=open_call.reference_prefix,
        judging_slug=judging_call.slug, category_codes=[c[0] for c in CATEGORIES],
        applicants=[f"applicant{i}@bench.local" for i in range(applicants)],
        jurors={f"juror{j}@bench.local": by_juror[uid] for j, uid in enumerate(juror_ids)},
        criteria={c.id: (c.min_score, c.max_score, c.step) for c in rubric.criteria},
        entries=entries,
        read_paths=read_paths,
        programme_id=programme.id, admin_id=admin_id, crowd=crowd,
    )
