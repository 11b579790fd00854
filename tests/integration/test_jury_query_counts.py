"""The juror's pages cost the same whatever the juror's load: a juror with 250 assignments gets
the score sheet in at most 10 SQL statements, the next unscored entry by one ``LIMIT 1`` query,
and the dashboard with its list of assignments loaded once, exactly as a juror with two.

The world is built once for the module: a call judged in two open rounds, a juror with 250
assignments (submitted, drafts and untouched ones) and a juror with two."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import event

from awards import create_app
from awards.db import utcnow
from awards.enums import NominationStatus, NominatorKind, ReviewStatus
from awards.jury.models import Assignment, Review, Score
from awards.nominations.models import Answer, Nomination
from tests.conftest import IsolatedClient, login
from tests.factories import arrange
from tests.jury_factories import (
    judging_call,
    make_account,
    make_entry,
    make_panel,
    make_round,
    make_rubric,
)
from tests.module_database import module_database

HEAVY_LOAD = 250
SCORE_SHEET_BUDGET = 10


@dataclass
class World:
    light: list[int] = field(default_factory=list)  # the light juror's assignment ids
    heavy: list[int] = field(default_factory=list)  # the heavy juror's, in dashboard order
    heavy_draft: int = 0  # an assignment of the heavy juror with a draft review
    heavy_first_draft: int = 0  # where "Next unscored entry" leads the heavy juror
    round_ids: list[int] = field(default_factory=list)


def build(session) -> World:
    applicant = make_account(session, "applicant@example.com")
    light = make_account(session, "light@example.com", name="Light Juror")
    heavy = make_account(session, "heavy@example.com", name="Heavy Juror")
    chair = make_account(session, "chair@example.com", name="Chair Person")
    call = judging_call(session)
    rubric = make_rubric(session, call)
    panel = make_panel(session, call, [(light, False), (heavy, False), (chair, True)])
    first = make_round(session, call, rubric=rubric, panel=panel)
    second = make_round(session, call, rubric=rubric, panel=panel, name_en="Short list",
                        closes_in=timedelta(days=14))
    world = World(round_ids=[first.id, second.id])
    # Written in a few flushes: 250 entries one by one would cost seconds.
    categories = {c.code: c for c in call.categories}
    fields = {f.key: f for f in call.fields}
    entries = []
    for i in range(HEAVY_LOAD):
        category = ("social", "ecology")[i % 2]
        if i in (0, 160):  # the entries whose score sheets are opened: with their files
            entry = make_entry(session, call, applicant=applicant, category=category,
                               nominee_name=f"Nominee {i}")
        else:
            entry = Nomination(
                call=call, category=categories[category], applicant_id=applicant.id,
                nominator_kind=NominatorKind.SELF, status=NominationStatus.ELIGIBLE,
                submitted_at=utcnow(), nominee_name=f"Nominee {i}",
                answers=[Answer(field=fields[key], value=value) for key, value in
                         (("title", "Clean rivers"), ("activity", "We cleaned 12 rivers."))])
            session.add(entry)
        entry.reference = f"{call.reference_prefix}-{call.year}-{i + 1:05d}"
        entries.append(entry)
    mine = [Assignment(round=first if i < 200 else second, nomination=entry,
                       juror_id=heavy.id) for i, entry in enumerate(entries)]
    theirs = [Assignment(round=first, nomination=entry, juror_id=light.id)
              for entry in entries[:2]]
    session.add_all(mine + theirs)
    criteria = {c.key: c for c in rubric.criteria}

    def review(assignment, values, submitted):
        return Review(assignment=assignment, total=20.5 if submitted else None,
                      status=ReviewStatus.SUBMITTED if submitted else ReviewStatus.DRAFT,
                      submitted_at=utcnow() if submitted else None,
                      scores=[Score(criterion=criteria[k], value=v) for k, v in values.items()])

    full = {"impact": 6.0, "originality": 5.5, "scale": 3.0}
    session.add_all([review(a, full, True) for a in mine[:150]]
                    + [review(a, {"impact": 4.0}, False) for a in mine[150:170]]
                    + [review(theirs[0], full, True)])
    session.flush()
    world.heavy = [a.id for a in mine]
    world.light = [a.id for a in theirs]
    world.heavy_draft = world.heavy[160]
    world.heavy_first_draft = world.heavy[150]
    return world


@dataclass
class Site:
    app: object
    world: World
    light: object
    heavy: object


@pytest.fixture(scope="module")
def site(tmp_path_factory, database_template, worker_id, cheap_password_hashing):
    url, drop = module_database(tmp_path_factory, database_template, worker_id, "jury_counts")
    app = create_app({
        "TESTING": True, "ENV": "testing",
        "INSTANCE_PATH": str(tmp_path_factory.mktemp("jury-counts-instance")),
        "DATABASE_URL": url, "SECRET_KEY": "test-secret-key", "BASE_URL": "http://localhost",
        "RATELIMIT_ENABLED": False, "RATELIMIT_STORAGE_URI": "memory://",
        "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": 1, "MAIL_RETRY_BASE_SECONDS": 30,
    })
    app.test_client_class = IsolatedClient
    world = arrange(app, build)
    clients = []
    for email in ("light@example.com", "heavy@example.com"):
        client = app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        login(client, email)
        clients.append(client)
    yield Site(app, world, *clients)
    app.extensions["awards_db"]["engine"].dispose()
    if drop:
        drop()


def statements(site: Site, client, url: str, status: int = 200) -> list[str]:
    """The SQL statements one GET of ``url`` runs (after a first, warming request)."""
    assert client.get(url).status_code == status
    engine = site.app.extensions["awards_db"]["engine"]
    seen: list[str] = []
    limits.clear()

    def note(_conn, _cursor, statement, parameters, *_args):
        seen.append(" ".join(statement.split()))
        limits.append(_limit_of(statement, parameters))

    event.listen(engine, "before_cursor_execute", note)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert response.status_code == status
    return seen


limits: list[object] = []  # the LIMIT value of each statement of the last request measured


def _limit_of(statement: str, parameters) -> object:
    """The value bound to the statement's LIMIT (SQLite: ``LIMIT ? OFFSET ?``, the last
    parameters but one; PostgreSQL: a named parameter)."""
    match = re.search(r" LIMIT (\?|%\((\w+)\)s)", statement)
    if match is None:
        return None
    if match.group(2):
        return parameters[match.group(2)]
    return parameters[-2] if " OFFSET ?" in statement[match.end():] else parameters[-1]


def reading_assignments(seen: list[str]) -> list[str]:
    """The statements that read the juror's list: a SELECT whose main table is assignments."""
    return [s for s in seen if re.search(r"^SELECT .*? FROM assignments\b", s)]


def test_score_sheet_runs_at_most_ten_statements_for_a_juror_with_250_assignments(site):
    url = f"/jury/assignments/{site.world.heavy_draft}"

    seen = statements(site, site.heavy, url)

    assert len(seen) <= SCORE_SHEET_BUDGET, "\n".join(seen)


def test_score_sheet_costs_the_same_for_a_juror_with_two_assignments_and_with_250(site):
    light = statements(site, site.light, f"/jury/assignments/{site.world.light[0]}")
    heavy = statements(site, site.heavy, f"/jury/assignments/{site.world.heavy[0]}")

    assert len(heavy) == len(light), "\n".join(heavy)


def test_next_unscored_entry_is_found_by_one_limit_1_query(site):
    response = site.heavy.get("/jury/next")
    assert response.headers["Location"].endswith(
        f"/jury/assignments/{site.world.heavy_first_draft}")

    seen = statements(site, site.heavy, "/jury/next", status=302)

    lists = reading_assignments(seen)
    assert len(lists) == 1, "\n".join(seen)
    assert limits[seen.index(lists[0])] == 1, lists[0]
    assert len(seen) == len(statements(site, site.light, "/jury/next", status=302))


@pytest.mark.parametrize("query", ["", "?status=draft", "?status=todo&category=1"])
def test_dashboard_loads_the_jurors_list_once(site, query):
    seen = statements(site, site.heavy, "/jury/" + query)

    assert len(reading_assignments(seen)) == 1, "\n".join(seen)
    assert len(seen) == len(statements(site, site.light, "/jury/" + query))


def test_dashboard_shows_all_250_assignments_with_progress_and_next_entry(site):
    page = site.heavy.get("/jury/").get_data(as_text=True)

    rows = re.findall(r'data-assignment="(\d+)" data-state="(\w+)"', page)
    assert [int(a) for a, _ in rows] == site.world.heavy
    assert [s for _, s in rows] == ["submitted"] * 150 + ["draft"] * 20 + ["todo"] * 80
    first, second = site.world.round_ids
    assert f'data-round="{first}">150/200<' in page
    assert f'data-round="{second}">0/50<' in page
    assert (f'id="next-unscored" href="/jury/assignments/{site.world.heavy_first_draft}"'
            in page)


@pytest.mark.parametrize("url", ["/jury/?category=%C2%B2", "/jury/next?category=%C2%B2",
                                 "/jury/?category=99999999999999999999",
                                 "/jury/next?category=99999999999999999999"])
def test_a_category_filter_that_is_no_category_id_is_no_filter(site, url):
    response = site.heavy.get(url)

    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert response.headers["Location"].endswith(
            f"/jury/assignments/{site.world.heavy_first_draft}")
    else:
        page = response.get_data(as_text=True)
        assert len(re.findall(r'data-assignment="\d+"', page)) == HEAVY_LOAD
