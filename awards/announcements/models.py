"""News items: about a call (opening, shortlist, results) or the programme in general."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from awards.db import Base, utcnow
from awards.enums import AnnouncementStatus, column_type

if TYPE_CHECKING:
    from awards.auth.models import User
    from awards.calls.models import Call


class Announcement(Base):
    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int | None] = mapped_column(
        ForeignKey("calls.id", ondelete="SET NULL"), index=True
    )
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title_kk: Mapped[str] = mapped_column(String(300), default="")
    title_ru: Mapped[str] = mapped_column(String(300), default="")
    title_en: Mapped[str] = mapped_column(String(300), default="")
    summary_kk: Mapped[str] = mapped_column(Text, default="")
    summary_ru: Mapped[str] = mapped_column(Text, default="")
    summary_en: Mapped[str] = mapped_column(Text, default="")
    # Markdown, sanitised when rendered.
    body_kk: Mapped[str] = mapped_column(Text, default="")
    body_ru: Mapped[str] = mapped_column(Text, default="")
    body_en: Mapped[str] = mapped_column(Text, default="")
    image_name: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[AnnouncementStatus] = mapped_column(
        column_type(AnnouncementStatus), default=AnnouncementStatus.DRAFT
    )
    # For a scheduled item, when it appears; for a published one, the date shown and the
    # order of the news list, the previous/next links and the feed.
    publish_at: Mapped[datetime | None]
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # Why the system wrote the draft by itself ("call_opened"); empty for a hand-written post.
    # Unique per call so an automatic draft is written once.
    origin: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        Index("ix_announcements_status_publish_at", "status", "publish_at"),
        UniqueConstraint("call_id", "origin"),
    )

    call: Mapped[Call | None] = relationship()
    author: Mapped[User | None] = relationship()
    images: Mapped[list[AnnouncementImage]] = relationship(
        back_populates="announcement", order_by="AnnouncementImage.id",
        cascade="all, delete-orphan",
    )

    def is_visible_at(self, now: datetime) -> bool:
        # A scheduled item goes live by itself at publish_at; no worker has to flip the status.
        if self.status not in (AnnouncementStatus.SCHEDULED, AnnouncementStatus.PUBLISHED):
            return False
        return self.publish_at is not None and self.publish_at <= now

    def __repr__(self) -> str:
        return f"<Announcement {self.id} {self.slug}>"


class AnnouncementImage(Base):
    """An image uploaded for a post; the Markdown body refers to it by its public URL."""

    __tablename__ = "announcement_images"

    id: Mapped[int] = mapped_column(primary_key=True)
    announcement_id: Mapped[int] = mapped_column(
        ForeignKey("announcements.id", ondelete="CASCADE"), index=True
    )
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    original_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    alt_text: Mapped[str] = mapped_column(String(300), default="")
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )

    announcement: Mapped[Announcement] = relationship(back_populates="images")

    def __repr__(self) -> str:
        return f"<AnnouncementImage {self.stored_name}>"
