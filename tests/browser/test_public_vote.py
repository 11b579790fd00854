"""A visitor votes in a real browser: the call page's "vote now", a candidate's profile,
e-mail verification with the code from the message, the vote, a double click counted once.

Elements are found by id, address or role attributes, never by label text: labels change with
the translation catalogs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from awards.public_stage.models import PublicVote
from tests.factories import arrange, read
from tests.public_stage_factories import SLUG, public_world

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def test_visitor_verifies_email_and_votes_once(app, page, outbox):
    from playwright.sync_api import expect

    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"JS error: {exc}"))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status} {r.url}"))
    world = arrange(app, lambda s: public_world(s, photo=True))
    ref = world.references[0]

    page.goto(f"/calls/{SLUG}")
    page.locator(f'#main a[href="/public/{SLUG}/"]').first.click()
    page.locator(f'a[href="/public/{SLUG}/{ref}"]').click()
    expect(page.locator("h1")).to_have_text("Aigerim Sadykova")
    expect(page.locator("img.profile-photo")).to_be_visible()

    page.locator(f'a[href^="/public/{SLUG}/verify"]').click()
    page.locator("#email").fill("visitor@example.org")
    page.locator('main form button[type="submit"]').click()
    expect(page.locator("#code")).to_be_visible()
    code = re.search(r"^\s+(\d{6})$", outbox("visitor@example.org")[-1].body_text, re.M).group(1)
    page.locator("#code").fill(code)
    page.locator('main form button[type="submit"]').click()
    expect(page).to_have_url(re.compile(rf"/public/{SLUG}/{ref}$"))

    button = page.locator(".vote-form button[type=submit]")
    button.dblclick()
    expect(page.locator("#vote-status")).to_be_visible()
    expect(page.locator(".flash-success")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "public-vote-cast.png"), full_page=True)
    assert read(app, lambda s: s.scalar(select(func.count()).select_from(PublicVote))) == 1
    assert problems == []
