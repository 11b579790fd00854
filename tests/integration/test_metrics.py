"""Prometheus metrics at /metrics: hidden without a token, request latency per endpoint, cache
and vote counters, the mail queue read from the outbox, and counts that add up across gunicorn
workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from awards import create_app, metrics
from awards.db import utcnow
from awards.mail import FAILED, PENDING, SENDING, SENT, OutgoingMail
from tests.conftest import IsolatedClient, free_port, get_csrf
from tests.factories import arrange, english
from tests.public_stage_factories import SLUG, act_as_voter, make_voter, public_world

TOKEN = "scrape-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app_config(app_config):
    return {**app_config, "METRICS_TOKEN": TOKEN}


def scrape(client) -> dict[tuple[str, frozenset], float]:
    response = client.get("/metrics", headers=AUTH)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return parse(response.get_data(as_text=True))


def parse(text: str) -> dict[tuple[str, frozenset], float]:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def requests_counted(samples, endpoint: str, status: str = "200", method: str = "GET") -> float:
    key = ("awards_request_duration_seconds_count",
           frozenset({"endpoint": endpoint, "method": method, "status": status}.items()))
    return samples.get(key, 0.0)


def test_metrics_is_an_unknown_address_without_a_token(app_config):
    app = create_app({**app_config, "METRICS_TOKEN": ""})
    client = app.test_client()
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers=AUTH).status_code == 404
    with app.test_request_context("/"):
        metrics.cache_hit()  # does nothing, and does not fail
        metrics.cache_miss()
    assert "awards_metrics" not in app.extensions
    app.extensions["awards_db"]["engine"].dispose()


@pytest.mark.parametrize("header", [None, "Bearer wrong-token", f"Basic {TOKEN}", "Bearer "])
def test_metrics_answers_404_without_the_right_token(client, header):
    headers = {"Authorization": header} if header else {}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 404
    assert "awards_request" not in response.get_data(as_text=True)


def test_requests_are_counted_per_endpoint_with_their_status(client):
    for _ in range(2):
        assert client.get("/").status_code == 200
    assert client.get("/calls/").status_code == 200
    assert client.get("/no-such-page").status_code == 404
    samples = scrape(client)
    assert requests_counted(samples, "main.index") == 2
    assert requests_counted(samples, "calls.index") == 1
    assert requests_counted(samples, "unmatched", "404") == 1
    # Every request falls in the last bucket, and its time is counted.
    bucket = ("awards_request_duration_seconds_bucket",
              frozenset({"endpoint": "main.index", "method": "GET", "status": "200",
                         "le": "+Inf"}.items()))
    assert samples[bucket] == 2
    total = ("awards_request_duration_seconds_sum",
             frozenset({"endpoint": "main.index", "method": "GET", "status": "200"}.items()))
    assert samples[total] > 0


def test_cache_hits_and_misses_are_counted_by_cache(app, client):
    with app.test_request_context("/"):
        metrics.cache_hit()
        metrics.cache_hit()
        metrics.cache_miss()
        metrics.cache_hit("fragment")
    samples = scrape(client)
    assert samples[("awards_cache_hits_total", frozenset({"cache": "page"}.items()))] == 2
    assert samples[("awards_cache_misses_total", frozenset({"cache": "page"}.items()))] == 1
    assert samples[("awards_cache_hits_total", frozenset({"cache": "fragment"}.items()))] == 1


def _votes(samples) -> dict[tuple[str, str], float]:
    out = {}
    for (name, labels), value in samples.items():
        if name == "awards_public_votes_total":
            found = dict(labels)
            out[(found["outcome"], found["reason"])] = value
    return out


def test_public_votes_cast_and_refused_are_counted(app, client):
    world = arrange(app, public_world)
    first, second = world.references[0], world.references[1]
    # Not verified yet: sent to the verification page (HTML), 401 (JSON).
    token = get_csrf(english(client), f"/public/{SLUG}/{first}")
    assert client.post(f"/public/{SLUG}/{first}/vote",
                       data={"csrf_token": token}).status_code == 303
    assert client.post(f"/public/{SLUG}/{first}/vote", data={"csrf_token": token},
                       headers={"Accept": "application/json"}).status_code == 401
    act_as_voter(client, arrange(app, lambda s: make_voter(s, "voter@example.org").id))
    token = get_csrf(client, f"/public/{SLUG}/{first}")
    assert client.post(f"/public/{SLUG}/{first}/vote",
                       data={"csrf_token": token}).status_code == 303
    assert client.post(f"/public/{SLUG}/{first}/vote",
                       data={"csrf_token": token}).status_code == 303
    assert client.post(f"/public/{SLUG}/{second}/vote",
                       data={"csrf_token": token}).status_code == 303
    assert client.post(f"/public/{SLUG}/{first}/vote",
                       data={"csrf_token": "expired"}).status_code == 400
    assert client.post(f"/public/{SLUG}/NO-SUCH/vote",
                       data={"csrf_token": token}).status_code == 404
    assert _votes(scrape(client)) == {
        ("cast", ""): 1, ("unchanged", ""): 1, ("changed", ""): 1,
        ("refused", "unverified"): 2, ("refused", "form_expired"): 1,
        ("refused", "not_found"): 1,
    }


def _mail(status: str, *, created_minutes_ago: int, due_in_minutes: int = -1) -> OutgoingMail:
    now = utcnow()
    return OutgoingMail(to_address="someone@example.org", subject="s", body_text="b",
                        status=status, created_at=now - timedelta(minutes=created_minutes_ago),
                        next_attempt_at=now + timedelta(minutes=due_in_minutes))


def test_mail_queue_depth_is_read_from_the_outbox(app, client):
    samples = scrape(client)
    assert samples[("awards_mail_queue_messages", frozenset({"status": "pending"}.items()))] == 0
    assert samples[("awards_mail_queue_oldest_due_age_seconds", frozenset())] == 0
    assert samples[("awards_mail_queue_up", frozenset())] == 1
    arrange(app, lambda s: s.add_all([
        _mail(PENDING, created_minutes_ago=10),
        _mail(PENDING, created_minutes_ago=3),
        # Results e-mails held until the publication time: queued, not due.
        _mail(PENDING, created_minutes_ago=60, due_in_minutes=120),
        _mail(FAILED, created_minutes_ago=30, due_in_minutes=5),
        _mail(SENDING, created_minutes_ago=1, due_in_minutes=9),
        _mail(SENT, created_minutes_ago=600),
    ]))
    samples = scrape(client)
    queued = {dict(labels)["status"]: value for (name, labels), value in samples.items()
              if name == "awards_mail_queue_messages"}
    due = {dict(labels)["status"]: value for (name, labels), value in samples.items()
           if name == "awards_mail_queue_due_messages"}
    assert queued == {"pending": 3, "sending": 1, "failed": 1}
    assert due == {"pending": 2, "sending": 0, "failed": 0}
    age = samples[("awards_mail_queue_oldest_due_age_seconds", frozenset())]
    assert 10 * 60 <= age < 11 * 60


def test_requests_are_timed_around_the_proxy_settings(app_config):
    """With a trusted proxy, the middleware sits outside ProxyFix and still sees the endpoint."""
    app = create_app({**app_config, "PROXY_COUNT": 1})
    app.test_client_class = IsolatedClient
    client = app.test_client()
    client.get("/", headers={"X-Forwarded-For": "203.0.113.9"})
    assert requests_counted(scrape(client), "main.index") == 1
    app.extensions["awards_db"]["engine"].dispose()


# ---- several gunicorn workers -----------------------------------------------------------------


def _get(url: str, headers: dict | None = None, timeout: float = 30) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""
    except urllib.error.URLError:
        return 0, ""  # not listening yet


def test_counts_add_up_across_gunicorn_workers(database_url, tmp_path):
    """Two workers with the documented gunicorn settings: whichever worker answers the scrape,
    it reports every request of both."""
    port = free_port()
    folder = tmp_path / "prometheus"
    folder.mkdir()
    (folder / "counter_99999.db").write_bytes(b"left from the last start")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWARDS_")}
    env.update({"AWARDS_ENV": "testing", "AWARDS_SECRET_KEY": "test-secret-key",
                "AWARDS_DATABASE_URL": database_url,
                "AWARDS_INSTANCE_PATH": str(tmp_path / "instance"),
                "AWARDS_METRICS_TOKEN": TOKEN, "PROMETHEUS_MULTIPROC_DIR": str(folder),
                "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{port} --workers 2"})
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [str(Path(sys.executable).with_name("gunicorn")), "-c", "deploy/gunicorn.conf.py",
             "app:app"], cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        # Each worker imports the site after the socket is open: on a busy machine, seconds.
        deadline = time.monotonic() + 60
        while _get(base + "/healthz", timeout=60)[0] != 200:
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.1)
        seen = set()
        for _ in range(20):
            status, body = _get(base + "/healthz")
            assert status == 200
        for _ in range(6):
            status, body = _get(base + "/metrics", AUTH)
            assert status == 200
            samples = parse(body)
            # The start-up probes above were counted too; the 20 are all there in every scrape.
            assert requests_counted(samples, "main.healthz") >= 21
            seen.add(requests_counted(samples, "main.healthz"))
        assert len(seen) == 1, "two scrapes in a row disagreed: counts are per worker"
        assert not (folder / "counter_99999.db").exists()
        assert _get(base + "/metrics")[0] == 404
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(15)
