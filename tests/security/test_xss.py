"""Stored XSS: text typed by applicants, jurors and administrators is shown escaped on every
page that shows it, to every role."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from awards.auth.models import User
from awards.jury.models import Assignment
from awards.nominations.models import Answer, Nomination
from tests.conftest import login
from tests.factories import arrange
from tests.jury_factories import add_review, jury_setup

PAYLOAD = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
ESCAPED = "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;"


def hostile_world(session):
    world = jury_setup(session, entries=1)
    entry = session.get(Nomination, world.entry_ids[0])
    entry.nominee_name = "N " + PAYLOAD
    entry.organisation_name = "O " + PAYLOAD
    for answer in entry.answers:
        if answer.field.key in ("title", "activity"):
            answer.value = f"{answer.field.key} {PAYLOAD}"
    for attachment in entry.attachments:
        attachment.original_name = PAYLOAD + ".pdf"
    session.execute(update(User).values(full_name=User.full_name + " " + PAYLOAD))
    add_review(session, session.get(Assignment, world.others[0]),
               {"impact": 5.0, "originality": 5.0, "scale": 3.0},
               comment="comment " + PAYLOAD, total=18.0)
    from tests.jury_factories import make_account

    make_account(session, "admin@example.com", admin=True)
    return world


@pytest.fixture
def world(app):
    return arrange(app, hostile_world)


def pages_for(world) -> dict[str, list[str]]:
    entry, call = world.entry_ids[0], world.call_id
    return {
        "applicant@example.com": ["/nominations/", f"/nominations/{entry}",
                                  "/account/profile"],
        world.juror_email: ["/jury/", f"/jury/assignments/{world.mine[0]}"],
        world.chair_email: [f"/jury/assignments/{world.chairs[0]}",
                            f"/jury/assignments/{world.chairs[0]}/panel"],
        "admin@example.com": [f"/admin/screening/{call}/", f"/admin/screening/nomination/{entry}",
                              f"/admin/jury/rounds/{world.round_id}/progress",
                              f"/admin/jury/calls/{call}/conflicts"],
    }


def test_typed_text_is_escaped_on_every_page_of_every_role(app, world):
    shown_raw, shown_escaped = {}, {}
    for email, urls in pages_for(world).items():
        client = app.test_client()
        login(client, email)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            html = response.get_data(as_text=True)
            shown_raw[url] = "<script>alert(1)" in html or "onerror=alert" in html.replace(
                "onerror=alert(2)&gt;", "")
            shown_escaped[url] = ESCAPED in html or "&lt;script&gt;alert(1)" in html

    assert [url for url, raw in shown_raw.items() if raw] == []
    # Every page did show the hostile text (escaped), so the check above means something.
    assert [url for url, seen in shown_escaped.items() if not seen] == []


def test_answers_are_stored_as_typed(app, world):
    from tests.factories import read

    values = read(app, lambda s: sorted(a.value for a in s.query(Answer)
                                        if isinstance(a.value, str) and PAYLOAD in a.value))
    assert values == [f"activity {PAYLOAD}", f"title {PAYLOAD}"]
