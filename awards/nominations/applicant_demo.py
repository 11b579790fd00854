"""The demo applicant's own nominations, added by ``flask awards seed`` after the demo calls.

applicant@example.com holds three nominations in this year's open "Volunteer of the Year": a
self-nomination still a draft, a nomination of another volunteer submitted a few days ago and
waiting for screening, and one the screening sent back with changes requested (the reason is
on its page), so "My nominations" shows each state a newcomer meets.

Written as rows with their timeline and versions, not through the services: demo data is
nobody's action, so it leaves the audit log and the outbox alone."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from awards.auth.models import User
from awards.calls.models import Call
from awards.demo import ADMIN, APPLICANT, today, voy_slug
from awards.enums import NominationStatus, NominatorKind
from awards.nominations.models import (
    Answer,
    Attachment,
    Nomination,
    NominationVersion,
    StatusChange,
)
from awards.nominations.reading import snapshot

CHANGES_REASON = (
    "Добавьте, пожалуйста, подтверждающие документы: письмо акимата или публикацию в СМИ о "
    "субботниках, которые вы называете в описании.")

# (category, kind, nominee columns, answers, photo colour)
DRAFT = ("youth", NominatorKind.SELF, {"nominee_name": "Асель Жумабекова"},
         {"region": "almaty-city", "years_volunteering": 4}, None)
SUBMITTED = ("social", NominatorKind.OTHER,
             {"nominee_name": "Гульнара Токтарова",
              "nominee_email": "gulnara.toktarova@example.org",
              "nominee_phone": "+7 701 555 12 34"},
             {"region": "almaty-city", "years_volunteering": 7,
              "activity": "Семь лет организует доставку продуктов и лекарств одиноким пожилым "
                          "людям Алматы: 60 волонтёров, 240 подопечных каждую неделю.",
              "link": "https://example.org/gulnara-toktarova", "consent": True},
             (190, 120, 60))
CHANGES = ("environment", NominatorKind.OTHER,
           {"nominee_name": "Ержан Сапаров", "nominee_email": "yerzhan.saparov@example.org",
            "nominee_phone": "+7 777 210 44 90"},
           {"region": "east-kazakhstan", "years_volunteering": 3,
            "activity": "Собрал команду из 35 школьников, которая за три года очистила берега "
                        "Иртыша в Усть-Каменогорске: 18 субботников, 12 тонн мусора.",
            "consent": True},
           (60, 140, 110))


def _nomination(session: Session, call: Call, applicant: User, spec, created: datetime
                ) -> Nomination:
    code, kind, columns, answers, colour = spec
    fields = {f.key: f for f in call.fields}
    nomination = Nomination(
        call=call, category=next(c for c in call.categories if c.code == code),
        applicant_id=applicant.id, nominator_kind=kind, status=NominationStatus.DRAFT,
        nominee_consent_required=call.requires_nominee_consent, created_at=created,
        updated_at=created, **columns)
    for key, value in answers.items():
        nomination.answers.append(Answer(field=fields[key], value=value))
    session.add(nomination)
    session.flush()
    if colour is not None:
        from awards.results.demo import placeholder_photo
        from awards.storage import path_for

        name, content_type = placeholder_photo(colour)
        data = path_for(name).read_bytes()
        session.add(Attachment(nomination_id=nomination.id, field_id=fields["photo"].id,
                               original_name="photo.png", stored_name=name,
                               content_type=content_type, size=len(data),
                               sha256=hashlib.sha256(data).hexdigest(), uploaded_at=created,
                               uploaded_by_id=applicant.id))
        session.flush()
        session.refresh(nomination, ["attachments"])
    return nomination


def _submit(session: Session, nomination: Nomination, applicant: User, at: datetime) -> None:
    from awards.nominations.services import next_reference

    nomination.reference = next_reference(session=session, call=nomination.call)
    nomination.submitted_at = at
    nomination.updated_at = at
    _status(session, nomination, NominationStatus.SUBMITTED, applicant, at)
    session.add(NominationVersion(
        nomination=nomination, number=len(nomination.versions) + 1, created_at=at,
        author_id=applicant.id,
        snapshot=snapshot(nomination, version=len(nomination.versions) + 1,
                          personal_data_consent=True, submitted_at=at.isoformat())))
    session.flush()


def _status(session: Session, nomination: Nomination, to: NominationStatus, actor: User,
            at: datetime, reason: str = "") -> None:
    session.add(StatusChange(nomination=nomination, from_status=nomination.status, to_status=to,
                             actor_id=actor.id, reason=reason, created_at=at))
    nomination.status = to


def seed(session: Session, now: datetime) -> bool:
    """Create whatever part of this feature's demo is missing; True if anything was created."""
    call = session.scalar(select(Call).where(Call.slug == voy_slug(today(now).year)))
    users = {u.email: u for u in session.scalars(select(User).where(
        User.email.in_([ADMIN, APPLICANT])))}
    if call is None or len(users) < 2:
        return False
    applicant, admin = users[APPLICANT], users[ADMIN]
    has_any = session.scalar(select(Nomination.id).where(
        Nomination.call_id == call.id, Nomination.applicant_id == applicant.id).limit(1))
    if has_any is not None:
        return False

    _nomination(session, call, applicant, DRAFT, now - timedelta(days=2, hours=5))

    submitted = _nomination(session, call, applicant, SUBMITTED, now - timedelta(days=9))
    _submit(session, submitted, applicant, now - timedelta(days=6, hours=4))

    sent_back = _nomination(session, call, applicant, CHANGES, now - timedelta(days=16))
    _submit(session, sent_back, applicant, now - timedelta(days=14, hours=2))
    sent_back.nominee_consent_at = now - timedelta(days=13)
    at = now - timedelta(days=3, hours=6)
    _status(session, sent_back, NominationStatus.CHANGES_REQUESTED, admin, at, CHANGES_REASON)
    sent_back.screening_reason = CHANGES_REASON
    sent_back.updated_at = at
    session.flush()
    return True
