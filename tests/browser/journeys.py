"""What the journey tests share: a signed-in browser page at desktop or phone width (axe
injected, JS errors and 4xx/5xx answers collected), the axe check, and the screenshots written
for the README when AWARDS_SCREENSHOTS=1."""

from __future__ import annotations

import os
import re
from pathlib import Path

from tests.browser.conftest import AXE
from tests.browser.test_accessibility import assert_no_blocking_violation
from tests.conftest import PASSWORD

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PHONE = {"width": 390, "height": 844}


def signed_in(browser, live_server, email: str, *, phone: bool,
              desktop: tuple[int, int] = (1366, 900)):
    """A new browser context logged in as ``email``; (page, problems seen on it)."""
    options = {"viewport": PHONE, "is_mobile": True, "has_touch": True} if phone else {
        "viewport": {"width": desktop[0], "height": desktop[1]}}
    context = browser.new_context(base_url=live_server, locale="en-GB", **options)
    if AXE.exists():
        context.add_init_script(script=AXE.read_text(encoding="utf-8"))
    page = context.new_page()
    page.set_default_timeout(15000)
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"JS error: {exc}"))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status} {r.url}"))
    page.goto("/account/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator('main form button[type="submit"]').click()
    page.wait_for_url(re.compile(r"^(?!.*/account/login)"))
    return page, problems


def axe(page) -> None:
    if AXE.exists():
        assert_no_blocking_violation(page, page.url)


def shot(page, name: str) -> None:
    if os.environ.get("AWARDS_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / name), full_page=True)
