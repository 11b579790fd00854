"""Forms work by keyboard alone: Tab / Shift+Tab to move, typing, Enter / Space to act; the
mouse is never used."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD
from tests.factories import arrange
from tests.jury_factories import jury_setup

pytestmark = pytest.mark.browser


def tab_to(page, selector: str, *, backwards: bool = False, limit: int = 120) -> None:
    """Press Tab (or Shift+Tab) until the element matching ``selector`` has the focus."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(limit):
        if page.evaluate("s => document.activeElement?.matches(s) ?? false", selector):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{selector} never received the focus by {key}")


def test_juror_logs_in_and_submits_score_by_keyboard(app, page):
    from playwright.sync_api import expect

    world = arrange(app, lambda s: jury_setup(s, entries=1))
    ids = world.criterion_ids

    page.goto("/account/login")
    tab_to(page, "#email")
    page.keyboard.type(world.juror_email)
    tab_to(page, "#password")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator(".site-header")).to_contain_text("Juror One")

    page.goto("/jury/")
    tab_to(page, "#next-unscored")
    page.keyboard.press("Enter")
    expect(page.locator("#score-sheet")).to_be_visible()
    for key, value in (("impact", "8"), ("originality", "6"), ("scale", "4")):
        tab_to(page, f"#score_{ids[key]}")
        page.keyboard.type(value)
    tab_to(page, f"#score_{ids['impact']}", backwards=True)  # Shift+Tab goes back up
    page.keyboard.press("Control+a")
    page.keyboard.type("9")
    expect(page.locator("#live-total")).to_have_text("28")  # 2×9 + 6 + 4
    tab_to(page, "#submit-review")
    page.keyboard.press("Space")
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator(f'.progress-count[data-round="{world.round_id}"]')).to_have_text("1/1")


def test_confirm_panel_opens_with_enter_and_closes_with_escape(site):
    from playwright.sync_api import expect

    page = site.page_for("admin")
    page.goto(f"/admin/jury/calls/{site.world.call_id}/conflicts")
    summary = page.locator("details.confirm-action > summary").first
    tab_to(page, "details.confirm-action > summary")
    page.keyboard.press("Enter")
    expect(page.locator("details.confirm-action").first).to_have_attribute("open", "")
    tab_to(page, "details.confirm-action[open] button[type=submit]")
    page.keyboard.press("Escape")
    expect(summary).to_be_focused()
    expect(page.locator("details.confirm-action[open]")).to_have_count(0)
