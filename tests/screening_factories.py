"""Data for the screening and personal-data tests, written straight to the database.

Every helper takes the session and flushes; the test commits (usually through ``arrange``)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from awards.calls.models import Call, Category, FormField, Programme
from awards.db import get_db, utcnow
from awards.enums import CallStatus, FieldType, NominationStatus, NominatorKind
from awards.nominations.models import (
    Answer,
    Attachment,
    Nomination,
    NominationVersion,
    StatusChange,
)
from awards.storage import path_for

T = TypeVar("T")

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def arrange(app, build: Callable[[Session], T]) -> T:
    """Run ``build`` in an app context of its own and commit."""
    with app.app_context():
        session = get_db()
        result = build(session)
        session.commit()
        return result


def make_call(
    session: Session,
    *,
    slug: str = "voy-2026",
    prefix: str = "VOY",
    status: CallStatus = CallStatus.SCREENING,
    closed: bool = True,
    requires_consent: bool = False,
    categories: tuple[str, ...] = ("social", "ecology"),
) -> Call:
    programme = session.scalar(select(Programme).where(Programme.slug == "nvn"))
    if programme is None:
        programme = Programme(slug="nvn", name_ru="Сеть", name_en="Network", name_kk="Желі")
    now = utcnow()
    if closed:
        opens_at, closes_at = now - timedelta(days=60), now - timedelta(days=1)
    else:
        opens_at, closes_at = now - timedelta(days=10), now + timedelta(days=20)
    call = Call(
        programme=programme, slug=slug, reference_prefix=prefix, year=2026,
        title_en=f"Call {slug}", title_ru=f"Конкурс {slug}", title_kk=f"Байқау {slug}",
        opens_at=opens_at, closes_at=closes_at, status=status,
        requires_nominee_consent=requires_consent,
    )
    for position, code in enumerate(categories, start=1):
        call.categories.append(Category(code=code, name_en=code.title(), name_ru=f"Кат {code}",
                                        name_kk=f"Сан {code}", position=position))
    session.add(call)
    session.flush()
    return call


def make_field(
    session: Session,
    call: Call,
    key: str,
    *,
    type: FieldType = FieldType.LONG_TEXT,
    identifying: bool = False,
    position: int | None = None,
    label: str | None = None,
    options: list[dict[str, Any]] | None = None,
) -> FormField:
    form_field = FormField(
        call=call, key=key, type=type, is_identifying=identifying,
        position=position if position is not None else len(call.fields) + 1,
        label_en=label or key.replace("_", " ").capitalize(), label_ru=label or key,
        label_kk=label or key, options=options or [],
    )
    session.add(form_field)
    session.flush()
    return form_field


_counter = {"n": 0}


def make_nomination(
    session: Session,
    *,
    call: Call,
    applicant=None,
    category: Category | None = None,
    status: NominationStatus = NominationStatus.SUBMITTED,
    reference: str | None = None,
    nominee_name: str = "Aigerim Sadykova",
    nominee_email: str = "aigerim@example.kz",
    nominee_phone: str = "+7 701 123 45 67",
    organisation_name: str = "",
    submitted_at: datetime | None = None,
    consent: str = "given",
    answers: dict[FormField, Any] | None = None,
) -> Nomination:
    """``consent``: "given", "pending" or "declined" (only read when the call requires it)."""
    _counter["n"] += 1
    draft = status == NominationStatus.DRAFT
    nomination = Nomination(
        call=call,
        category=category or call.categories[0],
        applicant_id=getattr(applicant, "id", applicant),
        nominator_kind=NominatorKind.OTHER,
        reference=None if draft else (reference or f"{call.reference_prefix}-2026-"
                                                   f"{_counter['n']:05d}"),
        status=status,
        nominee_name=nominee_name,
        nominee_email=nominee_email,
        nominee_phone=nominee_phone,
        organisation_name=organisation_name,
        nominee_consent_required=call.requires_nominee_consent,
        submitted_at=None if draft else (submitted_at or datetime(2026, 3, 1, 10, tzinfo=UTC)),
    )
    if call.requires_nominee_consent:
        if consent == "given":
            nomination.nominee_consent_at = utcnow()
        elif consent == "declined":
            nomination.nominee_declined_at = utcnow()
        else:
            nomination.nominee_consent_token_hash = hashlib.sha256(
                secrets.token_bytes(16)).hexdigest()
    for form_field, value in (answers or {}).items():
        nomination.answers.append(Answer(field=form_field, value=value))
    session.add(nomination)
    session.flush()
    if not draft:
        session.add(StatusChange(nomination=nomination, from_status=NominationStatus.DRAFT,
                                 to_status=NominationStatus.SUBMITTED,
                                 actor_id=nomination.applicant_id,
                                 created_at=nomination.submitted_at))
        add_version(session, nomination)
        session.flush()
    return nomination


def add_version(session: Session, nomination: Nomination) -> NominationVersion:
    """A submitted version, recorded the way the nominations feature records it."""
    from awards.nominations.services import snapshot

    session.flush()
    session.refresh(nomination, ["answers", "attachments", "versions", "call", "category"])
    number = max((v.number for v in nomination.versions), default=0) + 1
    version = NominationVersion(nomination=nomination, number=number,
                                author_id=nomination.applicant_id,
                                snapshot=snapshot(nomination, version=number))
    session.add(version)
    session.flush()
    return version


def add_attachment(
    session: Session,
    nomination: Nomination,
    *,
    name: str = "letter.pdf",
    content: bytes = PDF,
    form_field: FormField | None = None,
) -> Attachment:
    """Writes the file where the storage module keeps uploads (needs an app context)."""
    ext = ".png" if content.startswith(b"\x89PNG") else ".pdf"
    stored_name = secrets.token_hex(20) + ext
    path = path_for(stored_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    attachment = Attachment(
        nomination=nomination, field=form_field, original_name=name,
        stored_name=stored_name, content_type="image/png" if ext == ".png" else "application/pdf",
        size=len(content), sha256=hashlib.sha256(content).hexdigest(),
        uploaded_by_id=nomination.applicant_id,
    )
    session.add(attachment)
    session.flush()
    if form_field is not None:
        answer = nomination.answer_for(form_field.id)
        if answer is None:
            nomination.answers.append(Answer(field=form_field, value=[attachment.id]))
        else:
            answer.value = [*(answer.value or []), attachment.id]
        session.flush()
    return attachment


def status_change(session: Session, nomination: Nomination, to_status: NominationStatus, *,
                  reason: str = "", visible: bool = True, actor_id: int | None = None) -> None:
    """History written directly (as arranged data, not through the screening service)."""
    session.add(StatusChange(nomination=nomination, from_status=nomination.status,
                             to_status=to_status, reason=reason, visible_to_applicant=visible,
                             actor_id=actor_id))
    nomination.status = to_status
    session.flush()

