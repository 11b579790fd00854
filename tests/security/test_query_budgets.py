"""The main pages run the same number of SQL statements whatever the size of what they show:
a page that loads rows one by one (N+1) is slow with a real call's thousands of entries.

Each test measures a page on a small world, makes the world bigger, and measures again.
(The ranking page, the jury progress page and the screening list have their own such tests in
tests/integration.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event

from awards.db import utcnow
from awards.enums import CallStatus, NominationStatus
from tests.conftest import login
from tests.factories import arrange, make_call, make_nomination
from tests.jury_factories import (
    add_attachment,
    add_review,
    assign,
    judging_call,
    make_account,
    make_entry,
    make_panel,
    make_round,
    make_rubric,
)


def statements(app, client, url: str) -> int:
    """How many statements one GET of ``url`` runs (after a first, warming request)."""
    assert client.get(url).status_code == 200
    engine = app.extensions["awards_db"]["engine"]
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert response.status_code == 200
    return len(seen)


CATEGORIES = tuple(
    (f"cat{i}", f"Category {i}", f"Категория {i}", f"Санат {i}", f"About {i}.")
    for i in range(8)
)


def add_calls(count: int, start: int = 0):
    """Open, upcoming and closed calls, each with several categories and entries."""
    def build(session):
        applicant = make_account(session, f"many{start}@example.com")
        now = utcnow()
        for i in range(start, start + count):
            kind = i % 3
            opens = now - timedelta(days=5) if kind != 1 else now + timedelta(days=5)
            closes = now + timedelta(days=20) if kind != 2 else now - timedelta(days=1)
            status = CallStatus.OPEN if kind != 2 else CallStatus.CLOSED
            call = make_call(session, slug=f"call-{i}", reference_prefix=f"C{i}", year=2026,
                             title_en=f"Call {i}", opens_at=opens, closes_at=closes,
                             status=status, categories=CATEGORIES[: 2 + i % 6])
            for j in range(3):
                make_nomination(session, call=call, applicant_id=applicant.id,
                                category=call.categories[j % 2].code,
                                status=NominationStatus.SUBMITTED, reference=f"C{i}-{j}")
    return build


@pytest.mark.parametrize("url", ["/", "/calls/"])
def test_public_page_statement_count_does_not_grow_with_calls(app, client, url):
    arrange(app, add_calls(1))
    few = statements(app, client, url)

    arrange(app, add_calls(8, start=1))

    assert statements(app, client, url) == few


def test_call_page_statement_count_does_not_grow_with_categories_or_entries(app, client):
    def build(session):
        applicant = make_account(session, "a@example.com")
        small = make_call(session, slug="small", reference_prefix="SM",
                          categories=CATEGORIES[:2])
        large = make_call(session, slug="large", reference_prefix="LG", categories=CATEGORIES)
        for i in range(20):
            make_nomination(session, call=large, applicant_id=applicant.id,
                            category=CATEGORIES[i % 8][0], status=NominationStatus.SUBMITTED,
                            reference=f"LG-{i}")
        return small.slug, large.slug

    small, large = arrange(app, build)

    assert statements(app, client, f"/calls/{small}") == statements(
        app, client, f"/calls/{large}")


def test_my_nominations_statement_count_does_not_grow_with_entries(app, client):
    """Both applicants have entries in the same two calls; one has 1 in each, the other 16 in
    every category and status."""
    def build(session):
        few = make_account(session, "few@example.com")
        many = make_account(session, "many@example.com")
        calls = [make_call(session),
                 make_call(session, slug="other", reference_prefix="OT",
                           categories=CATEGORIES[:3])]
        for call in calls:
            make_nomination(session, call=call, applicant_id=few.id,
                            category=call.categories[0].code, answers={"title": "One"},
                            status=NominationStatus.SUBMITTED, reference=f"{call.slug}-1")
        statuses = list(NominationStatus)
        for i in range(16):
            call = calls[i % 2]
            status = statuses[i % len(statuses)]
            nomination = make_nomination(
                session, call=call, applicant_id=many.id,
                category=call.categories[i % len(call.categories)].code, status=status,
                reference=None if status == NominationStatus.DRAFT else f"X-{i}",
                answers={"title": f"Entry {i}"}, nominee_name=f"Nominee {i}")
            if call is calls[0]:
                add_attachment(session, nomination, "documents", f"doc{i}.pdf")

    arrange(app, build)
    login(client, "few@example.com")
    few = statements(app, client, "/nominations/")
    other = app.test_client()
    login(other, "many@example.com")

    assert statements(app, other, "/nominations/") == few


def jury_world(session):
    """Two rounds: a juror with 2 entries to score, another with 15 (some already scored)."""
    applicant = make_account(session, "applicant@example.com")
    ids = {}
    for name, size in (("small", 2), ("large", 15)):
        juror = make_account(session, f"{name}-juror@example.com")
        colleague = make_account(session, f"{name}-colleague@example.com")
        call = judging_call(session, slug=f"{name}-call", reference_prefix=name[:2].upper())
        rubric = make_rubric(session, call)
        panel = make_panel(session, call, [(juror, False), (colleague, True)])
        round_ = make_round(session, call, rubric=rubric, panel=panel)
        first = None
        for i in range(size):
            entry = make_entry(session, call, applicant=applicant,
                               category=("social", "ecology")[i % 2],
                               nominee_name=f"Nominee {i}")
            mine = assign(session, round_, entry, juror)
            theirs = assign(session, round_, entry, colleague)
            add_review(session, theirs, {"impact": 5.0, "originality": 5.0, "scale": 3.0},
                       total=18.0)
            if i % 3 == 1:
                add_review(session, mine, {"impact": 4.0, "originality": 2.0, "scale": 1.0},
                           submitted=i % 2 == 1, total=11.0)
            first = first or mine.id
        ids[name] = first
    return ids


@pytest.fixture
def jury(app):
    return arrange(app, jury_world)


def test_juror_dashboard_statement_count_does_not_grow_with_assignments(app, client, jury):
    login(client, "small-juror@example.com")
    few = statements(app, client, "/jury/")
    other = app.test_client()
    login(other, "large-juror@example.com")

    assert statements(app, other, "/jury/") == few


def test_scoring_page_statement_count_does_not_grow_with_the_round(app, client, jury):
    login(client, "small-juror@example.com")
    few = statements(app, client, f"/jury/assignments/{jury['small']}")
    other = app.test_client()
    login(other, "large-juror@example.com")

    assert statements(app, other, f"/jury/assignments/{jury['large']}") == few


def _screening_call(session):
    admin = make_account(session, "admin@example.com", admin=True)
    call = make_call(session, slug="screened", status=CallStatus.SCREENING,
                     closes_at=utcnow() - timedelta(days=1))
    applicant = make_account(session, "applicant@example.com")
    make_nomination(session, call=call, applicant_id=applicant.id,
                    status=NominationStatus.SUBMITTED, reference="VOY-2026-00001")
    return admin.email, call.id


def _more_entries(call_id: int, count: int):
    def build(session):
        from awards.calls.models import Call

        call = session.get(Call, call_id)
        statuses = (NominationStatus.SUBMITTED, NominationStatus.ELIGIBLE,
                    NominationStatus.INELIGIBLE, NominationStatus.CHANGES_REQUESTED)
        for i in range(count):
            applicant = make_account(session, f"applicant{i}@example.com")
            nomination = make_nomination(
                session, call=call, applicant_id=applicant.id,
                category=call.categories[i % 2].code, status=statuses[i % 4],
                reference=f"VOY-2026-{i + 2:05d}", answers={"title": f"Entry {i}"},
                nominee_name=f"Nominee {i}")
            add_attachment(session, nomination, "documents", f"doc{i}.pdf")
    return build


@pytest.mark.parametrize("url", ["/admin/", "/admin/screening/", "/admin/screening/{call}/",
                                 "/admin/calls/{call}"])
def test_admin_page_statement_count_does_not_grow_with_entries(app, client, url):
    admin, call_id = arrange(app, _screening_call)
    login(client, admin)
    url = url.format(call=call_id)
    few = statements(app, client, url)

    arrange(app, _more_entries(call_id, 24))

    assert statements(app, client, url) == few
