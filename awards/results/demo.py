"""Demo data for this feature, added by ``flask awards seed`` after the demo calls exist.

Last year's edition of "Volunteer of the Year" (the year before the demo's "now"), decided and
published on 5 December of that year (International Volunteer Day), so a newcomer finds a
results page, the archive and the winners gallery with citations, photos and verifiable
diplomas in three languages."""

from __future__ import annotations

import io
import secrets
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from awards.auth.models import User
from awards.calls.models import AwardLevel, Call, Category, Programme
from awards.demo import this_year
from awards.enums import (
    CallStatus,
    DecisionKind,
    NominationStatus,
    NominatorKind,
    PublicationStatus,
)
from awards.nominations.models import Nomination
from awards.ranking.models import Decision
from awards.results.models import Citation, Publication

PROGRAMME_SLUG = "national-volunteer-network"
ALMATY = ZoneInfo("Asia/Almaty")

# (code, kk, ru, en, [(nominee, organisation, level, (citation kk, ru, en), photo colour)])
CATEGORIES = [
    ("social", "Әлеуметтік көмекші", "Социальный помощник", "Social Helper", [
        ("Айгерим Садыкова", "", "winner",
         ("Қарттар үйлеріне апта сайын көмек көрсететін 200 волонтерді біріктіргені үшін.",
          "За объединение 200 волонтёров, которые каждую неделю помогают домам престарелых.",
          "For bringing together 200 volunteers who help care homes every week."),
         (46, 125, 160)),
        ("Данияр Оспанов", "", "laureate",
         ("Ауылдағы балаларға тегін сабақ бергені үшін.",
          "За бесплатные занятия для детей в сёлах.",
          "For free lessons for children in villages."), None),
    ]),
    ("environment", "Экологиялық волонтерлік", "Экологическое волонтёрство",
     "Environmental Volunteering", [
         ("", "Таза Іле", "winner",
          ("Іле өзенінің 40 шақырым жағалауын тазартқаны үшін.",
           "За очистку 40 километров берега реки Или.",
           "For cleaning 40 kilometres of the Ili river bank."), (40, 150, 90)),
     ]),
    ("emergency", "Төтенше жағдайлардағы волонтерлік", "Волонтёрство в чрезвычайных ситуациях",
     "Emergency Response Volunteering", [
         ("Ерлан Жұмабаев", "", "winner",
          ("2024 жылғы су тасқыны кезінде 300 отбасын көшіруге көмектескені үшін.",
           "За помощь в эвакуации 300 семей во время паводка 2024 года.",
           "For helping to evacuate 300 families during the 2024 floods."), (180, 80, 50)),
     ]),
]
LEVELS = [("winner", "Жеңімпаз", "Победитель", "Winner", 1),
          ("laureate", "Лауреат", "Лауреат", "Laureate", 2)]


def placeholder_photo(rgb: tuple[int, int, int]) -> tuple[str, str]:
    """A plain square portrait placeholder stored like an upload."""
    from PIL import Image

    from awards.storage import path_for

    buf = io.BytesIO()
    Image.new("RGB", (320, 320), rgb).save(buf, format="PNG")
    name = secrets.token_hex(20) + ".png"
    path = path_for(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())
    return name, "image/png"


def slug(year: int) -> str:
    return f"volunteer-of-the-year-{year}"


def edition_year(now: datetime) -> int:
    """Last year's edition: the year before the demo's "now" (in Almaty)."""
    return now.astimezone(ALMATY).year - 1


# The slug of a demo loaded today.
SLUG = slug(this_year() - 1)


def seed(session: Session, now: datetime) -> bool:
    """Create whatever part of this feature's demo is missing; True if anything was created."""
    year = edition_year(now)
    if session.scalar(select(Call.id).where(Call.slug == slug(year))) is not None:
        return False
    programme = session.scalar(select(Programme).where(Programme.slug == PROGRAMME_SLUG))
    admin = session.scalar(select(User).where(User.is_admin.is_(True)).order_by(User.id))
    if programme is None or admin is None:
        return False
    from awards.results import services

    call = Call(
        programme=programme, slug=slug(year), reference_prefix="VOY", year=year,
        title_kk=f"Жыл волонтері — {year}", title_ru=f"Волонтёр года — {year}",
        title_en=f"Volunteer of the Year {year}",
        opens_at=datetime(year, 9, 1, tzinfo=ALMATY),
        closes_at=datetime(year, 10, 15, 23, 59, 59, tzinfo=ALMATY),
        status=CallStatus.DECIDED)
    session.add(call)
    number = 0
    decisions = []
    for position, (code, kk, ru, en, winners) in enumerate(CATEGORIES, start=1):
        category = Category(code=code, name_kk=kk, name_ru=ru, name_en=en, position=position)
        for level_position, (key, lkk, lru, len_, count) in enumerate(LEVELS, start=1):
            category.award_levels.append(AwardLevel(key=key, name_kk=lkk, name_ru=lru,
                                                    name_en=len_, count=count,
                                                    position=level_position))
        call.categories.append(category)
        session.flush()
        levels = {lv.key: lv for lv in category.award_levels}
        for nominee, organisation, level, citation, colour in winners:
            number += 1
            nomination = Nomination(
                call=call, category=category, applicant_id=None,
                nominator_kind=NominatorKind.ORGANISATION if organisation else NominatorKind.OTHER,
                reference=f"VOY-{year}-{number:05d}", status=NominationStatus.ELIGIBLE,
                nominee_name=nominee, organisation_name=organisation,
                submitted_at=datetime(year, 10, 1, tzinfo=ALMATY))
            session.add(nomination)
            session.flush()
            photo_name, photo_type = placeholder_photo(colour) if colour else (None, None)
            session.add(Citation(nomination_id=nomination.id, text_kk=citation[0],
                                 text_ru=citation[1], text_en=citation[2], photo_name=photo_name,
                                 photo_content_type=photo_type, updated_by_id=admin.id))
            decisions.append(Decision(
                call=call, category=category, nomination=nomination, kind=DecisionKind.AWARD,
                award_level_id=levels[level].id, decided_by_id=admin.id,
                decided_at=datetime(year, 11, 28, tzinfo=ALMATY)))
    session.add_all(decisions)
    session.flush()
    # Built directly rather than through services.publish: demo data is nobody's action, so it
    # leaves the audit log and the outbox alone.
    when = datetime(year, 12, 5, 12, 0, tzinfo=ALMATY)
    groups = services.decided_winners(session, call)
    publication = Publication(
        call_id=call.id, version=1, status=PublicationStatus.PUBLISHED, scheduled_for=when,
        published_at=when, snapshot={**services.build_snapshot(call, groups),
                                     "revoked_certificates": []},
        created_by_id=admin.id)
    session.add(publication)
    session.flush()
    services.issue_certificates(session, call, publication,
                                [w for g in groups for w in g.winners], when)
    call.status = CallStatus.PUBLISHED
    session.flush()
    return True
