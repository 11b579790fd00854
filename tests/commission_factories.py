"""A call in its final stage with a commission of members and a commission round, written
straight to the database; ids come back as plain values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from awards.calls.models import AwardLevel
from awards.commission.models import BallotBox, BallotMethod
from awards.enums import RoundKind, RoundStatus
from awards.jury.models import Round, RoundEntry
from tests.jury_factories import judging_call, make_account, make_entry, make_panel


@dataclass
class CommissionWorld:
    call_id: int
    round_id: int
    admin: str
    chair: str
    members: list[str]  # chair first
    entries: dict[str, list[int]] = field(default_factory=dict)  # category code -> ids
    category_ids: dict[str, int] = field(default_factory=dict)
    user_ids: dict[str, int] = field(default_factory=dict)


def commission_world(session: Session, *, members: int = 9, per_category: int = 2,
                     method: str = BallotMethod.APPROVAL, **box: Any) -> CommissionWorld:
    call = judging_call(session)
    admin = make_account(session, "admin@example.com", admin=True)
    applicant = make_account(session, "applicant@example.com")
    users = [make_account(session, f"commission{i}@example.com", name=f"Member {i}")
             for i in range(1, members + 1)]
    panel = make_panel(session, call, [(u, i == 0) for i, u in enumerate(users)])
    round_ = Round(call=call, position=1, name_en="Commission vote", name_ru="Голосование",
                   kind=RoundKind.COMMISSION, panel=panel, status=RoundStatus.DRAFT)
    session.add(round_)
    session.flush()
    session.add(BallotBox(round_id=round_.id, method=method, **box))
    world = CommissionWorld(call.id, round_.id, admin.email, users[0].email,
                            [u.email for u in users],
                            user_ids={u.email: u.id for u in [admin, *users]})
    for category in call.categories:
        category.award_levels.append(AwardLevel(key="laureate", name_en="Laureate",
                                                name_ru="Лауреат", name_kk="Лауреат",
                                                count=1, position=1))
        world.category_ids[category.code] = category.id
        for n in range(per_category):
            entry = make_entry(session, call, applicant=applicant, category=category.code,
                               nominee_name=f"{category.code} author {n + 1}",
                               with_files=False)
            session.add(RoundEntry(round_id=round_.id, nomination_id=entry.id))
            world.entries.setdefault(category.code, []).append(entry.id)
    session.flush()
    return world
