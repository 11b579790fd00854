"""Public news: the list with pagination, each post with previous/next links, an Atom feed per
language, and the posts' images (served only while their post is public)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from math import ceil

from flask import Blueprint, abort, current_app, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from awards import storage
from awards.announcements import services
from awards.announcements.markdown import render_markdown
from awards.announcements.models import Announcement
from awards.boundary import page_number
from awards.cache import public_page
from awards.db import get_db, utcnow
from awards.i18n import LANGUAGE_NAMES
from awards.permissions import is_admin

bp = Blueprint("announcements", __name__, url_prefix="/news")

PER_PAGE = 10
ATOM_NS = "http://www.w3.org/2005/Atom"
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def text_in(announcement: Announcement, field: str, lang: str | None = None
            ) -> tuple[str, str]:
    """(text, language) of ``field``: the reader's language when written, otherwise the first
    translation there is, so the page can mark it with its own ``lang``."""
    lang = lang or str(get_locale())
    for code in (lang, "ru", "en", "kk"):
        value = getattr(announcement, f"{field}_{code}", "") or ""
        if value.strip():
            return value, code
    return "", lang


@bp.app_template_global("news_text")
def news_text(announcement: Announcement, field: str) -> tuple[str, str]:
    return text_in(announcement, field)


@bp.app_template_global("news_body")
def news_body(announcement: Announcement):
    body, code = text_in(announcement, "body")
    return render_markdown(body), code


@bp.app_template_global("call_announcements")
def call_announcements(call, limit: int = 5) -> list[Announcement]:
    """The call's visible news, newest first, for the block on the call's page."""
    return services.for_call(get_db(), call, now=utcnow(), limit=limit)


@bp.app_template_global("news_feeds")
def news_feeds() -> list[tuple[str, str, str]]:
    """(code, url, title) of each language's feed, the reader's own first."""
    current = str(get_locale())
    codes = sorted(current_app.config["LANGUAGES"], key=lambda c: c != current)
    return [(code, url_for("announcements.feed", lang=code),
             _("News (%(language)s)", language=LANGUAGE_NAMES.get(code, code)))
            for code in codes]


def _page_number() -> int:
    page = page_number(request.args.get("page"))
    if page is None:
        abort(404)
    return page


@bp.get("/")
@public_page
def index():
    db = get_db()
    now = utcnow()
    page = _page_number()
    total = services.count_visible(db, now)
    pages = max(1, ceil(total / PER_PAGE))
    if page > pages:
        abort(404)
    items = services.visible_page(db, now=now, page=page, per_page=PER_PAGE)
    return render_template("announcements/index.html", items=items, page=page, pages=pages,
                           total=total)


def _visible_or_404(announcement: Announcement | None, now: datetime) -> Announcement:
    if announcement is None:
        abort(404)
    if not announcement.is_visible_at(now) and not is_admin(current_user):
        abort(404)
    return announcement


@bp.get("/<slug>")
@public_page
def show(slug: str):
    db = get_db()
    now = utcnow()
    announcement = _visible_or_404(
        db.scalar(select(Announcement).where(Announcement.slug == slug)), now)
    older, newer = services.neighbours(db, announcement, now=now)
    response = current_app.make_response(render_template(
        "announcements/show.html", post=announcement, older=older, newer=newer,
        is_live=announcement.is_visible_at(now)))
    if not announcement.is_visible_at(now):
        response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/images/<name>")
def image(name: str):
    """Served only while the post is public (administrators always), so a scheduled post's
    pictures cannot be found before the post itself by guessing or sharing their address."""
    db = get_db()
    announcement, content_type = services.find_image(db, name)
    if announcement is None:
        abort(404)
    public = announcement.is_visible_at(utcnow())
    if not public and not is_admin(current_user):
        abort(404)
    try:
        path = storage.path_for(name)
    except FileNotFoundError:
        abort(404)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=content_type, conditional=True, max_age=0)
    response.headers["Cache-Control"] = "public, max-age=300" if public else "private, no-store"
    return response


# ---- Atom -------------------------------------------------------------------------------------


def _clean(text: str) -> str:
    return _XML_INVALID.sub("", text or "")


def _atom_time(value: datetime) -> str:
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _el(parent, tag: str, text: str | None = None, **attrs) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
    if text is not None:
        element.text = _clean(text)
    return element


def _entry_updated(announcement: Announcement) -> datetime:
    # An edit made before a scheduled post went out is not news to a reader.
    return max(announcement.updated_at, announcement.publish_at)


def _tag_uri(announcement: Announcement, base: str) -> str:
    """Stable across slug changes and site moves within the same host."""
    host = re.sub(r"^[a-z]+://", "", base).split("/")[0].split(":")[0] or "localhost"
    return f"tag:{host},{announcement.created_at:%Y-%m-%d}:news/{announcement.id}"


@bp.get("/feed.<lang>.atom")
@public_page
def feed(lang: str):
    if lang not in current_app.config["LANGUAGES"]:
        abort(404)
    db = get_db()
    now = utcnow()
    entries = services.feed_entries(db, now=now, lang=lang)
    base = current_app.config["BASE_URL"].rstrip("/")
    ET.register_namespace("", ATOM_NS)
    root = ET.Element(f"{{{ATOM_NS}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": lang})
    feed_url = base + url_for(".feed", lang=lang)
    _el(root, "id", feed_url)
    _el(root, "title", _title_for(lang))
    _el(root, "updated", _atom_time(max((_entry_updated(a) for a in entries),
                                        default=datetime(2000, 1, 1, tzinfo=UTC))))
    _el(root, "link", rel="self", type="application/atom+xml", href=feed_url)
    _el(root, "link", rel="alternate", type="text/html", href=base + url_for(".index"))
    author = _el(root, "author")
    _el(author, "name", _title_for(lang))
    for announcement in entries:
        entry = _el(root, "entry")
        url = base + url_for(".show", slug=announcement.slug)
        _el(entry, "id", _tag_uri(announcement, base))
        _el(entry, "title", getattr(announcement, f"title_{lang}"))
        _el(entry, "link", rel="alternate", type="text/html", href=url)
        _el(entry, "published", _atom_time(announcement.publish_at))
        _el(entry, "updated", _atom_time(_entry_updated(announcement)))
        summary = getattr(announcement, f"summary_{lang}")
        if summary:
            _el(entry, "summary", summary)
        body = getattr(announcement, f"body_{lang}")
        if body:
            # Relative links and images in the body resolve against the site, not the feed.
            _el(entry, "content", str(render_markdown(body)), type="html",
                **{"{http://www.w3.org/XML/1998/namespace}base": base + "/"})
    xml = ET.tostring(root, encoding="unicode", xml_declaration=False)
    response = current_app.response_class(
        '<?xml version="1.0" encoding="utf-8"?>\n' + xml,
        mimetype="application/atom+xml")
    response.headers["Content-Type"] = "application/atom+xml; charset=utf-8"
    return response


def _title_for(lang: str) -> str:
    from flask_babel import force_locale

    with force_locale(lang):
        return _("Awards — news")
