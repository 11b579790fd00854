"""Demo data for the commission's secret ballot, added by ``flask awards seed``.

"Abai State Prize 2025" in its final stage: the stage-two shortlist (two works in each of three
fields) went through a public discussion, and the commission's secret ballot is open for its
nine members (commission1@example.com … commission9@example.com, password ``awards-demo``;
commission1 chairs)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from awards.auth.models import User
from awards.calls.models import AwardLevel, Call, Category, FormField, Programme
from awards.commission.models import BallotBox, BallotMethod
from awards.db import utcnow
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

SLUG = "abai-state-prize-2025"
PROGRAMME_SLUG = "abai-state-prize"
MEMBERS = [f"commission{i}@example.com" for i in range(1, 10)]
NAMES = ["Серік Ахметов", "Гүлнар Омарова", "Ирина Ли", "Бауыржан Сейітов", "Алия Жанқызы",
         "Виктор Ким", "Динара Әлиева", "Нұрлан Қасымов", "Сауле Бекова"]
ALMATY = ZoneInfo("Asia/Almaty")

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


def seed(session: Session) -> bool:
    if session.scalar(select(Call.id).where(Call.slug == SLUG)) is not None:
        return False
    programme = session.scalar(select(Programme).where(Programme.slug == PROGRAMME_SLUG))
    admin = session.scalar(select(User).where(User.is_admin.is_(True)).order_by(User.id))
    if programme is None or admin is None:
        return False
    now = utcnow()
    members = []
    for email, name in zip(MEMBERS, NAMES, strict=True):
        user = session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(email=email, password_hash=admin.password_hash, full_name=name,
                        email_verified_at=now)
            session.add(user)
        members.append(user)
    call = Call(
        programme=programme, slug=SLUG, reference_prefix="ABAI", year=2025,
        title_kk="Абай атындағы Мемлекеттік сыйлық — 2025",
        title_ru="Государственная премия имени Абая — 2025",
        title_en="Abai State Prize 2025",
        opens_at=datetime(2025, 1, 1, tzinfo=ALMATY),
        closes_at=datetime(2025, 3, 1, 23, 59, 59, tzinfo=ALMATY),
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
                        opens_at=datetime(2025, 9, 1, tzinfo=ALMATY),
                        closes_at=datetime(2025, 10, 31, 23, 59, tzinfo=ALMATY),
                        closed_at=datetime(2025, 11, 1, tzinfo=ALMATY),
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
                nominator_kind=NominatorKind.ORGANISATION, reference=f"ABAI-2025-{number:05d}",
                status=NominationStatus.ELIGIBLE, nominee_name=authors,
                submitted_at=datetime(2025, 2, 1, tzinfo=ALMATY) + timedelta(days=number))
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
