"""The ranking of a round kept in the shared cache: a second view of the page, an entry's
explanation or the export does not load and rank the round again, and every change to what the
ranking is computed from (a review reopened, a conflict, an assignment removed, the call's
method) shows on the very next view. A chair never gets the administrators' entry."""

from __future__ import annotations

import re

import pytest
from flask import current_app
from sqlalchemy import select

from awards import create_app
from awards.auth.models import User
from awards.enums import AggregationMethod, AssignmentStatus, ReviewStatus
from awards.jury.models import Assignment, Review, Round
from awards.nominations.models import Nomination
from awards.ranking import rankings, services
from tests.conftest import login
from tests.factories import arrange, english, read
from tests.jury_factories import add_conflict
from tests.ranking_factories import scored_round

ROW_RE = re.compile(r'data-entry="([^"]+)" data-rank="([^"]*)"')


@pytest.fixture
def app_config(app_config):
    return {**app_config, "CACHE_URL": "simple://"}


@pytest.fixture
def loads(app, monkeypatch):
    """How many times the site loaded a round from the database (the work the cache saves)."""
    count = {"n": 0}
    real = rankings.load_round

    def counted(*args, **kwargs):
        if current_app._get_current_object() is app:  # not the reference application
            count["n"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(rankings, "load_round", counted)
    return count


def main(html: str) -> str:
    """The page's content (the header's logout form carries a fresh token each time)."""
    return html[html.index("<main"):html.index("</main>")]


def expected(app_config, world) -> list[tuple[str, str]]:
    """The ranking computed afresh by an application without any cache, same database."""
    plain = create_app({**app_config, "CACHE_URL": "null://"})
    try:
        def ranked(session):
            ranking = services.round_ranking(session=session,
                                             round=session.get(Round, world.round_id))
            return [(row.entry.label, "" if row.ranked.rank is None else str(row.ranked.rank))
                    for category in ranking.categories for row in category.rows]
        return read(plain, ranked)
    finally:
        plain.extensions["awards_db"]["engine"].dispose()


def test_the_ranking_is_computed_once_and_every_change_shows_at_once(app, app_config, client,
                                                                    loads):
    world = arrange(app, scored_round)
    english(client)
    login(client, world.admin_email)
    url = f"/admin/ranking/rounds/{world.round_id}"

    def page() -> list[tuple[str, str]]:
        response = client.get(url)
        assert response.status_code == 200
        return ROW_RE.findall(response.get_data(as_text=True))

    first = page()
    assert first == expected(app_config, world) and loads["n"] == 1
    assert page() == first and loads["n"] == 1  # the second view is served from the cache
    # The export and the API read the same entry.
    assert client.get(f"{url}/export.csv?what=ranking").status_code == 200
    assert loads["n"] == 1

    # Reviews reopened: C, first, has its four reviews back in draft and no score left.
    assert first[0] == (world.refs["C"], "1")

    def reopen(session):
        for review in session.scalars(select(Review).join(Assignment).where(
                Assignment.round_id == world.round_id,
                Assignment.nomination_id == world.entries["C"])):
            review.status, review.total = ReviewStatus.DRAFT, None
    arrange(app, reopen)
    after_reopen = page()
    assert loads["n"] == 2
    assert after_reopen == expected(app_config, world)
    assert (world.refs["C"], "") in after_reopen and after_reopen[0] != first[0]

    # A conflict of interest found later: dana's review of B no longer counts.
    arrange(app, lambda s: add_conflict(s, s.get(User, world.jurors["dana"]),
                                        s.get(Nomination, world.entries["B"])))
    response = client.get(url).get_data(as_text=True)
    assert loads["n"] == 3
    assert "1 review excluded: conflict of interest" in response
    assert ROW_RE.findall(response) == expected(app_config, world)

    # An assignment removed: gulnar's review of D leaves the ranking.
    def remove(session):
        assignment = session.scalar(select(Assignment).where(
            Assignment.round_id == world.round_id,
            Assignment.nomination_id == world.entries["D"],
            Assignment.juror_id == world.jurors["gulnar"]))
        assignment.status = AssignmentStatus.REMOVED
    arrange(app, remove)
    after_removal = page()
    assert loads["n"] == 4 and after_removal == expected(app_config, world)

    # The call's method changed: the page's default method follows at once.
    def method(session):
        session.get(Round, world.round_id).call.aggregation_method = AggregationMethod.MEDIAN
    arrange(app, method)
    body = client.get(url).get_data(as_text=True)
    assert loads["n"] == 5
    assert ROW_RE.findall(body) == expected(app_config, world)
    assert page() == ROW_RE.findall(body) and loads["n"] == 5  # and is cached again


def test_cache_clear_makes_the_stored_ranking_stale(app, client, loads):
    # A change made outside the site (in SQL) is not seen by the commit watchers: the
    # administrator's `flask awards cache clear` must reach the stored rankings too.
    world = arrange(app, scored_round)
    english(client)
    login(client, world.admin_email)
    url = f"/admin/ranking/rounds/{world.round_id}"
    assert client.get(url).status_code == 200 and loads["n"] == 1

    result = app.test_cli_runner().invoke(args=["awards", "cache", "clear"])

    assert result.exit_code == 0, result.output
    assert "ranking" in result.output
    assert client.get(url).status_code == 200 and loads["n"] == 2


def test_an_explanation_is_served_from_its_category_ranking(app, client, loads):
    world = arrange(app, scored_round)
    english(client)
    login(client, world.admin_email)
    base = f"/admin/ranking/rounds/{world.round_id}/entries"
    bodies = {letter: client.get(f"{base}/{world.entries[letter]}").get_data(as_text=True)
              for letter in ("A", "B", "C")}
    assert loads["n"] == 1  # one ranking of the category for every entry of it
    assert all(world.refs[letter] in bodies[letter] for letter in bodies)
    again = client.get(f"{base}/{world.entries['A']}").get_data(as_text=True)
    assert main(again) == main(bodies["A"]) and loads["n"] == 1
    # Each explanation shows its own entry's score sheets, not those of the one before.
    assert "Farida" in bodies["A"] and "Farida" in bodies["B"]
    assert bodies["A"].count("Dana") == 0 and "Dana" in bodies["B"]


def test_a_chair_never_gets_the_administrators_entry(app, client, loads):
    world = arrange(app, scored_round)

    def conflict_chair(session):
        chair = session.scalar(select(User).where(User.email == world.chair_email))
        add_conflict(session, chair, session.get(Nomination, world.entries["C"]))
    arrange(app, conflict_chair)
    english(client)
    url = f"/admin/ranking/rounds/{world.round_id}"
    login(client, world.admin_email)
    admin_page = client.get(url).get_data(as_text=True)
    assert world.refs["C"] in admin_page
    chair = english(app.test_client())
    login(chair, world.chair_email)
    chair_page = chair.get(url).get_data(as_text=True)
    assert loads["n"] == 2  # a ranking of its own
    assert world.refs["C"] not in chair_page
    assert chair.get(url).get_data(as_text=True).count('data-entry="') == \
        chair_page.count('data-entry="') and loads["n"] == 2
