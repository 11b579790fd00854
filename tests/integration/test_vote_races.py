"""The public vote's paths under parallel requests against a real threaded server: a voter's
code attempts cannot be raced past their limit, and one voter's burst of votes cannot take
every database connection (no 5xx, the health check still answers)."""

from __future__ import annotations

import http.client
import re
import threading
import time
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from awards import create_app
from awards.nominations.models import Nomination
from awards.public_stage.models import PublicVote, Voter
from tests.conftest import csrf_from, free_port, post_form
from tests.factories import arrange, english, read
from tests.public_stage_factories import SLUG, act_as_voter, make_voter, public_world


def together(count: int, fn) -> list:
    """``fn(i)`` in ``count`` threads released at the same instant; the results in order."""
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list = []

    def run(i):
        try:
            barrier.wait(30)
            results[i] = fn(i)
        except BaseException as exc:  # reported below, with the others
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors[:3]
    return results


def send(base: str, method: str, path: str, *, cookie: str = "", form: dict | None = None,
         accept: str = "text/html") -> tuple[int, str, float]:
    """One request on its own connection: (status, body, seconds it took)."""
    url = urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=120)
    headers = {"Accept-Language": "en", "Accept": accept}
    if cookie:
        headers["Cookie"] = f"session={cookie}"
    body = None
    if form is not None:
        body = urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    started = time.perf_counter()
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read().decode(), time.perf_counter() - started
    finally:
        conn.close()


# ---- the voter's code attempts --------------------------------------------------------------


def test_parallel_wrong_codes_are_checked_no_more_than_the_allowed_attempts(
        app, client, live_server, outbox):
    arrange(app, public_world)
    english(client)
    post_form(client, f"/public/{SLUG}/verify", {"email": "voter@example.org"})
    code = re.search(r"^\s+(\d{6})$", outbox()[-1].body_text, re.M).group(1)
    wrong = "000000" if code != "000000" else "111111"
    token = csrf_from(client.get(f"/public/{SLUG}/verify/code").get_data(as_text=True))
    cookie = client.get_cookie("session").value
    allowed = app.config["PUBLIC_VOTER_CODE_ATTEMPTS"]

    answers = together(60, lambda _i: send(
        live_server, "POST", f"/public/{SLUG}/verify/code", cookie=cookie,
        form={"csrf_token": token, "code": wrong}))

    assert {status for status, _body, _t in answers} == {400}
    checked = sum("This code is not right." in body for _s, body, _t in answers)
    refused = sum("Too many wrong codes. Ask for a new one." in body for _s, body, _t in answers)
    assert (checked, refused) == (allowed, 60 - allowed)
    assert read(app, lambda s: s.scalar(select(Voter.code_attempts))) == allowed
    # The right code is refused too now: the attempts are used up.
    status, body, _t = send(live_server, "POST", f"/public/{SLUG}/verify/code", cookie=cookie,
                            form={"csrf_token": token, "code": code})
    assert status == 400 and "Too many wrong codes. Ask for a new one." in body
    assert read(app, lambda s: s.scalar(select(Voter.verified_at))) is None


# ---- one voter's burst of votes and the connection pool ---------------------------------------

POOL = {"DATABASE_POOL_SIZE": 2, "DATABASE_MAX_OVERFLOW": 0, "DATABASE_POOL_TIMEOUT": 15}


@pytest.fixture
def small_pool_site(app_config):
    """The site behind a real threaded server, with a pool of two connections and no
    overflow: a request that needs a second connection while holding one waits for it."""
    site = create_app({**app_config, **POOL})
    server = make_server("127.0.0.1", free_port(), site, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield site, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)
    site.extensions["awards_db"]["engine"].dispose()


def test_one_voters_parallel_votes_and_changes_leave_the_pool_to_others(small_pool_site):
    site, base = small_pool_site
    world = arrange(site, public_world)
    voter_id = arrange(site, lambda s: make_voter(s, "voter@example.org").id)
    # The three social entries: the burst casts one vote and moves it back and forth.
    refs = world.references[:3]
    category = read(site, lambda s: s.get(Nomination, world.refs[refs[0]]).category_id)
    browser = site.test_client()
    act_as_voter(browser, voter_id)
    token = csrf_from(browser.get(f"/public/{SLUG}/{refs[0]}").get_data(as_text=True))
    cookie = browser.get_cookie("session").value
    voting, rounds = 50, 3
    finished: list[int] = []
    lock, done = threading.Lock(), threading.Event()
    health: list[tuple[int, bool]] = []

    def probe():
        # The health check, again and again while the votes are in flight.
        while not done.is_set():
            status, _body, _took = send(base, "GET", "/healthz")
            health.append((status, done.is_set()))

    def burst(i):
        if i == voting:
            probe()
            return []
        answers = [send(base, "POST", f"/public/{SLUG}/{refs[(i + k) % 3]}/vote",
                        cookie=cookie, form={"csrf_token": token}, accept="application/json")
                   for k in range(rounds)]
        with lock:
            finished.append(i)
            if len(finished) == voting:
                done.set()
        return answers

    votes = [answer for answers in together(voting + 1, burst) for answer in answers]
    assert len(votes) == voting * rounds
    assert sorted({status for status, _b, _t in votes}) == [200]
    outcomes = {re.search(r'"outcome":\s*"(\w+)"', body).group(1) for _s, body, _t in votes}
    assert outcomes <= {"cast", "changed", "unchanged"} and "cast" in outcomes
    stored = read(site, lambda s: s.execute(
        select(PublicVote.voter_id, PublicVote.category_id, func.count())
        .group_by(PublicVote.voter_id, PublicVote.category_id)).all())
    assert [tuple(row) for row in stored] == [(voter_id, category, 1)]
    # The health check answered every time, and did so while votes were still in flight.
    assert health and {status for status, _after in health} == {200}
    assert any(not after for _status, after in health)
