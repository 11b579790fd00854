"""A visitor reads the published results in Chromium, at desktop width and on a 390 px phone:
the call's results (each winner's photo, the work's public title, the authors of a collective,
the citation), a winner's own page (photo, award, citation, copy link and plain share links)
and the winners gallery, whose cards open the winners' pages. Every page carries its Open
Graph / Twitter card with the winner's photo at an absolute address that answers; axe finds
nothing serious; nothing is wider than the phone; no request fails. Without JavaScript the
pages read the same and the link to share stays in its field. Last, the administrator's results
overview on the phone names each entry's authors, with nothing off-screen.

With AWARDS_SCREENSHOTS=1 the pages are saved to docs/screenshots/ (results.png,
results-phone.png, gallery.png). Elements are found by id, class or address."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser.conftest import AXE
from tests.browser.journeys import axe as _axe
from tests.browser.journeys import shot as _shot
from tests.conftest import PASSWORD
from tests.factories import arrange
from tests.results_factories import CITATION, decided_call

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
WORK = "Clean rivers"
AUTHORS = ["Aliya Nurlankyzy", "Galym Seitov", "Dauren Omirbek"]


def _published(app):
    def build(session):
        from awards.auth.models import User
        from awards.calls.models import Call
        from awards.nominations.models import Nomination
        from awards.results import services
        from tests.author_factories import authors_question, give_authors

        world = decided_call(session)
        call = session.get(Call, world.call_id)
        next(f for f in call.fields if f.key == "title").is_public = True
        give_authors(session, session.get(Nomination, world.entries["D"]),
                     authors_question(session, call))
        admin = session.query(User).filter(User.email == world.admin_email).one()
        services.publish(session=session, actor=admin, call=call, scheduled_for=None,
                         token=None)
        return world
    return arrange(app, build)


def _context(browser, live_server, *, phone: bool, javascript: bool = True):
    options = {"viewport": PHONE, "is_mobile": True, "has_touch": True} if phone else {
        "viewport": DESKTOP}
    context = browser.new_context(base_url=live_server, locale="en-GB",
                                  java_script_enabled=javascript, **options)
    if AXE.exists() and javascript:
        context.add_init_script(script=AXE.read_text(encoding="utf-8"))
    page = context.new_page()
    page.set_default_timeout(15000)
    return context, page


def _watch(page, who: str, problems: list[str]) -> None:
    page.on("pageerror", lambda exc: problems.append(f"{who}: JS error: {exc}"))
    page.on("response", lambda r: r.status >= 400 and problems.append(
        f"{who}: {r.status} {r.url}"))






def _fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], (page.url, width)


def _meta(page, key: str) -> str | None:
    locator = page.locator(f'meta[property="{key}"], meta[name="{key}"]')
    return locator.first.get_attribute("content") if locator.count() else None


def _card(page, live_server, *, image: bool = True) -> None:
    """The page's Open Graph / Twitter card: title, absolute address, and a photo that loads."""
    assert _meta(page, "og:title")
    assert _meta(page, "og:url") == live_server + page.url.removeprefix(live_server) \
        .split("#")[0]
    assert _meta(page, "twitter:card") == ("summary_large_image" if image else "summary")
    if image:
        src = _meta(page, "og:image")
        assert src and src.startswith(live_server + "/results/"), src
        assert _meta(page, "twitter:image") == src
        answer = page.request.get(src)
        assert (answer.status, answer.headers["content-type"]) == (200, "image/png")


def _loaded(locator) -> None:
    from playwright.sync_api import expect

    expect(locator).to_be_visible()
    assert locator.evaluate("img => img.complete && img.naturalWidth > 0")


def _journey(page, world, live_server, *, phone: bool) -> None:
    from playwright.sync_api import expect

    suffix = "-phone" if phone else ""
    # ---- the call's results ------------------------------------------------------------------
    page.goto(f"/results/{world.call_slug}")
    winner = page.locator(f"#winner-{world.entries['C']}")
    expect(winner.locator(".winner-name")).to_have_text("Nominee C")
    expect(winner.locator(".winner-work")).to_have_text(f"«{WORK}»")
    expect(winner.locator(".winner-citation")).to_have_text(CITATION["en"])
    _loaded(winner.locator("img.winner-photo"))
    laureate = page.locator(f"#winner-{world.entries['D']}")
    expect(laureate.locator(".winner-authors li")).to_have_count(3)
    for name in AUTHORS:
        expect(laureate.locator(".winner-authors")).to_contain_text(name)
    _card(page, live_server)
    _fits(page)
    _axe(page)
    _shot(page, f"results{suffix}.png")

    # ---- a winner's own page -------------------------------------------------------------------
    winner.locator(".winner-name a").click()
    page.wait_for_url(f"**/results/{world.call_slug}/{world.refs['C']}")
    expect(page.locator("h1#winner-name")).to_have_text("Nominee C")
    expect(page.locator(".winner-page .winner-award")).to_contain_text("Winner")
    expect(page.locator(".winner-page .winner-work")).to_have_text(f"«{WORK}»")
    expect(page.locator(".winner-page .winner-citation")).to_have_text(CITATION["en"])
    _loaded(page.locator("img.winner-page-photo"))
    own_url = f"{live_server}/results/{world.call_slug}/{world.refs['C']}"
    expect(page.locator("#share-url")).to_have_value(own_url)
    hosts = [page.locator(".share-links a").nth(i).get_attribute("href").split("/")[2]
             for i in range(page.locator(".share-links a").count())]
    assert hosts == ["t.me", "wa.me", "www.facebook.com", "x.com"]
    assert page.locator("script[src^='http']").count() == 0  # no third-party script
    copy = page.locator("button[data-copy]")
    expect(copy).to_be_visible()
    copy.click()
    expect(page.locator("[data-copy-status]")).to_have_text("Link copied")
    _card(page, live_server)
    assert _meta(page, "og:description") == CITATION["en"]
    _fits(page)
    _axe(page)

    # ---- the gallery ----------------------------------------------------------------------------
    page.locator(".actions a[href='/results/gallery']").click()
    page.wait_for_url("**/results/gallery")
    cards = page.locator(".gallery-item")
    expect(cards).to_have_count(2)
    card_c = cards.filter(has_text="Nominee C")
    expect(card_c.locator(".gallery-work")).to_have_text(f"«{WORK}»")
    expect(card_c.locator(".gallery-award")).to_contain_text("Winner")
    expect(card_c.locator(".gallery-call")).to_be_visible()
    _loaded(card_c.locator("img"))
    expect(cards.filter(has_text="Nominee D").locator(".gallery-authors")).to_have_text(
        ", ".join(AUTHORS))
    _card(page, live_server)
    _fits(page)
    _axe(page)
    if not phone:
        _shot(page, "gallery.png")
    cards.filter(has_text="Nominee D").locator("a.gallery-link").click()
    page.wait_for_url(f"**/results/{world.call_slug}/{world.refs['D']}")
    expect(page.locator(".winner-authors-list li")).to_have_count(3)
    _card(page, live_server, image=False)  # D has no photo: a small card, no image
    _fits(page)


def test_visitor_reads_results_winner_page_and_gallery(app, browser, live_server):
    world = _published(app)
    problems: list[str] = []
    contexts = []
    try:
        for phone in (False, True):
            context, page = _context(browser, live_server, phone=phone)
            contexts.append(context)
            context.grant_permissions(["clipboard-read", "clipboard-write"],
                                      origin=live_server)
            _watch(page, "phone" if phone else "desktop", problems)
            _journey(page, world, live_server, phone=phone)

        # ---- without JavaScript: the same reading, the link to copy in its field ------------
        from playwright.sync_api import expect

        context, page = _context(browser, live_server, phone=False, javascript=False)
        contexts.append(context)
        _watch(page, "no-js", problems)
        page.goto(f"/results/{world.call_slug}/{world.refs['C']}")
        expect(page.locator("h1#winner-name")).to_have_text("Nominee C")
        expect(page.locator("button[data-copy]")).to_be_hidden()
        expect(page.locator("#share-url")).to_be_visible()
        page.goto("/results/gallery")
        page.locator(f"a.gallery-link[href$='/{world.refs['C']}']").click()
        page.wait_for_url(f"**/results/{world.call_slug}/{world.refs['C']}")

        # ---- the administrator's overview on a phone: authors, cards, nothing off-screen ----
        context, page = _context(browser, live_server, phone=True)
        contexts.append(context)
        _watch(page, "admin-phone", problems)
        page.goto("/account/login")
        page.locator("#email").fill(world.admin_email)
        page.locator("#password").fill(PASSWORD)
        page.locator('main form button[type="submit"]').click()
        page.wait_for_url(re.compile(r"^(?!.*/account/login)"))
        page.goto(f"/admin/results/calls/{world.call_id}")
        authors = page.locator(".results-admin-table tr", has_text="Nominee D") \
            .locator(".results-admin-authors li")
        expect(authors).to_have_count(3)
        expect(authors.first).to_be_visible()
        _fits(page)
        _axe(page)
        assert problems == [], problems
    finally:
        for context in contexts:
            context.close()
