"""Public reads (visibility, ETags), problem documents for every error, the OpenAPI document's
docs page, and the rate limit."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from awards.calls.models import Call
from awards.enums import CallStatus
from tests.api_factories import api_world, bearer, make_token
from tests.factories import arrange
from tests.jury_factories import make_account


def test_calls_list_open_calls_not_drafts(client, app):
    arrange(app, api_world)

    def draft(session):
        from tests.factories import make_call

        make_call(session, slug="secret-draft", status=CallStatus.DRAFT)

    arrange(app, draft)
    body = client.get("/api/v1/calls").get_json()
    assert [c["slug"] for c in body["items"]] == ["voy-2026"]
    assert body["items"][0]["title"] == {"kk": "Жыл волонтері — 2026",
                                         "ru": "Волонтёр года — 2026",
                                         "en": "Volunteer of the Year 2026"}
    assert client.get("/api/v1/calls/secret-draft").status_code == 404
    detail = client.get("/api/v1/calls/voy-2026").get_json()
    assert [c["code"] for c in detail["categories"]] == ["social", "ecology"]
    assert detail["fields"][0]["key"] == "title"
    assert detail["closes_at"].endswith("Z")


def test_public_read_has_etag_and_304(client, app):
    arrange(app, api_world)
    first = client.get("/api/v1/calls/voy-2026")
    assert first.headers["Cache-Control"] == "public, max-age=60"
    etag = first.headers["ETag"]
    second = client.get("/api/v1/calls/voy-2026", headers={"If-None-Match": etag})
    assert second.status_code == 304
    assert second.get_data() == b""
    assert second.headers["ETag"] == etag


def test_results_visible_only_after_publication_time(client, app):
    world = arrange(app, api_world)
    current = client.get(f"/api/v1/results/{world.jury_slug}").get_json()
    assert (current["version"], current["versions"]) == (1, [1])
    assert current["snapshot"] == {"categories": [{"code": "social", "winners": []}]}
    assert client.get(f"/api/v1/results/{world.jury_slug}/versions/1").status_code == 200
    assert client.get(f"/api/v1/results/{world.jury_slug}/versions/2").status_code == 404
    assert client.get("/api/v1/results/voy-2026").status_code == 404
    listed = client.get("/api/v1/results").get_json()
    assert [r["call"]["slug"] for r in listed["items"]] == [world.jury_slug]


def test_announcements_hide_scheduled_posts(client, app):
    world = arrange(app, api_world)
    listed = client.get("/api/v1/announcements").get_json()
    assert [a["slug"] for a in listed["items"]] == [world.announcement_slug]
    post = client.get(f"/api/v1/announcements/{world.announcement_slug}").get_json()
    assert post["body"]["en"] == "**Congratulations**"
    assert post["call"] == world.jury_slug
    assert client.get(f"/api/v1/announcements/{world.future_announcement_slug}").status_code \
        == 404


@pytest.mark.parametrize(("method", "path", "status", "kind"), [
    ("GET", "/api/v1/no-such-thing", 404, "not-found"),
    ("GET", "/api/v1/nominations/99999999999", 404, "not-found"),
    ("DELETE", "/api/v1/calls", 405, "method-not-allowed"),
    ("GET", "/api/v1/calls?page=zero", 400, "invalid-parameter"),
])
def test_errors_are_problem_json(client, method, path, status, kind):
    response = client.open(path, method=method)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["type"] == f"/api/v1/problems/{kind}"
    assert body["status"] == status
    assert "<html" not in response.get_data(as_text=True)


def test_site_pages_keep_html_errors(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_body_errors_are_problem_json(client, app):
    world = arrange(app, api_world)
    headers = world.headers("applicant")
    not_json = client.post("/api/v1/nominations", headers=headers, data="x=1",
                           content_type="application/x-www-form-urlencoded")
    assert not_json.status_code == 415
    broken = client.post("/api/v1/nominations", headers=headers, data="{",
                         content_type="application/json")
    assert broken.status_code == 400
    assert broken.get_json()["type"] == "/api/v1/problems/bad-request"
    nul = client.patch(f"/api/v1/nominations/{world.own_nomination_id}", headers=headers,
                       json={"answers": {"title": "a\x00b"}})
    assert nul.status_code == 422
    assert nul.get_json()["errors"][0]["field"] == "answers.title"


def test_too_large_body_is_413_problem(client, app):
    world = arrange(app, api_world)
    app.config["MAX_CONTENT_LENGTH"] = 100
    response = client.post("/api/v1/nominations", headers=world.headers("applicant"),
                           json={"call": "x" * 500, "category": "a", "nominator_kind": "self"})
    assert response.status_code == 413
    assert response.get_json()["type"] == "/api/v1/problems/payload-too-large"


def test_unexpected_error_is_500_problem_without_trace(client, app, monkeypatch):
    from awards.api import endpoints_public

    def boom(**_kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(endpoints_public, "public_calls", boom)
    response = client.get("/api/v1/calls")
    assert response.status_code == 500
    assert response.get_json()["type"] == "/api/v1/problems/server-error"
    assert "secret internals" not in response.get_data(as_text=True)


def test_docs_page_lists_endpoints_and_problem_types(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for text in ("/api/v1/nominations/{nomination_id}/submit", "NominationUpdate",
                 "/api/v1/problems/deadline-passed", "Authorization: Bearer"):
        assert text in html
    assert '<script src="http' not in html


class TestRateLimit:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "RATELIMIT_ENABLED": True, "RATELIMIT_API": "3 per minute",
                "RATELIMIT_API_IP": "100 per minute"}

    def test_rate_limit_is_per_token_and_answers_429_problem(self, client, app):
        def tokens(session):
            return (make_token(session, make_account(session, "a@example.com")),
                    make_token(session, make_account(session, "b@example.com")))

        first, second = arrange(app, tokens)
        statuses = [client.get("/api/v1/me", headers=bearer(first)).status_code
                    for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = client.get("/api/v1/me", headers=bearer(first))
        assert limited.mimetype == "application/problem+json"
        assert limited.get_json()["type"] == "/api/v1/problems/rate-limited"
        assert int(limited.headers["Retry-After"]) > 0
        assert client.get("/api/v1/me", headers=bearer(second)).status_code == 200


def test_draft_call_is_not_in_the_api_even_for_admin(client, app):
    world = arrange(app, api_world)

    def to_draft(session):
        session.scalar(select(Call).where(Call.slug == "voy-2026")).status = CallStatus.DRAFT

    arrange(app, to_draft)
    assert client.get("/api/v1/calls/voy-2026", headers=world.headers("admin")).status_code \
        == 404


def test_database_gone_is_503_problem_with_retry_after(client, app, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from awards.api import endpoints_public

    def gone(**_kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(endpoints_public, "public_calls", gone)
    response = client.get("/api/v1/calls")
    assert response.status_code == 503
    assert response.get_json()["type"] == "/api/v1/problems/service-unavailable"
    assert response.headers["Retry-After"] == "30"
