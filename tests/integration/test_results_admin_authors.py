"""The results overview names each decided entry's authors (an author collective, in the page's
language, with their roles), as the publication will; a list that stacks as cards on a phone."""

from __future__ import annotations

import re

from awards.calls.models import Call
from awards.nominations.models import Nomination
from tests.author_factories import authors_question, give_authors
from tests.conftest import login
from tests.factories import arrange, english
from tests.results_factories import decided_call


def _collective(session):
    world = decided_call(session)
    call = session.get(Call, world.call_id)
    give_authors(session, session.get(Nomination, world.entries["D"]),
                 authors_question(session, call))
    return world


def test_overview_lists_each_winners_authors(client, app):
    world = arrange(app, _collective)
    login(client, world.admin_email)
    english(client)
    page = client.get(f"/admin/results/calls/{world.call_id}").get_data(as_text=True)
    rows = re.findall(r"<tr>(.*?)</tr>", page, re.S)
    row_d = next(r for r in rows if "Nominee D" in r)
    row_c = next(r for r in rows if "Nominee C" in r)
    authors = re.search(r'data-label="Authors" class="results-admin-authors">(.*?)</td>',
                        row_d, re.S).group(1)
    assert re.findall(r"<li>([^<(]+)", authors) == [
        "Aliya Nurlankyzy ", "Galym Seitov ", "Dauren Omirbek "]
    assert "Director" in authors
    # an entry without authors says so, and drops the line on a phone
    assert 'class="results-admin-authors card-hide"' in row_c
    assert page.count('class="results-admin-table card-table"') == 1
