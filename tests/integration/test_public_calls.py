"""The public call pages: the list of open and upcoming calls, a call's page with rules,
categories, deadline and countdown; draft calls hidden from everyone but administrators.

Pages are requested in English (Accept-Language) so the assertions hold whatever the kk/ru
catalogs say."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from awards.db import utcnow
from awards.enums import CallStatus
from tests.factories import arrange, make_call


@pytest.fixture
def client(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def text_of(response) -> str:
    return response.get_data(as_text=True)


def section(page: str, heading_id: str) -> str:
    match = re.search(rf'<section aria-labelledby="{heading_id}">(.*?)</section>', page, re.S)
    assert match, f"no section {heading_id}"
    return match.group(1)


def titles_in(fragment: str) -> list[str]:
    return [html.unescape(title)
            for title in re.findall(r'<h3><a href="[^"]+">(.*?)</a></h3>', fragment)]


def countdown_of(page: str) -> str:
    match = re.search(r'<p class="countdown"[^>]*>(.*?)</p>', page, re.S)
    return match.group(1) if match else ""


ALMATY = ZoneInfo("Asia/Almaty")


def test_calls_index_lists_open_and_upcoming_calls_for_visitors(app, client):
    now = utcnow()

    def build(session):
        make_call(session, slug="open-later", title_en="Open, closes later",
                  closes_at=now + timedelta(days=20))
        make_call(session, slug="open-soon", title_en="Open, closes soon",
                  closes_at=now + timedelta(days=2))
        make_call(session, slug="upcoming", title_en="Upcoming",
                  opens_at=now + timedelta(days=3), closes_at=now + timedelta(days=40))
        make_call(session, slug="draft", title_en="Draft call", status=CallStatus.DRAFT)
        make_call(session, slug="closed", title_en="Closed call",
                  opens_at=now - timedelta(days=30), closes_at=now - timedelta(seconds=1))
        make_call(session, slug="screening", title_en="In screening",
                  status=CallStatus.SCREENING, closes_at=now + timedelta(days=1))

    arrange(app, build)

    response = client.get("/calls/")

    assert response.status_code == 200
    page = text_of(response)
    assert titles_in(section(page, "open-calls")) == ["Open, closes soon", "Open, closes later"]
    assert titles_in(section(page, "upcoming-calls")) == ["Upcoming"]
    assert "Draft call" not in page
    assert "Closed call" not in page
    assert "In screening" not in page
    assert '<a class="button primary" href="/nominations/start/open-soon">Nominate</a>' in page


@pytest.mark.parametrize(
    ("zone", "shown", "note"),
    [("Asia/Almaty", "30 November 2030, 23:59", "Times are Almaty time (UTC+5)."),
     ("Asia/Tokyo", "1 December 2030, 03:59", "Times are Tokyo time (UTC+9).")],
)
def test_calls_index_shows_deadline_in_call_time_zone(app, client, zone, shown, note):
    closes = datetime(2030, 11, 30, 23, 59, 59, tzinfo=ALMATY)
    arrange(app, lambda s: make_call(s, timezone=zone, closes_at=closes))

    page = text_of(client.get("/calls/"))

    assert f"<p><strong>Deadline:</strong> {shown}</p>" in page
    assert note in page and zone not in page  # the zone in words, once, never its id
    assert "National Volunteer Network" in section(page, "open-calls")


@pytest.mark.parametrize(
    ("left", "text"),
    [(timedelta(days=2, hours=3, minutes=30), "2 days 3 hours left"),
     (timedelta(days=1, minutes=30), "1 day 0 hours left"),
     (timedelta(hours=5, minutes=10, seconds=30), "5 hours 10 minutes left"),
     (timedelta(hours=1, seconds=30), "1 hour 0 minutes left"),
     (timedelta(minutes=1, seconds=30), "1 minute left")],
)
def test_call_page_countdown_rendered_on_server(app, client, left, text):
    arrange(app, lambda s: make_call(s, closes_at=utcnow() + left))

    page = text_of(client.get("/calls/voy-2026"))

    assert countdown_of(page) == text
    assert countdown_of(text_of(client.get("/calls/"))) == text


def test_call_page_countdown_script_is_a_static_file_not_inline(app, client):
    arrange(app, lambda s: make_call(s))

    page = text_of(client.get("/calls/voy-2026"))
    # Static files are linked under content-hashed names (awards/http_cache.py).
    sources = re.findall(r'<script src="([^"]*)" defer>', page)
    script = client.get(sources[-1])

    assert len(re.findall(r"<script[^>]*>", page)) == 2
    assert [re.sub(r"\.[0-9a-f]{12}\.js$", ".js", src) for src in sources] == [
        "/static/js/app.js", "/static/js/countdown.js"]
    assert 'data-template="{time} left"' in page
    assert script.status_code == 200
    assert "data-deadline" in script.get_data(as_text=True)
    script.close()


def test_call_page_shows_rules_escaped_with_line_breaks(app, client):
    rules = "Anyone may nominate.\nSee <b>rules</b> & <script>alert(1)</script>\n\nSecond part."
    arrange(app, lambda s: make_call(s, rules_en=rules))

    page = text_of(client.get("/calls/voy-2026"))

    assert ("<p>Anyone may nominate.<br>See &lt;b&gt;rules&lt;/b&gt; &amp; "
            "&lt;script&gt;alert(1)&lt;/script&gt;</p>") in page
    assert "<p>Second part.</p>" in page
    assert "<script>alert(1)</script>" not in page


def test_call_page_lists_categories_with_descriptions_and_nominate_links(app, client):
    arrange(app, lambda s: make_call(s))

    page = text_of(client.get("/calls/voy-2026"))

    assert re.findall(r'<li class="card" id="category-([\w-]+)">\s*<h3>(.*?)</h3>', page) == [
        ("social", "Social Helper"), ("ecology", "Environmental Volunteering")]
    assert "<p>For help to people in need.</p>" in page
    assert '<a href="/nominations/start/voy-2026?category=ecology">' in page
    assert '<a class="button primary" href="/nominations/start/voy-2026">Nominate</a>' in page
    assert "<dt>Who can nominate</dt>\n    <dd>Myself; Another person; On behalf of an " \
           "organisation</dd>" in page


@pytest.mark.parametrize("language, title", [("ru", "Волонтёр года — 2026"),
                                             ("kk", "Жыл волонтері — 2026")])
def test_call_page_in_page_language(app, client, language, title):
    arrange(app, lambda s: make_call(s))
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language

    page = text_of(client.get("/calls/voy-2026"))

    assert f"<h1>{title}</h1>" in page


@pytest.mark.parametrize(
    ("opens", "closes", "notice"),
    [(timedelta(days=-30), timedelta(seconds=-1), "Nominations for this call are closed."),
     (timedelta(days=2), timedelta(days=30), "Nominations open on ")],
)
def test_call_page_without_nominate_button_when_not_open(app, client, opens, closes, notice):
    now = utcnow()
    arrange(app, lambda s: make_call(s, opens_at=now + opens, closes_at=now + closes))

    page = text_of(client.get("/calls/voy-2026"))

    assert notice in page
    assert "/nominations/start/" not in page
    assert countdown_of(page) == ""


@pytest.mark.parametrize(("who", "status"), [("visitor", 404), ("user", 404), ("admin", 200)])
def test_draft_call_visible_only_to_administrators(app, client, make_user, login_as, who,
                                                   status):
    arrange(app, lambda s: make_call(s, status=CallStatus.DRAFT))
    if who != "visitor":
        login_as(make_user(f"{who}@example.com", admin=who == "admin"))

    response = client.get("/calls/voy-2026")

    assert response.status_code == status
    if status == 200:
        assert "Draft: this call is not public; only administrators see this page." in \
            text_of(response)


def test_unknown_call_is_404(client):
    assert client.get("/calls/no-such-call").status_code == 404


def test_calls_index_without_calls_says_so(client):
    page = text_of(client.get("/calls/"))

    assert '<p class="empty">No calls are open right now.</p>' in page
    assert '<p class="empty">No calls are announced yet.</p>' in page
