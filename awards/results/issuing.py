"""Certificates issued by a publication: new ones for new or changed awards, earlier ones
revoked from the moment the new version goes live, unchanged ones kept."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from awards.calls.models import Call
from awards.results.common import new_certificate_code, recipient_name
from awards.results.models import Certificate, Publication
from awards.results.recipients import diploma_recipients
from awards.results.winners import Winner

# ---- issuing certificates -------------------------------------------------------------------


def _cert_key(nomination_id: int, award_level_id: int | None, name: str) -> tuple:
    return (nomination_id, award_level_id, name)


def _valid_certificates_of(session: Session, call: Call) -> list[Certificate]:
    return list(session.scalars(
        select(Certificate).join(Publication, Publication.id == Certificate.publication_id)
        .where(Publication.call_id == call.id, Certificate.revoked_at.is_(None))
        .order_by(Certificate.id)))


def issue_certificates(session: Session, call: Call, publication: Publication,
                       winners: list[Winner], when: datetime):
    """New certificates for new or changed awards; earlier ones of removed or changed awards
    are revoked from the moment this version goes live; unchanged ones stay valid."""
    existing = {(_cert_key(c.nomination_id, c.decision.award_level_id if c.decision else None,
                           c.recipient_name)): c
                for c in _valid_certificates_of(session, call)
                if c.publication_id != publication.id}
    kept_keys = set()
    issued = []
    for w in winners:
        # One per author (or the nominee), and the organisation's when the call says so.
        for person in diploma_recipients(w.nomination, recipient_name(w.nomination)):
            key = _cert_key(w.nomination.id, w.decision.award_level_id, person.name)
            if key in existing:
                kept_keys.add(key)
                continue
            cert = Certificate(publication_id=publication.id, decision_id=w.decision.id,
                               nomination_id=w.nomination.id, code=_unique_code(session),
                               recipient_name=person.name, recipient_kind=person.kind,
                               recipient_names=person.names, author_id=person.author_id,
                               award_name=w.award_names, issued_at=when)
            session.add(cert)
            issued.append(cert)
    revoked = []
    for key, cert in existing.items():
        if key not in kept_keys:
            cert.revoked_at = when
            revoked.append(cert)
    session.flush()
    return issued, revoked


def _unique_code(session: Session) -> str:
    while True:
        code = new_certificate_code()
        taken = session.scalar(select(Certificate.id).where(Certificate.code == code))
        pending = any(getattr(o, "code", None) == code for o in session.new)
        if taken is None and not pending:
            return code

