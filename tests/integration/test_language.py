"""Language: kk/ru/en, a switcher on every page, the choice remembered in the session and on the
account. Assertions look at the lang attribute and at markup, not at translated text, so they
hold whatever the catalogs contain."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from awards.auth.models import User
from awards.db import get_db
from tests.conftest import CSRF_RE, PASSWORD, get_csrf, login, post_form

LANGS = ["kk", "ru", "en"]


def html_lang(response) -> str:
    match = re.search(r'<html lang="([^"]*)">', response.get_data(as_text=True))
    assert match, "no <html lang> on the page"
    return match.group(1)


def switch(client, code: str, next_url: str | None = "/", csrf_url: str = "/"):
    """Press a language button of ``csrf_url`` as a browser does. A page shared by every
    visitor (the home page for one not logged in) has no CSRF token: the browser's Origin
    header says the post comes from the site."""
    data = {"next": next_url} if next_url is not None else {}
    token = CSRF_RE.search(client.get(csrf_url).get_data(as_text=True))
    if token:
        data["csrf_token"] = token.group(1)
    return client.post(f"/language/{code}", data=data, headers={"Origin": "http://localhost"})


def preferred_language(app, email="user@example.com") -> str:
    with app.app_context():
        return get_db().scalar(select(User.preferred_language).where(User.email == email))


@pytest.mark.parametrize("code", LANGS)
def test_language_switch_sets_html_lang_and_is_remembered(client, code):
    response = switch(client, code, next_url="/account/login")

    assert response.status_code == 302
    assert response.headers["Location"] == "/account/login"
    assert html_lang(client.get("/account/login")) == code
    assert html_lang(client.get("/")) == code
    assert html_lang(client.get("/account/register")) == code
    # A permanent session: the choice outlives closing the browser.
    assert client.get_cookie("session").expires is not None


def test_language_switch_beats_accept_language(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    switch(client, "kk")
    assert html_lang(client.get("/")) == "kk"


@pytest.mark.parametrize("code", ["de", "KK", "kk-KZ", "xx"])
def test_language_switch_unknown_code_is_404(client, code):
    response = switch(client, code)

    assert response.status_code == 404
    assert html_lang(client.get("/")) == "ru"


@pytest.mark.parametrize("token", [None, "wrong-token"], ids=["missing", "wrong"])
def test_language_switch_without_valid_csrf_is_400(client, token):
    client.get("/")
    data = {"next": "/", **({"csrf_token": token} if token else {})}

    response = client.post("/language/kk", data=data)

    assert response.status_code == 400
    assert html_lang(client.get("/")) == "ru"


def test_language_switch_by_get_is_405(client):
    assert client.get("/language/kk").status_code == 405


@pytest.mark.parametrize(
    ("next_url", "location"),
    [
        ("/account/login?next=%2Faccount%2Fprofile", "/account/login?next=%2Faccount%2Fprofile"),
        (None, "/"),
        ("//evil.com", "/"),
        ("https://evil.com/", "/"),
        ("/\\evil.com", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_language_switch_returns_only_to_same_site_page(client, next_url, location):
    response = switch(client, "en", next_url=next_url)
    assert response.headers["Location"] == location


def test_language_switch_updates_logged_in_users_preference(app, client, make_user):
    make_user(language="en")
    login(client, "user@example.com")

    switch(client, "kk", csrf_url="/account/profile")

    assert preferred_language(app) == "kk"
    assert html_lang(client.get("/account/profile")) == "kk"


def test_language_switch_anonymous_changes_no_account(app, client, make_user):
    make_user(language="en")
    switch(client, "kk")
    assert preferred_language(app) == "en"


def test_preferred_language_followed_on_another_device(app, client, make_user):
    make_user(language="en")
    login(client, "user@example.com")
    switch(client, "kk", csrf_url="/account/profile")

    other = app.test_client()
    other.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert html_lang(other.get("/")) == "en"
    login(other, "user@example.com")

    assert html_lang(other.get("/")) == "kk"


def test_language_chosen_before_login_is_kept(client, make_user):
    make_user(language="en")
    switch(client, "ru")

    login(client, "user@example.com")

    assert html_lang(client.get("/")) == "ru"


def test_language_kept_after_logout(client, make_user):
    make_user(language="en")
    login(client, "user@example.com")
    switch(client, "kk", csrf_url="/account/profile")

    post_form(client, "/account/logout", csrf_url="/")

    assert html_lang(client.get("/")) == "kk"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("kk", "kk"),
        ("kk-KZ,kk;q=0.9,ru;q=0.8", "kk"),
        ("ru-RU,ru;q=0.9,en;q=0.8", "ru"),
        ("en-US,en;q=0.9", "en"),
        ("de-DE,en;q=0.5", "en"),
        ("de", "ru"),
        ("", "ru"),
        ("kk-KZ,ru;q=0.8", "kk"),
        ("en-GB;q=0.9,ru-RU;q=0.8", "en"),
    ],
)
def test_accept_language_used_when_nothing_chosen(client, accept, expected):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = accept
    assert html_lang(client.get("/")) == expected


def _switcher(response) -> dict[str, tuple[bool, str]]:
    """Language code -> (form has a CSRF token, the page it returns to)."""
    found = {}
    for code, body in re.findall(
        r'<form method="post" action="/language/(\w+)" class="inline-form">(.*?)</form>',
        response.get_data(as_text=True), flags=re.S,
    ):
        has_token = re.search(r'name="csrf_token" type="hidden" value="[^"]+"', body) is not None
        next_value = re.search(r'name="next" value="([^"]*)"', body).group(1)
        found[code] = (has_token, next_value)
    return found


@pytest.mark.parametrize(
    ("url", "status", "token"),
    [
        ("/", 200, False),  # shared by every visitor: no per-visitor token (awards/cache.py)
        ("/account/login", 200, True),
        ("/account/register", 200, True),
        ("/account/password/forgot", 200, True),
        ("/no-such-page", 404, True),
    ],
)
def test_switcher_on_every_page(client, url, status, token):
    response = client.get(url)

    assert response.status_code == status
    assert _switcher(response) == dict.fromkeys(LANGS, (token, url))


def test_switcher_on_pages_of_logged_in_user(client, make_user):
    make_user()
    login(client, "user@example.com")
    for url in ["/account/profile", "/account/password"]:
        assert _switcher(client.get(url)) == dict.fromkeys(LANGS, (True, url))


def test_switcher_on_error_page_after_refused_post(client):
    response = client.post("/account/logout")
    assert response.status_code == 400
    assert _switcher(response) == dict.fromkeys(LANGS, (True, "/account/logout"))


def test_switcher_marks_current_language(client):
    switch(client, "kk")
    text = client.get("/").get_data(as_text=True)
    current = re.findall(r'<button type="submit" lang="(\w+)" class="lang-button is-current"\s+'
                         r'aria-current="true">', text)
    assert current == ["kk"]


def test_switcher_form_on_error_page_works(client):
    token = get_csrf(client, "/no-such-page")

    response = client.post("/language/en", data={"csrf_token": token, "next": "/no-such-page"})

    assert response.headers["Location"] == "/no-such-page"
    assert html_lang(client.get("/no-such-page")) == "en"


def test_register_uses_page_language_for_account_and_mail(app, client, outbox):
    switch(client, "kk")

    post_form(client, "/account/register", {
        "full_name": "Aigerim", "email": "aigerim@example.com", "password": "a-long-password",
        "confirm": "a-long-password", "accept": "y",
    })

    assert preferred_language(app, "aigerim@example.com") == "kk"
    assert [(m.kind, m.language) for m in outbox()] == [("verify_email", "kk")]


def test_reset_mail_in_account_language_not_page_language(app, client, make_user, outbox):
    make_user(language="kk")
    switch(client, "en")

    post_form(client, "/account/password/forgot", {"email": "user@example.com"})

    assert [(m.kind, m.language) for m in outbox()] == [("reset_password", "kk")]


def test_profile_language_choice_offers_each_language_named_in_itself(client, make_user):
    make_user(language="ru")
    login(client, "user@example.com", PASSWORD)

    text = client.get("/account/profile").get_data(as_text=True)
    options = re.findall(r'<option ([^>]*)>([^<]*)</option>', text)

    assert options == [
        ('lang="kk" value="kk"', "Қазақша"),
        ('lang="ru" selected value="ru"', "Русский"),
        ('lang="en" value="en"', "English"),
    ]

