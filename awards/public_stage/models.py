"""The public stage between screening and the jury: its settings, the entries taking part, the
voters who verified an e-mail address, their votes, and the moderated public comments."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from awards.db import Base, utcnow
from awards.enums import CommentStatus, StageKind, VoteTieRule, column_type

if TYPE_CHECKING:
    from awards.auth.models import User
    from awards.calls.models import Call, Category
    from awards.nominations.models import Nomination


class PublicStage(Base):
    __tablename__ = "public_stages"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), unique=True)
    kind: Mapped[StageKind] = mapped_column(column_type(StageKind), default=StageKind.VOTE)
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    # Vote: how many entries per category go on to the first jury round.
    advance_per_category: Mapped[int] = mapped_column(default=10)
    tie_rule: Mapped[VoteTieRule] = mapped_column(
        column_type(VoteTieRule), default=VoteTieRule.INCLUDE_ALL
    )
    # May a voter change their vote in a category until the close?
    votes_changeable: Mapped[bool] = mapped_column(default=True)
    # Are the vote counts shown to jurors as information in the jury rounds?
    show_counts_to_jury: Mapped[bool] = mapped_column(default=True)
    # Set when the stage was closed and the entries advanced (vote) or the discussion ended.
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # Frozen at close: per category the counts, the cut, ties and who advanced; shown on the
    # call page in three languages once the stage is closed.
    results: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version_id: Mapped[int] = mapped_column()

    __mapper_args__: ClassVar[dict] = {"version_id_col": version_id}

    call: Mapped[Call] = relationship()
    closed_by: Mapped[User | None] = relationship()
    entries: Mapped[list[StageEntry]] = relationship(
        back_populates="stage", order_by="StageEntry.id", cascade="all, delete-orphan"
    )

    def is_open_at(self, now: datetime) -> bool:
        return self.closed_at is None and self.opens_at <= now < self.closes_at

    def __repr__(self) -> str:
        return f"<PublicStage {self.id} call={self.call_id} {self.kind}>"


class StageEntry(Base):
    """An entry taking part in the public stage. ``votes`` and ``advanced`` are filled at close."""

    __tablename__ = "stage_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("public_stages.id", ondelete="CASCADE"))
    nomination_id: Mapped[int] = mapped_column(
        ForeignKey("nominations.id", ondelete="CASCADE"), index=True
    )
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    votes: Mapped[int | None]
    advanced: Mapped[bool | None]
    tied_at_cut: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (UniqueConstraint("stage_id", "nomination_id"),)

    stage: Mapped[PublicStage] = relationship(back_populates="entries")
    nomination: Mapped[Nomination] = relationship()
    category: Mapped[Category] = relationship()

    def __repr__(self) -> str:
        return f"<StageEntry stage={self.stage_id} nomination={self.nomination_id}>"


class Voter(Base):
    """Someone who verified an e-mail address to vote or comment; no password, no account."""

    __tablename__ = "voters"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Normalised (lower case, trimmed); unique so one address is one voter.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    email_domain: Mapped[str] = mapped_column(String(254), index=True)
    # Single-use link token and one-time code, stored as hashes; cleared once used.
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    code_hash: Mapped[str | None] = mapped_column(String(64))
    code_expires_at: Mapped[datetime | None]
    code_attempts: Mapped[int] = mapped_column(default=0)
    verified_at: Mapped[datetime | None]
    language: Mapped[str] = mapped_column(String(5), default="ru")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_ip: Mapped[str] = mapped_column(String(45), default="")

    def __repr__(self) -> str:
        return f"<Voter {self.id}>"


class PublicVote(Base):
    """One voter's vote in one category of a stage. The unique constraint makes the vote count
    once whatever the double clicks, tabs, retries or parallel requests."""

    __tablename__ = "public_votes"

    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("public_stages.id", ondelete="CASCADE"))
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    voter_id: Mapped[int] = mapped_column(ForeignKey("voters.id"), index=True)
    nomination_id: Mapped[int] = mapped_column(ForeignKey("nominations.id"), index=True)
    cast_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_at: Mapped[datetime | None]
    ip: Mapped[str] = mapped_column(String(45), default="")
    # The /24 (IPv4) or /48 (IPv6) network, for rate limits and burst detection.
    network: Mapped[str] = mapped_column(String(50), default="")
    flagged: Mapped[bool] = mapped_column(default=False)
    flag_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    annulled_at: Mapped[datetime | None]
    annulled_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    annul_reason: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        UniqueConstraint("stage_id", "category_id", "voter_id"),
        Index("ix_public_votes_stage_id_flagged", "stage_id", "flagged"),
        # Burst detection counts a network's votes of a stage since a time, once per vote:
        # one short range of this index, however many votes the stage already has.
        Index("ix_public_votes_network_stage_id_cast_at", "network", "stage_id", "cast_at"),
    )

    stage: Mapped[PublicStage] = relationship()
    category: Mapped[Category] = relationship()
    voter: Mapped[Voter] = relationship()
    nomination: Mapped[Nomination] = relationship()
    annulled_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<PublicVote {self.id} nomination={self.nomination_id}>"


class StageComment(Base):
    """A public comment on a work in a discussion stage, shown only once a moderator approves."""

    __tablename__ = "stage_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("public_stages.id", ondelete="CASCADE"))
    nomination_id: Mapped[int] = mapped_column(
        ForeignKey("nominations.id", ondelete="CASCADE"), index=True
    )
    voter_id: Mapped[int] = mapped_column(ForeignKey("voters.id"), index=True)
    author_name: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[CommentStatus] = mapped_column(
        column_type(CommentStatus), default=CommentStatus.PENDING
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ip: Mapped[str] = mapped_column(String(45), default="")
    moderated_at: Mapped[datetime | None]
    moderated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    moderation_reason: Mapped[str] = mapped_column(Text, default="")
    report_count: Mapped[int] = mapped_column(default=0)

    __table_args__ = (Index("ix_stage_comments_stage_id_status", "stage_id", "status"),)

    stage: Mapped[PublicStage] = relationship()
    nomination: Mapped[Nomination] = relationship()
    voter: Mapped[Voter] = relationship()
    moderated_by: Mapped[User | None] = relationship()
    reports: Mapped[list[CommentReport]] = relationship(
        back_populates="comment", order_by="CommentReport.id", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<StageComment {self.id} {self.status}>"


class CommentReport(Base):
    """Someone reported a published comment as abusive; a moderator reviews it again."""

    __tablename__ = "comment_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("stage_comments.id", ondelete="CASCADE"))
    voter_id: Mapped[int | None] = mapped_column(
        ForeignKey("voters.id", ondelete="SET NULL"), index=True
    )
    ip: Mapped[str] = mapped_column(String(45), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]

    __table_args__ = (UniqueConstraint("comment_id", "voter_id"),)

    comment: Mapped[StageComment] = relationship(back_populates="reports")

    def __repr__(self) -> str:
        return f"<CommentReport comment={self.comment_id}>"
