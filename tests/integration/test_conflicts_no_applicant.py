"""An entry with no applicant account (nominated by an organisation, entered by the organisers,
or whose applicant's account is gone) is nobody's own entry: its jurors see it and can score
it. The "own entry" test must not turn such an entry into a conflict for everyone."""

from __future__ import annotations

from sqlalchemy import select

from awards.nominations.models import Nomination
from tests.conftest import login
from tests.factories import arrange, english
from tests.jury_factories import PASSWORD, jury_setup


def test_entry_without_applicant_is_on_its_jurors_dashboard(app, client):
    def build(s):
        world = jury_setup(s, entries=2)
        for nomination in s.scalars(select(Nomination)):
            nomination.applicant_id = None
        return world

    world = arrange(app, build)
    login(english(client), world.juror_email, PASSWORD)

    page = client.get("/jury/").get_data(as_text=True)

    assert "You have no entries to judge." not in page
    for assignment_id in world.mine:
        assert f"/jury/assignments/{assignment_id}" in page
    assert client.get(f"/jury/assignments/{world.mine[0]}").status_code == 200
