"""The commission's secret ballot through the pages: the chair opens it, members vote on their
own sessions, nobody sees a count before the close, the chair closes it and reads the totals,
the protocol and the ballot list, and the laureates become award decisions. And what makes it
secret: nothing stored, logged or backed up links a ballot to a member."""

from __future__ import annotations

import io
import json
import re
import tarfile

import pytest
from pypdf import PdfReader
from sqlalchemy import inspect, select

from awards.audit import AuditEvent
from awards.commission.models import Ballot, Participation
from awards.enums import DecisionKind, RoundStatus
from awards.jury.models import Conflict, Round
from awards.ranking.models import Decision
from tests.commission_factories import commission_world
from tests.conftest import IsolatedClient, login, post_form
from tests.factories import arrange, read

RECEIPT_RE = re.compile(r'id="receipt-code">([0-9A-Z-]+)<')


def client_of(app, email):
    app.test_client_class = IsolatedClient
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(client, email)
    return client


def vote(app, world, email, choices):
    """Vote as ``email``: choices maps entry ids to yes/no/abstain. Returns the receipt."""
    client = client_of(app, email)
    url = f"/commission/rounds/{world.round_id}"
    response = post_form(client, url, {f"choice-{n}": c for n, c in choices.items()})
    assert response.status_code == 200, response.get_data(as_text=True)[:400]
    return RECEIPT_RE.search(response.get_data(as_text=True)).group(1)


@pytest.fixture
def world(app):
    return arrange(app, lambda s: commission_world(s, members=9, per_category=2))


def test_commission_ballot_end_to_end(app, world):
    # social: entry A, B; ecology: entry C, D
    a, b = world.entries["social"]
    c, d = world.entries["ecology"]
    chair = client_of(app, world.chair)
    assert "The chair has not opened" in chair.get(
        f"/commission/rounds/{world.round_id}").get_data(as_text=True)
    response = post_form(chair, f"/commission/rounds/{world.round_id}/open",
                         csrf_url=f"/commission/rounds/{world.round_id}/chair")
    assert response.status_code == 302

    # Six of nine vote (two thirds, "at least": the quorum is met).
    ballots = [
        {a: "yes", b: "no", c: "yes", d: "no"},
        {a: "yes", b: "no", c: "yes", d: "abstain"},
        {a: "yes", b: "yes", c: "no", d: "no"},
        {a: "no", b: "no", c: "yes", d: "no"},
        {a: "yes", b: "abstain", c: "abstain", d: "yes"},
        {a: "abstain", b: "no", c: "yes", d: "no"},
    ]
    receipts = [vote(app, world, email, choice)
                for email, choice in zip(world.members[:6], ballots, strict=True)]

    # Before the close: no count anywhere, not even for the chair or an administrator.
    page = chair.get(f"/commission/rounds/{world.round_id}/chair").get_data(as_text=True)
    assert "6 of 9 members have voted." in page
    assert 'id="count"' not in page
    admin = client_of(app, world.admin)
    assert admin.get(f"/commission/rounds/{world.round_id}/ballots.json").status_code == 403
    assert admin.get(f"/commission/rounds/{world.round_id}/protocol.pdf").status_code == 403

    # A second ballot by the same member is refused, and nothing changes.
    again = client_of(app, world.members[0])
    response = post_form(again, f"/commission/rounds/{world.round_id}",
                         {f"choice-{n}": "yes" for n in (a, b, c, d)})
    assert response.status_code == 409
    assert "You have already voted in this ballot." in response.get_data(as_text=True)
    assert read(app, lambda s: s.query(Ballot).count()) == 6

    # The chair closes; the totals and the outcome appear for the chair.
    response = post_form(chair, f"/commission/rounds/{world.round_id}/close",
                         csrf_url=f"/commission/rounds/{world.round_id}/chair")
    assert response.status_code == 302
    page = chair.get(f"/commission/rounds/{world.round_id}/chair").get_data(as_text=True)
    assert "The quorum was reached." in page
    rows = re.findall(r'<tr><td class="card-title">([^<]+)</td>'
                      r'<td data-label="Yes">(\d+)</td><td data-label="No">(\d+)</td>'
                      r'<td data-label="Abstain">(\d+)</td>', page)
    assert [tuple(int(x) for x in r[1:]) for r in rows] == [
        (4, 1, 1), (1, 4, 1), (4, 1, 1), (1, 4, 1)]

    # A member reads the ballot list (no voters) and checks their receipt.
    member = client_of(app, world.members[2])
    data = member.get(f"/commission/rounds/{world.round_id}/ballots.json").get_json()
    assert sorted(json.dumps(b["choices"], sort_keys=True) for b in data["ballots"]) == sorted(
        json.dumps({str(k): v for k, v in x.items()}, sort_keys=True) for x in ballots)
    assert all(set(b) == {"id", "choices"} for b in data["ballots"])
    checked = post_form(member, f"/commission/rounds/{world.round_id}/receipt",
                        {"code": receipts[2].lower()})
    assert "Your ballot is in the count" in checked.get_data(as_text=True)
    wrong = post_form(member, f"/commission/rounds/{world.round_id}/receipt",
                      {"code": "0000-0000-0000-0000"})
    assert "No ballot with this receipt" in wrong.get_data(as_text=True)
    garbled = post_form(member, f"/commission/rounds/{world.round_id}/receipt",
                        {"code": "12345"})
    assert garbled.status_code == 400
    assert "A receipt code has 16 letters and digits." in garbled.get_data(as_text=True)
    assert 'value="12345"' in garbled.get_data(as_text=True)  # what was typed stays

    # The protocol: members present, quorum, totals, outcome.
    pdf = chair.get(f"/commission/rounds/{world.round_id}/protocol.pdf?lang=en")
    assert pdf.status_code == 200
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Took part in the vote: 6" in text
    assert "The quorum was reached." in text
    assert "Member 7 — did not vote" in text
    assert "(Almaty, UTC+5)" in " ".join(text.split()) and "Asia/Almaty" not in text

    # The administrator records the laureates as award decisions (audited).
    response = post_form(admin, f"/commission/rounds/{world.round_id}/apply",
                         csrf_url=f"/commission/rounds/{world.round_id}/chair")
    assert response.status_code == 302
    decided = read(app, lambda s: sorted(
        (d.nomination_id, d.kind) for d in s.scalars(select(Decision).where(
            Decision.revoked_at.is_(None)))))
    assert decided == [(a, DecisionKind.AWARD), (c, DecisionKind.AWARD)]
    actions = read(app, lambda s: [e.action for e in s.scalars(
        select(AuditEvent).order_by(AuditEvent.id))])
    assert actions.count("commission.member_voted") == 6
    assert actions.count("ranking.decision_award") == 2


def test_quorum_not_reached_decides_nothing(app, world):
    a, b = world.entries["social"]
    c, d = world.entries["ecology"]
    chair = client_of(app, world.chair)
    post_form(chair, f"/commission/rounds/{world.round_id}/open",
              csrf_url=f"/commission/rounds/{world.round_id}/chair")
    for email in world.members[:5]:
        vote(app, world, email, {a: "yes", b: "yes", c: "yes", d: "yes"})
    post_form(chair, f"/commission/rounds/{world.round_id}/close",
              csrf_url=f"/commission/rounds/{world.round_id}/chair")
    page = chair.get(f"/commission/rounds/{world.round_id}/chair").get_data(as_text=True)
    assert "The quorum was not reached" in page
    assert 'id="apply-outcome"' not in page


def test_conflicted_member_cannot_vote_on_the_entry(app, world):
    a, b = world.entries["social"]
    c, d = world.entries["ecology"]
    member_id = world.user_ids[world.members[1]]
    arrange(app, lambda s: s.add(Conflict(user_id=member_id, nomination_id=a,
                                          source="admin")))
    chair = client_of(app, world.chair)
    post_form(chair, f"/commission/rounds/{world.round_id}/open",
              csrf_url=f"/commission/rounds/{world.round_id}/chair")
    member = client_of(app, world.members[1])
    page = member.get(f"/commission/rounds/{world.round_id}").get_data(as_text=True)
    assert f'name="choice-{a}"' not in page
    assert f'name="choice-{b}"' in page
    # A forged choice on the conflicted entry is refused and no ballot is stored.
    response = post_form(member, f"/commission/rounds/{world.round_id}",
                         {f"choice-{n}": "yes" for n in (a, b, c, d)})
    assert response.status_code == 200  # the form ignores fields it did not offer
    ballot = read(app, lambda s: s.scalars(select(Ballot)).one().content)
    assert str(a) not in ballot["choices"]


def test_nobody_outside_the_commission_sees_the_ballot(app, world, make_user):
    make_user("stranger@example.com")
    stranger = client_of(app, "stranger@example.com")
    assert stranger.get(f"/commission/rounds/{world.round_id}").status_code == 404
    member = client_of(app, world.members[3])
    refused = member.get(f"/commission/rounds/{world.round_id}/chair")
    assert refused.status_code == 403
    assert "Only the commission&#39;s chair may do this." in refused.get_data(as_text=True)
    for path in ("ballots.json", "protocol.pdf"):
        assert stranger.get(f"/commission/rounds/{world.round_id}/{path}").status_code == 404


# ---- secrecy ---------------------------------------------------------------------------------


def test_ballot_table_has_no_voter_and_no_cast_time(app, db):
    columns = {c["name"] for c in inspect(db.get_bind()).get_columns("commission_ballots")}
    assert columns == {"id", "box_id", "content", "receipt_hash", "sealed_at"}
    keys = inspect(db.get_bind()).get_foreign_keys("commission_ballots")
    assert [k["referred_table"] for k in keys] == ["commission_ballot_boxes"]
    participation = {c["name"] for c in inspect(db.get_bind()).get_columns(
        "commission_participation")}
    assert participation == {"id", "box_id", "user_id"}


def test_no_record_links_a_ballot_to_a_member(app, world, tmp_path):
    a, b = world.entries["social"]
    c, d = world.entries["ecology"]
    chair = client_of(app, world.chair)
    post_form(chair, f"/commission/rounds/{world.round_id}/open",
              csrf_url=f"/commission/rounds/{world.round_id}/chair")
    # Distinctive ballots: the i-th member says yes to exactly the i-th pattern.
    patterns = [{a: "yes", b: "no", c: "no", d: "no"}, {a: "no", b: "yes", c: "no", d: "no"},
                {a: "no", b: "no", c: "yes", d: "no"}, {a: "no", b: "no", c: "no", d: "yes"},
                {a: "abstain", b: "no", c: "no", d: "no"},
                {a: "no", b: "abstain", c: "no", d: "no"}]
    receipts = [vote(app, world, email, p) for email, p in zip(world.members, patterns,
                                                                strict=False)]
    post_form(chair, f"/commission/rounds/{world.round_id}/close",
              csrf_url=f"/commission/rounds/{world.round_id}/chair")

    def stored(s):
        return (s.scalars(select(Ballot)).all(), s.scalars(select(Participation)).all(),
                s.scalars(select(AuditEvent)).all(), s.get(Round, world.round_id).closes_at)

    ballots, participation, events, closed = read(app, stored)
    # Every ballot carries the close's time and nothing finer; keys are random UUIDs.
    assert {b.sealed_at for b in ballots} == {closed}
    assert all(re.fullmatch(r"[0-9a-f-]{36}", b.id) for b in ballots)
    # The receipts are not stored, only their hashes.
    for b in ballots:
        assert all(r.replace("-", "") not in json.dumps(b.content) for r in receipts)
    # The audit log says who voted, never what: no ballot id, no choice.
    voted = [e for e in events if e.action == "commission.member_voted"]
    assert len(voted) == 6
    ids = {b.id for b in ballots}
    for e in events:
        assert not any(i in e.before + e.after + e.object_id for i in ids)
    assert {(e.before, e.after) for e in voted} == {("null", "null")}
    assert {p.user_id for p in participation} == {world.user_ids[m] for m in world.members[:6]}

    # The backup: ballots carry no user, the participation no ballot; ballots are listed in
    # the order of their random keys.
    runner = app.test_cli_runner()
    out = tmp_path / "backup.tar.gz"
    result = runner.invoke(args=["awards", "backup", "--output", str(out)])
    assert result.exit_code == 0, result.output
    with tarfile.open(out) as archive:
        rows = [json.loads(line) for line in archive.extractfile(
            "db/commission_ballots.jsonl").read().decode().splitlines()]
    assert [r["id"] for r in rows] == sorted(ids)
    assert all(set(r) == {"id", "box_id", "content", "receipt_hash", "sealed_at"} for r in rows)


def test_tally_command_recomputes_from_the_published_list(app, world, tmp_path):
    a, b = world.entries["social"]
    c, d = world.entries["ecology"]
    chair = client_of(app, world.chair)
    post_form(chair, f"/commission/rounds/{world.round_id}/open",
              csrf_url=f"/commission/rounds/{world.round_id}/chair")
    for email in world.members[:7]:
        vote(app, world, email, {a: "yes", b: "no", c: "abstain", d: "no"})
    post_form(chair, f"/commission/rounds/{world.round_id}/close",
              csrf_url=f"/commission/rounds/{world.round_id}/chair")
    listing = client_of(app, world.members[4]).get(
        f"/commission/rounds/{world.round_id}/ballots.json")
    path = tmp_path / "ballots.json"
    path.write_bytes(listing.data)
    runner = app.test_cli_runner()
    from_file = runner.invoke(args=["awards", "commission", "tally", str(world.round_id),
                                    "--file", str(path)])
    from_db = runner.invoke(args=["awards", "commission", "tally", str(world.round_id)])
    assert from_file.exit_code == 0, from_file.output
    assert from_file.output == from_db.output
    assert "quorum met: 7 of 9 (at least 2/3 = 6)" in from_file.output
    assert read(app, lambda s: s.get(Round, world.round_id).status) == RoundStatus.CLOSED
