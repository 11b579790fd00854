"""Who may publish a call's results, in which phase: ``Action.PUBLISH``, the one home of the
rule (the results service and its pages ask it)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from awards.db import utcnow
from awards.enums import CallStatus
from awards.policy import Action, Viewer, allows


class Call(SimpleNamespace):
    """A call as the policy reads it (its phase only)."""


ADMIN = SimpleNamespace(id=1, is_admin=True, is_authenticated=True)
APPLICANT = SimpleNamespace(id=2, is_admin=False, is_authenticated=True)


def _ask(user, status: CallStatus):
    return allows(Viewer(None, user), Action.PUBLISH, Call(status=status.value), now=utcnow())


@pytest.mark.parametrize("status", [CallStatus.DELIBERATION, CallStatus.CORRECTING])
def test_an_administrator_publishes_after_deliberation_or_in_a_correction(status):
    assert _ask(ADMIN, status).ok


@pytest.mark.parametrize("status", [CallStatus.RESULTS_SCHEDULED, CallStatus.PUBLISHED])
def test_results_already_out_change_only_through_a_correction(status):
    decision = _ask(ADMIN, status)
    assert (decision.ok, decision.status, decision.rule) == (False, 409, "results_not_out")


@pytest.mark.parametrize("status", [CallStatus.OPEN, CallStatus.SCREENING, CallStatus.JUDGING,
                                    CallStatus.ARCHIVED])
def test_other_phases_wait_for_the_deliberation(status):
    decision = _ask(ADMIN, status)
    assert (decision.ok, decision.status) == (False, 409)
    assert decision.rule.startswith("phase_in(")


def test_only_an_administrator_publishes():
    decision = _ask(APPLICANT, CallStatus.DELIBERATION)
    assert (decision.ok, decision.status) == (False, 403)
