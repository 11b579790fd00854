"""Programmes (a prize that recurs), their yearly calls for nominations, the categories and award
levels of a call, and the application form a call asks nominators to fill in."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from awards.db import Base, utcnow
from awards.enums import (
    AggregationMethod,
    CallStatus,
    FieldType,
    NominatorKind,
    TotalMethod,
    column_type,
)

if TYPE_CHECKING:
    from awards.jury.models import Panel, Round, Rubric

DEFAULT_TIMEZONE = "Asia/Almaty"
DEFAULT_TIEBREAK = ("first_places", "spread")


def _all_nominator_kinds() -> list[str]:
    return [kind.value for kind in NominatorKind]


def _default_tiebreak() -> list[str]:
    return list(DEFAULT_TIEBREAK)


class Programme(Base):
    __tablename__ = "programmes"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name_kk: Mapped[str] = mapped_column(String(300), default="")
    name_ru: Mapped[str] = mapped_column(String(300), default="")
    name_en: Mapped[str] = mapped_column(String(300), default="")
    description_kk: Mapped[str] = mapped_column(Text, default="")
    description_ru: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    calls: Mapped[list[Call]] = relationship(
        back_populates="programme", order_by="(Call.year.desc(), Call.id.desc())"
    )

    def __repr__(self) -> str:
        return f"<Programme {self.id} {self.slug}>"


class Call(Base):
    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    # Start of every nomination reference of the call: VOY-2026-00042.
    reference_prefix: Mapped[str] = mapped_column(String(10))
    year: Mapped[int]
    title_kk: Mapped[str] = mapped_column(String(300), default="")
    title_ru: Mapped[str] = mapped_column(String(300), default="")
    title_en: Mapped[str] = mapped_column(String(300), default="")
    rules_kk: Mapped[str] = mapped_column(Text, default="")
    rules_ru: Mapped[str] = mapped_column(Text, default="")
    rules_en: Mapped[str] = mapped_column(Text, default="")
    consent_text_kk: Mapped[str] = mapped_column(Text, default="")
    consent_text_ru: Mapped[str] = mapped_column(Text, default="")
    consent_text_en: Mapped[str] = mapped_column(Text, default="")
    # Deadlines are stored in UTC; the call's own zone is for showing them and for reading the
    # dates an administrator types ("until 30 November, 23:59" means Almaty time).
    timezone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIMEZONE)
    opens_at: Mapped[datetime]
    # The last instant still accepted (23:59:59 local for "until the 30th"), hence <= below.
    closes_at: Mapped[datetime]
    status: Mapped[CallStatus] = mapped_column(
        column_type(CallStatus), default=CallStatus.DRAFT, index=True
    )
    requires_nominee_consent: Mapped[bool] = mapped_column(default=False)
    allowed_nominator_kinds: Mapped[list[str]] = mapped_column(JSON, default=_all_nominator_kinds)
    total_method: Mapped[TotalMethod] = mapped_column(
        column_type(TotalMethod), default=TotalMethod.SUM
    )
    aggregation_method: Mapped[AggregationMethod] = mapped_column(
        column_type(AggregationMethod), default=AggregationMethod.MEAN
    )
    # For the trimmed mean: how many of the highest and of the lowest totals are dropped.
    trim_k: Mapped[int] = mapped_column(default=1)
    # Applied in order after the score; the names are those the ranking module understands.
    tiebreak: Mapped[list[str]] = mapped_column(JSON, default=_default_tiebreak)
    show_scores_to_chairs: Mapped[bool] = mapped_column(default=True)
    has_public_stage: Mapped[bool] = mapped_column(default=False)
    # Besides one diploma per author of an awarded entry, one for the nominating organisation.
    organisation_certificate: Mapped[bool] = mapped_column(default=False)
    cloned_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("calls.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Two administrators editing the same call: the second save fails instead of overwriting.
    version_id: Mapped[int] = mapped_column()

    __mapper_args__: ClassVar[dict] = {"version_id_col": version_id}
    __table_args__ = (
        CheckConstraint("closes_at > opens_at", name="closes_after_opens"),
        CheckConstraint("trim_k >= 0", name="trim_k_not_negative"),
    )

    programme: Mapped[Programme] = relationship(back_populates="calls")
    cloned_from: Mapped[Call | None] = relationship(remote_side=[id])
    categories: Mapped[list[Category]] = relationship(
        back_populates="call",
        order_by="(Category.position, Category.id)",
        cascade="all, delete-orphan",
    )
    fields: Mapped[list[FormField]] = relationship(
        back_populates="call",
        order_by="(FormField.position, FormField.id)",
        cascade="all, delete-orphan",
    )
    rubrics: Mapped[list[Rubric]] = relationship(
        back_populates="call", order_by="Rubric.id", cascade="all, delete-orphan"
    )
    rounds: Mapped[list[Round]] = relationship(
        back_populates="call", order_by="(Round.position, Round.id)", cascade="all, delete-orphan"
    )
    panels: Mapped[list[Panel]] = relationship(
        back_populates="call", order_by="Panel.id", cascade="all, delete-orphan"
    )

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_open_at(self, now: datetime) -> bool:
        return self.status == CallStatus.OPEN and self.opens_at <= now <= self.closes_at

    def has_closed_at(self, now: datetime) -> bool:
        return now > self.closes_at

    def accepts_nominator(self, kind: str) -> bool:
        return kind in (self.allowed_nominator_kinds or [])

    def __repr__(self) -> str:
        return f"<Call {self.id} {self.slug}>"


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(40))
    name_kk: Mapped[str] = mapped_column(String(300), default="")
    name_ru: Mapped[str] = mapped_column(String(300), default="")
    name_en: Mapped[str] = mapped_column(String(300), default="")
    description_kk: Mapped[str] = mapped_column(Text, default="")
    description_ru: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    winners_count: Mapped[int] = mapped_column(default=1)

    # The unique constraint leads with call_id, so it also serves as the foreign key's index.
    __table_args__ = (
        UniqueConstraint("call_id", "code"),
        CheckConstraint("winners_count >= 0", name="winners_count_not_negative"),
    )

    call: Mapped[Call] = relationship(back_populates="categories")
    award_levels: Mapped[list[AwardLevel]] = relationship(
        back_populates="category",
        order_by="(AwardLevel.position, AwardLevel.id)",
        cascade="all, delete-orphan",
    )

    def __repr__(self) -> str:
        return f"<Category {self.id} {self.code}>"


class AwardLevel(Base):
    """One kind of award within a category (winner, laureate, special mention) and how many
    entries can receive it."""

    __tablename__ = "award_levels"

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(40))
    name_kk: Mapped[str] = mapped_column(String(200), default="")
    name_ru: Mapped[str] = mapped_column(String(200), default="")
    name_en: Mapped[str] = mapped_column(String(200), default="")
    count: Mapped[int] = mapped_column(default=1)
    position: Mapped[int] = mapped_column(default=0)

    __table_args__ = (
        UniqueConstraint("category_id", "key"),
        CheckConstraint("count >= 1", name="count_positive"),
    )

    category: Mapped[Category] = relationship(back_populates="award_levels")

    def __repr__(self) -> str:
        return f"<AwardLevel {self.id} {self.key}>"


class FormField(Base):
    """One question of a call's application form. A field may be limited to some categories
    or some kinds of nominator; ``None`` means it applies to all."""

    __tablename__ = "form_fields"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="CASCADE"), index=True
    )
    # SQL NULL rather than JSON null, so "applies to every kind" can be queried with IS NULL.
    nominator_kinds: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))
    key: Mapped[str] = mapped_column(String(60))
    type: Mapped[FieldType] = mapped_column(column_type(FieldType))
    label_kk: Mapped[str] = mapped_column(String(300), default="")
    label_ru: Mapped[str] = mapped_column(String(300), default="")
    label_en: Mapped[str] = mapped_column(String(300), default="")
    help_kk: Mapped[str] = mapped_column(Text, default="")
    help_ru: Mapped[str] = mapped_column(Text, default="")
    help_en: Mapped[str] = mapped_column(Text, default="")
    required: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)
    # [{"value": "almaty", "label_kk": ..., "label_ru": ..., "label_en": ...}, ...]
    options: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    min_value: Mapped[float | None] = mapped_column(Float)
    max_value: Mapped[float | None] = mapped_column(Float)
    max_length: Mapped[int | None]
    # Extensions without the dot, lower case: ["pdf", "jpeg", "png"].
    file_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    file_max_bytes: Mapped[int | None]
    file_max_count: Mapped[int] = mapped_column(default=1)
    # Withheld from jurors in blind rounds.
    is_identifying: Mapped[bool] = mapped_column(default=False)
    # Shown on the nominee's public profile (public vote or discussion, published results).
    is_public: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (UniqueConstraint("call_id", "key"),)

    call: Mapped[Call] = relationship(back_populates="fields")
    category: Mapped[Category | None] = relationship()

    def applies_to(self, *, category_id: int | None, nominator_kind: str | None) -> bool:
        if self.category_id is not None and self.category_id != category_id:
            return False
        return not (self.nominator_kinds is not None and nominator_kind not in self.nominator_kinds)

    def option_values(self) -> list[str]:
        return [str(option.get("value")) for option in self.options or []]

    def __repr__(self) -> str:
        return f"<FormField {self.id} {self.key}>"
