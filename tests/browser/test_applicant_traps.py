"""The nomination form's traps in a real browser (English): a file too large or of another
type is told next to its field before anything is sent; a refused submission of a form with a
file leaves the form's own address in the address bar, so a reload opens the form again (not
"405 Method not allowed") with what was typed; a one-file field picks one file."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import AXE
from tests.browser.test_accessibility import assert_no_blocking_violation
from tests.conftest import PASSWORD
from tests.factories import PDF, arrange, make_call, make_nomination

pytestmark = pytest.mark.browser

LIMIT = 3000  # the site's limit on one request in this test: two files of 2 KB go over it


@pytest.fixture
def app_config(app_config):
    return {**app_config, "MAX_CONTENT_LENGTH": LIMIT}


def _pdf(size: int) -> bytes:
    return PDF[:-6] + b"%" + b"0" * (size - len(PDF) - 2) + b"\n" + PDF[-6:]


def test_file_checks_and_reload_after_a_refused_submission(app, browser, live_server,
                                                          make_user):
    from playwright.sync_api import expect

    user = make_user("aigerim@example.com", name="Aigerim Sadykova")
    nomination_id = arrange(app, lambda s: make_nomination(
        s, call=make_call(s), applicant_id=user.id).id)
    context = browser.new_context(base_url=live_server, locale="en-GB")
    if AXE.exists():
        context.add_init_script(script=AXE.read_text(encoding="utf-8"))
    page = context.new_page()
    page.set_default_timeout(15000)
    posts: list[str] = []
    statuses: list[int] = []
    page.on("request", lambda r: r.method == "POST" and posts.append(r.url))
    page.on("response", lambda r: statuses.append(r.status))
    try:
        page.goto("/account/login")
        page.locator("#email").fill(user.email)
        page.locator("#password").fill(PASSWORD)
        page.locator('main form button[type="submit"]').click()
        page.wait_for_url(re.compile(r"^(?!.*/account/login)"))
        edit = f"/nominations/{nomination_id}/edit"
        page.goto(edit)

        # One file only where one is allowed; several where several are.
        assert page.locator("#q_photo").get_attribute("multiple") is None
        assert page.locator("#q_documents").get_attribute("multiple") is not None

        # Too large: told at once, next to the field, and the form is not sent.
        page.locator("#q_title").fill("Clean rivers")
        documents = page.locator("#q_documents")
        documents.set_input_files(files=[{"name": "big.pdf", "mimeType": "application/pdf",
                                          "buffer": _pdf(4096)}])
        check = page.locator("#q_documents-check")
        expect(check).to_have_text("The file “big.pdf” is larger than 2 KB. Choose a smaller "
                                   "file; nothing was sent.")
        assert "q_documents-check" in documents.get_attribute("aria-describedby")
        if AXE.exists():
            assert_no_blocking_violation(page, page.url)
        posts.clear()
        page.locator(f'button[formaction$="/nominations/{nomination_id}/submit"]').click()
        expect(documents).to_be_focused()
        assert posts == []

        # Another type: told the same way.
        page.locator("#q_photo").set_input_files(files=[{
            "name": "cv.pdf", "mimeType": "application/pdf", "buffer": PDF}])
        expect(page.locator("#q_photo-check")).to_have_text(
            "The file “cv.pdf” is not an allowed type (JPEG, PNG). Choose another file; "
            "nothing was sent.")
        page.locator("#q_photo").set_input_files(files=[])
        expect(page.locator("#q_photo-check")).to_have_count(0)

        # Two files that each fit, together more than the site takes at once.
        documents.set_input_files(files=[
            {"name": f"{n}.pdf", "mimeType": "application/pdf", "buffer": _pdf(2000)}
            for n in ("a", "b")])
        expect(check).to_have_count(0)
        page.locator(f'button[formaction$="/nominations/{nomination_id}/submit"]').click()
        expect(page.locator(".request-check")).to_have_text(
            "The files chosen add up to more than the 2.9 KB the site accepts in one save. "
            "Choose fewer files, save, then add the others.")
        expect(page.locator(".request-check")).to_be_focused()
        assert posts == []

        # A file that fits: the messages go; submitting the incomplete form is refused.
        documents.set_input_files(files=[{"name": "report.pdf", "mimeType": "application/pdf",
                                          "buffer": PDF}])
        expect(check).to_have_count(0)
        page.locator(f'button[formaction$="/nominations/{nomination_id}/submit"]').click()
        expect(page.locator(".error-summary")).to_be_visible()
        expect(page.locator(".request-check")).to_have_count(0)
        assert posts and posts[-1].endswith(f"/nominations/{nomination_id}/submit")
        assert page.url.endswith(edit), page.url

        # A reload opens the form with what the submission saved.
        statuses.clear()
        page.reload()
        assert 405 not in statuses
        expect(page.locator("#q_title")).to_have_value("Clean rivers")
        expect(page.locator(".file-list a", has_text="report.pdf")).to_be_visible()
    finally:
        context.close()
