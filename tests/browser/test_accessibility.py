"""axe-core on every page a visitor, an applicant, a juror and an administrator can reach.

The page list is the app's URL map: every GET route, its parameters filled from the busy demo
(tests/ui_factories.py), so a page added later is checked without touching this file. A page
fails on any serious or critical violation, and the report names the rule, the elements and
how to fix them. axe comes from the npm registry (package.json, installed by `npm ci`)."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select

from awards import create_app
from awards.announcements.models import Announcement
from awards.calls.models import Call
from awards.mail import OutgoingMail
from awards.public_stage import demo as public_stage_demo
from awards.ranking.models import Decision
from awards.results import demo as results_demo
from awards.results.models import Certificate, Publication
from tests.browser.conftest import AXE, Site
from tests.factories import read

pytestmark = pytest.mark.browser

BLOCKING = ("serious", "critical")

# Endpoints that answer with something other than an HTML page: files, feeds, PDFs, JSON.
NOT_HTML = {
    "static",
    "main.healthz",                 # JSON health check
    "nominations.attachment",       # uploaded files
    "jury.attachment",
    "jury.view_attachment",         # the same files, opened beside the score sheet
    "ranking.export",               # CSV / XLSX
    "announcements.feed",           # Atom
    "audit.heads",
    "announcements.image",          # images
    "results.photo",
    "results_admin.photo",
    "public_stage.photo",
    "certificates.download",        # PDF
    "privacy.export",               # the personal data as a zip
    "commission.ballots_json",      # the commission's ballot list
    "commission.ballots_csv",
    "commission.protocol",          # PDF
}
NOT_HTML_PREFIXES = ("api.",)       # the JSON API (its docs page is checked below)
HTML_DESPITE_PREFIX = {"api.docs"}

# Pages reached only through a signed link from an e-mail; the journey tests open them.
NEEDS_EMAILED_TOKEN = {"auth.verify_email", "auth.reset_password", "jury_admin.invitation",
                       "nominations.consent", "public_stage.verify_link"}

# Pages that need a voter part way through verifying their address in the session: a plain
# GET redirects to the e-mail form, so the page is checked after the real flow instead
# (test_public_vote_code_page_has_no_serious_axe_violation).
NEEDS_PENDING_VOTER = {"public_stage.verify_code"}

# Demo data the feature pages are checked on (awards/public_stage/demo.py and
# awards/results/demo.py, seeded with the rest of the demo).
# Their years follow the day the demo is loaded.
PUBLIC_STAGE_SLUG = public_stage_demo.SLUG       # a people's vote, open, with entries
PUBLIC_STAGE_REFERENCE = public_stage_demo.FIRST_REFERENCE
RESULTS_SLUG = results_demo.SLUG                 # decided and published, with certificates


def _url_map_endpoints() -> list[str]:
    app = create_app({"TESTING": True, "ENV": "testing", "SECRET_KEY": "x",
                      "DATABASE_URL": "sqlite://", "RATELIMIT_ENABLED": False})
    endpoints = set()
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in NOT_HTML:
            continue
        if rule.endpoint.startswith(NOT_HTML_PREFIXES) and \
                rule.endpoint not in HTML_DESPITE_PREFIX:
            continue
        endpoints.add(rule.endpoint)
    app.extensions["awards_db"]["engine"].dispose()
    return sorted(endpoints)


ENDPOINTS = _url_map_endpoints()


def role_of(endpoint: str) -> str:
    """Who opens the page: the least privileged user who can."""
    blueprint, _, _view = endpoint.partition(".")
    if blueprint in {"admin", "screening", "jury_admin", "ranking", "results_admin",
                     "announcements_admin", "public_stage_admin"}:
        return "admin"
    if blueprint == "jury":
        return "juror"
    if blueprint in {"nominations", "privacy", "api_tokens"} or endpoint in {
            "auth.profile", "auth.change_password"}:
        return "applicant"
    return "visitor"


# ---- filling the URL parameters ----------------------------------------------------------------


def _first(app, query):
    return read(app, lambda s: s.execute(query).first())


def sample_args(site: Site, endpoint: str, arguments: set[str]) -> dict | str:
    """Values for the rule's parameters, or the reason there are none. Demo data a finished
    feature's pages need is seeded with the demo, so its absence fails rather than skips."""
    w, app = site.world, site.app
    by_endpoint = {
        "nominations.show": {"nomination_id": w.submitted_id},
        "nominations.edit": {"nomination_id": w.draft_id},
        "nominations.withdraw": {"nomination_id": w.submitted_id},
        "nominations.confirmation": {"nomination_id": w.submitted_id},
        "nominations.start": {"slug": w.call_slug},
        "screening.show": {"nomination_id": w.submitted_id},
        "jury.score": {"assignment_id": w.juror_todo},
        "jury.recuse": {"assignment_id": w.juror_todo},
        "jury.panel": {"assignment_id": w.juror_submitted},
        "admin.form_field_new": {"field_type": "short_text"},
        "jury_admin.round_move": {"action": "close"},
    }
    generic = {
        "call_id": w.call_id, "round_id": w.round_id, "panel_id": w.panel_id,
        "category_id": w.category_id, "nomination_id": w.entry_ids[0],
        "assignment_id": w.juror_submitted, "member_id": w.member_id,
        "conflict_id": w.conflict_id, "criterion_id": w.criterion_id, "level_id": w.level_id,
        "field_id": w.field_id, "programme_id": w.programme_id, "slug": w.call_slug,
    }
    values = dict(by_endpoint.get(endpoint, {}))
    blueprint = endpoint.partition(".")[0]
    if blueprint in {"public_stage", "public_stage_admin"}:
        values.setdefault("slug", PUBLIC_STAGE_SLUG)
        values.setdefault("reference", PUBLIC_STAGE_REFERENCE)
        row = _first(app, select(Call.id).where(Call.slug == PUBLIC_STAGE_SLUG))
        if row is None:
            pytest.fail(f"the demo has no call {PUBLIC_STAGE_SLUG}")
        values.setdefault("call_id", row.id)
    if blueprint in {"results", "results_admin"}:
        values.setdefault("slug", RESULTS_SLUG)
        row = _first(app, select(Call.id).where(Call.slug == RESULTS_SLUG))
        if row is None:
            pytest.fail(f"the demo has no call {RESULTS_SLUG}")
        values.setdefault("call_id", row.id)
        winner = _first(app, select(Decision.nomination_id)
                        .where(Decision.call_id == row.id).order_by(Decision.id))
        if winner is None:
            pytest.fail(f"the demo call {RESULTS_SLUG} has no decision")
        values["nomination_id"] = winner.nomination_id
    if endpoint.startswith("results."):
        row = _first(app, select(Publication.version)
                     .join(Call, Call.id == Publication.call_id)
                     .where(Call.slug == RESULTS_SLUG).order_by(Publication.version))
        if row is None:
            pytest.fail(f"the demo has no published result for {RESULTS_SLUG}")
        values.setdefault("version", row.version)
        winner = _first(app, select(Publication.snapshot).join(Call, Call.id == Publication.call_id)
                        .where(Call.slug == RESULTS_SLUG).order_by(Publication.version))
        values.setdefault("reference", winner.snapshot["categories"][0]["winners"][0]["reference"])
    if endpoint == "announcements.show" or endpoint.startswith("announcements_admin."):
        row = _first(app, select(Announcement.id, Announcement.slug).order_by(Announcement.id))
        if row is None:
            pytest.fail("the demo has no announcement")
        values.setdefault("slug", row.slug)
        values.setdefault("announcement_id", row.id)
    if endpoint.startswith("certificates."):
        row = _first(app, select(Certificate.code).order_by(Certificate.id))
        if row is None and "code" in arguments:
            pytest.fail("the demo has no certificate")
        if row is not None:
            values.setdefault("code", row.code)
    for name in arguments:
        if name not in values:
            if name not in generic:
                return f"no sample value for <{name}>"
            values[name] = generic[name]
    return {name: values[name] for name in arguments}


def build_url(site: Site, endpoint: str) -> str:
    from flask import url_for

    rule = next(r for r in site.app.url_map.iter_rules(endpoint=endpoint)
                if "GET" in r.methods)
    if endpoint in NEEDS_EMAILED_TOKEN:
        pytest.skip("reached through a signed link from an e-mail (see the journey tests)")
    if endpoint in NEEDS_PENDING_VOTER:
        pytest.skip("needs a voter part way through verification: checked after the real flow "
                    "by test_public_vote_code_page_has_no_serious_axe_violation")
    args = sample_args(site, endpoint, set(rule.arguments))
    if isinstance(args, str):
        pytest.skip(args)
    with site.app.test_request_context():
        return url_for(endpoint, **args).replace("http://localhost", "")


# ---- the check ---------------------------------------------------------------------------------


def run_axe(page) -> list[dict]:
    return page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ["violations"]});
        return result.violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
            nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary,
                                      html: n.html}))}));
    }""")


def report(url: str, violations: list[dict]) -> str:
    lines = [f"axe: {len(violations)} serious/critical violation(s) on {url}"]
    for v in violations:
        lines.append(f"  [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:6]:
            lines.append(f"      at {node['target']}: {node['html'][:160]}")
            for hint in (node["summary"] or "").splitlines()[:4]:
                lines.append(f"         {hint.strip()}")
        if len(v["nodes"]) > 6:
            lines.append(f"      … and {len(v['nodes']) - 6} more")
    return "\n".join(lines)


def check(page, url: str, endpoint: str, *, expect_status: int = 200) -> None:
    response = page.goto(url)
    assert response is not None
    if response.status != expect_status:
        pytest.fail(f"{url} answered {response.status}, expected {expect_status}")
    content_type = response.headers.get("content-type", "")
    if "text/html" not in content_type:
        pytest.skip(f"{endpoint} answers {content_type}, not HTML: list it in NOT_HTML")
    assert_no_blocking_violation(page, url)


def assert_no_blocking_violation(page, url: str) -> None:
    blocking = [v for v in run_axe(page) if v["impact"] in BLOCKING]
    if blocking:
        message = report(url, blocking)
        print(message)
        pytest.fail(message, pytrace=False)


# Confirmation pages the sample world's state refuses (its round is not in a judging call; its
# results are already published): the page the administrator then meets, with the reasons, is
# what is checked here.
REFUSED_IN_THE_SAMPLE_WORLD = {"ranking.confirm_advance": 409,
                               "results_admin.confirm_publish": 400}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_page_has_no_serious_axe_violation(site, endpoint):
    if not AXE.exists():
        pytest.skip("axe-core is not installed: run `npm ci` (make test does)")
    role = role_of(endpoint)
    url = build_url(site, endpoint)
    check(site.page_for(role), url, endpoint,
          expect_status=REFUSED_IN_THE_SAMPLE_WORLD.get(endpoint, 200))


def test_not_found_page_has_no_serious_axe_violation(site):
    if not AXE.exists():
        pytest.skip("axe-core is not installed: run `npm ci` (make test does)")
    check(site.page_for("visitor"), "/no-such-page", "errors.not_found", expect_status=404)


def test_form_with_errors_has_no_serious_axe_violation(site):
    """Error messages, the error summary and aria-invalid fields are checked too."""
    if not AXE.exists():
        pytest.skip("axe-core is not installed: run `npm ci` (make test does)")
    page = site.page_for("visitor")
    page.goto("/account/register")
    page.locator("#email").fill("not-an-address")
    page.locator('main form button[type="submit"]').click()
    page.locator(".error-summary").wait_for()
    blocking = [v for v in run_axe(page) if v["impact"] in BLOCKING]
    assert blocking == [], report(page.url, blocking)


def test_public_vote_code_page_has_no_serious_axe_violation(site):
    """The people's vote as a voter goes through it: the e-mail form, the code page (blank and
    with a wrong code), then the candidates and an entry with the voter verified. Its own fresh
    browser context, so the voter stays out of the shared visitor's session."""
    if not AXE.exists():
        pytest.skip("axe-core is not installed: run `npm ci` (make test does)")
    email = f"a11y-{uuid.uuid4().hex[:8]}@example.org"
    context = site.browser.new_context(base_url=site.base, locale="ru-RU")
    context.add_init_script(script=AXE.read_text(encoding="utf-8"))
    try:
        page = context.new_page()
        page.set_default_timeout(15000)
        page.goto(f"/public/{PUBLIC_STAGE_SLUG}/verify")
        page.locator("#email").fill(email)
        page.locator('main form button[type="submit"]').click()
        page.wait_for_url(f"**/public/{PUBLIC_STAGE_SLUG}/verify/code")
        assert_no_blocking_violation(page, page.url)

        body = _first(site.app, select(OutgoingMail.body_text)
                      .where(OutgoingMail.to_address == email)
                      .order_by(OutgoingMail.id.desc())).body_text
        code = re.search(r"^\s+(\d{6})$", body, re.M).group(1)
        page.locator("#code").fill("000000" if code != "000000" else "111111")
        page.locator('main form button[type="submit"]').click()
        page.locator(".error-summary").wait_for()
        assert_no_blocking_violation(page, page.url + " (wrong code)")

        page.locator("#code").fill(code)
        page.locator('main form button[type="submit"]').click()
        page.wait_for_url(f"**/public/{PUBLIC_STAGE_SLUG}/")
        assert_no_blocking_violation(page, page.url + " (voter verified)")
        page.goto(f"/public/{PUBLIC_STAGE_SLUG}/{PUBLIC_STAGE_REFERENCE}")
        assert_no_blocking_violation(page, page.url + " (voter verified)")
    finally:
        context.close()
