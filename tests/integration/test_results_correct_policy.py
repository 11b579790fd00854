"""Opening a correction of published results is the policy's ``Action.CORRECT``: only an
administrator, only while the results are public. The service asks it, so a refusal is the
same whether it comes from the page or from code; an allowed correction is audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from awards import policy
from awards.auth.models import User
from awards.calls.models import Call
from awards.db import utcnow
from awards.results import services
from tests.conftest import csrf_from, login
from tests.factories import arrange, english, read
from tests.integration.test_results_corrections import open_correction
from tests.integration.test_results_publication import (
    audit_actions,
    call_status,
    current_token,
    overview_url,
    publish,
)
from tests.results_factories import decided_call


@pytest.fixture
def world(app):
    return arrange(app, decided_call)


def _published(client, world):
    login(client, world.admin_email)
    english(client)
    assert publish(client, world).status_code == 303


def test_someone_not_an_administrator_may_not_open_a_correction(client, app, world):
    _published(client, world)

    def attempt(s):
        call = s.get(Call, world.call_id)
        applicant = s.scalar(select(User).where(User.email == world.applicants["C"]))
        with pytest.raises(services.PhaseRefused) as refused:
            services.open_correction(session=s, actor=applicant, call=call,
                                     reason="I want my prize back", token=None)
        s.rollback()
        return refused.value.status, str(refused.value.message)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        status, message = read(app, attempt)
    assert status == 403
    assert message == "Only administrators may do this."
    assert call_status(app, world) == "published"
    assert "results.correction_open" not in audit_actions(app)


def test_correction_before_the_results_are_public_is_refused_with_the_reason(client, app,
                                                                              world):
    login(client, world.admin_email)
    english(client)
    html = client.get(overview_url(world)).get_data(as_text=True)
    assert 'action="' + overview_url(world) + '/correction"' not in html
    # The form is not offered; a hand-made post is refused by the same rule.
    response = client.post(f"{overview_url(world)}/correction", data={
        "csrf_token": csrf_from(html), "state": current_token(app, world),
        "reason": "Too early"})
    assert response.status_code == 409
    assert "A correction can be opened only for results that are public." in \
        response.get_data(as_text=True)
    assert call_status(app, world) == "decided"
    assert "results.correction_open" not in audit_actions(app)


def test_an_administrator_opens_a_correction_and_it_is_audited(client, app, world):
    _published(client, world)
    assert open_correction(client, world, reason="A counting error").status_code == 303
    assert call_status(app, world) == "correcting"
    assert audit_actions(app)[-1] == "results.correction_open"

    def rule(s):
        call = s.get(Call, world.call_id)
        admin = s.scalar(select(User).where(User.email == world.admin_email))
        # Once open, the correction is under way: a second one is refused by the same rule.
        decision = policy.allows(policy.Viewer(s, admin), policy.Action.CORRECT, call,
                                 now=utcnow())
        return decision.ok, decision.status
    assert read(app, rule) == (False, 409)
