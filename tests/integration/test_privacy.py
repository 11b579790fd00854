"""An applicant's personal data through the real pages: the overview, the download (zip with
data.json and every file) and deleting the account (deletion of open-call entries,
anonymisation of closed-call ones, the emptied user row, logout, last e-mail, audit)."""

from __future__ import annotations

import html
import json
import re
import zipfile
from io import BytesIO

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import select

from awards.audit import AuditEvent, verify_chain
from awards.auth.models import User
from awards.db import get_db
from awards.enums import CallStatus, FieldType, NominationStatus
from awards.mail import OutgoingMail
from awards.nominations.models import Attachment, Nomination, NominationVersion
from awards.storage import path_for
from tests.conftest import PASSWORD, get_csrf, login
from tests.pages import field_errors, text_of
from tests.screening_factories import (
    PDF,
    PNG,
    add_attachment,
    add_version,
    arrange,
    make_call,
    make_field,
    make_nomination,
    status_change,
)

# ---- helpers --------------------------------------------------------------------------------


@pytest.fixture
def client(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def applicant(make_user):
    return make_user("aliya@example.com", name="Aliya Nurlanovna", language="en")


def flashes(response) -> list[tuple[str, str]]:
    return [(cat, html.unescape(msg)) for cat, msg in
            re.findall(r'<p class="flash flash-(\w+)">(.*?)</p>', text_of(response))]


def read(app, query):
    with app.app_context():
        return query(get_db())


def is_logged_in(client) -> bool:
    status = client.get("/account/profile").status_code
    assert status in (200, 302)
    return status == 200


def delete_account(client, password: str = PASSWORD, confirm: bool = True):
    data = {"csrf_token": get_csrf(client, "/account/data/"), "password": password}
    if confirm:
        data["confirm"] = "y"
    return client.post("/account/data/delete", data=data)


def unzip(response) -> dict[str, bytes]:
    with zipfile.ZipFile(BytesIO(response.data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


@pytest.fixture
def portfolio(app, applicant, make_user):
    """The applicant's entries across an open and a closed call, and someone else's."""
    stranger = make_user("bolat@example.org", name="Bolat Serikov")

    def build(db):
        closed = make_call(db, slug="closed", prefix="CLS")
        open_call = make_call(db, slug="open", prefix="OPN", status=CallStatus.OPEN,
                              closed=False)
        fields = {}
        for call in (closed, open_call):
            fields[call.slug] = {
                "nominee": make_field(db, call, "nominee_name", type=FieldType.SHORT_TEXT,
                                      identifying=True),
                "activity": make_field(db, call, "activity"),
                "photo": make_field(db, call, "photo", type=FieldType.FILE, identifying=True),
                "letters": make_field(db, call, "letters", type=FieldType.FILE),
            }
        f = fields["closed"]
        eligible = make_nomination(
            db, call=closed, applicant=applicant, reference="CLS-2026-00001",
            nominee_name="Айгерим Садыкова", answers={f["nominee"]: "Айгерим Садыкова",
                                                       f["activity"]: "Помогала приюту"})
        eligible_photo = add_attachment(db, eligible, name="photo.png", content=PNG,
                                        form_field=f["photo"])
        eligible_letter = add_attachment(db, eligible, name="letter.pdf",
                                         form_field=f["letters"])
        add_version(db, eligible)  # version 2 lists the files
        status_change(db, eligible, NominationStatus.ELIGIBLE, reason="Всё в порядке")
        status_change(db, eligible, NominationStatus.ELIGIBLE, reason="Internal: call her",
                      visible=False)
        ineligible = make_nomination(
            db, call=closed, applicant=applicant, reference="CLS-2026-00002",
            nominee_name="Daniyar Akhmetov", nominee_email="daniyar@example.kz",
            answers={f["nominee"]: "Daniyar Akhmetov", f["activity"]: "Planted trees"})
        status_change(db, ineligible, NominationStatus.INELIGIBLE, reason="Too late")
        closed_draft = make_nomination(db, call=closed, applicant=applicant,
                                       status=NominationStatus.DRAFT, nominee_name="Draft One")
        closed_draft_file = add_attachment(db, closed_draft, name="draft.pdf")
        g = fields["open"]
        open_submitted = make_nomination(db, call=open_call, applicant=applicant,
                                         reference="OPN-2026-00001", nominee_name="Madina",
                                         answers={g["activity"]: "Teaching"})
        open_file = add_attachment(db, open_submitted, name="letter.pdf", form_field=g["letters"],
                                   content=PDF + b"open")
        open_draft = make_nomination(db, call=open_call, applicant=applicant,
                                     status=NominationStatus.DRAFT, nominee_name="Erlan")
        open_draft_file = add_attachment(db, open_draft, name="letter.pdf",
                                         content=PDF + b"draft")
        theirs = make_nomination(db, call=open_call, applicant=stranger,
                                 reference="OPN-2026-00002", nominee_name="Someone Else")
        theirs_file = add_attachment(db, theirs, name="theirs.pdf")
        return {
            "eligible": eligible.id, "ineligible": ineligible.id,
            "closed_draft": closed_draft.id, "open_submitted": open_submitted.id,
            "open_draft": open_draft.id, "theirs": theirs.id,
            "files": {
                "eligible_photo": eligible_photo.stored_name,
                "eligible_letter": eligible_letter.stored_name,
                "closed_draft": closed_draft_file.stored_name,
                "open": open_file.stored_name, "open_draft": open_draft_file.stored_name,
                "theirs": theirs_file.stored_name,
            },
        }

    return arrange(app, build)


def file_exists(app, stored_name: str) -> bool:
    with app.app_context():
        return path_for(stored_name).exists()


# ---- permissions ----------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "method", "path", "expected"), [
    ("anonymous", "GET", "/account/data/", 302),
    ("anonymous", "GET", "/account/data/export", 302),
    ("anonymous", "POST", "/account/data/export", 302),
    ("anonymous", "POST", "/account/data/delete", 302),
    ("applicant", "GET", "/account/data/", 200),
    ("applicant", "GET", "/account/data/export", 200),
    ("applicant", "POST", "/account/data/export", 200),
    ("applicant", "POST", "/account/data/delete", 303),
    ("admin", "GET", "/account/data/", 200),
    ("admin", "GET", "/account/data/export", 200),
    ("admin", "POST", "/account/data/export", 200),
    ("admin", "POST", "/account/data/delete", 409),
])
def test_privacy_route_permission_by_role(app, client, make_user, role, method, path,
                                          expected):
    user = make_user("someone@example.com", admin=role == "admin")
    if role != "anonymous":
        login(client, user.email)
    data = {"csrf_token": get_csrf(client), "password": PASSWORD, "confirm": "y"}

    response = client.get(path) if method == "GET" else client.post(path, data=data)

    assert response.status_code == expected
    if role == "anonymous":
        assert response.headers["Location"].startswith("/account/login?next=")
    deleted = role == "applicant" and path.endswith("/delete")
    assert read(app, lambda db: db.get(User, user.id).deleted_at is not None) is deleted


def test_admin_deletion_refused_with_message(app, client, make_user):
    admin = make_user("admin@example.com", admin=True)
    login(client, admin.email)

    response = delete_account(client)

    assert response.status_code == 409
    assert "Administrator accounts cannot be deleted here." in text_of(response)
    assert read(app, lambda db: db.get(User, admin.id).email) == "admin@example.com"
    assert is_logged_in(client) is True


def test_index_explains_and_offers_download_and_deletion(client, applicant):
    login(client, applicant.email)

    page = text_of(client.get("/account/data/"))

    assert '<a class="button primary" href="/account/data/export" download>' in page
    assert '<form method="post" action="/account/data/delete"' in page
    assert re.findall(r'<input [^>]*name="(password|confirm)"[^>]*type="(\w+)"', page) == [
        ("password", "password"), ("confirm", "checkbox")]
    assert "are deleted with their files" in page


# ---- export ---------------------------------------------------------------------------------


def test_export_zip_holds_data_json_and_every_attachment(app, client, applicant, portfolio):
    login(client, applicant.email)

    response = client.get("/account/data/export")

    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert response.headers["Cache-Control"] == "no-store"
    assert re.fullmatch(r'attachment; filename=awards-my-data-\d+-\d{8}\.zip',
                        response.headers["Content-Disposition"])
    files = unzip(response)
    draft_folder = f"attachments/draft-{portfolio['closed_draft']}"
    open_draft_folder = f"attachments/draft-{portfolio['open_draft']}"
    assert sorted(files) == sorted([
        "data.json",
        "attachments/CLS-2026-00001/photo.png",
        "attachments/CLS-2026-00001/letter.pdf",
        f"{draft_folder}/draft.pdf",
        "attachments/OPN-2026-00001/letter.pdf",
        f"{open_draft_folder}/letter.pdf",
    ])
    assert files["attachments/CLS-2026-00001/photo.png"] == PNG
    assert files["attachments/OPN-2026-00001/letter.pdf"] == PDF + b"open"
    assert files[f"{open_draft_folder}/letter.pdf"] == PDF + b"draft"

    data = json.loads(files["data.json"])
    assert sorted(data) == ["account", "consents", "exported_at", "format", "missing_files",
                            "nominations"]
    assert data["account"] == {
        "id": applicant.id, "email": "aliya@example.com", "full_name": "Aliya Nurlanovna",
        "organisation": "", "phone": "", "preferred_language": "en",
        "email_verified_at": data["account"]["email_verified_at"],
        "created_at": data["account"]["created_at"], "last_login_at":
            data["account"]["last_login_at"], "roles": ["applicant"],
    }
    assert "password" not in files["data.json"].decode()
    assert "$argon2" not in files["data.json"].decode()
    assert [n["reference"] for n in data["nominations"]] == [
        "CLS-2026-00001", "CLS-2026-00002", None, "OPN-2026-00001", None,
    ]
    first = data["nominations"][0]
    assert sorted(first) == [
        "answers", "attachments", "call", "category", "created_at", "id", "nominator_kind",
        "nominee", "organisation_name", "reference", "screening_reason", "status",
        "status_timeline", "submitted_at", "updated_at", "versions", "withdrawn_at",
    ]
    assert first["nominee"] == {"name": "Айгерим Садыкова", "email": "aigerim@example.kz",
                                "phone": "+7 701 123 45 67"}
    assert [(a["field"], a["value"]) for a in first["answers"][:2]] == [
        ("nominee_name", "Айгерим Садыкова"), ("activity", "Помогала приюту")]
    assert [(a["original_name"], a["file"]) for a in first["attachments"]] == [
        ("photo.png", "attachments/CLS-2026-00001/photo.png"),
        ("letter.pdf", "attachments/CLS-2026-00001/letter.pdf"),
    ]
    assert [(c["to"], c["reason"]) for c in first["status_timeline"]] == [
        ("submitted", ""), ("eligible", "Всё в порядке")]
    assert "Internal: call her" not in files["data.json"].decode()
    assert [v["number"] for v in first["versions"]] == [1, 2]
    assert data["consents"][0] == {"nomination": "CLS-2026-00001",
                                   "nominee_consent_required": False,
                                   "nominee_consent_at": None, "nominee_declined_at": None}
    assert "Someone Else" not in files["data.json"].decode()
    assert data["missing_files"] == []


def test_export_names_duplicate_files_apart_and_reports_missing_ones(app, client, applicant):
    def build(db):
        n = make_nomination(db, call=make_call(db), applicant=applicant,
                            reference="VOY-2026-00001")
        add_attachment(db, n, name="letter.pdf", content=PDF + b"1")
        add_attachment(db, n, name="letter.pdf", content=PDF + b"2")
        gone = add_attachment(db, n, name="gone.pdf")
        path_for(gone.stored_name).unlink()

    arrange(app, build)
    login(client, applicant.email)

    files = unzip(client.get("/account/data/export"))

    assert files["attachments/VOY-2026-00001/letter.pdf"] == PDF + b"1"
    assert files["attachments/VOY-2026-00001/letter (2).pdf"] == PDF + b"2"
    assert json.loads(files["data.json"])["missing_files"] == [
        "attachments/VOY-2026-00001/gone.pdf"]


# ---- deletion -------------------------------------------------------------------------------


@pytest.mark.parametrize(("password", "confirm", "errors"), [
    ("wrong-password-123", True, {"password": "The password is incorrect."}),
    ("", True, {"password": "Enter your password."}),
    (PASSWORD, False, {"confirm": "Tick the box to confirm."}),
])
def test_delete_refused_without_password_or_confirmation(app, client, applicant, portfolio,
                                                         password, confirm, errors):
    login(client, applicant.email)

    response = delete_account(client, password, confirm)

    assert response.status_code == 400
    assert field_errors(response) == errors
    assert is_logged_in(client) is True
    user = read(app, lambda db: db.get(User, applicant.id))
    assert (user.email, user.deleted_at) == ("aliya@example.com", None)
    assert read(app, lambda db: db.scalar(select(Nomination.applicant_id)
                                          .where(Nomination.id == portfolio["eligible"]))) == (
        applicant.id)
    assert file_exists(app, portfolio["files"]["open_draft"]) is True
    assert read(app, lambda db: db.scalars(select(OutgoingMail.kind)).all()) == []
    assert read(app, lambda db: db.scalars(select(AuditEvent.action)).all()) == []


def test_delete_without_csrf_is_refused(app, client, applicant):
    login(client, applicant.email)

    response = client.post("/account/data/delete", data={"password": PASSWORD, "confirm": "y"})

    assert response.status_code == 400
    assert read(app, lambda db: db.get(User, applicant.id).deleted_at) is None


def test_delete_removes_open_call_entries_and_drafts_with_their_files(app, client, applicant,
                                                                      portfolio):
    login(client, applicant.email)

    response = delete_account(client)

    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    remaining = read(app, lambda db: sorted(db.scalars(select(Nomination.id)).all()))
    assert remaining == sorted([portfolio["eligible"], portfolio["ineligible"],
                                portfolio["theirs"]])
    files = portfolio["files"]
    assert {name: file_exists(app, files[name]) for name in files} == {
        "eligible_photo": False,  # identifying field of an anonymised entry
        "eligible_letter": True,
        "closed_draft": False,
        "open": False,
        "open_draft": False,
        "theirs": True,
    }
    stored = read(app, lambda db: sorted(db.scalars(select(Attachment.stored_name)).all()))
    assert stored == sorted([files["eligible_letter"], files["theirs"]])
    deleted_events = read(app, lambda db: [
        (e.action, e.object_id) for e in db.scalars(
            select(AuditEvent).where(AuditEvent.action == "nomination.delete"))])
    assert deleted_events == [("nomination.delete", str(portfolio["open_submitted"]))]


def test_delete_anonymises_closed_call_nominations(app, client, applicant, portfolio):
    login(client, applicant.email)

    delete_account(client)

    def rows(db):
        out = {}
        for key in ("eligible", "ineligible"):
            n = db.get(Nomination, portfolio[key])
            out[key] = {
                "applicant_id": n.applicant_id,
                "anonymised": n.anonymised_at is not None,
                "nominee": (n.nominee_name, n.nominee_email, n.nominee_phone),
                "answers": {a.field.key: a.value for a in n.answers},
                "attachments": [a.original_name for a in n.attachments],
                "uploaded_by": [a.uploaded_by_id for a in n.attachments],
                "actors": [c.actor_id for c in n.status_changes],
                "status": n.status,
            }
        out["versions"] = [(v.author_id, v.snapshot) for v in db.scalars(
            select(NominationVersion).where(NominationVersion.nomination_id.in_(
                [portfolio["eligible"], portfolio["ineligible"]]))
            .order_by(NominationVersion.nomination_id, NominationVersion.number))]
        return out

    data = read(app, rows)
    assert data["eligible"] == {
        "applicant_id": None, "anonymised": True,
        "nominee": ("Айгерим Садыкова", "", ""),
        "answers": {"nominee_name": None, "activity": "Помогала приюту", "photo": None,
                    "letters": data["eligible"]["answers"]["letters"]},
        "attachments": ["letter.pdf"], "uploaded_by": [None],
        "actors": [None, None, None], "status": NominationStatus.ELIGIBLE,
    }
    assert data["ineligible"] == {
        "applicant_id": None, "anonymised": True, "nominee": ("", "", ""),
        "answers": {"nominee_name": None, "activity": "Planted trees"},
        "attachments": [], "uploaded_by": [], "actors": [None, None],
        "status": NominationStatus.INELIGIBLE,
    }
    letters = data["eligible"]["answers"]["letters"]
    assert [(author, v["version"], v["nominee"], v["answers"],
             [a["original_name"] for a in v["attachments"]])
            for author, v in data["versions"]] == [
        (None, 1, {"nominee_name": "Айгерим Садыкова", "nominee_email": "", "nominee_phone": "",
                   "organisation_name": ""},
         {"nominee_name": None, "activity": "Помогала приюту"}, []),
        (None, 2, {"nominee_name": "Айгерим Садыкова", "nominee_email": "", "nominee_phone": "",
                   "organisation_name": ""},
         {"nominee_name": None, "activity": "Помогала приюту", "photo": None,
          "letters": letters}, ["letter.pdf"]),
        (None, 1, {"nominee_name": "", "nominee_email": "", "nominee_phone": "",
                   "organisation_name": ""},
         {"nominee_name": None, "activity": "Planted trees"}, []),
    ]
    anonymised = read(app, lambda db: [
        (e.object_id, e.actor_label, e.after_data()["nominee_name_kept"]) for e in db.scalars(
            select(AuditEvent).where(AuditEvent.action == "nomination.anonymise")
            .order_by(AuditEvent.id))])
    placeholder = f"deleted-{applicant.id}@invalid"
    assert anonymised == [(str(portfolio["eligible"]), placeholder, True),
                          (str(portfolio["ineligible"]), placeholder, False)]


def test_delete_empties_account_logs_out_and_sends_last_mail(app, client, applicant,
                                                             portfolio):
    arrange(app, lambda db: setattr(db.get(User, applicant.id), "preferred_language", "kk"))
    login(client, applicant.email)

    response = delete_account(client)

    # The account's language (Kazakh) stays chosen for the rest of the visit.
    with app.test_request_context(), force_locale("kk"):
        expected = gettext("Your account has been deleted. We have sent a last message to "
                           "your former e-mail address.")
    assert flashes(client.get(response.headers["Location"])) == [("success", expected)]
    assert is_logged_in(client) is False
    user = read(app, lambda db: db.get(User, applicant.id))
    assert (user.email, user.full_name, user.organisation, user.phone, user.is_active) == (
        f"deleted-{applicant.id}@invalid", "", "", "", False)
    assert user.deleted_at is not None
    assert user.password_hash.startswith("!deleted!")
    mails = read(app, lambda db: [(m.to_address, m.kind, m.language, m.body_text) for m in
                                  db.scalars(select(OutgoingMail))])
    assert [m[:3] for m in mails] == [("aliya@example.com", "account_deleted", "kk")]
    assert "Aliya Nurlanovna" in mails[0][3]
    events = read(app, lambda db: [(e.action, e.actor_label, e.after_data()) for e in
                                   db.scalars(select(AuditEvent).where(
                                       AuditEvent.action == "user.delete"))])
    assert events == [("user.delete", f"deleted-{applicant.id}@invalid", {
        "deleted_nominations": sorted([portfolio["closed_draft"], portfolio["open_submitted"],
                                       portfolio["open_draft"]]),
        "anonymised_nominations": [portfolio["eligible"], portfolio["ineligible"]],
    })]
    all_events = read(app, lambda db: " ".join(e.actor_label + e.before + e.after for e in
                                               db.scalars(select(AuditEvent))))
    assert "aliya@example.com" not in all_events
    result = read(app, verify_chain)
    assert (result.ok, result.checked) == (True, 4)


@pytest.mark.parametrize("email", ["aliya@example.com", "deleted-{id}@invalid"])
def test_deleted_user_cannot_log_in(app, client, applicant, email):
    login(client, applicant.email)
    delete_account(client)

    response = client.post("/account/login", data={
        "csrf_token": get_csrf(client, "/account/login"),
        "email": email.format(id=applicant.id), "password": PASSWORD,
    })

    assert response.status_code == 401
    assert is_logged_in(client) is False


def test_deleted_user_old_session_cookie_is_dead(app, client, applicant):
    login(client, applicant.email)
    other = app.test_client()
    login(other, applicant.email)

    delete_account(client)

    assert is_logged_in(other) is False


def test_email_can_register_again_after_deletion(app, client, applicant, outbox):
    login(client, applicant.email)
    delete_account(client)

    response = client.post("/account/register", data={
        "csrf_token": get_csrf(client, "/account/register"), "full_name": "Aliya Again",
        "email": "aliya@example.com", "password": "a-brand-new-passphrase",
        "confirm": "a-brand-new-passphrase", "accept": "y",
    })

    assert response.status_code == 200
    assert [m.kind for m in outbox("aliya@example.com")] == ["account_deleted", "verify_email"]
    assert read(app, lambda db: db.scalar(
        select(User.id).where(User.email == "aliya@example.com"))) != applicant.id
