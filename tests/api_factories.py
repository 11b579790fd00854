"""A world for the API tests: every role, an open call with drafts, a judging round with a
conflict, a publication and news, and API tokens (usable, expired, revoked).

``api_world(session)`` returns plain ids and token secrets, usable after the session is gone;
commit through ``tests.factories.arrange``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.orm import Session

from awards.announcements.models import Announcement
from awards.api import tokens
from awards.calls.models import AwardLevel
from awards.db import utcnow
from awards.enums import AnnouncementStatus, PublicationStatus, RoundStatus
from awards.jury.models import RoundEntry
from awards.results.models import Publication
from tests.factories import make_call, make_nomination
from tests.jury_factories import (
    add_conflict,
    assign,
    judging_call,
    make_account,
    make_entry,
    make_panel,
    make_round,
    make_rubric,
)

ROLES = ("anonymous", "applicant", "other_applicant", "juror", "conflicted_juror", "chair",
         "admin", "expired_token", "revoked_token")


def bearer(secret: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"} if secret else {}


def make_token(session: Session, user, *, name: str = "script",
               expires_in: timedelta | None = None, revoked: bool = False) -> str:
    now = utcnow()
    created = tokens.create_token(session=session, user=user, name=name,
                                  expires_at=now + expires_in if expires_in else None, now=now)
    if revoked:
        tokens.revoke_token(session=session, user=user, token=created.token)
    return created.secret


def expire(session: Session, secret: str) -> None:
    from sqlalchemy import select

    from awards.api.models import ApiToken

    token = session.scalar(select(ApiToken).where(
        ApiToken.token_hash == tokens.hash_secret(secret)))
    token.expires_at = utcnow() - timedelta(minutes=1)
    session.flush()


@dataclass
class ApiWorld:
    open_slug: str
    jury_slug: str
    own_nomination_id: int
    other_nomination_id: int
    entry_id: int
    round_id: int
    juror_assignment_id: int
    conflicted_assignment_id: int
    level_id: int
    announcement_slug: str
    future_announcement_slug: str
    user_ids: dict[str, int] = field(default_factory=dict)
    secrets: dict[str, str | None] = field(default_factory=dict)

    def headers(self, role: str) -> dict[str, str]:
        return bearer(self.secrets.get(role))


def api_world(session: Session, *, blind: bool = False) -> ApiWorld:
    admin = make_account(session, "admin@example.com", name="Admin Person", admin=True)
    applicant = make_account(session, "applicant@example.com", name="Applicant Person")
    other = make_account(session, "other@example.com", name="Other Applicant")
    juror = make_account(session, "juror@example.com", name="Juror One")
    conflicted = make_account(session, "conflicted@example.com", name="Juror Conflicted")
    chair = make_account(session, "chair@example.com", name="Chair Person")

    open_call = make_call(session, slug="voy-2026")
    own = make_nomination(session, call=open_call, applicant_id=applicant.id,
                          nominee_name="Aigerim Sadykova")
    theirs = make_nomination(session, call=open_call, applicant_id=other.id,
                             nominee_name="Someone Else")

    call = judging_call(session, slug="jury-2026", reference_prefix="JRY", title_en="Jury call")
    rubric = make_rubric(session, call)
    panel = make_panel(session, call, [(juror, False), (conflicted, False), (chair, True)])
    round_ = make_round(session, call, rubric=rubric, panel=panel, status=RoundStatus.OPEN,
                        blind=blind)
    entry = make_entry(session, call, applicant=applicant, with_files=False)
    session.add(RoundEntry(round_id=round_.id, nomination_id=entry.id))
    mine = assign(session, round_, entry, juror)
    theirs_assignment = assign(session, round_, entry, conflicted)
    assign(session, round_, entry, chair)
    add_conflict(session, conflicted, entry)
    category = next(c for c in call.categories if c.code == "social")
    level = AwardLevel(key="gold", name_en="Winner", name_ru="Победитель", name_kk="Жеңімпаз",
                       count=1, position=1)
    category.award_levels.append(level)

    now = utcnow()
    session.add_all([
        Publication(call=call, version=1, status=PublicationStatus.PUBLISHED,
                    scheduled_for=now - timedelta(days=1), published_at=now - timedelta(days=1),
                    snapshot={"categories": [{"code": "social", "winners": []}]},
                    created_by_id=admin.id),
        Publication(call=call, version=2, status=PublicationStatus.SCHEDULED,
                    scheduled_for=now + timedelta(days=3), note_en="Correction",
                    snapshot={"categories": []}, created_by_id=admin.id),
        Announcement(slug="winners-2026", title_en="Winners", title_ru="Победители",
                     body_en="**Congratulations**", status=AnnouncementStatus.PUBLISHED,
                     publish_at=now - timedelta(hours=1), call=call),
        Announcement(slug="ceremony", title_en="Ceremony", status=AnnouncementStatus.SCHEDULED,
                     publish_at=now + timedelta(days=2)),
    ])
    session.flush()

    users = {"applicant": applicant, "other_applicant": other, "juror": juror,
             "conflicted_juror": conflicted, "chair": chair, "admin": admin}
    world = ApiWorld(
        open_slug=open_call.slug, jury_slug=call.slug, own_nomination_id=own.id,
        other_nomination_id=theirs.id, entry_id=entry.id, round_id=round_.id,
        juror_assignment_id=mine.id, conflicted_assignment_id=theirs_assignment.id,
        level_id=level.id, announcement_slug="winners-2026",
        future_announcement_slug="ceremony",
        user_ids={role: user.id for role, user in users.items()},
    )
    world.secrets = {role: make_token(session, user) for role, user in users.items()}
    world.secrets["anonymous"] = None
    expired = make_token(session, applicant, name="old", expires_in=timedelta(days=1))
    expire(session, expired)
    world.secrets["expired_token"] = expired
    world.secrets["revoked_token"] = make_token(session, applicant, name="gone", revoked=True)
    return world
