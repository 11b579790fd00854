"""Calls, forms and nominations written straight to the database, for any test that needs them.

``make_call(session, **overrides)`` builds an open call (opened ten days ago, closing in ten)
with two categories and an application form that has one field of every type, so a test can
override only what it is about. Helpers take the session and flush; ``arrange`` runs one in an
app context of its own and commits."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from awards.calls.models import Call, Category, FormField, Programme
from awards.db import get_db, utcnow
from awards.enums import CallStatus, FieldType, NominationStatus, NominatorKind
from awards.nominations.models import Answer, Nomination

T = TypeVar("T")

# Small files that pass storage's content checks.
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200


def png_bytes(size: tuple[int, int] = (4, 4)) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(buf, format="PNG")
    return buf.getvalue()


def arrange(app, build: Callable[[Session], T]) -> T:
    """Run ``build`` in an app context of its own and commit; detached results stay usable."""
    with app.app_context():
        session = get_db()
        result = build(session)
        session.commit()
        return result


def make_programme(session: Session, slug: str = "nvn") -> Programme:
    programme = session.scalar(select(Programme).where(Programme.slug == slug))
    if programme is None:
        programme = Programme(slug=slug, name_kk="Ұлттық волонтерлік желі",
                              name_ru="Национальная волонтёрская сеть",
                              name_en="National Volunteer Network")
        session.add(programme)
    return programme


DEFAULT_CATEGORIES = (
    ("social", "Social Helper", "Социальный помощник", "Әлеуметтік көмекші",
     "For help to people in need."),
    ("ecology", "Environmental Volunteering", "Экологическое волонтёрство",
     "Экологиялық волонтерлік", "For care of nature."),
)

MB = 1024 * 1024


def _field(position: int, key: str, type_: FieldType, en: str, ru: str, kk: str,
           **kwargs) -> FormField:
    return FormField(key=key, type=type_, position=position, label_en=en, label_ru=ru,
                     label_kk=kk, **kwargs)


def default_fields(categories: dict[str, Category]) -> list[FormField]:
    """One field of every type; one limited to a category, one to a kind of nominator."""
    options = [
        {"value": "almaty", "label_en": "Almaty", "label_ru": "Алматы", "label_kk": "Алматы"},
        {"value": "astana", "label_en": "Astana", "label_ru": "Астана", "label_kk": "Астана"},
        {"value": "abroad", "label_en": "Outside Kazakhstan", "label_ru": "За рубежом",
         "label_kk": "Шетелде"},
    ]
    topics = [
        {"value": "children", "label_en": "Children", "label_ru": "Дети", "label_kk": "Балалар"},
        {"value": "elderly", "label_en": "Elderly people", "label_ru": "Пожилые люди",
         "label_kk": "Қарттар"},
        {"value": "nature", "label_en": "Nature", "label_ru": "Природа", "label_kk": "Табиғат"},
    ]
    return [
        _field(1, "title", FieldType.SHORT_TEXT, "Project title", "Название проекта",
               "Жобаның атауы", required=True, max_length=200,
               help_en="A short name.", help_ru="Краткое название.", help_kk="Қысқа атауы."),
        _field(2, "activity", FieldType.LONG_TEXT, "Description of the activity",
               "Описание деятельности", "Қызметтің сипаттамасы", required=True, max_length=2000),
        _field(3, "years", FieldType.NUMBER, "Years of volunteering", "Стаж (лет)",
               "Тәжірибесі (жыл)", required=True, min_value=0, max_value=80),
        _field(4, "started_on", FieldType.DATE, "Started on", "Дата начала", "Басталған күні"),
        _field(5, "contact_email", FieldType.EMAIL, "Contact e-mail", "Контактный e-mail",
               "Байланыс поштасы"),
        _field(6, "website", FieldType.URL, "Website", "Сайт", "Сайт"),
        _field(7, "contact_phone", FieldType.PHONE, "Contact phone", "Контактный телефон",
               "Байланыс телефоны"),
        _field(8, "region", FieldType.SINGLE_CHOICE, "Region", "Регион", "Өңір",
               required=True, options=options),
        _field(9, "topics", FieldType.MULTIPLE_CHOICE, "Topics", "Темы", "Тақырыптар",
               options=topics),
        _field(10, "documents", FieldType.FILE, "Supporting documents",
               "Подтверждающие документы", "Растайтын құжаттар", required=True,
               file_types=["pdf"], file_max_bytes=2048, file_max_count=2),
        _field(11, "photo", FieldType.FILE, "Photo", "Фотография", "Фотосурет",
               file_types=["jpg", "png"], file_max_bytes=MB, file_max_count=1),
        _field(12, "eco_area", FieldType.SHORT_TEXT, "Protected area", "Охраняемая территория",
               "Қорғалатын аумақ", category=categories.get("ecology")),
        _field(13, "org_reg_number", FieldType.SHORT_TEXT, "Registration number (BIN)",
               "БИН организации", "Ұйымның БСН", required=True,
               nominator_kinds=[NominatorKind.ORGANISATION.value]),
        _field(14, "truthful", FieldType.CHECKBOX, "I confirm the information is accurate",
               "Подтверждаю достоверность сведений", "Мәліметтердің дұрыстығын растаймын",
               required=True),
    ]


def make_call(session: Session, **overrides: Any) -> Call:
    """An open call; any Call column can be overridden, plus ``categories`` (tuples of code,
    en, ru, kk, description_en) and ``fields`` (a callable taking {code: Category})."""
    now = utcnow()
    categories = overrides.pop("categories", DEFAULT_CATEGORIES)
    fields = overrides.pop("fields", default_fields)
    programme = overrides.pop("programme", None) or make_programme(session)
    values: dict[str, Any] = {
        "slug": "voy-2026", "reference_prefix": "VOY", "year": 2026,
        "title_en": "Volunteer of the Year 2026", "title_ru": "Волонтёр года — 2026",
        "title_kk": "Жыл волонтері — 2026",
        "rules_en": "Anyone may nominate.\nDeadline is firm.\n\nWinners on 5 December.",
        "rules_ru": "Выдвигать может любой.\nСрок окончательный.\n\nПобедители 5 декабря.",
        "rules_kk": "Кез келген адам ұсына алады.",
        "consent_text_en": "I agree that my personal data is processed to run the prize.",
        "consent_text_ru": "Я согласен(на) на обработку персональных данных.",
        "consent_text_kk": "Дербес деректерді өңдеуге келісемін.",
        "opens_at": now - timedelta(days=10), "closes_at": now + timedelta(days=10),
        "status": CallStatus.OPEN, "requires_nominee_consent": False,
        "allowed_nominator_kinds": [k.value for k in NominatorKind],
    }
    values.update(overrides)
    call = Call(programme=programme, **values)
    by_code = {}
    for position, (code, en, ru, kk, description) in enumerate(categories, start=1):
        category = Category(code=code, name_en=en, name_ru=ru, name_kk=kk,
                            description_en=description, position=position)
        call.categories.append(category)
        by_code[code] = category
    session.add(call)
    session.flush()
    call.fields = list(fields(by_code)) if fields else []
    session.flush()
    return call


def field_of(call: Call, key: str) -> FormField:
    return next(f for f in call.fields if f.key == key)


def make_nomination(
    session: Session,
    *,
    call: Call,
    applicant_id: int,
    category: str = "social",
    kind: NominatorKind = NominatorKind.SELF,
    status: NominationStatus = NominationStatus.DRAFT,
    answers: dict[str, Any] | None = None,
    submitted_at: datetime | None = None,
    **columns: Any,
) -> Nomination:
    """A nomination as stored, with answers by field key (no files)."""
    nomination = Nomination(
        call=call, category=next(c for c in call.categories if c.code == category),
        applicant_id=applicant_id, nominator_kind=kind, status=status,
        nominee_consent_required=call.requires_nominee_consent,
        submitted_at=submitted_at or (utcnow() if status != NominationStatus.DRAFT else None),
        **columns,
    )
    for key, value in (answers or {}).items():
        nomination.answers.append(Answer(field=field_of(call, key), value=value))
    session.add(nomination)
    session.flush()
    return nomination


# ---- driving the pages ------------------------------------------------------------------------


def read(app, query: Callable[[Session], T]) -> T:
    """Run ``query`` in an app context of its own (never the client's) and return its result;
    return plain values, not ORM objects."""
    with app.app_context():
        return query(get_db())


def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def valid_form(**overrides: Any) -> dict[str, Any]:
    """Everything the default form needs for a self-nomination in "social" (with a fresh PDF,
    since a stream can be read only once)."""
    data: dict[str, Any] = {
        "nominee_name": "Aigerim Sadykova", "nominee_phone": "+7 701 123 45 67",
        "q_title": "Clean rivers", "q_activity": "We cleaned 12 rivers.\nWith 300 people.",
        "q_years": "5", "q_started_on": "2020-05-01", "q_contact_email": "team@example.org",
        "q_website": "https://rivers.example.org", "q_contact_phone": "+7 727 000 00 00",
        "q_region": "almaty", "q_topics": ["nature", "children"], "q_truthful": "y",
        "q_documents": (io.BytesIO(PDF), "report.pdf"), "personal_data_consent": "y",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def start_nomination(client, *, slug: str = "voy-2026", category: str = "social",
                     kind: str = "self") -> int:
    from tests.conftest import post_form

    response = post_form(client, f"/nominations/start/{slug}",
                         {"category": category, "nominator_kind": kind})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return int(response.headers["Location"].split("/")[-2])


def save_draft(client, nomination_id: int, data: dict[str, Any]):
    from tests.conftest import post_form

    return post_form(client, f"/nominations/{nomination_id}/edit", data, csrf_url="/")


def submit(client, nomination_id: int, data: dict[str, Any]):
    from tests.conftest import post_form

    return post_form(client, f"/nominations/{nomination_id}/submit", data, csrf_url="/")
