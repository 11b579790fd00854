from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from awards.auth.models import User
from awards.calls.models import AwardLevel, Call, Category, FormField, Programme
from awards.db import utcnow
from awards.demo import ABAI_SLUG, ADMIN, DEMO_PASSWORD, VOY_SLUG, seed_demo
from awards.enums import CallStatus, NominatorKind
from awards.jury.models import JuryMember, Round
from tests.conftest import login


def _counts(session) -> dict[str, int]:
    return {
        model.__name__: session.scalar(select(func.count()).select_from(model))
        for model in (User, Programme, Call, Category, AwardLevel, FormField, Round, JuryMember)
    }


def test_seed_demo_twice_creates_the_data_once(db):
    assert seed_demo(db) is True
    db.commit()
    first = _counts(db)

    assert seed_demo(db) is False
    db.commit()

    assert _counts(db) == first
    # The two demo calls, last year's edition with published results, a small call in its
    # public vote, and the Abai prize's final stage with its commission of nine.
    assert first == {"User": 16, "Programme": 2, "Call": 5, "Category": 29, "AwardLevel": 45,
                     "FormField": 19, "Round": 3, "JuryMember": 14}


def test_seed_demo_volunteer_call_is_open_until_the_end_of_30_november_in_almaty(db):
    seed_demo(db)
    db.commit()
    db.expire_all()
    call = db.scalar(select(Call).where(Call.slug == VOY_SLUG))

    # Fixed dates: before the deadline the call is open, after it closed, as the lifecycle's
    # clock would have moved it.
    assert call.status == (CallStatus.OPEN if utcnow() <= call.closes_at else CallStatus.CLOSED)
    assert call.reference_prefix == "VOY"
    assert call.opens_at == datetime(2026, 9, 30, 19, 0, 0, tzinfo=UTC)
    assert call.closes_at == datetime(2026, 11, 30, 18, 59, 59, tzinfo=UTC)
    assert call.opens_at.tzinfo == UTC
    assert call.is_open_at(call.closes_at) is (call.status == CallStatus.OPEN)
    assert call.has_closed_at(call.closes_at) is False
    assert sorted(call.allowed_nominator_kinds) == ["organisation", "other", "self"]
    assert [c.position for c in call.categories] == list(range(1, 16))
    assert [level.key for level in call.categories[0].award_levels] == ["winner",
                                                                        "special-mention"]
    assert [r.name_en for r in call.rounds] == ["Long list", "Final"]
    rubric = call.rounds[0].rubric
    assert [(c.key, c.weight) for c in rubric.criteria] == [
        ("impact", 0.4), ("scale", 0.2), ("innovation", 0.2), ("sustainability", 0.2)]
    members = call.panels[0].members
    assert next((m.email, m.is_chair, m.is_active) for m in members) == (
        "jury1@example.com", True, True)
    assert all(m.user_id is not None for m in members)


def test_seed_demo_abai_call_takes_organisation_nominations_only(db):
    seed_demo(db)
    db.commit()
    call = db.scalar(select(Call).where(Call.slug == ABAI_SLUG))

    assert call.allowed_nominator_kinds == [NominatorKind.ORGANISATION]
    assert call.accepts_nominator(NominatorKind.SELF) is False
    assert [c.code for c in call.categories] == [
        "literature", "cinema", "music", "theatre", "architecture", "fine-arts"]
    assert [f.key for f in call.fields] == [
        "work_title", "authors", "publisher", "year", "description", "works"]


def test_seed_demo_admin_can_log_in(app, db, client):
    seed_demo(db)
    db.commit()

    response = login(client, ADMIN, DEMO_PASSWORD)

    assert response.status_code == 302
