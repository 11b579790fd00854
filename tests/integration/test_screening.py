"""Eligibility screening through the real pages: permissions, the list (filters, search,
pagination, query count), single and bulk decisions, consent, concurrent edits.

Pages are requested in English; the database is read in short app contexts of its own (see
test_auth.py for why the ``db`` fixture is not used alongside the client)."""

from __future__ import annotations

import html
import json
import re
import zipfile
from io import BytesIO

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import event, func, select

from awards.audit import AuditEvent, verify_chain
from awards.auth.models import User
from awards.db import get_db
from awards.enums import CallStatus, FieldType, NominationStatus
from awards.mail import OutgoingMail
from awards.nominations.models import Nomination, StatusChange
from awards.screening import services
from tests.conftest import get_csrf, login
from tests.pages import field_errors, text_of
from tests.screening_factories import (
    add_attachment,
    arrange,
    make_call,
    make_field,
    make_nomination,
    status_change,
)

REASON = "Документы не подписаны руководителем организации."
NOTE = "Проверить у координатора региона."


# ---- helpers --------------------------------------------------------------------------------


@pytest.fixture
def client(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def admin(make_user):
    return make_user("admin@example.com", admin=True, name="Dana Admin")


@pytest.fixture
def applicant(make_user):
    return make_user("applicant@example.com", name="Aliya Nurlanovna", language="ru")


def browser_of(app, user):
    """Another browser, logged in as ``user``."""
    other = app.test_client()
    other.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(other, user.email)
    return other


def flashes(response) -> list[tuple[str, str]]:
    return [(cat, html.unescape(msg)) for cat, msg in
            re.findall(r'<p class="flash flash-(\w+)">(.*?)</p>', text_of(response))]


def alert(response) -> str:
    match = re.search(r'<div class="error-summary" role="alert" tabindex="-1">\s*<h2>(.*?)</h2>',
                      text_of(response), re.S)
    return html.unescape(match.group(1).strip()) if match else ""


def alert_items(response) -> list[str]:
    match = re.search(r'<div class="error-summary".*?</div>', text_of(response), re.S)
    if not match:
        return []
    return [html.unescape(re.sub(r"<[^>]+>", "", item)).strip()
            for item in re.findall(r"<li>(.*?)</li>", match.group(0), re.S)]


def listed(response) -> list[str]:
    """The references in the list, in order."""
    return re.findall(r'<td><a href="/admin/screening/nomination/\d+">([^<]+)</a></td>',
                      text_of(response))


def read(app, query):
    with app.app_context():
        return query(get_db())


def nomination_row(app, nomination_id: int) -> Nomination:
    def _q(db):
        n = db.get(Nomination, nomination_id)
        changes = [(c.from_status, c.to_status, c.reason, c.visible_to_applicant)
                   for c in n.status_changes]
        db.expunge(n)
        n.timeline = changes
        return n

    return read(app, _q)


def statuses(app, *ids: int) -> list[NominationStatus]:
    return [nomination_row(app, i).status for i in ids]


def mails(app) -> list[tuple[str, str, str]]:
    return read(app, lambda db: [(m.to_address, m.kind, m.language) for m in
                                 db.scalars(select(OutgoingMail).order_by(OutgoingMail.id))])


def audit_actions(app, prefix: str = "nomination.") -> list[tuple[str, str]]:
    return read(app, lambda db: [
        (e.action, e.object_id) for e in
        db.scalars(select(AuditEvent).where(AuditEvent.action.startswith(prefix))
                   .order_by(AuditEvent.id))
    ])


def setup_call(app, applicant, *, count: int = 1, requires_consent: bool = False,
               consent: str = "given", status=NominationStatus.SUBMITTED) -> tuple[int, list[int]]:
    def build(db):
        call = make_call(db, requires_consent=requires_consent)
        ids = [make_nomination(db, call=call, applicant=applicant, status=status,
                               consent=consent, reference=f"VOY-2026-{i:05d}",
                               nominee_name=f"Nominee {i}").id
               for i in range(1, count + 1)]
        return call.id, ids

    return arrange(app, build)


def version_of(app, nomination_id: int) -> int:
    return nomination_row(app, nomination_id).version_id


def decide(client, nomination_id: int, decision: str, *, reason: str = "", note: str = "",
           version: int | None = None, app=None):
    if version is None:
        page = text_of(client.get(f"/admin/screening/nomination/{nomination_id}"))
        version = int(re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1))
    return client.post(f"/admin/screening/nomination/{nomination_id}/decision", data={
        "csrf_token": get_csrf(client), "decision": decision, "reason": reason, "note": note,
        "version": str(version),
    })


def bulk(client, call_id: int, items: list[tuple[int, int]], decision: str, reason: str = "",
         query: str = ""):
    return client.post(f"/admin/screening/{call_id}/bulk{query}", data={
        "csrf_token": get_csrf(client), "decision": decision, "reason": reason,
        "selected": [f"{i}:{v}" for i, v in items],
    })


# ---- permissions ----------------------------------------------------------------------------

ROUTES = [
    ("GET", "/admin/screening/"),
    ("GET", "/admin/screening/{call}/"),
    ("GET", "/admin/screening/nomination/{nomination}"),
    ("POST", "/admin/screening/nomination/{nomination}/decision"),
    ("POST", "/admin/screening/{call}/bulk"),
]
EXPECTED = {"anonymous": 302, "applicant": 403, "admin": {"GET": 200, "POST": 303}}


@pytest.mark.parametrize("role", ["anonymous", "applicant", "admin"])
@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_screening_route_permission_by_role(app, client, admin, applicant, role, method, path):
    call_id, (nomination_id,) = setup_call(app, applicant)
    url = path.format(call=call_id, nomination=nomination_id)
    if role != "anonymous":
        login(client, admin.email if role == "admin" else applicant.email)
    data = {"csrf_token": get_csrf(client), "decision": "eligible", "reason": "",
            "version": "1", "selected": [f"{nomination_id}:1"]}

    response = client.get(url) if method == "GET" else client.post(url, data=data)

    expected = EXPECTED[role] if role != "admin" else EXPECTED["admin"][method]
    assert response.status_code == expected
    if role == "anonymous":
        assert response.headers["Location"].startswith("/account/login?next=")
    changed = role == "admin" and method == "POST"
    assert statuses(app, nomination_id) == [
        NominationStatus.ELIGIBLE if changed else NominationStatus.SUBMITTED
    ]
    assert len(mails(app)) == (1 if changed else 0)


def test_decision_without_csrf_token_is_refused(app, client, admin, applicant):
    _call_id, (nomination_id,) = setup_call(app, applicant)
    login(client, admin.email)

    response = client.post(f"/admin/screening/nomination/{nomination_id}/decision",
                           data={"decision": "eligible", "version": "1"})

    assert response.status_code == 400
    assert alert_items(response) == ["The form expired. Please submit it again."]
    assert statuses(app, nomination_id) == [NominationStatus.SUBMITTED]


# ---- overview -------------------------------------------------------------------------------


def test_index_counts_each_status_and_progress(app, client, admin, applicant):
    def build(db):
        call = make_call(db)
        make_call(db, slug="draft-call", prefix="DRF", status=CallStatus.DRAFT)
        for status, n in [(NominationStatus.SUBMITTED, 2), (NominationStatus.ELIGIBLE, 3),
                          (NominationStatus.INELIGIBLE, 1),
                          (NominationStatus.CHANGES_REQUESTED, 1),
                          (NominationStatus.WITHDRAWN, 1), (NominationStatus.DRAFT, 4)]:
            for _ in range(n):
                make_nomination(db, call=call, applicant=applicant, status=status)
        return call.id

    call_id = arrange(app, build)
    login(client, admin.email)

    page = text_of(client.get("/admin/screening/"))

    assert re.findall(r'<tr data-call="(\d+)">', page) == [str(call_id)]
    counts = dict(re.findall(r'<td data-count="(\w+)"[^>]*>(\d+)</td>', page))
    assert counts == {"submitted": "2", "eligible": "3", "ineligible": "1",
                      "changes_requested": "1", "withdrawn": "1"}
    assert '<progress max="7" value="5"' in page
    assert "5 of 7 screened" in page


# ---- the list: filters, search, pagination, query count -------------------------------------


@pytest.fixture
def searchable(app, make_user):
    """Four submitted entries and a draft, each findable by something different."""
    other = make_user("bolat@example.org", name="Bolat Serikov", language="kk")
    first = make_user("aliya@example.com", name="Алия Нурланова", language="ru")

    def build(db):
        call = make_call(db)
        social, ecology = call.categories
        activity = make_field(db, call, "activity")
        make_nomination(db, call=call, applicant=first, category=social,
                        reference="VOY-2026-00001", nominee_name="Айгерим Садыкова",
                        nominee_email="aigerim@mail.kz",
                        answers={activity: "Помогала в приюте для животных"})
        make_nomination(db, call=call, applicant=other, category=ecology,
                        reference="VOY-2026-00002", nominee_name="Daniyar Akhmetov",
                        nominee_email="daniyar@example.kz", organisation_name="Green Steppe",
                        status=NominationStatus.ELIGIBLE,
                        answers={activity: "Planted 5000 trees_in Almaty 100%"})
        make_nomination(db, call=call, applicant=other, category=social,
                        reference="VOY-2026-00003", nominee_name="Madina Omarova",
                        nominee_email="madina@example.kz", status=NominationStatus.WITHDRAWN)
        make_nomination(db, call=call, applicant=None, category=ecology,
                        reference="VOY-2026-00004", nominee_name="Erlan Zhaksylykov",
                        nominee_email="erlan@example.kz", status=NominationStatus.INELIGIBLE)
        make_nomination(db, call=call, applicant=first, category=social,
                        status=NominationStatus.DRAFT, nominee_name="Draft Person")
        return call.id, social.id, ecology.id

    return arrange(app, build)


@pytest.mark.parametrize(("query", "expected"), [
    ("", ["VOY-2026-00001", "VOY-2026-00002", "VOY-2026-00003", "VOY-2026-00004"]),
    ("status=eligible", ["VOY-2026-00002"]),
    ("status=withdrawn", ["VOY-2026-00003"]),
    ("status=draft", ["VOY-2026-00001", "VOY-2026-00002", "VOY-2026-00003", "VOY-2026-00004"]),
    ("category={ecology}", ["VOY-2026-00002", "VOY-2026-00004"]),
    ("category={social}&status=submitted", ["VOY-2026-00001"]),
    ("category=999", ["VOY-2026-00001", "VOY-2026-00002", "VOY-2026-00003", "VOY-2026-00004"]),
    ("q=00004", ["VOY-2026-00004"]),
    ("q=айгерим", ["VOY-2026-00001"]),
    ("q=DANIYAR@EXAMPLE", ["VOY-2026-00002"]),
    ("q=green+steppe", ["VOY-2026-00002"]),
    ("q=bolat", ["VOY-2026-00002", "VOY-2026-00003"]),
    ("q=aliya@example.com", ["VOY-2026-00001"]),
    ("q=алия", ["VOY-2026-00001"]),
    ("q=приюте", ["VOY-2026-00001"]),
    ("q=Приюте для", ["VOY-2026-00001"]),
    ("q=trees_in", ["VOY-2026-00002"]),
    ("q=100%25", ["VOY-2026-00002"]),
    ("q=_", ["VOY-2026-00002"]),
    ("q=Draft+Person", []),
    ("q=bolat&category={ecology}", ["VOY-2026-00002"]),
])
def test_list_filters_and_search(app, client, admin, searchable, query, expected):
    _call_id, social_id, ecology_id = searchable
    login(client, admin.email)

    response = client.get(f"/admin/screening/{_call_id}/?"
                          + query.format(social=social_id, ecology=ecology_id))

    assert response.status_code == 200
    assert listed(response) == expected
    noun = "nomination" if len(expected) == 1 else "nominations"
    assert f"{len(expected)} {noun} found" in text_of(response)


def test_list_shows_columns_in_almaty_time_and_escaped(app, client, admin, make_user):
    person = make_user("x@example.com", name="<b>Bold</b> Applicant")

    def build(db):
        call = make_call(db, requires_consent=True)
        n = make_nomination(db, call=call, applicant=person, reference="VOY-2026-00007",
                            nominee_name="<script>alert(1)</script>", consent="pending")
        return call.id, n.id

    call_id, nomination_id = arrange(app, build)
    login(client, admin.email)

    page = text_of(client.get(f"/admin/screening/{call_id}/"))

    row = re.search(rf'<tr data-nomination="{nomination_id}">(.*?)</tr>', page, re.S).group(1)
    cells = [re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", c))).strip()
             for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    assert cells == ["Select VOY-2026-00007", "VOY-2026-00007", "Social",
                     "<script>alert(1)</script>", "<b>Bold</b> Applicant x@example.com",
                     "1 March 2026, 15:00", "submitted", "awaited"]
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_list_paginates_fifty_per_page_keeping_filters(app, client, admin, applicant):
    def build(db):
        call = make_call(db)
        for i in range(1, 56):
            make_nomination(db, call=call, applicant=applicant, reference=f"VOY-2026-{i:05d}")
        return call.id

    call_id = arrange(app, build)
    login(client, admin.email)

    first = client.get(f"/admin/screening/{call_id}/?status=submitted")
    second = client.get(f"/admin/screening/{call_id}/?status=submitted&page=2")
    beyond = client.get(f"/admin/screening/{call_id}/?status=submitted&page=9")

    assert listed(first) == [f"VOY-2026-{i:05d}" for i in range(1, 51)]
    assert listed(second) == [f"VOY-2026-{i:05d}" for i in range(51, 56)]
    assert listed(beyond) == listed(second)
    assert "Page 1 of 2" in text_of(first)
    assert html.unescape(re.search(r'<a rel="next" href="([^"]+)"', text_of(first)).group(1)) == (
        f"/admin/screening/{call_id}/?page=2&status=submitted"
    )
    assert html.unescape(re.search(r'<a rel="prev" href="([^"]+)"', text_of(second)).group(1)) == (
        f"/admin/screening/{call_id}/?page=1&status=submitted"
    )


def _statements_for(app, client, url: str) -> tuple[int, int]:
    engine = app.extensions["awards_db"]["engine"]
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return response.status_code, len(statements)


@pytest.mark.parametrize("query", ["", "?q=nominee&status=submitted"])
def test_list_query_count_is_constant(app, client, admin, make_user, query):
    applicants = [make_user(f"a{i}@example.com", name=f"Applicant {i}") for i in range(30)]

    def build(count):
        def _build(db):
            call = make_call(db, slug=f"call-{count}", prefix=f"C{count}", requires_consent=True)
            field = make_field(db, call, "activity")
            for i in range(count):
                n = make_nomination(db, call=call, applicant=applicants[i],
                                    category=call.categories[i % 2],
                                    nominee_name=f"Nominee {i}", answers={field: f"text {i}"})
                add_attachment(db, n)
            return call.id
        return _build

    small, large = arrange(app, build(5)), arrange(app, build(30))
    login(client, admin.email)
    client.get(f"/admin/screening/{small}/{query}")  # first request warms caches

    small_status, small_count = _statements_for(app, client, f"/admin/screening/{small}/{query}")
    large_status, large_count = _statements_for(app, client, f"/admin/screening/{large}/{query}")

    assert (small_status, large_status) == (200, 200)
    assert small_count == large_count
    assert len(listed(client.get(f"/admin/screening/{large}/{query}"))) == 30


# ---- one decision ---------------------------------------------------------------------------


MAIL_REASON_LINES = ("Comment from the organisers:", "Reason:")


@pytest.mark.parametrize(("decision", "label", "reason", "mail_lines"), [
    ("eligible", "eligible", "", []),
    ("eligible", "eligible", "Всё в порядке.", ["Comment from the organisers:", "Всё в порядке."]),
    ("ineligible", "ineligible", REASON, ["Reason:", REASON]),
    ("changes_requested", "changes requested", REASON, [REASON]),
])
def test_decision_changes_status_tells_applicant_in_their_language(
        app, client, admin, applicant, decision, label, reason, mail_lines):
    _call_id, (nomination_id,) = setup_call(app, applicant)
    login(client, admin.email)

    response = decide(client, nomination_id, decision, reason=reason)

    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/screening/nomination/{nomination_id}"
    assert flashes(client.get(response.headers["Location"])) == [
        ("success", f"VOY-2026-00001 marked “{label}”; the applicant has been notified.")
    ]
    n = nomination_row(app, nomination_id)
    assert n.status == NominationStatus(decision)
    assert n.screening_reason == reason
    assert n.timeline[-1] == (NominationStatus.SUBMITTED, NominationStatus(decision), reason,
                              True)
    assert mails(app) == [("applicant@example.com", f"screening_{decision}", "ru")]
    body = read(app, lambda db: db.scalar(select(OutgoingMail.body_text)))
    # The applicant's language is Russian: compare with the catalog's wording of the headings.
    with app.test_request_context(), force_locale("ru"):
        translated = {line: gettext(line) for line in MAIL_REASON_LINES}
    assert [line for line in body.splitlines()
            if line in translated.values() or (reason and line == reason)] == [
        translated.get(line, line) for line in mail_lines]
    assert f"http://localhost/nominations/{nomination_id}" in body
    assert audit_actions(app) == [(f"nomination.{decision}", str(nomination_id))]
    # What the applicant sees of it: their nomination page and their data export.
    applicant_browser = browser_of(app, applicant)
    own_page = applicant_browser.get(f"/nominations/{nomination_id}")
    assert own_page.status_code == 200
    assert not reason or reason in text_of(own_page)
    data = export_json(applicant_browser)
    assert data["nominations"][0]["status_timeline"][-1]["to"] == decision
    assert data["nominations"][0]["status_timeline"][-1]["reason"] == reason


def export_json(client) -> dict:
    response = client.get("/account/data/export")
    assert response.status_code == 200
    with zipfile.ZipFile(BytesIO(response.data)) as zf:
        return json.loads(zf.read("data.json"))


@pytest.mark.parametrize("decision", ["ineligible", "changes_requested"])
@pytest.mark.parametrize("reason", ["", "   "])
def test_decision_without_reason_is_refused(app, client, admin, applicant, decision, reason):
    _call_id, (nomination_id,) = setup_call(app, applicant)
    login(client, admin.email)

    response = decide(client, nomination_id, decision, reason=reason)

    assert response.status_code == 400
    assert field_errors(response) == {
        "reason": "Give the applicant a reason: it is required when an entry is found "
                  "ineligible or sent back for changes."
    }
    assert statuses(app, nomination_id) == [NominationStatus.SUBMITTED]
    assert mails(app) == []
    assert audit_actions(app) == []


def test_decision_without_choice_is_refused(app, client, admin, applicant):
    _call_id, (nomination_id,) = setup_call(app, applicant)
    login(client, admin.email)

    response = decide(client, nomination_id, "")

    assert response.status_code == 400
    assert field_errors(response) == {"decision": "Choose a decision."}
    assert statuses(app, nomination_id) == [NominationStatus.SUBMITTED]


def test_internal_note_is_kept_for_admins_and_hidden_from_applicant(app, client, admin,
                                                                    applicant):
    _call_id, (nomination_id,) = setup_call(app, applicant)
    login(client, admin.email)

    decide(client, nomination_id, "changes_requested", reason=REASON, note=NOTE)

    n = nomination_row(app, nomination_id)
    assert n.timeline[-2:] == [
        (NominationStatus.SUBMITTED, NominationStatus.CHANGES_REQUESTED, REASON, True),
        (NominationStatus.CHANGES_REQUESTED, NominationStatus.CHANGES_REQUESTED, NOTE, False),
    ]
    admin_page = text_of(client.get(f"/admin/screening/nomination/{nomination_id}"))
    assert NOTE in admin_page
    assert '<li data-visible="no">' in admin_page
    assert audit_actions(app) == [("nomination.changes_requested", str(nomination_id)),
                                  ("nomination.internal_note", str(nomination_id))]
    body = read(app, lambda db: db.scalar(select(OutgoingMail.body_text)))
    assert NOTE not in body
    applicant_browser = browser_of(app, applicant)
    own_page = text_of(applicant_browser.get(f"/nominations/{nomination_id}"))
    assert (REASON in own_page, NOTE in own_page) == (True, False)
    data = export_json(applicant_browser)
    assert [(c["to"], c["reason"]) for c in data["nominations"][0]["status_timeline"]] == [
        ("submitted", ""), ("changes_requested", REASON)
    ]
    assert NOTE not in json.dumps(data, ensure_ascii=False)


@pytest.mark.parametrize(("status", "message"), [
    (NominationStatus.WITHDRAWN,
     "VOY-2026-00001 was withdrawn by the applicant and cannot be screened."),
    (NominationStatus.DRAFT,
     "#{id} is a draft: it has not been submitted and cannot be screened."),
    (NominationStatus.CHANGES_REQUESTED,
     "VOY-2026-00001 is waiting for the applicant's changes; it can be screened again once "
     "it is resubmitted."),
])
def test_decision_on_unscreenable_entry_is_conflict(app, client, admin, applicant, status,
                                                    message):
    _call_id, (nomination_id,) = setup_call(app, applicant, status=status)
    login(client, admin.email)

    response = decide(client, nomination_id, "eligible", version=version_of(app, nomination_id))

    assert response.status_code == 409
    assert alert(response) == message.format(id=nomination_id)
    assert statuses(app, nomination_id) == [status]
    assert mails(app) == []
    assert audit_actions(app) == []


def test_rescreen_replaces_decision_and_is_audited(app, client, admin, applicant):
    _call_id, (nomination_id,) = setup_call(app, applicant)
    login(client, admin.email)
    decide(client, nomination_id, "eligible")

    response = decide(client, nomination_id, "ineligible", reason=REASON)
    again = decide(client, nomination_id, "ineligible", reason=REASON)

    assert response.status_code == 303
    assert again.status_code == 409
    assert alert(again) == "VOY-2026-00001 is already marked “ineligible”."
    n = nomination_row(app, nomination_id)
    assert n.status == NominationStatus.INELIGIBLE
    assert [t[:2] for t in n.timeline] == [
        (NominationStatus.DRAFT, NominationStatus.SUBMITTED),
        (NominationStatus.SUBMITTED, NominationStatus.ELIGIBLE),
        (NominationStatus.ELIGIBLE, NominationStatus.INELIGIBLE),
    ]
    assert audit_actions(app) == [("nomination.eligible", str(nomination_id)),
                                  ("nomination.ineligible", str(nomination_id))]
    assert [m[1] for m in mails(app)] == ["screening_eligible", "screening_ineligible"]
    assert read(app, lambda db: verify_chain(db).ok) is True


@pytest.mark.parametrize("consent", ["pending", "declined"])
def test_eligible_without_required_consent_is_refused(app, client, admin, applicant, consent):
    _call_id, (nomination_id,) = setup_call(app, applicant, requires_consent=True,
                                            consent=consent)
    login(client, admin.email)

    page = text_of(client.get(f"/admin/screening/nomination/{nomination_id}"))
    response = decide(client, nomination_id, "eligible")
    ineligible = decide(client, nomination_id, "ineligible", reason=REASON)

    assert "the nomination cannot be marked eligible yet" in page
    assert response.status_code == 409
    assert alert(response) == (
        "VOY-2026-00001 cannot be marked eligible: this call requires the nominee's consent, "
        "and the nominee has not given it."
    )
    assert ineligible.status_code == 303
    assert statuses(app, nomination_id) == [NominationStatus.INELIGIBLE]
    assert [m[1] for m in mails(app)] == ["screening_ineligible"]


def test_eligible_with_given_consent_is_accepted(app, client, admin, applicant):
    _call_id, (nomination_id,) = setup_call(app, applicant, requires_consent=True,
                                            consent="given")
    login(client, admin.email)

    response = decide(client, nomination_id, "eligible")

    assert response.status_code == 303
    assert statuses(app, nomination_id) == [NominationStatus.ELIGIBLE]


def test_stale_version_is_conflict_and_page_offers_current_state(app, client, admin,
                                                                  applicant, make_user):
    _call_id, (nomination_id,) = setup_call(app, applicant)
    other = make_user("admin2@example.com", admin=True, name="Second Admin")
    second = browser_of(app, other)
    login(client, admin.email)
    seen = version_of(app, nomination_id)

    first = decide(client, nomination_id, "ineligible", reason=REASON, version=seen)
    late = decide(second, nomination_id, "changes_requested", reason="Нужна справка",
                  version=seen)

    assert first.status_code == 303
    assert late.status_code == 409
    assert alert(late) == (
        "VOY-2026-00001 was changed by someone else (another administrator or the applicant) "
        "after you opened it. Nothing was saved: review the current state and decide again."
    )
    current = version_of(app, nomination_id)
    assert current == seen + 1
    assert f'name="version" type="hidden" value="{current}"' in text_of(late)
    assert "Нужна справка" in text_of(late)  # what the second administrator typed is kept
    assert statuses(app, nomination_id) == [NominationStatus.INELIGIBLE]
    assert [m[1] for m in mails(app)] == ["screening_ineligible"]


def test_decide_refuses_change_committed_after_the_entry_was_read(app, admin, applicant):
    _call_id, (nomination_id,) = setup_call(app, applicant)

    with app.test_request_context(headers={"Accept-Language": "en"}):
        db = get_db()
        nomination = services.get_nomination(session=db, nomination_id=nomination_id)
        other = app.extensions["awards_db"]["session_factory"]()
        other.get(Nomination, nomination_id).nominee_name = "Changed meanwhile"
        other.commit()
        other.close()

        with pytest.raises(services.StaleNomination) as refused:
            services.decide(session=db, nomination=nomination,
                            decision=NominationStatus.ELIGIBLE, actor=db.get(User, admin.id),
                            expected_version=nomination.version_id)
        db.rollback()
        message = str(refused.value)

    assert message == (
        "VOY-2026-00001 was changed by someone else while you were deciding. Nothing was "
        "saved: review the current state and decide again."
    )
    assert statuses(app, nomination_id) == [NominationStatus.SUBMITTED]
    assert mails(app) == []
    assert audit_actions(app) == []


def test_unknown_entry_and_call_are_not_found(app, client, admin):
    login(client, admin.email)

    assert client.get("/admin/screening/nomination/999").status_code == 404
    assert client.get("/admin/screening/999/").status_code == 404


# ---- the nomination page --------------------------------------------------------------------


def test_show_lists_answers_escaped_attachments_consent_and_timeline(app, client, admin,
                                                                     applicant):
    def build(db):
        call = make_call(db, requires_consent=True)
        activity = make_field(db, call, "activity", label="Activity")
        region = make_field(db, call, "region", type=FieldType.SINGLE_CHOICE, label="Region",
                            options=[{"value": "almaty", "label_en": "Almaty city",
                                      "label_ru": "г. Алматы"}])
        agree = make_field(db, call, "agree", type=FieldType.CHECKBOX, label="Agree")
        photo = make_field(db, call, "photo", type=FieldType.FILE, label="Photo")
        n = make_nomination(db, call=call, applicant=applicant, reference="VOY-2026-00009",
                            answers={activity: "Line one <img src=x onerror=alert(1)>\nLine two",
                                     region: "almaty", agree: True})
        add_attachment(db, n, name="photo.png", form_field=photo, content=b"\x89PNG\r\n\x1a\n1")
        letter = add_attachment(db, n, name="letter.pdf")
        status_change(db, n, NominationStatus.CHANGES_REQUESTED, reason="Add a letter")
        status_change(db, n, NominationStatus.CHANGES_REQUESTED, reason="Internal remark",
                      visible=False)
        status_change(db, n, NominationStatus.SUBMITTED)
        return n.id, letter.id

    nomination_id, letter_id = arrange(app, build)
    login(client, admin.email)

    page = text_of(client.get(f"/admin/screening/nomination/{nomination_id}"))

    answers = {key: re.sub(r"\s+", " ", html.unescape(re.sub(r"<(?!img)[^>]+>", " ", v))).strip()
               for key, v in re.findall(r'<dd data-field="(\w+)">(.*?)</dd>', page, re.S)}
    assert answers == {"activity": "Line one <img src=x onerror=alert(1)> Line two",
                       "region": "Almaty city", "agree": "Yes", "photo": "photo.png"}
    assert "<img src=x" not in page
    assert f'href="/nominations/{nomination_id}/attachments/{letter_id}">letter.pdf</a>' in page
    assert 'data-consent="given"' in page
    assert re.findall(r'<li data-visible="(\w+)">', page) == ["yes", "yes", "no", "yes"]
    assert "Internal remark" in page


# ---- bulk -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("count", "message"), [
    (1, "1 nomination marked “ineligible”; the applicant has been notified."),
    (3, "3 nominations marked “ineligible”; the applicants have been notified."),
])
def test_bulk_decision_changes_all_audits_and_mails_each(app, client, admin, applicant, count,
                                                         message):
    call_id, ids = setup_call(app, applicant, count=count)
    login(client, admin.email)
    items = [(i, version_of(app, i)) for i in ids]

    response = bulk(client, call_id, items, "ineligible", REASON, query="?status=submitted")

    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/screening/{call_id}/?status=submitted"
    assert flashes(client.get(response.headers["Location"])) == [("success", message)]
    assert statuses(app, *ids) == [NominationStatus.INELIGIBLE] * count
    assert [nomination_row(app, i).timeline[-1][2] for i in ids] == [REASON] * count
    assert mails(app) == [("applicant@example.com", "screening_ineligible", "ru")] * count
    assert audit_actions(app) == [("nomination.ineligible", str(i)) for i in ids]


def test_bulk_with_one_invalid_entry_changes_nothing(app, client, admin, applicant):
    call_id, ids = setup_call(app, applicant, count=3)

    def withdraw(db):
        status_change(db, db.get(Nomination, ids[1]), NominationStatus.WITHDRAWN)

    arrange(app, withdraw)
    login(client, admin.email)
    items = [(i, version_of(app, i)) for i in ids]

    response = bulk(client, call_id, items, "eligible")

    assert response.status_code == 409
    assert alert(response) == (
        "Nothing was changed: 1 of the selected nominations cannot take this decision."
    )
    assert alert_items(response) == [
        "VOY-2026-00002 was withdrawn by the applicant and cannot be screened."
    ]
    assert re.findall(r'value="(\d+):\d+" checked', text_of(response)) == [str(i) for i in ids]
    assert statuses(app, *ids) == [NominationStatus.SUBMITTED, NominationStatus.WITHDRAWN,
                                   NominationStatus.SUBMITTED]
    assert mails(app) == []
    assert audit_actions(app) == []


def test_bulk_with_stale_entry_or_other_call_changes_nothing(app, client, admin, applicant):
    call_id, ids = setup_call(app, applicant, count=2)
    foreign = arrange(app, lambda db: make_nomination(
        db, call=make_call(db, slug="other", prefix="OTH"), applicant=applicant).id)
    login(client, admin.email)

    response = bulk(client, call_id, [(ids[0], 1), (ids[1], 7), (foreign, 1)], "eligible")

    assert response.status_code == 409
    assert alert_items(response) == [
        "VOY-2026-00002 was changed by someone else (another administrator or the applicant) "
        "after you opened it. Nothing was saved: review the current state and decide again.",
        f"Nomination #{foreign} is not part of this call.",
    ]
    assert statuses(app, *ids, foreign) == [NominationStatus.SUBMITTED] * 3


@pytest.mark.parametrize(("decision", "reason", "selected", "errors"), [
    ("ineligible", "", True, {"reason": "Give the applicant a reason: it is required when an "
                                        "entry is found ineligible or sent back for changes."}),
    ("", "", True, {"decision": "Choose a decision."}),
    ("eligible", "", False, {"selected": "Select at least one nomination."}),
])
def test_bulk_form_errors_change_nothing(app, client, admin, applicant, decision, reason,
                                         selected, errors):
    call_id, ids = setup_call(app, applicant, count=2)
    login(client, admin.email)

    response = bulk(client, call_id, [(i, 1) for i in ids] if selected else [], decision, reason)

    assert response.status_code == 400
    messages = {item.split(": ", 1)[0]: item.split(": ", 1)[1] for item in alert_items(response)}
    labels = {"reason": "Reason for the applicants",
              "decision": "Decision for the selected nominations",
              "selected": "Selected nominations"}
    assert messages == {labels[k]: v for k, v in errors.items()}
    assert statuses(app, *ids) == [NominationStatus.SUBMITTED] * 2


def test_bulk_eligible_refused_when_one_lacks_consent(app, client, admin, applicant):
    def build(db):
        call = make_call(db, requires_consent=True)
        return call.id, [
            make_nomination(db, call=call, applicant=applicant, consent=c,
                            reference=f"VOY-2026-0000{i}").id
            for i, c in enumerate(["given", "pending", "given"], start=1)
        ]

    call_id, ids = arrange(app, build)
    login(client, admin.email)

    response = bulk(client, call_id, [(i, 1) for i in ids], "eligible")

    assert response.status_code == 409
    assert alert_items(response) == [
        "VOY-2026-00002 cannot be marked eligible: this call requires the nominee's consent, "
        "and the nominee has not given it."
    ]
    assert statuses(app, *ids) == [NominationStatus.SUBMITTED] * 3
    assert read(app, lambda db: db.scalar(select(func.count()).select_from(StatusChange))) == 3


def test_audit_chain_verifies_after_screening(app, client, admin, applicant):
    call_id, ids = setup_call(app, applicant, count=3)
    login(client, admin.email)
    decide(client, ids[0], "eligible", note=NOTE)
    bulk(client, call_id, [(ids[1], 1), (ids[2], 1)], "changes_requested", REASON)

    result = read(app, verify_chain)

    assert (result.ok, result.checked) == (True, 4)
