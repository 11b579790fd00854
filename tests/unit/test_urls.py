"""safe_next decides where a visitor goes after login or a language switch: never off-site."""

import pytest
from flask import Flask

from awards.urls import external_url, is_safe_next, safe_next


@pytest.fixture
def bare_app():
    app = Flask(__name__)
    app.config["BASE_URL"] = "https://awards.example.kz/"
    app.add_url_rule("/", endpoint="main.index")
    app.add_url_rule("/account/verify/<token>", endpoint="auth.verify_email")
    return app


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/", "/"),
        ("/account/profile", "/account/profile"),
        ("/calls/3?tab=jury&page=2", "/calls/3?tab=jury&page=2"),
        ("/calls/3#results", "/calls/3#results"),
        ("/javascript:alert(1)", "/javascript:alert(1)"),
        ("/%2F%2Fevil.com", "/%2F%2Fevil.com"),
        # everything below leaves the site, or might in some browser: back to the home page
        (None, "/"),
        ("", "/"),
        ("//evil.com", "/"),
        ("///evil.com", "/"),
        ("https://evil.com", "/"),
        ("http://localhost/account/profile", "/"),
        ("https:evil.com", "/"),
        ("/\\evil.com", "/"),
        ("\\\\evil.com", "/"),
        ("\\/evil.com", "/"),
        ("javascript:alert(1)", "/"),
        ("JavaScript:alert(1)", "/"),
        ("data:text/html,<script>alert(1)</script>", "/"),
        ("evil.com", "/"),
        ("account/profile", "/"),
        (" //evil.com", "/"),
        ("/\t/evil.com", "/"),
        ("/\n/evil.com", "/"),
        ("/\r\n/evil.com", "/"),
        ("/\x00/evil.com", "/"),
        ("/ /evil.com", "/"),
    ],
)
def test_safe_next_follows_only_same_site_paths(bare_app, target, expected):
    with bare_app.test_request_context():
        assert safe_next(target) == expected


@pytest.mark.parametrize(
    ("target", "expected"),
    [("/account/profile", True), ("//evil.com", False), (None, False), ("/\t/evil.com", False)],
)
def test_is_safe_next_needs_no_request(target, expected):
    assert is_safe_next(target) == expected


def test_safe_next_falls_back_to_given_endpoint(bare_app):
    bare_app.add_url_rule("/account/login", endpoint="auth.login")
    with bare_app.test_request_context():
        assert safe_next("//evil.com", "auth.login") == "/account/login"


def test_external_url_uses_base_url_without_double_slash(bare_app):
    with bare_app.test_request_context("http://internal:8000/"):
        assert external_url("auth.verify_email", token="abc") == (
            "https://awards.example.kz/account/verify/abc"
        )
