"""Public news: the list with pagination, previous/next links, the embargo of scheduled posts
(list, page, feed, images), the language fallback, the Atom feeds and the call page's block."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest

from awards.db import utcnow
from awards.enums import AnnouncementStatus
from tests.announcements_factories import attach_image, make_announcement, store_image
from tests.conftest import login
from tests.factories import arrange, english, make_call, png_bytes

ATOM = "{http://www.w3.org/2005/Atom}"


def slugs_on(page: str) -> list[str]:
    return re.findall(r'<h2><a href="/news/([a-z0-9-]+)">', page)


def make_posts(app, count: int) -> None:
    """``count`` posts, post-1 the oldest, one minute apart."""
    now = utcnow()

    def build(db):
        for i in range(1, count + 1):
            make_announcement(db, slug=f"post-{i}", title_en=f"Post {i}",
                              publish_at=now - timedelta(minutes=count + 1 - i))

    arrange(app, build)


def test_news_list_empty_shows_message(client):
    response = english(client).get("/news/")
    assert response.status_code == 200
    assert "No news yet." in response.get_data(as_text=True)


def test_news_list_paginates_newest_first(app, client):
    make_posts(app, 23)
    english(client)
    first = client.get("/news/").get_data(as_text=True)
    assert slugs_on(first) == [f"post-{i}" for i in range(23, 13, -1)]
    assert "Page 1 of 3" in first
    assert 'rel="next" href="/news/?page=2"' in first
    second = client.get("/news/?page=2").get_data(as_text=True)
    assert slugs_on(second) == [f"post-{i}" for i in range(13, 3, -1)]
    assert 'rel="prev" href="/news/"' in second
    third = client.get("/news/?page=3").get_data(as_text=True)
    assert slugs_on(third) == ["post-3", "post-2", "post-1"]
    assert 'rel="next"' not in third


@pytest.mark.parametrize("page", ["4", "0", "-1", "abc", "1.5"])
def test_news_list_page_out_of_range_is_404(app, client, page):
    make_posts(app, 23)
    assert client.get(f"/news/?page={page}").status_code == 404


def test_news_list_second_page_of_empty_list_is_404(client):
    assert client.get("/news/?page=2").status_code == 404


def test_post_previous_next_links_follow_publication_order(app, client):
    make_posts(app, 3)
    english(client)
    middle = client.get("/news/post-2").get_data(as_text=True)
    assert re.search(r'rel="prev" href="/news/post-1"', middle)
    assert re.search(r'rel="next" href="/news/post-3"', middle)
    oldest = client.get("/news/post-1").get_data(as_text=True)
    assert 'rel="prev"' not in oldest
    assert 'rel="next" href="/news/post-3"' not in oldest
    assert 'rel="next" href="/news/post-2"' in oldest
    newest = client.get("/news/post-3").get_data(as_text=True)
    assert 'rel="prev" href="/news/post-2"' in newest
    assert 'rel="next"' not in newest


def test_post_neighbours_with_same_time_are_ordered_by_id(app, client):
    at = utcnow() - timedelta(hours=2)
    arrange(app, lambda db: [make_announcement(db, slug=s, publish_at=at)
                             for s in ("same-a", "same-b", "same-c")])
    page = client.get("/news/same-b").get_data(as_text=True)
    assert 'rel="prev" href="/news/same-a"' in page
    assert 'rel="next" href="/news/same-c"' in page


def test_post_neighbours_skip_drafts_and_scheduled(app, client):
    now = utcnow()

    def build(db):
        make_announcement(db, slug="old", publish_at=now - timedelta(hours=3))
        make_announcement(db, slug="hidden-draft", status=AnnouncementStatus.DRAFT,
                          publish_at=None)
        make_announcement(db, slug="middle", publish_at=now - timedelta(hours=2))
        make_announcement(db, slug="future", status=AnnouncementStatus.SCHEDULED,
                          publish_at=now + timedelta(hours=2))

    arrange(app, build)
    page = client.get("/news/middle").get_data(as_text=True)
    assert 'rel="prev" href="/news/old"' in page
    assert 'rel="next"' not in page


def test_scheduled_post_is_hidden_everywhere_until_its_time(app, client):
    now = utcnow()
    stored = store_image(app, png_bytes(), "cover.png")
    body_image = store_image(app, png_bytes(), "inline.png")

    def build(db):
        post = make_announcement(db, slug="embargoed", title_en="Embargoed winners",
                                 status=AnnouncementStatus.SCHEDULED,
                                 publish_at=now + timedelta(hours=1), image_name=stored)
        attach_image(db, post, body_image)

    arrange(app, build)
    english(client)
    assert "embargoed" not in client.get("/news/").get_data(as_text=True)
    assert client.get("/news/embargoed").status_code == 404
    assert "Embargoed winners" not in client.get("/news/feed.en.atom").get_data(as_text=True)
    assert client.get(f"/news/images/{stored}").status_code == 404
    assert client.get(f"/news/images/{body_image}").status_code == 404


def test_scheduled_post_appears_once_its_time_has_passed(app, client):
    now = utcnow()
    stored = store_image(app, png_bytes(), "cover.png")
    arrange(app, lambda db: make_announcement(
        db, slug="went-live", title_en="Went live", status=AnnouncementStatus.SCHEDULED,
        publish_at=now - timedelta(seconds=5), image_name=stored))
    english(client)
    assert slugs_on(client.get("/news/").get_data(as_text=True)) == ["went-live"]
    assert client.get("/news/went-live").status_code == 200
    assert "<title>Went live</title>" in client.get("/news/feed.en.atom").get_data(as_text=True)
    image = client.get(f"/news/images/{stored}")
    assert image.status_code == 200
    assert image.mimetype == "image/png"
    assert image.data == png_bytes()


def test_draft_post_is_404_for_visitors_and_visible_to_admins(app, client, make_user,
                                                                login_as):
    arrange(app, lambda db: make_announcement(db, slug="draft-post", title_en="Secret draft",
                                              status=AnnouncementStatus.DRAFT, publish_at=None))
    assert client.get("/news/draft-post").status_code == 404
    login_as(make_user("applicant@example.com"))
    assert client.get("/news/draft-post").status_code == 404
    admin_client = app.test_client()
    login(admin_client, make_user("admin@example.com", admin=True).email)
    response = english(admin_client).get("/news/draft-post")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Draft: this post is not public; only administrators see this page." in page
    assert response.headers["Cache-Control"] == "private, no-store"


def test_image_of_unknown_name_is_404(client):
    assert client.get("/news/images/deadbeef.png").status_code == 404
    assert client.get("/news/images/..%2Fsecret.png").status_code == 404


def test_post_page_shows_translation_fallback_with_lang(app, client):
    arrange(app, lambda db: make_announcement(
        db, slug="ru-only", title_en="", summary_en="", body_en="", title_kk="",
        summary_kk="", body_kk="", title_ru="Только по-русски", body_ru="Текст"))
    page = english(client).get("/news/ru-only").get_data(as_text=True)
    assert '<h1 id="post-title" lang="ru">Только по-русски</h1>' in page
    assert '<div class="news-body" lang="ru"><p>Текст</p></div>' in page


def test_post_page_renders_sanitised_body_and_call_link(app, client):
    def build(db):
        call = make_call(db)
        make_announcement(db, slug="with-call", call_id=call.id,
                          body_en="Hi <script>alert(1)</script>[go](javascript:alert(1))")

    arrange(app, build)
    page = english(client).get("/news/with-call").get_data(as_text=True)
    assert "<script>alert" not in page
    assert "javascript:" not in page
    assert '<a href="/calls/voy-2026">Volunteer of the Year 2026</a>' in page


def test_news_pages_link_the_atom_feeds(app, client):
    arrange(app, lambda db: make_announcement(db, slug="linked"))
    for url in ("/news/", "/news/linked"):
        page = english(client).get(url).get_data(as_text=True)
        for code in ("kk", "ru", "en"):
            assert (f'<link rel="alternate" type="application/atom+xml" hreflang="{code}" '
                    f'href="/news/feed.{code}.atom"') in page


def test_atom_feed_is_valid_and_per_language(app, client):
    now = utcnow()

    def build(db):
        make_announcement(db, slug="both", title_en="Both <languages> & more",
                          title_ru="Обе", body_en="Hello **bold** ![p](/news/images/ab.png)",
                          publish_at=now - timedelta(hours=2))
        make_announcement(db, slug="russian-only", title_en="", summary_en="", body_en="",
                          title_kk="", summary_kk="", body_kk="", title_ru="Только русский",
                          publish_at=now - timedelta(hours=1))
        make_announcement(db, slug="draft", status=AnnouncementStatus.DRAFT, publish_at=None)

    arrange(app, build)
    response = client.get("/news/feed.en.atom")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    root = ET.fromstring(response.data)
    assert root.tag == f"{ATOM}feed"
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    assert root.find(f"{ATOM}id").text == "http://localhost/news/feed.en.atom"
    assert root.find(f"{ATOM}updated").text.endswith("Z")
    entries = root.findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}title").text for e in entries] == ["Both <languages> & more"]
    entry = entries[0]
    assert entry.find(f"{ATOM}link").get("href") == "http://localhost/news/both"
    assert entry.find(f"{ATOM}id").text.startswith("tag:localhost,")
    content = entry.find(f"{ATOM}content")
    assert content.get("type") == "html"
    assert content.text == ('<p>Hello <strong>bold</strong> '
                            '<img alt="p" src="/news/images/ab.png"></p>')
    assert content.get("{http://www.w3.org/XML/1998/namespace}base") == "http://localhost/"

    ru = ET.fromstring(client.get("/news/feed.ru.atom").data)
    assert [e.find(f"{ATOM}title").text for e in ru.findall(f"{ATOM}entry")] == \
        ["Только русский", "Обе"]


def test_atom_feed_for_unknown_language_is_404(client):
    assert client.get("/news/feed.de.atom").status_code == 404


def test_atom_feed_without_posts_is_valid(client):
    root = ET.fromstring(client.get("/news/feed.kk.atom").data)
    assert root.findall(f"{ATOM}entry") == []
    assert root.find(f"{ATOM}title").text


def test_call_page_lists_its_visible_news(app, client):
    now = utcnow()

    def build(db):
        call = make_call(db)
        make_announcement(db, slug="about-call", title_en="About the call", call_id=call.id)
        make_announcement(db, slug="later", title_en="Not yet", call_id=call.id,
                          status=AnnouncementStatus.SCHEDULED,
                          publish_at=now + timedelta(days=1))
        make_announcement(db, slug="other", title_en="Unrelated")

    arrange(app, build)
    page = english(client).get("/calls/voy-2026").get_data(as_text=True)
    assert "News about this call" in page
    assert '<a href="/news/about-call">About the call</a>' in page
    assert "Not yet" not in page
    assert "Unrelated" not in page
