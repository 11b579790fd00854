"""Which answer is the work's title, for every page that names an entry by its work.

The title is the answer to the form's short text question keyed ``work_title``, ``title`` or
``work`` (the keys calls give it, in that order). Two readers:

- inside the site (a juror's list and score sheet, the applicant's and administrator's pages):
  any such question, else the first short text answer in the form's order;
- public pages (the people's vote cards, the published results): only a title question the
  administrator marked public, and never another answer in its place (the first short answer is
  often the nominee's name).

A juror who may not see identities (a blind round) gets no title whose question is marked
identifying."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from awards.enums import FieldType

WORK_TITLE_KEYS = ("work_title", "title", "work")


class TitleAnswer(NamedTuple):
    """One short text answer of an entry, as the choice needs it."""

    key: str
    position: int
    field_id: int
    value: object
    public: bool = False
    identifying: bool = False


def choose_title(answers: Iterable[TitleAnswer], *, public: bool,
                 identity: bool = True) -> str:
    """The work's title among one entry's short text answers, spaces collapsed; "" when none.

    ``public``: a public page's rule (a title question marked public only, no fallback);
    otherwise any title question, else the first short text answer. ``identity`` False: a
    title whose question is identifying is left out (a blind round)."""
    present = [a for a in answers if isinstance(a.value, str) and a.value.strip()
               and (a.public or not public)]
    by_key = {a.key: a for a in present}
    chosen = next((by_key[k] for k in WORK_TITLE_KEYS if k in by_key), None)
    if chosen is None and present and not public:
        chosen = min(present, key=lambda a: (a.position, a.field_id))
    if chosen is None or (chosen.identifying and not identity):
        return ""
    return " ".join(str(chosen.value).split())


def answers_of(nomination) -> list[TitleAnswer]:
    """The short text answers of a nomination whose answers are loaded."""
    return [TitleAnswer(a.field.key, a.field.position, a.field.id, a.value,
                        bool(a.field.is_public), bool(a.field.is_identifying))
            for a in nomination.answers
            if a.field is not None and a.field.type == FieldType.SHORT_TEXT]


def title_of(nomination, *, public: bool, identity: bool = True) -> str:
    """The work's title of a nomination whose answers are loaded (see ``choose_title``)."""
    return choose_title(answers_of(nomination), public=public, identity=identity)
