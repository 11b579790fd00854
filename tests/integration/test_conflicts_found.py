"""Conflicts of interest found, not only declared: a juror's own entry, an entry whose nominee
e-mail is theirs, an entry of the organisation in their profile. Checked where a person meets
the jury: the invitation (a warning listing the entries), automatic and manual assignment (a
forged post too), the paper-ballot import, the admin's list of assignments, and the juror's
own dashboard, entry page and API."""

from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select

from awards.enums import JurorStatus
from awards.jury.models import JuryMember, RoundEntry
from tests.api_factories import bearer, make_token
from tests.conftest import get_csrf, login
from tests.factories import arrange, read
from tests.integration.test_jury_setup import (  # noqa: F401  (english_client is the client fixture)
    active_pairs,
    audit_events,
    english_client,
    flashes,
    follow,
    input_value,
    post,
    text_of,
)
from tests.jury_factories import (
    assign,
    judging_call,
    make_account,
    make_entry,
    make_panel,
    make_round,
    make_rubric,
)

OWN_REF = "VOY-2026-00001"


@dataclass
class ConflictWorld:
    call_id: int
    round_id: int
    panel_id: int
    aliya_id: int  # applicant of the first entry, later invited to the panel
    jurors: dict[str, int] = field(default_factory=dict)  # j1, j2
    entries: list[int] = field(default_factory=list)  # the first is Aliya's own
    refs: list[str] = field(default_factory=list)


def build(session, *, per_entry: int = 3) -> ConflictWorld:
    make_account(session, "admin@example.com", name="Admin Person", admin=True)
    aliya = make_account(session, "aliya@example.com", name="Aliya Applicant")
    other = make_account(session, "applicant@example.com", name="Other Applicant")
    j1 = make_account(session, "j1@example.com", name="Juror One")
    j2 = make_account(session, "j2@example.com", name="Juror Two")
    call = judging_call(session)
    rubric = make_rubric(session, call)
    panel = make_panel(session, call, [(j1, False), (j2, False)])
    round_ = make_round(session, call, rubric=rubric, panel=panel, reviews_per_entry=per_entry)
    world = ConflictWorld(call.id, round_.id, panel.id, aliya.id,
                          jurors={"j1": j1.id, "j2": j2.id})
    for i in range(4):
        entry = make_entry(session, call, applicant=aliya if i == 0 else other,
                           nominee_name=f"Nominee {i + 1}", nominee_email=f"n{i + 1}@example.org",
                           organisation_name=f"Organisation {i + 1}", with_files=False)
        session.add(RoundEntry(round_id=round_.id, nomination_id=entry.id))
        world.entries.append(entry.id)
        world.refs.append(entry.reference)
    session.flush()
    return world


def seat_aliya(session, world: ConflictWorld) -> None:
    """Aliya accepted her invitation: an active seat linked to her account."""
    session.add(JuryMember(panel_id=world.panel_id, email="aliya@example.com",
                           user_id=world.aliya_id, status=JurorStatus.ACTIVE))
    session.flush()


@pytest.fixture
def world(app):
    return arrange(app, build)


@pytest.fixture
def seated(app, world):
    arrange(app, lambda s: seat_aliya(s, world))
    return world


def select_options(page, nomination_id: int) -> list[int]:
    match = re.search(rf'<select name="juror_id" id="juror-{nomination_id}">(.*?)</select>',
                      text_of(page), re.S)
    return [int(v) for v in re.findall(r'<option value="(\d+)"', match.group(1))] if match \
        else []


# ---- the applicant invited to the panel ---------------------------------------------------------


def test_invitation_of_an_applicant_warns_with_her_entries(app, client, world):
    login(client, "admin@example.com")
    url = f"/admin/jury/panels/{world.panel_id}"
    response = post(client, f"{url}/invite", {"email": "Aliya@Example.com"}, csrf_url=url)
    page = follow(client, response)
    assert flashes(page) == [
        ("success", "The invitation is sent to aliya@example.com."),
        ("warning", "aliya@example.com has a conflict of interest with 1 entry of this call, "
                    f"which they will never be given: {OWN_REF} (submitted this entry)."),
    ]
    member_id = read(app, lambda s: s.scalar(select(JuryMember.id).where(
        JuryMember.email == "aliya@example.com")))
    block = re.search(rf'<div class="conflict-warning" id="conflicts-{member_id}">(.*?)</div>',
                      text_of(page), re.S)
    assert block is not None
    assert f"<li>{OWN_REF}: submitted this entry</li>" in block.group(1)
    (_before, after), = audit_events(app, "jury.member_invite")
    assert after["conflicts"] == {str(world.entries[0]): ["applicant"]}


def test_invitation_without_conflicts_has_no_warning(app, client, world):
    login(client, "admin@example.com")
    url = f"/admin/jury/panels/{world.panel_id}"
    page = follow(client, post(client, f"{url}/invite", {"email": "new@example.com"},
                               csrf_url=url))
    assert flashes(page) == [("success", "The invitation is sent to new@example.com.")]
    assert 'class="conflict-warning"' not in text_of(page)


def test_invitee_nominated_by_e_mail_is_warned_before_she_has_an_account(app, client, world):
    login(client, "admin@example.com")
    url = f"/admin/jury/panels/{world.panel_id}"
    page = follow(client, post(client, f"{url}/invite", {"email": "n3@example.org"},
                               csrf_url=url))
    assert ("warning", "n3@example.org has a conflict of interest with 1 entry of this call, "
                       f"which they will never be given: {world.refs[2]} (is the nominee of "
                       "this entry).") in flashes(page)


def test_panel_page_warns_once_the_account_is_linked(app, client, seated):
    login(client, "admin@example.com")
    page = client.get(f"/admin/jury/panels/{seated.panel_id}")
    assert page.status_code == 200
    assert f"<li>{OWN_REF}: submitted this entry</li>" in text_of(page)


def test_auto_assign_never_gives_her_own_entry(app, client, seated):
    login(client, "admin@example.com")
    url = f"/admin/jury/rounds/{seated.round_id}/auto-assign"
    preview = client.get(url)
    # Three seats per entry, three jurors: everyone gets everything except her own entry.
    assert '<dd id="new-count">11</dd>' in text_of(preview)
    assert '<dd id="shortfall-count">1</dd>' in text_of(preview)
    response = post(client, url, {"seed": input_value(preview, "seed"),
                                  "digest": input_value(preview, "digest")}, csrf_url=url)
    assert response.status_code == 302
    pairs = active_pairs(app, seated.round_id)
    assert (seated.aliya_id, seated.entries[0]) not in pairs
    assert {e for j, e in pairs if j == seated.aliya_id} == set(seated.entries[1:])
    assert {j for j, e in pairs if e == seated.entries[0]} == set(seated.jurors.values())


def test_manual_dropdown_does_not_offer_her_own_entry(app, client, seated):
    login(client, "admin@example.com")
    page = client.get(f"/admin/jury/rounds/{seated.round_id}/entries")
    assert page.status_code == 200
    assert seated.aliya_id not in select_options(page, seated.entries[0])
    assert sorted(select_options(page, seated.entries[0])) == sorted(seated.jurors.values())
    assert seated.aliya_id in select_options(page, seated.entries[1])


def test_forged_assignment_of_her_own_entry_is_refused(app, client, seated):
    login(client, "admin@example.com")
    url = f"/admin/jury/rounds/{seated.round_id}/entries"
    response = post(client, f"/admin/jury/rounds/{seated.round_id}/assignments/add",
                    {"nomination_id": str(seated.entries[0]),
                     "juror_id": str(seated.aliya_id)}, csrf_url=url)
    assert response.status_code == 400
    assert flashes(response) == [(
        "error", "Aliya Applicant has a conflict of interest with this entry (submitted this "
                 "entry), so they cannot judge it.")]
    assert active_pairs(app, seated.round_id) == set()
    assert audit_events(app, "jury.assignment_add") == []


def test_paper_ballot_row_of_her_own_entry_is_refused(app, client, seated):
    login(client, "admin@example.com")
    lines = ["entry,juror,criterion,score"]
    for ref, email in ((seated.refs[1], "aliya@example.com"), (OWN_REF, "aliya@example.com")):
        lines += [f"{ref},{email},impact,9", f"{ref},{email},originality,9",
                  f"{ref},{email},scale,5"]
    url = f"/admin/ranking/rounds/{seated.round_id}/import"
    response = client.post(url, data={"csrf_token": get_csrf(client, url),
                                      "file": (io.BytesIO("\n".join(lines).encode()), "b.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    body = html.unescape(text_of(response))
    for line in (5, 6, 7):
        assert re.search(rf"\b{line}\b.*?aliya@example.com has a conflict of interest with "
                         rf"{OWN_REF} \(submitted this entry\)", body, re.S), line
    assert "Nothing was imported" in body
    assert active_pairs(app, seated.round_id) == set()


# ---- conflicts by nominee e-mail and by organisation --------------------------------------------


def _nominee(session, world):
    from awards.nominations.models import Nomination

    # Typed differently from the account's address: still the same person.
    session.get(Nomination, world.entries[1]).nominee_email = "  J1@Example.COM "


def _organisation(session, world):
    from awards.auth.models import User
    from awards.nominations.models import Nomination

    session.get(User, world.jurors["j1"]).organisation = "Organisation 2"
    session.get(Nomination, world.entries[1]).organisation_name = " organisation 2 "


KINDS = [(_nominee, "is the nominee of this entry"),
         (_organisation, "belongs to the nominating organisation")]


@pytest.mark.parametrize(("make_conflict", "reason"), KINDS, ids=["nominee", "organisation"])
def test_existing_assignment_that_became_conflicted_is_shown_and_hidden(
        app, client, world, make_conflict, reason):
    # j1 was assigned the entry before the conflict was known.
    def setup(session):
        from awards.auth.models import User
        from awards.jury.models import Round
        from awards.nominations.models import Nomination

        j1 = session.get(User, world.jurors["j1"])
        rnd = session.get(Round, world.round_id)
        mine = [assign(session, rnd, session.get(Nomination, e), j1).id
                for e in world.entries[1:3]]
        make_conflict(session, world)
        return mine, make_token(session, j1)

    (conflicted, clean), secret = arrange(app, setup)
    login(client, "admin@example.com")
    page = client.get(f"/admin/jury/rounds/{world.round_id}/entries")
    row = re.search(rf'<tr id="entry-{world.entries[1]}">(.*?)</tr>', text_of(page), re.S)
    assert (f'<span class="badge bad conflict" data-juror="{world.jurors["j1"]}">'
            f"conflict of interest: {reason}</span>") in row.group(1)
    assert world.jurors["j1"] not in select_options(page, world.entries[1])
    assert world.jurors["j1"] in select_options(page, world.entries[3])
    other_row = re.search(rf'<tr id="entry-{world.entries[2]}">(.*?)</tr>', text_of(page), re.S)
    assert "conflict of interest" not in other_row.group(1)

    client.post("/account/logout", data={"csrf_token": get_csrf(client)})
    login(client, "j1@example.com")
    dashboard = text_of(client.get("/jury/"))
    assert world.refs[2] in dashboard
    assert world.refs[1] not in dashboard
    assert client.get(f"/jury/assignments/{conflicted}").status_code == 404
    assert client.get(f"/jury/assignments/{clean}").status_code == 200
    listed = client.get("/api/v1/assignments", headers=bearer(secret)).get_json()
    assert [a["id"] for a in listed["items"]] == [clean]
    assert client.get(f"/api/v1/assignments/{conflicted}",
                      headers=bearer(secret)).status_code == 404
    response = client.put(f"/api/v1/assignments/{conflicted}/review", headers=bearer(secret),
                          json={"scores": {"impact": 10}})
    assert response.status_code == 404


@pytest.mark.parametrize(("make_conflict", "reason"), KINDS, ids=["nominee", "organisation"])
def test_auto_and_manual_assignment_respect_found_conflicts(
        app, client, world, make_conflict, reason):
    arrange(app, lambda s: make_conflict(s, world))
    login(client, "admin@example.com")
    response = post(client, f"/admin/jury/rounds/{world.round_id}/assignments/add",
                    {"nomination_id": str(world.entries[1]),
                     "juror_id": str(world.jurors["j1"])},
                    csrf_url=f"/admin/jury/rounds/{world.round_id}/entries")
    assert response.status_code == 400
    assert flashes(response) == [(
        "error", f"Juror One has a conflict of interest with this entry ({reason}), so they "
                 "cannot judge it.")]
    url = f"/admin/jury/rounds/{world.round_id}/auto-assign"
    preview = client.get(url)
    post(client, url, {"seed": input_value(preview, "seed"),
                       "digest": input_value(preview, "digest")}, csrf_url=url)
    pairs = active_pairs(app, world.round_id)
    assert (world.jurors["j1"], world.entries[1]) not in pairs
    assert (world.jurors["j2"], world.entries[1]) in pairs
