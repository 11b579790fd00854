"""The administrator's side of news, through the real pages: permissions and CSRF, writing in
three languages, slugs, preview, publishing, scheduling, back to draft, deleting, images, the
optimistic lock, the audit log, and the draft written when a call opens."""

from __future__ import annotations

import html
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from awards.announcements.models import Announcement, AnnouncementImage
from awards.announcements.services import slugify, version_of
from awards.audit import AuditEvent
from awards.calls.models import Call
from awards.db import utcnow
from awards.enums import AnnouncementStatus, CallStatus
from tests.announcements_factories import make_announcement
from tests.conftest import csrf_from, get_csrf, post_form
from tests.factories import EXE, arrange, english, make_call, png_bytes, read

NEW = "/admin/news/new"


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def post_of(app, slug: str) -> dict:
    def query(db):
        post = db.scalar(select(Announcement).where(Announcement.slug == slug))
        return None if post is None else {
            "id": post.id, "status": post.status, "publish_at": post.publish_at,
            "title_en": post.title_en, "title_ru": post.title_ru, "call_id": post.call_id,
            "image_name": post.image_name, "images": [i.stored_name for i in post.images],
            "version": version_of(post), "origin": post.origin, "body_en": post.body_en,
        }
    return read(app, query)


def actions(app, prefix: str = "announcement.") -> list[str]:
    return read(app, lambda db: list(db.scalars(
        select(AuditEvent.action).where(AuditEvent.action.startswith(prefix))
        .order_by(AuditEvent.id))))


def form_data(**overrides) -> dict:
    data = {"title_kk": "", "title_ru": "", "title_en": "Winners announced",
            "summary_kk": "", "summary_ru": "", "summary_en": "The jury has decided.",
            "body_kk": "", "body_ru": "", "body_en": "Congratulations to **all**.",
            "slug": "", "call_id": "", "image_alt": "", "publish_at": "",
            "timezone": "Asia/Almaty", "action": "save"}
    data.update(overrides)
    return data


@pytest.fixture
def admin(make_user):
    return make_user("admin@example.com", admin=True, name="Admin")


@pytest.fixture
def admin_client(client, admin, login_as):
    login_as(admin)
    return english(client)


def create(client, **overrides):
    data = form_data(**overrides)
    data["csrf_token"] = get_csrf(client, NEW)
    return client.post(NEW, data=data, content_type="multipart/form-data")


def edit(client, post_id: int, **overrides):
    """Send the edit form back as the browser shows it, with ``overrides``."""
    page = client.get(f"/admin/news/{post_id}").get_data(as_text=True)
    data = form_data(**{name: html.unescape(value) for name, value in re.findall(
        r'<input[^>]*?name="([a-z_]+)"[^>]*?value="([^"]*)"', page)
        if name in ("title_kk", "title_ru", "title_en", "slug", "version")})
    for name in ("summary", "body"):
        for code in ("kk", "ru", "en"):
            match = re.search(rf'<textarea[^>]*name="{name}_{code}"[^>]*>\n?([^<]*)</textarea>',
                              page)
            data[f"{name}_{code}"] = html.unescape(match.group(1))
    call = re.search(r'<option selected value="(\d*)"', page)
    data["call_id"] = call.group(1) if call else ""
    data.update(overrides)
    data["csrf_token"] = csrf_from(page)
    return client.post(f"/admin/news/{post_id}", data=data, content_type="multipart/form-data")


# ---- permissions and CSRF ---------------------------------------------------------------------


ADMIN_GETS = ["/admin/news/", NEW, "/admin/news/{id}", "/admin/news/{id}/delete"]
ADMIN_POSTS = [NEW, "/admin/news/{id}", "/admin/news/{id}/delete",
               "/admin/news/{id}/images/{image}/delete"]


def _arrange_post(app):
    def build(db):
        post = make_announcement(db, slug="target")
        image = AnnouncementImage(announcement=post, stored_name="ab12.png",
                                  original_name="a.png", content_type="image/png", size=1)
        db.add(image)
        db.flush()
        return post.id, image.id
    return arrange(app, build)


@pytest.mark.parametrize("url", ADMIN_GETS + ADMIN_POSTS)
def test_admin_news_anonymous_is_sent_to_login(app, client, url):
    post_id, image_id = _arrange_post(app)
    url = url.format(id=post_id, image=image_id)
    method = client.post if url in [u.format(id=post_id, image=image_id)
                                    for u in ADMIN_POSTS] else client.get
    response = method(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/login")


@pytest.mark.parametrize("url", ADMIN_GETS)
def test_admin_news_pages_forbidden_for_applicants_and_jurors(app, client, make_user,
                                                              login_as, url):
    post_id, image_id = _arrange_post(app)
    login_as(make_user("applicant@example.com"))
    assert client.get(url.format(id=post_id, image=image_id)).status_code == 403


@pytest.mark.parametrize("url", ADMIN_POSTS)
def test_admin_news_actions_forbidden_for_non_admins_and_change_nothing(
        app, client, make_user, login_as, url):
    post_id, image_id = _arrange_post(app)
    login_as(make_user("jury1@example.com"))
    token = get_csrf(client, "/")
    response = client.post(url.format(id=post_id, image=image_id),
                           data=form_data(csrf_token=token, title_en="Hacked"))
    assert response.status_code == 403
    assert post_of(app, "target")["title_en"] != "Hacked"
    assert actions(app) == []


def test_create_without_csrf_is_refused(app, admin_client):
    data = form_data()
    response = admin_client.post(NEW, data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "The form expired. Please submit it again." in text_of(response)
    assert read(app, lambda db: db.scalar(select(func.count(Announcement.id)))) == 0


@pytest.mark.parametrize("url", ["/admin/news/{id}/delete",
                                 "/admin/news/{id}/images/{image}/delete"])
def test_admin_news_buttons_without_csrf_are_refused(app, admin_client, url):
    post_id, image_id = _arrange_post(app)
    assert admin_client.post(url.format(id=post_id, image=image_id)).status_code == 400
    assert post_of(app, "target")["images"] == ["ab12.png"]


# ---- writing --------------------------------------------------------------------------------


def test_create_post_saves_draft_with_slug_and_audit(app, admin_client):
    response = create(admin_client)
    post = post_of(app, "winners-announced")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/news/{post['id']}"
    assert post["status"] == AnnouncementStatus.DRAFT
    assert post["publish_at"] is None
    assert actions(app) == ["announcement.create"]
    assert english(admin_client).get("/news/winners-announced").status_code == 200


def test_create_requires_a_title_in_some_language(app, admin_client):
    response = create(admin_client, title_en="", summary_en="Kept summary")
    page = text_of(response)
    assert response.status_code == 400
    assert "Enter the title in at least one language." in page
    assert "Kept summary" in page
    assert "This language has a text but no title; add the title." in page


def test_create_with_taken_slug_keeps_typing(app, admin_client):
    arrange(app, lambda db: make_announcement(db, slug="taken"))
    response = create(admin_client, slug="taken", title_en="My typed title")
    page = text_of(response)
    assert response.status_code == 400
    assert "Another post already uses this address name." in page
    assert 'value="My typed title"' in page


def test_create_with_bad_slug_is_explained(admin_client):
    response = create(admin_client, slug="Bad Slug!")
    assert response.status_code == 400
    assert "Use lower-case Latin letters, digits and hyphens" in text_of(response)


@pytest.mark.parametrize(("title", "slug"), [
    ("Жыл волонтері — 2026", "zhyl-volonteri-2026"),
    ("Қазақстан өңірлері: ұлы үміт", "qazaqstan-onirleri-uly-umit"),
    ("Объявлены победители премии «Щедрость»", "obyavleny-pobediteli-premii-shchedrost"),
    ("Café déjà vu!", "cafe-deja-vu"),
    ("***", ""),
])
def test_slugify_transliterates_cyrillic_and_kazakh(title, slug):
    assert slugify(title) == slug


def test_create_russian_only_post_gets_transliterated_unique_slug(app, admin_client):
    arrange(app, lambda db: make_announcement(db, slug="itogi-goda"))
    create(admin_client, title_en="", summary_en="", body_en="", title_ru="Итоги года")
    assert post_of(app, "itogi-goda-2")["title_ru"] == "Итоги года"


def test_create_links_to_a_call(app, admin_client):
    call_id = arrange(app, lambda db: make_call(db).id)
    create(admin_client, call_id=str(call_id))
    assert post_of(app, "winners-announced")["call_id"] == call_id


def test_create_with_unknown_call_is_refused(admin_client):
    response = create(admin_client, call_id="9999")
    assert response.status_code == 400
    assert "Not a valid choice" in text_of(response)


def test_preview_renders_sanitised_markdown_without_saving(app, admin_client):
    response = create(admin_client, action="preview",
                      body_en="## Part\n\n<script>alert(1)</script>**strong**",
                      title_ru="Заголовок")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Preview — not saved yet" in page
    assert '<article lang="en" class="news-preview-lang">' in page
    assert '<article lang="ru" class="news-preview-lang">' in page
    assert "<h3>Part</h3>" in page
    assert "<p><strong>strong</strong></p>" in page
    assert "<script>alert(1)" not in page
    assert read(app, lambda db: db.scalar(select(func.count(Announcement.id)))) == 0


def test_edit_updates_texts_and_audits_the_change(app, admin_client):
    post_id = arrange(app, lambda db: make_announcement(db, slug="editable",
                                                        title_en="Old").id)
    response = edit(admin_client, post_id, title_en="New title", slug="editable")
    assert response.status_code == 302
    assert post_of(app, "editable")["title_en"] == "New title"
    event = read(app, lambda db: db.scalar(select(AuditEvent).where(
        AuditEvent.action == "announcement.update")))
    assert event.before_data()["title_en"] == "Old"
    assert event.after_data()["title_en"] == "New title"


def test_edit_with_stale_version_is_409_and_saves_nothing(app, admin_client):
    post_id = arrange(app, lambda db: make_announcement(db, slug="contested",
                                                        title_en="Original").id)
    page = admin_client.get(f"/admin/news/{post_id}").get_data(as_text=True)
    stale = html.unescape(re.search(r'name="version" type="hidden" value="([^"]*)"',
                                    page).group(1))
    edit(admin_client, post_id, title_en="First editor", slug="contested")
    response = edit(admin_client, post_id, title_en="Second editor", slug="contested",
                    version=stale)
    body = text_of(response)
    assert response.status_code == 409
    assert "Someone else changed this post while you were editing it." in body
    assert 'value="Second editor"' in body
    assert post_of(app, "contested")["title_en"] == "First editor"
    assert actions(app) == ["announcement.update"]


def test_publish_now_makes_post_public(app, admin_client, client):
    post_id = arrange(app, lambda db: make_announcement(
        db, slug="to-publish", title_en="To publish", status=AnnouncementStatus.DRAFT,
        publish_at=None).id)
    before = utcnow().replace(microsecond=0)
    response = edit(admin_client, post_id, title_en="To publish", slug="to-publish",
                    action="publish")
    assert response.status_code == 302
    post = post_of(app, "to-publish")
    assert post["status"] == AnnouncementStatus.PUBLISHED
    assert before <= post["publish_at"] <= utcnow()
    assert actions(app) == ["announcement.publish"]
    admin_client.post("/account/logout", data={"csrf_token": get_csrf(admin_client, "/")})
    assert client.get("/news/to-publish").status_code == 200


def test_schedule_in_almaty_time_hides_post_until_then(app, admin_client):
    post_id = arrange(app, lambda db: make_announcement(
        db, slug="later", title_en="Later", status=AnnouncementStatus.DRAFT,
        publish_at=None).id)
    response = edit(admin_client, post_id, title_en="Later", slug="later", action="schedule",
                    publish_at="2099-12-05T10:00", timezone="Asia/Almaty")
    assert response.status_code == 302
    post = post_of(app, "later")
    assert post["status"] == AnnouncementStatus.SCHEDULED
    assert post["publish_at"] == datetime(2099, 12, 5, 5, 0, tzinfo=UTC)
    assert actions(app) == ["announcement.schedule"]
    listing = admin_client.get("/admin/news/?status=scheduled").get_data(as_text=True)
    assert f'id="post-{post_id}"' in listing
    assert "5 December 2099, 10:00" in listing


@pytest.mark.parametrize(("publish_at", "message"), [
    ("", "Enter the date and time of publication."),
    ("2001-01-01T10:00", "Choose a time in the future, or publish the post now."),
])
def test_schedule_without_future_time_is_refused(app, admin_client, publish_at, message):
    post_id = arrange(app, lambda db: make_announcement(
        db, slug="nope", status=AnnouncementStatus.DRAFT, publish_at=None).id)
    response = edit(admin_client, post_id, title_en="Typed", slug="nope", action="schedule",
                    publish_at=publish_at)
    assert response.status_code == 400
    assert message in text_of(response)
    assert 'value="Typed"' in text_of(response)
    assert post_of(app, "nope")["status"] == AnnouncementStatus.DRAFT
    assert actions(app) == []


def test_back_to_draft_hides_post_again(app, admin_client):
    post_id = arrange(app, lambda db: make_announcement(db, slug="withdrawn",
                                                        title_en="W").id)
    edit(admin_client, post_id, title_en="W", slug="withdrawn", action="unpublish")
    post = post_of(app, "withdrawn")
    assert post["status"] == AnnouncementStatus.DRAFT
    assert actions(app) == ["announcement.unpublish"]


def test_admin_list_filters_by_state(app, admin_client):
    now = utcnow()

    def build(db):
        make_announcement(db, slug="d", title_en="Draft one", status=AnnouncementStatus.DRAFT,
                          publish_at=None)
        make_announcement(db, slug="s", title_en="Scheduled one",
                          status=AnnouncementStatus.SCHEDULED, publish_at=now + timedelta(1))
        make_announcement(db, slug="p", title_en="Published one")
        make_announcement(db, slug="s2", title_en="Scheduled and live",
                          status=AnnouncementStatus.SCHEDULED,
                          publish_at=now - timedelta(minutes=1))

    arrange(app, build)
    titles = {state: re.findall(r'<a href="/admin/news/\d+"[^>]*>([^<]+)</a>',
                                admin_client.get(f"/admin/news/?status={state}")
                                .get_data(as_text=True))
              for state in ("draft", "scheduled", "published")}
    assert titles == {"draft": ["Draft one"], "scheduled": ["Scheduled one"],
                      "published": ["Scheduled and live", "Published one"]}
    assert admin_client.get("/admin/news/?status=bogus").status_code == 404


def test_delete_asks_first_then_removes_post_and_files(app, admin_client):
    arrange(app, lambda db: make_announcement(db, slug="gone"))
    post_id = post_of(app, "gone")["id"]
    edit(admin_client, post_id, title_en="Gone", slug="gone",
         image=(io.BytesIO(png_bytes()), "pic.png"))
    stored = post_of(app, "gone")["images"][0]
    confirm = admin_client.get(f"/admin/news/{post_id}/delete")
    assert confirm.status_code == 200
    assert "Delete “Gone” for good, with its images?" in text_of(confirm)
    assert post_of(app, "gone") is not None
    token = csrf_from(confirm.get_data(as_text=True))
    response = admin_client.post(f"/admin/news/{post_id}/delete", data={"csrf_token": token})
    assert response.status_code == 302
    assert post_of(app, "gone") is None
    assert admin_client.get(f"/news/images/{stored}").status_code == 404
    assert actions(app)[-1] == "announcement.delete"
    with app.app_context():
        from awards.storage import path_for
        assert not path_for(stored).exists()


# ---- images ---------------------------------------------------------------------------------


def test_upload_body_image_shows_markdown_snippet(app, admin_client):
    post_id = arrange(app, lambda db: make_announcement(db, slug="pics").id)
    response = edit(admin_client, post_id, title_en="Pics", slug="pics",
                    image=(io.BytesIO(png_bytes()), "gala.png"), image_alt="Gala night")
    assert response.status_code == 302
    stored = post_of(app, "pics")["images"][0]
    page = text_of(admin_client.get(f"/admin/news/{post_id}"))
    assert f'value="![Gala night](/news/images/{stored})"' in page
    assert actions(app)[-1] == "announcement.image_add"


def test_upload_cover_replaces_old_file(app, admin_client):
    post_id = arrange(app, lambda db: make_announcement(db, slug="cover").id)
    edit(admin_client, post_id, cover=(io.BytesIO(png_bytes()), "one.png"))
    first = post_of(app, "cover")["image_name"]
    edit(admin_client, post_id, cover=(io.BytesIO(png_bytes((8, 8))), "two.png"))
    second = post_of(app, "cover")["image_name"]
    assert first != second
    assert admin_client.get(f"/news/images/{second}").status_code == 200
    assert admin_client.get(f"/news/images/{first}").status_code == 404
    assert actions(app) == ["announcement.cover", "announcement.cover"]


def test_upload_that_is_not_an_image_is_refused_and_nothing_saved(app, admin_client):
    post_id = arrange(app, lambda db: make_announcement(db, slug="bad-upload",
                                                        title_en="Before").id)
    response = edit(admin_client, post_id, title_en="After", slug="bad-upload",
                    image=(io.BytesIO(EXE), "virus.png"))
    page = text_of(response)
    assert response.status_code == 400
    assert "is not an allowed type (PNG, JPEG, WEBP, GIF)" in page
    assert 'value="After"' in page
    assert post_of(app, "bad-upload")["title_en"] == "Before"
    assert post_of(app, "bad-upload")["images"] == []


def test_delete_body_image(app, admin_client):
    post_id = arrange(app, lambda db: make_announcement(db, slug="one-pic").id)
    edit(admin_client, post_id, title_en="P", slug="one-pic",
         image=(io.BytesIO(png_bytes()), "x.png"))
    image_id = read(app, lambda db: db.scalar(select(AnnouncementImage.id)))
    token = get_csrf(admin_client, f"/admin/news/{post_id}")
    response = admin_client.post(f"/admin/news/{post_id}/images/{image_id}/delete",
                                 data={"csrf_token": token})
    assert response.status_code == 302
    assert post_of(app, "one-pic")["images"] == []
    assert actions(app)[-1] == "announcement.image_delete"


def test_image_of_another_post_cannot_be_deleted_through_this_one(app, admin_client):
    ids = arrange(app, lambda db: (make_announcement(db, slug="a").id,
                                   make_announcement(db, slug="b").id))
    edit(admin_client, ids[1], title_en="B", slug="b", image=(io.BytesIO(png_bytes()), "x.png"))
    image_id = read(app, lambda db: db.scalar(select(AnnouncementImage.id)))
    token = get_csrf(admin_client, "/admin/news/")
    response = admin_client.post(f"/admin/news/{ids[0]}/images/{image_id}/delete",
                                 data={"csrf_token": token})
    assert response.status_code == 404


# ---- the draft written when a call opens ------------------------------------------------------


def _draft_call(db):
    return make_call(db, status=CallStatus.DRAFT,
                     opens_at=datetime(2027, 10, 1, 4, 0, tzinfo=UTC),
                     closes_at=datetime(2027, 11, 30, 18, 59, tzinfo=UTC)).id


def test_opening_a_call_writes_one_draft_in_three_languages(app, admin, client):
    from awards import lifecycle

    call_id = arrange(app, _draft_call)

    def open_call(db):
        from awards.db import utcnow

        lifecycle.advance(session=db, actor=db.merge(admin), action="open",
                          call=db.get(Call, call_id), now=utcnow())

    arrange(app, open_call)
    post = read(app, lambda db: db.scalar(select(Announcement).where(
        Announcement.origin == "call_opened")))
    assert post.status == AnnouncementStatus.DRAFT
    assert post.call_id == call_id
    assert post.slug == "voy-2026-nominations-open"
    assert post.title_en == "Nominations are open: Volunteer of the Year 2026"
    assert post.title_ru and post.title_kk
    assert "Волонтёр года — 2026" in post.title_ru
    assert "Жыл волонтері — 2026" in post.title_kk
    assert post.body_en == (
        "Nominations for “Volunteer of the Year 2026” are open.\n\n"
        "- Opening: 1 October 2027, 09:00 (Almaty, UTC+5)\n"
        "- Deadline: 30 November 2027, 23:59 (Almaty, UTC+5)\n\n"
        "**Categories**\n\n- Social Helper\n- Environmental Volunteering\n\n"
        "[Rules and the nomination form](/calls/voy-2026)")
    assert "30 ноября 2027\u202fг., 23:59 (Алматы, UTC+5)" in post.body_ru
    assert "- Социальный помощник" in post.body_ru
    assert post.summary_en == "Nominations are accepted until 30 November 2027, 23:59 " \
                              "(Almaty, UTC+5)."
    assert read(app, lambda db: list(db.scalars(select(AuditEvent.action).order_by(
        AuditEvent.id)))) == ["call.phase_changed", "announcement.create"]
    # Invisible to visitors until an administrator publishes it.
    assert client.get(f"/news/{post.slug}").status_code == 404


def test_reopening_a_call_does_not_write_a_second_draft(app, admin):
    from awards import lifecycle

    call_id = arrange(app, _draft_call)

    def move(action):
        def run(db):
            from awards.db import utcnow

            lifecycle.advance(session=db, actor=db.merge(admin), action=action,
                              call=db.get(Call, call_id), now=utcnow())
        return run

    for action in ("open", "close", "reopen"):
        arrange(app, move(action))
    assert read(app, lambda db: db.scalar(select(func.count(Announcement.id)).where(
        Announcement.call_id == call_id))) == 1


def test_opening_a_call_through_the_call_page_writes_the_draft(app, admin_client):
    call_id = arrange(app, _draft_call)
    response = post_form(admin_client, f"/admin/calls/{call_id}/phase/open", {},
                         csrf_url=f"/admin/calls/{call_id}/phase/open")
    assert response.status_code == 303
    listing = text_of(admin_client.get("/admin/news/?status=draft"))
    assert "Nominations are open: Volunteer of the Year 2026" in listing
    assert "Written automatically when the call opened" in listing


def test_demo_seed_writes_posts_and_drafts_once(app):
    from awards.demo import seed_demo

    def seed(db):
        return seed_demo(db)

    assert arrange(app, seed) is True
    counts = read(app, lambda db: (
        db.scalar(select(func.count(Announcement.id)).where(
            Announcement.status == AnnouncementStatus.PUBLISHED)),
        db.scalar(select(func.count(Announcement.id)).where(
            Announcement.origin == "call_opened"))))
    assert counts == (3, 2)
    assert arrange(app, seed) is False
    assert read(app, lambda db: db.scalar(select(func.count(Announcement.id)))) == 5


def test_admin_dashboard_links_to_news(admin_client):
    page = admin_client.get("/admin/").get_data(as_text=True)
    assert '<a class="button" href="/admin/news/">News</a>' in page
