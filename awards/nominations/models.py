"""A nomination (entry) to a call: who is nominated, by whom, the answers to the call's form,
the attached files, a snapshot of every submitted version and the status timeline the
applicant follows."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from awards.db import Base, utcnow
from awards.enums import NominationStatus, NominatorKind, column_type

if TYPE_CHECKING:
    from awards.auth.models import User
    from awards.calls.models import Call, Category, FormField

# Once screened (or withdrawn) an entry is what the jury judges; only an explicit request for
# changes reopens it.
_FINAL_STATUSES = frozenset(
    {NominationStatus.ELIGIBLE, NominationStatus.INELIGIBLE, NominationStatus.WITHDRAWN}
)


class Nomination(Base):
    __tablename__ = "nominations"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    # SET NULL: erasing an applicant's account must not erase a nomination the jury has judged.
    applicant_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    nominator_kind: Mapped[NominatorKind] = mapped_column(column_type(NominatorKind))
    # Issued on first submission (VOY-2026-00042), so drafts do not use up numbers.
    reference: Mapped[str | None] = mapped_column(String(30), unique=True)
    status: Mapped[NominationStatus] = mapped_column(
        column_type(NominationStatus), default=NominationStatus.DRAFT, index=True
    )
    nominee_name: Mapped[str] = mapped_column(String(300), default="")
    nominee_email: Mapped[str] = mapped_column(String(254), default="", index=True)
    nominee_phone: Mapped[str] = mapped_column(String(40), default="")
    organisation_name: Mapped[str] = mapped_column(String(300), default="")
    # Copied from the call when the nomination is created, so changing the call's rule later
    # does not silently invalidate entries already in progress.
    nominee_consent_required: Mapped[bool] = mapped_column(default=False)
    # The nominee answers through an e-mailed link; only the token's hash is kept.
    nominee_consent_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    nominee_consent_at: Mapped[datetime | None]
    nominee_declined_at: Mapped[datetime | None]
    screening_reason: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    anonymised_at: Mapped[datetime | None]
    # The applicant editing in two tabs, or editing while an administrator screens: the later
    # save fails instead of silently overwriting.
    version_id: Mapped[int] = mapped_column()

    __mapper_args__: ClassVar[dict] = {"version_id_col": version_id}

    call: Mapped[Call] = relationship()
    category: Mapped[Category] = relationship()
    applicant: Mapped[User | None] = relationship()
    answers: Mapped[list[Answer]] = relationship(
        back_populates="nomination", order_by="Answer.id", cascade="all, delete-orphan"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="nomination",
        order_by="(Attachment.uploaded_at, Attachment.id)",
        cascade="all, delete-orphan",
    )
    versions: Mapped[list[NominationVersion]] = relationship(
        back_populates="nomination",
        order_by="NominationVersion.number",
        cascade="all, delete-orphan",
    )
    status_changes: Mapped[list[StatusChange]] = relationship(
        back_populates="nomination",
        order_by="(StatusChange.created_at, StatusChange.id)",
        cascade="all, delete-orphan",
    )

    @property
    def is_submitted(self) -> bool:
        return self.status != NominationStatus.DRAFT and self.submitted_at is not None

    @property
    def is_withdrawn(self) -> bool:
        return self.status == NominationStatus.WITHDRAWN

    @property
    def has_nominee_consent(self) -> bool:
        return not self.nominee_consent_required or (
            self.nominee_consent_at is not None and self.nominee_declined_at is None
        )

    def is_editable_at(self, now: datetime) -> bool:
        if self.anonymised_at is not None or self.status in _FINAL_STATUSES:
            return False
        if self.status == NominationStatus.CHANGES_REQUESTED:
            # Requested during screening, which happens after the deadline.
            return True
        return self.call.is_open_at(now)

    def answer_for(self, field_id: int) -> Answer | None:
        return next((a for a in self.answers if a.field_id == field_id), None)

    def __repr__(self) -> str:
        return f"<Nomination {self.id} {self.reference or 'draft'}>"


class Answer(Base):
    __tablename__ = "answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(ForeignKey("nominations.id", ondelete="CASCADE"))
    # No cascade: a form field that has answers must not vanish with them.
    field_id: Mapped[int] = mapped_column(ForeignKey("form_fields.id"), index=True)
    # Shape depends on the field type: str, number, ISO date string, list of choices, bool,
    # or a list of attachment ids for file fields.
    value: Mapped[Any] = mapped_column(JSON(none_as_null=True), nullable=True)

    __table_args__ = (UniqueConstraint("nomination_id", "field_id"),)

    nomination: Mapped[Nomination] = relationship(back_populates="answers")
    field: Mapped[FormField] = relationship()

    def __repr__(self) -> str:
        return f"<Answer {self.id} n={self.nomination_id} f={self.field_id}>"


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(
        ForeignKey("nominations.id", ondelete="CASCADE"), index=True
    )
    field_id: Mapped[int | None] = mapped_column(
        ForeignKey("form_fields.id", ondelete="SET NULL"), index=True
    )
    original_name: Mapped[str] = mapped_column(String(255))
    # Random, never derived from the uploaded name, so a file name cannot reach the file system.
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )

    nomination: Mapped[Nomination] = relationship(back_populates="attachments")
    field: Mapped[FormField | None] = relationship()
    uploaded_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<Attachment {self.id} {self.original_name}>"


class NominationVersion(Base):
    """What the nomination looked like at each submission, so jurors and administrators can
    see what changed after a request for changes."""

    __tablename__ = "nomination_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(ForeignKey("nominations.id", ondelete="CASCADE"))
    number: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (UniqueConstraint("nomination_id", "number"),)

    nomination: Mapped[Nomination] = relationship(back_populates="versions")
    author: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<NominationVersion {self.nomination_id}#{self.number}>"


class StatusChange(Base):
    __tablename__ = "nomination_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(
        ForeignKey("nominations.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    from_status: Mapped[NominationStatus | None] = mapped_column(column_type(NominationStatus))
    to_status: Mapped[NominationStatus] = mapped_column(column_type(NominationStatus))
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    reason: Mapped[str] = mapped_column(Text, default="")
    # Internal screening notes stay off the applicant's timeline.
    visible_to_applicant: Mapped[bool] = mapped_column(default=True)

    nomination: Mapped[Nomination] = relationship(back_populates="status_changes")
    actor: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<StatusChange {self.nomination_id} {self.from_status}->{self.to_status}>"


class ReferenceCounter(Base):
    """The last reference number issued per call. Read under a row lock (SELECT ... FOR UPDATE)
    so concurrent submissions on several workers never get the same number."""

    __tablename__ = "reference_counters"

    call_id: Mapped[int] = mapped_column(
        ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True
    )
    last_number: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<ReferenceCounter call={self.call_id} last={self.last_number}>"
