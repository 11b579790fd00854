"""The administrator's desk: two active calls with work waiting, written straight to the
database. A judged call (``scored_round``: a closed first round with reviews, a second round,
award levels "Winner" and "Laureate") with an open round where reviews are late and a juror
still assigned to an entry they are in conflict with; and a call in screening whose
submitted entries wait, one of them still without its nominee's consent.

Helpers take the session and flush; the test commits (``tests.factories.arrange``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.orm import Session

from awards.auth.models import User
from awards.db import utcnow
from awards.enums import CallStatus, NominationStatus, RoundStatus
from awards.jury.models import Assignment, Round
from awards.nominations.models import Nomination
from tests.jury_factories import add_conflict, assign
from tests.ranking_factories import scored_round
from tests.screening_factories import make_call, make_nomination


@dataclass
class DeskWorld:
    admin_email: str
    judged_call_id: int
    round_id: int  # the judged call's first round (closed, ranked)
    open_round_id: int  # its second round, open, with reviews not yet submitted
    screening_call_id: int
    to_screen: list[int] = field(default_factory=list)
    consent_missing: int = 0
    levels: dict[str, int] = field(default_factory=dict)
    entries: dict[str, int] = field(default_factory=dict)


def desk_world(session: Session, *, conflict: bool = True, late_reviews: int = 2,
               to_screen: int = 3) -> DeskWorld:
    ranked = scored_round(session)
    second = session.get(Round, ranked.next_round_id)
    second.status = RoundStatus.OPEN
    second.opens_at = utcnow() - timedelta(days=1)
    second.closes_at = utcnow() + timedelta(days=3)
    jurors = [session.get(User, uid) for _, uid in sorted(ranked.jurors.items())]
    letters = sorted(ranked.entries)
    for i in range(late_reviews):
        nomination = session.get(Nomination, ranked.entries[letters[i]])
        assign(session, second, nomination, jurors[i % len(jurors)])
    if conflict:
        # A juror declares a conflict with an entry they still hold an assignment for.
        assignment = session.query(Assignment).filter_by(round_id=ranked.round_id).first()
        add_conflict(session, session.get(User, assignment.juror_id), assignment.nomination)

    screening = make_call(session, slug="abai-2026", prefix="ABA", status=CallStatus.SCREENING,
                          requires_consent=True, categories=("poetry", "prose"))
    screening.title_en = "Abai Prize 2026"
    admin = session.query(User).filter_by(email=ranked.admin_email).one()
    waiting = []
    for i in range(to_screen):
        nomination = make_nomination(
            session, call=screening, applicant=admin, status=NominationStatus.SUBMITTED,
            nominee_name=f"Poet {i + 1}", reference=f"ABA-2026-{i + 1:05d}",
            consent="pending" if i == 0 else "given")
        waiting.append(nomination.id)
    make_nomination(session, call=screening, applicant=admin, status=NominationStatus.ELIGIBLE,
                    nominee_name="Poet 0", reference="ABA-2026-00100")
    session.flush()
    return DeskWorld(ranked.admin_email, ranked.call_id, ranked.round_id, second.id,
                     screening.id, to_screen=waiting, consent_missing=1 if to_screen else 0,
                     levels=dict(ranked.levels), entries=dict(ranked.entries))
