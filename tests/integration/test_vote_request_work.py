"""The shortcuts that cut the vote's work per request keep the site's behaviour: the language
(a signed-in or token user's preference, e-mails in their recipient's language), the security
headers a view sets itself, and sessions signed with a rotated key."""

from __future__ import annotations

from types import SimpleNamespace

from flask import g, render_template_string
from flask_babel import force_locale

from awards.i18n import select_locale


def test_template_text_follows_a_forced_language_and_comes_back(app):
    page = "{{ _('Your vote') }}|{{ ngettext('%(num)d vote.', '%(num)d votes.', 2) }}"
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert render_template_string(page) == "Your vote|2 votes."
        with force_locale("ru"):
            assert render_template_string(page) == "Ваш голос|2 голоса."
        assert render_template_string(page) == "Your vote|2 votes."


def test_language_of_a_user_known_to_the_request_is_used_without_a_login_session(app):
    # An API token's owner is set for the request only, not in the session.
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert str(select_locale()) == "en"
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        g._login_user = SimpleNamespace(is_authenticated=True, preferred_language="kk")
        assert str(select_locale()) == "kk"


def test_browser_language_is_read_from_each_request_header(app):
    for header, expected in (("kk-KZ,kk;q=0.9", "kk"), ("de, en;q=0.5", "en"), ("fr", "ru")):
        with app.test_request_context("/", headers={"Accept-Language": header}):
            assert str(select_locale()) == expected


def test_a_header_the_view_set_itself_is_kept_and_the_others_added(app):
    with app.test_request_context("/"):
        response = app.response_class("x")
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        response = app.process_response(response)
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")


def test_session_signed_with_a_rotated_key_is_still_read(app, client):
    with client.session_transaction() as session:
        session["lang"] = "kk"
    assert '<html lang="kk"' in client.get("/").get_data(as_text=True)
    app.config["SECRET_KEY_FALLBACKS"] = [app.secret_key]
    app.secret_key = "a-new-secret-key"
    assert '<html lang="kk"' in client.get("/").get_data(as_text=True)
    app.config["SECRET_KEY_FALLBACKS"] = []
    assert '<html lang="kk"' not in client.get("/", headers={"Accept-Language": "en"}).get_data(
        as_text=True)
