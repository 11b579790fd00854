"""No open redirect: every ``next`` the site follows stays on the site."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, get_csrf

OFF_SITE = [
    "https://evil.example/", "//evil.example/", "/\\evil.example", "\\\\evil.example",
    "/\t/evil.example", "http:evil.example", "javascript:alert(1)",
    "https:/\\evil.example", " //evil.example",
]


def landed(response) -> str:
    assert response.status_code in (302, 303)
    return response.headers["Location"]


@pytest.mark.parametrize("target", OFF_SITE)
def test_login_next_never_leads_off_site(client, make_user, target):
    make_user("user@example.com")
    response = client.post("/account/login", query_string={"next": target}, data={
        "email": "user@example.com", "password": PASSWORD,
        "csrf_token": get_csrf(client, "/account/login")})
    assert landed(response) == "/"


def test_login_next_with_a_nul_character_is_refused_and_leads_nowhere(client, make_user):
    make_user("user@example.com")
    response = client.post("/account/login", query_string={"next": "/\x00//evil.example"},
                           data={"email": "user@example.com", "password": PASSWORD,
                                 "csrf_token": get_csrf(client, "/account/login")},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "not allowed in “next”" in response.get_data(as_text=True)
    assert client.get("/account/login", query_string={"next": "/\x00//evil.example"}
                      ).status_code == 400


@pytest.mark.parametrize("target", OFF_SITE)
def test_login_page_of_a_logged_in_user_never_leads_off_site(client, make_user, login_as,
                                                              target):
    make_user("user@example.com")
    login_as("user@example.com")
    assert landed(client.get("/account/login", query_string={"next": target})) == "/"


@pytest.mark.parametrize("target", OFF_SITE)
def test_language_switch_never_leads_off_site(client, target):
    response = client.post("/language/en", data={"next": target,
                                                  "csrf_token": get_csrf(client, "/")})
    assert landed(response) == "/"


@pytest.mark.parametrize("target", OFF_SITE)
def test_register_next_is_not_followed_off_site_after_first_login(client, make_user, target):
    client.get("/account/register", query_string={"next": target})
    make_user("user@example.com")
    response = client.post("/account/login", data={
        "email": "user@example.com", "password": PASSWORD,
        "csrf_token": get_csrf(client, "/account/login")})
    assert landed(response) == "/"


def test_same_site_next_is_followed(client, make_user):
    make_user("user@example.com")
    response = client.post("/account/login", query_string={"next": "/calls/?page=2"}, data={
        "email": "user@example.com", "password": PASSWORD,
        "csrf_token": get_csrf(client, "/account/login")})
    assert landed(response) == "/calls/?page=2"
