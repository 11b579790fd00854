"""The public vote's paths under parallel requests against a real threaded server: a voter's
code attempts cannot be raced past their limit, and one voter's burst of votes cannot take
every database connection (no 5xx, the health check still answers)."""

from __future__ import annotations

import http.client
import re
import threading
import time
from urllib.parse import urlencode, urlsplit

from sqlalchemy import select

from awards.public_stage.models import Voter
from tests.conftest import csrf_from, post_form
from tests.factories import arrange, english, read
from tests.public_stage_factories import SLUG, public_world


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
