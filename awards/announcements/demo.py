"""Demo data for this feature, added by ``flask awards seed`` after the demo calls exist: three
posts, published when the demo's calls opened and a few days before the demo's "now"."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from awards.announcements.models import Announcement
from awards.announcements.services import build_call_opened_draft
from awards.auth.models import User
from awards.calls.models import Call
from awards.demo import abai_slug, day_start, long_dates, today, voy_slug
from awards.enums import AnnouncementStatus, CallStatus


def _deadline(call: Call | None, now: datetime) -> tuple[str, str, str]:
    closes = call.closes_at if call is not None else now
    return long_dates(today(closes))


def _published(call: Call | None, now: datetime, days_after_opening: int) -> datetime:
    """A few days after the call opened, never after the demo's "now"."""
    opened = today(call.opens_at) if call is not None else today(now) - timedelta(days=30)
    return min(day_start(opened + timedelta(days=days_after_opening), 10),
               now - timedelta(hours=1))


def _posts(voy: Call | None, abai: Call | None, now: datetime) -> list[dict]:
    year = today(now).year
    voy_end, abai_end = _deadline(voy, now), _deadline(abai, now)
    return [
        {
            "slug": f"abai-prize-{year}-applications",
            "call": abai,
            "publish_at": _published(abai, now, 4),
            "title_kk": "Абай атындағы Мемлекеттік сыйлыққа өтінімдер қабылдануда",
            "title_ru": "Открыт приём заявок на Государственную премию имени Абая",
            "title_en": "Applications open for the Abai State Prize",
            "summary_kk": "Шығармаларды шығармашылық одақтар, баспалар мен театрлар ұсынады. "
                          f"Соңғы күні: {abai_end[0]}.",
            "summary_ru": "Творческие союзы, издательства и театры выдвигают работы до "
                          f"{abai_end[1]}",
            "summary_en": "Creative unions, publishers and theatres may nominate works until "
                          f"{abai_end[2]}.",
            "body_kk": "Сыйлық **әдебиет пен өнер** саласындағы үздік шығармаларға "
                       "беріледі.\n\n- әдебиет\n- кино\n- музыка\n- театр\n- сәулет\n"
                       "- бейнелеу өнері\n\nЕкінші кезеңге өткен жұмыстар қоғамдық "
                       "талқылауға шығарылады.",
            "body_ru": "Премия присуждается за выдающиеся произведения **литературы и "
                       "искусства**.\n\n- литература\n- кино\n- музыка\n- театр\n"
                       "- архитектура\n- изобразительное искусство\n\nРаботы, прошедшие во "
                       "второй этап, выносятся на общественное обсуждение.",
            "body_en": "The prize honours outstanding works of **literature and art**.\n\n"
                       "- literature\n- cinema\n- music\n- theatre\n- architecture\n"
                       "- fine arts\n\nWorks that reach the second stage are put to public "
                       "discussion.",
        },
        {
            "slug": f"volunteer-of-the-year-{year}-categories",
            "call": voy,
            "publish_at": _published(voy, now, 0),
            "title_kk": f"«Жыл волонтері — {year}»: 15 номинация",
            "title_ru": f"«Волонтёр года — {year}»: 15 номинаций",
            "title_en": f"Volunteer of the Year {year}: 15 categories",
            "summary_kk": "Өзіңізді немесе басқа волонтерді ұсыныңыз. "
                          f"Соңғы күні: {voy_end[0]}.",
            "summary_ru": f"Выдвигайте себя или другого волонтёра до {voy_end[1]}",
            "summary_en": f"Nominate yourself or another volunteer until {voy_end[2]}.",
            "body_kk": "Биыл премия **15 номинацияда** өтеді: әлеуметтік көмек, экология, "
                       "төтенше жағдайларға ден қою және басқалар.\n\n> Жеңімпаздар "
                       "салтанатты рәсімде жарияланады.",
            "body_ru": "В этом году премия проходит в **15 номинациях**: социальная помощь, "
                       "экология, реагирование на чрезвычайные ситуации и другие.\n\n"
                       "> Победителей объявят на торжественной церемонии.",
            "body_en": "This year the prize runs in **15 categories**: social help, the "
                       "environment, emergency response and more.\n\n> The winners are "
                       "announced at the award ceremony.",
        },
        {
            "slug": "how-the-jury-scores",
            "call": None,
            "publish_at": now - timedelta(days=12, hours=2),
            "title_kk": "Қазылар алқасы қалай бағалайды",
            "title_ru": "Как оценивает жюри",
            "title_en": "How the jury scores nominations",
            "summary_kk": "Критерийлер, салмақтар және бағалардың біріктірілуі.",
            "summary_ru": "Критерии, веса и то, как сводятся оценки.",
            "summary_en": "Criteria, weights and how the scores are combined.",
            "body_kk": "Әр қазылар мүшесі жұмысты критерийлер бойынша бағалайды.\n\n"
                       "| Критерий | Салмағы |\n|---|---:|\n| Әсері | 40% |\n"
                       "| Жүйелілігі | 30% |\n| Үлгі болуы | 30% |",
            "body_ru": "Каждый член жюри оценивает работу по критериям.\n\n"
                       "| Критерий | Вес |\n|---|---:|\n| Влияние | 40% |\n"
                       "| Системность | 30% |\n| Пример для других | 30% |",
            "body_en": "Each juror scores an entry on the criteria.\n\n"
                       "| Criterion | Weight |\n|---|---:|\n| Impact | 40% |\n"
                       "| Consistency | 30% |\n| Example to others | 30% |",
        },
    ]


def seed(session: Session, now: datetime) -> bool:
    """Create whatever part of this feature's demo is missing; True if anything was created."""
    year = today(now).year
    voy = session.scalar(select(Call).where(Call.slug == voy_slug(year)))
    abai = session.scalar(select(Call).where(Call.slug == abai_slug(year)))
    admin = session.scalar(select(User).where(User.is_admin.is_(True)).order_by(User.id))
    created = False
    for data in _posts(voy, abai, now):
        if session.scalar(select(Announcement.id).where(Announcement.slug == data["slug"])):
            continue
        data = dict(data)
        call = data.pop("call")
        # Written when published, so the feed does not show them as edited today.
        session.add(Announcement(
            call_id=call.id if call else None, status=AnnouncementStatus.PUBLISHED,
            author_id=admin.id if admin else None, created_at=data["publish_at"],
            updated_at=data["publish_at"], **data))
        created = True
    session.flush()
    # The demo calls are created open, not opened by an edit, so their drafts are written here
    # (demo data, like the calls themselves, is not audited), and once: a draft the
    # administrator deleted must not come back with the next ``make run``.
    if not created:
        return False
    for call in (voy, abai):
        # Opened (since closed, once its deadline passed, if the demo is loaded later).
        if call is not None and call.status in (CallStatus.OPEN, CallStatus.CLOSED):
            draft = build_call_opened_draft(session, call)
            if draft is not None:
                session.add(draft)
    session.flush()
    return True
