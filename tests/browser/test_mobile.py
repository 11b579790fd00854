"""At 375 px (a small phone): the menu folds into a button that opens it, and no main page is
wider than the screen (wide tables scroll inside their own box)."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser

PAGES = [
    ("visitor", "/"),
    ("visitor", "/calls/"),
    ("visitor", "/calls/{slug}"),
    ("visitor", "/account/login"),
    ("applicant", "/nominations/"),
    ("applicant", "/nominations/{draft}/edit"),
    ("juror", "/jury/"),
    ("juror", "/jury/assignments/{todo}"),
    ("admin", "/admin/"),
    ("admin", "/admin/screening/{call}/"),
    ("admin", "/admin/jury/rounds/{round}/progress"),
    ("admin", "/admin/ranking/rounds/{round}"),
]


def fill(site, path: str) -> str:
    w = site.world
    return path.format(slug=w.call_slug, draft=w.draft_id, todo=w.juror_todo, call=w.call_id,
                       round=w.round_id)


@pytest.mark.parametrize(("role", "path"), PAGES)
def test_page_has_no_horizontal_overflow_on_phone(site, role, path):
    page = site.page_for(role, mobile=True)
    response = page.goto(fill(site, path))
    assert response.status == 200
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth")
    wide = page.evaluate("""() => Array.from(document.querySelectorAll('body *'))
        .filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1
                      && el.checkVisibility() && !el.closest('.table-wrap, .chart-data'))
        .slice(0, 5).map(el => el.tagName + '.' + el.className)""")
    assert (overflow, wide) == (0, [])


def test_menu_button_opens_navigation_on_phone(site):
    from playwright.sync_api import expect

    page = site.page_for("applicant", mobile=True)
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
