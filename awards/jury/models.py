"""Judging: rubrics and their criteria, the rounds of a call and the entries in each, jury panels
and their members, conflicts of interest, who reviews what, and the reviews with their scores."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import (
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from awards.db import Base, utcnow
from awards.enums import (
    AssignmentStatus,
    ConflictSource,
    JurorStatus,
    ReviewStatus,
    RoundKind,
    RoundStatus,
    TotalMethod,
    column_type,
)

if TYPE_CHECKING:
    from awards.auth.models import User
    from awards.calls.models import Call, Category
    from awards.nominations.models import Nomination


class Rubric(Base):
    __tablename__ = "rubrics"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    total_method: Mapped[TotalMethod] = mapped_column(
        column_type(TotalMethod), default=TotalMethod.SUM
    )

    call: Mapped[Call] = relationship(back_populates="rubrics")
    criteria: Mapped[list[Criterion]] = relationship(
        back_populates="rubric",
        order_by="(Criterion.position, Criterion.id)",
        cascade="all, delete-orphan",
    )

    def __repr__(self) -> str:
        return f"<Rubric {self.id} {self.name}>"


class Criterion(Base):
    __tablename__ = "criteria"

    id: Mapped[int] = mapped_column(primary_key=True)
    rubric_id: Mapped[int] = mapped_column(ForeignKey("rubrics.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(40))
    title_kk: Mapped[str] = mapped_column(String(300), default="")
    title_ru: Mapped[str] = mapped_column(String(300), default="")
    title_en: Mapped[str] = mapped_column(String(300), default="")
    description_kk: Mapped[str] = mapped_column(Text, default="")
    description_ru: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    min_score: Mapped[float] = mapped_column(Float, default=0)
    max_score: Mapped[float] = mapped_column(Float, default=10)
    step: Mapped[float] = mapped_column(Float, default=1)
    weight: Mapped[float] = mapped_column(Float, default=1)
    position: Mapped[int] = mapped_column(default=0)

    __table_args__ = (
        UniqueConstraint("rubric_id", "key"),
        CheckConstraint("max_score > min_score", name="max_above_min"),
        CheckConstraint("step > 0", name="step_positive"),
        CheckConstraint("weight >= 0", name="weight_not_negative"),
    )

    rubric: Mapped[Rubric] = relationship(back_populates="criteria")

    def __repr__(self) -> str:
        return f"<Criterion {self.id} {self.key}>"


class Round(Base):
    """One judging stage of a call: jurors score entries on a rubric, or the commission votes."""

    __tablename__ = "rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    name_kk: Mapped[str] = mapped_column(String(200), default="")
    name_ru: Mapped[str] = mapped_column(String(200), default="")
    name_en: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[RoundKind] = mapped_column(column_type(RoundKind), default=RoundKind.SCORING)
    rubric_id: Mapped[int | None] = mapped_column(
        ForeignKey("rubrics.id", ondelete="SET NULL"), index=True
    )
    # The panel whose members judge this round; several rounds may share one panel.
    panel_id: Mapped[int | None] = mapped_column(
        ForeignKey("panels.id", ondelete="SET NULL"), index=True
    )
    opens_at: Mapped[datetime | None]
    closes_at: Mapped[datetime | None]
    status: Mapped[RoundStatus] = mapped_column(
        column_type(RoundStatus), default=RoundStatus.DRAFT, index=True
    )
    # Jurors do not see the fields marked identifying, nor the nominee's name and contacts.
    blind: Mapped[bool] = mapped_column(default=False)
    reviews_per_entry: Mapped[int] = mapped_column(default=3)
    show_scores_to_chairs: Mapped[bool] = mapped_column(default=True)
    # Vote rounds, as fractions of 1: the share of members who must vote for the result to
    # count, and the share of yes votes among those cast that an entry needs.
    vote_quorum: Mapped[float | None] = mapped_column(Float)
    vote_threshold: Mapped[float | None] = mapped_column(Float)
    version_id: Mapped[int] = mapped_column()

    __mapper_args__: ClassVar[dict] = {"version_id_col": version_id}
    __table_args__ = (
        CheckConstraint("reviews_per_entry >= 1", name="reviews_per_entry_positive"),
    )

    call: Mapped[Call] = relationship(back_populates="rounds")
    rubric: Mapped[Rubric | None] = relationship()
    panel: Mapped[Panel | None] = relationship(back_populates="rounds")
    entries: Mapped[list[RoundEntry]] = relationship(
        back_populates="round", order_by="RoundEntry.id", cascade="all, delete-orphan"
    )
    assignments: Mapped[list[Assignment]] = relationship(
        back_populates="round", order_by="Assignment.id", cascade="all, delete-orphan"
    )

    @property
    def is_vote(self) -> bool:
        return self.kind == RoundKind.VOTE

    def is_open_at(self, now: datetime) -> bool:
        if self.status != RoundStatus.OPEN:
            return False
        if self.opens_at is not None and now < self.opens_at:
            return False
        return self.closes_at is None or now <= self.closes_at

    def __repr__(self) -> str:
        return f"<Round {self.id} call={self.call_id} #{self.position}>"


class RoundEntry(Base):
    """An entry taking part in a round (shortlisting adds entries to the next round)."""

    __tablename__ = "round_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    nomination_id: Mapped[int] = mapped_column(
        ForeignKey("nominations.id", ondelete="CASCADE"), index=True
    )
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    added_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )

    __table_args__ = (UniqueConstraint("round_id", "nomination_id"),)

    round: Mapped[Round] = relationship(back_populates="entries")
    nomination: Mapped[Nomination] = relationship()
    added_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<RoundEntry round={self.round_id} nomination={self.nomination_id}>"


jury_member_categories = Table(
    "jury_member_categories",
    Base.metadata,
    Column(
        "jury_member_id",
        ForeignKey("jury_members.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "category_id",
        ForeignKey("categories.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class Panel(Base):
    __tablename__ = "panels"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    call: Mapped[Call] = relationship(back_populates="panels")
    members: Mapped[list[JuryMember]] = relationship(
        back_populates="panel",
        order_by="(JuryMember.is_chair.desc(), JuryMember.email)",
        cascade="all, delete-orphan",
    )
    rounds: Mapped[list[Round]] = relationship(back_populates="panel")

    def __repr__(self) -> str:
        return f"<Panel {self.id} {self.name}>"


class JuryMember(Base):
    """A seat on a panel. Invited by e-mail, so ``user_id`` is empty until the invitation is
    accepted by an account. With no categories the member judges every category."""

    __tablename__ = "jury_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    panel_id: Mapped[int] = mapped_column(ForeignKey("panels.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    email: Mapped[str] = mapped_column(String(254), index=True)
    invite_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    invited_at: Mapped[datetime] = mapped_column(default=utcnow)
    accepted_at: Mapped[datetime | None]
    is_chair: Mapped[bool] = mapped_column(default=False)
    status: Mapped[JurorStatus] = mapped_column(
        column_type(JurorStatus), default=JurorStatus.INVITED, index=True
    )
    left_at: Mapped[datetime | None]

    __table_args__ = (UniqueConstraint("panel_id", "email"),)

    panel: Mapped[Panel] = relationship(back_populates="members")
    user: Mapped[User | None] = relationship()
    categories: Mapped[list[Category]] = relationship(
        secondary=jury_member_categories, order_by="(Category.position, Category.id)"
    )

    @property
    def is_active(self) -> bool:
        return self.status == JurorStatus.ACTIVE and self.user_id is not None

    def covers_category(self, category_id: int) -> bool:
        return not self.categories or any(c.id == category_id for c in self.categories)

    def __repr__(self) -> str:
        return f"<JuryMember {self.id} {self.email}>"


class Conflict(Base):
    """A conflict of interest between a person and an entry; it applies in every round."""

    __tablename__ = "conflicts"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    nomination_id: Mapped[int] = mapped_column(
        ForeignKey("nominations.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[ConflictSource] = mapped_column(column_type(ConflictSource))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )

    __table_args__ = (UniqueConstraint("user_id", "nomination_id"),)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    nomination: Mapped[Nomination] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

    def __repr__(self) -> str:
        return f"<Conflict user={self.user_id} nomination={self.nomination_id}>"


class Assignment(Base):
    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    nomination_id: Mapped[int] = mapped_column(
        ForeignKey("nominations.id", ondelete="CASCADE"), index=True
    )
    juror_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[AssignmentStatus] = mapped_column(
        column_type(AssignmentStatus), default=AssignmentStatus.ACTIVE
    )
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
    assigned_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    recused_at: Mapped[datetime | None]
    recusal_reason: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        UniqueConstraint("round_id", "nomination_id", "juror_id"),
        # A juror's own list in a round: the page every juror opens.
        Index("ix_assignments_round_id_juror_id", "round_id", "juror_id"),
    )

    round: Mapped[Round] = relationship(back_populates="assignments")
    nomination: Mapped[Nomination] = relationship()
    juror: Mapped[User] = relationship(foreign_keys=[juror_id])
    assigned_by: Mapped[User | None] = relationship(foreign_keys=[assigned_by_id])
    review: Mapped[Review | None] = relationship(
        back_populates="assignment", cascade="all, delete-orphan", uselist=False
    )

    @property
    def is_active(self) -> bool:
        return self.status == AssignmentStatus.ACTIVE

    def __repr__(self) -> str:
        return f"<Assignment {self.id} round={self.round_id} juror={self.juror_id}>"


class Review(Base):
    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("assignments.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[ReviewStatus] = mapped_column(
        column_type(ReviewStatus), default=ReviewStatus.DRAFT, index=True
    )
    overall_comment: Mapped[str] = mapped_column(Text, default="")
    # Only the juror who wrote it ever sees it.
    private_note: Mapped[str] = mapped_column(Text, default="")
    # Computed by the service when submitted; None while any criterion is unscored.
    total: Mapped[float | None] = mapped_column(Float)
    submitted_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Entered from a paper ballot by an administrator rather than by the juror.
    imported: Mapped[bool] = mapped_column(default=False)
    # Autosave from two tabs must not let an older draft overwrite a newer one.
    version_id: Mapped[int] = mapped_column()

    __mapper_args__: ClassVar[dict] = {"version_id_col": version_id}

    assignment: Mapped[Assignment] = relationship(back_populates="review")
    scores: Mapped[list[Score]] = relationship(
        back_populates="review", order_by="Score.id", cascade="all, delete-orphan"
    )

    @property
    def is_submitted(self) -> bool:
        return self.status == ReviewStatus.SUBMITTED

    def score_for(self, criterion_id: int) -> Score | None:
        return next((s for s in self.scores if s.criterion_id == criterion_id), None)

    def __repr__(self) -> str:
        return f"<Review {self.id} assignment={self.assignment_id} {self.status}>"


class Score(Base):
    __tablename__ = "scores"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"))
    criterion_id: Mapped[int] = mapped_column(
        ForeignKey("criteria.id", ondelete="CASCADE"), index=True
    )
    # None is "not scored yet", which is different from a score of 0.
    value: Mapped[float | None] = mapped_column(Float)
    comment: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (UniqueConstraint("review_id", "criterion_id"),)

    review: Mapped[Review] = relationship(back_populates="scores")
    criterion: Mapped[Criterion] = relationship()

    def __repr__(self) -> str:
        return f"<Score review={self.review_id} criterion={self.criterion_id} {self.value}>"
