"""Closing a public vote: counts frozen, top N per category advance to the first jury round
(ties by the call's rule), results on the call page in three languages, counts for the jury."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from awards.audit import AuditEvent
from awards.calls.models import Call
from awards.db import utcnow
from awards.enums import CallStatus, VoteTieRule
from awards.jury.models import RoundEntry
from awards.nominations.models import Nomination
from awards.public_stage.models import PublicStage, StageEntry
from tests.conftest import post_form
from tests.factories import arrange, english, read
from tests.jury_factories import make_account, make_panel, make_round, make_rubric
from tests.public_stage_factories import SLUG, add_vote, make_voter, public_world


def _world(app, **stage):
    return arrange(app, lambda s: public_world(s, **stage))


def _cast(app, world, plan: dict[int, int], annulled: dict[int, int] | None = None):
    """plan: {index of reference: number of votes}; annulled: extra annulled votes."""
    def build(s):
        stage = s.get(PublicStage, world.stage_id)
        n = 0
        for table, extra in ((plan, {}), (annulled or {}, {"annulled_at": utcnow(),
                                                           "annul_reason": "bot"})):
            for index, count in table.items():
                nomination = s.get(Nomination, world.refs[world.references[index]])
                for _ in range(count):
                    n += 1
                    add_vote(s, stage, make_voter(s, f"c{n}-{len(extra)}@example.org"),
                             nomination, **extra)
        stage.closes_at = utcnow() - timedelta(minutes=1)
    arrange(app, build)


def _with_round(app, world):
    def build(s):
        from awards.calls.models import Call

        call = s.get(Call, world.call_id)
        juror = make_account(s, "juror@example.com")
        return make_round(s, call, rubric=make_rubric(s, call),
                          panel=make_panel(s, call, [(juror, False)])).id
    return arrange(app, build)


def _round_entries(app, round_id):
    return read(app, lambda s: sorted(s.scalars(select(RoundEntry.nomination_id)
                                                .where(RoundEntry.round_id == round_id))))


def _ids(world, *indexes):
    return sorted(world.refs[world.references[i]] for i in indexes)


def test_cli_close_due_advances_top_n_per_category_to_first_round(app, runner):
    world = _world(app)
    round_id = _with_round(app, world)
    # social: S1=5, S2=3, S3=1 ; ecology: E1=0, E2=2 (N = 2, so both ecology entries advance)
    _cast(app, world, {0: 5, 1: 3, 2: 1, 4: 2}, annulled={2: 4})
    result = runner.invoke(args=["awards", "public-stage", "close-due"])
    assert result.exit_code == 0, result.output
    assert "closed 1 stage(s)" in result.output
    assert _round_entries(app, round_id) == _ids(world, 0, 1, 3, 4)
    stage = read(app, lambda s: s.get(PublicStage, world.stage_id))
    assert stage.closed_at is not None
    assert (stage.results["votes"], stage.results["annulled"]) == (11, 4)
    social = stage.results["categories"][0]
    assert [(e["reference"], e["votes"], e["advanced"]) for e in social["entries"]] == [
        (world.references[0], 5, True), (world.references[1], 3, True),
        (world.references[2], 1, False)]
    assert social["annulled"] == 4
    entries = read(app, lambda s: {e.nomination_id: (e.votes, e.advanced) for e in s.scalars(
        select(StageEntry))})
    assert entries[world.refs[world.references[2]]] == (1, False)
    events = read(app, lambda s: [e.action for e in s.scalars(
        select(AuditEvent).order_by(AuditEvent.id))])
    assert events[-4:] == ["public_stage.close", "call.phase_changed", "public_stage.decisions",
                           "public_stage.advance"]
    # The call goes on to the jury by itself.
    assert read(app, lambda s: s.get(Call, world.call_id).status) == CallStatus.JUDGING


def test_cli_close_due_is_idempotent(app, runner):
    world = _world(app)
    round_id = _with_round(app, world)
    _cast(app, world, {0: 2})
    runner.invoke(args=["awards", "public-stage", "close-due"])
    again = runner.invoke(args=["awards", "public-stage", "close-due"])
    assert "closed 0 stage(s)" in again.output
    assert "0 entries added" in again.output
    # S2 and S3 tie at the cut with no votes and all advance (include_all), as do E1 and E2.
    assert len(_round_entries(app, round_id)) == 5


def test_cli_does_not_close_an_open_stage(app, runner):
    world = _world(app)
    runner.invoke(args=["awards", "public-stage", "close-due"])
    assert read(app, lambda s: s.get(PublicStage, world.stage_id).closed_at) is None


def test_round_created_after_close_gets_the_entries_on_next_cli_run(app, runner):
    world = _world(app)
    _cast(app, world, {0: 2, 1: 1})
    runner.invoke(args=["awards", "public-stage", "close-due"])
    round_id = _with_round(app, world)
    runner.invoke(args=["awards", "public-stage", "close-due"])
    assert _round_entries(app, round_id) == _ids(world, 0, 1, 3, 4)


def test_tie_at_cut_include_all_advances_every_tied_entry(app, runner):
    world = _world(app, advance_per_category=1)
    round_id = _with_round(app, world)
    _cast(app, world, {0: 2, 1: 2, 2: 1, 3: 1})
    runner.invoke(args=["awards", "public-stage", "close-due"])
    assert _round_entries(app, round_id) == _ids(world, 0, 1, 3)
    tied = read(app, lambda s: sorted(e.nomination_id for e in s.scalars(
        select(StageEntry).where(StageEntry.tied_at_cut.is_(True)))))
    assert tied == _ids(world, 0, 1)


def test_tie_at_cut_earlier_submission_advances_the_earlier_entry(app, runner):
    world = _world(app, advance_per_category=1, tie_rule=VoteTieRule.EARLIER_SUBMISSION)
    round_id = _with_round(app, world)
    _cast(app, world, {1: 2, 0: 2, 3: 1})
    runner.invoke(args=["awards", "public-stage", "close-due"])
    assert _round_entries(app, round_id) == _ids(world, 0, 3)


def test_admin_choice_tie_waits_for_the_admin_then_closes(app, client, runner, login_as):
    world = _world(app, advance_per_category=1, tie_rule=VoteTieRule.ADMIN_CHOICE)
    round_id = _with_round(app, world)
    _cast(app, world, {0: 2, 1: 2, 3: 1})
    cron = runner.invoke(args=["awards", "public-stage", "close-due"])
    assert "1 waiting for a choice" in cron.output
    assert read(app, lambda s: s.get(PublicStage, world.stage_id).closed_at) is None
    login_as(world.admin_email)
    english(client)
    url = f"/admin/public-stage/{world.call_id}/close"
    page = client.get(url).get_data(as_text=True)
    assert "choose 1 of the entries tied at the cut" in page
    social = read(app, lambda s: s.get(Nomination, world.refs[world.references[0]]).category_id)
    wrong = post_form(client, url, {"confirm": "y", f"tied_{social}": [
        str(world.refs[world.references[0]]), str(world.refs[world.references[1]])]})
    assert wrong.status_code == 400
    assert "Choose exactly as many tied entries" in wrong.get_data(as_text=True)
    chosen = world.refs[world.references[1]]
    response = post_form(client, url, {"confirm": "y", f"tied_{social}": str(chosen)})
    assert response.status_code == 303
    assert _round_entries(app, round_id) == sorted([chosen, world.refs[world.references[3]]])


def test_admin_close_needs_confirmation_and_refuses_before_close_time(app, client, login_as):
    world = _world(app)
    login_as(world.admin_email)
    english(client)
    url = f"/admin/public-stage/{world.call_id}/close"
    early = post_form(client, url, {"confirm": "y"})
    assert early.status_code == 409
    assert "The public stage is still open" in early.get_data(as_text=True)
    _cast(app, world, {0: 1})
    unconfirmed = post_form(client, url, {})
    assert unconfirmed.status_code == 400
    assert "Tick the box to confirm." in unconfirmed.get_data(as_text=True)
    assert read(app, lambda s: s.get(PublicStage, world.stage_id).closed_at) is None


@pytest.mark.parametrize(("lang", "heading", "category", "annulled"), [
    ("en", "Results of the people's vote", "Social Helper", "1 vote annulled."),
    ("ru", "Итоги народного голосования", "Социальный помощник", None),
    ("kk", None, "Әлеуметтік көмекші", None),
])
def test_results_on_call_page_after_close_in_three_languages(app, client, runner, lang,
                                                             heading, category, annulled):
    world = _world(app)
    _cast(app, world, {0: 3, 1: 1}, annulled={1: 1})
    runner.invoke(args=["awards", "public-stage", "close-due"])
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
    page = client.get(f"/calls/{SLUG}").get_data(as_text=True)
    assert 'id="public-results"' in page
    assert category in page
    assert "Aigerim Sadykova" in page
    assert re.search(r"<td class=\"num\"[^>]*>3</td>", page)
    if heading and lang == "en":
        assert heading in page
    if annulled:
        assert annulled in page


def test_call_page_shows_vote_now_while_open(client, app):
    _world(app)
    page = english(client).get(f"/calls/{SLUG}").get_data(as_text=True)
    assert "Vote now" in page
    assert 'id="public-results"' not in page


def test_juror_sees_vote_count_only_when_the_call_shows_it(app, runner, client, login_as):
    world = _world(app)
    round_id = _with_round(app, world)
    _cast(app, world, {0: 4})
    runner.invoke(args=["awards", "public-stage", "close-due"])

    def assign_first(s):
        from awards.auth.models import User
        from awards.jury.models import Round
        from tests.jury_factories import assign

        juror = s.scalar(select(User).where(User.email == "juror@example.com"))
        return assign(s, s.get(Round, round_id), s.get(Nomination, world.refs[
            world.references[0]]), juror).id
    assignment_id = arrange(app, assign_first)
    login_as("juror@example.com")
    english(client)
    page = client.get(f"/jury/assignments/{assignment_id}").get_data(as_text=True)
    assert "People's vote: 4 votes." in page

    def hide(s):
        s.get(PublicStage, world.stage_id).show_counts_to_jury = False
    arrange(app, hide)
    page = client.get(f"/jury/assignments/{assignment_id}").get_data(as_text=True)
    assert 'id="public-votes"' not in page
