"""Paper ballots imported from CSV, rankings and scores exported as CSV and XLSX, and the
``flask awards scores import`` / ``flask awards ranking`` commands."""

from __future__ import annotations

import csv
import io
import json

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from awards.audit import AuditEvent
from awards.enums import AssignmentStatus, ReviewStatus
from awards.jury.models import Assignment, Review, Score
from tests.conftest import get_csrf, login
from tests.factories import arrange, english, read
from tests.jury_factories import add_conflict, make_account
from tests.ranking_factories import TWO_CRITERIA, scored_round


@pytest.fixture
def world(app):
    """Entries P, Q, R with no reviews yet; jurors j1, j2 on the panel (j1 reviewed P online
    as a draft); an outsider with an account but no seat; j2 conflicted with R."""
    def build(session):
        from awards.auth.models import User
        from awards.nominations.models import Nomination

        w = scored_round(session, {}, entries=["P", "Q", "R"], criteria=TWO_CRITERIA,
                         required=2, drafts={"j1": {"P": 0}, "j2": {"Q": 0}})
        make_account(session, "outsider@example.com")
        j2 = session.scalar(select(User).where(User.email == "j2@example.com"))
        add_conflict(session, j2, session.get(Nomination, w.entries["R"]))
        return w
    return arrange(app, build)


def counts(app) -> dict[str, int]:
    def q(s):
        return {
            "assignments": s.scalar(select(func.count(Assignment.id))),
            "reviews": s.scalar(select(func.count(Review.id))),
            "submitted": s.scalar(select(func.count(Review.id)).where(
                Review.status == ReviewStatus.SUBMITTED)),
            "scores": s.scalar(select(func.count(Score.id))),
            "audit": s.scalar(select(func.count(AuditEvent.id))),
        }
    return read(app, q)


def upload(client, world, content: bytes, name="ballots.csv"):
    url = f"/admin/ranking/rounds/{world.round_id}/import"
    return client.post(url, data={"csrf_token": get_csrf(client, url),
                                  "file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def valid_csv(world, *, delimiter=",", bom=False, decimal=".") -> bytes:
    p, q = world.refs["P"], world.refs["Q"]
    lines = [
        ("entry", "juror", "criterion", "score"),
        (p, "j1@example.com", "impact", "8"),
        (p, "j1@example.com", "originality", f"7{decimal}5"),
        (p, "J2@Example.com", "impact", "6"),
        (p, "j2@example.com", "originality", "9"),
        (q.lower(), "j1@example.com", "impact", "3"),
        (q, "j1@example.com", "originality", "4"),
    ]
    text = "\r\n".join(delimiter.join(line) for line in lines) + "\r\n"
    return (("\ufeff" if bom else "") + text).encode("utf-8")


@pytest.mark.parametrize(("delimiter", "bom", "decimal"), [
    (",", False, "."), (";", True, ","), (";", False, "."),
])
def test_import_valid_creates_reviews(client, app, world, delimiter, bom, decimal):
    login(client, world.admin_email)
    english(client)
    before = counts(app)
    response = upload(client, world, valid_csv(world, delimiter=delimiter, bom=bom,
                                               decimal=decimal))
    assert response.status_code == 200, response.get_data(as_text=True)[-3000:]
    html = response.get_data(as_text=True)
    assert "The scores are imported" in html
    assert "Reviews created: 2" in html  # j2/P and j1/Q are new
    assert "Reviews updated: 1" in html  # j1's draft of P
    assert "Assignments created: 2" in html
    after = counts(app)
    assert after["reviews"] == before["reviews"] + 2
    assert after["assignments"] == before["assignments"] + 2
    assert after["submitted"] == 3
    assert after["audit"] == before["audit"] + 1

    def reviews(s):
        rows = s.execute(
            select(Assignment.nomination_id, Assignment.juror_id, Review.total, Review.status,
                   Review.imported, Assignment.status.label("a"))
            .join(Review, Review.assignment_id == Assignment.id)
            .where(Review.status == ReviewStatus.SUBMITTED)).all()
        return sorted((r.nomination_id, r.juror_id, r.total, r.imported, r.a) for r in rows)

    j1, j2 = world.jurors["j1"], world.jurors["j2"]
    p, q = world.entries["P"], world.entries["Q"]
    assert read(app, reviews) == sorted([
        (p, j1, 23.5, True, AssignmentStatus.ACTIVE),  # 2 * 8 + 7.5
        (p, j2, 21.0, True, AssignmentStatus.ACTIVE),
        (q, j1, 10.0, True, AssignmentStatus.ACTIVE),
    ])
    event = read(app, lambda s: s.scalar(select(AuditEvent).where(
        AuditEvent.action == "ranking.scores_import")))
    assert event.after_data()["reviews_created"] == 2


def test_import_invalid_reports_line_numbers_and_writes_nothing(client, app, world):
    login(client, world.admin_email)
    english(client)
    p, q, r = world.refs["P"], world.refs["Q"], world.refs["R"]
    content = "\n".join([
        "entry,juror,criterion,score",
        f"{p},j1@example.com,impact,8",            # 2 fine
        f"{p},j1@example.com,originality,7.3",     # 3 off step
        "VOY-1999-99999,j1@example.com,impact,5",  # 4 unknown entry
        f"{p},nobody@example.com,impact,5",        # 5 unknown juror
        f"{p},j1@example.com,charm,5",             # 6 unknown criterion
        f"{q},j1@example.com,impact,11",           # 7 out of range
        f"{p},j1@example.com,impact,8",            # 8 duplicate of 2
        f"{r},j2@example.com,impact,5",            # 9 conflict
        f"{r},j2@example.com,originality,5",       # 10 conflict
        f"{q},outsider@example.com,impact,5",      # 11 not on the panel
        f"{q},j2@example.com,impact,abc",          # 12 not a number
        f"{q},j2@example.com,originality,5",       # 13 (j2/Q lacks impact -> missing)
    ]).encode()
    before = counts(app)
    response = upload(client, world, content)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Nothing was imported" in html
    import re
    lines = [int(n) for n in re.findall(r'data-line="(\d+)"', html)]
    assert lines == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]
    assert "not a multiple of the criterion&#39;s step 0.5" in html
    assert "unknown entry “VOY-1999-99999”" in html
    assert "unknown juror “nobody@example.com”" in html
    assert "unknown criterion “charm”" in html
    assert "outside the criterion&#39;s range 0–10" in html
    assert "duplicate of line 2" in html
    assert "has a conflict of interest with" in html
    assert "is not an active member of the round&#39;s panel" in html
    assert "the score “abc” is not a number" in html
    assert "no score for the criteria impact" in html
    assert counts(app) == before


@pytest.mark.parametrize(("content", "message"), [
    (b"entree,juror,criterion,score\nX,y,z,1\n", "The first line must name the columns"),
    ("entry,juror,criterion,score\nЖ,b,c,1\n".encode("cp1251"), "The file is not in UTF-8"),
    (b"", "The file is empty"),
])
def test_import_bad_file_refused(client, app, world, content, message):
    login(client, world.admin_email)
    english(client)
    before = counts(app)
    response = upload(client, world, content)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert counts(app) == before


def test_import_entry_not_in_round_refused(client, app, world):
    def outside(session):
        from awards.auth.models import User
        from awards.calls.models import Call
        from tests.jury_factories import make_entry

        applicant = session.scalar(select(User).where(User.email == world.applicant_email))
        return make_entry(session, session.get(Call, world.call_id), applicant=applicant,
                          with_files=False).reference

    ref = arrange(app, outside)
    login(client, world.admin_email)
    english(client)
    response = upload(client, world, (f"entry,juror,criterion,score\n{ref},j1@example.com,"
                                      f"impact,5\n{ref},j1@example.com,originality,5\n").encode())
    assert response.status_code == 400
    assert f"entry {ref} is not in this round" in response.get_data(as_text=True)


# ---- exports ------------------------------------------------------------------------------------


@pytest.fixture
def judged(app):
    return arrange(app, scored_round)


def test_export_ranking_csv_content(client, judged):
    login(client, judged.admin_email)
    response = client.get(f"/admin/ranking/rounds/{judged.round_id}/export.csv"
                          "?what=ranking&method=zscore&compare=mean")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    table = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    by_ref = {ref: letter for letter, ref in judged.refs.items()}
    assert [(by_ref[r["entry"]], r["rank"], r["compare_rank"]) for r in table] == [
        ("D", "1", "2"), ("A", "2", "4"), ("C", "3", "1"), ("B", "4", "3"), ("E", "5", "5")]
    assert table[1]["score"] == "0.466016"
    assert table[0]["method"] == "zscore"


def test_export_scores_xlsx_content(client, judged):
    login(client, judged.admin_email)
    response = client.get(f"/admin/ranking/rounds/{judged.round_id}/export.xlsx?what=scores")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("entry", "juror", "criterion", "score", "total")
    assert len(rows) == 1 + 22  # the worked example has 22 reviews of one criterion
    gulnar_a = [r for r in rows[1:] if r[0] == judged.refs["A"] and r[1] == "gulnar@example.com"]
    assert [r[2:5] for r in gulnar_a] == [("overall", 10, 10)]


def test_export_ranking_xlsx_content(client, judged):
    login(client, judged.admin_email)
    response = client.get(f"/admin/ranking/rounds/{judged.round_id}/export.xlsx?method=mean")
    rows = list(load_workbook(io.BytesIO(response.get_data())).active.iter_rows(values_only=True))
    by_ref = {ref: letter for letter, ref in judged.refs.items()}
    assert [(by_ref[r[5]], r[1]) for r in rows[1:]] == [("C", 1), ("D", 2), ("B", 3), ("A", 4),
                                                         ("E", 5)]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_guards_formula_injection(client, app, judged, fmt):
    def rename(session):
        from awards.nominations.models import Nomination

        session.get(Nomination, judged.entries["C"]).nominee_name = "=HYPERLINK(\"x\")"
        session.get(Nomination, judged.entries["D"]).nominee_name = "@SUM(A1)"

    arrange(app, rename)
    login(client, judged.admin_email)
    body = client.get(f"/admin/ranking/rounds/{judged.round_id}/export.{fmt}?method=mean") \
        .get_data()
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    else:
        rows = list(load_workbook(io.BytesIO(body)).active.iter_rows(values_only=True))
    assert [r[6] for r in rows[1:3]] == ["'=HYPERLINK(\"x\")", "'@SUM(A1)"]


def test_export_scores_round_trips_through_import(client, app, judged):
    login(client, judged.admin_email)
    body = client.get(f"/admin/ranking/rounds/{judged.round_id}/export.csv?what=scores") \
        .get_data()
    before = counts(app)
    response = upload(client, judged, body)
    assert response.status_code == 200
    after = counts(app)
    assert (after["reviews"], after["scores"]) == (before["reviews"], before["scores"])


# ---- commands -----------------------------------------------------------------------------------


def test_cli_import_then_ranking_json_round_trip(app, runner, tmp_path):
    world = arrange(app, lambda s: scored_round(s, {}, entries=["A", "B", "C"], required=2,
                                                drafts={"x1": {}, "x2": {}}))
    a, b, c = (world.refs[x] for x in "ABC")
    rows = [("entry", "juror", "criterion", "score")]
    for ref, (s1, s2) in ((a, (20, 22)), (b, (30, 34)), (c, (10, 40))):
        rows += [(ref, "x1@example.com", "overall", str(s1)),
                 (ref, "x2@example.com", "overall", str(s2))]
    path = tmp_path / "ballots.csv"
    path.write_text("\n".join(";".join(r) for r in rows), encoding="utf-8-sig")
    result = runner.invoke(args=["awards", "scores", "import", world.call_slug, str(path)])
    assert result.exit_code == 0, result.output
    assert "6 lines: 6 reviews created" in result.output
    result = runner.invoke(args=["awards", "ranking", world.call_slug, "--round",
                                 str(world.round_id), "--method", "mean", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    entries = data["categories"][0]["entries"]
    assert [(e["entry"], e["rank"], e["score"]) for e in entries] == [
        (b, 1, 32.0), (c, 2, 25.0), (a, 3, 21.0)]
    result = runner.invoke(args=["awards", "ranking", str(world.call_id), "--method", "median",
                                 "--category", "social", "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert [line.split(",")[5] for line in result.output.splitlines()[1:]] == [b, c, a]


def test_cli_import_invalid_exits_1_and_writes_nothing(app, runner, tmp_path):
    world = arrange(app, lambda s: scored_round(s, {}, entries=["A"], drafts={"x1": {}}))
    path = tmp_path / "ballots.csv"
    path.write_text(f"entry,juror,criterion,score\n{world.refs['A']},x1@example.com,overall,99\n")
    before = counts(app)
    result = runner.invoke(args=["awards", "scores", "import", world.call_slug, str(path)])
    assert result.exit_code == 1
    assert "line 2: the score is outside the criterion's range 0–40" in result.output
    assert counts(app) == before
