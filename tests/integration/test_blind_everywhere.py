"""Blind means blind everywhere: in a blind round a juror or a chair (also sitting as a juror)
meets references only, on the ranking page, the entry explanation, the juror's page, the API,
and in the files they download (neutral names, document metadata removed from the served copy;
the original stays as it was for administrators and the applicant)."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from awards.auth.models import User
from awards.jury.models import Assignment, Round
from awards.nominations.models import Attachment
from tests.api_factories import bearer, make_token
from tests.conftest import login
from tests.factories import arrange, english, field_of, read
from tests.file_factories import AUTHOR, jpeg_with_exif, pdf_with_metadata
from tests.jury_factories import (
    NOMINEE,
    ORGANISATION,
    add_review,
    assign,
    jury_setup,
    make_account,
)
from tests.ranking_factories import scored_round

LEAKED_NAME = "Aigerim_Sadykova_recommendation.pdf"


def store_file(session, nomination, field_key: str, name: str, data: bytes,
               content_type: str) -> Attachment:
    import secrets

    from awards.storage import path_for

    stored = secrets.token_hex(16) + (".pdf" if content_type == "application/pdf" else ".jpg")
    path = path_for(stored)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    attachment = Attachment(nomination=nomination, field=field_of(nomination.call, field_key),
                            original_name=name, stored_name=stored, content_type=content_type,
                            size=len(data), sha256="0" * 64)
    session.add(attachment)
    session.flush()
    return attachment


def _files_world(session, *, blind: bool = True, pdf: bytes | None = None):
    """jury_setup plus, on the first entry, a recommendation PDF and a JPEG photo of the work
    (both in the non-identifying "documents" field), and API tokens for the juror and the
    administrator."""
    world = jury_setup(session, blind=blind)
    nomination = session.get(Assignment, world.mine[0]).nomination
    recommendation = store_file(session, nomination, "documents", LEAKED_NAME,
                                pdf if pdf is not None else pdf_with_metadata(),
                                "application/pdf")
    picture = store_file(session, nomination, "documents", "Aigerim_at_work.jpg",
                         jpeg_with_exif(), "image/jpeg")
    make_account(session, "admin@example.com", name="Admin Person", admin=True)
    juror = session.get(User, world.juror_id)
    return {"world": world, "nomination_id": nomination.id, "pdf": recommendation.id,
            "jpeg": picture.id, "juror_token": make_token(session, juror),
            "report": next(a.id for a in nomination.attachments
                           if a.original_name == "report.pdf")}


def _as(client, email):
    english(client)
    login(client, email)
    return client


# ---- the ranking surfaces ---------------------------------------------------------------------


def _blind_ranking(session):
    """The worked example in a blind round, the chair also reviewing entry A as a juror."""
    world = scored_round(session)
    round_ = session.get(Round, world.round_id)
    round_.blind = True
    chair = session.scalar(select(User).where(User.email == world.chair_email))
    from awards.nominations.models import Nomination

    entry = session.get(Nomination, world.entries["A"])
    add_review(session, assign(session, round_, entry, chair), {"overall": 29}, total=29)
    return world


def test_blind_ranking_page_shows_chair_as_juror_references_only(app, client):
    world = arrange(app, _blind_ranking)
    body = _as(client, world.chair_email).get(
        f"/admin/ranking/rounds/{world.round_id}").get_data(as_text=True)
    for letter, ref in world.refs.items():
        assert ref in body
        assert f"Nominee {letter}" not in body
    assert ORGANISATION not in body


def test_blind_entry_explanation_heading_shows_reference_only(app, client):
    world = arrange(app, _blind_ranking)
    response = _as(client, world.chair_email).get(
        f"/admin/ranking/rounds/{world.round_id}/entries/{world.entries['A']}")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"<h1>{world.refs['A']}</h1>" in body
    assert "Nominee A" not in body
    assert ORGANISATION not in body


def test_blind_ranking_still_names_entries_for_admin(app, client):
    world = arrange(app, _blind_ranking)
    _as(client, world.admin_email)
    page = client.get(f"/admin/ranking/rounds/{world.round_id}").get_data(as_text=True)
    entry = client.get(f"/admin/ranking/rounds/{world.round_id}/entries/{world.entries['A']}")
    assert "Nominee A" in page
    assert f"<h1>{world.refs['A']}: Nominee A</h1>" in entry.get_data(as_text=True)
    export = client.get(f"/admin/ranking/rounds/{world.round_id}/export.csv?what=ranking")
    assert "Nominee A" in export.get_data(as_text=True)


def test_open_round_ranking_names_entries_for_chair(app, client):
    world = arrange(app, scored_round)
    body = _as(client, world.chair_email).get(
        f"/admin/ranking/rounds/{world.round_id}").get_data(as_text=True)
    assert "Nominee A" in body


# ---- attachments: names ------------------------------------------------------------------------


def test_blind_juror_page_links_files_under_neutral_names(app, client):
    files = arrange(app, _files_world)
    world = files["world"]
    body = _as(client, world.juror_email).get(
        f"/jury/assignments/{world.mine[0]}").get_data(as_text=True)
    assert LEAKED_NAME not in body
    assert "Aigerim_at_work" not in body
    base = f"/jury/assignments/{world.mine[0]}/attachments"
    assert f'{base}/{files["report"]}">Attachment 1.pdf</a>' in body
    assert f'{base}/{files["pdf"]}">Attachment 2.pdf</a>' in body
    assert f'{base}/{files["jpeg"]}">Attachment 3.jpg</a>' in body


def test_blind_download_has_neutral_content_disposition(app, client):
    files = arrange(app, _files_world)
    world = files["world"]
    response = _as(client, world.juror_email).get(
        f"/jury/assignments/{world.mine[0]}/attachments/{files['pdf']}")
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition == 'attachment; filename="Attachment 2.pdf"'
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Cache-Control"] == "private, no-store"


def test_blind_api_gives_neutral_original_name(app, client):
    files = arrange(app, _files_world)
    world = files["world"]
    response = client.get(f"/api/v1/assignments/{world.mine[0]}",
                          headers=bearer(files["juror_token"]))
    assert response.status_code == 200
    names = {a["id"]: a["original_name"] for a in response.get_json()["entry"]["attachments"]}
    assert names == {files["report"]: "Attachment 1.pdf", files["pdf"]: "Attachment 2.pdf",
                     files["jpeg"]: "Attachment 3.jpg"}
    assert LEAKED_NAME not in response.get_data(as_text=True)


def test_open_round_keeps_original_file_names(app, client):
    files = arrange(app, lambda s: _files_world(s, blind=False))
    world = files["world"]
    _as(client, world.juror_email)
    body = client.get(f"/jury/assignments/{world.mine[0]}").get_data(as_text=True)
    assert f'>{LEAKED_NAME}</a>' in body
    response = client.get(f"/jury/assignments/{world.mine[0]}/attachments/{files['pdf']}")
    assert LEAKED_NAME in response.headers["Content-Disposition"]
    api = client.get(f"/api/v1/assignments/{world.mine[0]}",
                     headers=bearer(files["juror_token"])).get_json()
    assert LEAKED_NAME in [a["original_name"] for a in api["entry"]["attachments"]]


# ---- attachments: the served copy --------------------------------------------------------------


def test_blind_pdf_served_without_info_or_xmp(app, client):
    files = arrange(app, _files_world)
    world = files["world"]
    original = pdf_with_metadata()
    response = _as(client, world.juror_email).get(
        f"/jury/assignments/{world.mine[0]}/attachments/{files['pdf']}")
    served = response.get_data()
    assert served != original
    assert AUTHOR.encode() not in served
    reader = PdfReader(io.BytesIO(served))
    assert len(reader.pages) == 1
    assert reader.metadata is None or reader.metadata.get("/Author") is None
    assert "/Metadata" not in reader.trailer["/Root"]
    assert reader.xmp_metadata is None


def test_blind_jpeg_served_without_exif(app, client):
    from PIL import Image

    files = arrange(app, _files_world)
    world = files["world"]
    response = _as(client, world.juror_email).get(
        f"/jury/assignments/{world.mine[0]}/attachments/{files['jpeg']}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="Attachment 3.jpg"'
    served = response.get_data()
    assert AUTHOR.encode() not in served
    with Image.open(io.BytesIO(served)) as img:
        assert (img.format, img.size) == ("JPEG", (16, 12))
        assert dict(img.getexif()) == {}


def test_original_kept_for_admin_and_applicant(app, client):
    files = arrange(app, _files_world)
    path = f"/nominations/{files['nomination_id']}/attachments/{files['pdf']}"
    for email in ("admin@example.com", "applicant@example.com"):
        response = _as(app.test_client(), email).get(path)
        assert response.status_code == 200, email
        assert response.get_data() == pdf_with_metadata()
        assert LEAKED_NAME in response.headers["Content-Disposition"]


def test_blind_juror_cannot_use_the_applicants_route(app, client):
    files = arrange(app, _files_world)
    _as(client, files["world"].juror_email)
    path = f"/nominations/{files['nomination_id']}/attachments/{files['pdf']}"
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("broken", [
    b"%PDF-1.4\n" + AUTHOR.encode() + b" not really a PDF\n%%EOF\n",
    b"%PDF-1.7\n1 0 obj<</Author (" + AUTHOR.encode() + b")>>endobj\ntrailer<<>>\n%%EOF\n",
], ids=["garbage", "no-pages"])
def test_blind_corrupt_pdf_is_refused_not_leaked(app, client, broken):
    files = arrange(app, lambda s: _files_world(s, pdf=broken))
    world = files["world"]
    response = _as(client, world.juror_email).get(
        f"/jury/assignments/{world.mine[0]}/attachments/{files['pdf']}")
    assert response.status_code == 422
    body = response.get_data()
    assert AUTHOR.encode() not in body
    assert "cannot be shown in a blind round" in response.get_data(as_text=True)
    assert "Content-Disposition" not in response.headers


def test_blind_identifying_file_still_hidden(app, client):
    files = arrange(app, _files_world)
    world = files["world"]
    photo = read(app, lambda s: s.scalar(select(Attachment.id).where(
        Attachment.nomination_id == files["nomination_id"],
        Attachment.original_name == "face.pdf")))
    _as(client, world.juror_email)
    assert client.get(
        f"/jury/assignments/{world.mine[0]}/attachments/{photo}").status_code == 404
    body = client.get(f"/jury/assignments/{world.mine[0]}").get_data(as_text=True)
    assert NOMINEE not in body
