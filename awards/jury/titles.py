"""The work's title as a juror's list names it, chosen as everywhere inside the site
(``awards.nominations.titles``: a short text question keyed ``work_title``, ``title`` or
``work``, else the first short text answer). Where the policy hides identities from the juror
(a blind round) a title whose question is marked identifying is left out, as the entry's page
leaves that answer out.

One query for a whole list, whatever its length."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from awards.calls.models import FormField
from awards.enums import FieldType
from awards.nominations.models import Answer
from awards.nominations.titles import TitleAnswer, choose_title
from awards.nominations.titles import title_of as _title_of


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
    grouped: dict[int, list[TitleAnswer]] = {}
    for nomination_id, key, position, field_id, identifying, value in rows:
        grouped.setdefault(nomination_id, []).append(
            TitleAnswer(key, position, field_id, value, identifying=bool(identifying)))
    return {n: choose_title(grouped.get(n, ()), public=False,
                            identity=identity_of.get(n, False)) for n in ids}


def title_of(nomination, *, identity: bool) -> str:
    """The same for one entry whose answers are loaded (its score sheet)."""
    return _title_of(nomination, public=False, identity=identity)
