"""Authors through the API (the same checks as the page), and what a juror sees of them: every
author in an open round, none in a blind one (page and API)."""

from __future__ import annotations

import pytest

from awards.calls.models import Call
from awards.nominations.models import Nomination
from tests.api_factories import api_world
from tests.author_factories import COLLECTIVE, authors_question, give_authors
from tests.factories import arrange, english


def _with_authors(session, *, blind: bool):
    from sqlalchemy import select

    world = api_world(session, blind=blind)
    open_call = session.scalar(select(Call).where(Call.slug == world.open_slug))
    authors_question(session, open_call, identifying=False)
    jury_call = session.scalar(select(Call).where(Call.slug == world.jury_slug))
    # Not marked identifying: a blind round hides the authors all the same.
    field = authors_question(session, jury_call, identifying=False, required=False)
    give_authors(session, session.get(Nomination, world.entry_id), field)
    return world


@pytest.fixture
def world(app):
    return arrange(app, lambda s: _with_authors(s, blind=False))


def test_api_sets_authors_and_lists_them(client, app, world):
    url = f"/api/v1/nominations/{world.own_nomination_id}"
    authors = [{"name_en": "Aliya Nurlankyzy", "role": "author",
                "email": "Aliya@Example.org"},
               {"name_kk": "Ғалым Сейітов", "role": "director"}]

    response = client.patch(url, headers=world.headers("applicant"),
                            json={"answers": {"authors": authors}})

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["answers"]["authors"] == [
        {"name_kk": "", "name_ru": "", "name_en": "Aliya Nurlankyzy", "role": "author",
         "email": "aliya@example.org"},
        {"name_kk": "Ғалым Сейітов", "name_ru": "", "name_en": "", "role": "director",
         "email": ""}]


@pytest.mark.parametrize(("answer", "message"), [
    ("Aliya", "Give a list of authors"),
    ([{"name_en": "A", "email": "nope"}], "Author 1: enter a valid e-mail address."),
])
def test_api_refuses_wrong_authors_naming_the_field(client, app, world, answer, message):
    response = client.patch(f"/api/v1/nominations/{world.own_nomination_id}",
                            headers=world.headers("applicant"),
                            json={"answers": {"authors": answer}})

    assert response.status_code == 422
    [error] = response.get_json()["errors"]
    assert error["field"] == "answers.authors"
    assert error["message"].startswith(message)


def test_api_nomination_lists_authors_with_their_consent(client, app, world):
    body = client.get(f"/api/v1/nominations/{world.entry_id}",
                      headers=world.headers("applicant")).get_json()

    assert [(a["position"], a["name"]["en"], a["role"], a["consent"])
            for a in body["authors"]] == [
        (0, "Aliya Nurlankyzy", "author", "pending"), (1, "Galym Seitov", "director", "pending"),
        (2, "Dauren Omirbek", "composer", "none")]


@pytest.mark.parametrize("blind", [False, True])
def test_juror_sees_the_authors_unless_the_round_is_blind(client, app, blind):
    world = arrange(app, lambda s: _with_authors(s, blind=blind))
    api = client.get(f"/api/v1/assignments/{world.juror_assignment_id}",
                     headers=world.headers("juror")).get_json()
    from tests.conftest import login

    page_client = english(app.test_client())
    login(page_client, "juror@example.com")
    page = page_client.get(f"/jury/assignments/{world.juror_assignment_id}").get_data(
        as_text=True)

    for author in COLLECTIVE:
        assert (author["name_en"] in page) is not blind
        assert (author["name_en"] in str(api)) is not blind
    assert ("Galym Seitov (Director)" in page) is not blind


def test_ranking_export_lists_each_entrys_authors(app, client):
    import csv
    import io

    from tests.conftest import login
    from tests.ranking_factories import scored_round

    def build(s):
        world = scored_round(s)
        field = authors_question(s, s.get(Call, world.call_id), required=False)
        give_authors(s, s.get(Nomination, world.entries["B"]), field)
        return world

    world = arrange(app, build)
    login(english(client), world.admin_email)
    export = client.get(f"/admin/ranking/rounds/{world.round_id}/export.csv?what=ranking"
                        "&method=mean")
    rows = {r["entry"]: r for r in csv.DictReader(
        io.StringIO(export.get_data(as_text=True).lstrip("\ufeff")))}

    assert rows[world.refs["B"]]["authors"] == (
        "Aliya Nurlankyzy (Author); Galym Seitov (Director); Dauren Omirbek (Composer)")
    assert rows[world.refs["A"]]["authors"] == ""
