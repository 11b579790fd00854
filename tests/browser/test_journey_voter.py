"""The voter's minute, in a real browser at desktop and phone width (390x844): the list of
candidate cards, the card's vote button leading to confirming the e-mail by code (read from the
outbox) and back to the card, one tap to vote with no page load, "You voted for X in this
category" on the list and the candidate's page, the share card and links; axe finds nothing.

Pages are asked for in English (the new wording is checked before the translation pass);
elements are found by id, class or address. With ``AWARDS_SCREENSHOTS=1`` the list after the
vote is saved as docs/screenshots/public-vote.png and public-vote-phone.png."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from awards.public_stage.models import PublicVote
from tests.browser.conftest import AXE
from tests.factories import arrange, read
from tests.integration.test_public_stage_cards import TITLES, titled_world
from tests.public_stage_factories import SLUG

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
LIST = f"/public/{SLUG}/"
PHONE = {"width": 390, "height": 844}


def _axe_violations(page) -> list[str]:
    found = page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ["violations"]});
        return result.violations.map(v => v.impact + " " + v.id + ": " +
            v.nodes.map(n => n.target.join(" ")).slice(0, 4).join(", "));
    }""")
    return [f"{page.url}: {v}" for v in found]


def _journey(app, browser, live_server, outbox, *, phone: bool, email: str, refs: list[str],
             position: int, name: str, category: str, screenshot: str) -> None:
    from playwright.sync_api import expect

    options = {"viewport": PHONE, "is_mobile": True, "has_touch": True} if phone else {}
    context = browser.new_context(base_url=live_server, locale="en-GB", **options)
    if AXE.exists():
        context.add_init_script(script=AXE.read_text(encoding="utf-8"))
    problems: list[str] = []
    ref = refs[position]
    try:
        page = context.new_page()
        page.set_default_timeout(15000)
        page.on("pageerror", lambda exc: problems.append(f"JS error: {exc}"))
        page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status} {r.url}"))

        # The list: a card per candidate, the reference on a line of its own under the name.
        page.goto(LIST)
        card = page.locator(f"#entry-{ref}")
        expect(card.locator(".candidate-work")).to_have_text(TITLES[position])
        expect(card.locator(".candidate-name")).to_have_text(name)
        name_box = card.locator(".candidate-name").bounding_box()
        ref_box = card.locator(".reference").bounding_box()
        assert ref_box["y"] >= name_box["y"] + name_box["height"] - 1, "reference beside name"
        assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size[
            "width"], "the list is wider than the screen"
        if AXE.exists():
            problems += _axe_violations(page)

        # Not confirmed: the card's button leads to confirming the e-mail, and back to the card.
        card.locator("a.vote-link").click()
        page.locator("#email").fill(email)
        page.locator('main form button[type="submit"]').click()
        expect(page.locator("#code")).to_be_visible()
        code = re.search(r"^\s+(\d{6})$", outbox(email)[-1].body_text, re.M).group(1)
        page.locator("#code").fill(code)
        page.locator('main form button[type="submit"]').click()
        expect(page).to_have_url(re.compile(rf"{re.escape(LIST)}#entry-{ref}$"))

        # One tap: counted without a page load (the marker set on this page survives).
        page.evaluate("window.__sameDocument = true")
        card = page.locator(f"#entry-{ref}")
        card.locator("form[data-vote] button[type=submit]").click()
        section = page.locator(f'section[aria-labelledby="cat-{category}"]')
        status = section.locator("[data-vote-status]")
        expect(status).to_contain_text(f"You voted for {name} in this category.")
        expect(card.locator("[data-chosen-badge]")).to_be_visible()
        expect(section.locator("[data-chosen-badge]:visible")).to_have_count(1)
        expect(section.locator(".candidate.is-chosen")).to_have_count(1)
        expect(card.locator("form[data-vote]")).to_have_count(0)
        assert page.evaluate("window.__sameDocument === true"), "the vote reloaded the page"
        assert page.url.endswith(f"{LIST}#entry-{ref}")
        if os.environ.get("AWARDS_SCREENSHOTS") == "1":
            section.scroll_into_view_if_needed()
            page.screenshot(path=str(ROOT / "docs" / "screenshots" / screenshot),
                            full_page=not phone)

        # Still there after a reload, from the server; the candidate's page says it too.
        page.reload()
        expect(page.locator(f'section[aria-labelledby="cat-{category}"] [data-vote-status]')) \
            .to_contain_text(f"You voted for {name} in this category.")
        page.goto(f"/public/{SLUG}/{ref}")
        expect(page.locator("#vote-status")).to_have_text(
            f"You voted for {name} in this category.")

        # The share card a messenger reads, and the share links.
        og_title = page.locator('meta[property="og:title"]').get_attribute("content")
        assert og_title.startswith(f"{name} · ")
        image = page.locator('meta[property="og:image"]')
        if image.count():
            assert image.get_attribute("content") == f"{live_server}/public/{SLUG}/{ref}/photo"
        assert page.locator('meta[name="twitter:card"]').count() == 1
        for network in ("telegram", "whatsapp", "facebook", "x"):
            expect(page.locator(f'a.share-link[data-network="{network}"]')).to_be_visible()
        expect(page.locator("button[data-copy]")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size[
            "width"], "the candidate's page is wider than the screen"
        if AXE.exists():
            problems += _axe_violations(page)
    finally:
        context.close()
    assert problems == []


def test_voter_confirms_by_code_votes_in_one_tap_and_sees_it(app, browser, live_server, outbox):
    world = arrange(app, titled_world)
    refs = world.references
    _journey(app, browser, live_server, outbox, phone=False, email="desk@example.org",
             refs=refs, position=0, name="Aigerim Sadykova", category="social",
             screenshot="public-vote.png")
    _journey(app, browser, live_server, outbox, phone=True, email="phone@example.org",
             refs=refs, position=3, name="Steppe Guardians", category="ecology",
             screenshot="public-vote-phone.png")
    votes = read(app, lambda s: s.execute(select(PublicVote.nomination_id)).scalars().all())
    assert sorted(votes) == sorted([world.refs[refs[0]], world.refs[refs[3]]])
