"""The page cache's front (awards/cache_front.py): a cached public page is answered before
Flask's request handling, with the same bytes and headers the application answered, and
only to those the application would have shared it with.

"Reached Flask" is counted by a before_request hook of the real app: a page answered by the
front never runs it."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from awards import create_app
from awards.cache_front import PageFront
from awards.calls.models import Call
from awards.db import utcnow
from tests.conftest import login
from tests.factories import arrange, make_call
from tests.public_stage_factories import SLUG, act_as_voter, make_voter, public_world

TOKEN = "front-scrape-token"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "CACHE_URL": "simple://", "METRICS_TOKEN": TOKEN}


@pytest.fixture
def reached(app):
    """How many requests Flask itself handled (its before_request hooks ran)."""
    seen: list[str] = []

    @app.before_request
    def _count():
        from flask import request

        seen.append(request.path)

    return seen


@pytest.fixture
def call(app):
    arrange(app, lambda s: make_call(s, title_en="Volunteer of the Year"))
    return "voy-2026"


def browser(app, lang: str = "en"):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
    return client


def headers_of(response) -> dict[str, str]:
    return {name: value for name, value in response.headers.items()
            if name not in ("X-Page-Cache",)}


def test_a_hit_is_answered_before_flask_with_the_applications_bytes_and_headers(
        app, reached, call):
    visitor = browser(app)
    built = visitor.get("/calls/")
    assert built.headers["X-Page-Cache"] == "miss" and reached == ["/calls/"]

    for url in ("/calls/", "/calls/?page=1"):
        visitor.get(url)  # the second address is built once too
    reached.clear()
    other = browser(app)
    hit = other.get("/calls/")

    assert reached == []
    assert hit.status_code == 200 and hit.headers["X-Page-Cache"] == "hit"
    assert hit.get_data() == built.get_data()
    assert "Volunteer of the Year" in hit.get_data(as_text=True)
    # Security headers, type, ETag, Vary, Cache-Control: what the application answered.
    assert headers_of(hit) == headers_of(built)
    assert hit.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert hit.headers["X-Frame-Options"] == "DENY"
    assert hit.headers["Cache-Control"] == "public, max-age=10, s-maxage=10"
    assert "Set-Cookie" not in hit.headers

    head = other.head("/calls/")
    assert reached == [] and head.status_code == 200 and head.get_data() == b""
    assert head.headers["ETag"] == built.headers["ETag"]
    assert head.headers["Content-Length"] == str(len(built.get_data()))

    same = other.get("/calls/", headers={"If-None-Match": built.headers["ETag"]})
    assert (same.status_code, same.get_data()) == (304, b"")
    assert same.headers["ETag"] == built.headers["ETag"]
    assert other.get("/calls/", headers={"If-None-Match": '"other"'}).status_code == 200
    assert reached == []


def test_a_change_shows_at_once_and_an_embargo_holds_through_the_front(app, reached, call):
    visitor = browser(app)
    visitor.get("/calls/")

    def rename(session):
        session.scalar(select(Call)).title_en = "Volunteer of the Decade"

    arrange(app, rename)
    changed = visitor.get("/calls/")
    assert changed.headers["X-Page-Cache"] == "miss"
    assert "Volunteer of the Decade" in changed.get_data(as_text=True)

    closes = (utcnow() + timedelta(days=1)).replace(microsecond=0)
    arrange(app, lambda s: setattr(s.scalar(select(Call)), "closes_at", closes))
    with time_machine.travel(closes - timedelta(microseconds=1), tick=False):
        assert visitor.get(f"/calls/{call}").headers["X-Page-Cache"] == "miss"
        reached.clear()
        assert visitor.get(f"/calls/{call}").headers["X-Page-Cache"] == "hit"
        assert reached == []
    with time_machine.travel(closes, tick=False):
        after = visitor.get(f"/calls/{call}")
    assert after.headers["X-Page-Cache"] == "miss" and reached == [f"/calls/{call}"]


def test_a_logged_in_user_goes_to_flask_and_gets_their_own_page(app, reached, call,
                                                                make_user):
    visitor = browser(app)
    visitor.get("/")
    make_user(name="Aigerim Personal")
    client = browser(app)
    login(client, "user@example.com")
    reached.clear()

    mine = client.get("/")

    assert reached == ["/"]
    assert mine.headers["X-Page-Cache"] == "bypass"
    assert "Aigerim Personal" in mine.get_data(as_text=True)
    assert "Aigerim Personal" not in visitor.get("/").get_data(as_text=True)


def test_an_authorization_header_or_a_remember_cookie_goes_to_flask(app, reached, call):
    visitor = browser(app)
    visitor.get("/")
    reached.clear()
    visitor.get("/", headers={"Authorization": "Bearer something"})
    remembered = browser(app)
    remembered.set_cookie("remember_token", "1|abc")
    remembered.get("/")
    assert reached == ["/", "/"]


def test_a_flashed_message_goes_to_flask_and_is_never_cached(app, reached, call):
    browser(app).get("/")
    client = browser(app)
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "Only for you: thank you!")]
    reached.clear()

    flashed = client.get("/")

    assert reached == ["/"] and flashed.headers["X-Page-Cache"] == "bypass"
    assert "Only for you: thank you!" in flashed.get_data(as_text=True)
    later = client.get("/")
    assert "Only for you" not in later.get_data(as_text=True)
    assert later.headers["X-Page-Cache"] == "hit"


def test_a_forged_session_cookie_goes_to_flask(app, reached, call):
    browser(app).get("/")
    forged = browser(app)
    forged.set_cookie("session", "eyJfdXNlcl9pZCI6IjEifQ.forged.signature")
    reached.clear()
    assert forged.get("/").status_code == 200
    assert reached == ["/"]


def test_a_voter_goes_to_flask_and_sees_their_own_page(app, reached):
    world = arrange(app, public_world)
    voter_id = arrange(app, lambda s: make_voter(s, "mine@example.org").id)
    url = f"/public/{SLUG}/{world.references[0]}"
    visitor = browser(app)
    visitor.get(url)
    assert visitor.get(url).headers["X-Page-Cache"] == "hit"

    voter = browser(app)
    act_as_voter(voter, voter_id)
    reached.clear()
    mine = voter.get(url)

    assert reached == [url] and mine.headers["X-Page-Cache"] == "bypass"
    assert "mine@example.org" in mine.get_data(as_text=True)
    assert "mine@example.org" not in visitor.get(url).get_data(as_text=True)


def test_a_language_chosen_in_the_session_is_served_by_the_front_in_that_language(
        app, reached, call):
    english = browser(app, "en")
    english.get("/calls/")
    kazakh = browser(app, "en")  # the browser says English, the visitor chose Kazakh
    with kazakh.session_transaction() as session:
        session["lang"] = "kk"

    first = kazakh.get("/calls/")  # Flask-Login marks the session once: a cookie, private
    assert '<html lang="kk">' in first.get_data(as_text=True)
    assert "Set-Cookie" in first.headers
    reached.clear()

    again = kazakh.get("/calls/")
    assert reached == [] and again.headers["X-Page-Cache"] == "hit"
    assert '<html lang="kk">' in again.get_data(as_text=True)
    assert "Set-Cookie" not in again.headers
    assert '<html lang="en">' in english.get("/calls/").get_data(as_text=True)
    russian = browser(app, "ru, en;q=0.5")
    assert '<html lang="ru">' in russian.get("/calls/").get_data(as_text=True)
    assert reached == ["/calls/"]  # Russian was built once; English came from the front


def test_pages_that_are_not_shared_and_posts_go_to_flask(app, reached, call):
    visitor = browser(app)
    visitor.get("/account/login")
    visitor.get("/certificates/verify")
    visitor.get("/certificates/verify")  # a page with a condition: Flask decides each time
    reached.clear()
    visitor.get("/account/login")
    visitor.get("/certificates/verify")
    visitor.post("/calls/")
    assert reached == ["/account/login", "/certificates/verify", "/calls/"]


def test_hits_answered_by_the_front_are_counted_under_the_pages_endpoint(app, reached, call):
    visitor = browser(app)
    for _ in range(3):
        visitor.get("/calls/")
    scraped = visitor.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    samples = {(s.name, frozenset(s.labels.items())): s.value
               for family in text_string_to_metric_families(scraped.get_data(as_text=True))
               for s in family.samples}

    assert reached == ["/calls/", "/metrics"]
    assert samples[("awards_cache_hits_total", frozenset({"cache": "page"}.items()))] == 2
    assert samples[("awards_cache_misses_total", frozenset({"cache": "page"}.items()))] == 1
    assert samples[("awards_request_duration_seconds_count", frozenset(
        {"endpoint": "calls.index", "method": "GET", "status": "200"}.items()))] == 3


def front_of(app):
    layer = app.wsgi_app
    while not isinstance(layer, PageFront):
        layer = layer.wsgi_app
    return layer


def test_the_front_can_be_turned_off_and_flask_serves_the_hits(app, app_config, reached, call):
    assert front_of(app).serve
    assert not front_of(create_app({**app_config, "CACHE_FRONT": "false"})).serve
    front_of(app).serve = False
    visitor = browser(app)
    responses = [visitor.get("/calls/") for _ in range(2)]
    assert [r.headers["X-Page-Cache"] for r in responses] == ["miss", "hit"]
    assert reached == ["/calls/", "/calls/"]
