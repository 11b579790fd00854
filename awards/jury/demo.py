"""Demo data for the jury, added by ``flask awards seed`` after the demo calls exist.

"Volunteer Project of the Year", of the demo's year: nominations closed three weeks before the
demo's "now", eight projects passed screening, and the jury's long-list round is being scored
(opened three days ago, closes in a week). Each project is read by three of jury1 … jury5;
each juror has submitted some reviews, keeps one as a draft and has the rest still to do.

Reviews are written as rows (their totals by ``judging.totals``), not through the scoring
service: demo data is nobody's action, so it leaves the audit log and the outbox alone."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from awards.auth.models import User
from awards.calls.models import AwardLevel, Call, Category, FormField, Programme
from awards.demo import JURORS, day_end, day_start, today
from awards.enums import (
    AssignmentStatus,
    CallStatus,
    FieldType,
    JurorStatus,
    NominationStatus,
    NominatorKind,
    ReviewStatus,
    RoundKind,
    RoundStatus,
    TotalMethod,
)
from awards.judging.totals import review_total
from awards.jury.models import (
    Assignment,
    Criterion,
    JuryMember,
    Panel,
    Review,
    Round,
    RoundEntry,
    Rubric,
    Score,
)
from awards.nominations.models import Answer, Nomination

PROGRAMME_SLUG = "national-volunteer-network"
REVIEWS_PER_ENTRY = 3
# Of each juror's assignments, in order: this many submitted, then one draft, then to do.
SUBMITTED_PER_JUROR = 2

# (key, weight, title kk/ru/en)
CRITERIA = [
    ("impact", 2.0, ("Нәтижесі", "Результат", "Impact")),
    ("reach", 1.0, ("Ауқымы", "Охват", "Reach")),
    ("sustainability", 1.0, ("Тұрақтылығы", "Устойчивость", "Sustainability")),
]

# (code, kk, ru, en, [(team, project kk, ru, en)])
CATEGORIES = [
    ("community", "Қоғамдастық жобасы", "Проект для местного сообщества", "Community Project", [
        ("«Мейірім» қоры", "Қарттарға арналған азық-түлік банкі",
         "Продуктовый банк для пожилых", "A food bank for older people"),
        ("Ақтөбе студенттері", "Ауыл мектептеріне арналған онлайн-репетиторлық",
         "Онлайн-репетиторство для сельских школ", "Online tutoring for village schools"),
        ("«Бірге» командасы", "Мүмкіндігі шектеулі жандарға такси",
         "Социальное такси для людей с инвалидностью",
         "A social taxi for people with disabilities"),
        ("Қарағанды еріктілері", "Жетім балаларға тәлімгерлік",
         "Наставничество для детей-сирот", "Mentoring for orphaned children"),
    ]),
    ("environment", "Экологиялық жоба", "Экологический проект", "Environmental Project", [
        ("«Таза Қала» қозғалысы", "Қалалық қоқысты сұрыптау",
         "Раздельный сбор мусора во дворах", "Sorting waste in city courtyards"),
        ("Алатау еріктілері", "Тау соқпақтарын тазарту", "Очистка горных троп",
         "Cleaning mountain trails"),
        ("«Жасыл ел» жастары", "Мектеп аулаларында 5 000 ағаш",
         "5 000 деревьев в школьных дворах", "5,000 trees in school yards"),
        ("Каспий еріктілері", "Итбалықтарды құтқару", "Спасение каспийских тюленей",
         "Rescuing Caspian seals"),
    ]),
]


def slug(year: int) -> str:
    return f"volunteer-project-{year}"


def _scores(entry: int, juror: int) -> dict[str, float]:
    """Plausible, spread scores out of 10, the same whenever the demo is loaded."""
    base = 4 + (entry * 3) % 5 + (1 if juror % 2 else 0)
    return {key: float(max(0, min(10, base + (n + juror) % 3 - 1)))
            for n, (key, _, _) in enumerate(CRITERIA)}


def seed(session: Session, now: datetime) -> bool:
    """Create whatever part of this feature's demo is missing; True if anything was created."""
    day = today(now)
    year = day.year
    if session.scalar(select(Call.id).where(Call.slug == slug(year))) is not None:
        return False
    programme = session.scalar(select(Programme).where(Programme.slug == PROGRAMME_SLUG))
    jurors = {u.email: u for u in session.scalars(select(User).where(User.email.in_(JURORS)))}
    if programme is None or len(jurors) < len(JURORS):
        return False
    jurors_in_order = [jurors[email] for email in JURORS]

    closes_at = day_end(day - timedelta(days=21))
    call = Call(
        programme=programme, slug=slug(year), reference_prefix="VPY", year=year,
        title_kk=f"Жылдың волонтерлік жобасы — {year}",
        title_ru=f"Волонтёрский проект года — {year}",
        title_en=f"Volunteer Project of the Year {year}",
        opens_at=day_start(day - timedelta(days=80)), closes_at=closes_at,
        status=CallStatus.JUDGING,
        allowed_nominator_kinds=[NominatorKind.OTHER.value, NominatorKind.ORGANISATION.value])
    project = FormField(key="project", type=FieldType.SHORT_TEXT, position=1, required=True,
                        max_length=300, label_kk="Жоба", label_ru="Проект", label_en="Project",
                        is_public=True)
    call.fields = [project]
    rubric = Rubric(name=f"Критерии «Волонтёрский проект года — {year}»",
                    total_method=TotalMethod.SUM)
    rubric.criteria = [
        Criterion(key=key, weight=weight, position=position, min_score=0, max_score=10, step=1,
                  title_kk=titles[0], title_ru=titles[1], title_en=titles[2])
        for position, (key, weight, titles) in enumerate(CRITERIA, start=1)
    ]
    call.rubrics.append(rubric)
    panel = Panel(name=f"Жюри «Волонтёрский проект года — {year}»")
    panel.members = [
        JuryMember(email=user.email, user_id=user.id, is_chair=(n == 0),
                   status=JurorStatus.ACTIVE, invited_at=day_start(day - timedelta(days=40), 10),
                   accepted_at=day_start(day - timedelta(days=38), 12))
        for n, user in enumerate(jurors_in_order)
    ]
    call.panels.append(panel)
    round_ = Round(position=1, name_kk="Ұзын тізім", name_ru="Длинный список",
                   name_en="Long list", kind=RoundKind.SCORING, rubric=rubric, panel=panel,
                   opens_at=day_start(day - timedelta(days=3), 9),
                   closes_at=day_end(day + timedelta(days=7)), status=RoundStatus.OPEN,
                   blind=False, reviews_per_entry=REVIEWS_PER_ENTRY)
    call.rounds = [round_]
    session.add(call)

    entries = []
    for position, (code, kk, ru, en, projects) in enumerate(CATEGORIES, start=1):
        category = Category(code=code, name_kk=kk, name_ru=ru, name_en=en, position=position,
                            winners_count=1)
        category.award_levels = [
            AwardLevel(key="winner", name_kk="Жеңімпаз", name_ru="Победитель",
                       name_en="Winner", count=1, position=1)]
        call.categories.append(category)
        session.flush()
        for team, *titles in projects:
            number = len(entries) + 1
            nomination = Nomination(
                call=call, category=category, applicant_id=None,
                nominator_kind=NominatorKind.ORGANISATION, organisation_name=team,
                nominee_name=team, reference=f"VPY-{year}-{number:05d}",
                status=NominationStatus.ELIGIBLE,
                submitted_at=closes_at - timedelta(days=20, hours=number))
            nomination.answers.append(Answer(field=project, value=titles[1]))
            session.add(nomination)
            entries.append(nomination)
    session.flush()

    criteria = [(c.key, c.weight, c.min_score, c.max_score, c.step) for c in rubric.criteria]
    done = {user.id: 0 for user in jurors_in_order}
    for i, nomination in enumerate(entries):
        session.add(RoundEntry(round_id=round_.id, nomination_id=nomination.id))
        for k in range(REVIEWS_PER_ENTRY):
            j = (i + k) % len(jurors_in_order)
            juror = jurors_in_order[j]
            assignment = Assignment(round=round_, nomination=nomination, juror_id=juror.id,
                                    status=AssignmentStatus.ACTIVE,
                                    assigned_at=round_.opens_at - timedelta(hours=1))
            session.add(assignment)
            started = done[juror.id]
            done[juror.id] += 1
            if started > SUBMITTED_PER_JUROR:
                continue  # still to do
            scores = _scores(i, j)
            if started == SUBMITTED_PER_JUROR:
                # A draft: the first criterion scored, the rest still to think about.
                first = criteria[0][0]
                scores = {key: (value if key == first else None)
                          for key, value in scores.items()}
            written = now - timedelta(days=2, hours=3 * (i + k))
            submitted = started < SUBMITTED_PER_JUROR
            review = Review(assignment=assignment,
                            status=ReviewStatus.SUBMITTED if submitted else ReviewStatus.DRAFT,
                            total=review_total(scores, criteria, rubric.total_method),
                            submitted_at=written if submitted else None, updated_at=written)
            review.scores = [Score(criterion=c, value=scores[c.key]) for c in rubric.criteria]
            session.add(review)
    session.flush()
    return True
