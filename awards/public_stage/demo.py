"""Demo data for this feature, added by ``flask awards seed`` after the demo calls exist.

A small extra call, "Young Volunteer of the Year" of the demo's year, screened and now in its
people's vote (opened a day before the demo's "now", closes nine days after it), so a newcomer
can verify an address with the code from the outbox and vote."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from awards.calls.models import Call, Category, FormField, Programme
from awards.demo import day_end, day_start, this_year, today
from awards.enums import CallStatus, FieldType, NominationStatus, NominatorKind, StageKind
from awards.nominations.models import Answer, Nomination
from awards.public_stage.models import PublicStage, StageEntry

PROGRAMME_SLUG = "national-volunteer-network"
ALMATY = ZoneInfo("Asia/Almaty")

# (code, kk, ru, en, [(nominee, project kk, ru, en)])
CATEGORIES = [
    ("school", "Мектеп волонтері", "Школьный волонтёр", "School Volunteer", [
        ("Әлия Серікқызы", "Кітапханаға 2 000 кітап жинау", "Сбор 2 000 книг для библиотеки",
         "Collecting 2,000 books for a library"),
        ("Тимур Ахметов", "Қарттарға компьютер сабағы", "Компьютерные уроки для пожилых",
         "Computer lessons for older people"),
        ("Мадина Каримова", "Аула спорт алаңы", "Дворовая спортплощадка",
         "A courtyard sports ground"),
    ]),
    ("student", "Студент-волонтер", "Студент-волонтёр", "Student Volunteer", [
        ("Нұрлан Бекұлы", "Жетім балаларға тәлімгерлік", "Наставничество для детей-сирот",
         "Mentoring for orphaned children"),
        ("Анна Ли", "Тау соқпақтарын тазарту", "Очистка горных троп",
         "Cleaning mountain trails"),
        ("Ержан Омаров", "Қан донорлары күні", "День донора крови", "Blood donor day"),
    ]),
]


def slug(year: int) -> str:
    return f"young-volunteer-{year}"


# The slug and first reference of a demo loaded today.
SLUG = slug(this_year())
FIRST_REFERENCE = f"YVY-{this_year()}-00001"


def seed(session: Session, now: datetime) -> bool:
    """Create whatever part of this feature's demo is missing; True if anything was created."""
    day = today(now)
    year = day.year
    if session.scalar(select(Call.id).where(Call.slug == slug(year))) is not None:
        return False
    programme = session.scalar(select(Programme).where(Programme.slug == PROGRAMME_SLUG))
    if programme is None:
        return False
    call = Call(
        programme=programme, slug=slug(year), reference_prefix="YVY", year=year,
        title_kk=f"Жас волонтер — {year}", title_ru=f"Молодой волонтёр — {year}",
        title_en=f"Young Volunteer of the Year {year}",
        opens_at=day_start(day - timedelta(days=100)),
        closes_at=day_end(day - timedelta(days=40)),
        status=CallStatus.PUBLIC_STAGE, has_public_stage=True,
        allowed_nominator_kinds=[NominatorKind.SELF.value, NominatorKind.OTHER.value])
    project = FormField(key="project", type=FieldType.SHORT_TEXT, position=1, required=True,
                        label_kk="Жоба", label_ru="Проект", label_en="Project", is_public=True)
    call.fields = [project]
    session.add(call)
    nominations = []
    number = 0
    for position, (code, kk, ru, en, entries) in enumerate(CATEGORIES, start=1):
        category = Category(code=code, name_kk=kk, name_ru=ru, name_en=en, position=position)
        call.categories.append(category)
        session.flush()
        for nominee, *titles in entries:
            number += 1
            nomination = Nomination(
                call=call, category=category, applicant_id=None,
                nominator_kind=NominatorKind.OTHER, reference=f"YVY-{year}-{number:05d}",
                status=NominationStatus.ELIGIBLE, nominee_name=nominee,
                submitted_at=day_start(day - timedelta(days=50)) + timedelta(hours=number))
            # One language per answer, as an applicant types it; the Russian title reads best
            # for the default locale of the demo.
            nomination.answers.append(Answer(field=project, value=titles[1]))
            session.add(nomination)
            nominations.append(nomination)
    session.flush()
    stage = PublicStage(call=call, kind=StageKind.VOTE, opens_at=now - timedelta(days=1),
                        closes_at=now + timedelta(days=9), advance_per_category=2)
    session.add(stage)
    session.flush()
    for nomination in nominations:
        session.add(StageEntry(stage=stage, nomination_id=nomination.id,
                               category_id=nomination.category_id))
    session.flush()
    return True
