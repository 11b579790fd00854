"""Session fixation and what a copied session cookie is worth."""

from __future__ import annotations

from tests.conftest import PASSWORD, get_csrf, login


def session_cookie(client) -> str | None:
    cookie = client.get_cookie("session")
    return cookie.value if cookie is not None else None


def test_login_issues_a_new_session_and_the_one_before_is_not_logged_in(app, client, make_user):
    make_user("victim@example.com")
    client.get("/account/login")
    with client.session_transaction() as sess:
        sess["planted"] = "by-an-attacker"
    planted = session_cookie(client)

    login(client, "victim@example.com")

    assert session_cookie(client) != planted
    with client.session_transaction() as sess:
        assert "planted" not in sess
    attacker = app.test_client()
    attacker.set_cookie("session", planted)
    response = attacker.get("/nominations/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/login")


def test_session_cookie_is_http_only_and_same_site(client, make_user):
    make_user("victim@example.com")
    response = client.post("/account/login", data={
        "email": "victim@example.com", "password": PASSWORD,
        "csrf_token": get_csrf(client, "/account/login")})
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header


def test_session_of_a_reset_password_is_worthless(app, client, make_user):
    """Changing the password ends every copy of the session cookie (stolen ones included)."""
    make_user("victim@example.com")
    login(client, "victim@example.com")
    stolen = session_cookie(client)
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/nominations/").status_code == 200

    response = client.post("/account/password", data={
        "current": PASSWORD, "password": "a-new-long-password", "confirm": "a-new-long-password",
        "csrf_token": get_csrf(client, "/account/password")})

    assert response.status_code == 302
    assert thief.get("/nominations/").status_code == 302
    assert client.get("/nominations/").status_code == 200
