"""One nomination end to end in a real browser: a visitor registers, confirms the e-mail, fills
in and submits a nomination with a PDF, and an administrator screens it and asks for changes.

Elements are found by id, name, role or data attribute, never by their text: the Russian and
Kazakh catalogs are still being filled in, and the page's locale is ru-RU."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from awards.calls.models import FormField
from awards.enums import FieldType, NominationStatus, NominatorKind
from tests.conftest import PASSWORD as ADMIN_PASSWORD
from tests.factories import PDF, arrange, make_call, make_nomination, read

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
VERIFY_LINK = re.compile(r"https?://\S+/account/verify/\S+")
REFERENCE = re.compile(r"[A-Z]+-\d{4}-\d{5}")

SLUG = "voy-2026"
NAME = "Данияр Сейткали"
EMAIL = "daniyar.seitkali@example.com"
PASSWORD = "tien-shan-spruce-77"
ADMIN_EMAIL = "screener@example.com"

TITLE = "Чистые реки Семиречья"
ACTIVITY = "Очистили 12 рек.\n<script>alert(1)</script> — так пишут хакеры.\nС 300 людьми."
REASON = "Приложите, пожалуйста, письмо от акимата.\nБез него заявку не проверить."


def journey_fields(categories):
    """The form of the call: a required short text, a long text, a required PDF and a
    required consent box."""
    return [
        FormField(key="title", type=FieldType.SHORT_TEXT, position=1, required=True,
                  max_length=200, label_en="Project title", label_ru="Название проекта",
                  label_kk="Жобаның атауы", help_en="A short name.",
                  help_ru="Краткое название.", help_kk="Қысқа атауы."),
        FormField(key="activity", type=FieldType.LONG_TEXT, position=2, max_length=2000,
                  label_en="Description of the activity", label_ru="Описание деятельности",
                  label_kk="Қызметтің сипаттамасы"),
        FormField(key="documents", type=FieldType.FILE, position=3, required=True,
                  file_types=["pdf"], file_max_bytes=2048, file_max_count=2,
                  label_en="Supporting documents", label_ru="Подтверждающие документы",
                  label_kk="Растайтын құжаттар"),
        FormField(key="truthful", type=FieldType.CHECKBOX, position=4, required=True,
                  label_en="I confirm the information is accurate",
                  label_ru="Подтверждаю достоверность сведений",
                  label_kk="Мәліметтердің дұрыстығын растаймын"),
    ]


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"journey-{name}.png"), full_page=True)


def watch(page, problems: list[str], dialogs: list[str]) -> None:
    """Record JavaScript errors, failed requests and any dialog (alert, confirm) the page
    opens; a dialog is dismissed so the page never hangs on it."""
    page.on("pageerror", lambda exc: problems.append(f"JS error: {exc}"))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status} {r.url}"))

    def on_dialog(dialog):
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)


def label_in(app, label, language: str = "ru") -> str:
    """A lazy label as the live server renders it in ``language`` (whatever the catalog holds
    today: untranslated strings come out in English)."""
    from flask_babel import force_locale

    with app.test_request_context("/"), force_locale(language):
        return str(label)


@pytest.fixture
def arranged(app, make_user):
    """The open call, an administrator, and someone else's submitted nomination, so that the
    search on the screening list has something to leave out."""
    admin = make_user(ADMIN_EMAIL, admin=True, name="Screening Admin")
    other = make_user("other.applicant@example.com", name="Другой Заявитель")

    def build(session):
        call = make_call(session, fields=journey_fields)
        make_nomination(session, call=call, applicant_id=other.id, category="ecology",
                        status=NominationStatus.SUBMITTED, reference="VOY-2026-00900",
                        nominee_name="Другой Заявитель", answers={"title": "Зелёный парк"})
        return call.id

    return {"call_id": arrange(app, build), "admin": admin}


def test_applicant_submits_a_nomination_and_an_administrator_asks_for_changes(
    app, browser, page, live_server, outbox, arranged
):
    from playwright.sync_api import expect

    from awards.nominations.forms import STATUS_LABELS
    from awards.nominations.models import Nomination

    problems: list[str] = []
    dialogs: list[str] = []
    watch(page, problems, dialogs)

    # ---- a visitor finds the call and wants to nominate: log in first, or register --------
    page.goto("/calls/")
    page.locator(f'main .call-card h3 a[href$="/calls/{SLUG}"]').click()
    expect(page).to_have_url(re.compile(rf"/calls/{SLUG}$"))
    page.locator(f'.call-summary a.button.primary[href$="/nominations/start/{SLUG}"]').click()
    expect(page).to_have_url(re.compile(r"/account/login\?next="))

    page.locator('main a[href*="/account/register"]').click()
    expect(page).to_have_url(re.compile(r"/account/register\?next="))
    page.locator("#full_name").fill(NAME)
    page.locator("#email").fill(EMAIL)
    page.locator("#password").fill(PASSWORD)
    page.locator("#confirm").fill(PASSWORD)
    page.locator("#accept").check()
    page.locator('main form button[type="submit"]').click()
    expect(page.locator("main")).to_contain_text(EMAIL)
    expect(page.locator("#full_name")).to_have_count(0)

    (verification,) = outbox(EMAIL)
    page.goto(VERIFY_LINK.search(verification.body_text).group(0))
    expect(page).to_have_url(re.compile(r"/account/login$"))
    expect(page.locator(".flash-success")).to_be_visible()
    page.locator("#email").fill(EMAIL)
    page.locator("#password").fill(PASSWORD)
    page.locator('main form button[type="submit"]').click()
    expect(page.locator(".site-header")).to_contain_text(NAME)
    # The first login continues where the visitor was going: starting a nomination.
    expect(page).to_have_url(re.compile(rf"/nominations/start/{SLUG}$"))

    # ---- start: category and kind of nominator --------------------------------------------
    page.goto(f"/calls/{SLUG}")
    page.locator(f'#category-social a[href*="/nominations/start/{SLUG}"]').click()
    expect(page.locator('input[name="category"][value="social"]')).to_be_checked()
    page.locator('input[name="nominator_kind"][value="self"]').check()
    page.locator('main form button[type="submit"]').click()
    expect(page).to_have_url(re.compile(r"/nominations/\d+/edit$"))
    nomination_id = int(re.search(r"/nominations/(\d+)/edit", page.url).group(1))

    # ---- the form: everything but the required title, then Submit ---------------------------
    expect(page.locator("#nominee_name")).to_have_value(NAME)  # oneself: filled in already
    page.locator("#q_activity").fill(ACTIVITY)
    page.locator("#q_documents").set_input_files(
        files=[{"name": "report.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    page.locator("#q_truthful").check()
    page.locator("#personal_data_consent").check()
    shot(page, "1-form-filled")
    submit = page.locator(f'main form button[formaction$="/nominations/{nomination_id}/submit"]')
    submit.click()

    title = page.locator("#q_title")
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.locator('.error-summary a[href="#q_title"]')).to_have_count(1)
    expect(title).to_have_attribute("aria-invalid", "true")
    expect(title).to_have_attribute("aria-describedby", re.compile(r"(^|\s)q_title-error(\s|$)"))
    expect(page.locator("#q_title-error")).to_be_visible()
    # Only the empty field is in error; nothing typed, ticked or uploaded is lost.
    expect(page.locator(".has-error")).to_have_count(1)
    expect(page.locator("#q_activity")).to_have_value(ACTIVITY)
    expect(page.locator("#q_truthful")).to_be_checked()
    expect(page.locator("#personal_data_consent")).to_be_checked()
    kept = page.locator(".file-field .file-list a")
    expect(kept).to_have_count(1)
    expect(kept).to_have_text("report.pdf")
    shot(page, "2-form-error")

    title.fill(TITLE)
    submit.click()

    # ---- confirmation, "My nominations", the e-mail -----------------------------------------
    expect(page).to_have_url(re.compile(rf"/nominations/{nomination_id}/submitted$"))
    reference = page.locator(".confirmation .reference strong").inner_text().strip()
    assert REFERENCE.fullmatch(reference), reference
    assert reference == "VOY-2026-00001"
    expect(page.locator(".answers")).to_contain_text("<script>alert(1)</script>")
    shot(page, "3-confirmation")

    submitted_label = label_in(app, STATUS_LABELS[NominationStatus.SUBMITTED])
    page.locator('main .actions a[href$="/nominations/"]').click()
    row = page.locator("table.nominations-table tbody tr").filter(
        has=page.locator(f'a[href$="/nominations/{nomination_id}"]'))
    expect(row).to_have_count(1)
    expect(row.locator("td").first).to_have_text(reference)
    expect(row.locator(".badge.ok")).to_have_text(submitted_label)

    state = read(app, lambda s: (s.get(Nomination, nomination_id).status,
                                 s.get(Nomination, nomination_id).nominator_kind))
    assert state == (NominationStatus.SUBMITTED, NominatorKind.SELF)
    confirmations = [m for m in outbox(EMAIL) if reference in m.subject + m.body_text]
    assert len(confirmations) == 1, [m.subject for m in outbox(EMAIL)]
    assert confirmations[0].language == "ru"

    # The applicant keeps the nomination page open while it is screened.
    row.locator(f'a[href$="/nominations/{nomination_id}"]').click()
    expect(page.locator("main h1")).to_have_text(reference)

    # ---- the administrator, in a browser of their own ---------------------------------------
    admin_context = browser.new_context(base_url=live_server, locale="ru-RU",
                                        accept_downloads=True)
    try:
        admin = admin_context.new_page()
        admin.set_default_timeout(15000)
        watch(admin, problems, dialogs)
        admin.goto("/account/login")
        admin.locator("#email").fill(ADMIN_EMAIL)
        admin.locator("#password").fill(ADMIN_PASSWORD)
        admin.locator('main form button[type="submit"]').click()
        expect(admin.locator(".site-header")).to_contain_text("Screening Admin")

        # Screening is done once nominations are closed: the administrator closes the call
        # early (through its confirmation page) and starts screening, on the call's page.
        for action in ("close", "screen"):
            admin.goto(f"/admin/calls/{arranged['call_id']}")
            admin.locator(f'.phase-move[data-action="{action}"]') \
                .locator("a.button, button[type=submit]").first.click()
            if "/phase/" in admin.url:
                admin.locator('main form button[type="submit"].primary').click()
            expect(admin.locator(".flash-success")).to_be_visible()

        admin.goto("/admin/screening/")
        call_row = admin.locator(f'tr[data-call="{arranged["call_id"]}"]')
        expect(call_row.locator('td[data-count="submitted"]')).to_have_text("2")
        call_row.locator("a").click()
        expect(admin.locator("tr[data-nomination]")).to_have_count(2)

        admin.locator('form[role="search"] #q').fill(reference)
        admin.locator('form[role="search"] button[type="submit"]').click()
        expect(admin).to_have_url(re.compile(rf"q={reference}"))
        found = admin.locator("tr[data-nomination]")
        expect(found).to_have_count(1)
        expect(found).to_have_attribute("data-nomination", str(nomination_id))
        found.locator(f'a[href$="/admin/screening/nomination/{nomination_id}"]').click()

        expect(admin.locator("main h1")).to_contain_text(reference)
        expect(admin.locator('dd[data-field="title"]')).to_have_text(TITLE)
        activity = admin.locator('dd[data-field="activity"]')
        expect(activity).to_contain_text("<script>alert(1)</script>")  # shown as text
        expect(activity.locator("script")).to_have_count(0)
        expect(activity.locator("br")).to_have_count(2)  # line breaks kept, nothing else
        shot(admin, "4-screening")

        with admin.expect_download() as info:
            admin.locator('dd[data-field="documents"] a').click()
        download = info.value
        assert download.suggested_filename == "report.pdf"
        assert Path(download.path()).read_bytes() == PDF

        admin.locator('input[name="decision"][value="changes_requested"]').check()
        admin.locator("#reason").fill(REASON)
        admin.locator('main form[action$="/decision"] button[type="submit"]').click()
        expect(admin.locator(".flash-success")).to_be_visible()
        expect(admin.locator('main .badge[data-status="changes_requested"]').first).to_be_visible()
        expect(admin.locator("ol.timeline blockquote")).to_contain_text(REASON.splitlines()[0])
        shot(admin, "5-screening-decided")
    finally:
        admin_context.close()

    # ---- the applicant reloads and sees why -------------------------------------------------
    page.reload()
    expect(page.locator(".subtitle .badge.warn")).to_have_text(
        label_in(app, STATUS_LABELS[NominationStatus.CHANGES_REQUESTED]))
    timeline = page.locator("ol.timeline")
    expect(timeline.locator(".reason")).to_have_count(1)
    expect(timeline.locator(".reason")).to_have_text(REASON)
    expect(page.locator(f'a[href$="/nominations/{nomination_id}/edit"]')).to_be_visible()
    shot(page, "6-changes-requested")

    mails = outbox(EMAIL)
    asked = [m for m in mails if REASON.splitlines()[0] in m.body_text]
    assert len(asked) == 1, [(m.kind, m.subject) for m in mails]
    assert reference in asked[0].subject + asked[0].body_text
    assert asked[0].status == "pending"

    assert dialogs == []
    # The failed Submit answers 400 on purpose; nothing else may fail.
    assert [p for p in problems if not p.startswith("400 ")] == [], problems
    assert len([p for p in problems if p.startswith("400 ")]) == 1, problems
