"""Shared by the accessibility, mobile and screenshot-style tests: the busy demo
(tests/ui_factories.py) served once per module, with a logged-in browser page per role."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from awards import create_app
from awards.demo import ADMIN, APPLICANT, DEMO_PASSWORD, JURORS
from tests.conftest import free_port
from tests.factories import arrange
from tests.module_database import module_database
from tests.ui_factories import UiWorld, busy_demo

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
MOBILE = {"width": 375, "height": 740}

USERS = {"admin": ADMIN, "juror": JURORS[0], "applicant": APPLICANT, "visitor": None}


# ---- a busy demo served once per module (and xdist worker) -------------------------------------


@dataclass
class Site:
    app: object
    base: str
    world: UiWorld
    browser: object
    pages: dict = field(default_factory=dict)

    def page_for(self, role: str, *, mobile: bool = False):
        key = (role, mobile)
        if key not in self.pages:
            options = {"viewport": MOBILE, "is_mobile": True, "has_touch": True} if mobile else {}
            context = self.browser.new_context(base_url=self.base, locale="ru-RU", **options)
            if AXE.exists():
                # Injected through the DevTools protocol, which the page's CSP (no inline
                # scripts) does not govern, so the pages are checked under their real CSP.
                context.add_init_script(script=AXE.read_text(encoding="utf-8"))
            page = context.new_page()
            page.set_default_timeout(15000)
            if USERS[role]:
                page.goto("/account/login")
                page.locator("#email").fill(USERS[role])
                page.locator("#password").fill(DEMO_PASSWORD)
                page.locator('main form button[type="submit"]').click()
                page.wait_for_url(re.compile(r"^(?!.*/account/login)"))
            self.pages[key] = page
        return self.pages[key]


@pytest.fixture(scope="module")
def site(browser, tmp_path_factory, database_template, worker_id):
    from werkzeug.serving import make_server

    url, drop = module_database(tmp_path_factory, database_template, worker_id, "a11y")
    instance = tmp_path_factory.mktemp("a11y-instance")
    app = create_app({"TESTING": True, "ENV": "testing", "INSTANCE_PATH": str(instance),
                      "DATABASE_URL": url, "SECRET_KEY": "test-secret-key",
                      "RATELIMIT_ENABLED": False, "RATELIMIT_STORAGE_URI": "memory://",
                      "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": 1})
    world = arrange(app, busy_demo)
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    app.config["BASE_URL"] = base
    s = Site(app, base, world, browser)
    yield s
    for page in s.pages.values():
        page.context.close()
    server.shutdown()
    thread.join(5)
    app.extensions["awards_db"]["engine"].dispose()
    if drop:
        drop()


