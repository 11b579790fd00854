"""The jury's irreversible steps go through a confirmation page that says what will happen:
closing (and opening) a round, advancing entries to the next round. GET shows the page and
changes nothing; POST with its CSRF token does the step (400 without it; 409 with the reasons
when the phase forbids it). Also: "Add all eligible" after a people's vote adds only what the
vote sent on, and revoking the vote's "advance" takes the entry back out of the first round."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from awards.db import utcnow
from awards.enums import (
    AssignmentStatus,
    CallStatus,
    DecisionKind,
    ReviewStatus,
    RoundStatus,
    StageKind,
)
from awards.jury.models import Assignment, Round, RoundEntry
from awards.ranking.models import Decision
from tests.conftest import csrf_from, login
from tests.factories import arrange, read
from tests.integration.test_jury_setup import (  # noqa: F401  (client is a fixture)
    as_admin,
    assign_rows,
    audit_events,
    client,
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
        "2 of the 4 assigned reviews are submitted: only submitted reviews count in the "
        "ranking.")
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
        "2 jurors of the panel “Main panel” see the round on their jury page, with 2 assigned "
        "reviews of 2 entries.")
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
