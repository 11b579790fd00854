"""The winner's own nomination page once the results are public: the award in the status line
and as the last step of the history, and a link to each diploma (one per author of a
collective). Before the publication time (scheduled) none of it shows."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from awards.auth.models import User
from awards.calls.models import Call
from awards.db import utcnow
from awards.nominations.models import Nomination
from awards.results import services as results
from awards.results.models import Certificate
from tests.author_factories import authors_question, give_authors
from tests.conftest import login
from tests.factories import arrange, english, read
from tests.jury_factories import make_account
from tests.results_factories import decided_call


def _world(app, *, scheduled: bool = False):
    def build(session):
        world = decided_call(session)
        call = session.get(Call, world.call_id)
        give_authors(session, session.get(Nomination, world.entries["C"]),
                     authors_question(session, call))
        for letter in ("C", "D"):
            owner = session.scalar(select(User).where(User.email == world.applicants[letter]))
            owner.preferred_language = "en"
        admin = make_account(session, "results.admin@example.com", name="Results Admin",
                             admin=True)
        results.publish(session=session, actor=admin, call=call,
                        scheduled_for=utcnow() + timedelta(days=1) if scheduled else None,
                        token=results.state_token(session, call))
        return world
    return arrange(app, build)


def _page(client, world, letter: str) -> str:
    client = english(client)
    login(client, world.applicants[letter])
    response = client.get(f"/nominations/{world.entries[letter]}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _codes(app, nomination_id: int) -> list[tuple[str, str]]:
    return read(app, lambda s: [(c.code, c.recipient_name) for c in s.scalars(
        select(Certificate).where(Certificate.nomination_id == nomination_id)
        .order_by(Certificate.id))])


def test_a_collective_winner_sees_the_award_and_each_authors_diploma(app, client):
    world = _world(app)
    page = _page(client, world, "C")

    assert '<h2 id="result-heading">Result</h2>' in page
    assert '<span class="badge ok">Eligible</span> · <span class="badge ok">Winner</span>' in page
    assert '<p class="result-award">Awarded: Winner</p>' in page
    history = page[page.index('id="timeline-heading"'):page.index('id="answers-heading"')]
    events = [e.strip() for e in re.findall(r'<span class="event">(.*?)</span>', history, re.S)]
    assert events[-1] == "Awarded: Winner"
    codes = _codes(app, world.entries["C"])
    assert len(codes) == 3
    for code, name in codes:
        assert (f'href="/certificates/{code}.pdf">Download the diploma of {name}</a>'
                in page)


def test_a_single_winner_gets_one_diploma_link_and_downloads_it(app, client):
    world = _world(app)
    page = _page(client, world, "D")

    [(code, _name)] = _codes(app, world.entries["D"])
    assert f'href="/certificates/{code}.pdf">Download the diploma</a>' in page
    response = client.get(f"/certificates/{code}.pdf")
    assert (response.status_code, response.headers["Content-Type"]) == (200, "application/pdf")


def test_an_entry_not_awarded_sees_the_results_without_an_award(app, client):
    world = _world(app)
    page = _page(client, world, "A")

    assert "Not awarded" in page
    assert "Results published: not awarded" in page
    assert "Download the diploma" not in page


def test_before_the_publication_time_nothing_shows(app, client):
    world = _world(app, scheduled=True)
    page = _page(client, world, "C")

    assert "result-heading" not in page
    assert "Awarded" not in page
    assert "diploma" not in page
