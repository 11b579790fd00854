"""A voter who tried too many codes meets a page that says when to try again and offers to send a
new code to the address being confirmed; sending codes, this way or by typing the address
again, is itself rate limited (per client address and per e-mail address)."""

from __future__ import annotations

import re

import pytest

from awards import create_app
from tests.conftest import post_form
from tests.factories import arrange, english
from tests.public_stage_factories import SLUG, public_world

EMAIL = "slow@example.org"


@pytest.fixture
def limited(app_config):
    made = []

    def build(**limits):
        app = create_app({**app_config, "RATELIMIT_ENABLED": True, **limits})
        made.append(app)
        arrange(app, public_world)
        return app, english(app.test_client())

    yield build
    for app in made:
        app.extensions["awards_db"]["engine"].dispose()


def _codes_sent(app, outbox_of):
    return [re.search(r"^\s+(\d{6})$", m.body_text, re.M).group(1) for m in outbox_of(EMAIL)]


def _outbox(app):
    from sqlalchemy import select

    from awards.db import get_db
    from awards.mail import OutgoingMail

    def read(to):
        with app.app_context():
            return list(get_db().scalars(select(OutgoingMail).where(OutgoingMail.to_address == to)
                                         .order_by(OutgoingMail.id)))
    return read


def _ask(client):
    return post_form(client, f"/public/{SLUG}/verify", {"email": EMAIL})


def _code(client, code):
    return post_form(client, f"/public/{SLUG}/verify/code", {"code": code})


def _again(client, page_url):
    return post_form(client, f"/public/{SLUG}/verify/again", {}, csrf_url=page_url)


def test_too_many_codes_say_when_and_offer_a_new_code(limited):
    app, client = limited(RATELIMIT_PUBLIC_CODE="2 per minute")
    outbox = _outbox(app)
    assert _ask(client).status_code == 303
    [first] = _codes_sent(app, outbox)
    wrong = "000000" if first != "000000" else "111111"
    assert [_code(client, wrong).status_code for _ in range(2)] == [400, 400]

    refused = _code(client, wrong)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    page = refused.get_data(as_text=True)
    assert "Please try again in 1 minute." in page
    assert f"We can send a new code to {EMAIL}." in page
    assert f'action="/public/{SLUG}/verify/again"' in page

    sent = _again(client, f"/public/{SLUG}/verify/code")
    assert sent.status_code == 303
    assert sent.headers["Location"] == f"/public/{SLUG}/verify/code"
    codes = _codes_sent(app, outbox)
    assert len(codes) == 2
    shown = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert f"We have sent a new code to {EMAIL}." in shown


def test_sending_new_codes_is_rate_limited_too(limited):
    app, client = limited(RATELIMIT_PUBLIC_VERIFY="2 per minute")
    outbox = _outbox(app)
    code_page = f"/public/{SLUG}/verify/code"
    assert _ask(client).status_code == 303
    assert _again(client, code_page).status_code == 303
    refused = _again(client, code_page)
    assert refused.status_code == 429
    assert "Retry-After" in refused.headers
    page = refused.get_data(as_text=True)
    assert "Please try again in 1 minute." in page
    assert len(_codes_sent(app, outbox)) == 2  # the refused request sent nothing
    # Typing the address again counts against the same limit: no way round it.
    assert _ask(client).status_code == 429


def test_the_code_page_offers_a_new_code_without_waiting_for_a_refusal(app, client, outbox):
    arrange(app, public_world)
    english(client)
    _ask(client)
    page = client.get(f"/public/{SLUG}/verify/code").get_data(as_text=True)
    assert f'action="/public/{SLUG}/verify/again"' in page
    assert _again(client, f"/public/{SLUG}/verify/code").status_code == 303
    assert len(outbox(EMAIL)) == 2


def test_a_new_code_needs_an_address_being_confirmed(app, client):
    arrange(app, public_world)
    response = _again(english(client), f"/public/{SLUG}/verify")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/public/{SLUG}/verify"
