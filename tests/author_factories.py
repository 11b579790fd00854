"""An author collective on a nomination, written straight to the database: an authors question
on the call, the answer and its rows (as a submitted version leaves them)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from awards.calls.models import Call, FormField
from awards.enums import FieldType
from awards.nominations.authors import sync_authors
from awards.nominations.models import Answer, Nomination

ROLES = [
    {"value": "author", "label_en": "Author", "label_ru": "Автор", "label_kk": "Автор"},
    {"value": "director", "label_en": "Director", "label_ru": "Режиссёр", "label_kk": "Режиссер"},
    {"value": "composer", "label_en": "Composer", "label_ru": "Композитор",
     "label_kk": "Композитор"},
]

# Three authors; the Kazakh names use letters only Kazakh has, so a PDF that drops them shows.
COLLECTIVE = [
    {"name_kk": "Әлия Нұрланқызы", "name_ru": "Алия Нурлановна", "name_en": "Aliya Nurlankyzy",
     "role": "author", "email": "aliya.author@example.org"},
    {"name_kk": "Ғалым Сейітов", "name_ru": "Галым Сеитов", "name_en": "Galym Seitov",
     "role": "director", "email": "galym.director@example.org"},
    {"name_kk": "Дәурен Өмірбек", "name_ru": "Даурен Омирбек", "name_en": "Dauren Omirbek",
     "role": "composer", "email": ""},
]


def authors_question(session: Session, call: Call, *, key: str = "authors", max_authors: int = 5,
                     required: bool = True, identifying: bool = True) -> FormField:
    field = FormField(call=call, key=key, type=FieldType.AUTHORS, position=50,
                      label_en="Authors", label_ru="Авторы", label_kk="Авторлар",
                      required=required, options=ROLES, max_value=float(max_authors),
                      is_identifying=identifying)
    session.add(field)
    session.flush()
    return field


def give_authors(session: Session, nomination: Nomination, field: FormField,
                 rows: list[dict] | None = None) -> None:
    rows = [dict(r) for r in (COLLECTIVE if rows is None else rows)]
    answer = nomination.answer_for(field.id)
    if answer is None:
        nomination.answers.append(Answer(field=field, value=rows))
    else:
        answer.value = rows
    sync_authors(session, nomination, rows)
    session.flush()
