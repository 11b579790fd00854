"""Rankings and decisions through the API."""

from __future__ import annotations

from sqlalchemy import select

from awards.audit import AuditEvent
from awards.calls.models import Call
from awards.enums import CallStatus
from awards.jury.models import Round
from tests.api_factories import api_world, bearer
from tests.factories import arrange, read
from tests.ranking_factories import scored_round


def _ranked_world(session):
    from awards.auth.models import User
    from tests.api_factories import make_token

    world = scored_round(session)
    admin = session.scalar(select(User).where(User.email == world.admin_email))
    chair = session.scalar(select(User).where(User.email == world.chair_email))
    return world, make_token(session, admin), make_token(session, chair)


def test_ranking_lists_every_entry_by_rank_for_admin_and_chair(client, app):
    world, admin_secret, chair_secret = arrange(app, _ranked_world)
    response = client.get(f"/api/v1/rounds/{world.round_id}/ranking?method=median",
                          headers=bearer(admin_secret))
    assert response.status_code == 200
    body = response.get_json()
    assert body["method"] == "median"
    entries = body["categories"][0]["entries"]
    assert sorted(e["nomination"]["id"] for e in entries) == sorted(world.entries.values())
    assert [e["rank"] for e in entries] == sorted(e["rank"] for e in entries)
    by_id = {e["nomination"]["id"]: e for e in entries}
    assert by_id[world.entries["A"]]["review_count"] == 5
    assert by_id[world.entries["A"]]["totals"] == [10.0, 25.0, 30.0, 31.0, 33.0]
    assert client.get(f"/api/v1/rounds/{world.round_id}/ranking",
                      headers=bearer(chair_secret)).status_code == 200

    def hide(session):
        session.get(Round, world.round_id).call.show_scores_to_chairs = False

    arrange(app, hide)
    assert client.get(f"/api/v1/rounds/{world.round_id}/ranking",
                      headers=bearer(chair_secret)).status_code == 403
    bad = client.get(f"/api/v1/rounds/{world.round_id}/ranking?method=best",
                     headers=bearer(admin_secret))
    assert bad.status_code == 400
    assert bad.get_json()["errors"][0]["field"] == "method"


def test_award_decision_is_audited_and_listed(client, app):
    world = arrange(app, api_world)
    headers = world.headers("admin")
    response = client.post(f"/api/v1/calls/{world.jury_slug}/decisions", headers=headers,
                           json={"kind": "award", "round_id": world.round_id,
                                 "nomination_id": world.entry_id,
                                 "award_level_id": world.level_id, "note": "Unanimous"})
    assert response.status_code == 201
    decision = response.get_json()["decisions"][0]
    assert (decision["kind"], decision["award_level"]["key"], decision["note"]) == (
        "award", "gold", "Unanimous")
    listed = client.get(f"/api/v1/calls/{world.jury_slug}/decisions", headers=headers)
    assert [d["id"] for d in listed.get_json()["items"]] == [decision["id"]]
    actions = read(app, lambda s: list(s.scalars(select(AuditEvent.action))))
    assert actions[-1] == "ranking.decision_award"
    revoked = client.post(f"/api/v1/calls/{world.jury_slug}/decisions/{decision['id']}/revoke",
                          headers=headers)
    assert revoked.status_code == 200
    assert revoked.get_json()["items"] == []


def test_decision_after_publication_is_409(client, app):
    world = arrange(app, api_world)

    def publish(session):
        session.scalar(select(Call).where(Call.slug == world.jury_slug)).status = \
            CallStatus.PUBLISHED

    arrange(app, publish)
    response = client.post(f"/api/v1/calls/{world.jury_slug}/decisions",
                           headers=world.headers("admin"),
                           json={"kind": "award", "round_id": world.round_id,
                                 "nomination_id": world.entry_id,
                                 "award_level_id": world.level_id})
    assert response.status_code == 409
    assert response.get_json()["type"] == "/api/v1/problems/results-published"


def test_decision_with_round_of_another_call_names_the_field(client, app):
    world = arrange(app, api_world)
    response = client.post("/api/v1/calls/voy-2026/decisions", headers=world.headers("admin"),
                           json={"kind": "award", "round_id": world.round_id,
                                 "nomination_id": world.entry_id,
                                 "award_level_id": world.level_id})
    assert response.status_code == 422
    assert response.get_json()["errors"] == [
        {"field": "round_id", "message": response.get_json()["errors"][0]["message"]}]


def test_advance_outside_judging_is_409_with_the_reason(client, app):
    world = arrange(app, api_world)

    def deliberate(session):
        session.scalar(select(Call).where(Call.slug == world.jury_slug)).status = \
            CallStatus.DELIBERATION

    arrange(app, deliberate)
    response = client.post(f"/api/v1/calls/{world.jury_slug}/decisions",
                           headers=world.headers("admin"),
                           json={"kind": "advance", "round_id": world.round_id,
                                 "nomination_ids": [world.entry_id]})
    assert response.status_code == 409
    body = response.get_json()
    assert body["type"] == "/api/v1/problems/conflict"
    assert body["detail"] == "Entries advance between rounds in the judging phase."
    award = client.post(f"/api/v1/calls/{world.jury_slug}/decisions",
                        headers=world.headers("admin"),
                        json={"kind": "award", "round_id": world.round_id,
                              "nomination_id": world.entry_id,
                              "award_level_id": world.level_id})
    assert award.status_code == 201


def test_blind_ranking_api_gives_references_only(client, app):
    world = arrange(app, lambda s: api_world(s, blind=True))
    response = client.get(f"/api/v1/rounds/{world.round_id}/ranking",
                          headers=world.headers("chair"))
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Aigerim" not in text and "Steppe" not in text
