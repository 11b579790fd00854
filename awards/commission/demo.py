"""Demo data for the commission's secret ballot, added by ``flask awards seed``.

Last year's edition of the Abai State Prize (the year before the demo's "now", the edition
before the call open for nominations) in its final stage: its nominations closed months ago,
the stage-two shortlist (two works in each of three fields) went through a public discussion
that ended two weeks ago, and the commission's secret ballot opened an hour ago for its nine
members (commission1@example.com … commission9@example.com, password ``awards-demo``;
commission1 chairs). Every date follows the demo's "now" (``awards.demo.demo_now``)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from awards.auth.models import User
from awards.calls.models import AwardLevel, Call, Category, FormField, Programme
from awards.commission.models import BallotBox, BallotMethod
from awards.demo import day_end, day_start, this_year, today
from awards.enums import (
    CallStatus,
    FieldType,
    JurorStatus,
    NominationStatus,
    NominatorKind,
    RoundKind,
    RoundStatus,
    StageKind,
)
from awards.jury.models import JuryMember, Panel, Round, RoundEntry
from awards.nominations.models import Answer, Nomination
from awards.public_stage.models import PublicStage, StageEntry

PROGRAMME_SLUG = "abai-state-prize"
MEMBERS = [f"commission{i}@example.com" for i in range(1, 10)]
NAMES = ["Серік Ахметов", "Гүлнар Омарова", "Ирина Ли", "Бауыржан Сейітов", "Алия Жанқызы",
         "Виктор Ким", "Динара Әлиева", "Нұрлан Қасымов", "Сауле Бекова"]

# How the edition's stages stand around the demo's "now" (days).
NOMINATIONS_CLOSED_DAYS_AGO = 150  # at least; never later than the end of the edition's year
NOMINATIONS_OPEN_DAYS = 60
DISCUSSION_OPENED_DAYS_AGO = 75
DISCUSSION_CLOSED_DAYS_AGO = 14


def slug(year: int) -> str:
    return f"abai-state-prize-{year}"


def edition_year(now: datetime) -> int:
    """The edition whose commission meets at ``now``: last year's (this year's call is open
    for nominations)."""
    return today(now).year - 1


def reference(year: int, number: int) -> str:
    """The reference of the shortlist's ``number``-th work (1 to 6)."""
    return f"ABAI-{year}-{number:05d}"


def nominations_closed(now: datetime) -> date:
    """The edition's last day for nominations: some months before ``now``, in its own year."""
    year = edition_year(now)
    return min(today(now) - timedelta(days=NOMINATIONS_CLOSED_DAYS_AGO), date(year, 12, 31))


# The slug of a demo loaded today.
SLUG = slug(this_year() - 1)

# (code, kk, ru, en, [(authors, title)])
SHORTLIST = [
    ("literature", "Әдебиет", "Литература", "Literature", [
        ("Айгүл Серікова", "«Дала үні» роман-трилогиясы"),
        ("Ерлан Жұмабаев, Мәди Оспанов", "«Абай жолымен» эссе жинағы"),
    ]),
    ("music", "Музыка өнері", "Музыкальное искусство", "Music", [
        ("Асқар Нұрланұлы", "«Қыз Жібек» симфониялық поэмасы"),
        ("«Сазген» ансамблі", "«Күй кітабы» концерттік бағдарламасы"),
    ]),
    ("theatre", "Театр өнері", "Театральное искусство", "Theatre", [
        ("Мұхтар Әуезов атындағы театр ұжымы", "«Еңлік — Кебек» қойылымы"),
        ("Лермонтов атындағы театр ұжымы", "«Абай» спектаклі"),
    ]),
]


def seed(session: Session, now: datetime) -> bool:
    """Create the edition if it is missing; True if it was created."""
    year = edition_year(now)
    if session.scalar(select(Call.id).where(Call.slug == slug(year))) is not None:
        return False
    programme = session.scalar(select(Programme).where(Programme.slug == PROGRAMME_SLUG))
    admin = session.scalar(select(User).where(User.is_admin.is_(True)).order_by(User.id))
    if programme is None or admin is None:
        return False
    day = today(now)
    closes = nominations_closed(now)
    opens = closes - timedelta(days=NOMINATIONS_OPEN_DAYS)
    members = []
    for email, name in zip(MEMBERS, NAMES, strict=True):
        user = session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(email=email, password_hash=admin.password_hash, full_name=name,
                        email_verified_at=now)
            session.add(user)
        members.append(user)
    call = Call(
        programme=programme, slug=slug(year), reference_prefix="ABAI", year=year,
        title_kk=f"Абай атындағы Мемлекеттік сыйлық — {year}",
        title_ru=f"Государственная премия имени Абая — {year}",
        title_en=f"Abai State Prize {year}",
        opens_at=day_start(opens), closes_at=day_end(closes),
        status=CallStatus.JUDGING, has_public_stage=True, requires_nominee_consent=False,
        allowed_nominator_kinds=[NominatorKind.ORGANISATION.value])
    title = FormField(key="work_title", type=FieldType.SHORT_TEXT, position=1, required=True,
                      label_kk="Шығарманың атауы", label_ru="Название произведения",
                      label_en="Title of the work", is_public=True)
    call.fields = [title]
    session.add(call)
    panel = Panel(call=call, name="Комиссия по присуждению Государственной премии имени Абая")
    session.add(panel)
    session.flush()
    for i, user in enumerate(members):
        session.add(JuryMember(panel_id=panel.id, user_id=user.id, email=user.email,
                               is_chair=(i == 0), status=JurorStatus.ACTIVE, accepted_at=now))
    round_ = Round(call=call, position=1, kind=RoundKind.COMMISSION, panel_id=panel.id,
                   name_kk="Комиссияның жасырын дауыс беруі",
                   name_ru="Тайное голосование комиссии", name_en="Commission's secret ballot",
                   status=RoundStatus.OPEN, opens_at=now - timedelta(hours=1),
                   vote_quorum=2 / 3, vote_threshold=0.5)
    stage = PublicStage(call=call, kind=StageKind.DISCUSSION,
                        opens_at=day_start(day - timedelta(days=DISCUSSION_OPENED_DAYS_AGO)),
                        closes_at=day_end(day - timedelta(days=DISCUSSION_CLOSED_DAYS_AGO)),
                        closed_at=day_start(day - timedelta(days=DISCUSSION_CLOSED_DAYS_AGO - 1)),
                        advance_per_category=2)
    session.add_all([round_, stage])
    session.flush()
    number = 0
    for position, (code, kk, ru, en, works) in enumerate(SHORTLIST, start=1):
        category = Category(code=code, name_kk=kk, name_ru=ru, name_en=en, position=position,
                            winners_count=1)
        category.award_levels = [AwardLevel(key="laureate", name_kk="Лауреат",
                                            name_ru="Лауреат", name_en="Laureate", count=1,
                                            position=1)]
        call.categories.append(category)
        session.flush()
        for authors, work in works:
            number += 1
            nomination = Nomination(
                call=call, category=category, applicant_id=None,
                nominator_kind=NominatorKind.ORGANISATION, reference=reference(year, number),
                status=NominationStatus.ELIGIBLE, nominee_name=authors,
                submitted_at=day_start(opens + timedelta(days=7 * number), 11))
            nomination.answers.append(Answer(field=title, value=work))
            session.add(nomination)
            session.flush()
            session.add(RoundEntry(round_id=round_.id, nomination_id=nomination.id))
            session.add(StageEntry(stage_id=stage.id, nomination_id=nomination.id,
                                   category_id=category.id))
    session.add(BallotBox(round_id=round_.id, method=BallotMethod.APPROVAL, quorum=2 / 3,
                          quorum_inclusive=True, threshold=0.5, threshold_inclusive=False,
                          member_ids=sorted(u.id for u in members), opened_at=now,
                          opened_by_id=members[0].id))
    session.flush()
    return True
