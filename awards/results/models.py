"""Published results. A publication is an immutable snapshot of a call's winners; a correction
is a new version that supersedes the previous one (which stays readable), never an edit."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from awards.db import Base, utcnow
from awards.enums import PublicationStatus, column_type

if TYPE_CHECKING:
    from awards.auth.models import User
    from awards.calls.models import Call
    from awards.nominations.authors import NominationAuthor
    from awards.nominations.models import Nomination
    from awards.ranking.models import Decision


class Publication(Base):
    __tablename__ = "publications"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The unique (call_id, version) constraint also serves as the foreign key's index.
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"))
    version: Mapped[int]
    status: Mapped[PublicationStatus] = mapped_column(
        column_type(PublicationStatus), default=PublicationStatus.SCHEDULED, index=True
    )
    scheduled_for: Mapped[datetime]
    published_at: Mapped[datetime | None]
    # What was corrected and why, shown on every later version; empty for the first one.
    note_kk: Mapped[str] = mapped_column(Text, default="")
    note_ru: Mapped[str] = mapped_column(Text, default="")
    note_en: Mapped[str] = mapped_column(Text, default="")
    # Everything the results page shows (categories, winners, award levels, names in three
    # languages), frozen: later edits of the call or the entries do not change a publication.
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("call_id", "version"),)

    call: Mapped[Call] = relationship()
    created_by: Mapped[User] = relationship()
    certificates: Mapped[list[Certificate]] = relationship(
        back_populates="publication", order_by="Certificate.id", cascade="all, delete-orphan"
    )

    def is_visible_at(self, now: datetime) -> bool:
        # A scheduled version goes live by itself at scheduled_for (the ceremony hour), and a
        # superseded one stays readable so a correction is visible as a correction.
        if self.status == PublicationStatus.SCHEDULED:
            return self.scheduled_for <= now
        return True

    def __repr__(self) -> str:
        return f"<Publication {self.id} call={self.call_id} v{self.version} {self.status}>"


class Certificate(Base):
    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    publication_id: Mapped[int] = mapped_column(
        ForeignKey("publications.id", ondelete="CASCADE"), index=True
    )
    decision_id: Mapped[int | None] = mapped_column(
        ForeignKey("decisions.id", ondelete="SET NULL"), index=True
    )
    nomination_id: Mapped[int] = mapped_column(ForeignKey("nominations.id"), index=True)
    # Printed on the certificate; anyone can check it on the verification page.
    code: Mapped[str] = mapped_column(String(32), unique=True)
    recipient_name: Mapped[str] = mapped_column(String(300))
    # "nominee" (the entry's nominee), "author" (one author of a collective, ``author_id``) or
    # "organisation" (the nominating organisation, when the call issues it a diploma).
    recipient_kind: Mapped[str] = mapped_column(String(20), default="nominee")
    # SET NULL: the name stays frozen below if the author is later removed from the entry.
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("nomination_authors.id", ondelete="SET NULL"), index=True
    )
    # {"kk", "ru", "en"}: an author's name per language, frozen like ``award_name``.
    recipient_names: Mapped[dict[str, str] | None] = mapped_column(JSON(none_as_null=True))
    # {"kk": ..., "ru": ..., "en": ...}: frozen with the publication, like the snapshot.
    award_name: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when a correction takes the award away; the verification page then says so.
    revoked_at: Mapped[datetime | None]

    publication: Mapped[Publication] = relationship(back_populates="certificates")
    decision: Mapped[Decision | None] = relationship()
    nomination: Mapped[Nomination] = relationship()
    author: Mapped[NominationAuthor | None] = relationship()

    def __repr__(self) -> str:
        return f"<Certificate {self.code}>"


class Citation(Base):
    """What the results page says about an awarded entry: a short citation in three languages
    and an optional photo. Written by the administrator before publication and copied into
    the publication's snapshot, so editing it later changes nothing already published."""

    __tablename__ = "citations"

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(
        ForeignKey("nominations.id", ondelete="CASCADE"), unique=True
    )
    text_kk: Mapped[str] = mapped_column(Text, default="")
    text_ru: Mapped[str] = mapped_column(Text, default="")
    text_en: Mapped[str] = mapped_column(Text, default="")
    # A stored upload (awards/storage.py), shown publicly once the results are published.
    photo_name: Mapped[str | None] = mapped_column(String(64), unique=True)
    photo_content_type: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )

    nomination: Mapped[Nomination] = relationship()
    updated_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<Citation nomination={self.nomination_id}>"
