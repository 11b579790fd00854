"""The commission's ballot box, who took part, and the ballots.

Secret by design: *that* a member voted (``Participation``, for the quorum and the protocol)
and *what* was voted (``Ballot``) are two tables with nothing in common but the round. A
ballot has no voter, no time of casting (``sealed_at`` is set to the moment of the close, the
same for every ballot) and a random primary key, so neither its key nor its place in the
table says when it was cast; on SQLite the table has no rowid (it is stored in key order), and
at the close every ballot is rewritten in key order (awards.commission.services.close_ballot).
The receipt a member is shown once is stored as its SHA-256 only."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import JSON, Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from awards.db import Base

if TYPE_CHECKING:
    from awards.auth.models import User
    from awards.jury.models import Round


class BallotMethod:
    APPROVAL = "approval"  # yes / no / abstain per entry
    RANKED = "ranked"  # an order of preference per category

    ALL = (APPROVAL, RANKED)


class BallotBox(Base):
    """The settings of a commission round and its opening and close. The round's own status
    (draft, open, closed) is the ballot's: the chair opens and closes it."""

    __tablename__ = "commission_ballot_boxes"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"),
                                          unique=True)
    method: Mapped[str] = mapped_column(String(20), default=BallotMethod.APPROVAL)
    # Fractions of 1. Quorum: ballots / members; "at least" when inclusive.
    quorum: Mapped[float] = mapped_column(Float, default=2 / 3)
    quorum_inclusive: Mapped[bool] = mapped_column(default=True)
    # Yes share an entry needs, over the votes cast or over the members voting on it.
    threshold: Mapped[float] = mapped_column(Float, default=0.5)
    threshold_inclusive: Mapped[bool] = mapped_column(default=False)
    threshold_base: Mapped[str] = mapped_column(String(20), default="cast")
    # Ranked ballots: laureates per category id ({"12": 2}); a category not listed has one.
    seats: Mapped[dict] = mapped_column(JSON, default=dict)
    # The members entitled to vote, fixed when the ballot opens (user ids).
    member_ids: Mapped[list] = mapped_column(JSON, default=list)
    opened_at: Mapped[datetime | None]
    opened_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True)
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True)
    version_id: Mapped[int] = mapped_column()

    __mapper_args__: ClassVar[dict] = {"version_id_col": version_id}

    round: Mapped[Round] = relationship()
    opened_by: Mapped[User | None] = relationship(foreign_keys=[opened_by_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])

    def seats_for(self, category_id: int) -> int:
        return int((self.seats or {}).get(str(category_id), 1))

    def __repr__(self) -> str:
        return f"<BallotBox round={self.round_id} {self.method}>"


class Participation(Base):
    """A member took part in the round's ballot: nothing about what, nor when."""

    __tablename__ = "commission_participation"

    id: Mapped[int] = mapped_column(primary_key=True)
    box_id: Mapped[int] = mapped_column(
        ForeignKey("commission_ballot_boxes.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)

    # One ballot per member: inserted in the same transaction as the ballot.
    __table_args__ = (UniqueConstraint("box_id", "user_id"),)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<Participation box={self.box_id} user={self.user_id}>"


def new_ballot_id() -> str:
    return str(uuid.uuid4())


class Ballot(Base):
    """One member's whole vote in a round, without the member. ``content`` is
    ``{"choices": {"<nomination id>": "yes" | "no" | "abstain"}}`` (approval) or
    ``{"rankings": {"<category id>": [nomination ids, best first]}}`` (ranked)."""

    __tablename__ = "commission_ballots"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_ballot_id)
    box_id: Mapped[int] = mapped_column(
        ForeignKey("commission_ballot_boxes.id", ondelete="CASCADE"), index=True)
    content: Mapped[dict] = mapped_column(JSON, default=dict)
    receipt_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The close of the ballot, written on every ballot at once; empty while it is open.
    sealed_at: Mapped[datetime | None]

    __table_args__ = ({"sqlite_with_rowid": False},)

    def __repr__(self) -> str:
        return f"<Ballot {self.id}>"
