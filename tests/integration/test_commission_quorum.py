"""The quorum as the commission set it, exactly: "two thirds of 9 members = 6", never a rounded
"66.7%", on the chair's page, in the protocol and on the administrators' page; a share that is
no common fraction is shown as typed (3/5, 55.5 %)."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from tests.commission_factories import commission_world
from tests.conftest import post_form
from tests.factories import arrange
from tests.integration.test_commission import client_of, vote


@pytest.fixture
def world(app):
    return arrange(app, lambda s: commission_world(s, members=9, per_category=1))


def text(response) -> str:
    html = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return " ".join(html.replace("&#39;", "'").split())


def test_quorum_is_shown_exactly_before_during_and_after_the_ballot(app, world):
    url = f"/commission/rounds/{world.round_id}"
    chair = client_of(app, world.chair)
    admin = client_of(app, world.admin)

    # Before the opening: the chair's page and the administrators' page.
    for page in (text(chair.get(f"{url}/chair")),
                 text(admin.get(f"/admin/commission/rounds/{world.round_id}"))):
        assert "Quorum: two thirds of 9 members = 6." in page
        assert "66.7" not in page and "66,7" not in page

    post_form(chair, f"{url}/open", csrf_url=f"{url}/chair")
    entries = [n for ids in world.entries.values() for n in ids]
    for email in world.members[:6]:
        vote(app, world, email, dict.fromkeys(entries, "yes"))
    page = text(chair.get(f"{url}/chair"))
    assert "6 of 9 members have voted." in page
    assert "Quorum: two thirds of 9 members = 6." in page
    assert "An entry passes with more than 1/2 of yes votes." in page

    post_form(chair, f"{url}/close", csrf_url=f"{url}/chair")
    page = text(chair.get(f"{url}/chair"))
    assert "6 of 9 members present; quorum: two thirds = 6." in page
    assert "66.7" not in page and "50.0" not in page

    pdf = chair.get(f"{url}/protocol.pdf?lang=en")
    protocol = " ".join("".join(p.extract_text() for p in PdfReader(
        io.BytesIO(pdf.data)).pages).split())
    assert "6 of 9 members present; quorum: two thirds = 6." in protocol
    assert "The quorum was reached." in protocol
    assert "more than 1/2 of yes votes" in protocol
    assert "66.7" not in protocol


def test_more_than_half_and_an_uncommon_share(app):
    world = arrange(app, lambda s: commission_world(
        s, members=10, per_category=1, quorum=0.5, quorum_inclusive=False))
    chair = client_of(app, world.chair)
    page = text(chair.get(f"/commission/rounds/{world.round_id}/chair"))
    # More than half of 10 is 6, not 5.
    assert "Quorum: more than one half of 10 members = 6." in page

    admin = client_of(app, world.admin)
    admin_url = f"/admin/commission/rounds/{world.round_id}"
    rules = {"method": "approval", "quorum_bound": "at_least", "threshold": "1/2",
             "threshold_bound": "more_than", "threshold_base": "cast"}
    post_form(admin, admin_url, {**rules, "quorum": "3/5"})
    assert "Quorum: 3/5 of 10 members = 6." in text(admin.get(admin_url))
    post_form(admin, admin_url, {**rules, "quorum": "55.5 %"})
    assert "Quorum: 55.5 % of 10 members = 6." in text(admin.get(admin_url))

    # The rules form shows the share as it reads it back, and the number follows the language.
    page = admin.get(admin_url).get_data(as_text=True)
    assert re.search(r'name="quorum"[^>]*value="55.5 %"|value="55.5 %"[^>]*name="quorum"', page)
    for language in ("ru", "kk"):
        with admin.session_transaction() as session:
            session["lang"] = language
        page = text(admin.get(admin_url))
        assert "55,5 %" in page and "55.5" not in page, language
    post_form(admin, admin_url, {**rules, "quorum": "55,5 %"})
    with admin.session_transaction() as session:
        session["lang"] = "en"
    assert "Quorum: 55.5 % of 10 members = 6." in text(admin.get(admin_url))
