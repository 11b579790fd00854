"""A winner follows their own entry once the results are public, at desktop width and on a
390 px phone: "My nominations" shows the award and the diploma link in view (a stack of
cards on the phone, nothing off-screen), the nomination's page shows the award in its status
line, its result and its history, and the diploma downloads as a PDF. axe finds nothing serious
on either page at either width.

With AWARDS_SCREENSHOTS=1 the pages are saved to docs/screenshots/ (winner-own-page.png,
my-nominations-phone.png)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from tests.browser.journeys import axe as _axe
from tests.browser.journeys import shot as _shot
from tests.browser.journeys import signed_in
from tests.factories import arrange, read

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PHONE = {"width": 390, "height": 844}


def _published(app):
    def build(session):
        from awards.auth.models import User
        from awards.calls.models import Call
        from awards.results import services as results
        from tests.jury_factories import make_account
        from tests.results_factories import decided_call

        world = decided_call(session)
        owner = session.scalar(select(User).where(User.email == world.applicants["D"]))
        owner.preferred_language = "en"
        admin = make_account(session, "results.admin@example.com", name="Results Admin",
                             admin=True)
        call = session.get(Call, world.call_id)
        results.publish(session=session, actor=admin, call=call, scheduled_for=None,
                        token=results.state_token(session, call))
        return world
    return arrange(app, build)


def _diploma_code(app, nomination_id: int) -> str:
    from awards.results.models import Certificate

    return read(app, lambda s: s.scalar(select(Certificate.code).where(
        Certificate.nomination_id == nomination_id)))


def _signed_in(browser, live_server, email: str, *, phone: bool):
    return signed_in(browser, live_server, email, phone=phone, desktop=(1280, 860))[0]






def _in_view(page, locator) -> None:
    """Visible and inside the viewport's width: no horizontal scrolling needed to see it."""
    from playwright.sync_api import expect

    expect(locator).to_be_visible()
    box = locator.bounding_box()
    width = page.viewport_size["width"]
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (box, width)


def test_winner_sees_award_and_diploma_on_desktop_and_phone(app, browser, live_server):
    from playwright.sync_api import expect

    world = _published(app)
    entry = world.entries["D"]
    code = _diploma_code(app, entry)
    diploma = f'a[href="/certificates/{code}.pdf"]'

    for phone in (False, True):
        page = _signed_in(browser, live_server, world.applicants["D"], phone=phone)
        try:
            # My nominations: the winning row with its status, award and diploma link.
            page.goto("/nominations/")
            row = page.locator("table.nominations-table tbody tr").filter(
                has=page.locator(f'a[href="/nominations/{entry}"]'))
            expect(row.locator(".badge", has_text="Eligible")).to_be_visible()
            expect(row.locator(".badge", has_text="Laureate")).to_be_visible()
            expect(row.locator(diploma)).to_have_text("Download the certificate")
            if phone:
                assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
                for part in (row.locator(".badge", has_text="Eligible"),
                             row.locator(".badge", has_text="Laureate"), row.locator(diploma)):
                    _in_view(page, part)
                _shot(page, "my-nominations-phone.png")
            _axe(page)

            # The nomination's own page: award in the status line, the result, the history.
            row.locator(f'a[href="/nominations/{entry}"]').click()
            page.wait_for_url(f"**/nominations/{entry}")
            expect(page.locator(".subtitle .badge", has_text="Laureate")).to_be_visible()
            result = page.locator("section.nomination-result")
            expect(result.locator(".result-award")).to_have_text("Awarded: Laureate")
            expect(result.locator(diploma)).to_have_text("Download the diploma")
            expect(page.locator(".timeline li").last.locator(".event")).to_have_text(
                "Awarded: Laureate")
            if phone:
                assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
                _in_view(page, result.locator(diploma))
            else:
                _shot(page, "winner-own-page.png")
            _axe(page)

            response = page.request.get(result.locator(diploma).get_attribute("href"))
            assert (response.status, response.headers["content-type"]) == (200,
                                                                           "application/pdf")
            assert response.body().startswith(b"%PDF")
        finally:
            page.context.close()
