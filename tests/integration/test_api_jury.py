"""A juror's assignments and reviews through the API."""

from __future__ import annotations

from sqlalchemy import select

from awards.audit import AuditEvent
from tests.api_factories import api_world
from tests.factories import arrange, read
from tests.jury_factories import NOMINEE, SECRET_CITY_ANSWER


def _actions(app):
    return read(app, lambda s: list(s.scalars(select(AuditEvent.action).order_by(
        AuditEvent.id))))


def test_assignment_in_open_round_shows_nominee(client, app):
    world = arrange(app, api_world)
    body = client.get(f"/api/v1/assignments/{world.juror_assignment_id}",
                      headers=world.headers("juror")).get_json()
    assert body["entry"]["nominee"]["nominee_name"] == NOMINEE
    assert body["entry"]["answers"]["contact_email"] == SECRET_CITY_ANSWER
    assert [c["key"] for c in body["rubric"]["criteria"]] == ["impact", "originality", "scale"]
    assert (body["state"], body["can_score"]) == ("todo", True)


def test_blind_round_hides_identity(client, app):
    world = arrange(app, lambda s: api_world(s, blind=True))
    response = client.get(f"/api/v1/assignments/{world.juror_assignment_id}",
                          headers=world.headers("juror"))
    body = response.get_json()
    assert body["entry"]["nominee"] is None
    assert "contact_email" not in body["entry"]["answers"]
    assert NOMINEE not in response.get_data(as_text=True)
    assert SECRET_CITY_ANSWER not in response.get_data(as_text=True)


def test_list_assignments_filters_by_state(client, app):
    world = arrange(app, api_world)
    headers = world.headers("juror")
    todo = client.get("/api/v1/assignments?status=todo", headers=headers).get_json()
    assert [a["id"] for a in todo["items"]] == [world.juror_assignment_id]
    none = client.get("/api/v1/assignments?status=submitted", headers=headers).get_json()
    assert none["items"] == []
    conflicted = client.get("/api/v1/assignments", headers=world.headers("conflicted_juror"))
    assert conflicted.get_json()["total"] == 0


def test_review_draft_then_submit_is_audited(client, app):
    world = arrange(app, api_world)
    headers = world.headers("juror")
    url = f"/api/v1/assignments/{world.juror_assignment_id}/review"
    draft = client.put(url, headers=headers, json={"scores": {"impact": 7, "scale": None}})
    assert draft.status_code == 200
    assert draft.get_json()["review"]["status"] == "draft"
    assert draft.get_json()["state"] == "draft"
    incomplete = client.post(url + "/submit", headers=headers)
    assert incomplete.status_code == 422
    assert sorted(e["field"] for e in incomplete.get_json()["errors"]) == [
        "scores.originality", "scores.scale"]
    done = client.post(url + "/submit", headers=headers,
                       json={"scores": {"impact": 7, "originality": 6.5, "scale": 4}})
    assert done.status_code == 200
    review = done.get_json()["review"]
    assert (review["status"], review["total"]) == ("submitted", 24.5)
    assert _actions(app)[-2:] == ["review.save_draft", "review.submit"]
    again = client.put(url, headers=headers, json={"scores": {"impact": 1}})
    assert again.status_code == 409
    assert again.get_json()["type"] == "/api/v1/problems/already-submitted"


def test_invalid_score_names_the_criterion(client, app):
    world = arrange(app, api_world)
    response = client.put(f"/api/v1/assignments/{world.juror_assignment_id}/review",
                          headers=world.headers("juror"),
                          json={"scores": {"impact": 11, "originality": "good"}})
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == ["scores.originality"]
    response = client.put(f"/api/v1/assignments/{world.juror_assignment_id}/review",
                          headers=world.headers("juror"), json={"scores": {"impact": 11}})
    assert [e["field"] for e in response.get_json()["errors"]] == ["scores.impact"]


def test_write_to_conflicted_assignment_is_404_and_audited(client, app):
    world = arrange(app, api_world)
    response = client.put(f"/api/v1/assignments/{world.conflicted_assignment_id}/review",
                          headers=world.headers("conflicted_juror"),
                          json={"scores": {"impact": 7}})
    assert response.status_code == 404
    assert _actions(app)[-1] == "security.forbidden_attempt"
