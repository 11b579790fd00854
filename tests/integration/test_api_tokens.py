"""Personal API tokens: created on the profile page (secret shown once, stored hashed),
revoked there, audited; Bearer authentication, last use, session-only writes refused."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from awards.api.models import ApiToken
from awards.api.tokens import hash_secret
from awards.audit import AuditEvent
from tests.api_factories import api_world, bearer, make_token
from tests.conftest import csrf_from, get_csrf
from tests.factories import arrange, read

SECRET_RE = re.compile(r'id="token-secret">(awd_[A-Za-z0-9_-]+)<')


def _create(client, name="CI export", expires_in="30"):
    token = get_csrf(client, "/account/profile")
    return client.post("/account/api-tokens/", data={"csrf_token": token, "name": name,
                                                     "expires_in": expires_in})


def test_token_created_on_profile_is_shown_once_and_stored_hashed(client, make_user, login_as,
                                                                   app):
    user = make_user("me@example.com")
    login_as(user)
    response = _create(client)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    secret = SECRET_RE.search(response.get_data(as_text=True)).group(1)
    stored = read(app, lambda s: [(t.name, t.token_hash, t.prefix, t.expires_at is not None)
                                  for t in s.scalars(select(ApiToken))])
    assert stored == [("CI export", hash_secret(secret), secret[:12], True)]
    profile = client.get("/account/profile").get_data(as_text=True)
    assert "CI export" in profile
    assert secret not in profile
    assert secret[:12] in profile
    actions = read(app, lambda s: list(s.scalars(select(AuditEvent.action))))
    assert "api_token.create" in actions


def test_token_form_without_csrf_is_refused(client, make_user, login_as, app):
    login_as(make_user("me@example.com"))
    response = client.post("/account/api-tokens/", data={"name": "x", "expires_in": "30"})
    assert response.status_code == 400
    assert read(app, lambda s: s.scalar(select(ApiToken.id))) is None


def test_token_form_without_name_shows_the_error(client, make_user, login_as):
    login_as(make_user("me@example.com"))
    response = _create(client, name="   ")
    assert response.status_code == 400
    assert "awd_" not in response.get_data(as_text=True)


def test_revoked_token_is_refused_and_revocation_audited(client, make_user, login_as, app):
    user = make_user("me@example.com")
    login_as(user)
    secret = SECRET_RE.search(_create(client).get_data(as_text=True)).group(1)
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    token_id = read(app, lambda s: s.scalar(select(ApiToken.id)))
    page = client.get("/account/profile").get_data(as_text=True)
    response = client.post(f"/account/api-tokens/{token_id}/revoke",
                           data={"csrf_token": csrf_from(page)})
    assert response.status_code == 303
    refused = client.get("/api/v1/me", headers=bearer(secret))
    assert refused.status_code == 401
    assert refused.get_json()["type"] == "/api/v1/problems/invalid-token"
    actions = read(app, lambda s: list(s.scalars(select(AuditEvent.action))))
    assert actions.count("api_token.revoke") == 1


def test_someone_elses_token_cannot_be_revoked(client, make_user, login_as, app):
    owner = make_user("owner@example.com")
    arrange(app, lambda s: make_token(s, s.get(type(owner), owner.id)))
    login_as(make_user("me@example.com"))
    token_id = read(app, lambda s: s.scalar(select(ApiToken.id)))
    page = client.get("/account/profile").get_data(as_text=True)
    response = client.post(f"/account/api-tokens/{token_id}/revoke",
                           data={"csrf_token": csrf_from(page)})
    assert response.status_code == 404
    assert read(app, lambda s: s.get(ApiToken, token_id).revoked_at) is None


def test_token_use_records_last_use_at_most_once_a_minute(client, app):
    world = arrange(app, api_world)
    headers = world.headers("applicant")
    client.get("/api/v1/me", headers=headers)
    first = read(app, lambda s: s.scalar(select(ApiToken.last_used_at).where(
        ApiToken.token_hash == hash_secret(world.secrets["applicant"]))))
    assert first is not None
    client.get("/api/v1/me", headers=headers)
    second = read(app, lambda s: s.scalar(select(ApiToken.last_used_at).where(
        ApiToken.token_hash == hash_secret(world.secrets["applicant"]))))
    assert second == first

    def age(session):
        token = session.scalar(select(ApiToken).where(
            ApiToken.token_hash == hash_secret(world.secrets["applicant"])))
        token.last_used_at = token.last_used_at - timedelta(minutes=2)

    arrange(app, age)
    client.get("/api/v1/me", headers=headers)
    third = read(app, lambda s: s.scalar(select(ApiToken.last_used_at).where(
        ApiToken.token_hash == hash_secret(world.secrets["applicant"]))))
    assert third > first - timedelta(minutes=2)
    assert third >= first


def test_session_cookie_reads_but_cannot_write(client, app, login_as):
    world = arrange(app, api_world)
    login_as("applicant@example.com")
    assert client.get("/api/v1/me").get_json()["email"] == "applicant@example.com"
    response = client.patch(f"/api/v1/nominations/{world.own_nomination_id}",
                            json={"answers": {"title": "Through the cookie"}})
    assert response.status_code == 401
    assert response.get_json()["type"] == "/api/v1/problems/token-required"
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="awards"'


def test_malformed_authorization_header_is_401_problem(client):
    response = client.get("/api/v1/calls", headers={"Authorization": "Basic abc"})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["type"] == "/api/v1/problems/invalid-token"
