"""Hostile uploads through the nomination form: the type is judged by content, names cannot
reach the file system, and what is accepted is served so that a browser never runs it."""

from __future__ import annotations

import io
import re
import zipfile

import pytest

from tests.conftest import post_form
from tests.factories import PDF, arrange, make_call, png_bytes, read, valid_form

HTML = b"<html><script>alert(document.cookie)</script></html>"


def docx_bomb() -> bytes:
    """An office document whose one member inflates from ~100 KB to 100 MB. Office formats are
    not accepted at all; it is refused before anything could unpack it."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", b"\0" * (100 * 1024 * 1024))
    return buf.getvalue()


@pytest.fixture
def draft(app, client, make_user, login_as):
    arrange(app, make_call)
    make_user("aigerim@example.com")
    login_as("aigerim@example.com")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = post_form(client, "/nominations/start/voy-2026",
                         {"category": "social", "nominator_kind": "self"},
                         csrf_url="/calls/voy-2026")
    return int(response.headers["Location"].split("/")[-2])


def upload(client, nomination_id, content: bytes, name: str, field="q_documents"):
    data = valid_form(**{"q_documents": None, field: (io.BytesIO(content), name)})
    return post_form(client, f"/nominations/{nomination_id}/edit", data, csrf_url="/")


def stored(app, nomination_id):
    from awards.nominations.models import Attachment

    return read(app, lambda s: [(a.original_name, a.content_type, a.stored_name) for a in
                                s.query(Attachment).filter_by(nomination_id=nomination_id)])


def files_on_disk(app):
    from pathlib import Path

    root = Path(app.config["UPLOAD_FOLDER"])
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def text_of(response):
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


@pytest.mark.parametrize(("content", "name", "message"), [
    (HTML, "report.pdf", "is not an allowed type"),
    (b"MZ\x90\x00" + b"\0" * 100, "report.pdf", "is not an allowed type"),
    (docx_bomb(), "report.docx", "is larger than 2 KB"),
    (b"%PDF-1.4\n" + HTML, "report.pdf", "is damaged or not a real PDF file"),
    (png_bytes(), "report.pdf", "is not an allowed type"),  # a PNG where only PDF is allowed
    (b"", "empty.pdf", "is empty"),
    (PDF + b"\0" * 4096, "large.pdf", "is larger than 2 KB"),
], ids=["html-as-pdf", "exe-as-pdf", "zip-bomb-docx", "truncated-pdf-polyglot", "png-as-pdf",
        "zero-bytes", "over-limit"])
def test_hostile_upload_is_refused_and_nothing_stored(app, client, draft, content, name,
                                                      message):
    response = upload(client, draft, content, name)

    assert response.status_code == 400
    assert message in text_of(response)
    assert stored(app, draft) == []
    assert files_on_disk(app) == []


@pytest.mark.parametrize("name", ["../../../../etc/passwd.pdf", "..\\..\\boot.pdf",
                                  "/var/www/index.pdf", "\x00evil.pdf", ".htaccess"])
def test_file_name_never_reaches_the_file_system(app, client, draft, name):
    response = upload(client, draft, PDF, name)

    assert response.status_code == 303
    [(original, _type, stored_name)] = stored(app, draft)
    assert "/" not in original and "\\" not in original and "\x00" not in original
    assert re.fullmatch(r"[0-9a-f]{40}\.pdf", stored_name)
    assert files_on_disk(app) == [f"{stored_name[:2]}/{stored_name}"]


def test_pdf_with_html_inside_is_served_as_a_download_never_rendered(app, client, draft):
    polyglot = b"%PDF-1.4\n<html><script>alert(1)</script></html>\n%%EOF\n"
    assert upload(client, draft, polyglot, "page.html").status_code == 303
    from awards.nominations.models import Attachment

    attachment_id = read(app, lambda s: s.query(Attachment.id).scalar())

    response = client.get(f"/nominations/{draft}/attachments/{attachment_id}")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"] or (
        "script-src 'self'" in response.headers["Content-Security-Policy"])
