"""Nominating someone else: the nominee details each kind of nominator must give, the consent
e-mail with its one-off link (only the token's hash is stored), the nominee's answer without
logging in, and what the applicant sees."""

from __future__ import annotations

import hashlib
import html
import re
import secrets

import pytest
from sqlalchemy import select

from awards.audit import AuditEvent
from awards.calls.models import Call
from awards.mail import OutgoingMail
from awards.nominations.models import Nomination
from tests.conftest import get_csrf, post_form
from tests.factories import (
    arrange,
    english,
    make_call,
    read,
    save_draft,
    start_nomination,
    submit,
    valid_form,
)
from tests.pages import field_errors, text_of

NOMINEE = {"nominee_name": "Dana Nurlanova", "nominee_email": "dana@example.org",
           "nominee_phone": "+7 702 222 33 44"}


@pytest.fixture
def client(app):
    return english(app.test_client())


@pytest.fixture
def nominee_client(app):
    """The nominee's own browser: never logged in."""
    return english(app.test_client())


@pytest.fixture
def call_id(app):
    return arrange(app, lambda s: make_call(s, requires_nominee_consent=True).id)


@pytest.fixture
def applicant(make_user, login_as):
    user = make_user("aigerim@example.com", name="Aigerim Sadykova")
    login_as(user)
    return user


def flashes(response) -> list[tuple[str, str]]:
    return [(cat, html.unescape(msg)) for cat, msg in
            re.findall(r'<p class="flash flash-(\w+)">(.*?)</p>', text_of(response), re.S)]


def outbox_rows(app) -> list[OutgoingMail]:
    def _q(db):
        rows = list(db.scalars(select(OutgoingMail).order_by(OutgoingMail.id)))
        db.expunge_all()
        return rows

    return read(app, _q)


def consent_state(app, nomination_id: int = 1) -> dict:
    def _q(db):
        n = db.get(Nomination, nomination_id)
        return {"required": n.nominee_consent_required,
                "token_hash": n.nominee_consent_token_hash,
                "consent": n.nominee_consent_at is not None,
                "declined": n.nominee_declined_at is not None}

    return read(app, _q)


def audit_rows(app, action: str) -> list[tuple]:
    return read(app, lambda db: [(e.actor_id, e.actor_label, e.before_data(), e.after_data())
                                 for e in db.scalars(select(AuditEvent)
                                                     .where(AuditEvent.action == action))])


def link_path(mail: OutgoingMail) -> str:
    links = re.findall(r"http://localhost(/\S+)", mail.body_text)
    assert len(links) == 1, mail.body_text
    return links[0]


def nominate_dana(client) -> tuple[int, str]:
    """Submit a nomination of Dana; returns its id and the consent link's path."""
    nomination_id = start_nomination(client, kind="other")
    response = submit(client, nomination_id, valid_form(**NOMINEE))
    assert response.status_code == 303, text_of(response)[:3000]
    return nomination_id, consent_link(client.application)


def consent_link(app) -> str:
    [mail] = [m for m in outbox_rows(app) if m.kind == "nomination_consent_request"][-1:]
    return link_path(mail)


def answer(nominee_client, path: str, decision: str):
    return post_form(nominee_client, path, {"decision": decision})


# ---- nominee details --------------------------------------------------------------------------


def test_other_person_needs_name_email_and_phone(app, client, call_id, applicant):
    nomination_id = start_nomination(client, kind="other")

    response = submit(client, nomination_id, valid_form(nominee_name="", nominee_phone=""))

    assert response.status_code == 400
    assert {k: v for k, v in field_errors(response).items() if k.startswith("nominee")} == {
        "nominee_name": "This field is required.", "nominee_email": "This field is required.",
        "nominee_phone": "This field is required."}
    assert read(app, lambda db: db.get(Nomination, 1).status.value) == "draft"


@pytest.mark.parametrize("nominee_email", ["not-an-address", "dana@"])
def test_other_person_email_checked_on_save(app, client, call_id, applicant, nominee_email):
    nomination_id = start_nomination(client, kind="other")

    response = save_draft(client, nomination_id, {**NOMINEE, "nominee_email": nominee_email})

    assert response.status_code == 400
    assert field_errors(response) == {"nominee_email": "Enter a valid e-mail address."}
    assert read(app, lambda db: (db.get(Nomination, 1).nominee_name,
                                 db.get(Nomination, 1).nominee_email)) == ("Dana Nurlanova", "")


@pytest.mark.parametrize(("requires_consent", "expected"), [
    (True, {"organisation_name": "This field is required.",
            "nominee_name": "This field is required.",
            "nominee_email": "This field is required.",
            "q_org_reg_number": "This field is required."}),
    (False, {"organisation_name": "This field is required.",
             "nominee_name": "This field is required.",
             "q_org_reg_number": "This field is required."}),
])
def test_organisation_needs_its_name_and_the_nominee(app, client, applicant, requires_consent,
                                                     expected):
    arrange(app, lambda s: make_call(s, requires_nominee_consent=requires_consent))
    nomination_id = start_nomination(client, kind="organisation")

    response = submit(client, nomination_id, valid_form(nominee_name=""))

    assert response.status_code == 400
    assert field_errors(response) == expected


def test_organisation_nomination_prefills_organisation_from_profile(app, client, call_id,
                                                                    applicant):
    from awards.auth.models import User

    arrange(app, lambda db: setattr(db.get(User, applicant.id), "organisation", "Eco Union"))

    nomination_id = start_nomination(client, kind="organisation")

    page = text_of(client.get(f"/nominations/{nomination_id}/edit"))
    assert re.search(r'<input [^>]*name="organisation_name"[^>]*value="Eco Union"', page)


# ---- the consent request ----------------------------------------------------------------------


def test_submit_for_other_person_mails_nominee_a_consent_link(app, client, call_id, applicant):
    nominate_dana(client)

    mails = outbox_rows(app)

    assert [(m.to_address, m.kind, m.language) for m in mails] == [
        ("aigerim@example.com", "nomination_submitted", "en"),
        ("dana@example.org", "nomination_consent_request", "en")]
    request = mails[1]
    assert request.subject == "You have been nominated for Volunteer of the Year 2026"
    assert request.body_text == (
        "Hello, Dana Nurlanova!\n\n"
        "Aigerim Sadykova has nominated you for “Volunteer of the Year 2026”, in the category "
        "“Social Helper”.\n\n"
        "Please tell us whether you agree to be nominated. Open this link to confirm or "
        "decline:\n"
        f"http://localhost{link_path(request)}\n\n"
        "If you did not expect this message, you can decline or simply ignore it."
    )
    token = link_path(request).rsplit("/", 1)[1]
    assert len(token) >= 40
    assert consent_state(app) == {"required": True,
                                  "token_hash": hashlib.sha256(token.encode()).hexdigest(),
                                  "consent": False, "declined": False}
    assert [row[3] for row in audit_rows(app, "nomination.consent_request")] == [
        {"nominee_email": "dana@example.org"}]


def test_applicant_sees_that_consent_is_awaited(app, client, call_id, applicant):
    nominate_dana(client)

    detail = html.unescape(text_of(client.get("/nominations/1")))
    listing = html.unescape(text_of(client.get("/nominations/")))
    confirmation = html.unescape(text_of(client.get("/nominations/1/submitted")))

    assert ("Waiting for the nominee's consent: we have e-mailed dana@example.org a link to "
            "confirm the nomination.") in detail
    assert '<span class="badge warn">waiting for the nominee\'s consent</span>' in listing
    assert ("We have asked the nominee (dana@example.org) by e-mail to confirm the nomination. "
            "The nomination is screened once they confirm.") in confirmation


def test_consent_page_shows_the_nomination_without_logging_in(app, client, nominee_client,
                                                             call_id, applicant):
    _id, path = nominate_dana(client)

    page = nominee_client.get(path)

    assert page.status_code == 200
    facts = re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", text_of(page), re.S)
    assert [(k, html.unescape(" ".join(v.split()))) for k, v in facts] == [
        ("Prize", "Volunteer of the Year 2026"), ("Category", "Social Helper"),
        ("Nominee", "Dana Nurlanova"), ("Nominated by", "Aigerim Sadykova"),
        ("Reference", "VOY-2026-00001")]
    assert "<p>I agree that my personal data is processed to run the prize.</p>" in text_of(page)
    assert re.findall(r'name="decision" value="(\w+)"', text_of(page)) == ["accept", "decline"]
    assert '<meta name="robots" content="noindex">' in text_of(page)


@pytest.mark.parametrize(
    ("decision", "flash", "action", "subject", "notice", "timeline"),
    [("accept", "Thank you: you have confirmed the nomination.", "nomination.nominee_consent",
      "The nominee confirmed nomination VOY-2026-00001",
      "The nominee confirmed the nomination on ", "The nominee confirmed the nomination"),
     ("decline", "You have declined the nomination. The applicant will be told.",
      "nomination.nominee_decline", "The nominee declined nomination VOY-2026-00001",
      "The nominee declined the nomination on ", "The nominee declined the nomination")],
)
def test_nominee_answer_recorded_audited_and_shown_to_applicant(
        app, client, nominee_client, call_id, applicant, decision, flash, action, subject,
        notice, timeline):
    _id, path = nominate_dana(client)

    response = answer(nominee_client, path, decision)

    assert response.status_code == 303
    assert response.headers["Location"] == path
    assert flashes(nominee_client.get(path)) == [("success", flash)]
    assert consent_state(app)["consent"] is (decision == "accept")
    assert consent_state(app)["declined"] is (decision == "decline")
    [(actor_id, actor_label, _before, after)] = audit_rows(app, action)
    assert (actor_id, actor_label) == (None, "dana@example.org")
    assert (after["consent_at"] is not None, after["declined_at"] is not None) == (
        decision == "accept", decision == "decline")
    last = outbox_rows(app)[-1]
    assert (last.to_address, last.kind, last.subject) == (
        "aigerim@example.com", "nomination_consent_result", subject)
    detail = html.unescape(text_of(client.get("/nominations/1")))
    assert notice in detail
    assert re.findall(r'<span class="event">\s*(.*?)\s*</span>', detail) == [
        "Draft created", "Submitted", timeline]
    assert "Waiting for the nominee's consent" not in detail


def test_nominee_can_change_their_answer(app, client, nominee_client, call_id, applicant):
    _id, path = nominate_dana(client)

    answer(nominee_client, path, "accept")
    answer(nominee_client, path, "decline")

    assert consent_state(app)["consent"] is False
    assert consent_state(app)["declined"] is True
    assert len(audit_rows(app, "nomination.nominee_consent")) == 1
    assert len(audit_rows(app, "nomination.nominee_decline")) == 1


def test_same_answer_twice_recorded_once(app, client, nominee_client, call_id, applicant):
    _id, path = nominate_dana(client)

    answer(nominee_client, path, "accept")
    answer(nominee_client, path, "accept")

    assert len(audit_rows(app, "nomination.nominee_consent")) == 1
    assert [m.kind for m in outbox_rows(app)].count("nomination_consent_result") == 1


@pytest.mark.parametrize("forge", ["random", "altered", "the stored hash"])
def test_forged_consent_token_is_404(app, client, nominee_client, call_id, applicant, forge):
    _id, path = nominate_dana(client)
    token = path.rsplit("/", 1)[1]
    forged = {
        "random": secrets.token_urlsafe(32),
        "altered": token[:-1] + ("A" if token[-1] != "A" else "B"),
        "the stored hash": consent_state(app)["token_hash"],
    }[forge]
    before = consent_state(app)

    shown = nominee_client.get(f"/nominations/consent/{forged}")
    posted = nominee_client.post(f"/nominations/consent/{forged}",
                                 data={"decision": "accept",
                                       "csrf_token": get_csrf(nominee_client, "/")})

    assert (shown.status_code, posted.status_code) == (404, 404)
    assert consent_state(app) == before
    assert audit_rows(app, "nomination.nominee_consent") == []


def test_consent_answer_needs_csrf_token(app, client, nominee_client, call_id, applicant):
    _id, path = nominate_dana(client)

    response = nominee_client.post(path, data={"decision": "accept", "csrf_token": "forged"})

    assert response.status_code == 400
    assert consent_state(app)["consent"] is False


def test_withdrawn_nomination_no_longer_takes_an_answer(app, client, nominee_client, call_id,
                                                        applicant):
    nomination_id, path = nominate_dana(client)
    post_form(client, f"/nominations/{nomination_id}/withdraw", {"reason": ""})

    page = nominee_client.get(path)
    refused = answer(nominee_client, path, "accept")

    assert "This nomination is no longer open for an answer." in text_of(page)
    assert "name=\"decision\"" not in text_of(page)
    assert refused.status_code == 409
    assert consent_state(app)["consent"] is False


# ---- when consent is asked --------------------------------------------------------------------


@pytest.mark.parametrize(("at_creation", "later"), [(True, False), (False, True)])
def test_consent_requirement_copied_from_call_at_creation(app, client, applicant, at_creation,
                                                          later):
    arrange(app, lambda s: make_call(s, requires_nominee_consent=at_creation))
    start_nomination(client, kind="other")

    arrange(app, lambda db: setattr(db.get(Call, 1), "requires_nominee_consent", later))

    assert consent_state(app)["required"] is at_creation


def test_call_without_consent_requirement_shows_no_waiting(app, client, applicant):
    arrange(app, lambda s: make_call(s, requires_nominee_consent=False))
    nominate_dana(client)

    detail = html.unescape(text_of(client.get("/nominations/1")))

    assert "Waiting for the nominee's consent" not in detail
    assert [m.kind for m in outbox_rows(app)] == ["nomination_submitted",
                                                  "nomination_consent_request"]


def test_self_nomination_needs_no_consent_request(app, client, call_id, applicant):
    nomination_id = start_nomination(client)
    submit(client, nomination_id, valid_form())

    assert [m.kind for m in outbox_rows(app)] == ["nomination_submitted"]
    assert consent_state(app) == {"required": True, "token_hash": None, "consent": True,
                                  "declined": False}
    assert "Waiting for the nominee's consent" not in text_of(client.get("/nominations/1"))


def test_changing_nominee_email_after_submit_asks_the_new_address(app, client, call_id,
                                                                  applicant, nominee_client):
    nomination_id, old_path = nominate_dana(client)
    answer(nominee_client, old_path, "accept")

    response = save_draft(client, nomination_id, valid_form(
        **{**NOMINEE, "nominee_email": "dana.n@example.org"}, q_documents=None))

    assert response.status_code == 303
    new_request = [m for m in outbox_rows(app) if m.kind == "nomination_consent_request"][-1]
    assert new_request.to_address == "dana.n@example.org"
    assert consent_state(app)["consent"] is False
    assert nominee_client.get(old_path).status_code == 404
    assert nominee_client.get(link_path(new_request)).status_code == 200


def test_guessing_consent_links_is_rate_limited(app, app_config):
    from awards import create_app

    # Created after ``app``: the process-wide limiter takes the settings of the last app.
    limited = create_app({**app_config, "RATELIMIT_ENABLED": True,
                          "RATELIMIT_CONSENT": "3 per minute"})
    guesser = english(limited.test_client())

    statuses = [guesser.get(f"/nominations/consent/{secrets.token_urlsafe(32)}").status_code
                for _ in range(4)]

    assert statuses == [404, 404, 404, 429]
    limited.extensions["awards_db"]["engine"].dispose()
