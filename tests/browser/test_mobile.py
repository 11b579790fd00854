"""On a 390 px phone (issue 19): the menu folds into a button that opens it, no page is wider
than the screen, and every list that is a table on a desktop shows each of its cells on the
screen (cards, or priority columns), never in a box that scrolls sideways.

With AWARDS_SCREENSHOTS=1 each page is also saved to docs/screenshots/phone/<name>.png."""

from __future__ import annotations

import os
import re
from datetime import timedelta

import pytest

from tests.browser.conftest import AXE, ROOT
from tests.browser.test_accessibility import assert_no_blocking_violation
from tests.factories import arrange

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
SHOTS = ROOT / "docs" / "screenshots" / "phone"
SHOT_HEIGHT = 2000  # the top of a long page: enough for a few cards of each list

# (screenshot name, role, path); the placeholders are filled from the site's world and `extra`.
PAGES = [
    ("home", "visitor", "/"),
    ("calls", "visitor", "/calls/"),
    ("call", "visitor", "/calls/{slug}"),
    ("login", "visitor", "/account/login"),
    ("api-docs", "visitor", "/api/v1/docs"),
    ("my-nominations", "applicant", "/nominations/"),
    ("nomination-edit", "applicant", "/nominations/{draft}/edit"),
    ("jury", "juror", "/jury/"),
    ("jury-review", "juror", "/jury/assignments/{todo}"),
    ("admin", "admin", "/admin/"),
    ("programmes", "admin", "/admin/programmes"),
    ("form-fields", "admin", "/admin/calls/{call}/form"),
    ("categories", "admin", "/admin/calls/{call}/categories"),
    ("category-edit", "admin", "/admin/calls/{call}/categories/{category}/edit"),
    ("screening", "admin", "/admin/screening/"),
    ("screening-list", "admin", "/admin/screening/{call}/"),
    ("screening-nomination", "admin", "/admin/screening/nomination/{submitted}"),
    ("jury-progress", "admin", "/admin/jury/rounds/{round}/progress"),
    ("ranking", "admin", "/admin/ranking/rounds/{round}"),
    ("ranking-entry", "admin", "/admin/ranking/rounds/{round}/entries/{entry}"),
    ("news", "admin", "/admin/news/"),
    ("public-stage-votes", "admin", "/admin/public-stage/{stage_call}/votes"),
    ("commission-rounds", "admin", "/admin/commission/calls/{commission_call}"),
    ("commission-round", "admin", "/admin/commission/rounds/{commission_round}"),
    ("api-tokens", "admin", "/account/api-tokens/"),
]

# Cells of the page that are on screen but end past its right edge (in a sideways scroll box
# or beyond the page), skipping what is visually hidden (a card table's 1 px header).
CELLS_PAST_EDGE = """() => {
  const width = document.documentElement.clientWidth;
  const clipped = el => {
    for (let a = el; a; a = a.parentElement) {
      const s = getComputedStyle(a);
      const clips = s.overflow !== 'visible' || s.clip !== 'auto';
      if (clips && a.getBoundingClientRect().width <= 1) return true;
    }
    return false;
  };
  return Array.from(document.querySelectorAll('td, th'))
    .filter(c => c.checkVisibility() && !clipped(c) && c.getBoundingClientRect().right > width + 1)
    .slice(0, 5).map(c => c.tagName + ' ' + c.textContent.trim().slice(0, 40));
}"""

WIDE_ELEMENTS = """() => Array.from(document.querySelectorAll('body *'))
  .filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1
                && el.checkVisibility() && !el.closest('.visually-hidden, thead'))
  .slice(0, 5).map(el => el.tagName + '.' + el.className)"""


@pytest.fixture(scope="module")
def extra(site) -> dict:
    """What the busy demo lacks for a few lists: an API token of the administrator and a flagged
    vote in the demo's people's vote; and the ids of the demo's commission round and stage."""
    from sqlalchemy import select

    from awards.api.tokens import create_token
    from awards.auth.models import User
    from awards.commission.models import BallotBox
    from awards.db import utcnow
    from awards.demo import ADMIN
    from awards.jury.models import Round
    from awards.public_stage.models import PublicStage, PublicVote, StageEntry, Voter

    def build(session):
        now = utcnow()
        admin = session.scalar(select(User).where(User.email == ADMIN))
        create_token(session=session, user=admin, name="Отчёт для попечительского совета",
                     expires_at=now + timedelta(days=90), now=now)
        stage = session.scalar(select(PublicStage).order_by(PublicStage.id))
        entry = session.scalar(select(StageEntry).where(StageEntry.stage_id == stage.id))
        voter = Voter(email="many.votes.from.one.network@example.org",
                      email_domain="example.org", verified_at=now)
        session.add(voter)
        session.flush()
        session.add(PublicVote(stage_id=stage.id, category_id=entry.category_id,
                               voter_id=voter.id, nomination_id=entry.nomination_id,
                               ip="203.0.113.7", network="203.0.113.0/24", flagged=True,
                               flag_reasons=["burst", "disposable_email"]))
        box = session.scalar(select(BallotBox).order_by(BallotBox.id))
        return {"stage_call": stage.call_id, "commission_round": box.round_id,
                "commission_call": session.get(Round, box.round_id).call_id}

    return arrange(site.app, build)


def fill(site, extra: dict, path: str) -> str:
    w = site.world
    return path.format(slug=w.call_slug, draft=w.draft_id, todo=w.juror_todo, call=w.call_id,
                       round=w.round_id, category=w.category_id, submitted=w.submitted_id,
                       entry=w.entry_ids[0], **extra)


def phone_page(site, role: str):
    page = site.page_for(role, mobile=True)
    page.set_viewport_size(PHONE)
    return page


def check_fits(page, name: str) -> None:
    """The document is no wider than the phone and every table cell is on screen, with the
    charts' data tables opened too; the page is saved as a screenshot when asked."""
    if os.environ.get("AWARDS_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        height = min(page.evaluate("document.documentElement.scrollHeight"), SHOT_HEIGHT)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True,
                        clip={"x": 0, "y": 0, "width": PHONE["width"], "height": height})
    page.evaluate("document.querySelectorAll('details.chart-data').forEach(d => d.open = true)")
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth")
    found = {"overflow": overflow, "wide": page.evaluate(WIDE_ELEMENTS),
             "cells past the edge": page.evaluate(CELLS_PAST_EDGE)}
    assert found == {"overflow": 0, "wide": [], "cells past the edge": []}, found


@pytest.mark.parametrize(("name", "role", "path"), PAGES, ids=[p[0] for p in PAGES])
def test_page_and_its_tables_fit_a_phone(site, extra, name, role, path):
    page = phone_page(site, role)
    url = fill(site, extra, path)
    response = page.goto(url)
    assert response.status == 200
    check_fits(page, name)
    if AXE.exists():  # the cards too: labels, contrast and headings at phone width
        assert_no_blocking_violation(page, url)


def test_import_problems_fit_a_phone(site):
    """The list of problems of a rejected paper-ballot file, one card per line of the file."""
    page = phone_page(site, "admin")
    page.goto(f"/admin/ranking/rounds/{site.world.round_id}/import")
    page.locator('input[type="file"]').set_input_files(files=[{
        "name": "ballots.csv", "mimeType": "text/csv",
        "buffer": b"entry,juror,score\nNOPE-1,nobody@example.org,eleven\n"}])
    page.locator('main form button[type="submit"]').click()
    page.wait_for_load_state()
    assert page.locator("tr[data-line]").count() >= 1
    check_fits(page, "ranking-import-problems")


def test_menu_button_opens_navigation_on_phone(site):
    from playwright.sync_api import expect

    page = phone_page(site, "applicant")
    page.goto("/")
    toggle = page.locator(".nav-toggle")
    nav_link = page.locator('#site-nav a[href$="/nominations/"]')
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(nav_link).to_be_hidden()
    toggle.tap()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(nav_link).to_be_visible()
    box = nav_link.bounding_box()
    assert box["height"] >= 44  # a comfortable touch target
    nav_link.tap()
    expect(page).to_have_url(re.compile(r"/nominations/$"))


def test_menu_is_unfolded_on_desktop(site):
    from playwright.sync_api import expect

    page = site.page_for("visitor")
    page.goto("/")
    expect(page.locator(".nav-toggle")).to_be_hidden()
    expect(page.locator('#site-nav a[href$="/calls/"]')).to_be_visible()
