"""The policy module against a real database: conflicts found from the data, the list rule
agreeing with the single-entry rule, and the phase rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from awards.auth.models import User
from awards.db import utcnow
from awards.enums import CallStatus, NominationStatus
from awards.jury.models import Assignment, Round
from awards.nominations.models import Nomination
from awards.policy import Action, Viewer, allows, entry_condition
from awards.policy.conflicts import Person, conflict_kinds, conflicted_ids
from tests.factories import arrange
from tests.jury_factories import (
    add_conflict,
    jury_setup,
    make_account,
    make_entry,
)


def _world(app, **kwargs):
    return arrange(app, lambda s: jury_setup(s, entries=3, **kwargs))


def _viewer(session, user_id):
    return Viewer(session, session.get(User, user_id))


@pytest.mark.parametrize("how", ["applicant", "nominee", "organisation", "declared"])
def test_a_conflict_is_found_from_the_entry_itself(app, how):
    world = _world(app)

    def build(session):
        juror = session.get(User, world.juror_id)
        juror.organisation = "  Эко Волонтёры Ü "
        call = session.get(Round, world.round_id).call
        columns = {"nominee_email": "someone@example.org", "organisation_name": "Other"}
        if how == "nominee":
            columns["nominee_email"] = "JUROR@example.com "
        if how == "organisation":
            columns["organisation_name"] = "эко волонтёры ü"
        applicant = juror if how == "applicant" else make_account(session, f"{how}@example.net")
        entry = make_entry(session, call, applicant=applicant, **columns)
        if how == "declared":
            add_conflict(session, juror, entry)
        return entry.id

    entry_id = arrange(app, build)
    with app.app_context():
        from awards.db import get_db

        session = get_db()
        juror = session.get(User, world.juror_id)
        person = Person.of(juror)
        assert conflicted_ids(session, person, world.call_id) == {entry_id}
        assert conflict_kinds(session, person, session.get(Nomination, entry_id)) == [how]


def test_the_list_rule_and_the_entry_rule_agree_for_each_person(app):
    world = _world(app)

    def build(session):
        add_conflict(session, session.get(User, world.chair_id),
                     session.get(Nomination, world.entry_ids[1]))
        session.get(Nomination, world.entry_ids[2]).status = NominationStatus.WITHDRAWN
        outsider = make_account(session, "outsider@example.com")
        return outsider.id

    outsider_id = arrange(app, build)
    expected = {
        world.juror_id: {world.entry_ids[0], world.entry_ids[1]},
        world.chair_id: {world.entry_ids[0]},
        outsider_id: set(),
    }
    with app.app_context():
        from awards.db import get_db

        session = get_db()
        round_ = session.get(Round, world.round_id)
        now = utcnow()
        for user_id, visible in expected.items():
            viewer = _viewer(session, user_id)
            listed = set(session.scalars(select(Nomination.id).where(
                Nomination.call_id == world.call_id, entry_condition(viewer, round_))))
            single = {n for n in world.entry_ids
                      if allows(viewer, Action.SEE_ENTRY, (round_, session.get(Nomination, n)),
                                now=now)}
            assert (listed, single) == (visible, visible)


@pytest.mark.parametrize(("phase", "may_score"), [
    (CallStatus.OPEN, True),  # the round's own dates and status govern scoring here
    (CallStatus.JUDGING, True),
    (CallStatus.RESULTS_SCHEDULED, False),
    (CallStatus.PUBLISHED, False),
    (CallStatus.CORRECTING, False),
    (CallStatus.ARCHIVED, False),
])
def test_scoring_stops_when_results_are_scheduled(app, phase, may_score):
    world = _world(app)
    with app.app_context():
        from awards.db import get_db

        session = get_db()
        round_ = session.get(Round, world.round_id)
        round_.call.status = phase
        decision = allows(_viewer(session, world.juror_id), Action.SCORE,
                          session.get(Assignment, world.mine[0]), now=utcnow())
        assert decision.ok is may_score
        if not may_score:
            assert decision.status == 409


def test_a_juror_in_conflict_may_not_score_even_an_assigned_entry(app):
    world = _world(app)
    with app.app_context():
        from awards.db import get_db

        session = get_db()
        entry = session.get(Nomination, world.entry_ids[0])
        entry.nominee_email = world.juror_email
        decision = allows(_viewer(session, world.juror_id), Action.SCORE,
                          session.get(Assignment, world.mine[0]), now=utcnow())
        assert (decision.ok, decision.status, decision.rule) == (False, 404, "~in_conflict")


def test_a_closed_round_refuses_scoring_with_a_reason(app):
    world = _world(app, closes_in=timedelta(days=-1))
    with app.test_request_context(headers={"Accept-Language": "en"}):
        from awards.db import get_db

        session = get_db()
        decision = allows(_viewer(session, world.juror_id), Action.SCORE,
                          session.get(Assignment, world.mine[0]), now=utcnow())
        assert (decision.ok, decision.status, str(decision.reason)) == (
            False, 409, "This round is not open for scoring now.")


def test_anonymous_and_other_people_never_see_an_entry(app):
    world = _world(app)
    with app.app_context():
        from awards.db import get_db

        session = get_db()
        round_ = session.get(Round, world.round_id)
        entry = session.get(Nomination, world.entry_ids[0])
        now = utcnow()
        assert allows(Viewer(session, None), Action.SEE_ENTRY, (round_, entry), now=now).status \
            == 404
        applicant = session.scalar(select(User).where(User.email == "applicant@example.com"))
        assert not allows(Viewer(session, applicant), Action.SEE_ENTRY, (round_, entry), now=now)
        assert allows(Viewer(session, applicant), Action.VIEW_NOMINATION, entry, now=now)
