"""Decisions on a ranking: advancing entries to the next round, awards with their level limits,
revoking, no changes after publication, and two administrators deciding at once."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from awards.audit import AuditEvent
from awards.enums import CallStatus, DecisionKind
from awards.jury.models import RoundEntry
from awards.ranking.models import Decision
from tests.conftest import csrf_from, login
from tests.factories import arrange, english, read
from tests.ranking_factories import scored_round


@pytest.fixture
def world(app):
    return arrange(app, scored_round)


def page(client, world, method="mean") -> str:
    response = client.get(f"/admin/ranking/rounds/{world.round_id}?method={method}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def digest_of(html: str) -> str:
    match = re.search(r'name="digest" value="([0-9a-f]+)"', html)
    assert match
    return match.group(1)


def digests_of(html: str) -> str:
    match = re.search(r'name="digests" type="hidden" value="([^"]*)"', html)
    assert match, "no digests field"
    return match.group(1)


def next_round_entries(app, world) -> list[int]:
    return read(app, lambda s: sorted(s.scalars(select(RoundEntry.nomination_id).where(
        RoundEntry.round_id == world.next_round_id))))


def audit_actions(app) -> list[str]:
    return read(app, lambda s: list(s.scalars(
        select(AuditEvent.action).where(AuditEvent.action.like("ranking.%"))
        .order_by(AuditEvent.id))))


def active(app, kind=None) -> list[tuple[int, int | None]]:
    def q(s):
        query = select(Decision.nomination_id, Decision.award_level_id).where(
            Decision.revoked_at.is_(None))
        if kind:
            query = query.where(Decision.kind == kind)
        return sorted(s.execute(query.order_by(Decision.id)).all())
    return [tuple(r) for r in read(app, q)]


def award(client, world, html, letter, level, **extra):
    return client.post(f"/admin/ranking/rounds/{world.round_id}/decisions?method=mean", data={
        "csrf_token": csrf_from(html), "nomination_id": world.entries[letter],
        "award_level_id": world.levels[level], "digest": digest_of(html), **extra})


@pytest.mark.parametrize(("method", "top", "expected"), [
    ("mean", 2, ["C", "D"]),
    ("zscore", 2, ["A", "D"]),
    ("mean", 3, ["B", "C", "D"]),
])
def test_advance_top_n_creates_round_entries_and_audit(client, app, world, method, top,
                                                       expected):
    login(client, world.admin_email)
    html = page(client, world, method)
    response = client.post(f"/admin/ranking/rounds/{world.round_id}/advance?method={method}",
                           data={"csrf_token": csrf_from(html), "mode": "top", "top_n": top,
                                 "digests": digests_of(html)})
    assert response.status_code == 303
    assert next_round_entries(app, world) == sorted(world.entries[x] for x in expected)
    assert active(app, DecisionKind.ADVANCE) == sorted((world.entries[x], None)
                                                       for x in expected)
    assert audit_actions(app) == ["ranking.advance"]


def test_advance_chosen_entries_only_those(client, app, world):
    login(client, world.admin_email)
    html = page(client, world)
    response = client.post(f"/admin/ranking/rounds/{world.round_id}/advance", data={
        "csrf_token": csrf_from(html), "mode": "chosen", "digests": digests_of(html),
        "nomination_ids": [world.entries["E"], world.entries["A"]]})
    assert response.status_code == 303
    assert next_round_entries(app, world) == sorted([world.entries["E"], world.entries["A"]])


def test_advance_chosen_without_entries_is_refused(client, app, world):
    login(client, world.admin_email)
    html = page(client, world)
    response = client.post(f"/admin/ranking/rounds/{world.round_id}/advance", data={
        "csrf_token": csrf_from(html), "mode": "chosen", "digests": digests_of(html)})
    assert response.status_code == 400
    assert next_round_entries(app, world) == []


def test_award_decision_recorded_and_audited(client, app, world):
    login(client, world.admin_email)
    response = award(client, world, page(client, world), "C", "gold")
    assert response.status_code == 303
    assert active(app) == [(world.entries["C"], world.levels["gold"])]
    assert audit_actions(app) == ["ranking.decision_award"]


def test_award_level_limit_exceeded_is_refused(client, app, world):
    login(client, world.admin_email)
    english(client)
    assert award(client, world, page(client, world), "C", "gold").status_code == 303
    response = award(client, world, page(client, world), "D", "gold")
    assert response.status_code == 400
    assert "can be awarded 1 time in this category" in response.get_data(as_text=True)
    assert active(app) == [(world.entries["C"], world.levels["gold"])]


def test_award_laureate_allows_two(client, app, world):
    login(client, world.admin_email)
    assert award(client, world, page(client, world), "C", "laureate").status_code == 303
    assert award(client, world, page(client, world), "D", "laureate").status_code == 303
    assert award(client, world, page(client, world), "B", "laureate").status_code == 400
    assert len(active(app)) == 2


def test_award_changing_level_replaces_previous(client, app, world):
    login(client, world.admin_email)
    assert award(client, world, page(client, world), "C", "laureate").status_code == 303
    assert award(client, world, page(client, world), "C", "gold").status_code == 303
    assert active(app) == [(world.entries["C"], world.levels["gold"])]
    assert audit_actions(app) == ["ranking.decision_award", "ranking.decision_revoke",
                                  "ranking.decision_award"]


def test_revoke_decision_frees_the_level(client, app, world):
    login(client, world.admin_email)
    assert award(client, world, page(client, world), "C", "gold").status_code == 303
    decision_id = read(app, lambda s: s.scalar(select(Decision.id)))
    html = page(client, world)
    response = client.post(
        f"/admin/ranking/rounds/{world.round_id}/decisions/{decision_id}/revoke",
        data={"csrf_token": csrf_from(html), "digest": digest_of(html)})
    assert response.status_code == 303
    assert active(app) == []
    assert read(app, lambda s: s.scalar(select(func.count(Decision.id)))) == 1  # kept, revoked
    assert award(client, world, page(client, world), "D", "gold").status_code == 303
    assert active(app) == [(world.entries["D"], world.levels["gold"])]


def test_revoke_advance_removes_unjudged_entry_from_next_round(client, app, world):
    login(client, world.admin_email)
    html = page(client, world)
    client.post(f"/admin/ranking/rounds/{world.round_id}/advance", data={
        "csrf_token": csrf_from(html), "mode": "chosen", "digests": digests_of(html),
        "nomination_ids": [world.entries["A"]]})
    decision_id = read(app, lambda s: s.scalar(select(Decision.id)))
    html = page(client, world)
    response = client.post(
        f"/admin/ranking/rounds/{world.round_id}/decisions/{decision_id}/revoke",
        data={"csrf_token": csrf_from(html), "digest": digest_of(html)})
    assert response.status_code == 303
    assert next_round_entries(app, world) == []


@pytest.mark.parametrize("status", [CallStatus.PUBLISHED, CallStatus.ARCHIVED])
def test_decisions_after_publication_conflict(client, app, world, status):
    login(client, world.admin_email)
    english(client)
    assert award(client, world, page(client, world), "C", "gold").status_code == 303
    decision_id = read(app, lambda s: s.scalar(select(Decision.id)))
    html = page(client, world)

    def publish(session):
        from awards.calls.models import Call

        session.get(Call, world.call_id).status = status

    arrange(app, publish)
    response = award(client, world, html, "D", "laureate")
    assert response.status_code == 409
    assert "are published" in response.get_data(as_text=True)
    response = client.post(
        f"/admin/ranking/rounds/{world.round_id}/decisions/{decision_id}/revoke",
        data={"csrf_token": csrf_from(html), "digest": digest_of(html)})
    assert response.status_code == 409
    response = client.post(f"/admin/ranking/rounds/{world.round_id}/advance", data={
        "csrf_token": csrf_from(html), "mode": "top", "top_n": 1, "digests": digests_of(html)})
    assert response.status_code == 409
    assert active(app) == [(world.entries["C"], world.levels["gold"])]


def test_two_admins_deciding_at_once_second_gets_conflict(client, app, world):
    from tests.jury_factories import make_account

    arrange(app, lambda s: make_account(s, "admin2@example.com", admin=True))
    other = app.test_client()
    login(client, world.admin_email)
    login(other, "admin2@example.com")
    english(other)
    first_page = page(client, world)
    second_page = page(other, world)  # both loaded the same state
    assert award(client, world, first_page, "C", "gold").status_code == 303
    response = award(other, world, second_page, "D", "laureate")
    assert response.status_code == 409
    assert "Another administrator changed the decisions" in response.get_data(as_text=True)
    assert active(app) == [(world.entries["C"], world.levels["gold"])]


def test_stale_revoke_is_conflict(client, app, world):
    login(client, world.admin_email)
    assert award(client, world, page(client, world), "C", "gold").status_code == 303
    decision_id = read(app, lambda s: s.scalar(select(Decision.id)))
    html = page(client, world)
    assert award(client, world, html, "D", "laureate").status_code == 303
    response = client.post(
        f"/admin/ranking/rounds/{world.round_id}/decisions/{decision_id}/revoke",
        data={"csrf_token": csrf_from(html), "digest": digest_of(html)})
    assert response.status_code == 409
    assert len(active(app)) == 2
