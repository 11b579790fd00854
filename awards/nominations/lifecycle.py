"""The one way a nomination's status changes: a timeline entry and an audit record, together."""

from __future__ import annotations

from sqlalchemy.orm import Session

from awards import audit
from awards.enums import NominationStatus
from awards.nominations.models import Nomination, StatusChange


def change_status(
    *,
    session: Session,
    nomination: Nomination,
    to_status: NominationStatus,
    actor,
    reason: str = "",
    visible_to_applicant: bool = True,
    action: str | None = None,
) -> StatusChange:
    before = nomination.status
    nomination.status = to_status
    change = StatusChange(
        nomination=nomination,
        from_status=before,
        to_status=to_status,
        actor_id=getattr(actor, "id", None),
        reason=reason,
        visible_to_applicant=visible_to_applicant,
    )
    session.add(change)
    audit.record(
        session,
        action=action or f"nomination.{to_status.value}",
        object_type="nomination",
        object_id=nomination.id,
        actor=actor,
        call_id=nomination.call_id,
        before={"status": before.value if before else None},
        after={"status": to_status.value, "reason": reason},
    )
    session.flush()
    return change
