"""The work's title as a juror's list names it: the answer to the form's title question, chosen
as everywhere else (``nominations.authors.work_title``: a short text question keyed
``work_title``, ``title`` or ``work``, else the first short text answer). Where the policy hides
identities from the juror (a blind round) a title whose question is marked identifying is left
out, as the entry's page leaves that answer out.

One query for a whole list, whatever its length."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from awards.calls.models import FormField
from awards.enums import FieldType
from awards.nominations.authors import WORK_TITLE_KEYS
from awards.nominations.models import Answer


def pick_title(answers: Iterable[tuple[str, int, int, bool, object]],
               *, identity: bool) -> str:
    """``answers``: (key, position, field id, identifying, value) of one entry's short text
    answers. The title the juror may see, or ""."""
    present = [a for a in answers if isinstance(a[4], str) and a[4].strip()]
    by_key = {a[0]: a for a in present}
    chosen = next((by_key[k] for k in WORK_TITLE_KEYS if k in by_key), None)
    if chosen is None and present:
        chosen = min(present, key=lambda a: (a[1], a[2]))
    if chosen is None or (chosen[3] and not identity):
        return ""
    return " ".join(str(chosen[4]).split())


def work_titles(session: Session, nomination_ids: Iterable[int],
                identity_of: dict[int, bool]) -> dict[int, str]:
    """The title of each entry; ``identity_of`` says by nomination id whether the juror may see
    identifying answers (a nomination judged in a blind and an open round counts as blind)."""
    ids = sorted(set(nomination_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(Answer.nomination_id, FormField.key, FormField.position, FormField.id,
               FormField.is_identifying, Answer.value)
        .join(FormField, FormField.id == Answer.field_id)
        .where(Answer.nomination_id.in_(ids), FormField.type == FieldType.SHORT_TEXT))
    grouped: dict[int, list[tuple]] = {}
    for row in rows:
        grouped.setdefault(row[0], []).append(tuple(row[1:]))
    return {n: pick_title(grouped.get(n, ()), identity=identity_of.get(n, False)) for n in ids}


def title_of(nomination, *, identity: bool) -> str:
    """The same for one entry whose answers are loaded (its score sheet)."""
    return pick_title(((a.field.key, a.field.position, a.field.id, a.field.is_identifying,
                        a.value) for a in nomination.answers
                       if a.field is not None and a.field.type == FieldType.SHORT_TEXT),
                      identity=identity)
