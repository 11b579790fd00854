"""An applicant names an author collective on a phone-width page (390 px) in Chromium: adds
authors, moves one up and removes one without leaving the page (authors.js), and the saved
draft keeps them in that order."""

from __future__ import annotations

import re
import threading

import pytest

from awards import create_app
from tests.author_factories import authors_question
from tests.conftest import PASSWORD, free_port
from tests.factories import arrange, make_call, make_nomination
from tests.jury_factories import make_account
from tests.module_database import module_database

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def _world(session):
    from awards.calls.models import FormField
    from awards.enums import FieldType

    call = make_call(session, fields=lambda _c: [FormField(
        key="work_title", type=FieldType.SHORT_TEXT, position=1, label_en="Title of the work")])
    authors_question(session, call, max_authors=4)
    owner = make_account(session, "phone.applicant@example.com", name="Phone Applicant")
    return make_nomination(session, call=call, applicant_id=owner.id).id


@pytest.fixture(scope="module")
def served(browser, tmp_path_factory, database_template, worker_id):
    from werkzeug.serving import make_server

    url, drop = module_database(tmp_path_factory, database_template, worker_id, "authors")
    app = create_app({"TESTING": True, "ENV": "testing", "DATABASE_URL": url,
                      "INSTANCE_PATH": str(tmp_path_factory.mktemp("authors-instance")),
                      "SECRET_KEY": "test-secret-key", "RATELIMIT_ENABLED": False,
                      "RATELIMIT_STORAGE_URI": "memory://", "MAIL_SERVER": "127.0.0.1",
                      "MAIL_PORT": 1})
    nomination_id = arrange(app, _world)
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{port}", nomination_id
    server.shutdown()
    thread.join(5)
    app.extensions["awards_db"]["engine"].dispose()
    if drop:
        drop()


def test_applicant_orders_authors_on_a_phone(browser, served):
    app, base, nomination_id = served
    context = browser.new_context(base_url=base, viewport=PHONE, is_mobile=True, has_touch=True,
                                  locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto("/account/login")
    page.locator("#email").fill("phone.applicant@example.com")
    page.locator("#password").fill(PASSWORD)
    page.locator('main form button[type="submit"]').click()
    page.wait_for_url(re.compile(r"^(?!.*/account/login)"))

    page.goto(f"/nominations/{nomination_id}/edit")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    names = ["Aliya Nurlankyzy", "Galym Seitov", "Dauren Omirbek"]
    for i, name in enumerate(names):
        if i:
            page.get_by_role("button", name="Add another author").tap()
        page.locator(f"#q_authors-{i}-name_en").fill(name)
    # Added on the page, not by a round trip: still the same URL, three rows.
    assert page.url.endswith(f"/nominations/{nomination_id}/edit")
    assert page.locator("[data-author-row]").count() == 3
    page.get_by_role("button", name="Move up Author 3").tap()
    page.get_by_role("button", name="Remove Author 1").tap()
    assert page.locator("#q_authors-0-name_en").input_value() == "Dauren Omirbek"
    assert page.locator("#q_authors-1-name_en").input_value() == "Galym Seitov"
    assert page.locator("input[name='q_authors-count']").input_value() == "2"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    with page.expect_navigation():
        page.get_by_role("button", name="Save draft").tap()
    assert page.locator("#q_authors-0-name_en").input_value() == "Dauren Omirbek"

    def stored(session):
        from awards.nominations.models import Nomination

        answer = next(a for a in session.get(Nomination, nomination_id).answers
                      if a.field.key == "authors")
        return [row["name_en"] for row in answer.value]

    from tests.factories import read

    assert read(app, stored) == ["Dauren Omirbek", "Galym Seitov"]
    context.close()
