"""The administrator's desk in a real browser, at desktop width and on a 390 px phone: the
to-do dashboard says what needs doing in each call and leads into the step; the entries to
screen are all ticked with one checkbox (a live count says how many), one is unticked (its
nominee has not consented yet) and the rest are marked eligible in one go; on the ranking no
award is preselected ("— none —"); one entry is awarded; back on the dashboard the decided
winner's citation is missing. axe finds nothing serious on any page; on the phone the lists
are cards, nothing wider than the screen.

With AWARDS_SCREENSHOTS=1 the pages are saved to docs/screenshots/ (admin-desk.png,
screening.png, ranking.png, admin-desk-phone.png)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from awards.enums import NominationStatus
from awards.nominations.models import Nomination
from awards.ranking.models import Decision
from tests.admin_factories import desk_world
from tests.browser.conftest import AXE
from tests.browser.journeys import shot as _shot
from tests.browser.journeys import signed_in as _signed_in
from tests.browser.test_accessibility import assert_no_blocking_violation
from tests.factories import arrange, read

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PHONE = {"width": 390, "height": 844}




def _check(page, *, phone: bool) -> None:
    if AXE.exists():
        assert_no_blocking_violation(page, page.url)
    if phone:  # nothing wider than the screen: no sideways scrolling
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]




@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_administrators_desk(app, browser, live_server, phone):
    from playwright.sync_api import expect

    world = arrange(app, desk_world)
    page, problems = _signed_in(browser, live_server, world.admin_email, phone=phone)
    judged = f"#todo-call-{world.judged_call_id}"
    screening = f"#todo-call-{world.screening_call_id}"

    # The desk: what needs doing, per call, with counts.
    page.goto("/admin/")
    expect(page.locator(f'{screening} [data-kind="screen"]')).to_have_text(
        "3 entries to screen")
    expect(page.locator(f'{screening} [data-kind="consent"]')).to_contain_text(
        "1 nominee's consent missing")
    expect(page.locator(f'{judged} [data-kind="jurors_behind"]')).to_contain_text(
        "2 assigned reviews not submitted")
    expect(page.locator(f'{judged} [data-kind="jurors_behind"]')).to_contain_text(
        "the round closes")
    expect(page.locator(f'{judged} [data-kind="citations"]')).to_have_count(0)
    display = page.evaluate("getComputedStyle(document.querySelector('tr[id^=call-]')).display")
    assert display == ("block" if phone else "table-row")
    _check(page, phone=phone)
    _shot(page, "admin-desk-phone.png" if phone else "admin-desk.png")

    # Into screening, filtered to the entries waiting; tick all, untick the one without consent.
    page.locator(f'{screening} [data-kind="screen"] a').click()
    expect(page).to_have_url(re.compile(rf"/admin/screening/{world.screening_call_id}/"
                                        r"\?status=submitted$"))
    select_all = page.locator("#select-all")
    expect(select_all).to_be_visible()
    count = page.locator("#selected-count")
    expect(count).to_have_attribute("aria-live", "polite")
    expect(count).to_have_text("")
    select_all.check()
    boxes = page.locator('input[name="selected"]')
    expect(boxes).to_have_count(3)
    for i in range(3):
        expect(boxes.nth(i)).to_be_checked()
    expect(count).to_have_text("Selected: 3")
    page.locator(f"#select-{world.to_screen[0]}").uncheck()
    expect(count).to_have_text("Selected: 2")
    assert page.evaluate("document.getElementById('select-all').indeterminate") is True
    page.locator("#decision").select_option("eligible")
    _check(page, phone=phone)
    if not phone:
        _shot(page, "screening.png")
    page.locator("#screening-bulk button[type=submit]").click()
    expect(page.locator(".flash-success")).to_be_visible()
    statuses = read(app, lambda s: {n.id: n.status for n in s.scalars(
        select(Nomination).where(Nomination.id.in_(world.to_screen)))})
    assert statuses == {world.to_screen[0]: NominationStatus.SUBMITTED,
                        world.to_screen[1]: NominationStatus.ELIGIBLE,
                        world.to_screen[2]: NominationStatus.ELIGIBLE}

    # The ranking: no award preselected; award one entry.
    page.goto(f"/admin/ranking/rounds/{world.round_id}")
    entry = world.entries["A"]
    level = page.locator(f"#level-{entry}")
    expect(level).to_have_value("")
    expect(level.locator("option:checked")).to_have_text("— none —")
    row = page.locator(f"#entry-{entry}")
    assert page.evaluate(f"getComputedStyle(document.getElementById('entry-{entry}')).display"
                         ) == ("block" if phone else "table-row")
    _check(page, phone=phone)
    if not phone:
        _shot(page, "ranking.png")
    level.select_option(label="Winner")
    row.locator(".award-form button[type=submit]").click()
    expect(page.locator(".flash-success")).to_be_visible()
    decided = read(app, lambda s: [(d.nomination_id, d.award_level_id)
                                   for d in s.scalars(select(Decision))])
    assert decided == [(entry, world.levels["gold"])]
    expect(page.locator(f"#level-{entry}")).to_have_value(str(world.levels["gold"]))

    # Back on the desk: one entry still to screen, and the winner's citation is missing.
    page.goto("/admin/")
    expect(page.locator(f'{screening} [data-kind="screen"]')).to_have_text(
        "1 entry to screen")
    citation = page.locator(f'{judged} [data-kind="citations"]')
    expect(citation).to_have_text("1 citation missing for a decided winner")
    expect(citation.locator("a")).to_have_attribute(
        "href", f"/admin/results/calls/{world.judged_call_id}")
    _check(page, phone=phone)
    assert problems == []
    page.context.close()
