import logging

import pytest
from flask import abort
from sqlalchemy import select

from awards import create_app
from awards.auth.models import User
from awards.db import get_db
from tests.conftest import ON_POSTGRES, free_port, get_csrf


@pytest.fixture
def make_app(app_config):
    made = []

    def _make(**overrides):
        app = create_app(app_config | overrides)
        made.append(app)
        return app

    yield _make
    for app in made:
        app.extensions["awards_db"]["engine"].dispose()


@pytest.fixture
def failing_app(app):
    def boom():
        db = get_db()
        db.add(User(email="half-done@example.com", password_hash="x"))
        db.flush()
        raise RuntimeError("secret internals: password=hunter2")

    def forbidden():
        abort(403)

    app.add_url_rule("/test/boom", view_func=boom)
    app.add_url_rule("/test/forbidden", view_func=forbidden)
    return app



@pytest.fixture
def app_config(app_config):
    # These tests read the English wording; the Russian pages are checked separately.
    return {**app_config, "BABEL_DEFAULT_LOCALE": "en"}


def _assert_error_page(response, status, title, message):
    html = response.get_data(as_text=True)
    assert response.status_code == status
    assert response.mimetype == "text/html"
    assert f"<h1>{title}</h1>" in html
    assert f"<p>{message}</p>" in html
    assert f'<p class="error-code">{status}</p>' in html
    assert "Traceback" not in html
    assert 'href="/"' in html
    return html


def test_bad_request_page(client):
    response = client.post("/language/en", data={"next": "/"})
    _assert_error_page(response, 400, "Bad request",
                       "The request could not be understood. Please check the form and try again.")


def test_forbidden_page(failing_app):
    response = failing_app.test_client().get("/test/forbidden")
    _assert_error_page(response, 403, "Access denied",
                       "You do not have permission to open this page.")


def test_not_found_page(client):
    response = client.get("/no/such/page")
    _assert_error_page(response, 404, "Page not found",
                       "The page you are looking for does not exist or is not available to you.")


def test_method_not_allowed_page(client):
    response = client.get("/language/en")
    _assert_error_page(response, 405, "Method not allowed",
                       "This address does not accept that kind of request.")
    assert set(response.headers["Allow"].split(", ")) == {"OPTIONS", "POST"}


def test_request_too_large_page(make_app):
    client = make_app(MAX_CONTENT_LENGTH=2000).test_client()
    csrf = get_csrf(client, "/account/login")
    response = client.post("/account/login", data={
        "csrf_token": csrf, "email": "a@example.com", "password": "x" * 5000})
    html = _assert_error_page(response, 413, "File too large",
                              "The upload is larger than allowed. Please choose a smaller file.")
    assert 'name="csrf_token"' in html


def test_too_many_requests_page(make_app):
    # (Login refusals say more: tests/security/test_login_throttle.py.)
    client = make_app(RATELIMIT_ENABLED=True, RATELIMIT_RESET="2 per minute").test_client()
    csrf = get_csrf(client, "/account/password/forgot")
    form = {"csrf_token": csrf, "email": "a@example.com"}
    assert [client.post("/account/password/forgot", data=form).status_code
            for _ in range(2)] == [200, 200]
    response = client.post("/account/password/forgot", data=form)
    _assert_error_page(response, 429, "Too many requests",
                       "Too many attempts. Please wait a little and try again.")
    assert int(response.headers["Retry-After"]) > 0


def test_unexpected_error_page_hides_the_details_and_rolls_back(failing_app, caplog):
    with caplog.at_level(logging.ERROR, logger="awards.errors"):
        response = failing_app.test_client().get("/test/boom")
    html = _assert_error_page(
        response, 500, "Something went wrong",
        "An unexpected error happened. It has been logged; please try again later.")
    assert "hunter2" not in html
    assert "RuntimeError" not in html
    assert [r.exc_info[0] for r in caplog.records] == [RuntimeError]
    with failing_app.app_context():
        assert get_db().scalar(select(User)) is None


def test_error_page_follows_the_chosen_language(client):
    with client.session_transaction() as session:
        session["lang"] = "ru"
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert '<html lang="ru">' in response.get_data(as_text=True)


def test_error_page_in_english(client):
    with client.session_transaction() as session:
        session["lang"] = "en"
    response = client.get("/no/such/page")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert '<html lang="en">' in html
    assert "<title>Page not found · Awards</title>" in html


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_health_check_reports_unreachable_database(make_app, tmp_path, backend):
    if backend == "postgresql":
        url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/awards"
    else:
        url = f"sqlite:///{tmp_path / 'missing-dir' / 'awards.db'}"
    client = make_app(DATABASE_URL=url).test_client()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "error", "database": "unavailable"}


def test_health_check_reports_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "ok"
    assert response.json["database"] == "ok"
    assert (client.application.extensions["awards_db"]["engine"].dialect.name
                           == "postgresql") == ON_POSTGRES
