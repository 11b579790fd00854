"""A commission member votes on a phone-width page (390 px) in Chromium: the ballot fits the
screen, the choice is made by tapping, the receipt appears once and checks out."""

from __future__ import annotations

import re
import threading

import pytest

from awards import create_app
from tests.commission_factories import commission_world
from tests.conftest import PASSWORD, free_port
from tests.factories import arrange
from tests.module_database import module_database

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def served(browser, tmp_path_factory, database_template, worker_id):
    from werkzeug.serving import make_server

    from awards.commission import services
    from awards.db import get_db
    from awards.jury.models import Round

    url, drop = module_database(tmp_path_factory, database_template, worker_id, "commission")
    app = create_app({"TESTING": True, "ENV": "testing", "DATABASE_URL": url,
                      "INSTANCE_PATH": str(tmp_path_factory.mktemp("commission-instance")),
                      "SECRET_KEY": "test-secret-key", "RATELIMIT_ENABLED": False,
                      "RATELIMIT_STORAGE_URI": "memory://", "MAIL_SERVER": "127.0.0.1",
                      "MAIL_PORT": 1})
    world = arrange(app, lambda s: commission_world(s, members=3, per_category=2))
    with app.app_context():
        from sqlalchemy import select

        from awards.auth.models import User

        session = get_db()
        chair = session.scalar(select(User).where(User.email == world.chair))
        services.open_ballot(session=session, actor=chair,
                             round=session.get(Round, world.round_id))
        session.commit()
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}", world
    server.shutdown()
    thread.join(5)
    app.extensions["awards_db"]["engine"].dispose()
    if drop:
        drop()


def test_member_votes_on_a_phone(browser, served):
    base, world = served
    context = browser.new_context(base_url=base, viewport=PHONE, is_mobile=True, has_touch=True,
                                  locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto("/account/login")
    page.locator("#email").fill(world.members[1])
    page.locator("#password").fill(PASSWORD)
    page.locator('main form button[type="submit"]').click()
    page.wait_for_url(re.compile(r"^(?!.*/account/login)"))

    page.goto(f"/commission/rounds/{world.round_id}")
    # Nothing wider than the screen: no sideways scrolling to reach a choice.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    ids = [n for entries in world.entries.values() for n in entries]
    for i, n in enumerate(ids):
        choice = ("yes", "no", "abstain")[i % 3]
        option = page.locator(f'input[name="choice-{n}"][value="{choice}"]')
        box = option.locator("xpath=..").bounding_box()
        assert box is not None and box["height"] >= 40  # a tap target, not a tiny radio
        option.locator("xpath=..").tap()
        assert option.is_checked()
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#cast-ballot").tap()
    receipt = page.locator("#receipt-code")
    receipt.wait_for()
    code = receipt.inner_text().strip()
    assert re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){3}", code)

    page.goto(f"/commission/rounds/{world.round_id}")
    assert "You have voted" in page.locator("main").inner_text()
    page.goto(f"/commission/rounds/{world.round_id}/receipt")
    page.locator("#code").fill(code.lower().replace("-", " "))
    page.locator('main form button[type="submit"]').tap()
    assert "Your ballot is in the box" in page.locator("#receipt-result").inner_text()
    context.close()
