"""A visitor reads the published results in a real browser (Russian), with and without
JavaScript: winners, citation and photo, and a gallery link to the winner's place."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factories import arrange
from tests.results_factories import CITATION, decided_call

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _published(app):
    def build(session):
        from awards.auth.models import User
        from awards.calls.models import Call
        from awards.results import services

        world = decided_call(session)
        admin = session.query(User).filter(User.email == world.admin_email).one()
        services.publish(session=session, actor=admin, call=session.get(Call, world.call_id),
                         scheduled_for=None, token=None)
        return world
    return arrange(app, build)


def _read_results(page, world) -> None:
    from playwright.sync_api import expect

    page.goto(f"/results/{world.call_slug}")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    winner = page.locator(f"#winner-{world.entries['C']}")
    expect(winner.locator(".winner-name")).to_have_text("Nominee C")
    expect(winner.locator(".winner-citation")).to_have_text(CITATION["ru"])
    photo = winner.locator("img.winner-photo")
    expect(photo).to_be_visible()
    image = page.request.get(photo.get_attribute("src"))
    assert (image.status, image.headers["content-type"]) == (200, "image/png")
    expect(page.locator(f"#winner-{world.entries['D']} .winner-name")).to_have_text("Nominee D")

    page.locator(".actions a[href='/results/gallery']").click()
    page.wait_for_url("**/results/gallery")
    expect(page.locator(".gallery-name").first).to_be_visible()
    page.locator(f"a.gallery-link[href$='#winner-{world.entries['C']}']").click()
    page.wait_for_url(f"**/results/{world.call_slug}#winner-{world.entries['C']}")
    expect(page.locator(f"#winner-{world.entries['C']} .winner-name")).to_be_visible()


def test_visitor_reads_results_and_follows_gallery_link(app, page, live_server):
    world = _published(app)
    failures: list[str] = []
    page.on("response", lambda r: r.status >= 400 and failures.append(f"{r.status} {r.url}"))
    _read_results(page, world)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "results-page.png"), full_page=True)
    assert failures == []


def test_results_work_without_javascript(app, browser, live_server):
    world = _published(app)
    context = browser.new_context(base_url=live_server, locale="ru-RU",
                                  java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        _read_results(page, world)
    finally:
        context.close()
