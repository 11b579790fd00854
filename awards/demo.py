"""Demo data for ``make run``: loaded once, safe to run again.

Two real prizes: the international "Volunteer of the Year" prize of the National Volunteer
Network (open nominations in 15 categories, scored by a jury) and the State Prize named after
Abai (nominations from organisations, decided by a commission), with the features' own demo
parts around them.

The demo is always "now": its dates are computed from one moment captured when it is first
loaded (the current time, ``AWARDS_DEMO_NOW`` or the ``now`` argument), so whenever it is loaded
there is a call open for nominations with the demo applicant's entries in it, a people's vote
in progress, a jury round being scored, a commission ready to vote and last year's published
results. The moment is kept as the demo administrator's ``created_at``: loading the demo again,
even a year later, reads it back and changes nothing."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date
from sqlalchemy import select
from sqlalchemy.orm import Session

from awards.auth.models import User
from awards.auth.services import hash_password
from awards.calls.models import AwardLevel, Call, Category, FormField, Programme
from awards.db import utcnow
from awards.enums import (
    CallStatus,
    FieldType,
    JurorStatus,
    NominatorKind,
    RoundKind,
    RoundStatus,
    TotalMethod,
)
from awards.jury.models import Criterion, JuryMember, Panel, Round, Rubric

DEMO_PASSWORD = "awards-demo"
ADMIN = "admin@example.com"
JURORS = [f"jury{i}@example.com" for i in range(1, 6)]
APPLICANT = "applicant@example.com"

ALMATY = ZoneInfo("Asia/Almaty")
MB = 1024 * 1024
NOW_VARIABLE = "AWARDS_DEMO_NOW"

# How the flagship call's dates stand around the demo's "now".
VOY_OPENED_DAYS_AGO = 45
VOY_CLOSES_IN_DAYS = 25
ABAI_OPENED_DAYS_AGO = 60
ABAI_CLOSES_IN_DAYS = 85


# ---- the demo's clock -----------------------------------------------------------------------

def demo_now(now: datetime | None = None) -> datetime:
    """The moment the demo is built around: ``now`` if given, else ``AWARDS_DEMO_NOW`` (an ISO
    date or date and time; without a zone it is Almaty time), else the current time. In UTC,
    to the second."""
    if now is None:
        raw = os.environ.get(NOW_VARIABLE, "").strip()
        if raw:
            try:
                now = datetime.fromisoformat(raw)
            except ValueError:
                raise ValueError(f"{NOW_VARIABLE} must be an ISO date or date and time, "
                                 f"such as 2027-03-15 or 2027-03-15T10:00, not {raw!r}") from None
            if now.tzinfo is None:
                now = now.replace(tzinfo=ALMATY)
        else:
            now = utcnow()
    if now.tzinfo is None:
        raise ValueError("the demo's now must carry its time zone")
    return now.astimezone(UTC).replace(microsecond=0)


def today(now: datetime) -> date:
    """The demo's day in Almaty."""
    return now.astimezone(ALMATY).date()


def day_start(day: date, hour: int = 0) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=ALMATY)


def day_end(day: date) -> datetime:
    """The last second of an Almaty day, the way a call's deadline is written."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=ALMATY)


def long_dates(day: date) -> tuple[str, str, str]:
    """A day written out in Kazakh, Russian and English, for demo texts."""
    return tuple(format_date(day, "long", locale=lang) for lang in ("kk", "ru", "en"))


def voy_slug(year: int) -> str:
    return f"volunteer-of-the-year-{year}"


def abai_slug(year: int) -> str:
    return f"abai-state-prize-{year}"


def loaded_at(session: Session) -> datetime | None:
    """When the demo in this database was loaded (its own "now"), or None before it is."""
    created = session.scalar(select(User.created_at).where(User.email == ADMIN))
    if created is None:
        return None
    return (created if created.tzinfo else created.replace(tzinfo=UTC)).replace(microsecond=0)


def flagship_slug(session: Session) -> str | None:
    """The slug of the flagship call of the demo loaded in this database."""
    now = loaded_at(session)
    return voy_slug(today(now).year) if now else None


def this_year() -> int:
    """The demo's year if it were loaded now."""
    try:
        return today(demo_now()).year
    except ValueError:  # a mistyped AWARDS_DEMO_NOW is reported when the demo is loaded
        return today(utcnow()).year


# The slugs of a demo loaded today (a database loaded earlier: ``flagship_slug``).
VOY_SLUG = voy_slug(this_year())
ABAI_SLUG = abai_slug(this_year())


def seed_demo(session: Session, now: datetime | None = None) -> bool:
    """Create whatever part of the demo is missing; True if anything was created.

    ``now``: the moment to build the demo around (default: ``demo_now()``). A database that
    already holds the demo keeps the moment it was loaded at, so nothing moves."""
    now = loaded_at(session) or demo_now(now)
    year = today(now).year
    created = False
    if session.scalar(select(User).where(User.email == ADMIN)) is None:
        _seed_users(session, now)
        created = True
    if session.scalar(select(Call.id).where(Call.slug == voy_slug(year))) is None:
        _seed_volunteer_of_the_year(session, now)
        created = True
    if session.scalar(select(Call.id).where(Call.slug == abai_slug(year))) is None:
        _seed_abai_prize(session, now)
        created = True
    session.flush()
    from awards.announcements import demo as announcements_demo
    from awards.commission import demo as commission_demo
    from awards.jury import demo as jury_demo
    from awards.nominations import applicant_demo, authors_demo
    from awards.public_stage import demo as public_stage_demo
    from awards.results import demo as results_demo

    for feature in (results_demo, announcements_demo, public_stage_demo, jury_demo,
                    commission_demo, applicant_demo, authors_demo):
        created = feature.seed(session, now) or created
        session.flush()
    return created


def _seed_users(session: Session, now: datetime) -> None:
    # One hash for every demo account: hashing is deliberately slow.
    pw = hash_password(DEMO_PASSWORD)
    # The administrator's created_at is the demo's "now" (``loaded_at``).
    session.add(User(email=ADMIN, password_hash=pw, full_name="Администратор Премии",
                     is_admin=True, email_verified_at=now, created_at=now))
    names = ["Айгерим Сапарова", "Ерлан Нурланов", "Мария Ким", "Даурен Абаев", "Ольга Петрова"]
    for email, name in zip(JURORS, names, strict=True):
        session.add(User(email=email, password_hash=pw, full_name=name, email_verified_at=now,
                         created_at=now))
    session.add(User(email=APPLICANT, password_hash=pw, full_name="Асель Жумабекова",
                     email_verified_at=now, created_at=now))
    session.flush()


def _programme(session: Session, slug: str, names: tuple[str, str, str],
               descriptions: tuple[str, str, str]) -> Programme:
    programme = session.scalar(select(Programme).where(Programme.slug == slug))
    if programme is None:
        programme = Programme(slug=slug, name_kk=names[0], name_ru=names[1], name_en=names[2],
                              description_kk=descriptions[0], description_ru=descriptions[1],
                              description_en=descriptions[2])
        session.add(programme)
    return programme


def _field(position: int, key: str, type_: FieldType, labels: tuple[str, str, str],
           helps: tuple[str, str, str] = ("", "", ""), **kwargs) -> FormField:
    return FormField(key=key, type=type_, position=position,
                     label_kk=labels[0], label_ru=labels[1], label_en=labels[2],
                     help_kk=helps[0], help_ru=helps[1], help_en=helps[2], **kwargs)


# ---- Volunteer of the Year ------------------------------------------------------------------

# (code, kk, ru, en)
VOY_CATEGORIES = [
    ("best-organisation", "Үздік волонтерлік ұйым", "Лучшая волонтёрская организация",
     "Best Volunteer Organisation"),
    ("corporate", "Корпоративтік волонтерлік көшбасшысы", "Лидер корпоративного волонтёрства",
     "Corporate Volunteering Leader"),
    ("sdg", "Тұрақты даму мақсаттары жолындағы волонтерлік",
     "Волонтёрство в интересах Целей устойчивого развития",
     "Volunteering for the Sustainable Development Goals"),
    ("social", "Әлеуметтік көмекші", "Социальный помощник", "Social Helper"),
    ("emergency", "Төтенше жағдайлардағы волонтерлік", "Волонтёрство в чрезвычайных ситуациях",
     "Emergency Response Volunteering"),
    ("missing-people", "Хабар-ошарсыз кеткен адамдарды іздеу", "Поиск пропавших людей",
     "Search for Missing People"),
    ("victims-support", "Құқық бұзушылықтан зардап шеккендерге көмек",
     "Помощь пострадавшим от правонарушений", "Help to Victims of Offences"),
    ("health-care", "Денсаулық сақтау саласындағы волонтерлік", "Волонтёрство в здравоохранении",
     "Health Care Volunteering"),
    ("healthy-lifestyle", "Салауатты өмір салты", "Здоровый образ жизни", "Healthy Lifestyle"),
    ("knowledge", "Білім тарату", "Распространение знаний", "Spreading Knowledge"),
    ("environment", "Экологиялық волонтерлік", "Экологическое волонтёрство",
     "Environmental Volunteering"),
    ("events", "Іс-шаралық волонтерлік", "Событийное волонтёрство", "Event Volunteering"),
    ("youth", "Жастар волонтерлігі", "Молодёжное волонтёрство", "Youth Volunteering"),
    ("senior", "Күміс волонтерлер", "Серебряные волонтёры", "Senior Volunteers"),
    ("international", "Халықаралық волонтерлік", "Международное волонтёрство",
     "International Volunteering"),
]

# (value, kk, ru, en): the 17 regions, the 3 cities of republican significance, and abroad,
# since the prize is open to volunteers from other countries.
REGIONS = [
    ("astana", "Астана қаласы", "город Астана", "Astana"),
    ("almaty-city", "Алматы қаласы", "город Алматы", "Almaty (city)"),
    ("shymkent", "Шымкент қаласы", "город Шымкент", "Shymkent"),
    ("abai", "Абай облысы", "Абайская область", "Abai Region"),
    ("akmola", "Ақмола облысы", "Акмолинская область", "Akmola Region"),
    ("aktobe", "Ақтөбе облысы", "Актюбинская область", "Aktobe Region"),
    ("almaty-region", "Алматы облысы", "Алматинская область", "Almaty Region"),
    ("atyrau", "Атырау облысы", "Атырауская область", "Atyrau Region"),
    ("east-kazakhstan", "Шығыс Қазақстан облысы", "Восточно-Казахстанская область",
     "East Kazakhstan Region"),
    ("zhambyl", "Жамбыл облысы", "Жамбылская область", "Zhambyl Region"),
    ("zhetysu", "Жетісу облысы", "область Жетісу", "Zhetysu Region"),
    ("west-kazakhstan", "Батыс Қазақстан облысы", "Западно-Казахстанская область",
     "West Kazakhstan Region"),
    ("karaganda", "Қарағанды облысы", "Карагандинская область", "Karaganda Region"),
    ("kostanay", "Қостанай облысы", "Костанайская область", "Kostanay Region"),
    ("kyzylorda", "Қызылорда облысы", "Кызылординская область", "Kyzylorda Region"),
    ("mangystau", "Маңғыстау облысы", "Мангистауская область", "Mangystau Region"),
    ("pavlodar", "Павлодар облысы", "Павлодарская область", "Pavlodar Region"),
    ("north-kazakhstan", "Солтүстік Қазақстан облысы", "Северо-Казахстанская область",
     "North Kazakhstan Region"),
    ("turkistan", "Түркістан облысы", "Туркестанская область", "Turkistan Region"),
    ("ulytau", "Ұлытау облысы", "область Ұлытау", "Ulytau Region"),
    ("abroad", "Қазақстаннан тыс жерлер", "За пределами Казахстана", "Outside Kazakhstan"),
]

# (key, weight, title kk/ru/en, description kk/ru/en)
VOY_CRITERIA = [
    ("impact", 0.4,
     ("Әлеуметтік маңызы мен нәтижесі", "Социальная значимость и результат", "Impact"),
     ("Қызмет адамдардың, қауымдастықтардың өмірін немесе қоршаған ортаның жағдайын "
      "қаншалықты өзгертті; нәтижелері расталған ба.",
      "Насколько деятельность изменила жизнь людей, сообществ или состояние окружающей среды; "
      "подтверждены ли результаты.",
      "How much the activity changed the lives of people, communities or the environment, "
      "and whether the results are evidenced.")),
    ("scale", 0.2,
     ("Ауқымы", "Масштаб", "Scale"),
     ("Қызмет қамтыған адамдар мен аумақтардың саны, оның жүйелілігі мен ұзақтығы.",
      "Число людей и территорий, охваченных деятельностью, её регулярность и "
      "продолжительность.",
      "How many people and places the activity reaches, how regular and how long-standing "
      "it is.")),
    ("innovation", 0.2,
     ("Жаңашылдығы", "Новизна подхода", "Innovation"),
     ("Идея мен әдістердің бірегейлігі, жаңа форматтар мен технологияларды қолдану.",
      "Оригинальность идеи и методов, использование новых форматов и технологий.",
      "Originality of the idea and the methods; use of new formats and technologies.")),
    ("sustainability", 0.2,
     ("Тұрақтылығы", "Устойчивость", "Sustainability"),
     ("Қызметтің жалғасып, дами алуы: команда, серіктестер, жаңа волонтерлерді тарту.",
      "Способность деятельности продолжаться и развиваться: команда, партнёры, вовлечение "
      "новых волонтёров.",
      "Whether the activity can continue and grow: its team, partners, and new volunteers "
      "brought in.")),
]

def voy_rules(opens: date, closes: date) -> tuple[str, str, str]:
    start, end = long_dates(opens), long_dates(closes)
    start_en, end_en = (format_date(d, "d MMMM y", locale="en") for d in (opens, closes))
    return (
        "«Жыл волонтері» халықаралық сыйлығына Қазақстан мен басқа елдердің волонтерлері, "
        "волонтерлік ұйымдары мен компаниялары қатыса алады. Үміткер өтінімді өзі бере алады, "
        "оны басқа адам немесе ұйым да ұсына алады.\n\n"
        f"Өтінімдерді қабылдау мерзімі: {start[0]} — {end[0]} (Алматы уақыты бойынша "
        "23:59-ға дейін). Техникалық іріктеуден өткен өтінімдерді қазылар алқасы төрт өлшем "
        "бойынша бағалайды: әлеуметтік маңызы, ауқымы, жаңашылдығы және тұрақтылығы.\n\n"
        "Жеңімпаздар салтанатты рәсімде жарияланады.",
        "В Международной премии «Волонтёр года» могут участвовать волонтёры, волонтёрские "
        "организации и компании из Казахстана и других стран. Заявку можно подать на себя, на "
        "другого человека или от имени организации.\n\n"
        f"Заявки принимаются с {start[1]} по {end[1]} (до 23:59 по времени Алматы). "
        "Заявки, прошедшие техническую проверку, оценивает жюри по четырём критериям: "
        "социальная значимость, масштаб, новизна подхода и устойчивость.\n\n"
        "Победители будут объявлены на торжественной церемонии.",
        "Volunteers, volunteer organisations and companies from Kazakhstan and other countries "
        "may take part in the international \"Volunteer of the Year\" prize. You can nominate "
        "yourself, another person, or apply on behalf of an organisation.\n\n"
        f"Nominations are accepted from {start_en} to {end_en} (until 23:59 Almaty time). "
        "Entries that pass the technical screening are scored by the jury on four criteria: "
        "impact, scale, innovation and sustainability.\n\n"
        "The winners will be announced at the award ceremony.",
    )


VOY_CONSENT = (
    "Мен «Жыл волонтері» сыйлығына ұсынылуыма келісемін және Ұлттық волонтерлік желіге "
    "конкурсты өткізу мақсатында дербес деректерімді өңдеуге, ал жеңіске жеткен жағдайда "
    "аты-жөнімді, фотосуретімді және қызметімнің сипаттамасын жариялауға рұқсат беремін.",
    "Я согласен(на) на выдвижение на премию «Волонтёр года» и разрешаю Национальной "
    "волонтёрской сети обрабатывать мои персональные данные для проведения конкурса, а в "
    "случае победы — публиковать моё имя, фотографию и описание моей деятельности.",
    "I agree to be nominated for the \"Volunteer of the Year\" prize and allow the National "
    "Volunteer Network to process my personal data to run the competition and, if I win, to "
    "publish my name, photo and the description of my activity.",
)


def _seed_volunteer_of_the_year(session: Session, now: datetime) -> None:
    """This year's edition, open for nominations: opened some weeks ago, closes in some."""
    day = today(now)
    year = day.year
    opens_at = day_start(day - timedelta(days=VOY_OPENED_DAYS_AGO))
    closes_at = day_end(day + timedelta(days=VOY_CLOSES_IN_DAYS))
    rules = voy_rules(opens_at.date(), closes_at.date())
    # Read before building the call: a query's autoflush must not meet a half-built graph.
    jurors = session.scalars(select(User).where(User.email.in_(JURORS))).all()
    programme = _programme(
        session, "national-volunteer-network",
        ("Ұлттық волонтерлік желі", "Национальная волонтёрская сеть",
         "National Volunteer Network"),
        ("Ұлттық волонтерлік желі «Жыл волонтері» халықаралық сыйлығын өткізеді: сыйлық "
         "Қазақстан мен басқа елдердің үздік волонтерлері мен ұйымдарын марапаттайды.",
         "Национальная волонтёрская сеть проводит Международную премию «Волонтёр года», "
         "которая отмечает лучших волонтёров и организации Казахстана и других стран.",
         "The National Volunteer Network runs the international \"Volunteer of the Year\" "
         "prize, which honours the best volunteers and organisations of Kazakhstan and other "
         "countries."),
    )
    call = Call(
        programme=programme,
        slug=voy_slug(year),
        reference_prefix="VOY",
        year=year,
        title_kk=f"«Жыл волонтері — {year}» халықаралық сыйлығы",
        title_ru=f"Международная премия «Волонтёр года — {year}»",
        title_en=f"Volunteer of the Year {year}",
        rules_kk=rules[0], rules_ru=rules[1], rules_en=rules[2],
        consent_text_kk=VOY_CONSENT[0], consent_text_ru=VOY_CONSENT[1],
        consent_text_en=VOY_CONSENT[2],
        opens_at=opens_at,
        closes_at=closes_at,
        status=CallStatus.OPEN,
        requires_nominee_consent=True,
        allowed_nominator_kinds=[NominatorKind.SELF, NominatorKind.OTHER,
                                 NominatorKind.ORGANISATION],
        has_public_stage=True,
    )
    for position, (code, kk, ru, en) in enumerate(VOY_CATEGORIES, start=1):
        category = Category(code=code, name_kk=kk, name_ru=ru, name_en=en, position=position,
                            winners_count=1)
        category.award_levels = [
            AwardLevel(key="winner", name_kk="Жеңімпаз", name_ru="Победитель", name_en="Winner",
                       count=1, position=1),
            AwardLevel(key="special-mention", name_kk="Қазылар алқасының арнайы дипломы",
                       name_ru="Специальный диплом жюри", name_en="Special mention",
                       count=2, position=2),
        ]
        call.categories.append(category)

    region_options = [{"value": value, "label_kk": kk, "label_ru": ru, "label_en": en}
                      for value, kk, ru, en in REGIONS]
    call.fields = [
        _field(1, "nominee_name", FieldType.SHORT_TEXT,
               ("Номинанттың толық аты-жөні", "ФИО номинанта", "Full name of the nominee"),
               ("Ұйым үшін — оның толық ресми атауы.",
                "Для организации — её полное официальное наименование.",
                "For an organisation, its full registered name."),
               required=True, max_length=300, is_identifying=True, is_public=True),
        _field(2, "nominee_email", FieldType.EMAIL,
               ("Номинанттың электрондық поштасы", "Электронная почта номинанта",
                "Nominee's e-mail"),
               ("Номинантқа ұсынуды растауды сұрайтын хат жіберіледі.",
                "Номинанту придёт письмо с просьбой подтвердить выдвижение.",
                "The nominee will receive an e-mail asking to confirm the nomination."),
               required=True, max_length=254, is_identifying=True),
        _field(3, "nominee_phone", FieldType.PHONE,
               ("Номинанттың телефоны", "Телефон номинанта", "Nominee's phone"),
               ("Халықаралық форматта, мысалы +7 701 123 45 67.",
                "В международном формате, например +7 701 123 45 67.",
                "In international format, e.g. +7 701 123 45 67."),
               required=True, max_length=40, is_identifying=True),
        _field(4, "region", FieldType.SINGLE_CHOICE,
               ("Өңір", "Регион", "Region"),
               ("Номинант қызметін негізінен жүзеге асыратын өңір.",
                "Регион, в котором номинант в основном ведёт деятельность.",
                "The region where the nominee mainly works."),
               required=True, options=region_options, is_public=True),
        _field(5, "years_volunteering", FieldType.NUMBER,
               ("Волонтерлік тәжірибесі (жыл)", "Стаж волонтёрской деятельности (лет)",
                "Years of volunteering"),
               required=True, min_value=0, max_value=80),
        _field(6, "activity", FieldType.LONG_TEXT,
               ("Волонтерлік қызметтің сипаттамасы", "Описание волонтёрской деятельности",
                "Description of volunteer activity"),
               ("Не істелді, кім үшін және қандай нәтижемен: нақты сандар мен фактілер.",
                "Что сделано, для кого и с каким результатом: конкретные цифры и факты.",
                "What was done, for whom and with what result: concrete figures and facts."),
               required=True, max_length=5000, is_public=True),
        _field(7, "link", FieldType.URL,
               ("Қызмет туралы материалдарға сілтеме", "Ссылка на материалы о деятельности",
                "Link to materials about the activity"),
               ("Сайт, әлеуметтік желідегі парақша немесе БАҚ-тағы жарияланым.",
                "Сайт, страница в социальных сетях или публикация в СМИ.",
                "A website, a social media page or a press article."),
               max_length=500, is_identifying=True, is_public=True),
        _field(8, "photo", FieldType.FILE,
               ("Номинанттың фотосуреті", "Фотография номинанта", "Photo of the nominee"),
               ("JPEG немесе PNG, 5 МБ-қа дейін.", "JPEG или PNG, до 5 МБ.",
                "JPEG or PNG, up to 5 MB."),
               required=True, file_types=["jpg", "jpeg", "png"], file_max_bytes=5 * MB,
               file_max_count=1, is_identifying=True, is_public=True),
        _field(9, "documents", FieldType.FILE,
               ("Растайтын құжаттар", "Подтверждающие документы", "Supporting documents"),
               ("Ұсыным хаттар, алғыс хаттар, жарияланымдар: PDF, 3 файлға дейін, "
                "әрқайсысы 10 МБ-қа дейін.",
                "Рекомендательные и благодарственные письма, публикации: PDF, до 3 файлов, "
                "каждый до 10 МБ.",
                "Letters of recommendation or thanks, publications: PDF, up to 3 files, "
                "10 MB each."),
               file_types=["pdf"], file_max_bytes=10 * MB, file_max_count=3),
        _field(10, "consent", FieldType.CHECKBOX,
               ("Мәліметтердің дұрыстығын растаймын және дербес деректерді өңдеуге келісемін",
                "Подтверждаю достоверность сведений и даю согласие на обработку персональных "
                "данных",
                "I confirm the information is accurate and consent to the processing of "
                "personal data"),
               required=True),
    ]

    rubric = Rubric(name=f"Критерии «Волонтёр года — {year}»", total_method=TotalMethod.SUM)
    rubric.criteria = [
        Criterion(key=key, weight=weight, position=position, min_score=0, max_score=10, step=1,
                  title_kk=titles[0], title_ru=titles[1], title_en=titles[2],
                  description_kk=texts[0], description_ru=texts[1], description_en=texts[2])
        for position, (key, weight, titles, texts) in enumerate(VOY_CRITERIA, start=1)
    ]
    call.rubrics.append(rubric)

    by_email = {user.email: user for user in jurors}
    invited = day_start(opens_at.date() - timedelta(days=30), 10)
    accepted = invited + timedelta(days=14)
    panel = Panel(name=f"Жюри «Волонтёр года — {year}»")
    panel.members = [
        JuryMember(email=email, user_id=by_email[email].id, is_chair=(email == JURORS[0]),
                   status=JurorStatus.ACTIVE, invited_at=invited,
                   accepted_at=accepted)
        for email in JURORS if email in by_email
    ]
    call.panels.append(panel)

    call.rounds = [
        Round(position=1, name_kk="Ұзын тізім", name_ru="Длинный список",
              name_en="Long list", kind=RoundKind.SCORING, rubric=rubric, panel=panel,
              opens_at=day_start(closes_at.date() + timedelta(days=1), 9),
              closes_at=day_start(closes_at.date() + timedelta(days=2), 18),
              status=RoundStatus.DRAFT, blind=True, reviews_per_entry=3),
        Round(position=2, name_kk="Финал", name_ru="Финал", name_en="Final",
              kind=RoundKind.SCORING, rubric=rubric, panel=panel,
              opens_at=day_start(closes_at.date() + timedelta(days=3), 9),
              closes_at=day_start(closes_at.date() + timedelta(days=4), 18),
              status=RoundStatus.DRAFT, blind=False, reviews_per_entry=5),
    ]
    session.add(call)
    session.flush()


# ---- State Prize named after Abai -----------------------------------------------------------

ABAI_CATEGORIES = [
    ("literature", "Әдебиет", "Литература", "Literature"),
    ("cinema", "Кино өнері", "Киноискусство", "Cinema"),
    ("music", "Музыка өнері", "Музыкальное искусство", "Music"),
    ("theatre", "Театр өнері", "Театральное искусство", "Theatre"),
    ("architecture", "Сәулет өнері", "Архитектура", "Architecture"),
    ("fine-arts", "Бейнелеу өнері", "Изобразительное искусство", "Fine Arts"),
]

def abai_rules(closes: date) -> tuple[str, str, str]:
    end = long_dates(closes)
    end_en = format_date(closes, "d MMMM y", locale="en")
    return (
        "Абай атындағы Мемлекеттік сыйлық әдебиет пен өнердің қоғамдық маңызы зор, көпшілікке "
        "кеңінен танылған көрнекті шығармалары үшін беріледі. Шығармаларды шығармашылық "
        "одақтар, баспалар, театрлар мен өзге де ұйымдар ұсынады; автор жеке тұлға немесе "
        "авторлар ұжымы болуы мүмкін.\n\n"
        f"Өтінімдерді қабылдаудың соңғы күні: {end[0]}. Екінші кезеңге өткен шығармалар "
        "қоғамдық талқылауға шығарылады, содан кейін комиссия лауреаттарды жасырын дауыс беру "
        "арқылы анықтайды.",
        "Государственная премия имени Абая присуждается за выдающиеся произведения литературы и "
        "искусства, получившие общественное признание. Произведения выдвигают творческие "
        "союзы, издательства, театры и другие организации; автором может быть один человек или "
        "авторский коллектив.\n\n"
        f"Заявки принимаются по {end[1]} включительно. Произведения, прошедшие во второй "
        "этап, выносятся на общественное обсуждение, после чего комиссия определяет лауреатов "
        "тайным голосованием.",
        "The State Prize named after Abai is awarded for outstanding works of literature and "
        "art that have earned wide public recognition. Works are nominated by creative unions, "
        "publishers, theatres and other organisations; the author may be one person or an "
        "author collective.\n\n"
        f"Nominations are accepted until {end_en} inclusive. Works that reach the second stage "
        "are put to public discussion, after which the commission chooses the laureates by "
        "secret ballot.",
    )


def _seed_abai_prize(session: Session, now: datetime) -> None:
    """This year's call of the State Prize, open for nominations from organisations."""
    day = today(now)
    year = day.year
    opens_at = day_start(day - timedelta(days=ABAI_OPENED_DAYS_AGO))
    closes_at = day_end(day + timedelta(days=ABAI_CLOSES_IN_DAYS))
    rules = abai_rules(closes_at.date())
    programme = _programme(
        session, "abai-state-prize",
        ("Абай атындағы Қазақстан Республикасының Мемлекеттік сыйлығы",
         "Государственная премия Республики Казахстан имени Абая",
         "State Prize of the Republic of Kazakhstan named after Abai"),
        ("Әдебиет пен өнердің көрнекті шығармалары үшін берілетін мемлекеттік сыйлық. Оны "
         "Республика күні қарсаңында Мемлекет басшысының Жарлығымен береді.",
         "Государственная премия за выдающиеся произведения литературы и искусства. "
         "Присуждается указом Главы государства накануне Дня Республики.",
         "The state prize for outstanding works of literature and art, conferred by decree "
         "of the Head of State before Republic Day."),
    )
    call = Call(
        programme=programme,
        slug=abai_slug(year),
        reference_prefix="ABAI",
        year=year,
        title_kk=f"Абай атындағы Мемлекеттік сыйлық — {year}",
        title_ru=f"Государственная премия имени Абая — {year}",
        title_en=f"Abai State Prize {year}",
        rules_kk=rules[0], rules_ru=rules[1], rules_en=rules[2],
        opens_at=opens_at,
        closes_at=closes_at,
        status=CallStatus.OPEN,
        requires_nominee_consent=False,
        allowed_nominator_kinds=[NominatorKind.ORGANISATION],
        has_public_stage=True,
    )
    for position, (code, kk, ru, en) in enumerate(ABAI_CATEGORIES, start=1):
        category = Category(code=code, name_kk=kk, name_ru=ru, name_en=en, position=position,
                            winners_count=1)
        category.award_levels = [
            AwardLevel(key="laureate", name_kk="Лауреат", name_ru="Лауреат", name_en="Laureate",
                       count=1, position=1),
        ]
        call.categories.append(category)

    call.fields = [
        _field(1, "work_title", FieldType.SHORT_TEXT,
               ("Шығарманың атауы", "Название произведения", "Title of the work"),
               required=True, max_length=300, is_public=True),
        _field(2, "authors", FieldType.LONG_TEXT,
               ("Автор немесе авторлар ұжымы", "Автор или авторский коллектив",
                "Author or author collective"),
               ("Әр автордың толық аты-жөні; ұжым үшін — барлық қатысушылар және олардың "
                "шығармаға қосқан үлесі.",
                "Полное имя каждого автора; для коллектива — все участники и вклад каждого "
                "в произведение.",
                "The full name of each author; for a collective, every member and their "
                "contribution to the work."),
               required=True, max_length=3000, is_identifying=True, is_public=True),
        _field(3, "publisher", FieldType.SHORT_TEXT,
               ("Баспа / ұйым", "Издательство / организация", "Publisher / organisation"),
               ("Шығарманы шығарған, қойған немесе жүзеге асырған ұйым.",
                "Организация, выпустившая, поставившая или реализовавшая произведение.",
                "The organisation that published, staged or produced the work."),
               required=True, max_length=300, is_public=True),
        _field(4, "year", FieldType.NUMBER,
               ("Жасалған жылы", "Год создания", "Year of creation"),
               required=True, min_value=1900, max_value=year, is_public=True),
        _field(5, "description", FieldType.LONG_TEXT,
               ("Шығарманың сипаттамасы және оның маңызы",
                "Описание произведения и его значение",
                "Description of the work and its significance"),
               required=True, max_length=8000, is_public=True),
        _field(6, "works", FieldType.FILE,
               ("Шығарма (PDF)", "Произведение (PDF)", "The work (PDF)"),
               ("Мәтін, партитура, жоба немесе көрнекі материалдар: PDF, 5 файлға дейін, "
                "әрқайсысы 50 МБ-қа дейін.",
                "Текст, партитура, проект или иллюстративные материалы: PDF, до 5 файлов, "
                "каждый до 50 МБ.",
                "Text, score, design or visual materials: PDF, up to 5 files, 50 MB each."),
               required=True, file_types=["pdf"], file_max_bytes=50 * MB, file_max_count=5),
    ]
    session.add(call)
    session.flush()
