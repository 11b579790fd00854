"""Issue 8, the whole prize in one test, in a real browser: an applicant submits a nomination,
an administrator closes the call, screens the nomination and assigns two jurors, both jurors
score it, the administrator closes the round, ranks, decides and publishes with a citation, a
visitor reads the result and the applicant sees the outcome — in Russian; then the visitor's
key pages again in Kazakh and in English through the site's language switcher.

Only the people, the call with its form, the rubric, the (draft) round, the panel and the award
level are written straight to the database: every step of the journey goes through the pages.
Elements are found by id, name, href or data attribute; text is compared with what the catalogs
render today (``label_in``), so a string not yet translated does not break the test."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from awards.calls.models import AwardLevel, FormField
from awards.enums import FieldType, NominationStatus, RoundStatus
from awards.nominations.models import Nomination
from tests.factories import PDF, arrange, make_call, read
from tests.jury_factories import make_account, make_panel, make_round, make_rubric

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
REFERENCE = re.compile(r"[A-Z]+-\d{4}-\d{5}")

SLUG = "voy-2026"
TITLES = {"ru": "Волонтёр года — 2026", "kk": "Жыл волонтері — 2026",
          "en": "Volunteer of the Year 2026"}
CATEGORY = {"ru": "Социальный помощник", "kk": "Әлеуметтік көмекші", "en": "Social Helper"}
AWARD = {"ru": "Победитель", "kk": "Жеңімпаз", "en": "Winner"}
CITATION = {"ru": "За двенадцать чистых рек Семиречья.",
            "kk": "Жетісудің он екі таза өзені үшін.",
            "en": "For twelve clean rivers of Zhetysu."}

APPLICANT = ("daniyar@example.com", "Данияр Сейткали")
ADMIN = ("admin@example.com", "Администратор Премии")
JUROR_1 = ("juror1@example.com", "Айгуль Нурланова")
JUROR_2 = ("juror2@example.com", "Берик Ахметов")
PASSWORD = "correct-horse-battery"  # tests.conftest.PASSWORD, used by make_account

PROJECT = "Чистые реки Семиречья"
ACTIVITY = "Очистили 12 рек.\nС 300 добровольцами."
# (impact ×2, originality, scale) per juror: 2×8+6+4 = 26 and 2×6+7+3 = 22, mean 24.
SCORES = ({"impact": "8", "originality": "6", "scale": "4"},
          {"impact": "6", "originality": "7", "scale": "3"})
TOTALS = ("26", "22")
MEAN = "24"


def journey_fields(categories):
    return [
        FormField(key="title", type=FieldType.SHORT_TEXT, position=1, required=True,
                  max_length=200, label_en="Project title", label_ru="Название проекта",
                  label_kk="Жобаның атауы"),
        FormField(key="activity", type=FieldType.LONG_TEXT, position=2, required=True,
                  max_length=2000, label_en="Description of the activity",
                  label_ru="Описание деятельности", label_kk="Қызметтің сипаттамасы"),
        FormField(key="documents", type=FieldType.FILE, position=3, required=True,
                  file_types=["pdf"], file_max_bytes=2048, file_max_count=2,
                  label_en="Supporting documents", label_ru="Подтверждающие документы",
                  label_kk="Растайтын құжаттар"),
    ]


def build(session):
    applicant = make_account(session, APPLICANT[0], name=APPLICANT[1])
    admin = make_account(session, ADMIN[0], name=ADMIN[1], admin=True)
    jurors = [make_account(session, email, name=name) for email, name in (JUROR_1, JUROR_2)]
    for user in (applicant, admin, *jurors):
        user.preferred_language = "ru"
    call = make_call(session, fields=journey_fields)
    social = next(c for c in call.categories if c.code == "social")
    social.award_levels.append(AwardLevel(key="winner", name_ru=AWARD["ru"],
                                          name_kk=AWARD["kk"], name_en=AWARD["en"], count=1,
                                          position=1))
    rubric = make_rubric(session, call)
    panel = make_panel(session, call, [(jurors[0], True), (jurors[1], False)])
    round_ = make_round(session, call, rubric=rubric, panel=panel, status=RoundStatus.DRAFT,
                        reviews_per_entry=2, closes_in=None)
    session.flush()
    return {"call_id": call.id, "round_id": round_.id,
            "juror_ids": [j.id for j in jurors],
            "criteria": {c.key: c.id for c in rubric.criteria}}


def label_in(app, message: str, language: str) -> str:
    """``message`` as the live server renders it in ``language`` today (untranslated strings
    come out in English)."""
    from flask_babel import force_locale, gettext

    with app.test_request_context("/"), force_locale(language):
        return gettext(message)


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"full-journey-{name}.png"), full_page=True)


class People:
    """One browser context per person; every failed request and JS error is recorded."""

    def __init__(self, browser, base: str):
        self.browser, self.base = browser, base
        self.contexts = []
        self.problems: list[str] = []

    def page(self, who: str):
        context = self.browser.new_context(base_url=self.base, locale="ru-RU")
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15000)
        page.on("pageerror", lambda exc: self.problems.append(f"{who}: JS error: {exc}"))
        page.on("response", lambda r: r.status >= 400
                and self.problems.append(f"{who}: {r.status} {r.url}"))
        page.on("dialog", lambda d: (self.problems.append(f"{who}: dialog {d.message}"),
                                     d.dismiss()))
        return page

    def close(self):
        for context in self.contexts:
            context.close()


def log_in(page, email: str, name: str) -> None:
    from playwright.sync_api import expect

    page.goto("/account/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator('main form button[type="submit"]').click()
    expect(page.locator(".site-header")).to_contain_text(name)


def flash_ok(page) -> None:
    from playwright.sync_api import expect

    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator(".flash-error")).to_have_count(0)


def move_call(admin, call_id: int, action: str) -> None:
    """The administrator moves the call on with its step's button on the call's page (through
    the confirmation page when the step has one)."""
    from playwright.sync_api import expect

    admin.goto(f"/admin/calls/{call_id}")
    move = admin.locator(f'.phase-move[data-action="{action}"]')
    expect(move.locator(".phase-blockers")).to_have_count(0)
    move.locator("a.button, button[type=submit]").first.click()
    if re.search(r"/phase/", admin.url):
        admin.locator('main form button[type="submit"].primary').click()
    expect(admin).to_have_url(re.compile(rf"/admin/calls/{call_id}$"))
    flash_ok(admin)


def set_round_status(admin, round_id: int, status: str) -> None:
    from playwright.sync_api import expect

    if status == "closed":
        # Closing is final: it goes through its confirmation page, not the settings form.
        admin.goto(f"/admin/jury/rounds/{round_id}/status/close")
        admin.locator('main form button[type="submit"].primary').click()
        expect(admin).to_have_url(re.compile(r"/admin/jury/calls/\d+/rounds$"))
        flash_ok(admin)
        return
    admin.goto(f"/admin/jury/rounds/{round_id}/edit")
    admin.locator("#status").select_option(status)
    admin.locator('main form button[type="submit"].primary').click()
    expect(admin).to_have_url(re.compile(r"/admin/jury/calls/\d+/rounds$"))
    flash_ok(admin)


def switch_language(page, code: str) -> None:
    from playwright.sync_api import expect

    page.locator(f'.lang-switch form[action$="/language/{code}"] button').click()
    expect(page.locator("html")).to_have_attribute("lang", code)


def test_full_journey_from_nomination_to_published_result(app, browser, live_server):
    from playwright.sync_api import expect

    world = arrange(app, build)
    call_id, round_id = world["call_id"], world["round_id"]
    people = People(browser, live_server)
    try:
        # ---- the applicant nominates themselves, with a PDF --------------------------------
        applicant = people.page("applicant")
        log_in(applicant, *APPLICANT)
        applicant.goto(f"/calls/{SLUG}")
        expect(applicant.locator("main h1")).to_have_text(TITLES["ru"])
        applicant.locator(f'#category-social a[href*="/nominations/start/{SLUG}"]').click()
        expect(applicant.locator('input[name="category"][value="social"]')).to_be_checked()
        applicant.locator('input[name="nominator_kind"][value="self"]').check()
        applicant.locator('main form button[type="submit"]').click()
        expect(applicant).to_have_url(re.compile(r"/nominations/\d+/edit$"))
        nid = int(re.search(r"/nominations/(\d+)/edit", applicant.url).group(1))
        expect(applicant.locator("#nominee_name")).to_have_value(APPLICANT[1])
        applicant.locator("#q_title").fill(PROJECT)
        applicant.locator("#q_activity").fill(ACTIVITY)
        applicant.locator("#q_documents").set_input_files(
            files=[{"name": "report.pdf", "mimeType": "application/pdf", "buffer": PDF}])
        applicant.locator("#personal_data_consent").check()
        applicant.locator(f'main form button[formaction$="/nominations/{nid}/submit"]').click()
        expect(applicant).to_have_url(re.compile(rf"/nominations/{nid}/submitted$"))
        reference = applicant.locator(".confirmation .reference strong").inner_text().strip()
        assert REFERENCE.fullmatch(reference) and reference.startswith("VOY-2026-"), reference
        shot(applicant, "1-submitted")

        # ---- the administrator closes the call and screens the nomination ------------------
        admin = people.page("admin")
        log_in(admin, *ADMIN)
        move_call(admin, call_id, "close")
        move_call(admin, call_id, "screen")

        admin.goto(f"/admin/screening/{call_id}/")
        row = admin.locator(f'tr[data-nomination="{nid}"]')
        expect(row).to_have_count(1)
        row.locator(f'a[href$="/admin/screening/nomination/{nid}"]').click()
        expect(admin.locator("main h1")).to_contain_text(reference)
        expect(admin.locator('dd[data-field="title"]')).to_have_text(PROJECT)
        admin.locator('input[name="decision"][value="eligible"]').check()
        admin.locator('main form[action$="/decision"] button[type="submit"]').click()
        flash_ok(admin)
        expect(admin.locator('main .badge[data-status="eligible"]').first).to_be_visible()

        # ---- judging: the entry goes into the round, two jurors by hand, the round opens ---
        move_call(admin, call_id, "judge")
        admin.goto(f"/admin/jury/rounds/{round_id}/entries")
        admin.locator('form[action$="/entries/add-eligible"] button[type="submit"]').click()
        flash_ok(admin)
        entry = admin.locator(f"#entry-{nid}")
        expect(entry.locator("th")).to_have_text(reference)
        for juror_id in world["juror_ids"]:
            entry = admin.locator(f"#entry-{nid}")
            entry.locator(f"#juror-{nid}").select_option(str(juror_id))
            entry.locator('form[action*="/assignments/add"] button[type="submit"]').click()
            flash_ok(admin)
        jurors_cell = admin.locator(f"#entry-{nid} .juror-list li")
        expect(jurors_cell).to_have_count(2)
        expect(admin.locator(f"#entry-{nid} .juror-list")).to_contain_text(JUROR_1[1])
        expect(admin.locator(f"#entry-{nid} .juror-list")).to_contain_text(JUROR_2[1])
        shot(admin, "2-assigned")
        set_round_status(admin, round_id, "open")

        # ---- each juror scores the entry from the dashboard ---------------------------------
        for n, (juror, scores, total) in enumerate(
                zip((JUROR_1, JUROR_2), SCORES, TOTALS, strict=False), start=1):
            page = people.page(f"juror {n}")
            log_in(page, *juror)
            page.locator('.main-nav a[href$="/jury/"]').click()
            progress = page.locator(f'.progress-count[data-round="{round_id}"]')
            expect(progress).to_have_text("0/1")
            page.locator("tr[data-assignment] td a").first.click()
            expect(page.locator("#score-sheet")).to_be_visible()
            expect(page.locator("main")).to_contain_text(PROJECT)
            for key, value in scores.items():
                page.locator(f"#score_{world['criteria'][key]}").fill(value)
            expect(page.locator("#live-total")).to_have_text(total)
            page.locator("#overall_comment").fill("Сильная заявка.")
            page.locator("#submit-review").click()
            flash_ok(page)
            expect(progress).to_have_text("1/1")
            expect(page.locator("tr[data-assignment]")).to_have_attribute("data-state",
                                                                         "submitted")
            expect(page.locator("tr[data-assignment] td.num")).to_have_text(total)
            if n == 1:
                shot(page, "3-juror-done")

        # ---- the administrator closes the round, ranks and decides --------------------------
        set_round_status(admin, round_id, "closed")
        admin.goto(f"/admin/ranking/rounds/{round_id}")
        ranked = admin.locator(f"tr#entry-{nid}")
        expect(ranked).to_have_attribute("data-rank", "1")
        expect(ranked).to_have_attribute("data-entry", reference)
        expect(ranked.locator("td.num").first).to_have_text(MEAN)
        expect(ranked.locator("td.num").nth(1)).to_contain_text("2/2")
        ranked.locator(f"#level-{nid}").select_option(label=AWARD["ru"])
        ranked.locator('form.award-form button[type="submit"]').click()
        flash_ok(admin)
        expect(admin.locator(f"tr#entry-{nid} td.decision .badge.ok")).to_have_text(AWARD["ru"])
        shot(admin, "4-ranked")

        move_call(admin, call_id, "deliberate")

        # ---- the results page: a citation in three languages, then publish now -------------
        admin.goto(f"/admin/results/calls/{call_id}")
        admin.locator(f'a[href$="/admin/results/calls/{call_id}/citations/{nid}"]').click()
        for code, text in CITATION.items():
            admin.locator(f"#text_{code}").fill(text)
        admin.locator('main form button[type="submit"]').click()
        expect(admin).to_have_url(re.compile(rf"/admin/results/calls/{call_id}$"))
        flash_ok(admin)
        expect(admin.locator(".results-admin-table")).to_contain_text(CITATION["ru"])
        publish = admin.locator(f'form[action$="/admin/results/calls/{call_id}/publish"]')
        expect(publish.locator('input[name="mode"][value="now"]')).to_be_checked()
        publish.locator('button[type="submit"]').click()
        # The confirmation page says what will happen before anything does.
        expect(admin.locator("main")).to_contain_text(reference)
        admin.locator('main form button[type="submit"].primary').click()
        flash_ok(admin)
        expect(admin.locator(f'.results-status a[href$="/results/{SLUG}"]')).to_be_visible()
        shot(admin, "5-published")

        # ---- a visitor reads the result -----------------------------------------------------
        visitor = people.page("visitor")
        visitor.goto(f"/calls/{SLUG}")
        visitor.locator(f'.call-results a[href$="/results/{SLUG}"]').click()
        expect(visitor).to_have_url(re.compile(rf"/results/{SLUG}$"))
        check_results(app, visitor, nid, "ru")
        shot(visitor, "6-results")

        # ---- the applicant sees the outcome in "My nominations" -----------------------------
        applicant.goto("/nominations/")
        mine = applicant.locator("table.nominations-table tbody tr").filter(
            has=applicant.locator(f'a[href$="/nominations/{nid}"]'))
        expect(mine).to_have_count(1)
        expect(mine.locator(".badge.ok").filter(has_text=AWARD["ru"])).to_have_count(1)
        mine.locator(f'a.nomination-outcome[href$="/results/{SLUG}"]').click()
        expect(applicant.locator(f"#winner-{nid} .winner-name")).to_have_text(APPLICANT[1])
        shot(applicant, "7-my-nominations-outcome")

        # ---- the visitor's key pages in Kazakh, then English --------------------------------
        for code in ("kk", "en"):
            visitor.goto("/")
            switch_language(visitor, code)
            expect(visitor).to_have_url(re.compile(r"/$"))
            expect(visitor.locator("#home-open-calls")).to_have_text(
                label_in(app, "Open now", code))
            visitor.goto(f"/calls/{SLUG}")
            expect(visitor.locator("html")).to_have_attribute("lang", code)
            expect(visitor.locator("main h1")).to_have_text(TITLES[code])
            expect(visitor.locator("#category-social")).to_contain_text(CATEGORY[code])
            visitor.locator(f'.call-results a[href$="/results/{SLUG}"]').click()
            expect(visitor.locator("html")).to_have_attribute("lang", code)
            check_results(app, visitor, nid, code)
            shot(visitor, f"8-results-{code}")

        assert read(app, lambda s: s.get(Nomination, nid).status) == NominationStatus.ELIGIBLE
        assert people.problems == [], people.problems
    finally:
        people.close()


def check_results(app, page, nid: int, code: str) -> None:
    from playwright.sync_api import expect

    expect(page.locator("html")).to_have_attribute("lang", code)
    expect(page.locator("main h1")).to_have_text(
        f"{label_in(app, 'Results', code)}: {TITLES[code]}")
    expect(page.locator("section.results-category h2")).to_have_text(CATEGORY[code])
    winner = page.locator(f"#winner-{nid}")
    expect(winner.locator(".winner-name")).to_have_text(APPLICANT[1])
    expect(winner.locator(".winner-award")).to_have_text(AWARD[code])
    expect(winner.locator(".winner-citation")).to_have_text(CITATION[code])
