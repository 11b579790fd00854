"""Refresh the README screenshots in docs/screenshots/ (make screenshots).

Starts the app on a throw-away SQLite database with the demo data (`flask awards seed`) plus
work in progress (tests/ui_factories.py: nominations, an open round part way scored), serves it
on a free port, logs in as the demo users and saves PNGs of the main pages at desktop width and
a few at phone width. Pages of features whose endpoints are not registered are skipped."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 375, "height": 740}


def main() -> int:
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from awards import create_app
    from awards.demo import ADMIN, APPLICANT, DEMO_PASSWORD, JURORS
    from awards.public_stage import demo as public_stage_demo
    from awards.results import demo as results_demo
    from tests.conftest import free_port
    from tests.factories import arrange
    from tests.ui_factories import busy_demo

    tmp = Path(tempfile.mkdtemp(prefix="awards-shots-"))
    env = dict(os.environ, AWARDS_INSTANCE_PATH=str(tmp), AWARDS_ENV="development",
               AWARDS_DATABASE_URL=f"sqlite:///{tmp / 'awards.db'}")
    flask = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "app", "awards"]
    subprocess.run([*flask, "db", "upgrade"], check=True, cwd=ROOT, env=env)
    subprocess.run([*flask, "seed"], check=True, cwd=ROOT, env=env)

    app = create_app({"ENV": "development", "INSTANCE_PATH": str(tmp),
                      "DATABASE_URL": env["AWARDS_DATABASE_URL"], "RATELIMIT_ENABLED": False})
    world = arrange(app, busy_demo)
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}

    shots = [
        # (file, user, endpoint, path, phone)
        ("home", None, "main.index", "/", False),
        ("calls", None, "calls.index", "/calls/", False),
        ("call", None, "calls.show", f"/calls/{world.call_slug}", False),
        ("results", None, "results.show", f"/results/{results_demo.SLUG}", False),
        ("news", None, "announcements.index", "/news/", False),
        ("public-vote", None, "public_stage.index", f"/public/{public_stage_demo.SLUG}/",
         False),
        ("nomination-form", APPLICANT, "nominations.edit", f"/nominations/{world.draft_id}/edit",
         False),
        ("my-nominations", APPLICANT, "nominations.mine", "/nominations/", False),
        ("juror-dashboard", JURORS[0], "jury.dashboard", "/jury/", False),
        ("scoring", JURORS[0], "jury.score", f"/jury/assignments/{world.juror_todo}", False),
        ("screening", ADMIN, "screening.list", f"/admin/screening/{world.call_id}/", False),
        ("jury-progress", ADMIN, "jury_admin.progress",
         f"/admin/jury/rounds/{world.round_id}/progress", False),
        ("ranking", ADMIN, "ranking.round_view", f"/admin/ranking/rounds/{world.round_id}",
         False),
        ("home-phone", None, "main.index", "/", True),
        ("scoring-phone", JURORS[0], "jury.score", f"/jury/assignments/{world.juror_todo}",
         True),
    ]
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        contexts = {}
        for name, user, endpoint, path, phone in shots:
            if endpoint not in endpoints:
                print(f"skip {name}: {endpoint} is not registered")
                continue
            key = (user, phone)
            if key not in contexts:
                options = {"viewport": PHONE, "is_mobile": True, "device_scale_factor": 2} \
                    if phone else {"viewport": DESKTOP}
                ctx = browser.new_context(base_url=base, locale="ru-RU", **options)
                page = ctx.new_page()
                if user:
                    page.goto("/account/login")
                    page.locator("#email").fill(user)
                    page.locator("#password").fill(DEMO_PASSWORD)
                    page.locator('main form button[type="submit"]').click()
                    page.wait_for_load_state()
                contexts[key] = page
            page = contexts[key]
            response = page.goto(path)
            if response is None or response.status != 200:
                print(f"skip {name}: {path} answered {response.status if response else '-'}")
                continue
            target = OUT / f"{name}.png"
            # Desktop shots are cut at two screens: enough to show the page, small files.
            clip = None if phone else {"x": 0, "y": 0, "width": DESKTOP["width"],
                                       "height": min(page.evaluate(
                                           "document.documentElement.scrollHeight"), 1720)}
            page.screenshot(path=str(target), clip=clip, full_page=clip is not None or phone)
            print(f"saved {target.relative_to(ROOT)}")
        browser.close()
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
