"""Author collectives in the demo, added by ``flask awards seed`` after the other features.

The Abai calls name their works' authors as people: the open call's "authors" question asks
for them one by one, and each work of last year's shortlist (the commission's ballot) has its
collective, some of whose members have already confirmed by e-mail; the nominating
organisation receives a diploma too."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from awards.calls.models import Call, FormField
from awards.commission import demo as commission_demo
from awards.demo import abai_slug, today
from awards.enums import FieldType
from awards.nominations.authors import sync_authors
from awards.nominations.models import Answer, Nomination

MAX_AUTHORS = 12

ROLES = [
    {"value": "author", "label_kk": "Автор", "label_ru": "Автор", "label_en": "Author"},
    {"value": "co_author", "label_kk": "Тең автор", "label_ru": "Соавтор",
     "label_en": "Co-author"},
    {"value": "director", "label_kk": "Режиссер", "label_ru": "Режиссёр",
     "label_en": "Director"},
    {"value": "composer", "label_kk": "Композитор", "label_ru": "Композитор",
     "label_en": "Composer"},
    {"value": "artistic_director", "label_kk": "Көркемдік жетекші",
     "label_ru": "Художественный руководитель", "label_en": "Artistic director"},
    {"value": "performer", "label_kk": "Орындаушы", "label_ru": "Исполнитель",
     "label_en": "Performer"},
    {"value": "designer", "label_kk": "Суретші-қоюшы", "label_ru": "Художник-постановщик",
     "label_en": "Set designer"},
]

LABEL = ("Автор немесе авторлар ұжымы", "Автор или авторский коллектив",
         "Author or author collective")
HELP = ("Әр автор жеке: аты-жөні, шығармадағы рөлі және келісім сұрайтын e-mail.",
        "Каждый автор отдельно: имя, роль в произведении и e-mail для согласия.",
        "Each author on their own: name, role in the work and an e-mail to ask for consent.")


def _a(kk: str, ru: str, en: str, role: str, email: str = "") -> dict[str, str]:
    return {"name_kk": kk, "name_ru": ru, "name_en": en, "role": role, "email": email}


# By the shortlist's number (``awards.commission.demo.reference``): (nominating organisation,
# authors in order).
COLLECTIVES = {
    1: ("«Фолиант» баспасы", [
        _a("Айгүл Серікова", "Айгуль Серикова", "Aigul Serikova", "author",
           "aigul.serikova@example.com")]),
    2: ("Қазақстан Жазушылар одағы", [
        _a("Ерлан Жұмабаев", "Ерлан Жумабаев", "Yerlan Zhumabayev", "co_author",
           "yerlan.zhumabayev@example.com"),
        _a("Мәди Оспанов", "Мади Оспанов", "Madi Ospanov", "co_author",
           "madi.ospanov@example.com")]),
    3: ("Құрманғазы атындағы консерватория", [
        _a("Асқар Нұрланұлы", "Аскар Нурланулы", "Askar Nurlanuly", "composer",
           "askar.nurlanuly@example.com")]),
    4: ("Қазақ ұлттық филармониясы", [
        _a("Гүлмира Есенова", "Гульмира Есенова", "Gulmira Yessenova", "artistic_director",
           "gulmira.yessenova@example.com"),
        _a("Бауыржан Төлегенов", "Бауыржан Тулегенов", "Baurzhan Tolegenov", "performer"),
        _a("Әсел Қайратқызы", "Асель Кайраткызы", "Assel Kairatkyzy", "performer")]),
    5: ("М. Әуезов атындағы қазақ драма театры", [
        _a("Қуандық Қасымов", "Куандык Касымов", "Kuandyk Kassymov", "director",
           "kuandyk.kassymov@example.com"),
        _a("Ақтоты Райымқұлова", "Актоты Райымкулова", "Aktoty Raiymkulova", "composer"),
        _a("Ербол Сұлтанов", "Ербол Султанов", "Yerbol Sultanov", "designer")]),
    6: ("М. Лермонтов атындағы орыс драма театры", [
        _a("Руслан Жақсылықов", "Руслан Жаксылыков", "Ruslan Zhaksylykov", "director",
           "ruslan.zhaksylykov@example.com"),
        _a("Наталья Ким", "Наталья Ким", "Natalya Kim", "performer"),
        _a("Данияр Әбенов", "Данияр Абенов", "Daniyar Abenov", "performer")]),
}


def _authors_question(call: Call, position: int) -> FormField:
    return FormField(key="authors", type=FieldType.AUTHORS, position=position, required=True,
                     label_kk=LABEL[0], label_ru=LABEL[1], label_en=LABEL[2],
                     help_kk=HELP[0], help_ru=HELP[1], help_en=HELP[2], options=ROLES,
                     max_value=float(MAX_AUTHORS), is_identifying=True, is_public=True)


def _ask_one_by_one(session: Session, now: datetime) -> bool:
    """The open call's free-text "authors" question becomes an authors question, while no
    entry has answered it."""
    call = session.scalar(select(Call).where(Call.slug == abai_slug(today(now).year)))
    field = next((f for f in call.fields if f.key == "authors"), None) if call else None
    if field is None or field.type == FieldType.AUTHORS:
        return False
    answered = session.scalar(select(func.count(Answer.id)).where(Answer.field_id == field.id))
    if answered:
        return False
    field.type = FieldType.AUTHORS
    field.options = ROLES
    field.max_value = float(MAX_AUTHORS)
    field.max_length = None
    field.help_kk, field.help_ru, field.help_en = HELP
    return True


def _collectives(session: Session, now: datetime) -> bool:
    year = commission_demo.edition_year(now)
    call = session.scalar(select(Call).where(Call.slug == commission_demo.slug(year)))
    if call is None or any(f.type == FieldType.AUTHORS for f in call.fields):
        return False
    field = _authors_question(call, position=2)
    call.fields.append(field)
    call.organisation_certificate = True
    session.flush()
    for nomination in session.scalars(select(Nomination).where(Nomination.call_id == call.id)):
        number = next((n for n in COLLECTIVES
                       if commission_demo.reference(year, n) == nomination.reference), None)
        if number is None:
            continue
        organisation, rows = COLLECTIVES[number]
        nomination.organisation_name = organisation
        nomination.answers.append(Answer(field=field, value=rows))
        sync_authors(session, nomination, rows)
        # The first author of each work has confirmed; the others are still to answer.
        for number, author in enumerate(nomination.authors):
            if author.email:
                author.consent_requested_at = now - timedelta(days=30)
                if number == 0:
                    author.consent_at = now - timedelta(days=29)
    session.flush()
    return True


def seed(session: Session, now: datetime) -> bool:
    changed = _ask_one_by_one(session, now)
    return _collectives(session, now) or changed
