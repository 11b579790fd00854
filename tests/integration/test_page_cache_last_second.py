"""The last second before a scheduled moment (results going public, a deadline): pages built
then are still shared until the moment. Not storing them sent every request of that second to
the database while the whole country waited for the results (bench/RESULTS.md, results day),
and halved the throughput just before the instant."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from awards.auth.models import User
from awards.calls.models import Call
from awards.db import utcnow
from tests.factories import arrange
from tests.results_factories import decided_call


@pytest.fixture
def app_config(app_config):
    return {**app_config, "CACHE_URL": "simple://"}


def test_a_page_built_in_the_last_second_is_shared_until_the_instant(app):
    from awards.results import services

    world = arrange(app, decided_call)
    moment = (utcnow() + timedelta(hours=2)).replace(microsecond=0)

    def schedule(session):
        admin = session.scalar(select(User).where(User.email == world.admin_email))
        services.publish(session=session, actor=admin, call=session.get(Call, world.call_id),
                         scheduled_for=moment, token=None)

    arrange(app, schedule)
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"

    with time_machine.travel(moment - timedelta(milliseconds=600), tick=False):
        built = client.get("/results/")
        again = client.get("/results/")
    with time_machine.travel(moment - timedelta(microseconds=1), tick=False):
        last = client.get("/results/")
    with time_machine.travel(moment, tick=False):
        at = client.get("/results/")

    assert [r.headers["X-Page-Cache"] for r in (built, again, last, at)] == [
        "miss", "hit", "hit", "miss"]
    assert "Volunteer of the Year 2026" not in last.get_data(as_text=True)
    assert "Volunteer of the Year 2026" in at.get_data(as_text=True)
    # A proxy is told not to keep it at all: it counts whole seconds.
    assert again.headers["Cache-Control"] == "public, max-age=0, s-maxage=0"
