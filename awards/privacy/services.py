"""An applicant's personal data: everything we hold about them as one download, and erasing
the account.

Erasing keeps what the competition itself still needs. A nomination to a call that is still
open is deleted outright (the applicant could have withdrawn it anyway); one to a closed call
has been, or is being, screened and judged, so it stays but is cut loose from the person
(``anonymise_nomination``). The user row stays too, emptied, so that audit records, reviews and
timelines that name its id keep pointing at something."""

from __future__ import annotations

import json
import secrets
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from awards import audit
from awards.auth.models import User, new_session_token
from awards.auth.services import check_password
from awards.db import utcnow
from awards.enums import CallStatus, NominationStatus
from awards.i18n import localized
from awards.mail import queue_mail
from awards.nominations.authors import anonymise_authors
from awards.nominations.models import Answer, Attachment, Nomination
from awards.storage import clean_filename, delete_stored, read_stored

EXPORT_FORMAT = 1


class DeletionRefused(Exception):
    """The account cannot be deleted; ``message`` is translated and shown as is."""

    def __init__(self, message):
        # Kept lazy: translated when shown, in the language of whoever reads it.
        super().__init__(message)
        self.message = message


class WrongPassword(DeletionRefused):
    def __init__(self):
        super().__init__(_l("The password is incorrect."))


# ---- export ---------------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _folder(nomination: Nomination) -> str:
    return nomination.reference or f"draft-{nomination.id}"


def _own_nominations(session: Session, user: User) -> list[Nomination]:
    return list(session.scalars(
        select(Nomination)
        .where(Nomination.applicant_id == user.id)
        .order_by(Nomination.created_at, Nomination.id)
        .options(
            joinedload(Nomination.call),
            joinedload(Nomination.category),
            selectinload(Nomination.answers).joinedload(Answer.field),
            selectinload(Nomination.attachments).joinedload(Attachment.field),
            selectinload(Nomination.versions),
            selectinload(Nomination.status_changes),
        )
    ))


@dataclass
class Export:
    data: dict[str, Any]
    # (path inside the zip, stored file name)
    files: list[tuple[str, str]] = field(default_factory=list)


def _unique(path: str, taken: set[str]) -> str:
    if path not in taken:
        return path
    stem, dot, ext = path.rpartition(".")
    if not dot or "/" in ext:
        stem, dot, ext = path, "", ""
    n = 2
    while f"{stem} ({n}){dot}{ext}" in taken:
        n += 1
    return f"{stem} ({n}){dot}{ext}"


def collect_export(*, session: Session, user: User) -> Export:
    """Everything held about ``user`` as applicant: account, nominations with answers, files,
    the timeline they see (internal screening notes are not theirs), versions and consents.
    The password hash is left out: it is a secret of the service, not information about them."""
    language = user.preferred_language
    files: list[tuple[str, str]] = []
    taken: set[str] = set()
    nominations = []
    consents = []
    for n in _own_nominations(session, user):
        consents.append({"nomination": _folder(n), **_consent(n)})
        attachments = []
        for a in n.attachments:
            path = _unique(f"attachments/{_folder(n)}/{clean_filename(a.original_name)}", taken)
            taken.add(path)
            files.append((path, a.stored_name))
            attachments.append({
                "id": a.id, "file": path, "original_name": a.original_name,
                "content_type": a.content_type, "size": a.size, "sha256": a.sha256,
                "field": a.field.key if a.field else None, "uploaded_at": _iso(a.uploaded_at),
            })
        nominations.append({
            "id": n.id,
            "reference": n.reference,
            "call": {"id": n.call_id, "slug": n.call.slug,
                     "title": localized(n.call, "title", language)},
            "category": {"id": n.category_id, "code": n.category.code,
                         "name": localized(n.category, "name", language)},
            "nominator_kind": n.nominator_kind.value,
            "status": n.status.value,
            "nominee": {"name": n.nominee_name, "email": n.nominee_email,
                        "phone": n.nominee_phone},
            "organisation_name": n.organisation_name,
            "screening_reason": n.screening_reason,
            "created_at": _iso(n.created_at),
            "updated_at": _iso(n.updated_at),
            "submitted_at": _iso(n.submitted_at),
            "withdrawn_at": _iso(n.withdrawn_at),
            "answers": [
                {"field": a.field.key, "label": localized(a.field, "label", language),
                 "type": a.field.type.value, "value": a.value}
                for a in sorted(n.answers, key=lambda a: (a.field.position, a.field.id))
            ],
            "attachments": attachments,
            "status_timeline": [
                {"at": _iso(c.created_at),
                 "from": c.from_status.value if c.from_status else None,
                 "to": c.to_status.value, "reason": c.reason}
                for c in n.status_changes if c.visible_to_applicant
            ],
            "versions": [
                {"number": v.number, "created_at": _iso(v.created_at), "snapshot": v.snapshot}
                for v in n.versions
            ],
        })
    data = {
        "format": EXPORT_FORMAT,
        "exported_at": _iso(utcnow()),
        "account": {
            "id": user.id,
            "email": user.email,
            "full_name": user.full_name,
            "organisation": user.organisation,
            "phone": user.phone,
            "preferred_language": user.preferred_language,
            "email_verified_at": _iso(user.email_verified_at),
            "created_at": _iso(user.created_at),
            "last_login_at": _iso(user.last_login_at),
            "roles": ["applicant", *(["administrator"] if user.is_admin else [])],
        },
        "nominations": nominations,
        "consents": consents,
    }
    return Export(data=data, files=files)


def _consent(n: Nomination) -> dict[str, Any]:
    return {"nominee_consent_required": n.nominee_consent_required,
            "nominee_consent_at": _iso(n.nominee_consent_at),
            "nominee_declined_at": _iso(n.nominee_declined_at)}


def write_zip(export: Export, out: IO[bytes]) -> list[str]:
    """The zip: data.json and every attachment. Returns the paths of files missing on disk
    (listed in data.json as well, so the download says what it lacks)."""
    missing: list[str] = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path, stored_name in export.files:
            try:
                content = read_stored(stored_name)
            except (FileNotFoundError, IsADirectoryError):
                current_app.logger.warning("export: attachment %s missing on disk", stored_name)
                missing.append(path)
                continue
            zf.writestr(path, content)
        data = dict(export.data, missing_files=missing)
        zf.writestr("data.json", json.dumps(data, ensure_ascii=False, indent=2, default=str))
    return missing


# ---- deletion -------------------------------------------------------------------------------


def _call_is_closed(call, now: datetime) -> bool:
    """Past the deadline, or moved on by the administrators (screening, judging, results)."""
    return call.has_closed_at(now) or call.status not in (CallStatus.DRAFT, CallStatus.OPEN)


@dataclass
class AccountDeletion:
    deleted: list[int] = field(default_factory=list)
    anonymised: list[int] = field(default_factory=list)
    # Removed from disk only after the commit: a rolled-back deletion must find its files.
    files_to_remove: list[str] = field(default_factory=list)


_CONTACT_KEYS = ("nominee_email", "nominee_phone")


def _scrub(value: Any, *, keys: set[str], ids: set[int], clear_name: bool) -> Any:
    """A version snapshot with the same erasures as the nomination: contact details, the
    name when it goes, and answers to identifying fields (found by field key or id)."""

    def identifying(item: dict) -> bool:
        return (item.get("field") in keys or item.get("key") in keys
                or item.get("field_key") in keys or item.get("field_id") in ids)

    if isinstance(value, list):
        return [_scrub(v, keys=keys, ids=ids, clear_name=clear_name) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key in _CONTACT_KEYS or (clear_name and key == "nominee_name"):
            out[key] = "" if isinstance(item, str) else None
        elif key == "answers" and isinstance(item, dict):
            out[key] = {k: (None if k in keys or (k.isdigit() and int(k) in ids) else
                            _scrub(v, keys=keys, ids=ids, clear_name=clear_name))
                        for k, v in item.items()}
        elif key == "answers" and isinstance(item, list):
            out[key] = [dict(a, value=None) if isinstance(a, dict) and identifying(a)
                        else _scrub(a, keys=keys, ids=ids, clear_name=clear_name) for a in item]
        elif key == "attachments" and isinstance(item, list):
            out[key] = [a for a in item if not (isinstance(a, dict) and identifying(a))]
        else:
            out[key] = _scrub(item, keys=keys, ids=ids, clear_name=clear_name)
    return out


def anonymise_nomination(*, session: Session, nomination: Nomination, user: User,
                         now: datetime) -> list[str]:
    """Cut a nomination of a closed call loose from its erased applicant. Returns the stored
    files that are no longer referenced.

    The rule for the nominee: e-mail and phone always go (they only served to reach the
    nominee during the competition). The name stays on an *eligible* entry, because such an
    entry may be shortlisted, ranked, awarded and published, and results and certificates must
    keep naming who won; an entry that is ineligible, withdrawn or was never screened will
    never be shown, so its name goes too. Answers to fields the call marks as identifying
    (the same ones hidden from blind juries) are cleared, and files uploaded to those fields
    deleted; the rest of the entry is what the jury judged and stays."""
    keep_name = nomination.status == NominationStatus.ELIGIBLE
    identifying_fields = {a.field_id: a.field.key for a in nomination.answers
                          if a.field.is_identifying}
    for attachment in nomination.attachments:
        if attachment.field is not None and attachment.field.is_identifying:
            identifying_fields[attachment.field.id] = attachment.field.key
    before = {"status": nomination.status.value, "applicant_id": nomination.applicant_id}

    nomination.applicant = None
    nomination.anonymised_at = now
    nomination.nominee_email = ""
    nomination.nominee_phone = ""
    nomination.nominee_consent_token_hash = None
    if not keep_name:
        nomination.nominee_name = ""
    anonymise_authors(nomination, keep_names=keep_name)
    for answer in nomination.answers:
        if answer.field_id in identifying_fields:
            answer.value = None
    removed = []
    for attachment in list(nomination.attachments):
        if attachment.field_id in identifying_fields:
            removed.append(attachment.stored_name)
            nomination.attachments.remove(attachment)
        elif attachment.uploaded_by_id == user.id:
            attachment.uploaded_by_id = None
    for version in nomination.versions:
        if version.author_id == user.id:
            version.author_id = None
        version.snapshot = _scrub(version.snapshot, keys=set(identifying_fields.values()),
                                  ids=set(identifying_fields), clear_name=not keep_name)
    for change in nomination.status_changes:
        if change.actor_id == user.id:
            change.actor_id = None
    session.flush()
    audit.record(session, action="nomination.anonymise", object_type="nomination",
                 object_id=nomination.id, actor=user, call_id=nomination.call_id,
                 before=before,
                 after={"anonymised": True, "nominee_name_kept": keep_name,
                        "identifying_fields_cleared": sorted(identifying_fields.values()),
                        "files_removed": len(removed)})
    return removed


def delete_account(*, session: Session, user: User, password: str,
                   now: datetime | None = None) -> AccountDeletion:
    """Erase the applicant's account after checking their password (see the module
    docstring). Raises ``WrongPassword`` or ``DeletionRefused`` before changing anything.

    The caller commits, then removes ``files_to_remove`` from disk and logs the user out."""
    if not check_password(user, password):
        raise WrongPassword()
    if user.is_admin:
        # Deleting the last administrator would lock everybody out of the service.
        raise DeletionRefused(_l("Administrator accounts cannot be deleted here. Ask another "
                                 "administrator to remove your administrator role first."))
    now = now or utcnow()
    result = AccountDeletion()
    to_delete: list[Nomination] = []
    to_anonymise: list[Nomination] = []
    for nomination in _own_nominations(session, user):
        if nomination.status == NominationStatus.DRAFT or not _call_is_closed(nomination.call,
                                                                               now):
            to_delete.append(nomination)
        else:
            to_anonymise.append(nomination)

    # The goodbye is written while the address and name still exist.
    queue_mail(session, to=user.email, template="account_deleted",
               language=user.preferred_language, name=user.display_name,
               deleted=len(to_delete), anonymised=len(to_anonymise))

    # Erased before the audit records below, so none of them carries the old address.
    user.email = f"deleted-{user.id}@invalid"
    user.full_name = ""
    user.organisation = ""
    user.phone = ""
    user.is_admin = False
    user.active = False
    user.email_verified_at = None
    # Not a hash any algorithm produces: no password can ever match it.
    user.password_hash = "!deleted!" + secrets.token_hex(16)
    user.session_token = new_session_token()
    user.deleted_at = now
    session.flush()

    for nomination in to_delete:
        result.files_to_remove.extend(a.stored_name for a in nomination.attachments)
        if nomination.status != NominationStatus.DRAFT:
            # A submitted entry disappears from the call: say so in the log.
            audit.record(session, action="nomination.delete", object_type="nomination",
                         object_id=nomination.id, actor=user, call_id=nomination.call_id,
                         before={"reference": nomination.reference,
                                 "status": nomination.status.value},
                         after={"reason": "account deleted"})
        result.deleted.append(nomination.id)
        session.delete(nomination)
    session.flush()
    for nomination in to_anonymise:
        result.files_to_remove.extend(
            anonymise_nomination(session=session, nomination=nomination, user=user, now=now))
        result.anonymised.append(nomination.id)

    audit.record(session, action="user.delete", object_type="user", object_id=user.id,
                 actor=user,
                 after={"deleted_nominations": result.deleted,
                        "anonymised_nominations": result.anonymised})
    session.flush()
    return result


def remove_files(stored_names: Iterable[str]) -> None:
    for name in stored_names:
        delete_stored(name)

