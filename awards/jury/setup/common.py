"""What every part of the jury's setup shares: its refusals, the rulebook check each change
starts with, and the small helpers for audit snapshots."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy.orm import Session

from awards import policy
from awards.auth.models import User
from awards.calls.services import snapshot
from awards.db import utcnow
from awards.enums import NominationStatus
from awards.jury.models import JuryMember
from awards.refusals import Refusal

Pair = tuple[int, int]  # (juror user id, nomination id), as in awards.judging.assignment

# Entries that left the competition after they were added to a round are not assigned.
_NOT_JUDGED = (NominationStatus.WITHDRAWN, NominationStatus.INELIGIBLE)


class JurySetupError(Refusal):
    """A change refused by a rule; ``field`` is the form field the message belongs to (None
    for the page as a whole)."""


class PlanChanged(JurySetupError):
    """What a preview showed is no longer what saving would do."""


class NotAllowed(JurySetupError):
    """The rulebook refuses the change (for example: the call's results are scheduled or
    published, so the jury's work is frozen); ``status`` is the HTTP answer (409 for a phase,
    403 otherwise)."""

    def __init__(self, decision: policy.Decision):
        super().__init__(decision.reason)
        self.status = decision.status


def admin_viewer(session: Session, actor) -> policy.Viewer:
    """The policy's view of the administrator acting. A command run on the server (no actor)
    acts with the operator's full rights."""
    viewer = policy.Viewer(session, actor)
    if actor is None:
        viewer.is_admin = True
    return viewer


def refusal(session: Session, actor, action: policy.Action, subject) -> policy.Decision | None:
    """Why ``actor`` may not do ``action`` now (None when they may): for the pages, which show
    the reason instead of the buttons."""
    decision = policy.allows(admin_viewer(session, actor), action, subject, now=utcnow())
    return None if decision.ok else decision


def _require(session: Session, actor, action: policy.Action, subject) -> None:
    decision = refusal(session, actor, action, subject)
    if decision is not None:
        raise NotAllowed(decision)


MEMBER_FIELDS = ("email", "status", "is_chair", "user_id")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _member_snapshot(member: JuryMember) -> dict[str, Any]:
    data = snapshot(member, MEMBER_FIELDS)
    data["categories"] = sorted(c.id for c in member.categories)
    return data


def _juror_label(user: User | None, member: JuryMember | None = None) -> str:
    if user is not None:
        return user.display_name
    return member.email if member is not None else ""
