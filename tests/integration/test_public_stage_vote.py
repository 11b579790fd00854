"""Casting a public vote: one vote per voter and category, whatever the clicks, tabs and races;
changing it when the call allows; refusals before the opening, after the close, for entries
outside the stage and without a verified address."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from awards.db import utcnow
from awards.public_stage.models import PublicStage, PublicVote
from tests.conftest import get_csrf
from tests.factories import arrange, english, read
from tests.public_stage_factories import SLUG, act_as_voter, make_voter, public_world


@pytest.fixture
def world(app):
    return arrange(app, public_world)


def _voter(app, email="voter@example.org", **kw) -> int:
    return arrange(app, lambda s: make_voter(s, email, **kw).id)


def _votes(app) -> list[tuple[int, int, int]]:
    return read(app, lambda s: [(v.voter_id, v.category_id, v.nomination_id) for v in s.scalars(
        select(PublicVote).order_by(PublicVote.id))])


def _vote(client, ref, *, csrf=None):
    token = csrf or get_csrf(client, f"/public/{SLUG}/{ref}")
    return client.post(f"/public/{SLUG}/{ref}/vote", data={"csrf_token": token})


def _set_stage(app, **values):
    def change(s):
        stage = s.scalar(select(PublicStage))
        for k, v in values.items():
            setattr(stage, k, v)
    arrange(app, change)


def test_vote_by_verified_voter_is_counted_once(app, client, world):
    voter_id = _voter(app)
    act_as_voter(english(client), voter_id)
    ref = world.references[0]
    response = _vote(client, ref)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/public/{SLUG}/{ref}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Thank you! Your vote is counted." in page
    assert "You voted for Aigerim Sadykova in this category." in page
    assert _votes(app) == [(voter_id, read(app, lambda s: s.scalar(
        select(PublicVote.category_id))), world.refs[ref])]


def test_vote_double_click_counts_once_and_says_so(app, client, world):
    voter_id = _voter(app)
    act_as_voter(english(client), voter_id)
    ref = world.references[0]
    token = get_csrf(client, f"/public/{SLUG}/{ref}")
    assert _vote(client, ref, csrf=token).status_code == 303
    second = _vote(client, ref, csrf=token)
    assert second.status_code == 303
    page = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "You have already voted for this entry. Your vote is counted once." in page
    assert len(_votes(app)) == 1


def test_vote_for_another_entry_moves_the_vote_when_changeable(app, client, world):
    voter_id = _voter(app)
    act_as_voter(english(client), voter_id)
    first, second = world.references[0], world.references[1]
    _vote(client, first)
    response = _vote(client, second)
    assert response.status_code == 303
    assert "Your vote in this category is changed." in client.get(
        response.headers["Location"]).get_data(as_text=True)
    votes = read(app, lambda s: [(v.nomination_id, v.changed_at is not None)
                                 for v in s.scalars(select(PublicVote))])
    assert votes == [(world.refs[second], True)]


def test_vote_change_refused_when_call_forbids_it(app, client, world):
    _set_stage(app, votes_changeable=False)
    voter_id = _voter(app)
    act_as_voter(english(client), voter_id)
    first, second = world.references[0], world.references[1]
    _vote(client, first)
    response = _vote(client, second)
    assert response.status_code == 409
    assert ("You have already voted in this category, and votes cannot be changed in this "
            "call.") in response.get_data(as_text=True)
    assert [n for _v, _c, n in _votes(app)] == [world.refs[first]]


def test_votes_in_two_categories_are_both_counted(app, client, world):
    voter_id = _voter(app)
    act_as_voter(english(client), voter_id)
    social, ecology = world.references[0], world.references[3]
    _vote(client, social)
    _vote(client, ecology)
    assert sorted(n for _v, _c, n in _votes(app)) == sorted(
        [world.refs[social], world.refs[ecology]])


def test_vote_without_verified_address_is_sent_to_verification(app, client, world):
    ref = world.references[0]
    response = _vote(english(client), ref)
    assert response.status_code == 303
    assert response.headers["Location"].startswith(f"/public/{SLUG}/verify?next=")
    assert _votes(app) == []


def test_vote_of_unverified_voter_in_session_is_not_accepted(app, client, world):
    act_as_voter(english(client), _voter(app, verified=False))
    response = _vote(client, world.references[0])
    assert response.status_code == 303
    assert "/verify" in response.headers["Location"]
    assert _votes(app) == []


@pytest.mark.parametrize(("opens", "closes", "message"), [
    (timedelta(days=1), timedelta(days=5), "The public stage has not opened yet."),
    (timedelta(days=-5), timedelta(seconds=-1), "The public stage is closed."),
])
def test_vote_outside_the_voting_time_is_refused(app, client, world, make_user, login_as,
                                                 opens, closes, message):
    voter_id = _voter(app)
    english(client)
    # An administrator can see the pages before the opening; the vote is refused all the same.
    make_user("boss@example.com", admin=True)
    login_as("boss@example.com")
    act_as_voter(client, voter_id)
    ref = world.references[0]
    token = get_csrf(client, f"/public/{SLUG}/{ref}")
    now = utcnow()
    _set_stage(app, opens_at=now + opens, closes_at=now + closes)
    response = _vote(client, ref, csrf=token)
    assert response.status_code == 409
    assert message in response.get_data(as_text=True)
    assert _votes(app) == []


def test_vote_after_the_stage_was_closed_is_refused(app, client, world):
    voter_id = _voter(app)
    act_as_voter(english(client), voter_id)
    ref = world.references[0]
    token = get_csrf(client, f"/public/{SLUG}/{ref}")
    _set_stage(app, closed_at=utcnow())
    response = _vote(client, ref, csrf=token)
    assert response.status_code == 409
    assert "The public stage is closed." in response.get_data(as_text=True)


def test_vote_for_entry_not_in_the_stage_is_refused(app, client, world):
    act_as_voter(english(client), _voter(app))
    token = get_csrf(client, f"/public/{SLUG}/")
    response = client.post(f"/public/{SLUG}/VOY-2026-09999/vote", data={"csrf_token": token})
    assert response.status_code == 404
    assert "This entry does not take part in the public vote." in response.get_data(as_text=True)
    assert _votes(app) == []


def test_vote_without_csrf_token_is_refused(app, client, world):
    act_as_voter(english(client), _voter(app))
    response = client.post(f"/public/{SLUG}/{world.references[0]}/vote", data={})
    assert response.status_code == 400
    assert _votes(app) == []


def test_vote_with_a_token_of_another_browser_is_refused(app, client, world):
    ref = world.references[0]
    other = app.test_client()
    forged = get_csrf(other, f"/public/{SLUG}/{ref}")
    act_as_voter(english(client), _voter(app))
    # This browser has no CSRF secret of its own yet, then one that is not the token's.
    first = client.post(f"/public/{SLUG}/{ref}/vote", data={"csrf_token": forged})
    get_csrf(client, f"/public/{SLUG}/{ref}")
    second = client.post(f"/public/{SLUG}/{ref}/vote", data={"csrf_token": forged})
    assert (first.status_code, second.status_code) == (400, 400)
    assert "The form expired. Reload the page and try again." in second.get_data(as_text=True)
    assert _votes(app) == []


def test_vote_with_an_expired_or_altered_token_is_refused(app, client, world):
    act_as_voter(english(client), _voter(app))
    ref = world.references[0]
    limit = app.config["WTF_CSRF_TIME_LIMIT"]
    app.config["WTF_CSRF_TIME_LIMIT"] = -60  # the page was opened long ago
    expired = get_csrf(client, f"/public/{SLUG}/{ref}")
    app.config["WTF_CSRF_TIME_LIMIT"] = limit
    valid = get_csrf(client, f"/public/{SLUG}/{ref}")
    altered = valid[:-1] + ("0" if valid[-1] != "0" else "1")
    headers = {"Accept": "application/json"}
    answers = [client.post(f"/public/{SLUG}/{ref}/vote", data={"csrf_token": token},
                           headers=headers) for token in (expired, altered)]
    assert [(a.status_code, a.json["ok"]) for a in answers] == [(400, False), (400, False)]
    assert _votes(app) == []
    assert _vote(client, ref, csrf=valid).status_code == 303
    assert len(_votes(app)) == 1


def test_vote_answers_json_when_asked(app, client, world):
    act_as_voter(english(client), _voter(app))
    ref = world.references[0]
    token = get_csrf(client, f"/public/{SLUG}/{ref}")
    headers = {"Accept": "application/json"}
    first = client.post(f"/public/{SLUG}/{ref}/vote", data={"csrf_token": token},
                        headers=headers)
    again = client.post(f"/public/{SLUG}/{ref}/vote", data={"csrf_token": token},
                        headers=headers)
    assert (first.status_code, first.json["outcome"]) == (200, "cast")
    assert (again.status_code, again.json["outcome"]) == (200, "unchanged")
    # The answer says what the category's other entries now offer: moving the vote there.
    assert first.json["others"] == again.json["others"] == "move"
    moved = client.post(f"/public/{SLUG}/{world.references[1]}/vote",
                        data={"csrf_token": token}, headers=headers)
    assert (moved.json["outcome"], moved.json["others"]) == ("changed", "move")


def test_vote_answer_offers_nothing_more_when_votes_cannot_change(app, client, world):
    _set_stage(app, votes_changeable=False)
    act_as_voter(english(client), _voter(app))
    ref = world.references[0]
    token = get_csrf(client, f"/public/{SLUG}/{ref}")
    headers = {"Accept": "application/json"}
    answers = [client.post(f"/public/{SLUG}/{ref}/vote", data={"csrf_token": token},
                           headers=headers) for _ in range(2)]
    assert [(a.json["outcome"], a.json["others"]) for a in answers] == [
        ("cast", None), ("unchanged", None)]


def test_vote_answer_resends_the_session_cookie_only_when_the_session_changed(app, client, world):
    act_as_voter(english(client), _voter(app))
    ref, other = world.references[0], world.references[1]
    token = get_csrf(client, f"/public/{SLUG}/{ref}")
    page = client.get(f"/public/{SLUG}/{ref}")
    json_vote = client.post(f"/public/{SLUG}/{ref}/vote", data={"csrf_token": token},
                            headers={"Accept": "application/json"})
    form_vote = client.post(f"/public/{SLUG}/{other}/vote", data={"csrf_token": token})
    # A page refreshes the voter's session; the JSON vote changes nothing in it; the form's
    # vote leaves a message for the next page, so its cookie changes.
    assert "Set-Cookie" in page.headers
    assert (json_vote.status_code, json_vote.json["outcome"]) == (200, "cast")
    assert "Set-Cookie" not in json_vote.headers
    assert form_vote.status_code == 303 and "Set-Cookie" in form_vote.headers
    assert "Your vote in this category is changed." in client.get(
        form_vote.headers["Location"]).get_data(as_text=True)


@pytest.mark.postgres_only
def test_vote_sent_in_parallel_from_two_tabs_counts_once(app, world):
    voter_id = _voter(app)
    ref = world.references[0]
    clients = []
    for _ in range(6):
        c = english(app.test_client())
        act_as_voter(c, voter_id)
        clients.append((c, get_csrf(c, f"/public/{SLUG}/{ref}")))
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []

    def send(c, token):
        barrier.wait()
        statuses.append(c.post(f"/public/{SLUG}/{ref}/vote",
                               data={"csrf_token": token}).status_code)

    threads = [threading.Thread(target=send, args=pair) for pair in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert statuses == [303] * len(clients)
    assert read(app, lambda s: s.scalar(select(func.count()).select_from(PublicVote))) == 1


@pytest.mark.postgres_only
def test_votes_for_two_entries_in_parallel_leave_one_vote(app, world):
    _set_stage(app, votes_changeable=False)
    voter_id = _voter(app)
    refs = world.references[:2]
    pairs = []
    for ref in refs * 2:
        c = english(app.test_client())
        act_as_voter(c, voter_id)
        pairs.append((c, ref, get_csrf(c, f"/public/{SLUG}/{ref}")))
    barrier = threading.Barrier(len(pairs))
    statuses: list[int] = []

    def send(c, ref, token):
        barrier.wait()
        statuses.append(c.post(f"/public/{SLUG}/{ref}/vote",
                               data={"csrf_token": token}).status_code)

    threads = [threading.Thread(target=send, args=p) for p in pairs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(statuses) == [303, 303, 409, 409]
    assert read(app, lambda s: s.scalar(select(func.count()).select_from(PublicVote))) == 1
