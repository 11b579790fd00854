"""The jury's irreversible steps go through a confirmation page that says what will happen:
closing (and opening) a round, advancing entries to the next round. GET shows the page and
changes nothing; POST with its CSRF token does the step (400 without it; 409 with the reasons
when the phase forbids it). Also: "Add all eligible" after a people's vote adds only what the
vote sent on, and revoking the vote's "advance" takes the entry back out of the first round."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from awards.db import utcnow
from awards.enums import (
    AssignmentStatus,
    CallStatus,
    DecisionKind,
    ReviewStatus,
    RoundStatus,
)
from awards.jury.models import Assignment, Round, RoundEntry
from awards.ranking.models import Decision
from tests.conftest import csrf_from, login
from tests.factories import arrange, read
from tests.integration.test_jury_setup import (  # noqa: F401  (english_client is the client fixture)
    as_admin,
    assign_rows,
    audit_events,
    english_client,
    flashes,
    follow,
    make_world,
    round_form,
    text_of,
)


def _text(response) -> str:
    """The page's visible text, tags dropped and spaces collapsed."""
    body = re.sub(r"<[^>]+>", " ", text_of(response))
    return " ".join(html.unescape(body).split())


def _section(response, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</(?:li|ul|div|section)>', text_of(response),
                      re.S)
    assert match, f"no #{element_id}"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split())


def _round_status(app, round_id: int) -> RoundStatus:
    return read(app, lambda s: RoundStatus(s.get(Round, round_id).status))


def _set_phase(app, call_id: int, phase: CallStatus) -> None:
    from awards.calls.models import Call

    arrange(app, lambda s: setattr(s.get(Call, call_id), "status", phase))


# ---- closing a round ------------------------------------------------------------------------


@pytest.fixture
def half_done(app):
    """An open round of 4 entries and 2 jurors, 2 reviews each: juror 0 submitted both of theirs,
    juror 1 has one draft and one review not started."""
    w = make_world(app, entries=4, jurors=2)
    e = w.entries
    assign_rows(app, w.round_id, [(w.jurors[0], e[0]), (w.jurors[0], e[1])],
                review=ReviewStatus.SUBMITTED)
    assign_rows(app, w.round_id, [(w.jurors[1], e[2])], review=ReviewStatus.DRAFT)
    assign_rows(app, w.round_id, [(w.jurors[1], e[3])])
    return w


def test_close_confirmation_says_what_will_happen_and_changes_nothing(app, client, half_done):
    w = half_done
    as_admin(client)
    response = client.get(f"/admin/jury/rounds/{w.round_id}/status/close")
    assert response.status_code == 200
    assert "<h1>Close the round “First round”?</h1>" in text_of(response)
    assert _section(response, "confirm-submitted") == (
        "4 reviews are assigned in this round. 2 reviews are submitted so far: only "
        "submitted reviews count in the ranking.")
    assert _section(response, "confirm-drafts") == (
        "1 review is still a draft: it will not count, and its juror can no longer submit it.")
    assert _section(response, "confirm-missing") == (
        "1 assigned review has not been started: it will be missing (no data, not a zero).")
    page = _text(response)
    assert "The round moves from “Open for reviews” to “Closed (final)”." in page
    assert ("This cannot be undone: jurors can no longer change their reviews, and the round "
            "cannot be opened again.") in page
    assert "No e-mail is sent." in page
    rows = re.findall(r"<tr>\s*<th scope=\"row\">(.*?)</th>\s*<td>(.*?)</td>\s*"
                      r"<td class=\"num\">(\d+)</td>\s*<td class=\"num\">(\d+)</td>\s*"
                      r"<td class=\"num\">(\d+)</td>\s*<td class=\"num\">(\d+)</td>",
                      text_of(response))
    assert rows == [("Juror 1", "juror1@example.com", "2", "0", "1", "1")]
    assert 'type="submit" class="button primary">Confirm: Close the round</button>' in \
        text_of(response)
    assert f'href="/admin/jury/calls/{w.call_id}/rounds">Back, change nothing</a>' in \
        text_of(response)
    assert _round_status(app, w.round_id) == RoundStatus.OPEN
    assert audit_events(app, "jury.round_close") == []


def test_close_confirmed_closes_and_audits(app, client, half_done):
    w = half_done
    as_admin(client)
    url = f"/admin/jury/rounds/{w.round_id}/status/close"
    response = client.post(url, data={"csrf_token": csrf_from(text_of(client.get(url)))})
    assert response.status_code == 303
    assert flashes(follow(client, response)) == [
        ("success", "The round is closed: its reviews are final.")]
    assert _round_status(app, w.round_id) == RoundStatus.CLOSED
    assert audit_events(app, "jury.round_close") == [
        ({"status": "open"},
         {"status": "closed", "entries": 4, "submitted": 2, "drafts": 1, "missing": 1})]
    again = client.get(url)
    assert again.status_code == 409
    assert _section(again, "confirm-blockers") == (
        "This step cannot be taken now: The round is already closed.")
    assert "Confirm:" not in text_of(again)


def test_close_without_csrf_is_400_and_changes_nothing(app, client, half_done):
    as_admin(client)
    response = client.post(f"/admin/jury/rounds/{half_done.round_id}/status/close", data={})
    assert response.status_code == 400
    assert _round_status(app, half_done.round_id) == RoundStatus.OPEN
    assert audit_events(app, "jury.round_close") == []


@pytest.mark.parametrize("phase", [CallStatus.RESULTS_SCHEDULED, CallStatus.PUBLISHED])
def test_close_refused_once_results_are_scheduled(app, client, half_done, phase):
    w = half_done
    as_admin(client)
    url = f"/admin/jury/rounds/{w.round_id}/status/close"
    token = csrf_from(text_of(client.get(url)))
    _set_phase(app, w.call_id, phase)
    reason = ("The results of this call are scheduled or published, so nothing that led to "
              "them may change; an administrator can open a correction of the decisions.")
    page = client.get(url)
    assert page.status_code == 409
    assert _section(page, "confirm-blockers") == f"This step cannot be taken now: {reason}"
    refused = client.post(url, data={"csrf_token": token})
    assert refused.status_code == 409
    assert _section(refused, "confirm-blockers") == f"This step cannot be taken now: {reason}"
    assert _round_status(app, w.round_id) == RoundStatus.OPEN
    assert audit_events(app, "jury.round_close") == []


def test_edit_form_can_no_longer_close_a_round(app, client, half_done):
    w = half_done
    as_admin(client)
    url = f"/admin/jury/rounds/{w.round_id}/edit"
    form = client.get(url)
    options = re.findall(r'<option[^>]*value="(\w+)"', text_of(form).split('name="status"')[1]
                         .split("</select>")[0])
    assert options == ["open", "draft"]
    assert f'href="/admin/jury/rounds/{w.round_id}/status/close">Close the round…</a>' in \
        text_of(form)
    response = client.post(url, data={**round_form(status="closed", panel_id=str(w.panel_id)),
                                      "csrf_token": csrf_from(text_of(form))})
    assert response.status_code == 400
    assert _round_status(app, w.round_id) == RoundStatus.OPEN


def test_rounds_list_links_to_the_confirmations(app, client):
    w = make_world(app, entries=0, jurors=0, round_status=RoundStatus.DRAFT)
    as_admin(client)
    page = text_of(client.get(f"/admin/jury/calls/{w.call_id}/rounds"))
    assert f'href="/admin/jury/rounds/{w.round_id}/status/open">Open…' in page
    assert f'href="/admin/jury/rounds/{w.round_id}/status/close">Close…' in page


def test_unknown_move_is_404(app, client, half_done):
    as_admin(client)
    assert client.get(f"/admin/jury/rounds/{half_done.round_id}/status/reopen").status_code \
        == 404


# ---- opening a round ------------------------------------------------------------------------


def test_open_confirmation_and_confirmed(app, client):
    w = make_world(app, entries=2, jurors=2, round_status=RoundStatus.DRAFT)
    assign_rows(app, w.round_id, [(w.jurors[0], w.entries[0]), (w.jurors[1], w.entries[1])])
    as_admin(client)
    url = f"/admin/jury/rounds/{w.round_id}/status/open"
    page = client.get(url)
    assert page.status_code == 200
    assert "<h1>Open the round “First round”?</h1>" in text_of(page)
    assert _section(page, "confirm-jurors") == (
        "2 jurors of the panel “Main panel” see the round on their jury page. The round has "
        "2 entries. 2 reviews are assigned in this round.")
    assert _section(page, "confirm-mails") == (
        "No e-mail is sent: jurors find the round on their jury page. Once it is open, you can "
        "send them a reminder from the round's progress page.")
    assert _round_status(app, w.round_id) == RoundStatus.DRAFT
    response = client.post(url, data={"csrf_token": csrf_from(text_of(page))})
    assert response.status_code == 303
    assert _round_status(app, w.round_id) == RoundStatus.OPEN
    assert audit_events(app, "jury.round_open") == [
        ({"status": "draft"},
         {"status": "open", "entries": 2, "submitted": 0, "drafts": 0, "missing": 2})]


def test_open_refused_outside_judging(app, client):
    w = make_world(app, entries=1, jurors=1, round_status=RoundStatus.DRAFT)
    _set_phase(app, w.call_id, CallStatus.SCREENING)
    as_admin(client)
    url = f"/admin/jury/rounds/{w.round_id}/status/open"
    page = client.get(url)
    assert page.status_code == 409
    assert _section(page, "confirm-blockers") == (
        "This step cannot be taken now: A round opens once the call is in its judging phase.")
    _set_phase(app, w.call_id, CallStatus.JUDGING)
    token = csrf_from(text_of(client.get(url)))
    _set_phase(app, w.call_id, CallStatus.SCREENING)
    assert client.post(url, data={"csrf_token": token}).status_code == 409
    assert _round_status(app, w.round_id) == RoundStatus.DRAFT


# ---- advancing entries to the next round ----------------------------------------------------


@pytest.fixture
def ranked(app):
    from tests.ranking_factories import scored_round

    return arrange(app, scored_round)


def _outcomes(response) -> dict[str, str]:
    return dict(re.findall(r'<tr data-entry="([^"]+)" data-outcome="(\w+)">', text_of(response)))


def _hidden(response) -> dict[str, list[str]]:
    """The fields of the confirmation's form (the one posting to the advance)."""
    form = text_of(response).split('<form method="post" action="/admin/ranking/rounds/')[1] \
        .split("</form>")[0]
    values: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form):
        values.setdefault(name, []).append(html.unescape(value))
    token = csrf_from(form)
    values["csrf_token"] = [token]
    return values


def _next_entries(app, world) -> list[int]:
    return read(app, lambda s: sorted(s.scalars(select(RoundEntry.nomination_id).where(
        RoundEntry.round_id == world.next_round_id))))


def test_ranking_page_leads_to_the_advance_confirmation(app, client, ranked):
    login(client, ranked.admin_email)
    page = text_of(client.get(f"/admin/ranking/rounds/{ranked.round_id}?method=mean"))
    assert (f'<form method="get" action="/admin/ranking/rounds/{ranked.round_id}/advance" '
            'id="advance-form" novalidate>') in page
    assert '<input type="hidden" name="method" value="mean">' in page


def test_advance_confirmation_lists_who_advances_and_changes_nothing(app, client, ranked):
    login(client, ranked.admin_email)
    url = f"/admin/ranking/rounds/{ranked.round_id}/advance?method=mean&mode=top&top_n=2"
    response = client.get(url)
    assert response.status_code == 200
    assert "<h1>Advance entries to “Short list”?</h1>" in text_of(response)
    refs = ranked.refs
    assert _outcomes(response) == {refs["C"]: "advances", refs["D"]: "advances",
                                   refs["A"]: "stays", refs["B"]: "stays", refs["E"]: "stays"}
    assert _section(response, "confirm-added") == (
        "2 entries advance from “Long list” to “Short list”: an “advance” decision is "
        "recorded for each.")
    assert _section(response, "confirm-stays") == (
        "3 entries of this round do not advance: they stay in “Long list” with their "
        "reviews.")
    assert _section(response, "confirm-assignments") == (
        "No juror is assigned to the advancing entries in “Short list” yet: assign them there "
        "(by hand or automatically) after this step. Assignments and reviews in “Long list” "
        "stay as they are.")
    assert _section(response, "confirm-round") == (
        "“Long list” is neither closed nor trimmed by this step: it stays “Closed (final)”.")
    assert "Nominee C" in text_of(response)
    assert 'class="button primary">Confirm: advance 2 entries</button>' in text_of(response)
    assert _next_entries(app, ranked) == []
    assert read(app, lambda s: s.scalars(select(Decision.id)).all()) == []

    hidden = _hidden(response)
    assert sorted(int(i) for i in hidden["nomination_ids"]) == sorted(
        [ranked.entries["C"], ranked.entries["D"]])
    done = client.post(f"/admin/ranking/rounds/{ranked.round_id}/advance?method=mean",
                       data=hidden)
    assert done.status_code == 303
    assert _next_entries(app, ranked) == sorted([ranked.entries["C"], ranked.entries["D"]])
    after = client.get(url)
    assert _outcomes(after)[refs["C"]] == "already_there"


def test_advance_confirmation_says_an_open_round_is_still_open(app, client, ranked):
    arrange(app, lambda s: setattr(s.get(Round, ranked.round_id), "status", RoundStatus.OPEN))
    login(client, ranked.admin_email)
    response = client.get(f"/admin/ranking/rounds/{ranked.round_id}/advance?mode=chosen"
                          f"&nomination_ids={ranked.entries['A']}")
    assert response.status_code == 200
    assert _section(response, "confirm-round") == (
        "“Long list” is neither closed nor trimmed by this step: it stays “Open for "
        "reviews”. It is still open: jurors can still change their reviews, and the ranking "
        "with them. Close the round first if its ranking is final.")
    assert _outcomes(response)[ranked.refs["A"]] == "advances"


@pytest.mark.parametrize(("phase", "reason"), [
    (CallStatus.DELIBERATION, "Entries advance between rounds in the judging phase."),
    (CallStatus.PUBLISHED, "The results of this call are published: decisions can no longer "
                           "be changed. Publish a correction instead."),
])
def test_advance_confirmation_refused_in_a_phase_that_forbids_it(app, client, ranked, phase,
                                                                 reason):
    _set_phase(app, ranked.call_id, phase)
    login(client, ranked.admin_email)
    response = client.get(f"/admin/ranking/rounds/{ranked.round_id}/advance?mode=top&top_n=2")
    assert response.status_code == 409
    assert _section(response, "confirm-blockers") == f"This step cannot be taken now: {reason}"
    assert "Confirm:" not in text_of(response)


def test_advance_confirmation_from_the_last_round_is_409(app, client, ranked):
    login(client, ranked.admin_email)
    response = client.get(f"/admin/ranking/rounds/{ranked.next_round_id}/advance?mode=top")
    assert response.status_code == 409
    assert _section(response, "confirm-blockers") == (
        "This step cannot be taken now: This is the last round of the call: there is no next "
        "round to advance entries to.")


def test_advance_confirmation_defaults_to_each_categorys_winners(app, client, ranked):
    login(client, ranked.admin_email)
    response = client.get(f"/admin/ranking/rounds/{ranked.round_id}/advance")
    assert response.status_code == 200
    assert sorted(o for o in _outcomes(response).values()) == ["advances", "stays", "stays",
                                                              "stays", "stays"]


def test_advance_confirmation_with_nothing_ticked_is_400(app, client, ranked):
    login(client, ranked.admin_email)
    response = client.get(f"/admin/ranking/rounds/{ranked.round_id}/advance?mode=chosen")
    assert response.status_code == 400
    assert "Tick at least one entry." in text_of(response)


# ---- the people's vote: "add all eligible" and revoking its advance --------------------------


def _closed_vote(app, *, first_round_before: bool):
    """The public stage world after its vote closed: S1, S2, E1, E2 advanced, S3 did not."""
    from tests.integration import test_public_stage_decisions as vote

    world = vote._world(app)
    first = vote._first_round(app, world, filled=False) if first_round_before else None
    vote._vote_and_end(app, world)
    result = app.test_cli_runner().invoke(args=vote.CLOSE)
    assert result.exit_code == 0, result.output
    if first is None:
        first = vote._first_round(app, world, filled=False)
    return world, first, vote


def test_add_all_eligible_after_the_vote_adds_only_the_advanced(app, client):
    world, first, vote = _closed_vote(app, first_round_before=False)
    # One advance is revoked afterwards: that entry is not added either.
    s1 = world.refs[world.references[0]]
    arrange(app, lambda s: setattr(s.scalar(select(Decision).where(
        Decision.nomination_id == s1)), "revoked_at", utcnow()))
    login(client, world.admin_email)
    url = f"/admin/jury/rounds/{first['round_id']}/entries"
    entries_page = text_of(client.get(url))
    assert ('<button type="submit" class="button primary">Add the entries the people\'s vote '
            'sent on</button>') in entries_page
    response = client.post(f"{url}/add-eligible", data={"csrf_token": csrf_from(entries_page)})
    page = follow(client, response)
    assert flashes(page) == [("success", "Entries added: 3.")]
    assert read(app, lambda s: sorted(s.scalars(select(RoundEntry.nomination_id).where(
        RoundEntry.round_id == first["round_id"])))) == vote._ids(world, 1, 3, 4)


def _revoke_form(client, round_id: int, decision_id: int) -> tuple[str, dict]:
    page = text_of(client.get(f"/admin/ranking/rounds/{round_id}"))
    action = f"/admin/ranking/rounds/{round_id}/decisions/{decision_id}/revoke"
    form = page.split(f'action="{action}')[1].split("</form>")[0]
    digest = re.search(r'name="digest" value="([0-9a-f]+)"', form).group(1)
    return action, {"csrf_token": csrf_from(page), "digest": digest}


def _vote_decision(app, nomination_id: int) -> int:
    return read(app, lambda s: s.scalar(select(Decision.id).where(
        Decision.nomination_id == nomination_id, Decision.kind == DecisionKind.ADVANCE,
        Decision.round_id.is_(None))))


def test_revoking_the_vote_advance_takes_the_entry_out_of_the_first_round(app, client):
    from tests.jury_factories import assign

    world, first, vote = _closed_vote(app, first_round_before=True)
    s1 = world.refs[world.references[0]]
    assert read(app, lambda s: s1 in s.scalars(select(RoundEntry.nomination_id).where(
        RoundEntry.round_id == first["round_id"])).all())
    from awards.auth.models import User
    from awards.nominations.models import Nomination

    arrange(app, lambda s: assign(s, s.get(Round, first["round_id"]), s.get(Nomination, s1),
                                  s.get(User, first["juror_id"])))
    decision_id = _vote_decision(app, s1)
    login(client, world.admin_email)
    action, data = _revoke_form(client, first["round_id"], decision_id)
    response = client.post(action, data=data)
    assert response.status_code == 303
    assert read(app, lambda s: sorted(s.scalars(select(RoundEntry.nomination_id).where(
        RoundEntry.round_id == first["round_id"])))) == vote._ids(world, 1, 3, 4)
    assignment = read(app, lambda s: s.scalar(select(Assignment).where(
        Assignment.nomination_id == s1)))
    assert assignment.status == AssignmentStatus.REMOVED
    assert read(app, lambda s: s.get(Decision, decision_id).revoked_at is not None)
    [after] = [a for _b, a in audit_events(app, "ranking.decision_revoke")]
    assert after == {"revoked": True, "removed_from_round": first["round_id"],
                     "assignments_ended": [assignment.id]}


def test_revoking_the_vote_advance_of_a_reviewed_entry_is_refused(app, client):
    from awards.auth.models import User
    from awards.nominations.models import Nomination
    from tests.jury_factories import add_review, assign

    world, first, _vote = _closed_vote(app, first_round_before=True)
    s1 = world.refs[world.references[0]]

    def reviewed(s):
        a = assign(s, s.get(Round, first["round_id"]), s.get(Nomination, s1),
                   s.get(User, first["juror_id"]))
        add_review(s, a, {"impact": 5.0}, submitted=True, total=5.0)
    arrange(app, reviewed)
    decision_id = _vote_decision(app, s1)
    login(client, world.admin_email)
    action, data = _revoke_form(client, first["round_id"], decision_id)
    response = client.post(action, data=data)
    assert response.status_code == 409
    assert flashes(response)[0] == ("error", (
        "This entry has already been reviewed in the round “Long list”, so the decision to "
        "advance it stands: revoking it would leave those reviews without an entry."))
    assert read(app, lambda s: s.get(Decision, decision_id).revoked_at) is None
    assert s1 in read(app, lambda s: s.scalars(select(RoundEntry.nomination_id).where(
        RoundEntry.round_id == first["round_id"])).all())
    assert audit_events(app, "ranking.decision_revoke") == []


def test_revoking_a_round_advance_of_an_entry_reviewed_next_is_refused(app, client, ranked):
    from awards.auth.models import User
    from awards.nominations.models import Nomination
    from tests.jury_factories import add_review, assign

    login(client, ranked.admin_email)
    confirm = client.get(f"/admin/ranking/rounds/{ranked.round_id}/advance?mode=chosen"
                         f"&nomination_ids={ranked.entries['A']}")
    assert client.post(f"/admin/ranking/rounds/{ranked.round_id}/advance",
                       data=_hidden(confirm)).status_code == 303
    juror_id = next(iter(ranked.jurors.values()))

    def reviewed(s):
        a = assign(s, s.get(Round, ranked.next_round_id), s.get(Nomination, ranked.entries["A"]),
                   s.get(User, juror_id))
        add_review(s, a, {"overall": 5.0}, submitted=False)
    arrange(app, reviewed)
    decision_id = read(app, lambda s: s.scalar(select(Decision.id)))
    action, data = _revoke_form(client, ranked.round_id, decision_id)
    response = client.post(action, data=data)
    assert response.status_code == 409
    assert flashes(response)[0] == ("error", (
        "This entry has already been reviewed in the round “Short list”, so the decision to "
        "advance it stands: revoking it would leave those reviews without an entry."))
    assert _next_entries(app, ranked) == [ranked.entries["A"]]
    assert read(app, lambda s: s.get(Decision, decision_id).revoked_at) is None
