"""Integrity of the vote: rate limits per address and network, disposable addresses and bursts
flagged for review (never dropped), annulment with a reason, totals hidden until the close."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import select

from awards import create_app
from awards.audit import AuditEvent
from awards.public_stage.models import PublicVote
from tests.conftest import get_csrf, post_form
from tests.factories import arrange, english, read
from tests.public_stage_factories import (
    SLUG,
    act_as_voter,
    add_vote,
    make_voter,
    public_world,
)


@pytest.fixture
def world(app):
    return arrange(app, public_world)


def _vote(client, ref, ip="203.0.113.7"):
    token = get_csrf(client, f"/public/{SLUG}/{ref}")
    return client.post(f"/public/{SLUG}/{ref}/vote", data={"csrf_token": token},
                       environ_base={"REMOTE_ADDR": ip})


def _flags(app):
    return read(app, lambda s: [(v.flagged, v.flag_reasons, v.network) for v in s.scalars(
        select(PublicVote).order_by(PublicVote.id))])


def test_vote_from_disposable_address_is_counted_and_flagged(app, client, world):
    act_as_voter(english(client), arrange(app, lambda s: make_voter(s, "x@mailinator.com").id))
    assert _vote(client, world.references[0]).status_code == 303
    assert _flags(app) == [(True, ["disposable_email"], "203.0.113.0/24")]


def test_vote_from_ordinary_address_is_not_flagged(app, client, world):
    act_as_voter(english(client), arrange(app, lambda s: make_voter(s, "x@example.org").id))
    _vote(client, world.references[0])
    assert _flags(app) == [(False, [], "203.0.113.0/24")]


def test_burst_from_one_network_flags_every_vote_of_the_burst(app, world):
    app.config["PUBLIC_VOTE_BURST_COUNT"] = 2
    ids = arrange(app, lambda s: [make_voter(s, f"v{i}@example.org").id for i in range(4)])
    for i, voter_id in enumerate(ids):
        c = english(app.test_client())
        act_as_voter(c, voter_id)
        _vote(c, world.references[0], ip=f"198.51.100.{10 + i}")
    # The third vote crossed the limit: it and the two before it in the window are flagged,
    # and so is the fourth; all four are still counted.
    assert _flags(app) == [(True, ["burst"], "198.51.100.0/24")] * 4


def test_votes_per_address_are_rate_limited(app, app_config, world):
    limited = create_app({**app_config, "RATELIMIT_ENABLED": True,
                          "RATELIMIT_PUBLIC_VOTE": "2 per minute"})
    try:
        ids = arrange(app, lambda s: [make_voter(s, f"r{i}@example.org").id for i in range(3)])
        answers = []
        for voter_id in ids:
            c = english(limited.test_client())
            act_as_voter(c, voter_id)
            answers.append(_vote(c, world.references[0]))
        assert [a.status_code for a in answers] == [303, 303, 429]
        assert len(_flags(app)) == 2
        # The refusal says when to come back (within the minute); no X-RateLimit-* headers,
        # which would cost two more look-ups in the limits' storage on every vote.
        assert 1 <= int(answers[2].headers["Retry-After"]) <= 60
        assert "Too many attempts" in answers[2].get_data(as_text=True)
        assert not [name for a in answers for name, _value in a.headers.items()
                    if name.startswith("X-RateLimit")]
    finally:
        limited.extensions["awards_db"]["engine"].dispose()


def test_votes_per_network_are_rate_limited_across_addresses(app, app_config, world):
    limited = create_app({**app_config, "RATELIMIT_ENABLED": True,
                          "RATELIMIT_PUBLIC_VOTE_NETWORK": "2 per minute"})
    try:
        ids = arrange(app, lambda s: [make_voter(s, f"n{i}@example.org").id for i in range(4)])
        statuses = []
        for i, voter_id in enumerate(ids[:3]):
            c = english(limited.test_client())
            act_as_voter(c, voter_id)
            statuses.append(_vote(c, world.references[0], ip=f"192.0.2.{i + 1}").status_code)
        other = english(limited.test_client())
        act_as_voter(other, ids[3])
        statuses.append(_vote(other, world.references[0], ip="192.0.3.1").status_code)
        assert statuses == [303, 303, 429, 303]
    finally:
        limited.extensions["awards_db"]["engine"].dispose()


def test_vote_over_the_limit_answers_json_with_the_wait(app, app_config, world):
    limited = create_app({**app_config, "RATELIMIT_ENABLED": True,
                          "RATELIMIT_PUBLIC_VOTE": "1 per minute"})
    try:
        ids = arrange(app, lambda s: [make_voter(s, f"j{i}@example.org").id for i in range(2)])
        answers = []
        for voter_id in ids:
            c = english(limited.test_client())
            act_as_voter(c, voter_id)
            token = get_csrf(c, f"/public/{SLUG}/{world.references[0]}")
            answers.append(c.post(f"/public/{SLUG}/{world.references[0]}/vote",
                                  data={"csrf_token": token},
                                  headers={"Accept": "application/json"}))
        assert [a.status_code for a in answers] == [200, 429]
        assert answers[1].json == {
            "ok": False, "message": "Too many attempts. Please wait a little and try again."}
        assert 1 <= int(answers[1].headers["Retry-After"]) <= 60
        assert len(_flags(app)) == 1
    finally:
        limited.extensions["awards_db"]["engine"].dispose()


REDIS_URL = os.environ.get("AWARDS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_limits(app_config):
    """The limits as in production with several workers: counters in Redis, under a prefix of
    this test's own (removed afterwards)."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"no Redis at {REDIS_URL}")
    prefix = f"awards-test-{uuid.uuid4().hex}"
    yield {**app_config, "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": REDIS_URL,
           "RATELIMIT_KEY_PREFIX": prefix}, client, prefix
    for key in client.scan_iter(f"*{prefix}*"):
        client.delete(key)
    client.close()


def test_vote_limits_counted_in_redis_refuse_the_vote_over_the_limit(app, world, redis_limits):
    config, client, prefix = redis_limits
    limited = create_app({**config, "RATELIMIT_PUBLIC_VOTE": "2 per minute;5 per hour",
                          "RATELIMIT_PUBLIC_VOTE_NETWORK": "10 per minute"})
    try:
        ids = arrange(app, lambda s: [make_voter(s, f"x{i}@example.org").id for i in range(3)])
        answers = []
        for n, voter_id in enumerate(ids):
            if n == 1:
                client.script_flush()  # as after a restart of Redis: the counting goes on
            c = english(limited.test_client())
            act_as_voter(c, voter_id)
            answers.append(_vote(c, world.references[0], ip="203.0.113.9"))
        assert [a.status_code for a in answers] == [303, 303, 429]
        assert 1 <= int(answers[2].headers["Retry-After"]) <= 60
        assert len(_flags(app)) == 2
        # Three counters per address and network, each hit three times, each expiring.
        counters = {k.decode(): int(client.get(k)) for k in client.scan_iter(f"*{prefix}*")}
        assert sorted(counters.values()) == [3, 3, 3]
        assert all(0 < client.ttl(k) <= 3600 for k in counters)
    finally:
        limited.extensions["awards_db"]["engine"].dispose()


def test_vote_is_counted_when_the_limit_counters_cannot_be_reached(app, app_config, world,
                                                                   caplog):
    """The counters' storage (Redis in production) is down: the vote is not refused for it."""
    broken = create_app({**app_config, "RATELIMIT_ENABLED": True,
                         "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0",
                         "RATELIMIT_PUBLIC_VOTE": "1 per minute"})
    try:
        c = english(broken.test_client())
        act_as_voter(c, arrange(app, lambda s: make_voter(s, "k@example.org").id))
        with caplog.at_level("WARNING", logger="awards.public_stage.views"):
            assert _vote(c, world.references[0]).status_code == 303
        assert len(_flags(app)) == 1
        assert "rate-limit counters could not be reached" in caplog.text
    finally:
        broken.extensions["awards_db"]["engine"].dispose()


def _flagged_vote(app, world):
    def build(s):
        from awards.public_stage.models import PublicStage

        stage = s.get(PublicStage, world.stage_id)
        voter = make_voter(s, "bot@yopmail.com")
        from awards.nominations.models import Nomination

        return add_vote(s, stage, voter, s.get(Nomination, world.refs[world.references[0]]),
                        flagged=True, flag_reasons=["disposable_email"]).id
    return arrange(app, build)


def test_admin_annuls_flagged_vote_with_reason_audited(app, client, world, login_as):
    vote_id = _flagged_vote(app, world)
    login_as(world.admin_email)
    english(client)
    listing = client.get(f"/admin/public-stage/{world.call_id}/votes").get_data(as_text=True)
    assert "bot@yopmail.com" in listing
    assert "Disposable e-mail address" in listing
    url = f"/admin/public-stage/{world.call_id}/votes/{vote_id}/annul"
    response = post_form(client, url, {"reason": "Throw-away address, same minute as 40 others"},
                         csrf_url=f"/admin/public-stage/{world.call_id}/votes")
    assert response.status_code == 303
    vote = read(app, lambda s: s.get(PublicVote, vote_id))
    assert vote.annulled_at is not None
    assert vote.annul_reason == "Throw-away address, same minute as 40 others"
    event = read(app, lambda s: s.scalar(select(AuditEvent).where(
        AuditEvent.action == "public_stage.vote_annul")))
    assert (event.object_id, event.actor_label) == (str(vote_id), world.admin_email)


def test_annulment_without_reason_is_refused(app, client, world, login_as):
    vote_id = _flagged_vote(app, world)
    login_as(world.admin_email)
    response = post_form(english(client),
                         f"/admin/public-stage/{world.call_id}/votes/{vote_id}/annul",
                         {"reason": "  "}, csrf_url=f"/admin/public-stage/{world.call_id}/votes")
    assert response.status_code == 400
    assert "Give the reason" in response.get_data(as_text=True)
    assert read(app, lambda s: s.get(PublicVote, vote_id).annulled_at) is None


def test_annulment_by_non_admin_is_forbidden(app, client, world, make_user, login_as):
    vote_id = _flagged_vote(app, world)
    make_user("juror@example.com")
    login_as("juror@example.com")
    token = get_csrf(client, f"/public/{SLUG}/")
    response = client.post(f"/admin/public-stage/{world.call_id}/votes/{vote_id}/annul",
                           data={"csrf_token": token, "reason": "x"})
    assert response.status_code == 403


def test_totals_are_hidden_everywhere_before_the_close(app, client, world, login_as):
    def votes(s):
        from awards.nominations.models import Nomination
        from awards.public_stage.models import PublicStage

        stage = s.get(PublicStage, world.stage_id)
        first = s.get(Nomination, world.refs[world.references[0]])
        for i in range(7):
            add_vote(s, stage, make_voter(s, f"t{i}@example.org"), first)
    arrange(app, votes)
    english(client)
    ref = world.references[0]
    public_pages = [f"/public/{SLUG}/", f"/public/{SLUG}/{ref}", f"/calls/{SLUG}"]
    for url in public_pages:
        page = client.get(url).get_data(as_text=True)
        assert "7 votes" not in page and ">7<" not in page, url
    login_as(world.admin_email)
    admin_page = client.get(f"/admin/public-stage/{world.call_id}").get_data(as_text=True)
    assert '<strong id="figure-votes">7</strong>' in admin_page
    assert "7 votes" not in admin_page
    assert "Results of the people's vote" not in admin_page
