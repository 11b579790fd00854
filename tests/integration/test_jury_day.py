"""The juror's day: submitting goes on to the next entry (and ends on "all scored"), "Save and
next", the work's title in the list and on the sheet, files opened beside the score sheet
(inline, safe types only, blind rounds respected), the autosave's JSON answers, the list as
cards on a phone."""

from __future__ import annotations

import io
import json
import re

import pytest
from sqlalchemy import select

from awards.calls.models import Call
from awards.jury.models import Review
from awards.nominations.models import Attachment, Nomination
from awards.storage import path_for
from tests.conftest import login
from tests.factories import arrange, field_of, read
from tests.integration.test_jury_scoring import GOOD, page_of, post_sheet, review_row
from tests.jury_factories import jury_setup


@pytest.fixture
def world(app):
    return arrange(app, lambda s: jury_setup(s, entries=3))


@pytest.fixture
def juror(client, login_as, world):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login_as(world.juror_email)
    return client


# ---- Save and next ------------------------------------------------------------------------------


def test_submitting_goes_on_to_the_next_entry_and_ends_with_all_scored(app, juror, world):
    first, second, third = world.mine
    assert 'id="all-done"' not in page_of(juror, "/jury/")
    response = post_sheet(juror, world, first, GOOD, action="submit")
    assert (response.status_code, response.headers["Location"]) == (
        303, f"/jury/assignments/{second}")
    page = page_of(juror, response.headers["Location"])
    assert "is submitted. Thank you!" in page

    # "Save and next" keeps a draft of this one and opens the one after it.
    response = post_sheet(juror, world, second, {"impact": "5"}, action="next")
    assert (response.status_code, response.headers["Location"]) == (
        303, f"/jury/assignments/{third}")
    assert review_row(app, second)["status"].value == "draft"

    response = post_sheet(juror, world, third, GOOD, action="submit")
    assert response.headers["Location"] == f"/jury/assignments/{second}"  # the draft left
    response = post_sheet(juror, world, second, GOOD, action="submit", version="1")
    assert (response.status_code, response.headers["Location"]) == (303, "/jury/")
    page = page_of(juror, "/jury/")
    assert 'id="all-done"' in page
    assert "All done — every entry is scored" in page
    assert 'id="next-unscored"' not in page


def test_score_sheet_offers_save_and_next(juror, world):
    page = page_of(juror, f"/jury/assignments/{world.mine[0]}")
    assert re.search(r'<button type="submit" name="action" value="next"[^>]*id="save-next"',
                     page)


# ---- the work's title ---------------------------------------------------------------------------


def test_list_and_sheet_show_the_works_title(juror, world):
    page = page_of(juror, "/jury/")
    cells = re.findall(r'<td class="work-title" data-label="Title of the work">([^<]*)</td>', page)
    assert cells == ["Clean rivers"] * 3
    sheet = page_of(juror, f"/jury/assignments/{world.mine[0]}")
    assert re.search(r'id="work-title">.*Clean rivers</p>', sheet)


@pytest.mark.parametrize("identifying", [False, True])
def test_blind_round_shows_the_title_unless_the_form_marks_it_identifying(
        app, client, login_as, identifying):
    def build(s):
        w = jury_setup(s, entries=1, blind=True)
        field_of(s.get(Call, w.call_id), "title").is_identifying = identifying
        return w

    w = arrange(app, build)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login_as(w.juror_email)
    page = page_of(client, "/jury/")
    sheet = page_of(client, f"/jury/assignments/{w.mine[0]}")
    if identifying:
        assert "Clean rivers" not in page and "Clean rivers" not in sheet
    else:
        assert "Clean rivers" in page and 'id="work-title"' in sheet


def test_list_is_a_card_table_with_labelled_cells(juror):
    page = page_of(juror, "/jury/")
    assert '<table class="assignments card-table">' in page
    for label in ("Title of the work", "Category", "Status", "Your total"):
        assert f'data-label="{label}"' in page


# ---- files beside the score sheet ---------------------------------------------------------------


def _attachments(app, nomination_id: int) -> dict[str, int]:
    return read(app, lambda s: {a.original_name: a.id for a in s.scalars(
        select(Attachment).where(Attachment.nomination_id == nomination_id))})


def _add_file(app, nomination_id: int, name: str, content_type: str, data: bytes) -> int:
    def build(s):
        n = s.get(Nomination, nomination_id)
        stored = f"{nomination_id}-{name}"
        path = path_for(stored)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        a = Attachment(nomination=n, field=field_of(n.call, "documents"), original_name=name,
                       stored_name=stored, content_type=content_type, size=len(data),
                       sha256="0" * 64)
        s.add(a)
        s.flush()
        answer = next(x for x in n.answers if x.field.key == "documents") if any(
            x.field.key == "documents" for x in n.answers) else None
        if answer is not None:
            answer.value = [*answer.value, a.id]
        return a.id
    return arrange(app, build)


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_pdf_opens_inline_beside_the_rubric(app, juror, world):
    files = _attachments(app, world.entry_ids[0])
    url = f"/jury/assignments/{world.mine[0]}/attachments/{files['report.pdf']}/view"
    response = juror.get(url)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("inline")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"].startswith("sandbox")
    assert "frame-ancestors 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert response.data.startswith(b"%PDF")
    # the download link still downloads
    download = juror.get(url.removesuffix("/view"))
    assert download.headers["Content-Disposition"].startswith("attachment")

    sheet = page_of(juror, f"/jury/assignments/{world.mine[0]}")
    viewer = sheet[sheet.index('id="file-viewer"'):sheet.index('id="rubric-heading"')]
    assert '<iframe id="viewer-frame" class="viewer-frame" title="report.pdf"' in viewer
    assert f'src="{url}"' in viewer
    assert 'target="_blank"' in viewer and 'id="viewer-heading"' in viewer


def test_image_opens_inline_and_other_types_do_not(app, juror, world):
    png = _add_file(app, world.entry_ids[0], "river.png", "image/png", _png())
    doc = _add_file(app, world.entry_ids[0], "notes.docx",
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                    b"PK\x03\x04 not really")
    base = f"/jury/assignments/{world.mine[0]}/attachments"
    response = juror.get(f"{base}/{png}/view")
    assert (response.status_code, response.headers["Content-Type"]) == (200, "image/png")
    assert response.headers["Content-Disposition"].startswith("inline")
    assert "sandbox" not in response.headers["Content-Security-Policy"]
    assert juror.get(f"{base}/{doc}/view").status_code == 404


def test_viewer_refuses_what_the_juror_may_not_open(app, client, login_as):
    w = arrange(app, lambda s: jury_setup(s, entries=1, blind=True))
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    files = _attachments(app, w.entry_ids[0])
    base = f"/jury/assignments/{w.mine[0]}/attachments"
    other = app.test_client()
    login(other, w.other_email)  # not their assignment
    assert other.get(f"{base}/{files['report.pdf']}/view").status_code == 404
    login_as(w.juror_email)
    # the photo question is identifying: hidden in a blind round, inline as well
    assert client.get(f"{base}/{files['face.pdf']}/view").status_code == 404
    response = client.get(f"{base}/{files['report.pdf']}/view")
    assert response.status_code == 200
    assert "report.pdf" not in response.headers["Content-Disposition"]  # a neutral name


# ---- autosave -----------------------------------------------------------------------------------


def _autosave(client, world, assignment_id, scores, version="0"):
    from tests.conftest import csrf_from

    data = {f"score_{world.criterion_ids[k]}": v for k, v in scores.items()}
    data.update(action="draft", version=version,
                csrf_token=csrf_from(page_of(client, "/jury/")))
    return client.post(f"/jury/assignments/{assignment_id}", data=data,
                       headers={"Accept": "application/json"})


def test_autosave_answers_json_with_the_version_and_refuses_a_stale_tab(app, juror, world):
    target = world.mine[0]
    first = _autosave(juror, world, target, {"impact": "7"})
    assert first.status_code == 200
    assert json.loads(first.data) == {"status": "saved", "version": 1, "submitted": False}
    second = _autosave(juror, world, target, {"impact": "8"}, version="1")
    assert json.loads(second.data)["version"] == 2
    assert review_row(app, target)["scores"]["impact"] == 8.0
    # another tab still at version 1
    stale = _autosave(juror, world, target, {"impact": "2"}, version="1")
    body = json.loads(stale.data)
    assert (stale.status_code, body["status"], body["version"]) == (409, "stale", 2)
    assert "another window or tab" in body["message"]
    assert review_row(app, target)["scores"]["impact"] == 8.0
    bad = _autosave(juror, world, target, {"impact": "11"}, version="2")
    body = json.loads(bad.data)
    assert (bad.status_code, body["status"]) == (400, "invalid")
    assert body["errors"] == {f"score_{world.criterion_ids['impact']}":
                              "The score must be between 0 and 10."}
    assert read(app, lambda s: s.scalar(select(Review.version_id).where(
        Review.assignment_id == target))) == 2
