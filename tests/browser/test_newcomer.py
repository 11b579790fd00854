"""A newcomer's first visit in a real browser: language, registration, e-mail link, log in/out.

Fields are found by id, never by label text: labels change with the translation catalogs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
VERIFY_LINK = re.compile(r"https?://\S+/account/verify/\S+")

NAME = "Әлия Қасымова"  # Kazakh letters: the header must render them, not tofu boxes
EMAIL = "aliya.kassymova@example.com"
PASSWORD = "steppe-wind-2024"


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"newcomer-{name}.png"), full_page=True)


@pytest.fixture
def problems(page):
    """JavaScript errors and failed requests seen while the test runs; the test ends with none."""
    seen: list[str] = []
    page.on("pageerror", lambda exc: seen.append(f"JS error: {exc}"))
    page.on("response", lambda r: r.status >= 400 and seen.append(f"{r.status} {r.url}"))
    return seen


def switch_language(page, code: str) -> None:
    from playwright.sync_api import expect

    page.locator(f'.lang-switch button[lang="{code}"]').click()
    expect(page.locator("html")).to_have_attribute("lang", code)
    expect(page.locator(f'.lang-switch button[lang="{code}"]')).to_have_attribute(
        "aria-current", "true"
    )


def test_newcomer_registers_verifies_logs_in_and_out(page, live_server, outbox, problems):
    from playwright.sync_api import expect

    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "ru")  # the browser asks for Russian
    shot(page, "1-home-ru")

    for code in ("kk", "en", "ru"):
        switch_language(page, code)
    shot(page, "2-home-after-switch")

    page.locator('.main-nav a[href$="/account/register"]').click()
    expect(page).to_have_url(re.compile(r"/account/register$"))
    expect(page.locator("html")).to_have_attribute("lang", "ru")  # the choice survives navigation
    page.locator("#full_name").fill(NAME)
    page.locator("#email").fill(EMAIL)
    page.locator("#password").fill(PASSWORD)
    page.locator("#confirm").fill(PASSWORD)
    page.locator("#accept").check()
    shot(page, "3-register-filled")
    page.locator('main form button[type="submit"]').click()

    # "Check your e-mail", in whatever language: it names the address the link went to.
    expect(page.locator("main h1")).to_be_visible()
    expect(page.locator("main")).to_contain_text(EMAIL)
    expect(page.locator("#full_name")).to_have_count(0)
    shot(page, "4-check-email")

    mails = outbox(EMAIL)
    assert len(mails) == 1
    assert mails[0].language == "ru"
    link = VERIFY_LINK.search(mails[0].body_text).group(0)
    assert link.startswith(live_server + "/")  # built on BASE_URL, which live_server sets
    page.goto(link)
    expect(page).to_have_url(re.compile(r"/account/login$"))
    expect(page.locator(".flash-success")).to_be_visible()

    page.locator("#email").fill(EMAIL)
    page.locator("#password").fill(PASSWORD)
    page.locator('main form button[type="submit"]').click()
    expect(page.locator(".site-header")).to_contain_text(NAME)
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    shot(page, "5-logged-in")

    page.locator('.site-header form[action$="/account/logout"] button').click()
    expect(page.locator(".site-header")).not_to_contain_text(NAME)
    expect(page.locator('.main-nav a[href$="/account/login"]')).to_be_visible()
    expect(page.locator(".flash-success")).to_be_visible()
    shot(page, "6-logged-out")

    assert problems == []


def test_keyboard_tab_reaches_skip_link_first_and_enter_moves_focus_to_main(page, problems):
    from playwright.sync_api import expect

    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.locator("a.skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()  # visible once focused, not left off-screen
    shot(page, "7-skip-link-focused")

    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    # The next Tab continues inside the content, not back in the header.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")

    assert problems == []


def test_register_with_mistakes_shows_errors_next_to_fields(page, outbox, problems):
    from playwright.sync_api import expect

    page.goto("/account/register")
    page.locator("#full_name").fill(NAME)
    page.locator("#email").fill("not-an-address")
    page.locator("#password").fill("short")
    page.locator("#confirm").fill("different")
    page.locator('main form button[type="submit"]').click()

    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()  # screen readers hear the errors first
    for field_id in ("email", "password", "confirm", "accept"):
        expect(page.locator(f"#{field_id}")).to_have_attribute("aria-invalid", "true")
        expect(page.locator(f"#{field_id}-error")).to_be_visible()
    expect(page.locator("#full_name")).to_have_value(NAME)  # nothing typed is lost
    shot(page, "8-register-errors")

    assert outbox() == []
    # The form answers 400 on purpose; that is the only "problem" expected here.
    assert [p for p in problems if not p.startswith("400 ")] == []
