"""News in a real browser: an administrator writes a post in Markdown (a heading and a link),
chooses a cover image, previews (the preview shows the cover, kept although the browser empties
the file input), publishes it with that cover; a visitor finds it at the top of the news list,
opens it (cover and all), and walks to the older posts and back with the previous/next links.

Two older posts are written straight to the database; the new one goes through the form.
Elements are found by id, name, href or rel, never by translated text."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from awards.db import utcnow
from tests.announcements_factories import make_announcement
from tests.conftest import PASSWORD
from tests.factories import arrange, png_bytes
from tests.jury_factories import make_account

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

SLUG = "season-results-2026"
TITLE = "Итоги волонтёрского сезона"
SUMMARY = "Как прошёл сезон и что дальше."
HEADING = "Что мы сделали"
LINK_TEXT = "страница премии"
LINK = "https://example.org/volunteer-of-the-year"
BODY = (f"Сезон завершён.\n\n## {HEADING}\n\n"
        f"Очистили **12 рек**. Подробности — [{LINK_TEXT}]({LINK}).")


def test_admin_publishes_markdown_post_and_visitor_reads_and_navigates(app, browser,
                                                                         live_server):
    from playwright.sync_api import expect

    def build(session):
        make_account(session, "editor@example.com", name="Редактор Новостей", admin=True)
        older = make_announcement(session, slug="older-post", title_ru="Старая новость",
                                  publish_at=utcnow() - timedelta(days=2))
        middle = make_announcement(session, slug="middle-post", title_ru="Вчерашняя новость",
                                   publish_at=utcnow() - timedelta(days=1))
        return older.slug, middle.slug

    older, middle = arrange(app, build)
    problems: list[str] = []
    contexts = []

    def new_page(who):
        context = browser.new_context(base_url=live_server, locale="ru-RU")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15000)
        page.on("pageerror", lambda exc: problems.append(f"{who}: JS error: {exc}"))
        page.on("response", lambda r: r.status >= 400
                and problems.append(f"{who}: {r.status} {r.url}"))
        return page

    try:
        # ---- the administrator writes and publishes ----------------------------------------
        admin = new_page("admin")
        admin.goto("/account/login")
        admin.locator("#email").fill("editor@example.com")
        admin.locator("#password").fill(PASSWORD)
        admin.locator('main form button[type="submit"]').click()
        expect(admin.locator(".site-header")).to_contain_text("Редактор Новостей")

        admin.goto("/admin/news/")
        admin.locator('main a[href$="/admin/news/new"]').click()
        expect(admin).to_have_url(re.compile(r"/admin/news/new$"))
        admin.locator("#title_ru").fill(TITLE)
        admin.locator("#summary_ru").fill(SUMMARY)
        admin.locator("#body_ru").fill(BODY)
        admin.locator("#slug").fill(SLUG)
        admin.locator("#cover").set_input_files(files=[{
            "name": "cover.png", "mimeType": "image/png", "buffer": png_bytes((40, 20))}])

        # A preview first: rendered, nothing saved, the chosen cover shown and kept.
        admin.locator('button[name="action"][value="preview"]').click()
        preview = admin.locator(".news-preview")
        expect(preview).to_be_visible()
        cover = preview.locator("img.news-preview-cover")
        expect(cover).to_be_visible()
        assert cover.evaluate("img => img.complete && img.naturalWidth") == 40
        expect(admin.locator(".news-pending-cover")).to_contain_text("cover.png")
        expect(admin.locator("#cover")).to_have_value("")  # the browser emptied the input
        expect(preview.locator(".news-body :is(h2, h3, h4)")).to_have_text(HEADING)
        expect(preview.locator(f'.news-body a[href="{LINK}"]')).to_have_text(LINK_TEXT)
        expect(admin).to_have_url(re.compile(r"/admin/news/new$"))
        expect(admin.locator("#body_ru")).to_have_value(BODY)

        admin.locator('button[name="action"][value="publish"]').click()
        expect(admin).to_have_url(re.compile(r"/admin/news/\d+$"))
        expect(admin.locator(".flash-success")).to_be_visible()
        post_link = admin.locator(f'.news-meta a[href$="/news/{SLUG}"]')
        expect(post_link).to_have_count(1)
        # Published with the cover chosen before the preview.
        expect(admin.locator('#pictures img.news-admin-thumb[src*="/news/images/"]')) \
            .to_have_count(1)
        ARTIFACTS.mkdir(exist_ok=True)
        admin.screenshot(path=str(ARTIFACTS / "news-1-admin-published.png"), full_page=True)

        # ---- a visitor finds it first in the list and opens it -----------------------------
        visitor = new_page("visitor")
        visitor.goto("/")
        visitor.locator('.main-nav a[href$="/news/"]').click()
        expect(visitor).to_have_url(re.compile(r"/news/$"))
        items = visitor.locator("ol.news-list > li.news-item")
        expect(items).to_have_count(3)
        first = items.first
        expect(first.locator("h2 a")).to_have_text(TITLE)
        expect(first.locator("h2 a")).to_have_attribute("href", re.compile(rf"/news/{SLUG}$"))
        expect(first).to_contain_text(SUMMARY)
        expect(items.nth(1).locator("h2 a")).to_have_attribute(
            "href", re.compile(rf"/news/{middle}$"))
        expect(items.nth(2).locator("h2 a")).to_have_attribute(
            "href", re.compile(rf"/news/{older}$"))
        visitor.screenshot(path=str(ARTIFACTS / "news-2-list.png"), full_page=True)

        first.locator("h2 a").click()
        expect(visitor).to_have_url(re.compile(rf"/news/{SLUG}$"))
        expect(visitor.locator("html")).to_have_attribute("lang", "ru")
        expect(visitor.locator("#post-title")).to_have_text(TITLE)
        expect(visitor.locator(".news-post .lead")).to_have_text(SUMMARY)
        body = visitor.locator(".news-post .news-body")
        expect(body.locator(":is(h2, h3, h4)")).to_have_text(HEADING)
        expect(body.locator("strong")).to_have_text("12 рек")
        link = body.locator(f'a[href="{LINK}"]')
        expect(link).to_have_text(LINK_TEXT)
        expect(body).not_to_contain_text("##")  # rendered, not shown as source
        expect(body).not_to_contain_text("](")
        expect(visitor.locator(".notice-news")).to_have_count(0)  # a public post, not a draft
        visitor_cover = visitor.locator(".news-post img.news-cover")
        expect(visitor_cover).to_be_visible()
        assert visitor_cover.evaluate("img => img.complete && img.naturalWidth") == 40
        visitor.screenshot(path=str(ARTIFACTS / "news-3-post.png"), full_page=True)

        # ---- previous / next ---------------------------------------------------------------
        nav = visitor.locator("nav.post-nav")
        expect(nav.locator('a[rel="next"]')).to_have_count(0)  # the newest post
        nav.locator('a[rel="prev"]').click()
        expect(visitor).to_have_url(re.compile(rf"/news/{middle}$"))
        expect(visitor.locator("#post-title")).to_have_text("Вчерашняя новость")
        nav.locator('a[rel="prev"]').click()
        expect(visitor).to_have_url(re.compile(rf"/news/{older}$"))
        expect(nav.locator('a[rel="prev"]')).to_have_count(0)  # the oldest post
        nav.locator('a[rel="next"]').click()
        expect(visitor).to_have_url(re.compile(rf"/news/{middle}$"))
        nav.locator('a[rel="next"]').click()
        expect(visitor).to_have_url(re.compile(rf"/news/{SLUG}$"))
        expect(visitor.locator("#post-title")).to_have_text(TITLE)

        assert problems == [], problems
    finally:
        for context in contexts:
            context.close()
