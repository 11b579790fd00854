"""Anonymous public pages from the shared cache (awards/cache.py): a change shows at once, an
embargo holds to the microsecond, nobody's own page is ever shared, and HTTP caching says so.

The cache here is Flask-Caching's in-process SimpleCache (one test client, one process); the
Redis test at the end checks the same with two apps standing for two workers. Pages are asked
for in English unless a test is about languages."""

from __future__ import annotations

import os
import re
import uuid
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select, update

from awards import create_app
from awards.audit import record
from awards.auth.models import User
from awards.calls.models import Call
from awards.config import ConfigError
from awards.db import utcnow
from tests.conftest import login
from tests.factories import arrange, make_call
from tests.jury_factories import make_account
from tests.public_stage_factories import SLUG, act_as_voter, make_voter, public_world
from tests.results_factories import decided_call

ORIGIN = {"Origin": "http://localhost"}


@pytest.fixture
def app_config(app_config):
    return {**app_config, "CACHE_URL": "simple://"}


@pytest.fixture
def client(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def visitor(app):
    """Another anonymous browser."""
    other = app.test_client()
    other.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return other


@pytest.fixture
def call(app):
    arrange(app, lambda s: make_call(s, title_en="Volunteer of the Year"))
    return "voy-2026"


def page(client, url: str, **kw):
    response = client.get(url, **kw)
    return response, response.get_data(as_text=True)


def source(response) -> str:
    return response.headers["X-Page-Cache"]


# ---- a change shows at once -------------------------------------------------------------------


def test_second_visit_is_served_from_cache_and_a_change_shows_at_once(app, client, call):
    first, text = page(client, "/calls/")
    again, same = page(client, "/calls/")
    assert (source(first), source(again)) == ("miss", "hit")
    assert "Volunteer of the Year" in text and same == text

    def rename(session):
        session.scalar(select(Call)).title_en = "Volunteer of the Decade"

    arrange(app, rename)
    changed, text = page(client, "/calls/")

    assert source(changed) == "miss"
    assert "Volunteer of the Decade" in text and "Volunteer of the Year" not in text


def test_a_bulk_update_statement_makes_the_pages_stale_too(app, client, call):
    page(client, f"/calls/{call}")
    arrange(app, lambda s: s.execute(update(Call).values(title_en="Renamed in bulk")))

    response, text = page(client, f"/calls/{call}")

    assert source(response) == "miss"
    assert "Renamed in bulk" in text


def test_writes_no_public_page_reads_leave_the_cache_warm(app, client, call):
    page(client, "/calls/")

    def private_writes(session):
        make_account(session, "new-user@example.org")
        make_voter(session, "voter@example.org")
        record(session, action="test.private", object_type="call", object_id=1)

    arrange(app, private_writes)

    assert source(client.get("/calls/")) == "hit"


def test_a_vote_cast_leaves_the_candidates_page_cached(app, client, visitor):
    world = arrange(app, public_world)
    voter_id = arrange(app, lambda s: make_voter(s, "v@example.org").id)
    ref = world.references[0]
    assert source(visitor.get(f"/public/{SLUG}/{ref}")) == "miss"

    act_as_voter(client, voter_id)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      client.get(f"/public/{SLUG}/{ref}").get_data(as_text=True)).group(1)
    assert client.post(f"/public/{SLUG}/{ref}/vote",
                       data={"csrf_token": token}).status_code == 303

    # The running totals are never shown, so the shared page is still right.
    assert source(visitor.get(f"/public/{SLUG}/{ref}")) == "hit"


def test_cache_clear_command_makes_the_pages_stale(app, client, call):
    page(client, "/calls/")

    result = app.test_cli_runner().invoke(args=["awards", "cache", "clear"])

    assert result.exit_code == 0, result.output
    assert source(client.get("/calls/")) == "miss"


# ---- the embargo --------------------------------------------------------------------------------


def test_embargoed_results_appear_at_the_instant_and_not_a_microsecond_before(app, client):
    from awards.results import services

    world = arrange(app, decided_call)
    moment = (utcnow() + timedelta(hours=2)).replace(microsecond=0)

    def schedule(session):
        admin = session.scalar(select(User).where(User.email == world.admin_email))
        services.publish(session=session, actor=admin, call=session.get(Call, world.call_id),
                         scheduled_for=moment, token=None)

    arrange(app, schedule)
    archive = "/results/"

    with time_machine.travel(moment - timedelta(seconds=1), tick=False):
        before, text = page(client, archive)
        assert "Volunteer of the Year 2026" not in text
        assert client.get(f"/results/{world.call_slug}").status_code == 404
        # Neither a browser nor a proxy may keep the page past the instant.
        assert before.headers["Cache-Control"] == "public, max-age=1, s-maxage=1"

    with time_machine.travel(moment - timedelta(microseconds=1), tick=False):
        just_before, text = page(client, archive)
        assert source(just_before) == "hit"
        assert "Volunteer of the Year 2026" not in text

    with time_machine.travel(moment, tick=False):
        at, text = page(client, archive)
        assert source(at) == "miss"
        assert "Volunteer of the Year 2026" in text
        assert client.get(f"/results/{world.call_slug}").status_code == 200


def test_a_deadline_closes_the_cached_call_page_on_time(app, client):
    closes = (utcnow() + timedelta(days=1)).replace(microsecond=0)
    arrange(app, lambda s: make_call(s, closes_at=closes))

    with time_machine.travel(closes - timedelta(minutes=5), tick=False):
        assert 'href="/nominations/' in page(client, "/calls/voy-2026")[1]
    with time_machine.travel(closes + timedelta(microseconds=1), tick=False):
        response, text = page(client, "/calls/voy-2026")

    assert source(response) == "miss"
    assert 'href="/nominations/' not in text
    assert "Nominations for this call are closed." in text


# ---- nobody's own page is shared --------------------------------------------------------------


def test_a_logged_in_user_neither_gets_nor_fills_a_shared_page(app, client, visitor, make_user,
                                                             call):
    assert source(visitor.get("/")) == "miss"
    make_user(name="Aigerim Personal")
    login(client, "user@example.com")

    mine, text = page(client, "/")
    assert source(mine) == "bypass"
    assert "Aigerim Personal" in text
    assert mine.headers["Cache-Control"] == "private, no-store"
    # A page the cache has never seen: the user's visit does not store it either.
    assert "Aigerim Personal" in page(client, "/calls/")[1]

    shared, text = page(visitor, "/")
    assert source(shared) == "hit"
    assert "Aigerim Personal" not in text
    assert source(visitor.get("/calls/")) == "miss"


def test_a_flashed_message_is_shown_once_and_never_cached(app, client, visitor, call):
    page(visitor, "/")
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "Only for you: thank you!")]

    flashed, text = page(client, "/")
    assert source(flashed) == "bypass"
    assert "Only for you: thank you!" in text
    assert flashed.headers["Cache-Control"] == "private, no-store"

    assert "Only for you" not in page(visitor, "/")[1]
    later, text = page(client, "/")
    assert "Only for you" not in text
    assert source(later) == "hit"


def test_a_voter_gets_their_own_page_not_the_shared_one(app, client, visitor):
    world = arrange(app, public_world)
    voter_id = arrange(app, lambda s: make_voter(s, "mine@example.org").id)
    url = f"/public/{SLUG}/{world.references[0]}"
    assert source(visitor.get(url)) == "miss"

    act_as_voter(client, voter_id)
    mine, text = page(client, url)

    assert source(mine) == "bypass"
    assert "mine@example.org" in text
    assert "mine@example.org" not in page(visitor, url)[1]


def test_the_certificate_check_shares_its_empty_form_but_never_a_look_up(client):
    assert [source(client.get("/certificates/verify")) for _ in range(2)] == ["miss", "hit"]

    looked_up = client.get("/certificates/verify?code=K7Q2-M9XD-4HTR")

    assert looked_up.status_code == 404
    assert source(looked_up) == "bypass"
    assert looked_up.headers["Cache-Control"] == "private, no-store"


def test_language_variants_are_kept_apart(app, call):
    readers = {}
    for lang in ("kk", "ru", "en"):
        readers[lang] = app.test_client()
        readers[lang].environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
    first = {lang: page(c, "/calls/")[1] for lang, c in readers.items()}
    second = {lang: page(c, "/calls/") for lang, c in readers.items()}

    for lang, (response, text) in second.items():
        assert source(response) == "hit"
        assert f'<html lang="{lang}">' in text
        assert text == first[lang]
        assert "Accept-Language" in response.headers["Vary"]
    assert len(set(first.values())) == 3


def test_chosen_language_is_a_variant_of_its_own(app, client, call):
    assert '<html lang="en">' in page(client, "/")[1]
    switched = client.post("/language/kk", data={"next": "/"}, headers=ORIGIN)
    assert switched.status_code == 302

    response, text = page(client, "/")
    assert '<html lang="kk">' in text
    assert source(response) in ("miss", "hit")
    assert '<html lang="en">' in page(app.test_client(), "/",
                                      headers={"Accept-Language": "en"})[1]


# ---- HTTP --------------------------------------------------------------------------------------


def test_shared_page_is_public_briefly_token_free_and_sets_no_cookie(client, call):
    response, text = page(client, f"/calls/{call}")

    assert response.headers["Cache-Control"] == "public, max-age=10, s-maxage=10"
    assert response.headers["ETag"] and response.headers["Last-Modified"]
    assert "Set-Cookie" not in response.headers
    assert "csrf_token" not in text
    assert {"Cookie", "Accept-Language"} <= {v.strip() for v in
                                            response.headers["Vary"].split(",")}


def test_matching_etag_answers_304_until_the_page_changes(app, client, call):
    first = client.get("/calls/")
    etag = first.headers["ETag"]

    for _ in range(2):  # built (miss), then from the cache (hit)
        revalidated = client.get("/calls/", headers={"If-None-Match": etag})
        assert revalidated.status_code == 304
        assert revalidated.get_data() == b""

    arrange(app, lambda s: s.execute(update(Call).values(title_en="A new title")))
    changed = client.get("/calls/", headers={"If-None-Match": etag})

    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert "A new title" in changed.get_data(as_text=True)


def test_personal_and_form_pages_are_private_no_store(client, make_user):
    assert client.get("/account/login").headers["Cache-Control"] == "private, no-store"
    assert client.get("/no-such-page").headers["Cache-Control"] == "private, no-store"
    make_user()
    login(client, "user@example.com")
    assert client.get("/account/profile").headers["Cache-Control"] == "private, no-store"


def test_anonymous_language_switch_from_a_shared_page_needs_this_sites_origin(client,
                                                                            make_user):
    assert client.post("/language/kk", data={"next": "/"},
                       headers={"Origin": "https://evil.example"}).status_code == 400
    assert client.post("/language/kk", data={"next": "/"},
                       headers={**ORIGIN, "Sec-Fetch-Site": "cross-site"}).status_code == 400
    assert client.post("/language/kk", data={"next": "/"}).status_code == 400
    assert '<html lang="en">' in page(client, "/")[1]

    assert client.post("/language/ru", data={"next": "/"},
                       headers={"Sec-Fetch-Site": "same-origin"}).status_code == 302
    assert '<html lang="ru">' in page(client, "/")[1]

    assert client.post("/language/kk", data={"next": "/"}, headers=ORIGIN).status_code == 302
    assert '<html lang="kk">' in page(client, "/")[1]

    make_user()
    login(client, "user@example.com")
    # A logged-in user's pages carry the token; without it the switch is refused.
    assert client.post("/language/ru", data={"next": "/"}, headers=ORIGIN).status_code == 400


def test_static_files_under_hashed_names_are_kept_a_year(client):
    text = page(client, "/")[1]
    [stylesheet] = re.findall(r'href="(/static/css/app\.[0-9a-f]{12}\.css)"', text)

    hashed = client.get(stylesheet)
    plain = client.get("/static/css/app.css")
    stale = client.get("/static/css/app.000000000000.css")

    assert hashed.status_code == plain.status_code == stale.status_code == 200
    assert hashed.get_data() == plain.get_data() == stale.get_data()
    assert hashed.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert plain.headers["Cache-Control"] == "no-cache"
    assert stale.headers["Cache-Control"] == "no-cache"
    assert client.get("/static/css/nothing.000000000000.css").status_code == 404
    for response in (hashed, plain, stale):
        response.close()


# ---- configuration and Redis ------------------------------------------------------------------


@pytest.mark.parametrize(("env", "url", "backend"), [
    ("production", "", "NullCache"),  # one host's memory would serve another host's old pages
    ("production", "redis://127.0.0.1:6379/15", "RedisCache"),
    ("development", "", "FileSystemCache"),  # make run: shared by the local workers
    ("development", "null://", "NullCache"),
    ("testing", "", "NullCache"),
    ("testing", "simple://", "SimpleCache"),
])
def test_the_cache_is_chosen_by_the_cache_url_and_the_environment(app_config, env, url,
                                                                  backend):
    from awards.cache import page_cache

    app = create_app({**app_config, "ENV": env, "CACHE_URL": url})
    try:
        assert type(app.extensions["cache"][page_cache]).__name__ == backend
    finally:
        app.extensions["awards_db"]["engine"].dispose()


def test_an_unknown_cache_url_stops_the_start_naming_the_setting(app_config):
    with pytest.raises(ConfigError, match="AWARDS_CACHE_URL"):
        create_app({**app_config, "CACHE_URL": "memcached://127.0.0.1"})


REDIS_URL = os.environ.get("AWARDS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_config(app_config):
    """Two apps on one Redis, as two gunicorn workers; keys under a prefix of this test's own,
    removed afterwards."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"no Redis at {REDIS_URL}")
    prefix = f"awards-test-{uuid.uuid4().hex}:"
    yield {**app_config, "CACHE_URL": REDIS_URL, "CACHE_KEY_PREFIX": prefix}
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()


def test_with_redis_a_write_in_one_worker_shows_at_once_in_the_other(redis_config):
    first, second = create_app(redis_config), create_app(redis_config)
    try:
        arrange(first, lambda s: make_call(s, title_en="Before"))
        one, two = first.test_client(), second.test_client()
        assert (source(one.get("/calls/")), source(two.get("/calls/"))) == ("miss", "hit")

        arrange(second, lambda s: s.execute(update(Call).values(title_en="After")))
        response, text = page(one, "/calls/", headers={"Accept-Language": "en"})

        assert source(response) == "miss"
        assert "After" in text and "Before" not in text
    finally:
        for app in (first, second):
            app.extensions["awards_db"]["engine"].dispose()
