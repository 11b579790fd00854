"""The ranking page of a round: who may open it, the order under each method, ties, incomplete
and no-data entries, the comparison of two methods, an entry's explanation, and a query count
that does not grow with the round."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event

from tests.conftest import login
from tests.factories import arrange, english
from tests.jury_factories import make_account
from tests.ranking_factories import bulk_round, scored_round

ROW_RE = re.compile(r'data-entry="([^"]+)" data-rank="([^"]*)"')


def rows(html: str) -> list[tuple[str, str]]:
    return ROW_RE.findall(html)


def order(world, html: str) -> list[str]:
    by_ref = {ref: letter for letter, ref in world.refs.items()}
    return [by_ref[ref] for ref, _ in rows(html)]


@pytest.fixture
def world(app):
    def build(session):
        w = scored_round(session)
        make_account(session, "outsider@example.com", name="Outsider")
        return w

    return arrange(app, build)


def _urls(world):
    r = world.round_id
    return {
        "page": ("get", f"/admin/ranking/rounds/{r}"),
        "entry": ("get", f"/admin/ranking/rounds/{r}/entries/{world.entries['A']}"),
        "export": ("get", f"/admin/ranking/rounds/{r}/export.csv?what=ranking"),
        "import": ("get", f"/admin/ranking/rounds/{r}/import"),
        "advance": ("post", f"/admin/ranking/rounds/{r}/advance"),
        "decide": ("post", f"/admin/ranking/rounds/{r}/decisions"),
    }


# who: None = anonymous; expected status per route
PERMISSIONS = {
    None: {"page": 302, "entry": 302, "export": 302, "import": 302, "advance": 302,
           "decide": 302},
    "applicant@example.com": {"page": 403, "entry": 403, "export": 403, "import": 403,
                              "advance": 403, "decide": 403},
    "aida@example.com": {"page": 403, "entry": 403, "export": 403, "import": 403,
                         "advance": 403, "decide": 403},
    "chair@example.com": {"page": 200, "entry": 200, "export": 403, "import": 403,
                          "advance": 403, "decide": 403},
    "admin@example.com": {"page": 200, "entry": 200, "export": 200, "import": 200,
                          "advance": 400, "decide": 400},
}


@pytest.mark.parametrize("who", list(PERMISSIONS), ids=lambda w: w or "anonymous")
def test_ranking_routes_permission_table(client, world, who):
    if who:
        login(client, who)
    got = {}
    for name, (method, url) in _urls(world).items():
        response = client.get(url) if method == "get" else client.post(url, data={})
        got[name] = response.status_code
    assert got == PERMISSIONS[who]


@pytest.mark.parametrize(("method", "expected"), [
    ("mean", ["C", "D", "B", "A", "E"]),
    ("median", ["C", "A", "D", "B", "E"]),
    ("trimmed", ["C", "D", "A", "B", "E"]),
    ("zscore", ["D", "A", "C", "B", "E"]),
    ("rank", ["D", "A", "C", "B", "E"]),
    ("borda", ["D", "A", "C", "B", "E"]),
])
def test_ranking_page_order_matches_worked_example(client, world, method, expected):
    login(client, world.admin_email)
    response = client.get(f"/admin/ranking/rounds/{world.round_id}?method={method}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert order(world, html) == expected
    assert [rank for _, rank in rows(html)] == ["1", "2", "3", "4", "5"]


def test_ranking_page_defaults_to_call_method(client, app):
    world = arrange(app, lambda s: scored_round(s, aggregation_method="zscore"))
    login(client, world.admin_email)
    html = client.get(f"/admin/ranking/rounds/{world.round_id}").get_data(as_text=True)
    assert order(world, html) == ["D", "A", "C", "B", "E"]


TIED = {
    "j1": {"X": 8, "Y": 6, "Z": 3},
    "j2": {"X": 6, "Y": 8, "Z": 3},
}


def test_ranking_page_ties_shown_as_ties(client, app):
    world = arrange(app, lambda s: scored_round(s, TIED, required=2))
    login(client, world.admin_email)
    english(client)
    html = client.get(f"/admin/ranking/rounds/{world.round_id}?method=mean") \
        .get_data(as_text=True)
    assert rows(html) == [(world.refs["X"], "1"), (world.refs["Y"], "1"),
                          (world.refs["Z"], "3")]
    assert html.count('<span class="rank-label">=1</span>') == 2
    assert "tied, left to the jury" in html
    assert "Still tied after every tie-break" in html


def test_ranking_page_incomplete_and_no_data_marked(client, app):
    table = {"j1": {"X": 30, "Y": 20}, "j2": {"X": 28, "Y": 22}, "j3": {"X": 26}}
    world = arrange(app, lambda s: scored_round(s, table, entries=["W", "X", "Y"], required=3,
                                                drafts={"j3": {"Y": 39}}))
    login(client, world.admin_email)
    english(client)
    html = client.get(f"/admin/ranking/rounds/{world.round_id}?method=mean") \
        .get_data(as_text=True)
    assert rows(html) == [(world.refs["X"], "1"), (world.refs["Y"], "2"), (world.refs["W"], "")]
    y_row = html.split(f'data-entry="{world.refs["Y"]}"')[1].split("</tr>")[0]
    w_row = html.split(f'data-entry="{world.refs["W"]}"')[1].split("</tr>")[0]
    x_row = html.split(f'data-entry="{world.refs["X"]}"')[1].split("</tr>")[0]
    assert "incomplete" in y_row and "2/3" in y_row  # the draft does not count
    assert "no data" in w_row and "0/3" in w_row
    assert "incomplete" not in x_row.split(">", 1)[1]


def test_ranking_compare_view_highlights_rank_change(client, world):
    login(client, world.admin_email)
    english(client)
    html = client.get(f"/admin/ranking/rounds/{world.round_id}?method=mean&compare=zscore") \
        .get_data(as_text=True)
    a_row = html.split(f'data-entry="{world.refs["A"]}"')[1].split("</tr>")[0]
    c_row = html.split(f'data-entry="{world.refs["C"]}"')[1].split("</tr>")[0]
    e_row = html.split(f'data-entry="{world.refs["E"]}"')[1].split("</tr>")[0]
    # A: 4th by mean, 2nd by z-score; C: 1st by mean, 3rd by z-score; E: 5th by both.
    assert 'class="rank-change up" aria-hidden="true">↑2</span>' in a_row
    assert "2 places higher than by Mean" in a_row
    assert 'class="rank-change down" aria-hidden="true">↓2</span>' in c_row
    assert "rank-change" not in e_row


def test_ranking_page_shows_distribution_svg_and_agreement(client, world):
    login(client, world.admin_email)
    english(client)
    html = client.get(f"/admin/ranking/rounds/{world.round_id}").get_data(as_text=True)
    assert html.count('<svg class="dist"') == 5
    assert 'style="' not in html.split("<main", 1)[1]
    assert "Krippendorff" in html
    assert "Dana" in html and "lenient" in html  # the worked example's lenient juror


def test_ranking_page_chair_sees_juror_numbers_not_names(client, world):
    login(client, world.chair_email)
    english(client)
    html = client.get(f"/admin/ranking/rounds/{world.round_id}").get_data(as_text=True)
    assert "Dana" not in html
    assert "Juror 3" in html  # Dana is the third juror by id among those who reviewed
    assert "/decisions" not in html and "advance-form" not in html


def test_ranking_entry_explanation_steps(client, world):
    login(client, world.admin_email)
    english(client)
    url = f"/admin/ranking/rounds/{world.round_id}/entries/{world.entries['A']}"
    html = client.get(url + "?method=trimmed").get_data(as_text=True)
    assert "Dropped the lowest 10 and the highest 33; mean of 25, 30, 31 = 28.667." in html
    assert "5 submitted reviews counted; 3 required." in html
    assert "Gulnar" in html and "Aida" in html
    html = client.get(url + "?method=zscore").get_data(as_text=True)
    assert "Gulnar: total 10, their mean 15.667 and standard deviation 4.19, so z = -1.352." \
        in html
    assert "Mean of 1.474, 0.473, 0.95, 0.785, -1.352 = 0.466." in html


def test_ranking_entry_explanation_chair_sees_numbered_jurors(client, world):
    login(client, world.chair_email)
    english(client)
    url = f"/admin/ranking/rounds/{world.round_id}/entries/{world.entries['A']}?method=zscore"
    html = client.get(url).get_data(as_text=True)
    assert "Gulnar" not in html and "Aida" not in html
    assert "Juror 5: total 10, their mean 15.667" in html


def test_ranking_entry_unknown_is_404(client, world):
    login(client, world.admin_email)
    assert client.get(f"/admin/ranking/rounds/{world.round_id}/entries/99999").status_code \
        == 404


def _count_queries(app, client, url) -> int:
    engine = app.extensions["awards_db"]["engine"]
    statements = []

    def listener(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert response.status_code == 200
    return len(statements)


def test_ranking_page_query_count_constant(app, client):
    small = arrange(app, lambda s: bulk_round(s, entries=5))
    login(client, small.admin_email)
    url = f"/admin/ranking/rounds/{small.round_id}?compare=zscore"
    few = _count_queries(app, client, url)
    entry_few = _count_queries(
        app, client, f"/admin/ranking/rounds/{small.round_id}/entries/{small.entries['E0000']}")

    big = _add_entries(app, small, 35)
    many = _count_queries(app, client, url)
    entry_many = _count_queries(
        app, client, f"/admin/ranking/rounds/{small.round_id}/entries/{big}")
    assert many == few
    assert entry_many == entry_few


def _add_entries(app, world, n: int) -> int:
    """Add n reviewed entries to the world's round; returns the last one's id."""
    from awards.auth.models import User
    from awards.calls.models import Call
    from awards.jury.models import Round, RoundEntry
    from tests.jury_factories import add_review, assign, make_entry

    def build(session):
        call = session.get(Call, world.call_id)
        rnd = session.get(Round, world.round_id)
        applicant = session.query(User).filter_by(email=world.applicant_email).one()
        jurors = [session.get(User, j) for j in world.jurors.values()]
        last = None
        for i in range(n):
            entry = make_entry(session, call, applicant=applicant,
                               category=("social", "ecology")[i % 2], with_files=False)
            session.add(RoundEntry(round_id=rnd.id, nomination_id=entry.id))
            for k in range(3):
                a = assign(session, rnd, entry, jurors[(i + k) % len(jurors)])
                add_review(session, a, {"overall": float((i + 5 * k) % 40)},
                           total=float((i + 5 * k) % 40))
            last = entry.id
        return last

    return arrange(app, build)
