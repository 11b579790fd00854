"""Public stage data written straight to the database: a call after screening with eligible
entries, its public stage, verified voters and their votes, and a way to act as a voter.

Helpers take the session and flush; tests commit through ``tests.factories.arrange``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from awards.calls.models import Call
from awards.db import utcnow
from awards.enums import CallStatus, StageKind, VoteTieRule
from awards.nominations.models import Nomination
from awards.public_stage.models import PublicStage, PublicVote, StageEntry, Voter
from awards.public_stage.voters import SESSION_KEY
from tests.factories import field_of, make_call, png_bytes
from tests.jury_factories import make_account, make_entry

SLUG = "voy-2026"


def stage_call(session: Session, **overrides: Any) -> Call:
    """A call whose nominations closed and were screened; "title" and "activity" are public."""
    now = utcnow()
    values: dict[str, Any] = {"opens_at": now - timedelta(days=60),
                              "closes_at": now - timedelta(days=30),
                              "status": CallStatus.PUBLIC_STAGE, "has_public_stage": True}
    values.update(overrides)
    call = make_call(session, **values)
    for key in ("title", "activity", "photo"):
        field_of(call, key).is_public = True
    session.flush()
    return call


def make_stage(session: Session, call: Call, *, entries: list[Nomination] | None = None,
               opens_at: datetime | None = None, closes_at: datetime | None = None,
               **overrides: Any) -> PublicStage:
    now = utcnow()
    values: dict[str, Any] = {"kind": StageKind.VOTE, "advance_per_category": 2,
                              "tie_rule": VoteTieRule.INCLUDE_ALL, "votes_changeable": True,
                              "show_counts_to_jury": True}
    values.update(overrides)
    stage = PublicStage(call=call, opens_at=opens_at or now - timedelta(days=1),
                        closes_at=closes_at or now + timedelta(days=9), **values)
    session.add(stage)
    session.flush()
    for nomination in entries or []:
        session.add(StageEntry(stage=stage, nomination_id=nomination.id,
                               category_id=nomination.category_id))
    session.flush()
    return stage


def make_voter(session: Session, email: str, *, verified: bool = True) -> Voter:
    voter = Voter(email=email, email_domain=email.rpartition("@")[2],
                  verified_at=utcnow() if verified else None)
    session.add(voter)
    session.flush()
    return voter


def add_vote(session: Session, stage: PublicStage, voter: Voter, nomination: Nomination,
             **columns: Any) -> PublicVote:
    vote = PublicVote(stage=stage, category_id=nomination.category_id, voter=voter,
                      nomination_id=nomination.id, **columns)
    session.add(vote)
    session.flush()
    return vote


def add_photo(session: Session, nomination: Nomination):
    import secrets

    from awards.nominations.models import Attachment
    from awards.storage import path_for

    data = png_bytes()
    stored = secrets.token_hex(16) + ".png"
    path = path_for(stored)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    attachment = Attachment(nomination=nomination, field=field_of(nomination.call, "photo"),
                            original_name="face.png", stored_name=stored,
                            content_type="image/png", size=len(data), sha256="0" * 64)
    session.add(attachment)
    session.flush()
    return attachment


@dataclass
class World:
    call_id: int
    stage_id: int
    # {reference: nomination id}, in creation order: social S1..S3, ecology E1..E2.
    refs: dict[str, int] = field(default_factory=dict)
    admin_email: str = "admin@example.com"

    @property
    def references(self) -> list[str]:
        return list(self.refs)


NAMES = {"social": ["Aigerim Sadykova", "Bolat Nurlanov", "Dana Ospanova"],
         "ecology": ["Steppe Guardians", "Clean Lakes"]}


def public_world(session: Session, *, photo: bool = False, **stage_overrides: Any) -> World:
    """A call with five eligible entries (three social, two ecology) all in an open vote."""
    admin = make_account(session, "admin@example.com", admin=True)
    applicant = make_account(session, "applicant@example.com")
    call = stage_call(session)
    nominations = []
    start = utcnow() - timedelta(days=40)
    for category, names in NAMES.items():
        for name in names:
            n = make_entry(session, call, applicant=applicant, category=category,
                           nominee_name=name, with_files=False,
                           submitted_at=start + timedelta(hours=len(nominations)))
            nominations.append(n)
    if photo:
        add_photo(session, nominations[0])
    stage = make_stage(session, call, entries=nominations, **stage_overrides)
    world = World(call_id=call.id, stage_id=stage.id, admin_email=admin.email)
    world.refs = {n.reference: n.id for n in nominations}
    return world


def act_as_voter(client, voter_id: int) -> None:
    """What a successful verification leaves in the session."""
    with client.session_transaction() as sess:
        sess[SESSION_KEY] = voter_id
        sess.permanent = True
