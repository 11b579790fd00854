"""A voter confirms an e-mail address by link or six-digit code: single use, expiring, a few
attempts; the confirmed voter is remembered in the session."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from awards import create_app
from awards.db import utcnow
from awards.public_stage.models import Voter
from tests.conftest import post_form
from tests.factories import arrange, english, read
from tests.public_stage_factories import SLUG, public_world


@pytest.fixture
def world(app):
    return arrange(app, public_world)


def _ask(client, email="Voter@Example.org", next_url=None):
    url = f"/public/{SLUG}/verify" + (f"?next={next_url}" if next_url else "")
    return post_form(client, url, {"email": email, **({"next": next_url} if next_url else {})})


def _mail_parts(outbox):
    body = outbox()[-1].body_text
    code = re.search(r"^\s+(\d{6})$", body, re.M).group(1)
    link = re.search(r"http://localhost(/public/\S+)", body).group(1)
    return code, link


def _code(client, code):
    return post_form(client, f"/public/{SLUG}/verify/code", {"code": code})


def test_code_confirms_the_address_and_returns_to_the_entry(app, client, world, outbox):
    english(client)
    entry_url = f"/public/{SLUG}/{world.references[0]}"
    response = _ask(client, next_url=entry_url)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/public/{SLUG}/verify/code"
    mail = outbox()[-1]
    assert mail.to_address == "voter@example.org"
    code, _link = _mail_parts(outbox)
    assert code in mail.subject
    confirmed = _code(client, code)
    assert confirmed.status_code == 303
    assert confirmed.headers["Location"] == entry_url
    page = client.get(entry_url).get_data(as_text=True)
    assert "Your e-mail address is confirmed. You can vote now." in page
    assert "You take part as voter@example.org." in page
    voter = read(app, lambda s: s.scalar(select(Voter)))
    assert voter.verified_at is not None
    assert (voter.code_hash, voter.token_hash) == (None, None)


def test_secrets_are_stored_only_as_hashes(app, client, world, outbox):
    _ask(english(client))
    code, link = _mail_parts(outbox)
    token = link.rsplit("/", 1)[1]
    voter = read(app, lambda s: s.scalar(select(Voter)))
    assert code not in voter.code_hash and token != voter.token_hash
    assert len(voter.token_hash) == 64


def test_link_confirms_the_address_once(app, client, world, outbox):
    _ask(english(client))
    _code_value, link = _mail_parts(outbox)
    first = client.get(link)
    assert first.status_code == 303
    assert first.headers["Location"] == f"/public/{SLUG}/"
    again = english(app.test_client()).get(link)
    assert again.status_code == 400
    assert "This link is invalid, expired or already used." in again.get_data(as_text=True)


def test_forged_link_is_refused(client, world):
    response = english(client).get(f"/public/{SLUG}/verify/forged-token-value")
    assert response.status_code == 400
    assert "This link is invalid, expired or already used." in response.get_data(as_text=True)


def test_code_cannot_be_reused_after_the_link_was_used(app, client, world, outbox):
    _ask(english(client))
    code, link = _mail_parts(outbox)
    english(app.test_client()).get(link)
    response = _code(client, code)
    assert response.status_code == 400
    assert "There is no code waiting for this address." in response.get_data(as_text=True)


def test_wrong_code_counts_attempts_and_locks_after_the_limit(app, client, world, outbox):
    _ask(english(client))
    code, _link = _mail_parts(outbox)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        response = _code(client, wrong)
        assert response.status_code == 400
        assert "This code is not right." in response.get_data(as_text=True)
    blocked = _code(client, code)
    assert blocked.status_code == 400
    assert "Too many wrong codes. Ask for a new one." in blocked.get_data(as_text=True)
    assert read(app, lambda s: s.scalar(select(Voter.verified_at))) is None


def test_expired_code_is_refused(app, client, world, outbox):
    _ask(english(client))
    code, link = _mail_parts(outbox)

    def expire(s):
        s.scalar(select(Voter)).code_expires_at = utcnow() - timedelta(seconds=1)
    arrange(app, expire)
    assert "This code has expired." in _code(client, code).get_data(as_text=True)
    assert english(app.test_client()).get(link).status_code == 400


def test_new_request_replaces_the_old_code(app, client, world, outbox):
    _ask(english(client))
    old_code, _ = _mail_parts(outbox)
    _ask(client)
    new_code, _ = _mail_parts(outbox)
    if old_code != new_code:
        assert _code(client, old_code).status_code == 400
    assert _code(client, new_code).status_code == 303
    assert read(app, lambda s: len(s.scalars(select(Voter)).all())) == 1


def test_invalid_address_is_refused_and_kept(client, world):
    response = _ask(english(client), email="not-an-address")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Enter a valid e-mail address." in page
    assert 'value="not-an-address"' in page


def test_verification_requests_are_rate_limited(app, app_config, world):
    limited = create_app({**app_config, "RATELIMIT_ENABLED": True,
                          "RATELIMIT_PUBLIC_VERIFY": "2 per minute"})
    try:
        client = english(limited.test_client())
        statuses = [_ask(client, email=f"v{i}@example.org").status_code for i in range(3)]
        assert statuses == [303, 303, 429]
    finally:
        limited.extensions["awards_db"]["engine"].dispose()
