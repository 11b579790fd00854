"""A published winner with a certificate, written straight to the database, so certificates can
be tested without running the judging and publication steps before them.

The Kazakh texts together use, in lower case, every letter Kazakh adds to the Russian alphabet
(ә ғ қ ң ө ұ ү һ і), so a PDF that drops or garbles any of them is caught. Helpers take the
session and flush; tests commit through ``tests.factories.arrange``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from awards.calls.models import AwardLevel
from awards.db import utcnow
from awards.enums import CallStatus, DecisionKind, NominationStatus, PublicationStatus
from awards.ranking.models import Decision
from awards.results.models import Certificate, Publication
from tests.factories import make_call, make_nomination
from tests.jury_factories import make_account

CODE = "K7Q2M9XD4HTR"
SHOWN_CODE = "K7Q2-M9XD-4HTR"
RECIPIENT = "Гүлнұр Дәулетқызы Шаһағалиева"
AWARD = {"kk": "Жеңімпаз", "ru": "Победитель", "en": "Winner"}
CALL_TITLE = {"kk": "Жыл волонтері — 2025", "ru": "Волонтёр года — 2025",
              "en": "Volunteer of the Year 2025"}
CATEGORY = {"kk": "Әлеуметтік көмекші", "ru": "Социальный помощник", "en": "Social Helper"}
PROGRAMME = {"kk": "Ұлттық волонтерлік желі", "ru": "Национальная волонтёрская сеть",
             "en": "National Volunteer Network"}
KAZAKH_LETTERS = "әғқңөұүһі"
# 20:00 UTC on 4 December is already 5 December in Almaty, the call's time zone.
PUBLISHED_AT = datetime(2025, 12, 4, 20, 0, tzinfo=UTC)
OWNER = "winner@example.com"
ADMIN = "admin@example.com"
OTHER = "other@example.com"


@dataclass
class CertWorld:
    call_id: int
    call_slug: str
    nomination_id: int
    publication_id: int
    certificate_id: int
    code: str


def certified_winner(session: Session, *, code: str = CODE, embargoed: bool = False,
                     revoked_at: datetime | None = None) -> CertWorld:
    """A call decided and published (or, with ``embargoed``, scheduled for tomorrow), with one
    winner in "social" who holds the certificate ``code``."""
    admin = make_account(session, ADMIN, name="Admin Person", admin=True)
    owner = make_account(session, OWNER, name="Gulnur Shahagalieva")
    make_account(session, OTHER, name="Other Applicant")
    call = make_call(session, slug="voy-2025", year=2025, reference_prefix="VOY",
                     title_kk=CALL_TITLE["kk"], title_ru=CALL_TITLE["ru"],
                     title_en=CALL_TITLE["en"], status=CallStatus.CLOSED,
                     opens_at=PUBLISHED_AT - timedelta(days=120),
                     closes_at=PUBLISHED_AT - timedelta(days=60))
    category = next(c for c in call.categories if c.code == "social")
    level = AwardLevel(key="winner", name_kk=AWARD["kk"], name_ru=AWARD["ru"],
                       name_en=AWARD["en"], count=1, position=1)
    category.award_levels.append(level)
    nomination = make_nomination(session, call=call, applicant_id=owner.id,
                                 status=NominationStatus.ELIGIBLE, nominee_name=RECIPIENT,
                                 reference="VOY-2025-00001")
    session.flush()
    decision = Decision(call_id=call.id, category_id=category.id, nomination_id=nomination.id,
                        kind=DecisionKind.AWARD, award_level_id=level.id,
                        decided_by_id=admin.id, decided_at=PUBLISHED_AT - timedelta(days=7))
    session.add(decision)
    if embargoed:
        publication = Publication(call_id=call.id, version=1, status=PublicationStatus.SCHEDULED,
                                  scheduled_for=utcnow() + timedelta(days=1),
                                  created_by_id=admin.id)
    else:
        publication = Publication(call_id=call.id, version=1, status=PublicationStatus.PUBLISHED,
                                  scheduled_for=PUBLISHED_AT, published_at=PUBLISHED_AT,
                                  created_by_id=admin.id)
    session.add(publication)
    session.flush()
    certificate = Certificate(publication_id=publication.id, decision_id=decision.id,
                              nomination_id=nomination.id, code=code, recipient_name=RECIPIENT,
                              award_name=dict(AWARD), issued_at=publication.scheduled_for,
                              revoked_at=revoked_at)
    session.add(certificate)
    session.flush()
    return CertWorld(call.id, call.slug, nomination.id, publication.id, certificate.id, code)


def corrected(session: Session, world: CertWorld, *, code: str, when: datetime) -> int:
    """A correction published at ``when``: the first certificate is revoked and the same
    winner gets a new one in version 2. Returns the new certificate's id."""
    first = session.get(Certificate, world.certificate_id)
    first.publication.status = PublicationStatus.SUPERSEDED
    first.revoked_at = when
    publication = Publication(call_id=world.call_id, version=2,
                              status=PublicationStatus.PUBLISHED, scheduled_for=when,
                              published_at=when, created_by_id=first.publication.created_by_id,
                              note_en="A name was misspelt.")
    session.add(publication)
    session.flush()
    certificate = Certificate(publication_id=publication.id, decision_id=first.decision_id,
                              nomination_id=world.nomination_id, code=code,
                              recipient_name=RECIPIENT, award_name=dict(AWARD), issued_at=when)
    session.add(certificate)
    session.flush()
    return certificate.id


def unsaved_certificate(*, code: str = CODE, category: bool = True) -> Certificate:
    """The same winner as objects that were never saved, for rendering without a database."""
    from awards.calls.models import Call, Category, Programme
    from awards.nominations.models import Nomination

    programme = Programme(slug="nvn", name_kk=PROGRAMME["kk"], name_ru=PROGRAMME["ru"],
                          name_en=PROGRAMME["en"])
    call = Call(programme=programme, slug="voy-2025", year=2025, reference_prefix="VOY",
                title_kk=CALL_TITLE["kk"], title_ru=CALL_TITLE["ru"], title_en=CALL_TITLE["en"],
                timezone="Asia/Almaty")
    section = Category(code="social", name_kk=CATEGORY["kk"], name_ru=CATEGORY["ru"],
                       name_en=CATEGORY["en"]) if category else Category(code="social")
    nomination = Nomination(call=call, category=section, nominee_name=RECIPIENT)
    publication = Publication(call=call, version=1, status=PublicationStatus.PUBLISHED,
                              scheduled_for=PUBLISHED_AT, published_at=PUBLISHED_AT)
    return Certificate(publication=publication, nomination=nomination, code=code,
                       recipient_name=RECIPIENT, award_name=dict(AWARD), issued_at=PUBLISHED_AT)
