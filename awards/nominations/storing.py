"""Writing a nomination's answers and files: what a save stores (answers, nominee details,
files added and removed), audited; and the files on disk that go with it after a commit or a
rollback. The applicant's actions in ``nominations.services`` call ``store_changes`` under the
nomination's lock, once the policy allowed the change."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from awards import audit
from awards.calls.models import FormField
from awards.db import utcnow
from awards.enums import FieldType, NominationStatus, NominatorKind
from awards.nominations.fields import (
    NOMINEE_COLUMNS,
    allowed_kinds,
    fields_for,
    max_upload_bytes,
    too_many_files_message,
)
from awards.nominations.models import Answer, Attachment, Nomination
from awards.storage import UploadError, delete_stored, save_upload


@dataclass
class SaveResult:
    changed: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    # Messages (translatable) per file question.
    upload_errors: dict[int, list] = field(default_factory=dict)
    uploaded: list[Attachment] = field(default_factory=list)
    removed: list[Attachment] = field(default_factory=list)
    # Files written to disk in this transaction; the caller deletes them if it rolls back.
    stored_names: list[str] = field(default_factory=list)

    @property
    def files_changed(self) -> bool:
        return bool(self.uploaded or self.removed)


def store_changes(
    *,
    session: Session,
    nomination: Nomination,
    actor,
    answers: dict[int, Any],
    nominee: dict[str, str],
    uploads: dict[int, list[FileStorage]] | None = None,
    remove_ids: list[int] | None = None,
    now: datetime | None = None,
) -> SaveResult:
    """Store the given answers and nominee details, remove and add files.

    Only what is given changes. A file that cannot be stored (type, size, empty, too many) is
    reported per field in ``upload_errors`` and the rest is saved. The caller has checked the
    types of the answers (the form does). Audited as ``nomination.save_draft`` while a draft,
    ``nomination.edit`` afterwards, with the changed values before and after."""
    now = now or utcnow()
    result = SaveResult()
    fields = fields_for(nomination)
    by_id = {f.id: f for f in fields}

    nominee = dict(nominee)
    if nomination.nominator_kind == NominatorKind.SELF:
        nominee.pop("nominee_email", None)  # always the account's address
    for name, value in nominee.items():
        if name in NOMINEE_COLUMNS and getattr(nomination, name) != value:
            result.changed[f"nominee.{name}"] = (getattr(nomination, name), value)
            setattr(nomination, name, value)

    for field_id, value in answers.items():
        definition = by_id.get(field_id)
        if definition is None or definition.type == FieldType.FILE:
            continue
        if definition.key in NOMINEE_COLUMNS:
            continue
        _set_answer(nomination, definition, value, result)
    # Questions that are nominee details mirror the nomination's columns.
    for definition in fields:
        if definition.key in NOMINEE_COLUMNS:
            _set_answer(nomination, definition, getattr(nomination, definition.key) or None,
                        result, record=False)

    for attachment_id in remove_ids or []:
        attachment = next((a for a in nomination.attachments if a.id == attachment_id), None)
        if attachment is not None:
            _remove_attachment(session, nomination, attachment, actor, result)

    for field_id, files in (uploads or {}).items():
        definition = by_id.get(field_id)
        if definition is None or definition.type != FieldType.FILE:
            continue
        _add_files(session, nomination, definition, files, actor, result)

    if result.files_changed:
        for definition in fields:
            if definition.type == FieldType.FILE:
                ids = [a.id for a in nomination.attachments if a.field_id == definition.id]
                _set_answer(nomination, definition, ids or None, result, record=False)

    if result.changed:
        nomination.updated_at = now
        before = {key: old for key, (old, _new) in result.changed.items()}
        after = {key: new for key, (_old, new) in result.changed.items()}
        action = ("nomination.save_draft" if nomination.status == NominationStatus.DRAFT
                  else "nomination.edit")
        audit.record(session, action=action, object_type="nomination", object_id=nomination.id,
                     actor=actor, call_id=nomination.call_id, before=before, after=after)
    session.flush()
    return result


def _set_answer(nomination: Nomination, definition: FormField, value: Any, result: SaveResult,
                *, record: bool = True) -> None:
    if value in ("", []):
        value = None
    answer = nomination.answer_for(definition.id)
    old = answer.value if answer is not None else None
    if old == value and (answer is not None or value is None):
        return
    if answer is None:
        answer = Answer(field=definition, value=value)
        nomination.answers.append(answer)
    else:
        answer.value = value
    if record and old != value:
        result.changed[definition.key] = (old, value)


def _add_files(session: Session, nomination: Nomination, definition: FormField,
               files: list[FileStorage], actor, result: SaveResult) -> None:
    """Store the files chosen for a question. A one-file question takes a new file in place
    of the one attached, which is removed only once the new one is stored."""
    attached = [a for a in nomination.attachments if a.field_id == definition.id]
    limit = definition.file_max_count or 1
    replacing = attached if limit == 1 and len(files) == 1 else []
    if len(attached) - len(replacing) + len(files) > limit:
        message = too_many_files_message(limit, len(attached))
        result.upload_errors.setdefault(definition.id, []).append(message)
        return
    for upload in files:
        try:
            stored = save_upload(upload.stream, upload.filename,
                                 allowed=allowed_kinds(definition),
                                 max_bytes=max_upload_bytes(definition))
        except UploadError as exc:
            result.upload_errors.setdefault(definition.id, []).append(str(exc.message))
            continue
        result.stored_names.append(stored.stored_name)
        for old in replacing:
            if old in nomination.attachments:
                _remove_attachment(session, nomination, old, actor, result)
        attachment = Attachment(
            field_id=definition.id, original_name=stored.original_name,
            stored_name=stored.stored_name, content_type=stored.content_type, size=stored.size,
            sha256=stored.sha256, uploaded_by_id=getattr(actor, "id", None),
        )
        nomination.attachments.append(attachment)
        session.flush()
        audit.record(session, action="attachment.upload", object_type="attachment",
                     object_id=attachment.id, actor=actor, call_id=nomination.call_id,
                     after={"nomination_id": nomination.id, "field": definition.key,
                            "original_name": attachment.original_name, "size": attachment.size,
                            "sha256": attachment.sha256})
        result.uploaded.append(attachment)


def _remove_attachment(session: Session, nomination: Nomination, attachment: Attachment, actor,
                       result: SaveResult) -> None:
    audit.record(session, action="attachment.remove", object_type="attachment",
                 object_id=attachment.id, actor=actor, call_id=nomination.call_id,
                 before={"nomination_id": nomination.id,
                         "field": attachment.field.key if attachment.field else None,
                         "original_name": attachment.original_name, "sha256": attachment.sha256})
    nomination.attachments.remove(attachment)
    result.removed.append(attachment)
    session.flush()


def delete_files_of(attachments: list[Attachment]) -> None:
    """After the commit that removed them: the rows are gone, the files can go too. A version
    snapshot keeps their metadata (name, size, hash), not the content."""
    for attachment in attachments:
        delete_stored(attachment.stored_name)


def discard_stored(names: list[str]) -> None:
    """After a rollback: files written for rows that were never committed."""
    for name in names:
        delete_stored(name)
