"""Nominations through the API: the same services and checks as the pages, audited the same."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from awards.audit import AuditEvent
from awards.calls.models import Call
from awards.db import utcnow
from awards.enums import NominationStatus
from awards.nominations.models import Nomination
from tests.api_factories import api_world
from tests.factories import arrange, read


def _actions(app):
    return read(app, lambda s: list(s.scalars(select(AuditEvent.action).order_by(
        AuditEvent.id))))


def _no_file_fields(session):
    call = session.scalar(select(Call).where(Call.slug == "voy-2026"))
    for field in call.fields:
        if field.key in ("documents",):
            field.required = False


COMPLETE = {"nominee": {"nominee_name": "Aigerim Sadykova"},
            "answers": {"title": "Clean rivers", "activity": "We cleaned 12 rivers.",
                        "years": 5, "region": "almaty", "truthful": True}}


def test_create_nomination_starts_an_audited_draft(client, app):
    world = arrange(app, api_world)
    response = client.post("/api/v1/nominations", headers=world.headers("other_applicant"),
                           json={"call": "voy-2026", "category": "ecology",
                                 "nominator_kind": "self"})
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"] == f"/api/v1/nominations/{body['id']}"
    assert (body["status"], body["category"]["code"], body["reference"]) == (
        "draft", "ecology", None)
    assert _actions(app)[-1] == "nomination.create"


def test_create_nomination_unknown_category_names_the_field(client, app):
    world = arrange(app, api_world)
    response = client.post("/api/v1/nominations", headers=world.headers("applicant"),
                           json={"call": "voy-2026", "category": "nope",
                                 "nominator_kind": "self"})
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == ["category"]


def test_patch_invalid_answers_is_422_naming_each_field(client, app):
    world = arrange(app, api_world)
    response = client.patch(f"/api/v1/nominations/{world.own_nomination_id}",
                            headers=world.headers("applicant"),
                            json={"answers": {"years": "many", "region": "mars",
                                              "unknown": "x", "documents": [1]}})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["type"] == "/api/v1/problems/validation-failed"
    assert sorted(e["field"] for e in body["errors"]) == ["answers.documents",
                                                          "answers.unknown"]
    response = client.patch(f"/api/v1/nominations/{world.own_nomination_id}",
                            headers=world.headers("applicant"),
                            json={"answers": {"years": "many", "region": "mars"}})
    assert sorted(e["field"] for e in response.get_json()["errors"]) == ["answers.region",
                                                                       "answers.years"]


def test_patch_saves_given_answers_and_audits_the_draft(client, app):
    world = arrange(app, api_world)
    response = client.patch(f"/api/v1/nominations/{world.own_nomination_id}",
                            headers=world.headers("applicant"),
                            json={"answers": {"title": "Clean rivers", "years": "7",
                                              "topics": ["nature"]}})
    assert response.status_code == 200
    assert response.get_json()["answers"] == {"title": "Clean rivers", "years": 7,
                                              "topics": ["nature"]}
    assert _actions(app)[-1] == "nomination.save_draft"


def test_submit_incomplete_lists_what_is_missing(client, app):
    world = arrange(app, api_world)
    response = client.post(f"/api/v1/nominations/{world.own_nomination_id}/submit",
                           headers=world.headers("applicant"),
                           json={"personal_data_consent": True})
    assert response.status_code == 422
    fields = {e["field"] for e in response.get_json()["errors"]}
    assert {"answers.title", "answers.documents", "answers.truthful"} <= fields


def test_submit_complete_gives_reference_and_audits(client, app, outbox):
    world = arrange(app, api_world)
    arrange(app, _no_file_fields)
    headers = world.headers("applicant")
    url = f"/api/v1/nominations/{world.own_nomination_id}"
    assert client.patch(url, headers=headers, json=COMPLETE).status_code == 200
    response = client.post(url + "/submit", headers=headers,
                           json={"personal_data_consent": True})
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "submitted"
    assert body["reference"] == "VOY-2026-00001"
    assert "nomination.submit" in _actions(app)
    assert [m.to_address for m in outbox()] == ["applicant@example.com"]
    again = client.post(url + "/submit", headers=headers, json={"personal_data_consent": True})
    assert again.status_code == 409
    assert again.get_json()["type"] == "/api/v1/problems/already-submitted"


def test_patch_after_deadline_is_409_deadline_passed(client, app):
    world = arrange(app, api_world)

    def close(session):
        call = session.scalar(select(Call).where(Call.slug == "voy-2026"))
        call.opens_at = utcnow() - timedelta(days=20)
        call.closes_at = utcnow() - timedelta(minutes=1)

    arrange(app, close)
    response = client.patch(f"/api/v1/nominations/{world.own_nomination_id}",
                            headers=world.headers("applicant"),
                            json={"answers": {"title": "Late"}})
    assert response.status_code == 409
    assert response.get_json()["type"] == "/api/v1/problems/deadline-passed"


def test_withdraw_is_audited(client, app):
    world = arrange(app, api_world)
    response = client.post(f"/api/v1/nominations/{world.own_nomination_id}/withdraw",
                           headers=world.headers("applicant"), json={"reason": "Changed mind"})
    assert response.status_code == 200
    assert response.get_json()["status"] == "withdrawn"
    assert _actions(app)[-1] == "nomination.withdraw"


def test_admin_lists_all_nominations_with_filters_and_paging(client, app):
    world = arrange(app, api_world)
    headers = world.headers("admin")
    everything = client.get("/api/v1/nominations?size=2", headers=headers)
    assert everything.status_code == 200
    body = everything.get_json()
    assert (body["total"], body["page"], body["size"], len(body["items"])) == (3, 1, 2, 2)
    assert 'rel="next"' in everything.headers["Link"]
    assert "page=2" in everything.headers["Link"]
    filtered = client.get("/api/v1/nominations?call=voy-2026&q=someone", headers=headers)
    assert [n["id"] for n in filtered.get_json()["items"]] == [world.other_nomination_id]
    eligible = client.get("/api/v1/nominations?status=eligible", headers=headers)
    assert [n["id"] for n in eligible.get_json()["items"]] == [world.entry_id]
    too_big = client.get("/api/v1/nominations?size=101", headers=headers)
    assert too_big.status_code == 400
    assert too_big.get_json()["errors"][0]["field"] == "size"


def test_applicant_lists_only_own_nominations(client, app):
    world = arrange(app, api_world)
    response = client.get("/api/v1/nominations", headers=world.headers("other_applicant"))
    assert [n["id"] for n in response.get_json()["items"]] == [world.other_nomination_id]
    assert read(app, lambda s: s.get(Nomination, world.other_nomination_id).status) == \
        NominationStatus.DRAFT
