"""A juror scores a blind entry in a real browser: log in, dashboard, the entry without the
nominee's name, scores with the live total, submit, progress 1/1.

Fields are found by id, never by label text: labels change with the translation catalogs."""

from __future__ import annotations

from pathlib import Path

import pytest

from awards.auth.models import User
from tests.conftest import PASSWORD
from tests.factories import arrange
from tests.jury_factories import NOMINEE, ORGANISATION, SECRET_CITY_ANSWER, jury_setup

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"juror-{name}.png"), full_page=True)


@pytest.fixture
def problems(page):
    seen: list[str] = []
    page.on("pageerror", lambda exc: seen.append(f"JS error: {exc}"))
    page.on("console", lambda msg: msg.type == "error" and seen.append(f"console: {msg.text}"))
    page.on("response", lambda r: r.status >= 400 and seen.append(f"{r.status} {r.url}"))
    return seen


def test_juror_scores_blind_entry_and_sees_progress(app, page, problems):
    from playwright.sync_api import expect

    def build(s):
        world = jury_setup(s, entries=1, blind=True)
        s.get(User, world.juror_id).preferred_language = "ru"
        return world

    world = arrange(app, build)
    ids = world.criterion_ids

    page.goto("/account/login")
    page.locator("#email").fill(world.juror_email)
    page.locator("#password").fill(PASSWORD)
    page.locator('main form button[type="submit"]').click()
    expect(page.locator(".site-header")).to_contain_text("Juror One")

    page.locator('.main-nav a[href$="/jury/"]').click()
    progress = page.locator(f'.progress-count[data-round="{world.round_id}"]')
    expect(progress).to_have_text("0/1")
    expect(page.locator("main")).not_to_contain_text(NOMINEE)
    shot(page, "1-dashboard")

    page.locator("#next-unscored").click()
    expect(page.locator("#score-sheet")).to_be_visible()
    main = page.locator("main")
    expect(page.locator("#blind-notice")).to_be_visible()
    expect(main).to_contain_text("Clean rivers")
    for secret in (NOMINEE, ORGANISATION, SECRET_CITY_ANSWER, "face.pdf"):
        expect(main).not_to_contain_text(secret)

    total = page.locator("#live-total")
    expect(total).to_have_text("—")
    page.locator(f"#score_{ids['impact']}").fill("8")
    page.locator(f"#score_{ids['originality']}").fill("6,5")
    expect(total).to_have_text("—")  # not every criterion is scored yet
    page.locator(f"#score_{ids['scale']}").fill("4")
    expect(total).to_have_text("26,5")  # 2×8 + 6.5 + 4, in Russian number format
    page.locator(f"#comment_{ids['impact']}").fill("Двенадцать рек за два года.")
    page.locator("#overall_comment").fill("Сильная заявка.")
    shot(page, "2-score-sheet")

    page.locator("#submit-review").click()
    expect(page.locator(".flash-success")).to_be_visible()
    expect(progress).to_have_text("1/1")
    row = page.locator(f'tr[data-assignment="{world.mine[0]}"]')
    expect(row).to_have_attribute("data-state", "submitted")
    expect(row.locator("td.num")).to_have_text("26,5")
    shot(page, "3-dashboard-done")

    assert problems == []
