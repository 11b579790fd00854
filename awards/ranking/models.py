"""What the jury decided: entries advanced to the next round or awarded. The commission's
secret ballot behind such decisions lives in ``awards.commission``."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from awards.db import Base, utcnow
from awards.enums import DecisionKind, column_type

if TYPE_CHECKING:
    from awards.auth.models import User
    from awards.calls.models import AwardLevel, Call, Category
    from awards.jury.models import Round
    from awards.nominations.models import Nomination


class Decision(Base):
    """A decision is revoked, never deleted or edited, so the history of who decided what
    stays readable; the active decisions are those with ``revoked_at`` empty."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"))
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    # The round whose results the decision is based on (for "advance": the round left).
    round_id: Mapped[int | None] = mapped_column(
        ForeignKey("rounds.id", ondelete="SET NULL"), index=True
    )
    nomination_id: Mapped[int] = mapped_column(ForeignKey("nominations.id"), index=True)
    kind: Mapped[DecisionKind] = mapped_column(column_type(DecisionKind))
    award_level_id: Mapped[int | None] = mapped_column(
        ForeignKey("award_levels.id", ondelete="SET NULL"), index=True
    )
    note: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    version_id: Mapped[int] = mapped_column()

    __mapper_args__: ClassVar[dict] = {"version_id_col": version_id}
    __table_args__ = (
        # Results and shortlists read a call's decisions category by category; it also serves
        # as the index of the call_id foreign key.
        Index("ix_decisions_call_id_category_id", "call_id", "category_id"),
    )

    call: Mapped[Call] = relationship()
    category: Mapped[Category] = relationship()
    round: Mapped[Round | None] = relationship()
    nomination: Mapped[Nomination] = relationship()
    award_level: Mapped[AwardLevel | None] = relationship()
    decided_by: Mapped[User] = relationship(foreign_keys=[decided_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def __repr__(self) -> str:
        return f"<Decision {self.id} {self.kind} nomination={self.nomination_id}>"
