"""A conflicted juror or chair never sees the entry anywhere in the ranking (page, explanation,
API), and a conflicted juror's review never counts (the administrator is told how many were
left out). Conflicts are found as well as declared: a juror who is the entry's nominee is in
conflict without anyone recording it."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import select

from awards.auth.models import User
from awards.enums import CallStatus
from awards.jury.models import Round
from awards.nominations.models import Nomination
from tests.api_factories import bearer, make_token
from tests.conftest import csrf_from, login
from tests.factories import arrange, english
from tests.jury_factories import add_conflict
from tests.ranking_factories import scored_round


def _user(session, email: str) -> User:
    return session.scalar(select(User).where(User.email == email))


def _world(session, *, conflicted: str = "chair@example.com", letter: str = "A",
           declared: bool = True):
    world = scored_round(session)
    nomination = session.get(Nomination, world.entries[letter])
    if declared:
        add_conflict(session, _user(session, conflicted), nomination)
    else:  # found, not declared: the juror is the entry's nominee
        nomination.nominee_email = conflicted.upper()
    session.flush()
    world.tokens = {email: make_token(session, _user(session, email))
                    for email in (world.chair_email, world.admin_email)}
    return world


def _page(client, world, email):
    english(client)
    login(client, email)
    return client.get(f"/admin/ranking/rounds/{world.round_id}")


@pytest.mark.parametrize("declared", [True, False], ids=["declared", "nominee"])
def test_conflicted_chair_does_not_see_entry_on_ranking_page(app, client, declared):
    world = arrange(app, lambda s: _world(s, declared=declared))
    response = _page(client, world, world.chair_email)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert world.refs["A"] not in body
    assert "Nominee A" not in body
    assert f'id="entry-{world.entries["A"]}"' not in body
    for letter in "BCDE":
        assert f'data-entry="{world.refs[letter]}"' in body
    # The explanation page agrees with the list.
    entry = client.get(f"/admin/ranking/rounds/{world.round_id}/entries/{world.entries['A']}")
    assert entry.status_code == 404


def test_conflicted_chair_does_not_see_entry_in_api(app, client):
    world = arrange(app, _world)
    response = client.get(f"/api/v1/rounds/{world.round_id}/ranking",
                          headers=bearer(world.tokens[world.chair_email]))
    assert response.status_code == 200
    ids = [e["nomination"]["id"] for c in response.get_json()["categories"]
           for e in c["entries"]]
    assert world.entries["A"] not in ids
    assert sorted(ids) == sorted(world.entries[x] for x in "BCDE")
    assert world.refs["A"] not in response.get_data(as_text=True)


def test_conflicted_chair_cannot_export(app, client):
    world = arrange(app, _world)
    english(client)
    login(client, world.chair_email)
    for what in ("ranking", "scores"):
        response = client.get(f"/admin/ranking/rounds/{world.round_id}/export.csv?what={what}")
        assert response.status_code == 403
        assert world.refs["A"] not in response.get_data(as_text=True)


def test_admin_still_sees_the_entry_everywhere(app, client):
    world = arrange(app, _world)
    body = _page(client, world, world.admin_email).get_data(as_text=True)
    assert f'data-entry="{world.refs["A"]}"' in body
    export = client.get(f"/admin/ranking/rounds/{world.round_id}/export.csv?what=ranking")
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    assert world.refs["A"] in [r["entry"] for r in rows]
    api = client.get(f"/api/v1/rounds/{world.round_id}/ranking",
                     headers=bearer(world.tokens[world.admin_email])).get_json()
    assert world.entries["A"] in [e["nomination"]["id"] for c in api["categories"]
                                  for e in c["entries"]]


# ---- conflicted reviews do not count ------------------------------------------------------------


@pytest.mark.parametrize("declared", [True, False], ids=["declared", "nominee"])
def test_conflicted_review_excluded_from_ranking(app, client, declared):
    # aida gave A 31 (of 10, 25, 30, 31, 33): in conflict with A, her review does not count.
    world = arrange(app, lambda s: _world(s, conflicted="aida@example.com",
                                          declared=declared))
    api = client.get(f"/api/v1/rounds/{world.round_id}/ranking?method=mean",
                     headers=bearer(world.tokens[world.admin_email])).get_json()
    entry = next(e for c in api["categories"] for e in c["entries"]
                 if e["nomination"]["id"] == world.entries["A"])
    assert entry["totals"] == [10.0, 25.0, 30.0, 33.0]
    assert entry["review_count"] == 4
    assert entry["score"] == 24.5

    body = _page(client, world, world.admin_email).get_data(as_text=True)
    assert "1 review excluded: conflict of interest" in body
    explanation = client.get(
        f"/admin/ranking/rounds/{world.round_id}/entries/{world.entries['A']}?method=mean")
    text = explanation.get_data(as_text=True)
    assert "Aida" not in text.split('id="reviews"')[1].split("</table>")[0]
    assert "Mean of 25, 30, 33, 10 = 24.5." in text


def test_no_conflict_no_exclusion_notice(app, client):
    world = arrange(app, scored_round)
    body = _page(client, world, world.admin_email).get_data(as_text=True)
    assert "excluded: conflict of interest" not in body


def test_conflicted_review_excluded_from_scores_export(app, client):
    world = arrange(app, lambda s: _world(s, conflicted="aida@example.com"))
    english(client)
    login(client, world.admin_email)
    export = client.get(f"/admin/ranking/rounds/{world.round_id}/export.csv?what=ranking"
                        "&method=mean")
    rows = {r["entry"]: r for r in csv.DictReader(
        io.StringIO(export.get_data(as_text=True).lstrip("\ufeff")))}
    assert (rows[world.refs["A"]]["reviews"], rows[world.refs["A"]]["score"]) == ("4", "24.5")


# ---- decisions and advancing follow the call's phase -------------------------------------------


@pytest.mark.parametrize(("phase", "decide", "advance"), [
    (CallStatus.JUDGING, 303, 303),
    (CallStatus.DELIBERATION, 303, 409),
    (CallStatus.CORRECTING, 303, 409),
    (CallStatus.RESULTS_SCHEDULED, 409, 409),
    (CallStatus.PUBLISHED, 409, 409),
])
def test_decide_and_advance_follow_the_phase(app, client, phase, decide, advance):
    world = arrange(app, scored_round)

    def set_phase(session):
        session.get(Round, world.round_id).call.status = phase

    arrange(app, set_phase)
    english(client)
    login(client, world.admin_email)
    page = f"/admin/ranking/rounds/{world.round_id}"
    html = client.get(page).get_data(as_text=True)
    decided = client.post(f"{page}/decisions", data={
        "csrf_token": csrf_from(html), "nomination_id": world.entries["A"],
        "award_level_id": world.levels["gold"],
        "digest": re.search(r'name="digest" value="([^"]*)"', html).group(1)})
    assert decided.status_code == decide
    html = client.get(page).get_data(as_text=True)
    advanced = client.post(f"{page}/advance", data={
        "csrf_token": csrf_from(html), "mode": "chosen", "nomination_ids": [world.entries["B"]],
        "digests": re.search(r'name="digests" type="hidden" value="([^"]*)"', html).group(1)})
    assert advanced.status_code == advance
