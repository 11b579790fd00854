"""The world the authorisation matrix runs against: one of everything a route can point at, and
one account (and API token) per role, built once per test module and committed.

``build_world(session, app)`` returns plain ids, names and secrets (usable after the session is
gone). Every object a state-changing route of the matrix may delete or alter when an allowed
role posts to it has a spare copy of its own (a spare panel member, conflict, assignment, token,
decision...), so the "allowed" posts leave the objects the other cases read untouched."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from awards.calls.models import AwardLevel
from awards.db import utcnow
from awards.enums import (
    AnnouncementStatus,
    CallStatus,
    CommentStatus,
    DecisionKind,
    JurorStatus,
    NominationStatus,
    RoundStatus,
)
from awards.jury.models import JuryMember, RoundEntry
from awards.public_stage.models import StageComment
from awards.ranking.models import Decision
from awards.results import services as results
from awards.results.models import Certificate, Citation
from tests.announcements_factories import attach_image, make_announcement, store_image
from tests.api_factories import expire, make_token
from tests.factories import field_of, make_call, png_bytes
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
from tests.public_stage_factories import add_photo, add_vote, make_stage, make_voter, stage_call
from tests.results_factories import store_photo
from tests.screening_factories import add_attachment
from tests.screening_factories import make_nomination as submitted_nomination

# The roles of the pages; the API adds two tokens that must not work.
ROLES = ("visitor", "applicant", "other_applicant", "juror", "conflicted_juror", "chair",
         "admin")
API_ROLES = (*ROLES, "expired_token", "revoked_token")

EMAILS = {
    "applicant": "applicant@example.com",
    "other_applicant": "other@example.com",
    "juror": "juror@example.com",
    "conflicted_juror": "conflicted@example.com",
    "chair": "chair@example.com",
    "admin": "admin@example.com",
}
INVITATION_TOKEN = "matrix-invitation-token-for-a-juror-not-yet-signed-up"


@dataclass
class MatrixWorld:
    # the open call: the applicant's submitted nomination and another applicant's
    open_slug: str = ""
    open_call_id: int = 0
    programme_id: int = 0
    open_category_id: int = 0
    field_id: int = 0
    spare_field_id: int = 0  # deleted by the "allowed" post of form_field_delete
    spare_category_id: int = 0  # of the open call; deleted by category_delete
    own_nomination_id: int = 0
    own_attachment_id: int = 0
    own_reference: str = ""
    other_nomination_id: int = 0
    # the call being judged
    jury_slug: str = ""
    jury_call_id: int = 0
    jury_category_id: int = 0
    level_id: int = 0
    spare_level_id: int = 0  # no decision refers to it; deleted by award_level_delete
    round_id: int = 0
    criterion_id: int = 0
    panel_id: int = 0
    entry_id: int = 0
    entry_attachment_id: int = 0
    juror_assignment_id: int = 0
    conflicted_assignment_id: int = 0
    chair_assignment_id: int = 0
    spare_assignment_id: int = 0
    spare_member_id: int = 0
    spare_conflict_id: int = 0
    decision_id: int = 0
    spare_decision_id: int = 0
    scheduled_version: int = 2
    # published results with a certificate and a winner's photo
    results_slug: str = ""
    results_call_id: int = 0
    certificate_code: str = ""
    certificate_shown: str = ""  # with dashes, as the page's canonical address has it
    winner_nomination_id: int = 0
    photo_name: str = ""
    # the public stage
    stage_slug: str = ""
    stage_call_id: int = 0
    stage_reference: str = ""
    comment_id: int = 0
    vote_id: int = 0
    # news
    announcement_id: int = 0
    announcement_slug: str = ""
    image_id: int = 0
    image_name: str = ""
    spare_announcement_id: int = 0  # deleted by announcements_admin.delete
    # accounts and API tokens
    user_ids: dict[str, int] = field(default_factory=dict)
    secrets: dict[str, str | None] = field(default_factory=dict)
    spare_token_id: int = 0  # one of the applicant's tokens, for the revoke button


def _token_id(session: Session, secret: str) -> int:
    from sqlalchemy import select

    from awards.api import tokens
    from awards.api.models import ApiToken

    return session.scalar(select(ApiToken.id).where(
        ApiToken.token_hash == tokens.hash_secret(secret)))


def build_world(session: Session, app) -> MatrixWorld:
    w = MatrixWorld()
    users = {role: make_account(session, email, name=role.replace("_", " ").title(),
                                admin=(role == "admin"))
             for role, email in EMAILS.items()}
    applicant, other = users["applicant"], users["other_applicant"]
    juror, conflicted, chair, admin = (users["juror"], users["conflicted_juror"], users["chair"],
                                       users["admin"])
    w.user_ids = {role: u.id for role, u in users.items()}
    now = utcnow()

    # ---- an open call: the applicant's submitted nomination and another applicant's ----
    open_call = make_call(session, slug="voy-2026")
    w.open_slug, w.open_call_id, w.programme_id = open_call.slug, open_call.id, \
        open_call.programme_id
    w.open_category_id = open_call.categories[0].id
    w.field_id = field_of(open_call, "website").id
    w.spare_field_id = field_of(open_call, "contact_phone").id
    w.spare_category_id = next(c.id for c in open_call.categories if c.code == "ecology")
    own = submitted_nomination(session, call=open_call, applicant=applicant,
                               status=NominationStatus.SUBMITTED, reference="VOY-2026-00001")
    w.own_nomination_id, w.own_reference = own.id, own.reference
    w.own_attachment_id = add_attachment(session, own, name="letter.pdf").id
    theirs = submitted_nomination(session, call=open_call, applicant=other,
                                  status=NominationStatus.SUBMITTED, reference="VOY-2026-00002",
                                  nominee_name="Someone Else")
    w.other_nomination_id = theirs.id

    # ---- a call being judged: juror assigned, conflicted juror, chair ----
    call = judging_call(session, slug="jury-2026", reference_prefix="JRY", title_en="Jury call")
    w.jury_slug, w.jury_call_id = call.slug, call.id
    rubric = make_rubric(session, call)
    w.criterion_id = next(c.id for c in rubric.criteria if c.key == "scale")
    panel = make_panel(session, call, [(juror, False), (conflicted, False), (chair, True)])
    w.panel_id = panel.id
    spare_member = JuryMember(email="newjuror@example.com", is_chair=False,
                              status=JurorStatus.INVITED,
                              invite_token_hash=hashlib.sha256(
                                  INVITATION_TOKEN.encode()).hexdigest())
    panel.members.append(spare_member)
    session.flush()
    w.spare_member_id = spare_member.id
    round_ = make_round(session, call, rubric=rubric, panel=panel, status=RoundStatus.OPEN)
    w.round_id = round_.id
    entry = make_entry(session, call, applicant=applicant)
    w.entry_id = entry.id
    w.entry_attachment_id = next(a.id for a in entry.attachments
                                 if a.field is not None and a.field.key == "documents")
    second = make_entry(session, call, applicant=other, nominee_name="Second Entry",
                        with_files=False)
    for nomination in (entry, second):
        session.add(RoundEntry(round_id=round_.id, nomination_id=nomination.id))
    w.juror_assignment_id = assign(session, round_, entry, juror).id
    w.conflicted_assignment_id = assign(session, round_, entry, conflicted).id
    w.chair_assignment_id = assign(session, round_, entry, chair).id
    w.spare_assignment_id = assign(session, round_, second, chair).id
    add_conflict(session, conflicted, entry)
    w.spare_conflict_id = add_conflict(session, chair, second).id
    category = next(c for c in call.categories if c.code == "social")
    w.jury_category_id = category.id
    gold = AwardLevel(key="gold", name_en="Winner", name_ru="Победитель", name_kk="Жеңімпаз",
                      count=1, position=1)
    laureate = AwardLevel(key="laureate", name_en="Laureate", name_ru="Лауреат",
                          name_kk="Лауреат", count=2, position=2)
    spare = AwardLevel(key="honour", name_en="Honour", name_ru="Почёт", name_kk="Құрмет",
                       count=1, position=3)
    category.award_levels.extend([gold, laureate, spare])
    session.flush()
    w.level_id, w.spare_level_id = gold.id, spare.id
    decisions = [Decision(call_id=call.id, category_id=category.id, round_id=round_.id,
                          nomination_id=n.id, kind=DecisionKind.AWARD, award_level_id=level.id,
                          decided_by_id=admin.id, decided_at=now - timedelta(days=2))
                 for n, level in ((entry, gold), (second, laureate))]
    session.add_all(decisions)
    session.flush()
    w.decision_id, w.spare_decision_id = decisions[0].id, decisions[1].id
    # ---- published results with a certificate and a photo, the applicant's win ----
    results_call = make_call(session, slug="voy-2025", year=2025, reference_prefix="VYR",
                             title_en="Volunteer of the Year 2025",
                             status=CallStatus.DELIBERATION,
                             opens_at=now - timedelta(days=120),
                             closes_at=now - timedelta(days=60))
    w.results_slug, w.results_call_id = results_call.slug, results_call.id
    winner_category = next(c for c in results_call.categories if c.code == "social")
    winner_level = AwardLevel(key="winner", name_en="Winner", name_ru="Победитель",
                              name_kk="Жеңімпаз", count=1, position=1)
    winner_category.award_levels.append(winner_level)
    winner = submitted_nomination(session, call=results_call, applicant=applicant,
                                  category=winner_category, status=NominationStatus.ELIGIBLE,
                                  reference="VYR-2025-00001")
    w.winner_nomination_id = winner.id
    session.add(Decision(call_id=results_call.id, category_id=winner_category.id,
                         nomination_id=winner.id, kind=DecisionKind.AWARD,
                         award_level_id=winner_level.id, decided_by_id=admin.id,
                         decided_at=now - timedelta(days=10)))
    w.photo_name = store_photo()
    session.add(Citation(nomination_id=winner.id, text_en="For twelve rivers.",
                         text_ru="За двенадцать рек.", text_kk="Он екі өзен үшін.",
                         photo_name=w.photo_name, photo_content_type="image/png"))
    session.flush()
    # Version 1 public now (with its certificate); a correction scheduled as version 2.
    results.publish(session=session, actor=admin, call=results_call, scheduled_for=None,
                    token=None)
    results.open_correction(session=session, actor=admin, call=results_call,
                            reason="A name was misspelt.", token=None)
    results.publish(session=session, actor=admin, call=results_call,
                    scheduled_for=utcnow() + timedelta(days=3),
                    notes={"kk": "Түзету", "ru": "Исправление", "en": "Correction"}, token=None)
    w.certificate_code = session.scalar(
        select(Certificate.code).where(Certificate.nomination_id == winner.id)
        .order_by(Certificate.id))
    w.certificate_shown = results.format_code(w.certificate_code)

    # ---- a public vote, with a comment and a vote ----
    stage_call_ = stage_call(session, slug="pub-2026", reference_prefix="PUB", year=2026)
    w.stage_slug, w.stage_call_id = stage_call_.slug, stage_call_.id
    candidate = make_entry(session, stage_call_, applicant=other, with_files=False)
    add_photo(session, candidate)
    w.stage_reference = candidate.reference
    stage = make_stage(session, stage_call_, entries=[candidate])
    voter = make_voter(session, "voter@example.org")
    w.vote_id = add_vote(session, stage, voter, candidate).id
    comment = StageComment(stage=stage, nomination_id=candidate.id, voter=voter,
                           author_name="Voter", body="Well deserved.",
                           status=CommentStatus.APPROVED)
    session.add(comment)
    session.flush()
    w.comment_id = comment.id

    # ---- news with an image ----
    post = make_announcement(session, slug="matrix-news", status=AnnouncementStatus.PUBLISHED)
    w.announcement_id, w.announcement_slug = post.id, post.slug
    w.image_name = store_image(app, png_bytes((8, 8)))
    w.image_id = attach_image(session, post, w.image_name).id
    w.spare_announcement_id = make_announcement(session, slug="matrix-spare",
                                                status=AnnouncementStatus.DRAFT).id

    # ---- API tokens: one per role, an expired and a revoked one, a spare to revoke ----
    w.secrets = {role: make_token(session, user) for role, user in users.items()}
    w.secrets["visitor"] = None
    expired = make_token(session, applicant, name="old", expires_in=timedelta(days=1))
    expire(session, expired)
    w.secrets["expired_token"] = expired
    w.secrets["revoked_token"] = make_token(session, applicant, name="gone", revoked=True)
    w.spare_token_id = _token_id(session, make_token(session, applicant, name="spare"))
    return w
