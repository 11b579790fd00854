import re

import pytest

from awards import create_app


def _csp(response):
    return {
        name: values
        for name, *values in (part.split() for part in
                              response.headers["Content-Security-Policy"].split(";"))
    }


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("get", "/", 200),
        ("get", "/account/login", 200),
        ("get", "/healthz", 200),
        ("get", "/static/css/app.css", 200),
        ("get", "/no/such/page", 404),
        ("post", "/language/en", 400),
    ],
)
def test_every_response_carries_the_security_headers(client, method, url, status):
    response = getattr(client, method)(url)
    assert response.status_code == status
    csp = _csp(response)
    assert csp["script-src"] == ["'self'"]
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers


def test_home_page_has_no_inline_script(client):
    html = client.get("/").get_data(as_text=True)
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, flags=re.S | re.I)
    # Static files are linked under content-hashed names (awards/http_cache.py).
    assert (' src="/static/js/app.js" defer', "") in [
        (re.sub(r"\.[0-9a-f]{12}\.js", ".js", attrs), body) for attrs, body in scripts]
    assert [body for _attrs, body in scripts if body.strip()] == []
    assert [attrs for attrs, _body in scripts if not re.search(r'\ssrc="/static/', attrs)] == []
    assert re.search(r"\son[a-z]+\s*=", html, flags=re.I) is None
    assert "javascript:" not in html.lower()


def _set_cookie(client):
    response = client.get("/account/login")
    [cookie] = [v for k, v in response.headers.items() if k == "Set-Cookie"]
    return {part.strip().split("=")[0].lower() for part in cookie.split(";")}, cookie


def test_session_cookie_is_http_only_and_same_site_lax(client):
    flags, cookie = _set_cookie(client)
    assert cookie.startswith("session=")
    assert "httponly" in flags
    assert "samesite=lax" in cookie.lower()
    assert "secure" not in flags


def test_production_cookie_is_secure_and_transport_is_pinned(app_config):
    app = create_app(app_config | {"ENV": "production"})
    try:
        client = app.test_client()
        flags, cookie = _set_cookie(client)
        assert {"httponly", "secure"} <= flags
        assert "samesite=lax" in cookie.lower()
        response = client.get("/")
        assert (response.headers["Strict-Transport-Security"]
                == "max-age=31536000; includeSubDomains")
    finally:
        app.extensions["awards_db"]["engine"].dispose()
