"""What a candidate's card on the list of a public stage shows beyond the name and reference:
whether there is a public photo, and the work's title. Two queries for the whole stage,
whatever the number of entries.

The title follows the public pages' rule (``awards.nominations.titles``): the answer to the
title question (keyed ``work_title``, ``title`` or ``work``) when the administrator marked it
public, never another answer in its place; a question that does not apply to the entry's
category or nominator is left out."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from awards.calls.models import FormField
from awards.enums import FieldType
from awards.nominations.models import Answer, Attachment, Nomination
from awards.nominations.titles import TitleAnswer, choose_title
from awards.public_stage.common import IMAGE_TYPES
from awards.public_stage.models import PublicStage, StageEntry


@dataclass(frozen=True, slots=True)
class Card:
    photo: bool = False
    title: str = ""


NO_CARD = Card()


def _with_photo(session: Session, stage: PublicStage) -> set[int]:
    return set(session.scalars(
        select(Attachment.nomination_id).distinct()
        .join(FormField, FormField.id == Attachment.field_id)
        .join(StageEntry, StageEntry.nomination_id == Attachment.nomination_id)
        .where(StageEntry.stage_id == stage.id, FormField.is_public.is_(True),
               Attachment.content_type.in_(IMAGE_TYPES))))


def _titles(session: Session, stage: PublicStage) -> dict[int, str]:
    rows = session.execute(
        select(Answer.nomination_id, Answer.value, FormField, Nomination.category_id,
               Nomination.nominator_kind)
        .join(FormField, FormField.id == Answer.field_id)
        .join(Nomination, Nomination.id == Answer.nomination_id)
        .join(StageEntry, StageEntry.nomination_id == Nomination.id)
        .where(StageEntry.stage_id == stage.id, FormField.is_public.is_(True),
               FormField.type == FieldType.SHORT_TEXT))
    found: dict[int, list[TitleAnswer]] = {}
    for nomination_id, value, definition, category_id, kind in rows:
        if not definition.applies_to(category_id=category_id, nominator_kind=kind):
            continue
        found.setdefault(nomination_id, []).append(TitleAnswer(
            definition.key, definition.position, definition.id, value,
            public=bool(definition.is_public), identifying=bool(definition.is_identifying)))
    titles = {nid: choose_title(answers, public=True) for nid, answers in found.items()}
    return {nid: title for nid, title in titles.items() if title}


def cards(session: Session, stage: PublicStage) -> dict[int, Card]:
    """{nomination id: its card} for the entries of the stage that have a photo or a title."""
    photos, titles = _with_photo(session, stage), _titles(session, stage)
    return {nid: Card(photo=nid in photos, title=titles.get(nid, ""))
            for nid in photos | set(titles)}
