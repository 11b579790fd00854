"""The call's lifecycle through the real pages: where the call stands, each move allowed or
blocked with its reasons, the confirmation pages (GET shows, POST with CSRF does), the clock's
moves (deadline, publication time) audited once, screening refused outside its phase, and the
old status dropdown gone."""

from __future__ import annotations

import html as html_lib
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from awards.audit import AuditEvent
from awards.calls.models import Call
from awards.db import get_db, utcnow
from awards.enums import CallStatus, NominationStatus, RoundStatus
from awards.nominations.models import Nomination
from tests.conftest import csrf_from, login
from tests.factories import arrange, english, make_call, make_nomination, read
from tests.jury_factories import make_account, make_panel, make_round, make_rubric


@pytest.fixture
def admin(app):
    return arrange(app, lambda s: make_account(s, "admin@example.com", name="Admin",
                                               admin=True).email)


@pytest.fixture
def admin_client(client, admin):
    login(client, admin)
    return english(client)


def text(response) -> str:
    return html_lib.unescape(response.get_data(as_text=True))


def new_call(app, **overrides) -> int:
    return arrange(app, lambda s: make_call(s, **overrides).id)


def status_of(app, call_id: int) -> str:
    return read(app, lambda s: s.get(Call, call_id).status.value)


def phase_events(app, call_id: int) -> list[tuple[dict, dict]]:
    return read(app, lambda s: [(e.before_data(), e.after_data()) for e in s.scalars(
        select(AuditEvent).where(AuditEvent.action == "call.phase_changed",
                                 AuditEvent.call_id == call_id).order_by(AuditEvent.id))])


def move(client, call_id: int, action: str):
    page = client.get(f"/admin/calls/{call_id}/phase/{action}")
    return client.post(f"/admin/calls/{call_id}/phase/{action}",
                       data={"csrf_token": csrf_from(page.get_data(as_text=True))})


def blockers_on(page: str) -> list[str]:
    block = re.search(r'id="confirm-blockers">(.*?)</div>', page, re.S)
    if block is None:
        return []
    return [" ".join(re.sub(r"<[^>]+>", "", li).split())
            for li in re.findall(r"<li>(.*?)</li>", block.group(1), re.S)]


# ---- the call's page ---------------------------------------------------------------------------


def test_call_page_shows_steps_current_phase_and_the_next_step(app, admin_client):
    call_id = new_call(app, status=CallStatus.CLOSED, closes_at=utcnow() - timedelta(days=1))
    page = text(admin_client.get(f"/admin/calls/{call_id}"))
    steps = re.findall(r'<li class="phase-step phase-(\w+)"[^>]*data-phase="(\w+)"', page)
    assert steps == [("done", "draft"), ("done", "open"), ("current", "closed"),
                     ("todo", "screening"), ("todo", "judging"), ("todo", "decided"),
                     ("todo", "published")]
    primary = re.search(r"<h3>Next step</h3>\s*<div class=\"phase-move\" "
                        r"data-action=\"(\w+)\">", page)
    assert primary.group(1) == "screen"
    assert "Start screening" in page


def test_call_page_says_what_blocks_judging(app, admin_client, make_user):
    def build(s):
        call = make_call(s, status=CallStatus.SCREENING, closes_at=utcnow() - timedelta(days=1))
        applicant = make_account(s, "a@example.com")
        for _ in range(2):
            make_nomination(s, call=call, applicant_id=applicant.id,
                            status=NominationStatus.SUBMITTED)
        return call.id
    call_id = arrange(app, build)
    page = text(admin_client.get(f"/admin/calls/{call_id}"))
    assert "phase-move phase-move-blocked\" data-action=\"judge\"" in page
    assert "2 submitted nominations are still waiting for screening." in page
    assert "Set up at least one jury round first (Jury and rounds)." in page
    assert "Back to “Closed”" in page  # the phase's name, as in the step list
    response = move(admin_client, call_id, "judge")
    assert response.status_code == 409
    assert blockers_on(text(response)) == [
        "2 submitted nominations are still waiting for screening.",
        "Set up at least one jury round first (Jury and rounds)."]
    assert status_of(app, call_id) == "screening"
    assert phase_events(app, call_id) == []


# ---- each move, allowed or blocked -------------------------------------------------------------


def test_open_blocked_without_categories_questions_and_with_a_past_deadline(app, admin_client):
    call_id = new_call(app, status=CallStatus.DRAFT, categories=(), fields=None,
                       closes_at=utcnow() - timedelta(hours=1))
    page = admin_client.get(f"/admin/calls/{call_id}/phase/open")
    assert page.status_code == 200
    reasons = blockers_on(text(page))
    assert reasons[:2] == ["Add at least one category before opening the call.",
                           "Add at least one question to the application form."]
    assert reasons[2].startswith("The deadline (") and reasons[2].endswith(
        "has passed: move it to a later date in the call's settings first.")
    assert 'type="submit"' not in text(page).split('id="confirm-blockers"')[1]
    response = move(admin_client, call_id, "open")
    assert response.status_code == 409
    assert status_of(app, call_id) == "draft"


def test_open_allowed_moves_audits_and_drafts_the_announcement(app, admin_client, admin):
    call_id = new_call(app, status=CallStatus.DRAFT)
    response = move(admin_client, call_id, "open")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/calls/{call_id}"
    assert status_of(app, call_id) == "open"
    assert phase_events(app, call_id) == [
        ({"status": "draft"}, {"status": "open", "transition": "open", "by": "admin"})]
    actor = read(app, lambda s: s.scalar(select(AuditEvent.actor_label).where(
        AuditEvent.action == "call.phase_changed")))
    assert actor == admin


def test_close_confirmation_says_before_the_deadline_and_counts(app, admin_client):
    def build(s):
        call = make_call(s)  # open, deadline in ten days
        first, second = make_account(s, "a@example.com"), make_account(s, "b@example.com")
        for applicant, status in ((first, NominationStatus.SUBMITTED),
                                  (first, NominationStatus.SUBMITTED),
                                  (second, NominationStatus.SUBMITTED),
                                  (second, NominationStatus.DRAFT)):
            make_nomination(s, call=call, applicant_id=applicant.id, status=status)
        return call.id
    call_id = arrange(app, build)
    page = text(admin_client.get(f"/admin/calls/{call_id}/phase/close"))
    assert "The call moves from “Open for nominations” to “Closed”." in page
    assert "3 submitted nominations go on to screening. They come from 2 applicants." in page
    assert "has not passed yet: nominations stop being accepted now, before it." in page
    assert "1 unfinished draft can no longer be submitted." in page
    assert "No e-mail is sent." in page
    assert status_of(app, call_id) == "open"  # GET changes nothing

    no_csrf = admin_client.post(f"/admin/calls/{call_id}/phase/close")
    assert no_csrf.status_code == 400
    assert status_of(app, call_id) == "open"

    assert move(admin_client, call_id, "close").status_code == 303
    assert status_of(app, call_id) == "closed"
    assert phase_events(app, call_id) == [
        ({"status": "open"}, {"status": "closed", "transition": "close", "by": "admin"})]


def test_close_confirmation_counts_agree_with_their_numbers_in_russian(app, client, admin):
    def build(s):
        call = make_call(s)
        applicant = make_account(s, "a@example.com")
        for status in (NominationStatus.SUBMITTED, NominationStatus.DRAFT,
                       NominationStatus.DRAFT):
            make_nomination(s, call=call, applicant_id=applicant.id, status=status)
        return call.id
    call_id = arrange(app, build)
    login(client, admin)
    with client.session_transaction() as browser:
        browser["lang"] = "ru"
    page = text(client.get(f"/admin/calls/{call_id}/phase/close"))
    assert "1 поданная заявка переходит на техническую экспертизу." in page
    assert "Их подал" not in page  # one nomination: no separate count of applicants
    assert "2 незавершённых черновика больше нельзя будет подать." in page
    assert "(текущий этап)" in page and "(пройден)" in page


@pytest.mark.parametrize(("start", "action", "target"), [
    (CallStatus.CLOSED, "screen", "screening"),
    (CallStatus.SCREENING, "back_to_closed", "closed"),
    (CallStatus.DELIBERATION, "back_to_judging", "judging"),
    (CallStatus.DRAFT, "archive", "archived"),
])
def test_unguarded_moves_go(app, admin_client, start, action, target):
    call_id = new_call(app, status=start, closes_at=utcnow() - timedelta(days=1))
    assert move(admin_client, call_id, action).status_code == 303
    assert status_of(app, call_id) == target


def test_reopen_needs_a_deadline_in_the_future(app, admin_client):
    call_id = new_call(app, status=CallStatus.CLOSED, closes_at=utcnow() - timedelta(days=1))
    response = move(admin_client, call_id, "reopen")
    assert response.status_code == 409
    assert "has passed: move it to a later date" in text(response)
    assert status_of(app, call_id) == "closed"


def test_back_to_draft_refused_with_nominations(app, admin_client):
    def build(s):
        call = make_call(s)
        make_nomination(s, call=call, applicant_id=make_account(s, "a@example.com").id)
        return call.id
    call_id = arrange(app, build)
    response = move(admin_client, call_id, "back_to_draft")
    assert response.status_code == 409
    assert ("The call already has nominations, so it cannot go back to draft. Close it "
            "instead.") in text(response)
    assert status_of(app, call_id) == "open"


def test_judging_once_screened_with_a_round_and_deliberation_once_rounds_closed(app,
                                                                               admin_client):
    def build(s):
        call = make_call(s, status=CallStatus.SCREENING, closes_at=utcnow() - timedelta(days=1))
        applicant = make_account(s, "a@example.com")
        make_nomination(s, call=call, applicant_id=applicant.id,
                        status=NominationStatus.ELIGIBLE)
        juror = make_account(s, "j@example.com")
        round_ = make_round(s, call, rubric=make_rubric(s, call),
                            panel=make_panel(s, call, [(juror, True)]), status=RoundStatus.OPEN,
                            name_en="Long list")
        return call.id, round_.id
    call_id, round_id = arrange(app, build)
    assert move(admin_client, call_id, "judge").status_code == 303
    assert status_of(app, call_id) == "judging"

    response = move(admin_client, call_id, "deliberate")
    assert response.status_code == 409
    assert blockers_on(text(response)) == [
        "The round “Long list” is still open: close it on the jury page first."]

    def close_round(s):
        from awards.jury.models import Round

        s.get(Round, round_id).status = RoundStatus.CLOSED
    arrange(app, close_round)
    assert move(admin_client, call_id, "deliberate").status_code == 303
    assert status_of(app, call_id) == "decided"


def test_public_stage_call_goes_through_its_stage(app, admin_client):
    call_id = new_call(app, status=CallStatus.SCREENING, has_public_stage=True,
                       closes_at=utcnow() - timedelta(days=1))
    page = text(admin_client.get(f"/admin/calls/{call_id}"))
    assert 'data-action="public_stage"' in page
    assert 'data-action="judge"' not in page  # judging comes after the public stage
    response = move(admin_client, call_id, "public_stage")
    assert response.status_code == 409
    assert "Set up the public stage first (Public stage)." in blockers_on(text(response))
    assert admin_client.get(f"/admin/calls/{call_id}/phase/judge").status_code == 200
    assert move(admin_client, call_id, "judge").status_code == 409
    assert status_of(app, call_id) == "screening"


@pytest.mark.parametrize("action", ["publish", "schedule", "correct"])
def test_results_moves_lead_to_the_results_page(app, admin_client, action):
    call_id = new_call(app, status=CallStatus.DELIBERATION,
                       closes_at=utcnow() - timedelta(days=1))
    response = admin_client.post(f"/admin/calls/{call_id}/phase/{action}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/results/calls/{call_id}#publish"
    assert status_of(app, call_id) == "decided"


def test_unknown_or_clock_move_is_404(app, admin_client):
    call_id = new_call(app)
    assert admin_client.get(f"/admin/calls/{call_id}/phase/go_live").status_code == 404
    assert admin_client.get(f"/admin/calls/{call_id}/phase/teleport").status_code == 404


def test_a_move_from_the_wrong_phase_is_refused(app, admin_client):
    call_id = new_call(app)  # open
    response = move(admin_client, call_id, "deliberate")
    assert response.status_code == 409
    assert "A call cannot go from “Open for nominations” to this step." in text(response)
    assert status_of(app, call_id) == "open"


def test_non_admin_cannot_move_a_call(app, client):
    call_id = new_call(app)
    arrange(app, lambda s: make_account(s, "someone@example.com"))
    login(client, "someone@example.com")
    page = client.get(f"/admin/calls/{call_id}/phase/close")
    assert page.status_code == 403
    assert status_of(app, call_id) == "open"


# ---- the old dropdown ---------------------------------------------------------------------------


def test_settings_form_cannot_jump_phases(app, admin_client):
    from tests.conftest import post_form
    from tests.integration.test_admin_calls import edit_data

    call_id = new_call(app)
    page = admin_client.get(f"/admin/calls/{call_id}/edit").get_data(as_text=True)
    assert 'name="status"' not in page
    response = post_form(admin_client, f"/admin/calls/{call_id}/edit",
                         edit_data(app, call_id, status="published"))
    assert response.status_code == 302
    assert status_of(app, call_id) == "open"
    assert phase_events(app, call_id) == []


# ---- the clock -----------------------------------------------------------------------------------


def _past_deadline(app) -> int:
    call_id = new_call(app)

    def expire(s):
        s.get(Call, call_id).closes_at = utcnow() - timedelta(minutes=1)
    arrange(app, expire)
    return call_id


def test_deadline_passed_closes_the_call_on_the_public_page_audited_once(app, client):
    call_id = _past_deadline(app)
    slug = read(app, lambda s: s.get(Call, call_id).slug)
    english(client)
    page = text(client.get(f"/calls/{slug}"))
    assert "Nominations for this call are closed." in page
    assert status_of(app, call_id) == "closed"
    client.get(f"/calls/{slug}")
    assert phase_events(app, call_id) == [
        ({"status": "open"}, {"status": "closed", "transition": "close", "by": "clock"})]


def test_sync_twice_from_two_sessions_audits_once(app):
    from awards import lifecycle

    call_id = _past_deadline(app)
    now = utcnow()
    with app.app_context():
        first = get_db()
        call_a = first.get(Call, call_id)
        with app.app_context():
            second = get_db()
            call_b = second.get(Call, call_id)
            assert lifecycle.sync(second, call_b, now) is True
            second.commit()
        # The first session read the call as open before the second moved it.
        assert lifecycle.sync(first, call_a, now) is False
        first.commit()
    assert status_of(app, call_id) == "closed"
    assert len(phase_events(app, call_id)) == 1


def test_cron_command_closes_due_calls_and_is_idempotent(app, runner):
    call_id = _past_deadline(app)
    result = runner.invoke(args=["awards", "lifecycle", "sync-due"])
    assert result.exit_code == 0, result.output
    assert "calls moved: 1" in result.output
    again = runner.invoke(args=["awards", "lifecycle", "sync-due"])
    assert "calls moved: 0" in again.output
    assert status_of(app, call_id) == "closed"
    assert len(phase_events(app, call_id)) == 1


def test_public_page_says_where_the_call_stands(app, client):
    call_id = new_call(app, status=CallStatus.JUDGING, closes_at=utcnow() - timedelta(days=3))
    slug = read(app, lambda s: s.get(Call, call_id).slug)
    english(client)
    page = text(client.get(f"/calls/{slug}"))
    assert re.search(r'id="call-phase">([^<]*)<', page).group(1) == (
        "Nominations are closed; the jury is at work.")


# ---- screening only in its phase ---------------------------------------------------------------


def test_screening_refused_while_the_call_is_open(app, admin_client):
    def build(s):
        call = make_call(s)  # open
        nomination = make_nomination(s, call=call, status=NominationStatus.SUBMITTED,
                                     applicant_id=make_account(s, "a@example.com").id)
        return call.id, nomination.id, nomination.version_id
    call_id, nomination_id, version = arrange(app, build)
    page = text(admin_client.get(f"/admin/screening/nomination/{nomination_id}"))
    assert "Screening is done in the screening phase of the call." in page
    assert 'action="/admin/screening/nomination/' not in page  # no decision form
    response = admin_client.post(f"/admin/screening/nomination/{nomination_id}/decision", data={
        "csrf_token": csrf_from(page), "decision": "eligible", "version": str(version)})
    assert response.status_code == 409
    assert "Screening is done in the screening phase of the call." in text(response)
    bulk = admin_client.post(f"/admin/screening/{call_id}/bulk", data={
        "csrf_token": csrf_from(page), "decision": "eligible",
        "selected": [f"{nomination_id}:{version}"]})
    assert bulk.status_code == 409
    assert "Screening is done in the screening phase of the call." in text(bulk)
    assert read(app, lambda s: s.get(Nomination, nomination_id).status) == \
        NominationStatus.SUBMITTED


# ---- publication through the lifecycle ---------------------------------------------------------


def test_publish_confirmation_lists_winners_mails_and_missing_citations(app, client):
    from tests.results_factories import decided_call

    def build(s):
        from awards.results.models import Citation

        world = decided_call(s)
        s.delete(s.scalar(select(Citation).where(Citation.nomination_id == world.entries["D"])))
        return world
    world = arrange(app, build)
    login(client, world.admin_email)
    english(client)
    url = f"/admin/results/calls/{world.call_id}/publish"
    page = text(client.get(url, query_string={"mode": "now"}))
    assert "The results cannot be published yet:" in page
    assert "Nominee D (Social Helper): the citation is missing in KK, RU, EN." in page
    assert "Nominee C" in page and "Nominee D" in page
    mails = re.search(r'id="confirm-mails">([^<]*)<', page).group(1)
    assert mails.startswith("3 e-mails will be sent at the publication time, one to each "
                            "applicant. Each applicant is told the outcome of their "
                            "entries: 5 entries in all.")

    def cite(s):
        from tests.results_factories import give_citation

        give_citation(s, world, "D")
    arrange(app, cite)
    page = text(client.get(url, query_string={"mode": "now"}))
    assert "The results cannot be published yet:" not in page
    assert "This cannot be undone once the version is public" in page
    response = client.post(url, data={"mode": "now"})  # no CSRF token
    assert response.status_code == 400
    assert status_of(app, world.call_id) == "decided"
    state = re.search(r'name="state" type="hidden" value="([0-9a-f]+)"', page).group(1)
    response = client.post(url, data={"csrf_token": csrf_from(page), "state": state,
                                            "mode": "now"})
    assert response.status_code == 303
    assert status_of(app, world.call_id) == "published"
    assert phase_events(app, world.call_id)[-1] == (
        {"status": "decided"}, {"status": "published", "transition": "publish", "by": "admin"})


def test_publish_refused_before_deliberation(app, client):
    from tests.results_factories import decided_call

    world = arrange(app, lambda s: decided_call(s, phase=CallStatus.JUDGING))
    login(client, world.admin_email)
    english(client)
    url = f"/admin/results/calls/{world.call_id}"
    overview = text(client.get(url))
    assert "The results are published from the deliberation phase." in overview
    page = client.get(f"{url}/publish", query_string={"mode": "now"})
    assert page.status_code == 409
    assert "end the judging on the call's page first" in text(page)


def test_scheduled_results_go_public_at_their_time(app, client, runner):
    from tests.results_factories import decided_call

    world = arrange(app, decided_call)
    login(client, world.admin_email)
    url = f"/admin/results/calls/{world.call_id}/publish"
    when = (utcnow() + timedelta(hours=2)).astimezone(
        __import__("zoneinfo").ZoneInfo("Asia/Almaty")).strftime("%Y-%m-%dT%H:%M")
    page = text(client.get(url, query_string={"mode": "schedule", "scheduled_for": when}))
    state = re.search(r'name="state" type="hidden" value="([0-9a-f]+)"', page).group(1)
    response = client.post(url, data={"csrf_token": csrf_from(page), "state": state,
                                            "mode": "schedule", "scheduled_for": when})
    assert response.status_code == 303
    assert status_of(app, world.call_id) == "results_scheduled"

    def time_passes(s):
        from awards.results.models import Publication

        publication = s.scalar(select(Publication))
        publication.scheduled_for = utcnow() - timedelta(minutes=1)
    arrange(app, time_passes)
    result = runner.invoke(args=["awards", "lifecycle", "sync-due"])
    assert result.exit_code == 0, result.output
    assert status_of(app, world.call_id) == "published"
    runner.invoke(args=["awards", "results", "publish-due"])
    assert [after for _b, after in phase_events(app, world.call_id)][-1] == {
        "status": "published", "transition": "go_live", "by": "clock"}
    assert len([1 for _b, a in phase_events(app, world.call_id)
                if a["transition"] == "go_live"]) == 1
