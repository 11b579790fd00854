"""Ranking a large round: the scores export is streamed, an entry's explanation ranks its own
category only (and agrees with the ranking page), and the conflicts of a whole panel are found
in one pass by the same rule as for one person."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import select

from awards.auth.models import User
from awards.jury.models import Round
from awards.nominations.models import Nomination
from awards.policy.conflicts import Person, conflict_pairs, conflicted_ids
from awards.ranking import exports, loading, services
from tests.conftest import login
from tests.factories import arrange, english, read
from tests.jury_factories import add_conflict, judging_call, make_account, make_entry
from tests.ranking_factories import TWO_CRITERIA, bulk_round, scored_round


def test_scores_csv_is_streamed_a_few_sheets_at_a_time(app, client, monkeypatch):
    world = arrange(app, lambda s: scored_round(s, criteria=TWO_CRITERIA))
    login(client, world.admin_email)
    url = f"/admin/ranking/rounds/{world.round_id}/export.csv?what=scores"
    whole = client.get(url)
    monkeypatch.setattr(loading, "SHEETS_PER_QUERY", 2)
    streamed = client.get(url)
    assert streamed.status_code == 200 and streamed.is_streamed
    assert streamed.headers["Content-Disposition"].startswith("attachment")
    assert streamed.get_data() == whole.get_data()
    rows = list(csv.DictReader(io.StringIO(streamed.get_data().decode("utf-8-sig"))))
    reviews = read(app, lambda s: len(services.load_round(
        s, s.get(Round, world.round_id)).reviews))
    assert len(rows) == 2 * reviews  # every review, each of its two criteria
    entry_ids = {world.refs[letter]: world.entries[letter] for letter in world.refs}
    order = [entry_ids[r["entry"]] for r in rows]
    assert order == sorted(order)  # by entry (then juror): the import's order
    assert [r["criterion"] for r in rows[:2]] == [TWO_CRITERIA[0][0], TWO_CRITERIA[1][0]]


def test_an_entry_explanation_ranks_its_category_and_agrees_with_the_page(app, client):
    world = arrange(app, lambda s: bulk_round(s, entries=12, jurors=5, per_entry=3))
    english(client)
    login(client, world.admin_email)
    page = client.get(f"/admin/ranking/rounds/{world.round_id}?method=zscore&all=1")
    ranks = dict(re.findall(r'id="entry-(\d+)" data-entry="[^"]*" data-rank="(\d*)"',
                            page.get_data(as_text=True)))
    assert len(ranks) == 12
    for entry_id, rank in ranks.items():
        body = client.get(f"/admin/ranking/rounds/{world.round_id}/entries/{entry_id}"
                          "?method=zscore").get_data(as_text=True)
        shown = re.search(r"rank =?(\d+), score", body)
        assert shown and shown.group(1) == rank, entry_id


def test_conflicts_of_a_panel_are_those_of_each_juror(app):
    """Declared, applicant, nominee e-mail (any case, spaces) and organisation (any case), and
    a declared conflict in another call that must not count here."""

    def build(session):
        call = judging_call(session)
        other_call = judging_call(session, slug="other-2026", reference_prefix="OTH")
        jurors = [make_account(session, f"j{i}@example.com", name=f"J{i}") for i in range(4)]
        jurors[2].organisation = "Эко Волонтёры"
        session.flush()
        entries = [make_entry(session, call, applicant=jurors[i % 2], with_files=False)
                   for i in range(6)]
        entries[2].nominee_email = "  J1@EXAMPLE.com "
        entries[3].organisation_name = "ЭКО волонтёры"
        add_conflict(session, jurors[3], entries[4])
        elsewhere = make_entry(session, other_call, applicant=jurors[0], with_files=False)
        add_conflict(session, jurors[3], elsewhere)
        session.flush()
        return call.id, [u.id for u in jurors]

    call_id, juror_ids = arrange(app, build)

    def compare(session):
        people = [Person.of(session.get(User, j)) for j in juror_ids]
        one_by_one = {(p.id, n) for p in people for n in conflicted_ids(session, p, call_id)}
        return conflict_pairs(session, people, call_id), one_by_one

    together, one_by_one = read(app, compare)
    assert together == one_by_one
    assert len(together) == 6 + 1 + 1 + 1  # applicants, nominee, organisation, declared
    elsewhere = read(app, lambda s: s.scalar(select(Nomination.id).where(
        Nomination.call_id != call_id)))
    assert all(n != elsewhere for _j, n in together)


def _same_cell(xlsx_value, csv_value: str) -> bool:
    if xlsx_value is None:
        return csv_value == ""
    if isinstance(xlsx_value, int | float) and not isinstance(xlsx_value, bool):
        return float(csv_value) == float(xlsx_value)
    return str(xlsx_value) == csv_value


@pytest.mark.parametrize("what", ["scores", "ranking"])
def test_xlsx_export_is_streamed_and_matches_the_csv(app, client, monkeypatch, what):
    from openpyxl import load_workbook

    world = arrange(app, lambda s: bulk_round(s, entries=30, jurors=5, per_entry=3))
    login(client, world.admin_email)
    monkeypatch.setattr(loading, "SHEETS_PER_QUERY", 7)  # the sheets come in several reads
    base = f"/admin/ranking/rounds/{world.round_id}/export"
    monkeypatch.setattr(exports, "XLSX_CHUNK", 1024)
    streamed = client.get(f"{base}.xlsx?what={what}&method=mean", buffered=False)
    assert streamed.status_code == 200
    assert streamed.headers["Content-Disposition"].endswith('.xlsx"')
    assert streamed.headers["Cache-Control"] == "no-store"
    # Sent from the written file a piece at a time, not as one body of known length.
    assert "Content-Length" not in streamed.headers
    pieces = list(streamed.response)
    streamed.close()
    assert len(pieces) > 1 and max(len(p) for p in pieces) <= 1024
    body = b"".join(pieces)
    workbook = load_workbook(io.BytesIO(body))
    sheet = workbook.active
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.bold
    cells = list(sheet.iter_rows(values_only=True))
    table = list(csv.reader(io.StringIO(
        client.get(f"{base}.csv?what={what}&method=mean").get_data().decode("utf-8-sig"))))
    assert len(cells) == len(table) == 1 + (90 if what == "scores" else 30)  # one criterion
    for got, want in zip(cells, table, strict=True):
        assert len(got) == len(want)
        assert all(_same_cell(g, w) for g, w in zip(got, want, strict=True)), (got, want)
