"""What the applicant may see of their nomination's result once the call's results are public:
the award level and the diplomas (one per author of a collective, or the nominee's; the
organisation's too when the call gives one), read through ``awards.results`` as the "My
nominations" list reads them. Before the publication time (a scheduled publication) nothing.

Read only: the results feature decides, publishes and issues."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from awards.enums import PublicationStatus
from awards.nominations.models import Nomination


@dataclass(frozen=True)
class Diploma:
    code: str
    recipient_name: str


@dataclass(frozen=True)
class OwnOutcome:
    """``award``: the award level's names by language, None when the entry took part and was
    not awarded. ``at``: when the results became public."""

    at: datetime
    award: dict[str, str] | None
    diplomas: list[Diploma] = field(default_factory=list)

    @property
    def awarded(self) -> bool:
        return bool(self.award)


def own_outcome(session: Session, nomination: Nomination, now: datetime) -> OwnOutcome | None:
    """The result of ``nomination`` as its applicant sees it at ``now``, or None (results not
    public yet, or the entry did not take part)."""
    from awards.results.reading import outcomes_for

    outcome = outcomes_for(session, [nomination], now).get(nomination.id)
    if outcome is None:
        return None
    publication = outcome.publication
    at = (publication.scheduled_for if publication.status == PublicationStatus.SCHEDULED
          else publication.published_at or publication.scheduled_for)
    certificates = outcome.certificates or ([outcome.certificate] if outcome.certificate else [])
    return OwnOutcome(at=at, award=outcome.award or None,
                      diplomas=[Diploma(c.code, c.recipient_name) for c in certificates])
