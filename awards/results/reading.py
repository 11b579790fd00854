"""Reading published results: a call's versions, the one the public sees now, the one
scheduled, the calls with visible results, certificates held and an applicant's outcomes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from awards.calls.models import Call
from awards.enums import PublicationStatus
from awards.nominations.models import Nomination
from awards.results.common import NOT_IN_COMPETITION, visible_clause
from awards.results.models import Certificate, Publication

# ---- reading ----------------------------------------------------------------------------------


def publications_of(session: Session, call: Call) -> list[Publication]:
    return list(session.scalars(select(Publication).where(Publication.call_id == call.id)
                                .order_by(Publication.version)))


def current_publication(session: Session, call: Call, now: datetime) -> Publication | None:
    """The newest version the public can read at ``now``."""
    return session.scalar(
        select(Publication).where(Publication.call_id == call.id, visible_clause(now))
        .order_by(Publication.version.desc()).limit(1))


def pending_publication(session: Session, call: Call, now: datetime) -> Publication | None:
    """A version scheduled for later (there is at most one)."""
    return session.scalar(
        select(Publication).where(Publication.call_id == call.id,
                                  Publication.status == PublicationStatus.SCHEDULED,
                                  Publication.scheduled_for > now)
        .order_by(Publication.version.desc()).limit(1))


def publication_version(session: Session, call: Call, version: int) -> Publication | None:
    return session.scalar(select(Publication).where(Publication.call_id == call.id,
                                                    Publication.version == version))


def visible_calls(session: Session, now: datetime) -> list[tuple[Call, Publication]]:
    """Each call with results the public can read, with its current version; newest first."""
    rows = session.execute(
        select(Call, Publication).join(Publication, Publication.call_id == Call.id)
        .where(visible_clause(now))
        .options(selectinload(Call.programme))
        .order_by(Call.year.desc(), Call.id.desc(), Publication.version.desc())).all()
    out: dict[int, tuple[Call, Publication]] = {}
    for call, publication in rows:
        out.setdefault(call.id, (call, publication))
    return list(out.values())


def photo_is_public(session: Session, call: Call, photo_name: str, now: datetime) -> str | None:
    """The content type of a photo shown by a visible version of the call, else None."""
    for publication in session.scalars(select(Publication).where(
            Publication.call_id == call.id, visible_clause(now))):
        for category in publication.snapshot.get("categories", []):
            for entry in category.get("winners", []):
                if entry.get("photo") == photo_name:
                    return entry.get("photo_type") or "application/octet-stream"
    return None


def find_winner(snapshot: dict, reference: str) -> tuple[dict, dict] | None:
    """The (category, winner) of a publication's snapshot with the entry's public reference
    (letter case aside), or None."""
    wanted = (reference or "").strip().upper()
    if not wanted:
        return None
    for category in snapshot.get("categories", []):
        for entry in category.get("winners", []):
            if (entry.get("reference") or "").upper() == wanted:
                return category, entry
    return None


def valid_certificate(session: Session, nomination_id: int, now: datetime) -> Certificate | None:
    """The certificate an entry holds now: its publication visible and not revoked."""
    return session.scalar(
        select(Certificate).join(Publication, Publication.id == Certificate.publication_id)
        .where(Certificate.nomination_id == nomination_id, visible_clause(now),
               or_(Certificate.revoked_at.is_(None), Certificate.revoked_at > now))
        .order_by(Certificate.id.desc()).limit(1))


def valid_certificates(session: Session, nomination_id: int,
                       now: datetime) -> list[Certificate]:
    """Every certificate an entry holds now (one per author of a collective, the
    organisation's), in the order they were issued."""
    return list(session.scalars(
        select(Certificate).join(Publication, Publication.id == Certificate.publication_id)
        .where(Certificate.nomination_id == nomination_id, visible_clause(now),
               or_(Certificate.revoked_at.is_(None), Certificate.revoked_at > now))
        .order_by(Certificate.id)))


@dataclass
class Outcome:
    publication: Publication
    award: dict[str, str] | None  # the award level's names; None: not awarded
    certificate: Certificate | None = None
    certificates: list[Certificate] = field(default_factory=list)


def outcomes_for(session: Session, nominations: list[Nomination],
                 now: datetime) -> dict[int, Outcome]:
    """What the applicant may see of each entry's result: only entries of calls whose results
    are visible now, and only entries that took part."""
    out: dict[int, Outcome] = {}
    by_call: dict[int, Publication | None] = {}
    for nomination in nominations:
        if nomination.status in NOT_IN_COMPETITION:
            continue
        if nomination.call_id not in by_call:
            by_call[nomination.call_id] = current_publication(session, nomination.call, now)
        publication = by_call[nomination.call_id]
        if publication is None:
            continue
        award = None
        for category in publication.snapshot.get("categories", []):
            for entry in category.get("winners", []):
                if entry["nomination_id"] == nomination.id:
                    award = entry["award"]
        certificates = valid_certificates(session, nomination.id, now) if award else []
        certificate = certificates[-1] if certificates else None
        out[nomination.id] = Outcome(publication, award, certificate, certificates)
    return out


