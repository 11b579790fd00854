"""An applicant fills in and submits a nomination by keyboard alone (Tab / Shift+Tab, typing,
arrow keys, Space and Enter; the mouse is never used), on a call whose form has text fields
only, and recovers from a missing answer through the error summary."""

from __future__ import annotations

import re

import pytest

from awards.calls.models import FormField
from awards.enums import FieldType, NominationStatus
from awards.nominations.models import Nomination
from tests.conftest import PASSWORD
from tests.factories import arrange, make_call, read
from tests.jury_factories import make_account

pytestmark = pytest.mark.browser

SLUG = "voy-2026"
NAME = "Асель Бекова"
TITLE = "Книги для сельских школ"
ACTIVITY = "Собрали 4000 книг для 30 школ."


def text_fields(categories):
    return [
        FormField(key="title", type=FieldType.SHORT_TEXT, position=1, required=True,
                  max_length=200, label_en="Project title", label_ru="Название проекта",
                  label_kk="Жобаның атауы"),
        FormField(key="activity", type=FieldType.LONG_TEXT, position=2, required=True,
                  max_length=2000, label_en="Description of the activity",
                  label_ru="Описание деятельности", label_kk="Қызметтің сипаттамасы"),
    ]


def focused(page, selector: str) -> bool:
    return page.evaluate("s => document.activeElement?.matches(s) ?? false", selector)


def tab_to(page, selector: str, *, backwards: bool = False, limit: int = 150) -> None:
    """Press Tab (or Shift+Tab) until the element matching ``selector`` has the focus."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(limit):
        if focused(page, selector):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{selector} never received the focus by {key}")


def test_applicant_submits_text_only_nomination_by_keyboard(app, page):
    from playwright.sync_api import expect

    def build(session):
        user = make_account(session, "asel@example.com", name=NAME)
        user.preferred_language = "ru"
        make_call(session, fields=text_fields)

    arrange(app, build)
    failures: list[str] = []
    page.on("pageerror", lambda exc: failures.append(f"JS error: {exc}"))

    # ---- log in -------------------------------------------------------------------------------
    page.goto("/account/login")
    tab_to(page, "#email")
    page.keyboard.type("asel@example.com")
    tab_to(page, "#password")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator(".site-header")).to_contain_text(NAME)

    # ---- the call page: follow the category's "nominate" link ------------------------------
    page.goto(f"/calls/{SLUG}")
    tab_to(page, f'#category-social a[href*="/nominations/start/{SLUG}"]')
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/nominations/start/{SLUG}"))
    expect(page.locator('input[name="category"][value="social"]')).to_be_checked()

    # ---- the kind of nominator: arrow keys within the radio group, then the button ---------
    tab_to(page, 'input[name="nominator_kind"]')
    for _ in range(5):
        if focused(page, 'input[name="nominator_kind"][value="self"]'):
            break
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Space")
    expect(page.locator('input[name="nominator_kind"][value="self"]')).to_be_checked()
    tab_to(page, 'main form button[type="submit"]')
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/nominations/\d+/edit$"))
    nid = int(re.search(r"/nominations/(\d+)/edit", page.url).group(1))
    expect(page.locator("#nominee_name")).to_have_value(NAME)

    # ---- the form, with the required title left out on purpose ------------------------------
    submit = f'main form button[formaction$="/nominations/{nid}/submit"]'
    tab_to(page, "#q_activity")
    page.keyboard.type(ACTIVITY)
    tab_to(page, "#personal_data_consent")
    page.keyboard.press("Space")
    expect(page.locator("#personal_data_consent")).to_be_checked()
    tab_to(page, submit)
    page.keyboard.press("Enter")

    # ---- the error summary leads back to the field -----------------------------------------
    summary_link = '.error-summary a[href="#q_title"]'
    expect(page.locator(summary_link)).to_be_visible()
    expect(page.locator("#q_activity")).to_have_value(ACTIVITY)
    tab_to(page, summary_link)
    page.keyboard.press("Enter")
    expect(page.locator("#q_title")).to_be_focused()
    page.keyboard.type(TITLE)
    expect(page.locator("#personal_data_consent")).to_be_checked()
    tab_to(page, submit)
    page.keyboard.press("Enter")

    # ---- submitted --------------------------------------------------------------------------
    expect(page).to_have_url(re.compile(rf"/nominations/{nid}/submitted$"))
    reference = page.locator(".confirmation .reference strong").inner_text().strip()
    assert re.fullmatch(r"VOY-2026-\d{5}", reference), reference
    expect(page.locator(".answers")).to_contain_text(TITLE)
    expect(page.locator(".answers")).to_contain_text(ACTIVITY)

    state = read(app, lambda s: (s.get(Nomination, nid).status,
                                 {a.field.key: a.value for a in s.get(Nomination, nid).answers}))
    assert state[0] == NominationStatus.SUBMITTED
    assert state[1]["title"] == TITLE and state[1]["activity"] == ACTIVITY
    assert failures == []
