"""The documented nginx configuration (deploy/nginx/), run for real in front of the site: the
micro-cache keeps shared pages and nothing personal, the client cannot choose the address the
site records, logins are flood-limited, and /metrics is not reachable from outside.

Needs Debian's nginx (make test installs nginx-light); skipped without it, except in CI."""

from __future__ import annotations

import os
import urllib.error
import urllib.parse
import urllib.request

import pytest
from sqlalchemy import select

from awards.audit import AuditEvent
from bench.load.nginx import binary, nginx
from tests.conftest import csrf_from
from tests.factories import read

if binary() is None:
    if os.environ.get("CI") == "true":
        raise RuntimeError("nginx is missing: apt-get install nginx-light")
    pytest.skip("nginx is not installed (apt-get install nginx-light)", allow_module_level=True)

TOKEN = "metrics-token-for-the-proxy-test"


@pytest.fixture
def app_config(app_config):
    # As deployed: one trusted proxy, a shared page cache, metrics on.
    return {**app_config, "PROXY_COUNT": 1, "CACHE_URL": "simple://", "METRICS_TOKEN": TOKEN}


@pytest.fixture
def proxy(live_server):
    port = int(live_server.rsplit(":", 1)[1])
    with nginx(port) as server:
        yield f"http://{server.host}:{server.port}"


class Answer:
    def __init__(self, status: int, headers, body: str):
        self.status, self.headers, self.body = status, headers, body


def fetch(url: str, *, data: bytes | None = None, headers: dict | None = None) -> Answer:
    request = urllib.request.Request(url, data=data, headers={"Accept-Language": "en",
                                                              **(headers or {})})
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return Answer(response.status, response.headers, response.read().decode())
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.headers, error.read().decode(errors="replace"))


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_shared_pages_come_from_the_micro_cache_and_a_session_bypasses_it(proxy):
    first = fetch(proxy + "/calls/")
    again = fetch(proxy + "/calls/")
    assert (first.status, again.status) == (200, 200)
    assert first.headers["X-Micro-Cache"] == "MISS"
    assert again.headers["X-Micro-Cache"] == "HIT"
    assert again.body == first.body
    # Someone with a session (logged in, a voter, a flashed message) never gets the shared copy.
    personal = fetch(proxy + "/calls/", headers={"Cookie": "session=anything"})
    assert personal.headers["X-Micro-Cache"] == "BYPASS"
    # Another language is another page.
    russian = fetch(proxy + "/calls/", headers={"Accept-Language": "ru"})
    assert russian.headers["X-Micro-Cache"] == "MISS"
    assert russian.body != first.body


@pytest.mark.parametrize("path", ["/account/register", "/healthz"])
def test_pages_the_site_marks_private_are_never_kept(proxy, path):
    for _ in range(2):
        page = fetch(proxy + path)
        assert page.status == 200
        assert page.headers["X-Micro-Cache"] == "MISS"
        assert "private" in page.headers["Cache-Control"]


def test_the_client_cannot_choose_the_address_the_site_records(app, proxy):
    form = fetch(proxy + "/account/register")
    cookie = form.headers["Set-Cookie"].split(";", 1)[0]
    body = urllib.parse.urlencode({
        "full_name": "Proxy User", "email": "proxy@example.com", "password": "a-long-password",
        "confirm": "a-long-password", "accept": "y", "csrf_token": csrf_from(form.body),
    }).encode()
    answer = fetch(proxy + "/account/register", data=body, headers={
        "Cookie": cookie, "X-Forwarded-For": "203.0.113.9",
        "Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status in (200, 303)
    ips = read(app, lambda s: list(s.scalars(
        select(AuditEvent.ip).where(AuditEvent.action == "user.register"))))
    assert ips == ["127.0.0.1"]


def test_a_flood_of_logins_is_refused_by_nginx(proxy):
    statuses = [fetch(proxy + "/account/login", data=b"email=a%40b.c&password=x").status
                for _ in range(60)]
    # A burst of 30 passes, then one a second; the site answers those itself (its form
    # refuses a post without a token), nginx refuses the rest at once.
    assert 429 not in statuses[:30]
    assert statuses.count(429) >= 20


def test_metrics_are_not_reachable_through_nginx(live_server, proxy):
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert fetch(proxy + "/metrics", headers=auth).status == 404
    assert fetch(live_server + "/metrics", headers=auth).status == 200
