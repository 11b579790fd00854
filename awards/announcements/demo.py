"""Demo data for this feature, added by ``flask awards seed`` after the demo calls exist."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from awards.announcements.models import Announcement
from awards.announcements.services import build_call_opened_draft
from awards.auth.models import User
from awards.calls.models import Call
from awards.enums import AnnouncementStatus, CallStatus

ALMATY = ZoneInfo("Asia/Almaty")
VOY_SLUG = "volunteer-of-the-year-2026"
ABAI_SLUG = "abai-state-prize-2026"


def _posts(voy: Call | None, abai: Call | None) -> list[dict]:
    return [
        {
            "slug": "abai-prize-2026-applications",
            "call": abai,
            "publish_at": datetime(2026, 1, 5, 10, 0, tzinfo=ALMATY),
            "title_kk": "Абай атындағы Мемлекеттік сыйлыққа өтінімдер қабылдануда",
            "title_ru": "Открыт приём заявок на Государственную премию имени Абая",
            "title_en": "Applications open for the Abai State Prize",
            "summary_kk": "Шығармашылық одақтар, баспалар мен театрлар 1 наурызға дейін "
                          "ұсына алады.",
            "summary_ru": "Творческие союзы, издательства и театры выдвигают работы до "
                          "1 марта.",
            "summary_en": "Creative unions, publishers and theatres may nominate works until "
                          "1 March.",
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
            "slug": "volunteer-of-the-year-2026-categories",
            "call": voy,
            "publish_at": datetime(2026, 10, 1, 9, 0, tzinfo=ALMATY),
            "title_kk": "«Жыл волонтері — 2026»: 15 номинация",
            "title_ru": "«Волонтёр года — 2026»: 15 номинаций",
            "title_en": "Volunteer of the Year 2026: 15 categories",
            "summary_kk": "Өзіңізді немесе басқа волонтерді 30 қарашаға дейін ұсыныңыз.",
            "summary_ru": "Выдвигайте себя или другого волонтёра до 30 ноября.",
            "summary_en": "Nominate yourself or another volunteer until 30 November.",
            "body_kk": "Биыл премия **15 номинацияда** өтеді: әлеуметтік көмек, экология, "
                       "төтенше жағдайларға ден қою және басқалар.\n\n> Жеңімпаздар "
                       "5 желтоқсанда, Халықаралық волонтерлер күнінде жарияланады.",
            "body_ru": "В этом году премия проходит в **15 номинациях**: социальная помощь, "
                       "экология, реагирование на чрезвычайные ситуации и другие.\n\n"
                       "> Победителей объявят 5 декабря, в Международный день волонтёров.",
            "body_en": "This year the prize runs in **15 categories**: social help, the "
                       "environment, emergency response and more.\n\n> The winners are "
                       "announced on 5 December, International Volunteer Day.",
        },
        {
            "slug": "how-the-jury-scores",
            "call": None,
            "publish_at": datetime(2026, 11, 2, 12, 0, tzinfo=ALMATY),
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


def seed(session: Session) -> bool:
    """Create whatever part of this feature's demo is missing; True if anything was created."""
    voy = session.scalar(select(Call).where(Call.slug == VOY_SLUG))
    abai = session.scalar(select(Call).where(Call.slug == ABAI_SLUG))
    admin = session.scalar(select(User).where(User.is_admin.is_(True)).order_by(User.id))
    created = False
    for data in _posts(voy, abai):
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
