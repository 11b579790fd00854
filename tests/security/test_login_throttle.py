"""Login throttling stops guessing without letting a stranger lock the owner out: failures are
counted per address and per address and account; a refusal is a translated 429 with
Retry-After and only ever concerns the addresses that failed."""

from __future__ import annotations

import html
import re

import pytest
from flask_babel import force_locale, ngettext

from awards import create_app
from tests.conftest import PASSWORD, get_csrf

STRANGER = "203.0.113.7"
OWNER = "198.51.100.20"


@pytest.fixture
def limited(app, app_config):
    """An app with rate limits on, created after ``app`` (the limiter is shared by the process
    and set up by the app created last)."""
    limited_app = create_app({**app_config, "RATELIMIT_ENABLED": True})
    yield limited_app
    limited_app.extensions["awards_db"]["engine"].dispose()


def browser(app, address: str, lang: str = "en"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
    return client


def attempt(client, email="user@example.com", password="not-the-password"):
    return client.post("/account/login", data={
        "csrf_token": get_csrf(client, "/account/login"), "email": email, "password": password})


def message_of(response) -> str:
    text = response.get_data(as_text=True)
    return html.unescape(re.search(r'<h1>.*?</h1>\s*<p>(.*?)</p>', text, re.S).group(1))


def account_refusal(app, minutes: int, lang: str = "en") -> str:
    with app.test_request_context(), force_locale(lang):
        return ngettext(
            "Too many failed logins to this account from your network. Try again in %(num)d "
            "minute, or reset your password.",
            "Too many failed logins to this account from your network. Try again in %(num)d "
            "minutes, or reset your password.", minutes)


def test_a_stranger_cannot_lock_the_owner_out(limited, make_user):
    make_user()
    stranger = browser(limited, STRANGER)

    statuses = [attempt(stranger).status_code for _ in range(13)]

    assert statuses[:5] == [401] * 5
    assert set(statuses[5:]) == {429}
    owner = browser(limited, OWNER)
    response = attempt(owner, password=PASSWORD)
    assert response.status_code == 302
    assert owner.get("/account/profile").status_code == 200


def test_the_address_that_failed_is_refused_with_a_clear_429(limited, make_user):
    make_user()
    stranger = browser(limited, STRANGER)
    for _ in range(5):
        assert attempt(stranger).status_code == 401

    refused = attempt(stranger, password=PASSWORD)

    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert '<p class="error-code">429</p>' in refused.get_data(as_text=True)
    assert message_of(refused) == account_refusal(limited, 1)
    assert browser(limited, STRANGER).get("/account/profile").status_code == 302


def test_refusal_is_translated(limited, make_user):
    make_user()
    stranger = browser(limited, STRANGER, lang="ru")
    for _ in range(5):
        attempt(stranger)

    refused = attempt(stranger)

    assert refused.status_code == 429
    assert '<html lang="ru">' in refused.get_data(as_text=True)
    assert message_of(refused) == account_refusal(limited, 1, "ru")


def test_the_owner_typing_wrong_then_right_starts_afresh(limited, make_user):
    make_user()
    owner = browser(limited, OWNER)
    for _ in range(4):
        assert attempt(owner).status_code == 401
    assert attempt(owner, password=PASSWORD).status_code == 302
    owner.post("/account/logout", data={"csrf_token": get_csrf(owner, "/")})

    statuses = [attempt(owner).status_code for _ in range(5)]

    assert statuses == [401] * 5


def test_successful_logins_are_not_counted(limited, make_user):
    make_user()
    office = browser(limited, OWNER)

    for _ in range(12):
        assert attempt(office, password=PASSWORD).status_code == 302
        office.post("/account/logout", data={"csrf_token": get_csrf(office, "/")})


def test_one_address_guessing_many_accounts_is_stopped(limited, make_user):
    for n in range(11):
        make_user(f"u{n}@example.com")
    stranger = browser(limited, STRANGER)

    statuses = [attempt(stranger, email=f"u{n}@example.com").status_code for n in range(11)]

    assert statuses == [401] * 10 + [429]
    assert int(attempt(stranger, email="u0@example.com").headers["Retry-After"]) <= 60
    # Other addresses, and the accounts' owners, are not concerned.
    assert attempt(browser(limited, OWNER), email="u3@example.com",
                   password=PASSWORD).status_code == 302


def test_an_account_under_attack_from_many_addresses(limited, make_user):
    """Once the account has 20 failures in the hour, an address that failed for it gets no
    further guess; an address that has not guessed still logs in with the right password."""
    make_user()
    for n in range(20):
        assert attempt(browser(limited, f"10.0.{n}.1")).status_code == 401

    again = attempt(browser(limited, "10.0.3.1"))
    assert again.status_code == 429
    assert int(again.headers["Retry-After"]) <= 3600
    assert attempt(browser(limited, "10.0.99.1")).status_code == 401
    assert attempt(browser(limited, OWNER), password=PASSWORD).status_code == 302


def test_parallel_guesses_from_one_address_cannot_pass_the_count(limited, make_user):
    from concurrent.futures import ThreadPoolExecutor

    make_user()
    first = browser(limited, STRANGER)
    token = get_csrf(first, "/account/login")
    cookie = first.get_cookie("session").value

    def guess(_n):
        client = browser(limited, STRANGER)
        client.set_cookie("session", cookie)
        return client.post("/account/login", data={
            "csrf_token": token, "email": "user@example.com", "password": "wrong"}).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(guess, range(16)))

    assert sorted(statuses) == [401] * 5 + [429] * 11
