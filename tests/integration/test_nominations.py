"""Nominations through the real pages: start, the dynamic form (save draft, submit), the
reference, versions, e-mails, "My nominations", edit after submitting, withdraw, changes
requested, permissions, escaping; and (PostgreSQL) concurrent submissions.

Pages are in English (the users' language); the database is read in short app contexts of
its own, never the client's."""

from __future__ import annotations

import html
import io
import re
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from awards.audit import AuditEvent
from awards.auth.models import User
from awards.calls.models import Call
from awards.db import utcnow
from awards.enums import NominationStatus
from awards.mail import OutgoingMail
from awards.nominations.lifecycle import change_status
from awards.nominations.models import Nomination, ReferenceCounter, StatusChange
from tests.conftest import PASSWORD, login, post_form
from tests.factories import (
    PDF,
    arrange,
    english,
    make_call,
    make_nomination,
    png_bytes,
    read,
    save_draft,
    start_nomination,
    submit,
    valid_form,
)
from tests.pages import field_errors, text_of

XSS = "<script>alert(1)</script>"
XSS_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


# ---- fixtures and helpers -------------------------------------------------------------------


@pytest.fixture
def client(app):
    return english(app.test_client())


@pytest.fixture
def call_id(app):
    return arrange(app, lambda s: make_call(s).id)


@pytest.fixture
def applicant(make_user, login_as):
    user = make_user("aigerim@example.com", name="Aigerim Sadykova")
    login_as(user)
    return user


def flashes(response) -> list[tuple[str, str]]:
    return [(cat, html.unescape(msg)) for cat, msg in
            re.findall(r'<p class="flash flash-(\w+)">(.*?)</p>', text_of(response), re.S)]


def summary_links(response) -> list[tuple[str, str]]:
    match = re.search(r'<div class="error-summary".*?</div>', text_of(response), re.S)
    assert match, "no error summary"
    return [(href, html.unescape(label)) for href, label in
            re.findall(r'<li><a href="([^"]+)">(.*?)</a></li>', match.group(0))]


def input_value(response, name: str) -> str | None:
    match = re.search(rf'<input [^>]*name="{name}"[^>]*>', text_of(response))
    assert match, f"no input named {name}"
    value = re.search(r'value="([^"]*)"', match.group(0))
    return html.unescape(value.group(1)) if value else None


def form_names(response) -> list[str]:
    names = re.findall(r'name="((?:q|nominee)_\w+|organisation_name|personal_data_consent)"',
                       text_of(response))
    return list(dict.fromkeys(names))


def state(app, nomination_id: int = 1) -> dict:
    """What the database holds about a nomination, as plain values."""

    def _q(db):
        n = db.get(Nomination, nomination_id)
        return {
            "status": n.status.value,
            "reference": n.reference,
            "submitted": n.submitted_at is not None,
            "answers": {a.field.key: a.value for a in n.answers if a.value is not None},
            "attachments": [a.original_name for a in n.attachments],
            "versions": [v.number for v in n.versions],
            "changes": [((c.from_status.value if c.from_status else None), c.to_status.value,
                         c.reason) for c in n.status_changes],
            "nominee": (n.nominee_name, n.nominee_email, n.nominee_phone, n.organisation_name),
        }

    return read(app, _q)


def snapshots(app, nomination_id: int = 1) -> list[dict]:
    return read(app, lambda db: [v.snapshot for v in db.get(Nomination, nomination_id).versions])


def audit_actions(app) -> list[str]:
    return read(app, lambda db: list(db.scalars(select(AuditEvent.action)
                                               .order_by(AuditEvent.id))))


def audit_data(app, action: str) -> list[tuple]:
    return read(app, lambda db: [(e.object_id, e.before_data(), e.after_data()) for e in
                                 db.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                            .order_by(AuditEvent.id))])


def mails(app) -> list[tuple[str, str, str]]:
    return read(app, lambda db: [(m.to_address, m.kind, m.subject) for m in
                                 db.scalars(select(OutgoingMail).order_by(OutgoingMail.id))])


def counter(app, call_id: int) -> int | None:
    return read(app, lambda db: db.scalar(select(ReferenceCounter.last_number)
                                          .where(ReferenceCounter.call_id == call_id)))


def count_nominations(app) -> int:
    return read(app, lambda db: db.scalar(select(func.count(Nomination.id))))


def stored_files(app) -> list[Path]:
    return [p for p in Path(app.config["UPLOAD_FOLDER"]).rglob("*") if p.is_file()]


def set_call(app, call_id: int, **values) -> None:
    def _q(db):
        call = db.get(Call, call_id)
        for key, value in values.items():
            setattr(call, key, value)

    arrange(app, _q)


def call_time(value: datetime, zone: str = "Asia/Almaty") -> str:
    # The site's one style, without seconds; the zone is named once, in the footer.
    return format_datetime(value, "d MMMM y, HH:mm", tzinfo=ZoneInfo(zone), locale="en")


def submitted_nomination(client) -> int:
    nomination_id = start_nomination(client)
    response = submit(client, nomination_id, valid_form())
    assert response.status_code == 303, text_of(response)[:3000]
    return nomination_id


# ---- starting -------------------------------------------------------------------------------


def test_start_creates_draft_prefilled_from_profile(app, client, call_id, applicant):
    def _profile(db):
        db.get(User, applicant.id).phone = "+7 701 555 44 33"

    arrange(app, _profile)

    response = post_form(client, "/nominations/start/voy-2026",
                         {"category": "social", "nominator_kind": "self"})

    assert response.status_code == 303
    assert response.headers["Location"] == "/nominations/1/edit"
    page = client.get("/nominations/1/edit")
    assert input_value(page, "nominee_name") == "Aigerim Sadykova"
    assert input_value(page, "nominee_phone") == "+7 701 555 44 33"
    assert "You nominate yourself; your e-mail is aigerim@example.com." in text_of(page)
    assert state(app) == {
        "status": "draft", "reference": None, "submitted": False, "answers": {},
        "attachments": [], "versions": [], "changes": [],
        "nominee": ("Aigerim Sadykova", "aigerim@example.com", "+7 701 555 44 33", ""),
    }
    assert audit_data(app, "nomination.create") == [
        ("1", None, {"category": "social", "nominator_kind": "self"})]


def test_start_offers_only_kinds_the_call_allows(app, client, applicant):
    arrange(app, lambda s: make_call(s, allowed_nominator_kinds=["organisation"]))

    page = client.get("/nominations/start/voy-2026")
    refused = post_form(client, "/nominations/start/voy-2026",
                        {"category": "social", "nominator_kind": "self"})

    assert re.findall(r'name="nominator_kind" value="(\w+)" id="nominator_kind-\d+"( checked)?',
                      text_of(page)) == [("organisation", " checked")]
    assert refused.status_code == 400
    assert field_errors(refused) == {"nominator_kind": "Not a valid choice."}
    assert count_nominations(app) == 0


def test_start_preselects_category_from_call_page_link(client, call_id, applicant):
    page = text_of(client.get("/nominations/start/voy-2026?category=ecology"))

    assert re.findall(r'name="category" value="(\w+)" id="category-\d+"( checked)?', page) == [
        ("social", ""), ("ecology", " checked")]


@pytest.mark.parametrize(
    ("opens", "closes", "message"),
    [(timedelta(days=-30), timedelta(seconds=-1), "Nominations for this call closed at "),
     (timedelta(days=1), timedelta(days=30),
      "Nominations for this call are not being accepted now.")],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_start_refused_unless_call_open(app, client, applicant, opens, closes, message, method):
    now = utcnow()
    arrange(app, lambda s: make_call(s, opens_at=now + opens, closes_at=now + closes))

    if method == "get":
        response = client.get("/nominations/start/voy-2026")
    else:
        response = post_form(client, "/nominations/start/voy-2026",
                             {"category": "social", "nominator_kind": "self"}, csrf_url="/")

    assert response.status_code == 302
    assert response.headers["Location"] == "/calls/voy-2026"
    [(category, text)] = flashes(client.get("/calls/voy-2026"))
    assert (category, text.startswith(message)) == ("error", True)
    assert count_nominations(app) == 0


# ---- the form -------------------------------------------------------------------------------

SELF_SOCIAL = ["nominee_name", "nominee_phone", "q_title", "q_activity", "q_years",
               "q_started_on", "q_contact_email", "q_website", "q_contact_phone", "q_region",
               "q_topics", "q_documents", "q_photo", "q_truthful", "personal_data_consent"]


@pytest.mark.parametrize(
    ("category", "kind", "names"),
    [("social", "self", SELF_SOCIAL),
     ("social", "other", ["nominee_name", "nominee_email", *SELF_SOCIAL[1:]]),
     ("ecology", "organisation",
      ["organisation_name", "nominee_name", "nominee_email", *SELF_SOCIAL[1:13],
       "q_eco_area", "q_org_reg_number", "q_truthful", "personal_data_consent"])],
)
def test_form_built_from_fields_that_apply_to_category_and_kind(client, call_id, applicant,
                                                                 category, kind, names):
    nomination_id = start_nomination(client, category=category, kind=kind)

    page = client.get(f"/nominations/{nomination_id}/edit")

    assert page.status_code == 200
    assert form_names(page) == names


def test_form_inputs_match_field_types(client, call_id, applicant):
    page = text_of(client.get(f"/nominations/{start_nomination(client)}/edit"))

    inputs = dict(re.findall(r'<input [^>]*?name="(q_\w+)"[^>]*?type="(\w+)"', page))
    assert inputs == {"q_title": "text", "q_years": "number", "q_started_on": "date",
                      "q_contact_email": "email", "q_website": "url", "q_contact_phone": "tel",
                      "q_documents": "file", "q_photo": "file", "q_truthful": "checkbox"}
    assert re.findall(r'<input type="checkbox" name="q_topics" value="(\w+)"', page) == [
        "children", "elderly", "nature"]
    assert '<textarea id="q_activity" name="q_activity" required>' in page
    assert re.findall(r'<option value="(\w*)">(.*?)</option>', page) == [
        ("", "— choose —"), ("almaty", "Almaty"), ("astana", "Astana"),
        ("abroad", "Outside Kazakhstan")]
    assert 'max="80" min="0" name="q_years"' in page
    assert 'accept=".pdf,application/pdf"' in page
    assert "PDF; up to 2 KB each; at most 2 files." in page


def test_form_labels_and_help_in_page_language(app, make_user, login_as, call_id):
    client = app.test_client()
    user = make_user("ru@example.com", language="ru")
    login(client, user.email)
    nomination_id = start_nomination(client)

    page = text_of(client.get(f"/nominations/{nomination_id}/edit"))

    assert '<label class="label" for="q_title">Название проекта</label>' in page
    assert '<p class="hint" id="q_title-hint">Краткое название.</p>' in page
    assert '<option value="almaty">Алматы</option>' in page


def test_save_draft_keeps_what_is_typed_without_required_checks(app, client, call_id,
                                                                 applicant):
    nomination_id = start_nomination(client)

    response = save_draft(client, nomination_id, {"q_title": "Clean rivers", "q_years": "5"})

    assert response.status_code == 303
    assert response.headers["Location"] == f"/nominations/{nomination_id}/edit"
    page = client.get(response.headers["Location"])
    assert flashes(page) == [("success", "Your draft is saved.")]
    assert input_value(page, "q_title") == "Clean rivers"
    assert state(app)["answers"] == {"title": "Clean rivers", "years": 5}
    assert state(app)["status"] == "draft"
    assert audit_data(app, "nomination.save_draft") == [
        ("1", {"title": None, "years": None}, {"title": "Clean rivers", "years": 5})]


@pytest.mark.parametrize(
    ("name", "value", "message", "shown"),
    [("q_years", "abc", "Enter a number.", True),
     ("q_years", "81", "Enter a number of at most 80.", True),
     ("q_years", "-1", "Enter a number of at least 0.", True),
     ("q_started_on", "2026-02-31", "Enter a date, for example 2026-11-30.", True),
     ("q_contact_email", "not-an-email", "Enter a valid e-mail address.", True),
     ("q_website", "javascript:alert(1)",
      "Enter a web address starting with http:// or https://.", True),
     ("q_contact_phone", "call me", "Enter a phone number, for example +7 701 123 45 67.", True),
     ("q_title", "x" * 201, "Use at most 200 characters (now 201).", True),
     ("q_region", "moon", "Choose one of the options.", False),
     ("q_topics", ["nature", "war"], "Choose only from the options given.", False)],
)
def test_save_draft_type_errors_shown_typed_values_kept_valid_answers_saved(
        app, client, call_id, applicant, name, value, message, shown):
    nomination_id = start_nomination(client)

    response = save_draft(client, nomination_id, {name: value, "q_activity": "Valid text"})

    assert response.status_code == 400
    assert field_errors(response) == {name: message}
    if shown:
        assert input_value(response, name) == value
    assert state(app)["answers"] == {"activity": "Valid text"}
    assert audit_data(app, "nomination.save_draft") == [
        ("1", {"activity": None}, {"activity": "Valid text"})]


@pytest.mark.parametrize(
    ("name", "value", "key", "stored"),
    [("q_years", "2,5", "years", 2.5), ("q_years", " 7 ", "years", 7),
     ("q_started_on", "01.05.2020", "started_on", "2020-05-01"),
     ("q_contact_email", "Team@Example.org", "contact_email", "Team@example.org"),
     ("q_topics", ["nature", "children", "nature"], "topics", ["children", "nature"]),
     ("q_truthful", "y", "truthful", True)],
)
def test_save_draft_normalises_answers(app, client, call_id, applicant, name, value, key,
                                       stored):
    nomination_id = start_nomination(client)

    response = save_draft(client, nomination_id, {name: value})

    assert response.status_code == 303
    assert state(app)["answers"] == {key: stored}


def test_save_draft_clearing_an_answer_stores_it_empty(app, client, call_id, applicant):
    nomination_id = start_nomination(client)
    save_draft(client, nomination_id, {"q_title": "Clean rivers"})

    response = save_draft(client, nomination_id, {"q_title": ""})

    assert response.status_code == 303
    assert state(app)["answers"] == {}
    assert audit_data(app, "nomination.save_draft")[-1] == (
        "1", {"title": "Clean rivers"}, {"title": None})


def test_submit_missing_required_fields_listed_with_links(app, client, call_id, applicant):
    nomination_id = start_nomination(client)

    response = submit(client, nomination_id, {"q_contact_phone": "+7 727 000 00 00"})

    assert response.status_code == 400
    assert summary_links(response) == [
        ("#q_title", "Project title: This field is required."),
        ("#q_activity", "Description of the activity: This field is required."),
        ("#q_years", "Years of volunteering: This field is required."),
        ("#q_region", "Region: This field is required."),
        ("#q_documents", "Supporting documents: Please attach a file."),
        ("#q_truthful", "I confirm the information is accurate: Please tick this box to "
                        "continue."),
        ("#personal_data_consent", "I have read and accept the consent above: Please "
                                   "accept the consent to submit the nomination."),
    ]
    assert input_value(response, "q_contact_phone") == "+7 727 000 00 00"
    assert state(app)["status"] == "draft"
    assert state(app)["answers"] == {"contact_phone": "+7 727 000 00 00"}
    assert "nomination.submit" not in audit_actions(app)
    assert mails(app) == []


def test_submit_shows_call_consent_text_with_required_checkbox(client, call_id, applicant):
    page = text_of(client.get(f"/nominations/{start_nomination(client)}/edit"))

    assert ('<div class="consent-text">    <p>I agree that my personal data is processed to '
            'run the prize.</p>') in page
    assert '<input id="personal_data_consent" name="personal_data_consent" type="checkbox"' \
        in page


def test_submit_issues_reference_version_status_and_confirmation(app, client, call_id,
                                                                 applicant):
    nomination_id = start_nomination(client)

    response = submit(client, nomination_id, valid_form())

    assert response.status_code == 303
    assert response.headers["Location"] == "/nominations/1/submitted"
    page = text_of(client.get("/nominations/1/submitted"))
    assert "<p class=\"reference\">Your reference: <strong>VOY-2026-00001</strong></p>" in page
    assert "We have sent a confirmation with a summary to aigerim@example.com." in page
    assert "<dt>Project title</dt>\n    <dd>\nClean rivers    </dd>" in page
    assert '<a href="/nominations/1/attachments/1">report.pdf</a>' in page
    assert state(app) == {
        "status": "submitted", "reference": "VOY-2026-00001", "submitted": True,
        "answers": {"title": "Clean rivers", "activity": "We cleaned 12 rivers.\nWith 300 people.",
                    "years": 5, "started_on": "2020-05-01", "contact_email": "team@example.org",
                    "website": "https://rivers.example.org", "contact_phone": "+7 727 000 00 00",
                    "region": "almaty", "topics": ["children", "nature"], "documents": [1],
                    "truthful": True},
        "attachments": ["report.pdf"], "versions": [1],
        "changes": [("draft", "submitted", "")],
        "nominee": ("Aigerim Sadykova", "aigerim@example.com", "+7 701 123 45 67", ""),
    }
    [snapshot] = snapshots(app)
    assert snapshot["reference"] == "VOY-2026-00001"
    assert snapshot["version"] == 1
    assert snapshot["personal_data_consent"] is True
    assert snapshot["answers"] == state(app)["answers"]
    assert [(a["field"], a["original_name"], a["size"]) for a in snapshot["attachments"]] == [
        ("documents", "report.pdf", len(PDF))]
    assert counter(app, call_id) == 1
    assert audit_actions(app) == ["nomination.create", "attachment.upload",
                                  "nomination.save_draft", "nomination.submit"]
    assert audit_data(app, "nomination.submit") == [
        ("1", {"status": "draft"}, {"status": "submitted", "reason": ""})]


def test_submit_confirmation_mail_in_applicant_language_with_summary(app, client, call_id,
                                                                    applicant):
    submitted_nomination(client)

    [mail] = read(app, lambda db: list(db.scalars(select(OutgoingMail))))

    assert (mail.to_address, mail.kind, mail.language) == (
        "aigerim@example.com", "nomination_submitted", "en")
    assert mail.subject == "Nomination VOY-2026-00001 received"
    assert mail.body_text == (
        "Hello, Aigerim Sadykova!\n\n"
        "We have received your nomination. Thank you!\n\n"
        "Reference: VOY-2026-00001\n"
        "Call: Volunteer of the Year 2026\n"
        "Category: Social Helper\n"
        "Version: 1\n\n"
        "Summary of your nomination:\n"
        "- Nominee's full name: Aigerim Sadykova\n"
        "- Nominee's phone: +7 701 123 45 67\n"
        "- Nominee's e-mail: aigerim@example.com\n"
        "- Project title: Clean rivers\n"
        "- Description of the activity: We cleaned 12 rivers.\n  With 300 people.\n"
        "- Years of volunteering: 5\n"
        "- Started on: 1 May 2020\n"
        "- Contact e-mail: team@example.org\n"
        "- Website: https://rivers.example.org\n"
        "- Contact phone: +7 727 000 00 00\n"
        "- Region: Almaty\n"
        "- Topics: Children, Nature\n"
        "- Supporting documents: report.pdf\n"
        "- Photo: —\n"
        "- I confirm the information is accurate: Yes\n\n"
        "You can follow its status, edit it until the deadline or withdraw it here:\n"
        "http://localhost/nominations/1"
    )


@pytest.mark.parametrize("language", ["ru", "kk"])
def test_submit_mail_queued_in_applicant_preferred_language(app, make_user, call_id, language):
    client = app.test_client()
    login(client, make_user("kz@example.com", language=language).email)
    submitted_nomination(client)

    [mail] = read(app, lambda db: list(db.scalars(select(OutgoingMail))))

    with app.test_request_context(), force_locale(language):
        subject = gettext("Nomination %(ref)s received", ref="VOY-2026-00001")
    assert (mail.language, mail.subject) == (language, subject)


def test_references_sequential_per_call_and_unique(app, client, call_id, applicant,
                                                   make_user):
    arrange(app, lambda s: make_call(s, slug="abai-2027", reference_prefix="ABAI", year=2027))
    first = submitted_nomination(client)
    other = app.test_client()
    login(other, make_user("second@example.com").email)
    second = start_nomination(other)
    submit(other, second, valid_form())
    third = start_nomination(client, slug="abai-2027")
    submit(client, third, valid_form())

    references = read(app, lambda db: [db.get(Nomination, i).reference
                                       for i in (first, second, third)])

    assert references == ["VOY-2026-00001", "VOY-2026-00002", "ABAI-2027-00001"]
    assert counter(app, call_id) == 2


def test_draft_has_no_reference_so_drafts_use_no_numbers(app, client, call_id, applicant):
    start_nomination(client)
    second = start_nomination(client)
    submit(client, second, valid_form())

    assert read(app, lambda db: [n.reference for n in db.scalars(
        select(Nomination).order_by(Nomination.id))]) == [None, "VOY-2026-00001"]


def test_double_submit_yields_one_submission(app, client, call_id, applicant):
    nomination_id = start_nomination(client)
    first = submit(client, nomination_id, valid_form())

    second = submit(client, nomination_id, valid_form(q_title="Changed in the other tab"))

    assert first.status_code == second.status_code == 303
    assert second.headers["Location"] == "/nominations/1"
    assert flashes(client.get("/nominations/1")) == [
        ("info", "This nomination has already been submitted (reference VOY-2026-00001).")]
    current = state(app)
    assert (current["reference"], current["versions"], current["attachments"]) == (
        "VOY-2026-00001", [1], ["report.pdf"])
    assert current["answers"]["title"] == "Clean rivers"
    assert current["changes"] == [("draft", "submitted", "")]
    assert audit_actions(app).count("nomination.submit") == 1
    assert counter(app, call_id) == 1
    assert [kind for _to, kind, _s in mails(app)] == ["nomination_submitted"]


@pytest.mark.parametrize("action", ["submit", "save"])
def test_submit_one_second_after_deadline_refused_draft_intact(app, client, call_id, applicant,
                                                              action):
    nomination_id = start_nomination(client)
    save_draft(client, nomination_id, {"q_title": "Draft title"})
    before = (state(app), audit_actions(app))
    closes = utcnow().replace(microsecond=0) - timedelta(seconds=1)
    set_call(app, call_id, closes_at=closes)

    post = submit if action == "submit" else save_draft
    response = post(client, nomination_id, valid_form(q_title="Late change"))

    assert response.status_code == 409
    assert re.search(r'<div class="error-summary" role="alert" tabindex="-1"><p>(.*?)</p>',
                     text_of(response)).group(1) == html.escape(
        f"The deadline passed at {call_time(closes)}. The nomination can no longer be "
        "submitted or changed; your draft is kept as it was.", quote=True)
    assert "Save draft</button>" not in text_of(response)
    assert (state(app), audit_actions(app)) == before
    assert counter(app, call_id) is None
    assert mails(app) == []
    assert stored_files(app) == []


def test_draft_after_deadline_shows_deadline_and_no_edit(app, client, call_id, applicant):
    nomination_id = start_nomination(client)
    closes = utcnow().replace(microsecond=0) - timedelta(seconds=1)
    set_call(app, call_id, closes_at=closes)

    edit = client.get(f"/nominations/{nomination_id}/edit")
    page = client.get(f"/nominations/{nomination_id}")

    assert edit.status_code == 302
    assert edit.headers["Location"] == f"/nominations/{nomination_id}"
    assert (f"The deadline passed at {call_time(closes)}. This draft was not submitted and can "
            "no longer be.") in html.unescape(text_of(page))
    assert f'href="/nominations/{nomination_id}/edit"' not in text_of(page)


# ---- after submitting: edit, withdraw, changes requested ------------------------------------


def test_edit_after_submit_creates_version_2_and_audit(app, client, call_id, applicant):
    nomination_id = submitted_nomination(client)

    response = save_draft(client, nomination_id,
                          valid_form(q_activity="Now 15 rivers.", q_documents=None))

    assert response.status_code == 303
    assert response.headers["Location"] == "/nominations/1"
    page = client.get("/nominations/1")
    assert flashes(page) == [
        ("success", "Your changes are saved (version 2). The nomination stays submitted.")]
    assert "Changes saved (version 2)" in text_of(page)
    current = state(app)
    assert (current["status"], current["reference"], current["versions"]) == (
        "submitted", "VOY-2026-00001", [1, 2])
    assert current["changes"] == [("draft", "submitted", "")]
    first, second = snapshots(app)
    assert first["answers"]["activity"] == "We cleaned 12 rivers.\nWith 300 people."
    assert second["answers"]["activity"] == "Now 15 rivers."
    assert audit_data(app, "nomination.edit") == [
        ("1", {"activity": "We cleaned 12 rivers.\nWith 300 people."},
         {"activity": "Now 15 rivers."})]


def test_edit_after_submit_without_changes_makes_no_version(app, client, call_id, applicant):
    nomination_id = submitted_nomination(client)

    response = save_draft(client, nomination_id, valid_form(q_documents=None))

    assert response.status_code == 303
    assert flashes(client.get("/nominations/1")) == [("info", "Nothing was changed.")]
    assert state(app)["versions"] == [1]
    assert "nomination.edit" not in audit_actions(app)


def test_edit_after_submit_with_errors_changes_nothing(app, client, call_id, applicant):
    nomination_id = submitted_nomination(client)
    before = (state(app), audit_actions(app))

    response = save_draft(client, nomination_id, valid_form(
        q_title="", q_activity="Changed", q_documents=None,
        q_photo=(io.BytesIO(png_bytes()), "team.png")))

    assert response.status_code == 400
    assert field_errors(response) == {"q_title": "This field is required."}
    assert (state(app), audit_actions(app)) == before
    assert len(stored_files(app)) == 1


def test_edit_submitted_after_deadline_refused(app, client, call_id, applicant):
    nomination_id = submitted_nomination(client)
    set_call(app, call_id, closes_at=utcnow() - timedelta(seconds=1))
    before = state(app)

    edit = client.get(f"/nominations/{nomination_id}/edit")
    post = save_draft(client, nomination_id, valid_form(q_title="Late", q_documents=None))

    assert edit.status_code == 302
    assert post.status_code == 409
    assert state(app) == before


def test_withdraw_asks_for_confirmation_then_withdraws(app, client, call_id, applicant):
    nomination_id = submitted_nomination(client)

    confirm = client.get(f"/nominations/{nomination_id}/withdraw")
    response = post_form(client, f"/nominations/{nomination_id}/withdraw",
                         {"reason": "Found a mistake"})

    assert confirm.status_code == 200
    assert ("Do you really want to withdraw VOY-2026-00001 (Volunteer of the Year 2026, "
            "Social Helper)?") in html.unescape(text_of(confirm))
    assert response.status_code == 303
    assert response.headers["Location"] == "/nominations/1"
    page = client.get("/nominations/1")
    assert flashes(page) == [("success", "The nomination is withdrawn.")]
    assert '<span class="badge bad">Withdrawn</span>' in text_of(page)
    assert '<p class="reason multiline">Found a mistake</p>' in text_of(page)
    assert 'href="/nominations/1/edit"' not in text_of(page)
    assert 'href="/nominations/1/withdraw"' not in text_of(page)
    assert state(app)["status"] == "withdrawn"
    assert state(app)["changes"] == [("draft", "submitted", ""),
                                     ("submitted", "withdrawn", "Found a mistake")]
    assert read(app, lambda db: db.get(Nomination, 1).withdrawn_at is not None) is True
    assert audit_data(app, "nomination.withdraw") == [
        ("1", {"status": "submitted"}, {"status": "withdrawn", "reason": "Found a mistake"})]
    assert mails(app)[-1] == ("aigerim@example.com", "nomination_withdrawn",
                              "Nomination VOY-2026-00001 withdrawn")


@pytest.mark.parametrize(("method", "path"), [("get", "edit"), ("post", "edit"),
                                              ("post", "submit"), ("get", "withdraw")])
def test_withdrawn_nomination_cannot_be_changed(app, client, call_id, applicant, method, path):
    nomination_id = submitted_nomination(client)
    post_form(client, f"/nominations/{nomination_id}/withdraw", {"reason": ""})
    client.get(f"/nominations/{nomination_id}")  # shows (and so clears) the success message
    before = state(app)

    if method == "get":
        response = client.get(f"/nominations/{nomination_id}/{path}")
    else:
        response = post_form(client, f"/nominations/{nomination_id}/{path}",
                             valid_form(q_documents=None), csrf_url="/")

    message = "This nomination was withdrawn and can no longer be changed."
    if method == "get":
        assert response.status_code in (302, 303)
        assert response.headers["Location"] == f"/nominations/{nomination_id}"
        assert flashes(client.get(response.headers["Location"])) == [("error", message)]
    else:
        # A refused save is answered as refused, on the nomination's page.
        assert response.status_code == 409
        assert message in html.unescape(response.get_data(as_text=True))
    assert state(app) == before


def test_withdraw_draft_without_mail(app, client, call_id, applicant):
    nomination_id = start_nomination(client)

    post_form(client, f"/nominations/{nomination_id}/withdraw", {"reason": ""})

    assert state(app)["changes"] == [("draft", "withdrawn", "")]
    assert mails(app) == []


def request_changes(app, nomination_id: int, reason: str, *, visible: bool = True) -> None:
    def _q(db):
        change_status(session=db, nomination=db.get(Nomination, nomination_id),
                      to_status=NominationStatus.CHANGES_REQUESTED, actor=None, reason=reason,
                      visible_to_applicant=visible)

    arrange(app, _q)


def test_changes_requested_resubmitted_after_deadline(app, client, call_id, applicant):
    nomination_id = submitted_nomination(client)
    request_changes(app, nomination_id, "Please add a photo of the team.")
    set_call(app, call_id, closes_at=utcnow() - timedelta(days=1))

    page = text_of(client.get("/nominations/1"))
    edit = text_of(client.get("/nominations/1/edit"))
    response = submit(client, nomination_id, valid_form(
        q_documents=None, q_photo=(io.BytesIO(png_bytes()), "team.png")))

    assert '<p class="multiline">Please add a photo of the team.</p>' in page
    assert "Correct and resubmit" in page
    assert '<p class="multiline">Please add a photo of the team.</p>' in edit
    assert "Resubmit</button>" in edit
    assert response.status_code == 303
    assert response.headers["Location"] == "/nominations/1/submitted"
    current = state(app)
    assert (current["status"], current["reference"], current["versions"]) == (
        "submitted", "VOY-2026-00001", [1, 2])
    assert current["attachments"] == ["report.pdf", "team.png"]
    assert [to for _f, to, _r in current["changes"]] == [
        "submitted", "changes_requested", "submitted"]
    assert audit_data(app, "nomination.resubmit") == [
        ("1", {"status": "changes_requested"}, {"status": "submitted", "reason": ""})]
    assert counter(app, call_id) == 1
    assert mails(app)[-1] == ("aigerim@example.com", "nomination_submitted",
                              "Nomination VOY-2026-00001 resubmitted")


def test_changes_requested_draft_save_after_deadline_keeps_status(app, client, call_id,
                                                                  applicant):
    nomination_id = submitted_nomination(client)
    request_changes(app, nomination_id, "Shorten the title.")
    set_call(app, call_id, closes_at=utcnow() - timedelta(days=1))

    response = save_draft(client, nomination_id, valid_form(q_title="Rivers", q_documents=None))

    assert response.status_code == 303
    assert state(app)["status"] == "changes_requested"
    assert state(app)["answers"]["title"] == "Rivers"
    assert audit_data(app, "nomination.edit") == [("1", {"title": "Clean rivers"},
                                                   {"title": "Rivers"})]


# ---- My nominations and the detail page ------------------------------------------------------


def test_my_nominations_lists_own_with_call_category_reference_status(app, client, call_id,
                                                                      applicant, make_user):
    submitted_nomination(client)
    start_nomination(client, category="ecology")
    other = app.test_client()
    login(other, make_user("other@example.com").email)
    start_nomination(other)

    page = text_of(client.get("/nominations/"))

    # One row per nomination (a card on a phone: each value in a labelled cell).
    cell = r'\s*<td[^>]*>(?:<span class="cell-value">)?(.*?)(?:</span>)?</td>'
    rows = re.findall(r'<tr>\s*<td[^>]*><a href="/nominations/(\d+)">(.*?)</a></td>'
                      + cell + cell + r'\s*<td[^>]*>.*?</td>\s*<td[^>]*><span class="badge[^"]*">'
                      r'(.*?)</span>', page, re.S)
    assert rows == [
        ("2", "Draft #2", "Volunteer of the Year 2026", "Environmental Volunteering", "Draft"),
        ("1", "VOY-2026-00001", "Volunteer of the Year 2026", "Social Helper", "Submitted"),
    ]


def test_detail_timeline_shows_visible_changes_with_reasons_in_almaty_time(app, client,
                                                                           call_id, applicant):
    created = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)

    def build(db):
        call = db.get(Call, call_id)
        n = make_nomination(db, call=call, applicant_id=applicant.id,
                            status=NominationStatus.CHANGES_REQUESTED, reference="VOY-2026-00007",
                            created_at=created, submitted_at=created + timedelta(hours=1))
        n.status_changes = [
            StatusChange(from_status=NominationStatus.DRAFT, to_status=NominationStatus.SUBMITTED,
                         created_at=created + timedelta(hours=1)),
            StatusChange(from_status=NominationStatus.SUBMITTED,
                         to_status=NominationStatus.CHANGES_REQUESTED, reason="internal note",
                         visible_to_applicant=False, created_at=created + timedelta(days=11)),
            StatusChange(from_status=NominationStatus.SUBMITTED,
                         to_status=NominationStatus.CHANGES_REQUESTED, reason="Add a photo",
                         created_at=created + timedelta(days=11, hours=1)),
        ]

    arrange(app, build)

    page = text_of(client.get("/nominations/1"))

    entries = re.findall(r'<li>\s*<time datetime="[^"]+">(.*?)</time>\s*<span class="event">\s*'
                         r'(.*?)\s*</span>\s*(?:<p class="reason multiline">(.*?)</p>)?', page)
    assert entries == [
        ("20 November 2026, 09:00", "Draft created", ""),
        ("20 November 2026, 10:00", "Submitted", ""),
        ("1 December 2026, 10:00", "Changes requested", "Add a photo"),
    ]
    assert "internal note" not in page


# ---- permissions and bad input ---------------------------------------------------------------

ROUTES = [
    ("get", "/nominations/{id}"), ("get", "/nominations/{id}/edit"),
    ("post", "/nominations/{id}/edit"), ("post", "/nominations/{id}/submit"),
    ("get", "/nominations/{id}/withdraw"), ("post", "/nominations/{id}/withdraw"),
    ("get", "/nominations/{id}/submitted"), ("get", "/nominations/{id}/attachments/{att}"),
]


def _request(client, method: str, path: str):
    if method == "get":
        return client.get(path)
    return post_form(client, path, valid_form(q_title="Intruder"), csrf_url="/")


def _without_tokens(text: str) -> str:
    """The page minus what differs on every render: CSRF tokens and the language switch's
    return address."""
    text = re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', "csrf", text)
    return re.sub(r'name="next" value="[^"]*"', "next", text)


@pytest.mark.parametrize(("method", "route"), ROUTES)
def test_someone_elses_nomination_is_404_like_a_missing_one(app, client, call_id, applicant,
                                                            make_user, method, route):
    nomination_id = submitted_nomination(client)
    before = (state(app), audit_actions(app))
    intruder = english(app.test_client())
    login(intruder, make_user("intruder@example.com").email)

    theirs = _request(intruder, method, route.format(id=nomination_id, att=1))
    missing = _request(intruder, method, route.format(id=999, att=999))

    assert theirs.status_code == missing.status_code == 404
    assert _without_tokens(text_of(theirs)) == _without_tokens(text_of(missing))
    assert (state(app), audit_actions(app)) == before


@pytest.mark.parametrize(("method", "route"), [
    *ROUTES, ("get", "/nominations/"), ("get", "/nominations/start/voy-2026"),
    ("post", "/nominations/start/voy-2026")])
def test_anonymous_visitor_is_sent_to_log_in(app, client, call_id, method, route):
    response = (client.get(route.format(id=1, att=1)) if method == "get" else
                client.post(route.format(id=1, att=1), data={"q_title": "x"}))

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/login")
    assert count_nominations(app) == 0


@pytest.mark.parametrize(("method", "route"), [
    ("get", "/nominations/start/voy-2026"), ("post", "/nominations/start/voy-2026"),
    ("get", "/nominations/1/edit"), ("post", "/nominations/1/submit")])
def test_unverified_user_is_redirected_with_message(app, client, call_id, make_user, method,
                                                    route):
    user = make_user("new@example.com", verified=False)
    arrange(app, lambda db: make_nomination(db, call=db.get(Call, call_id),
                                            applicant_id=user.id))
    login(client, user.email)
    client.get("/account/profile")  # shows (and so clears) the reminder given at login

    response = (client.get(route) if method == "get" else
                post_form(client, route, {"category": "social", "nominator_kind": "self"},
                          csrf_url="/"))

    assert response.status_code == 302
    assert response.headers["Location"] == "/account/profile"
    assert flashes(client.get("/account/profile")) == [
        ("warning", "Please confirm your e-mail address first: follow the link we sent you.")]
    assert count_nominations(app) == 1


@pytest.mark.parametrize("route", ["edit", "submit"])
def test_post_without_valid_csrf_token_saves_nothing(app, client, call_id, applicant, route):
    nomination_id = start_nomination(client)

    response = client.post(f"/nominations/{nomination_id}/{route}",
                           data={**valid_form(), "csrf_token": "forged"})

    assert response.status_code == 400
    assert "The form expired. Please submit it again." in text_of(response)
    assert state(app)["answers"] == {}
    assert audit_actions(app) == ["nomination.create"]


def test_script_in_answers_is_shown_escaped_everywhere(app, client, call_id, applicant):
    nomination_id = start_nomination(client)
    rejected = save_draft(client, nomination_id, {"q_title": XSS, "nominee_name": XSS,
                                                  "q_activity": XSS, "q_years": "abc"})
    submit(client, nomination_id, valid_form(q_title=XSS, nominee_name=XSS, q_activity=XSS))

    pages = {
        "rejected form": text_of(rejected),
        "detail": text_of(client.get("/nominations/1")),
        "confirmation": text_of(client.get("/nominations/1/submitted")),
        "list": text_of(client.get("/nominations/")),
        "edit": text_of(client.get("/nominations/1/edit")),
    }

    assert rejected.status_code == 400
    seen = {name: (XSS in page, XSS_ESCAPED in page) for name, page in pages.items()}
    assert seen == dict.fromkeys(pages, (False, True))
    assert state(app)["answers"]["title"] == XSS


# ---- concurrency (PostgreSQL: real row locks between connections) ----------------------------


def _logged_in_clients(app, emails):
    clients = []
    for email in emails:
        c = app.test_client()
        login(c, email, PASSWORD)
        clients.append(c)
    return clients


def _run_together(calls):
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, fn):
        barrier.wait()
        results[i] = fn()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def _prepared_submit(client, nomination_id):
    """The CSRF token is read before the race so that both posts start at once."""
    from tests.conftest import get_csrf

    token = get_csrf(client, "/")
    return lambda: client.post(f"/nominations/{nomination_id}/submit",
                               data={**valid_form(), "csrf_token": token})


@pytest.mark.postgres_only
def test_concurrent_submits_of_two_nominations_get_distinct_references(app, call_id,
                                                                       make_user):
    make_user("one@example.com")
    make_user("two@example.com")
    one, two = _logged_in_clients(app, ["one@example.com", "two@example.com"])
    ids = [start_nomination(one), start_nomination(two)]

    responses = _run_together([_prepared_submit(one, ids[0]), _prepared_submit(two, ids[1])])

    assert [r.status_code for r in responses] == [303, 303]
    references = read(app, lambda db: sorted(db.get(Nomination, i).reference for i in ids))
    assert references == ["VOY-2026-00001", "VOY-2026-00002"]
    assert counter(app, call_id) == 2


@pytest.mark.postgres_only
def test_concurrent_submits_of_one_nomination_yield_one_submission(app, call_id, make_user):
    make_user("one@example.com")
    first, second = _logged_in_clients(app, ["one@example.com", "one@example.com"])
    nomination_id = start_nomination(first)

    responses = _run_together([_prepared_submit(first, nomination_id),
                               _prepared_submit(second, nomination_id)])

    assert sorted(r.headers["Location"] for r in responses) == [
        f"/nominations/{nomination_id}", f"/nominations/{nomination_id}/submitted"]
    current = state(app, nomination_id)
    assert (current["reference"], current["versions"], current["attachments"]) == (
        "VOY-2026-00001", [1], ["report.pdf"])
    assert audit_actions(app).count("nomination.submit") == 1
    assert counter(app, call_id) == 1
    assert len(mails(app)) == 1
