"""Reading nominations without changing them: an applicant's list, the answers and the
snapshot a version keeps, the status timeline the applicant sees, the nominee's consent link."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from awards.enums import NominationStatus, NominatorKind
from awards.nominations.fields import NOMINEE_COLUMNS
from awards.nominations.models import Nomination

# ---- reading ----------------------------------------------------------------------------------


def consent_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def find_by_consent_token(session: Session, token: str) -> Nomination | None:
    if not token or len(token) > 200:
        return None
    return session.scalar(
        select(Nomination).where(Nomination.nominee_consent_token_hash == consent_token_hash(token))
    )


def nominations_of(session: Session, user) -> list[Nomination]:
    # The list shows each entry's call and category: loaded with it, not one query per call.
    return list(session.scalars(
        select(Nomination).where(Nomination.applicant_id == user.id)
        .options(selectinload(Nomination.call), selectinload(Nomination.category))
        .order_by(Nomination.created_at.desc(), Nomination.id.desc())
    ))


def answers_by_key(nomination: Nomination) -> dict[str, Any]:
    return {a.field.key: a.value for a in nomination.answers if a.value is not None}


def snapshot(nomination: Nomination, **extra) -> dict[str, Any]:
    """What a version records: enough to show the entry as it was, even if the form changes."""
    keys = {f.id: f.key for f in nomination.call.fields}
    return {
        "reference": nomination.reference,
        "status": nomination.status.value,
        "category": nomination.category.code,
        "nominator_kind": nomination.nominator_kind.value,
        "nominee": {name: getattr(nomination, name) for name in NOMINEE_COLUMNS},
        "answers": answers_by_key(nomination),
        "attachments": [
            {"id": a.id, "field": keys.get(a.field_id), "original_name": a.original_name,
             "content_type": a.content_type, "size": a.size, "sha256": a.sha256}
            for a in nomination.attachments
        ],
        **extra,
    }


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # "created", "status", "consent", "declined", "version", "award", "results"
    status: NominationStatus | None = None
    reason: str = ""
    number: int | None = None
    award: dict[str, str] | None = None  # "award": the award level's names by language


def timeline(nomination: Nomination, outcome=None) -> list[TimelineEntry]:
    """What the applicant sees happen to their nomination, oldest first. Internal screening
    notes (``visible_to_applicant`` false) are left out. ``outcome`` (``nominations.outcome``,
    once results are public): the award, or the results without one, as the last step."""
    entries = [TimelineEntry(nomination.created_at, "created")]
    if outcome is not None:
        entries.append(TimelineEntry(outcome.at, "award", award=outcome.award)
                       if outcome.awarded else TimelineEntry(outcome.at, "results"))
    entries += [TimelineEntry(c.created_at, "status", status=c.to_status, reason=c.reason)
                for c in nomination.status_changes if c.visible_to_applicant]
    entries += [TimelineEntry(v.created_at, "version", number=v.number)
                for v in nomination.versions if v.number > 1]
    # Nominating oneself is one's consent; only someone else's answer is news to the applicant.
    if nomination.nominator_kind != NominatorKind.SELF:
        if nomination.nominee_consent_at is not None:
            entries.append(TimelineEntry(nomination.nominee_consent_at, "consent"))
        if nomination.nominee_declined_at is not None:
            entries.append(TimelineEntry(nomination.nominee_declined_at, "declined"))
    order = {"created": 0, "status": 1, "version": 2, "consent": 3, "declined": 3, "award": 4,
             "results": 4}
    return sorted(entries, key=lambda e: (e.at, order[e.kind]))


def awaiting_nominee_consent(nomination: Nomination) -> bool:
    return (nomination.nominee_consent_required and nomination.is_submitted
            and nomination.nominator_kind != NominatorKind.SELF
            and nomination.nominee_consent_at is None and nomination.nominee_declined_at is None)
