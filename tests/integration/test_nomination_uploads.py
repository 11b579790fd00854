"""Files attached to nominations: stored with the draft in the same request, type checked by
content, size and count limits, removal, and downloads only for those allowed."""

from __future__ import annotations

import hashlib
import html
import io
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from awards.audit import AuditEvent
from awards.calls.models import Call
from awards.nominations.models import Attachment, Nomination
from awards.storage import path_for
from tests.conftest import login
from tests.factories import (
    EXE,
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


def input_value(response, name: str) -> str | None:
    match = re.search(rf'<input [^>]*name="{name}"[^>]*>', text_of(response))
    value = re.search(r'value="([^"]*)"', match.group(0))
    return html.unescape(value.group(1)) if value else None


def stored_files(app) -> list[Path]:
    return sorted(p for p in Path(app.config["UPLOAD_FOLDER"]).rglob("*") if p.is_file())


def attachments(app) -> list[tuple]:
    return read(app, lambda db: [
        (a.id, a.nomination_id, a.field.key, a.original_name, a.content_type, a.size)
        for a in db.scalars(select(Attachment).order_by(Attachment.id))])


def answers(app, nomination_id: int = 1) -> dict:
    return read(app, lambda db: {a.field.key: a.value for a in
                                 db.get(Nomination, nomination_id).answers
                                 if a.value is not None})


def audit_actions(app) -> list[str]:
    return read(app, lambda db: list(db.scalars(select(AuditEvent.action)
                                               .order_by(AuditEvent.id))))


def pdf_of(size: int) -> bytes:
    """A well-formed PDF of exactly ``size`` bytes."""
    filler = size - len(PDF)
    return PDF[:-6] + b"%" + b"0" * (filler - 2) + b"\n" + PDF[-6:]


def jpeg_bytes() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (4, 4), (10, 200, 10)).save(buf, format="JPEG")
    return buf.getvalue()


# ---- storing ---------------------------------------------------------------------------------


def test_upload_stored_with_draft_under_random_name(app, client, call_id, applicant):
    nomination_id = start_nomination(client)

    response = save_draft(client, nomination_id, {"q_title": "Kept title",
                                                  "q_documents": (io.BytesIO(PDF), "report.pdf")})

    assert response.status_code == 303
    assert attachments(app) == [(1, 1, "documents", "report.pdf", "application/pdf", len(PDF))]
    stored_name, sha = read(app, lambda db: (db.get(Attachment, 1).stored_name,
                                             db.get(Attachment, 1).sha256))
    assert "report" not in stored_name
    assert sha == hashlib.sha256(PDF).hexdigest()
    with app.app_context():
        stored = path_for(stored_name)
    assert stored_files(app) == [stored]
    assert stored.read_bytes() == PDF
    assert Path(app.static_folder).resolve() not in stored.resolve().parents
    assert answers(app) == {"title": "Kept title", "documents": [1]}
    assert audit_actions(app) == ["nomination.create", "attachment.upload",
                                  "nomination.save_draft"]
    page = text_of(client.get(f"/nominations/{nomination_id}/edit"))
    assert '<a href="/nominations/1/attachments/1">report.pdf</a>' in page
    assert '<button type="submit" name="remove_attachment" value="1"' in page


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [(pdf_of(2049), "big.pdf", "The file “big.pdf” is larger than 2 KB."),
     (png_bytes(), "photo.png", "The file “photo.png” is not an allowed type (PDF). The type is "
                                "checked by the file's content, not its name."),
     (EXE, "cv.pdf", "The file “cv.pdf” is not an allowed type (PDF). The type is checked by the "
                     "file's content, not its name."),
     (b"", "empty.pdf", "The file “empty.pdf” is empty.")],
    ids=["oversized", "wrong-type", "executable-as-pdf", "empty"],
)
def test_bad_upload_shown_on_its_field_draft_and_other_answers_kept(app, client, call_id,
                                                                   applicant, content, name,
                                                                   message):
    nomination_id = start_nomination(client)

    response = save_draft(client, nomination_id, {"q_title": "Kept title", "q_years": "4",
                                                  "q_documents": (io.BytesIO(content), name)})

    assert response.status_code == 400
    assert field_errors(response) == {"q_documents": message}
    assert input_value(response, "q_title") == "Kept title"
    assert answers(app) == {"title": "Kept title", "years": 4}
    assert attachments(app) == []
    assert stored_files(app) == []
    assert audit_actions(app) == ["nomination.create", "nomination.save_draft"]


def test_file_of_exactly_the_limit_accepted(app, client, call_id, applicant):
    nomination_id = start_nomination(client)

    response = save_draft(client, nomination_id,
                          {"q_documents": (io.BytesIO(pdf_of(2048)), "exact.pdf")})

    assert response.status_code == 303
    assert [a[3:] for a in attachments(app)] == [("exact.pdf", "application/pdf", 2048)]


def test_executable_as_pdf_on_submit_refused_and_draft_kept(app, client, call_id, applicant):
    nomination_id = start_nomination(client)

    response = submit(client, nomination_id, valid_form(q_documents=(io.BytesIO(EXE), "cv.pdf")))

    assert response.status_code == 400
    assert field_errors(response) == {
        "q_documents": "The file “cv.pdf” is not an allowed type (PDF). The type is checked by "
                       "the file's content, not its name."}
    assert read(app, lambda db: db.get(Nomination, 1).status.value) == "draft"
    assert answers(app)["title"] == "Clean rivers"
    assert attachments(app) == []


@pytest.mark.parametrize(("content", "name", "content_type"), [
    (png_bytes(), "team.png", "image/png"), (jpeg_bytes(), "team.jpg", "image/jpeg")])
def test_photo_field_accepts_png_and_jpeg(app, client, call_id, applicant, content, name,
                                          content_type):
    nomination_id = start_nomination(client)

    response = save_draft(client, nomination_id, {"q_photo": (io.BytesIO(content), name)})

    assert response.status_code == 303
    assert [a[2:5] for a in attachments(app)] == [("photo", name, content_type)]


def test_too_many_files_refused_none_stored(app, client, call_id, applicant):
    nomination_id = start_nomination(client)

    response = save_draft(client, nomination_id, {"q_documents": [
        (io.BytesIO(PDF), "a.pdf"), (io.BytesIO(PDF), "b.pdf"), (io.BytesIO(PDF), "c.pdf")]})

    assert response.status_code == 400
    assert field_errors(response) == {"q_documents": "You can attach at most 2 files here."}
    assert attachments(app) == []
    assert stored_files(app) == []


def test_too_many_files_counts_those_already_attached(app, client, call_id, applicant):
    nomination_id = start_nomination(client)
    save_draft(client, nomination_id, {"q_documents": (io.BytesIO(PDF), "a.pdf")})

    response = save_draft(client, nomination_id, {"q_documents": [
        (io.BytesIO(PDF), "b.pdf"), (io.BytesIO(PDF), "c.pdf")]})

    assert response.status_code == 400
    assert field_errors(response) == {
        "q_documents": "You can attach at most 2 files here and 1 already attached. "
                       "Remove a file first."}
    assert [a[3] for a in attachments(app)] == ["a.pdf"]


def test_upload_kept_when_another_field_is_invalid(app, client, call_id, applicant):
    nomination_id = start_nomination(client)

    response = save_draft(client, nomination_id, {"q_years": "abc",
                                                  "q_documents": (io.BytesIO(PDF), "report.pdf")})

    assert response.status_code == 400
    assert field_errors(response) == {"q_years": "Enter a number."}
    assert input_value(response, "q_years") == "abc"
    assert '<a href="/nominations/1/attachments/1">report.pdf</a>' in text_of(response)
    assert [a[3] for a in attachments(app)] == ["report.pdf"]


@pytest.mark.parametrize(("raw", "clean"), [("../../etc/passwd.pdf", "passwd.pdf"),
                                            ("report", "report.pdf")])
def test_file_name_path_parts_removed(app, client, call_id, applicant, raw, clean):
    nomination_id = start_nomination(client)

    save_draft(client, nomination_id, {"q_documents": (io.BytesIO(PDF), raw)})

    assert [a[3] for a in attachments(app)] == [clean]


# ---- removing --------------------------------------------------------------------------------


def test_remove_button_removes_attachment_and_file(app, client, call_id, applicant):
    nomination_id = start_nomination(client)
    save_draft(client, nomination_id, {"q_title": "Title",
                                       "q_documents": (io.BytesIO(PDF), "report.pdf")})

    response = save_draft(client, nomination_id, {"remove_attachment": "1"})

    assert response.status_code == 303
    assert flashes(client.get(response.headers["Location"])) == [
        ("success", "The file was removed.")]
    assert attachments(app) == []
    assert stored_files(app) == []
    assert answers(app) == {"title": "Title"}
    removed = read(app, lambda db: [e.before_data() for e in db.scalars(
        select(AuditEvent).where(AuditEvent.action == "attachment.remove"))])
    assert removed == [{"nomination_id": 1, "field": "documents", "original_name": "report.pdf",
                        "sha256": hashlib.sha256(PDF).hexdigest()}]


def test_remove_of_another_nominations_attachment_is_ignored(app, client, call_id, applicant,
                                                             make_user):
    other = english(app.test_client())
    login(other, make_user("other@example.com").email)
    theirs = start_nomination(other)
    save_draft(other, theirs, {"q_documents": (io.BytesIO(PDF), "theirs.pdf")})
    mine = start_nomination(client)

    response = save_draft(client, mine, {"remove_attachment": "1"})

    assert response.status_code == 303
    assert [a[1:4] for a in attachments(app)] == [(theirs, "documents", "theirs.pdf")]
    assert len(stored_files(app)) == 1


def test_removing_last_required_file_after_submit_refused(app, client, call_id, applicant):
    nomination_id = start_nomination(client)
    submit(client, nomination_id, valid_form())

    response = save_draft(client, nomination_id, valid_form(q_documents=None,
                                                            remove_attachment="1"))

    assert response.status_code == 400
    assert field_errors(response) == {"q_documents": "Please attach a file."}
    assert [a[3] for a in attachments(app)] == ["report.pdf"]
    assert len(stored_files(app)) == 1
    assert "attachment.remove" not in audit_actions(app)


def test_replacing_a_file_after_submit_makes_a_new_version(app, client, call_id, applicant):
    nomination_id = start_nomination(client)
    submit(client, nomination_id, valid_form())

    response = save_draft(client, nomination_id, valid_form(
        q_documents=(io.BytesIO(pdf_of(300)), "v2.pdf"), remove_attachment="1"))

    assert response.status_code == 303
    assert [a[3] for a in attachments(app)] == ["v2.pdf"]
    assert len(stored_files(app)) == 1
    versions = read(app, lambda db: [[x["original_name"] for x in v.snapshot["attachments"]]
                                     for v in db.get(Nomination, 1).versions])
    assert versions == [["report.pdf"], ["v2.pdf"]]


# ---- downloading -----------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "status"), [("owner", 200), ("admin", 200), ("other", 404)])
def test_download_only_for_owner_and_administrators(app, client, call_id, applicant, make_user,
                                                    who, status):
    nomination_id = start_nomination(client)
    save_draft(client, nomination_id, {"q_documents": (io.BytesIO(PDF), "report.pdf")})
    if who != "owner":
        client = english(app.test_client())
        login(client, make_user(f"{who}@example.com", admin=who == "admin").email)

    response = client.get(f"/nominations/{nomination_id}/attachments/1")

    assert response.status_code == status
    if status == 200:
        assert response.data == PDF
        assert response.headers["Content-Type"] == "application/pdf"
        assert response.headers["Content-Disposition"] == "attachment; filename=report.pdf"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "private, no-store"
    response.close()


def test_download_keeps_non_ascii_original_name(app, client, call_id, applicant):
    nomination_id = start_nomination(client)
    save_draft(client, nomination_id, {"q_documents": (io.BytesIO(PDF), "отчёт.pdf")})

    response = client.get(f"/nominations/{nomination_id}/attachments/1")

    assert response.headers["Content-Disposition"] == (
        "attachment; filename=.pdf; filename*=UTF-8''%D0%BE%D1%82%D1%87%D1%91%D1%82.pdf")
    response.close()


def test_download_through_another_nomination_of_the_owner_is_404(app, client, call_id,
                                                                 applicant):
    first = start_nomination(client)
    save_draft(client, first, {"q_documents": (io.BytesIO(PDF), "report.pdf")})
    second = start_nomination(client)

    assert client.get(f"/nominations/{second}/attachments/1").status_code == 404


def test_download_of_file_missing_on_disk_is_404(app, client, call_id, applicant):
    nomination_id = start_nomination(client)
    save_draft(client, nomination_id, {"q_documents": (io.BytesIO(PDF), "report.pdf")})
    for path in stored_files(app):
        path.unlink()

    assert client.get(f"/nominations/{nomination_id}/attachments/1").status_code == 404


def test_download_anonymous_sent_to_log_in(app, call_id, make_user):
    owner = make_user("owner@example.com")
    arrange(app, lambda db: make_nomination(db, call=db.get(Call, call_id),
                                            applicant_id=owner.id))

    response = app.test_client().get("/nominations/1/attachments/1")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/login")

