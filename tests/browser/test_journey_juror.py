"""The juror's day in a real browser, at desktop width and on a 390 px phone: the list shows
each entry's work title; the first entry opens with its PDF in a viewer beside the rubric (on
the phone: above it); the scores are given with the keyboard only (Tab, typing, ↑/↓, End), the
focus always visible; Ctrl+Enter is "Save and next"; submitting goes on to the entry still to
score and the last one ends on "All done". The autosave keeps a change made while offline on
the device, says so, and saves it when the connection comes back. axe finds nothing serious on
any page.

With AWARDS_SCREENSHOTS=1 the pages are saved to docs/screenshots/ (juror-dashboard.png,
scoring.png, scoring-phone.png)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from awards.jury.models import Review
from tests.browser.journeys import axe as _axe
from tests.browser.journeys import shot as _shot
from tests.browser.journeys import signed_in as _signed_in
from tests.factories import arrange, read
from tests.jury_factories import jury_setup

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PHONE = {"width": 390, "height": 844}








def _tab_to(page, element_id: str, *, limit: int = 120) -> None:
    """Press Tab until the element has the focus, as a keyboard user would."""
    for _ in range(limit):
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
        page.keyboard.press("Tab")
    pytest.fail(f"#{element_id} was never reached with Tab")


def _focus_is_visible(page) -> None:
    outline = page.evaluate("""() => {
        const s = getComputedStyle(document.activeElement);
        return [s.outlineStyle, parseFloat(s.outlineWidth)]; }""")
    assert outline[0] != "none" and outline[1] >= 2, outline


def _score_with_keyboard(page, ids: dict[str, int]) -> None:
    """Impact 8 typed; originality up from empty to 0 and twice more (0.5 steps: 1); scale to
    its highest with End (5). Total: 2×8 + 1 + 5 = 22."""
    _tab_to(page, f"score_{ids['impact']}")
    _focus_is_visible(page)
    page.keyboard.type("8")
    _tab_to(page, f"score_{ids['originality']}")
    _focus_is_visible(page)
    for _ in range(3):
        page.keyboard.press("ArrowUp")
    _tab_to(page, f"score_{ids['scale']}")
    page.keyboard.press("End")
    assert page.locator(f"#score_{ids['originality']}").input_value() == "1"
    assert page.locator(f"#score_{ids['scale']}").input_value() == "5"


def _stored(app, assignment_id: int):
    return read(app, lambda s: (lambda r: None if r is None else (
        r.status.value, r.total, {sc.criterion.key: sc.value for sc in r.scores}))(
        s.scalar(select(Review).where(Review.assignment_id == assignment_id))))


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_jurors_day(app, browser, live_server, phone):
    from playwright.sync_api import expect

    world = arrange(app, lambda s: jury_setup(s, entries=2))
    ids = world.criterion_ids
    first, second = world.mine
    page, problems = _signed_in(browser, live_server, world.juror_email, phone=phone)

    # The list: each entry with its work's title; a card per entry on the phone.
    page.goto("/jury/")
    rows = page.locator("tr[data-assignment]")
    expect(rows).to_have_count(2)
    expect(rows.first.locator("td.work-title")).to_have_text("Clean rivers")
    display = page.evaluate(
        "getComputedStyle(document.querySelector('tr[data-assignment]')).display")
    assert display == ("block" if phone else "table-row")
    _axe(page)
    if not phone:
        _shot(page, "juror-dashboard.png")

    # The first entry: title, and its PDF in the viewer beside (desktop) or above (phone) it.
    page.locator("#next-unscored").click()
    expect(page).to_have_url(re.compile(rf"/jury/assignments/{first}$"))
    expect(page.locator("#work-title")).to_contain_text("Clean rivers")
    viewer = page.locator("#file-viewer")
    expect(viewer).to_be_visible()
    frame = page.locator("#viewer-frame")
    expect(frame).to_have_attribute("src", re.compile(r"/attachments/\d+/view$"))
    expect(frame).to_have_attribute("title", "report.pdf")
    expect(page.locator("#viewer-open")).to_have_attribute("target", "_blank")
    pdf = page.request.get(frame.get_attribute("src"))
    assert pdf.headers["content-disposition"].startswith("inline")
    assert pdf.headers["content-type"] == "application/pdf"
    viewer_box = viewer.bounding_box()
    rubric_box = page.locator("#score-sheet").bounding_box()
    if phone:
        assert viewer_box["y"] + viewer_box["height"] <= rubric_box["y"]
        assert viewer_box["x"] >= 0 and viewer_box["x"] + viewer_box["width"] <= PHONE["width"]
    else:
        assert viewer_box["x"] + viewer_box["width"] <= rubric_box["x"]  # side by side
        assert viewer_box["y"] < rubric_box["y"] + rubric_box["height"]
    _axe(page)
    _shot(page, "scoring-phone.png" if phone else "scoring.png")

    # Keyboard only: the scores, the live total, then Ctrl+Enter saves and goes on.
    _score_with_keyboard(page, ids)
    expect(page.locator("#live-total")).to_have_text("22")
    page.keyboard.press("Control+Enter")
    expect(page).to_have_url(re.compile(rf"/jury/assignments/{second}$"))
    assert _stored(app, first) == ("draft", 22.0, {"impact": 8.0, "originality": 1.0,
                                                   "scale": 5.0})

    # The second entry: autosave, then a change made offline is kept and sent on reconnect.
    status = page.locator("#autosave-status")
    _tab_to(page, f"score_{ids['impact']}")
    page.keyboard.type("6")
    expect(status).to_have_text("Saved")
    assert _stored(app, second)[2]["impact"] == 6.0
    page.context.set_offline(True)
    page.keyboard.press("ArrowUp")
    expect(status).to_contain_text("Offline — your changes are kept on this device")
    kept = page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('awards-review'))")
    assert len(kept) == 1
    assert _stored(app, second)[2]["impact"] == 6.0
    page.context.set_offline(False)
    expect(status).to_have_text("Saved")
    assert _stored(app, second)[2]["impact"] == 7.0
    assert page.evaluate(
        "Object.keys(localStorage).filter(k => k.startsWith('awards-review')).length") == 0
    _tab_to(page, f"score_{ids['originality']}")
    page.keyboard.type("4")
    _tab_to(page, f"score_{ids['scale']}")
    page.keyboard.press("Home")
    _tab_to(page, "submit-review")
    _focus_is_visible(page)
    page.keyboard.press("Enter")

    # Submitting goes on to the one left (the draft), and its submission ends the day.
    expect(page).to_have_url(re.compile(rf"/jury/assignments/{first}$"))
    expect(page.locator(".flash-success")).to_be_visible()
    _axe(page)
    _tab_to(page, "submit-review")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/jury/$"))
    expect(page.locator("#all-done")).to_be_visible()
    expect(page.locator("#next-unscored")).to_have_count(0)
    _axe(page)
    assert _stored(app, first)[:2] == ("submitted", 22.0)
    assert _stored(app, second)[:2] == ("submitted", 2 * 7 + 4 + 1)
    assert [p for p in problems if "/view" not in p] == []
    page.context.close()


def test_a_change_in_another_tab_is_noticed_and_not_overwritten(app, browser, live_server):
    from playwright.sync_api import expect

    world = arrange(app, lambda s: jury_setup(s, entries=1))
    impact = f"#score_{world.criterion_ids['impact']}"
    url = f"/jury/assignments/{world.mine[0]}"
    first, problems = _signed_in(browser, live_server, world.juror_email, phone=False)
    first.goto(url)
    second = first.context.new_page()
    second.goto(url)
    second.locator(impact).press_sequentially("9")
    expect(second.locator("#autosave-status")).to_have_text("Saved")
    first.locator(impact).press_sequentially("3")
    expect(first.locator("#autosave-status")).to_contain_text("Changed in another tab")
    first.wait_for_timeout(1500)  # past the autosave's delay: nothing overwrites the other tab
    assert _stored(app, world.mine[0])[2]["impact"] == 9.0
    assert [p for p in problems if "409" not in p] == []
    first.context.close()
