"""A cover image chosen, then Preview: the preview shows it and the post published next has it
(a browser never sends the file again, so the page keeps a signed reference to the stored
file). A reference that is forged or no longer valid is refused: the post is never published
without the cover that was chosen."""

from __future__ import annotations

import io
import re

import pytest

from awards.enums import AnnouncementStatus
from tests.conftest import login
from tests.factories import EXE, english, png_bytes
from tests.integration.test_announcements_admin import create, post_of, text_of


@pytest.fixture
def admin_client(client, make_user, login_as):
    login_as(make_user("admin@example.com", admin=True, name="Admin"))
    return english(client)


def pending_token(page: str) -> str:
    match = re.search(r'name="pending_cover" type="hidden" value="([^"]+)"', page)
    assert match, "no pending cover in the form"
    return match.group(1)


def test_preview_keeps_the_chosen_cover_and_publish_uses_it(app, admin_client):
    preview = create(admin_client, slug="with-cover", action="preview",
                     cover=(io.BytesIO(png_bytes((12, 8))), "gala.png"))
    page = text_of(preview)
    assert preview.status_code == 200
    assert post_of(app, "with-cover") is None  # a preview saves nothing
    token = pending_token(page)
    src = f"/admin/news/pending-cover/{token}"
    assert page.count(f'src="{src}"') == 2  # in the preview and next to the file input
    assert "Chosen cover image: gala.png" in page
    image = admin_client.get(src)
    assert (image.status_code, image.mimetype) == (200, "image/png")
    assert "no-store" in image.headers["Cache-Control"]

    # Publish from the previewed page: the file input is empty, the reference is sent.
    response = create(admin_client, slug="with-cover", action="publish", pending_cover=token)
    assert response.status_code == 302
    post = post_of(app, "with-cover")
    assert post["status"] == AnnouncementStatus.PUBLISHED
    assert post["image_name"]
    assert admin_client.get(f"/news/images/{post['image_name']}").status_code == 200
    assert f'src="/news/images/{post["image_name"]}"' in text_of(
        admin_client.get("/news/with-cover"))


def test_a_new_file_replaces_the_one_chosen_before_the_preview(app, admin_client):
    page = text_of(create(admin_client, slug="swap", action="preview",
                          cover=(io.BytesIO(png_bytes((12, 8))), "first.png")))
    token = pending_token(page)
    create(admin_client, slug="swap", action="publish", pending_cover=token,
           cover=(io.BytesIO(png_bytes((8, 8))), "second.png"))
    first = admin_client.get(f"/admin/news/pending-cover/{token}")
    post = post_of(app, "swap")
    assert post["image_name"]
    assert admin_client.get(f"/news/images/{post['image_name']}").get_data() != first.get_data()


def test_a_forged_reference_is_refused_and_nothing_is_published(app, admin_client):
    response = create(admin_client, slug="forged", action="publish",
                      pending_cover="ab12.png")
    assert response.status_code == 400
    assert "choose the cover image again" in text_of(response)
    assert post_of(app, "forged") is None
    assert admin_client.get("/admin/news/pending-cover/ab12.png").status_code == 404


def test_another_administrators_reference_is_refused(app, admin_client, make_user):
    page = text_of(create(admin_client, slug="mine", action="preview",
                          cover=(io.BytesIO(png_bytes()), "mine.png")))
    token = pending_token(page)
    make_user("other.admin@example.com", admin=True, name="Other Admin")
    other = english(app.test_client())
    login(other, "other.admin@example.com")
    assert other.get(f"/admin/news/pending-cover/{token}").status_code == 404
    response = create(other, slug="mine", action="publish", pending_cover=token)
    assert response.status_code == 400
    assert post_of(app, "mine") is None


def test_a_refused_save_keeps_the_chosen_cover(app, admin_client):
    # No title: refused, but the cover is kept for the corrected form.
    response = create(admin_client, slug="no-title", title_en="", summary_en="", body_en="",
                      action="publish", cover=(io.BytesIO(png_bytes()), "kept.png"))
    assert response.status_code == 400
    token = pending_token(text_of(response))
    response = create(admin_client, slug="no-title", action="publish", pending_cover=token)
    assert response.status_code == 302
    assert post_of(app, "no-title")["image_name"]


def test_a_cover_that_is_not_an_image_is_refused_at_the_preview(app, admin_client):
    response = create(admin_client, slug="exe", action="preview",
                      cover=(io.BytesIO(EXE), "virus.png"))
    assert response.status_code == 400
    page = text_of(response)
    assert "is not an allowed type" in page
    assert 'name="pending_cover" type="hidden" value=""' in page
    assert 'value="Winners announced"' in page  # nothing typed is lost
