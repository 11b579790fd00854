"""Advancing from the people's vote is a recorded decision, like advancing from a jury round:
one "advance" decision per entry sent on (by the closing administrator, or for the scheduled
close the administrator who set the stage up), audited; the first jury round is trimmed of the
entries that did not advance, once, keeping any entry already reviewed there.

The world is ``tests.public_stage_factories.public_world``: social S1-S3, ecology E1-E2, two
advance per category. With the votes cast below, S1, S2, E1 and E2 advance; S3 does not."""

from __future__ import annotations

from sqlalchemy import select

from awards import audit
from awards.audit import AuditEvent
from awards.auth.models import User
from awards.calls.models import Call
from awards.enums import AssignmentStatus, DecisionKind
from awards.jury.models import Assignment, Round, RoundEntry
from awards.nominations.models import Nomination
from awards.public_stage.models import PublicStage
from awards.ranking.models import Decision
from tests.conftest import post_form
from tests.factories import arrange, english, read
from tests.jury_factories import (
    add_review,
    assign,
    make_account,
    make_panel,
    make_round,
    make_rubric,
)
from tests.public_stage_factories import add_vote, make_voter, public_world

CLOSE = ["awards", "public-stage", "close-due"]
ADVANCED = (0, 1, 3, 4)  # S1, S2, E1, E2
S3 = 2


def _world(app):
    return arrange(app, lambda s: public_world(s))


def _ids(world, *indexes) -> list[int]:
    return sorted(world.refs[world.references[i]] for i in indexes)


def _vote_and_end(app, world) -> None:
    """S1 three votes, S2 two, S3 one; ecology has two entries for two seats. The stage's
    closing time then passes."""
    def build(s):
        from datetime import timedelta

        from awards.db import utcnow

        stage = s.get(PublicStage, world.stage_id)
        n = 0
        for index, count in ((0, 3), (1, 2), (2, 1)):
            nomination = s.get(Nomination, world.refs[world.references[index]])
            for _ in range(count):
                n += 1
                add_vote(s, stage, make_voter(s, f"v{n}@example.org"), nomination)
        stage.closes_at = utcnow() - timedelta(minutes=1)
    arrange(app, build)


def _first_round(app, world, *, filled: bool) -> dict:
    """The call's first jury round; ``filled``: every entry already put in it (as "add all
    eligible" does before the vote closes), S3 assigned to the juror."""
    def build(s):
        call = s.get(Call, world.call_id)
        juror = make_account(s, "juror@example.com")
        round_ = make_round(s, call, rubric=make_rubric(s, call),
                            panel=make_panel(s, call, [(juror, False)]))
        if filled:
            for nomination_id in world.refs.values():
                s.add(RoundEntry(round_id=round_.id, nomination_id=nomination_id))
            s.flush()
            assign(s, round_, s.get(Nomination, world.refs[world.references[S3]]), juror)
        return {"round_id": round_.id, "juror_id": juror.id}
    return arrange(app, build)


def _round_entries(app, round_id: int) -> list[int]:
    return read(app, lambda s: sorted(s.scalars(select(RoundEntry.nomination_id).where(
        RoundEntry.round_id == round_id))))


def _decisions(app) -> list[tuple]:
    return read(app, lambda s: sorted(
        (d.nomination_id, str(d.kind), d.round_id, d.decided_by.email, d.revoked_at)
        for d in s.scalars(select(Decision))))


def _audit(app, action: str) -> list[dict]:
    return read(app, lambda s: [e.after_data() for e in s.scalars(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))])


def _expected(world, email: str) -> list[tuple]:
    return sorted((nid, str(DecisionKind.ADVANCE), None, email, None)
                  for nid in _ids(world, *ADVANCED))


def test_admin_close_records_an_advance_decision_per_entry(app, client, login_as):
    world = _world(app)
    _vote_and_end(app, world)
    login_as(world.admin_email)
    english(client)

    response = post_form(client, f"/admin/public-stage/{world.call_id}/close",
                         {"confirm": "y"})

    assert response.status_code == 303
    assert _decisions(app) == _expected(world, world.admin_email)
    assert read(app, lambda s: sorted(
        (d.nomination_id, d.category_id) for d in s.scalars(select(Decision)))) == sorted(
        (n.id, n.category_id) for n in read(app, lambda s: list(s.scalars(select(
            Nomination).where(Nomination.id.in_(_ids(world, *ADVANCED)))))))
    assert _audit(app, "public_stage.decisions") == [
        {"kind": "advance", "decided_by": read(app, lambda s: s.scalar(select(User.id).where(
            User.email == world.admin_email))), "nomination_ids": _ids(world, *ADVANCED)}]


def test_scheduled_close_decides_in_the_name_of_who_set_the_stage_up(app, runner):
    world = _world(app)

    def configure(s):
        organiser = make_account(s, "organiser@example.com", admin=True)
        audit.record(s, action="public_stage.update", object_type="public_stage",
                     object_id=world.stage_id, actor=organiser, call_id=world.call_id,
                     before={}, after={"advance_per_category": 2})
    arrange(app, configure)
    _vote_and_end(app, world)

    result = runner.invoke(args=CLOSE)

    assert result.exit_code == 0, result.output
    assert _decisions(app) == _expected(world, "organiser@example.com")
    # The close itself is the system's.
    assert read(app, lambda s: s.scalar(select(AuditEvent.actor_label).where(
        AuditEvent.action == "public_stage.decisions"))) == "system"


def test_scheduled_close_without_a_setup_record_names_the_first_administrator(app, runner):
    world = _world(app)
    arrange(app, lambda s: make_account(s, "later-admin@example.com", admin=True))
    _vote_and_end(app, world)

    runner.invoke(args=CLOSE)
    runner.invoke(args=CLOSE)

    assert _decisions(app) == _expected(world, world.admin_email)


def test_close_trims_the_first_round_to_the_advanced_entries(app, runner):
    world = _world(app)
    first = _first_round(app, world, filled=True)
    _vote_and_end(app, world)

    runner.invoke(args=CLOSE)

    assert _round_entries(app, first["round_id"]) == _ids(world, *ADVANCED)
    assert read(app, lambda s: [str(a.status) for a in s.scalars(select(Assignment))]) == [
        str(AssignmentStatus.REMOVED)]
    assert _audit(app, "public_stage.advance") == [
        {"added": 0, "nomination_ids": [], "public_stage_id": world.stage_id,
         "removed": _ids(world, S3), "kept_reviewed": []}]
    assert _decisions(app) == _expected(world, world.admin_email)


def test_an_entry_already_reviewed_in_the_first_round_stays(app, runner):
    world = _world(app)
    first = _first_round(app, world, filled=True)

    def review(s):
        assignment = s.scalar(select(Assignment))
        add_review(s, assignment, {"impact": 5.0}, submitted=True, total=5.0)
    arrange(app, review)
    _vote_and_end(app, world)

    runner.invoke(args=CLOSE)

    assert _round_entries(app, first["round_id"]) == _ids(world, 0, 1, 2, 3, 4)
    assert _audit(app, "public_stage.advance")[0]["kept_reviewed"] == _ids(world, S3)


def test_round_created_after_the_close_gets_the_outcome_once(app, runner):
    world = _world(app)
    _vote_and_end(app, world)
    runner.invoke(args=CLOSE)
    first = _first_round(app, world, filled=True)  # "add all eligible" before the next run

    runner.invoke(args=CLOSE)
    trimmed = _round_entries(app, first["round_id"])
    # Afterwards the round is the administrators': an entry put back by hand stays.
    arrange(app, lambda s: s.add(RoundEntry(round_id=first["round_id"],
                                            nomination_id=world.refs[world.references[S3]])))
    runner.invoke(args=CLOSE)

    assert trimmed == _ids(world, *ADVANCED)
    assert _round_entries(app, first["round_id"]) == _ids(world, *range(5))
    assert len(_audit(app, "public_stage.advance")) == 1
    assert len(_decisions(app)) == 4


def test_an_advanced_entry_can_no_longer_be_withdrawn(app, client, runner, login_as):
    world = _world(app)
    _vote_and_end(app, world)
    runner.invoke(args=CLOSE)
    login_as("applicant@example.com")
    english(client)
    advanced = world.refs[world.references[0]]
    left_out = world.refs[world.references[S3]]

    refused = post_form(client, f"/nominations/{advanced}/withdraw", {"reason": ""},
                        csrf_url="/")
    allowed = post_form(client, f"/nominations/{left_out}/withdraw", {"reason": ""},
                        csrf_url="/")

    assert refused.status_code == 409
    assert ("A decision has already been taken on this nomination, so it can no longer be "
            "withdrawn.") in refused.get_data(as_text=True)
    assert allowed.status_code == 303
    assert read(app, lambda s: (str(s.get(Nomination, advanced).status),
                                str(s.get(Nomination, left_out).status))) == (
        "eligible", "withdrawn")


def test_discussion_stage_records_no_decision(app, runner):
    from awards.enums import StageKind

    world = arrange(app, lambda s: public_world(s, kind=StageKind.DISCUSSION))
    _vote_and_end(app, world)

    runner.invoke(args=CLOSE)

    assert read(app, lambda s: s.get(PublicStage, world.stage_id).closed_at) is not None
    assert _decisions(app) == []
    assert read(app, lambda s: s.scalar(select(Round.id))) is None
