"""News posts: writing, scheduling, publishing and deleting them, their images, the automatic
draft written when a call opens, and the queries behind the public pages and feeds.

Every writing function takes keyword-only arguments, checks its rules before changing anything,
flushes, writes an audit event and leaves the commit to the caller. A broken rule raises
:class:`AnnouncementError` naming the form field the message belongs to."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from awards import audit
from awards.announcements.markdown import IMAGE_PATH, image_markdown
from awards.announcements.models import Announcement, AnnouncementImage
from awards.calls.models import Call
from awards.db import utcnow
from awards.enums import AnnouncementStatus
from awards.i18n import format_datetime, timezone_words
from awards.refusals import Refusal

LANGS = ("kk", "ru", "en")
TEXT_FIELDS = tuple(f"{name}_{code}" for name in ("title", "summary", "body") for code in LANGS)
EDITABLE = ("slug", "call_id", *TEXT_FIELDS)
AUDITED = (*EDITABLE, "status", "publish_at", "image_name")
CALL_OPENED = "call_opened"
SLUG_MAX = 80


class AnnouncementError(Refusal):
    """A change refused by a rule; ``field`` is the form field the message belongs to."""


class StaleAnnouncementError(AnnouncementError):
    """The post was changed by someone else since the editor loaded it."""

    status = 409


STALE_MESSAGE = _l("Someone else changed this post while you were editing it. Nothing was "
                   "saved. Reload the page to see their changes, then make yours again.")


# ---- slugs ------------------------------------------------------------------------------------

# Kazakh and Russian Cyrillic to Latin, close to Kazakhstan's 2021 Latin alphabet for the
# Kazakh letters and to common passport-style spelling for the Russian ones.
_TRANSLIT = {
    "а": "a", "ә": "a", "б": "b", "в": "v", "г": "g", "ғ": "g", "д": "d", "е": "e", "ё": "e",
    "ж": "zh", "з": "z", "и": "i", "й": "i", "к": "k", "қ": "q", "л": "l", "м": "m", "н": "n",
    "ң": "n", "о": "o", "ө": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ұ": "u",
    "ү": "u", "ф": "f", "х": "kh", "һ": "h", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch",
    "ъ": "", "ы": "y", "і": "i", "ь": "", "э": "e", "ю": "yu", "я": "ya",
}


def slugify(text: str, max_length: int = SLUG_MAX) -> str:
    """"Жыл волонтері — 2026" → "zhyl-volonteri-2026": Latin letters, digits and hyphens, cut
    at a word boundary."""
    out = []
    for ch in (text or "").lower():
        if ch in _TRANSLIT:
            out.append(_TRANSLIT[ch])
        else:
            out.append(unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode())
    slug = re.sub(r"[^a-z0-9]+", "-", "".join(out)).strip("-")
    if len(slug) > max_length:
        slug = slug[:max_length].rsplit("-", 1)[0] if "-" in slug[:max_length] else \
            slug[:max_length]
    return slug.strip("-")


def _slug_taken(session: Session, slug: str, exclude_id: int | None) -> bool:
    return session.scalar(select(Announcement.id).where(
        Announcement.slug == slug, Announcement.id != (exclude_id or 0))) is not None


def unique_slug(session: Session, base: str, exclude_id: int | None = None) -> str:
    base = base or "news"
    slug, n = base, 1
    while _slug_taken(session, slug, exclude_id):
        n += 1
        slug = f"{base[: SLUG_MAX - len(str(n)) - 1]}-{n}"
    return slug


def _title_for_slug(values: Mapping[str, Any]) -> str:
    # English reads best in an address; Russian and Kazakh are transliterated.
    for code in ("en", "ru", "kk"):
        if (values.get(f"title_{code}") or "").strip():
            return values[f"title_{code}"]
    return ""


# ---- checks -----------------------------------------------------------------------------------


def _check_texts(values: Mapping[str, Any]) -> None:
    if not any((values.get(f"title_{c}") or "").strip() for c in LANGS):
        raise AnnouncementError(_l("Enter the title in at least one language."),
                                field="title_ru")
    for code in LANGS:
        has_text = any((values.get(f"{name}_{code}") or "").strip()
                       for name in ("summary", "body"))
        if has_text and not (values.get(f"title_{code}") or "").strip():
            raise AnnouncementError(
                _l("This language has a text but no title; add the title."),
                field=f"title_{code}")


def _check_call(session: Session, call_id: int | None) -> None:
    if call_id is not None and session.get(Call, call_id) is None:
        raise AnnouncementError(_l("Choose a call from the list."), field="call_id")


def _resolve_slug(session: Session, values: dict[str, Any], exclude_id: int | None) -> None:
    slug = (values.get("slug") or "").strip()
    if slug:
        if _slug_taken(session, slug, exclude_id):
            raise AnnouncementError(_l("Another post already uses this address name."),
                                    field="slug")
        values["slug"] = slug
    else:
        values["slug"] = unique_slug(session, slugify(_title_for_slug(values)), exclude_id)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "value"):
        return value.value
    return value


def snapshot(announcement: Announcement, names=AUDITED) -> dict[str, Any]:
    return {name: _plain(getattr(announcement, name)) for name in names}


def version_of(announcement: Announcement) -> str:
    """What the edit form carries back to detect a concurrent change."""
    return announcement.updated_at.isoformat()


def _claim(session: Session, announcement: Announcement, expected_version: str | None) -> None:
    """Compare-and-set on ``updated_at``: of two editors who loaded the same version, the
    first to save wins and the second gets :class:`StaleAnnouncementError`, even when both
    requests run at the same moment (the row update waits for the other transaction)."""
    if expected_version is None:
        return
    if expected_version != version_of(announcement):
        raise StaleAnnouncementError(STALE_MESSAGE)
    result = session.execute(
        update(Announcement)
        .where(Announcement.id == announcement.id,
               Announcement.updated_at == announcement.updated_at)
        .values(updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise StaleAnnouncementError(STALE_MESSAGE)
    session.refresh(announcement, ["updated_at"])


def _audit(session: Session, action: str, announcement: Announcement, actor, *,
           before=None, after=None) -> None:
    audit.record(session, action=action, object_type="announcement",
                 object_id=announcement.id, actor=actor, call_id=announcement.call_id,
                 before=before, after=after)


# ---- writing ----------------------------------------------------------------------------------


def create_announcement(*, session: Session, actor, values: Mapping[str, Any]) -> Announcement:
    """A new post is a draft; it is published or scheduled afterwards."""
    values = {k: v for k, v in values.items() if k in EDITABLE}
    _check_texts(values)
    _check_call(session, values.get("call_id"))
    _resolve_slug(session, values, None)
    announcement = Announcement(status=AnnouncementStatus.DRAFT,
                                author_id=getattr(actor, "id", None))
    for name, value in values.items():
        setattr(announcement, name, value if value is not None or name == "call_id" else "")
    session.add(announcement)
    session.flush()
    _audit(session, "announcement.create", announcement, actor, after=snapshot(announcement))
    return announcement


def update_announcement(*, session: Session, actor, announcement: Announcement,
                        values: Mapping[str, Any], expected_version: str | None) -> bool:
    """Apply the edited texts, address and call link; True if anything changed."""
    merged = {name: getattr(announcement, name) for name in EDITABLE}
    merged.update({k: v for k, v in values.items() if k in EDITABLE})
    _check_texts(merged)
    _check_call(session, merged.get("call_id"))
    _resolve_slug(session, merged, announcement.id)
    changes = {name: value for name, value in merged.items()
               if _plain(getattr(announcement, name)) != _plain(value)}
    if not changes:
        if expected_version is not None and expected_version != version_of(announcement):
            raise StaleAnnouncementError(STALE_MESSAGE)
        return False
    _claim(session, announcement, expected_version)
    before = {name: _plain(getattr(announcement, name)) for name in changes}
    for name, value in changes.items():
        setattr(announcement, name, value)
    session.flush()
    _audit(session, "announcement.update", announcement, actor, before=before,
           after={name: _plain(value) for name, value in changes.items()})
    return True


def _set_status(session: Session, actor, announcement: Announcement, status, publish_at,
                expected_version: str | None, action: str) -> bool:
    if announcement.status == status and announcement.publish_at == publish_at:
        return False
    _claim(session, announcement, expected_version)
    before = {"status": _plain(announcement.status), "publish_at": _plain(announcement.publish_at)}
    announcement.status = status
    announcement.publish_at = publish_at
    session.flush()
    _audit(session, action, announcement, actor, before=before,
           after={"status": status.value, "publish_at": _plain(publish_at)})
    return True


def publish_now(*, session: Session, actor, announcement: Announcement,
                expected_version: str | None = None, now: datetime | None = None) -> bool:
    """Published and visible at once. A post already live keeps its date (re-saving must not
    move it to the top of the list)."""
    now = now or utcnow()
    if announcement.is_visible_at(now):
        return _set_status(session, actor, announcement, AnnouncementStatus.PUBLISHED,
                           announcement.publish_at, expected_version, "announcement.publish")
    return _set_status(session, actor, announcement, AnnouncementStatus.PUBLISHED,
                       now.replace(microsecond=0), expected_version, "announcement.publish")


def schedule(*, session: Session, actor, announcement: Announcement, publish_at: datetime | None,
             expected_version: str | None = None, now: datetime | None = None) -> bool:
    """Appears by itself at ``publish_at`` (UTC); until then only administrators see it."""
    now = now or utcnow()
    if publish_at is None:
        raise AnnouncementError(_l("Enter the date and time of publication."),
                                field="publish_at")
    if publish_at <= now:
        raise AnnouncementError(_l("Choose a time in the future, or publish the post now."),
                                field="publish_at")
    return _set_status(session, actor, announcement, AnnouncementStatus.SCHEDULED,
                       publish_at, expected_version, "announcement.schedule")


def unpublish(*, session: Session, actor, announcement: Announcement,
              expected_version: str | None = None) -> bool:
    """Back to draft: hidden from the public again, including its images."""
    return _set_status(session, actor, announcement, AnnouncementStatus.DRAFT, None,
                       expected_version, "announcement.unpublish")


def delete_announcement(*, session: Session, actor, announcement: Announcement) -> list[str]:
    """Returns the stored file names to remove once the deletion is committed (removing them
    earlier would lose the files if the transaction rolled back)."""
    files = [image.stored_name for image in announcement.images]
    if announcement.image_name:
        files.append(announcement.image_name)
    before = {**snapshot(announcement), "images": [i.stored_name for i in announcement.images]}
    _audit(session, "announcement.delete", announcement, actor, before=before)
    session.delete(announcement)
    session.flush()
    return files


# ---- images -----------------------------------------------------------------------------------


def image_url(stored_name: str) -> str:
    return IMAGE_PATH + stored_name


def image_snippet(image: AnnouncementImage) -> str:
    return image_markdown(image.alt_text or image.original_name.rsplit(".", 1)[0],
                          image_url(image.stored_name))


def add_image(*, session: Session, actor, announcement: Announcement, stored,
              alt_text: str = "") -> AnnouncementImage:
    """``stored`` is the :class:`awards.storage.StoredFile` already written to disk."""
    image = AnnouncementImage(
        announcement=announcement, stored_name=stored.stored_name,
        original_name=stored.original_name, content_type=stored.content_type,
        size=stored.size, alt_text=(alt_text or "").strip()[:300],
        uploaded_by_id=getattr(actor, "id", None),
    )
    session.add(image)
    session.flush()
    _audit(session, "announcement.image_add", announcement, actor,
           after={"image": image.stored_name, "name": image.original_name,
                  "size": image.size, "alt": image.alt_text})
    return image


def delete_image(*, session: Session, actor, image: AnnouncementImage) -> str:
    announcement = image.announcement
    name = image.stored_name
    _audit(session, "announcement.image_delete", announcement, actor,
           before={"image": name, "name": image.original_name})
    announcement.images.remove(image)
    session.flush()
    return name


def set_cover(*, session: Session, actor, announcement: Announcement,
              stored_name: str | None) -> str | None:
    """Replace (or with None remove) the cover image; returns the old file's name to remove
    after the commit."""
    old = announcement.image_name
    if old == stored_name:
        return None
    announcement.image_name = stored_name
    session.flush()
    _audit(session, "announcement.cover", announcement, actor,
           before={"image_name": old}, after={"image_name": stored_name})
    return old


def find_image(session: Session, name: str) -> tuple[Announcement | None, str | None]:
    """The post an image file belongs to (as a body image or as its cover), and its type."""
    image = session.scalar(select(AnnouncementImage).where(AnnouncementImage.stored_name == name))
    if image is not None:
        return image.announcement, image.content_type
    announcement = session.scalar(select(Announcement).where(Announcement.image_name == name))
    if announcement is not None:
        from awards.storage import CONTENT_TYPES, EXTENSIONS

        kind = next((k for k, ext in EXTENSIONS.items() if name.endswith(ext)), None)
        return announcement, CONTENT_TYPES.get(kind or "", "application/octet-stream")
    return None, None


# ---- reading ----------------------------------------------------------------------------------


def visible_clause(now: datetime):
    """The SQL twin of :meth:`Announcement.is_visible_at`."""
    return and_(
        Announcement.status.in_([AnnouncementStatus.SCHEDULED, AnnouncementStatus.PUBLISHED]),
        Announcement.publish_at.is_not(None),
        Announcement.publish_at <= now,
    )


def has_language(code: str):
    return func.length(func.trim(getattr(Announcement, f"title_{code}"))) > 0


def count_visible(session: Session, now: datetime) -> int:
    return session.scalar(select(func.count(Announcement.id)).where(visible_clause(now))) or 0


def visible_page(session: Session, *, now: datetime, page: int, per_page: int
                 ) -> list[Announcement]:
    """Newest first; the same order (publish_at, then id) as the previous/next links."""
    return list(session.scalars(
        select(Announcement).where(visible_clause(now))
        .order_by(Announcement.publish_at.desc(), Announcement.id.desc())
        .offset((page - 1) * per_page).limit(per_page)
    ))


def neighbours(session: Session, announcement: Announcement, *, now: datetime
               ) -> tuple[Announcement | None, Announcement | None]:
    """(older, newer) visible posts around ``announcement`` in (publish_at, id) order. A post
    that is not visible itself (an administrator's preview) has none."""
    if not announcement.is_visible_at(now):
        return None, None
    at, ident = announcement.publish_at, announcement.id
    older = session.scalar(
        select(Announcement).where(
            visible_clause(now),
            or_(Announcement.publish_at < at,
                and_(Announcement.publish_at == at, Announcement.id < ident)))
        .order_by(Announcement.publish_at.desc(), Announcement.id.desc()).limit(1))
    newer = session.scalar(
        select(Announcement).where(
            visible_clause(now),
            or_(Announcement.publish_at > at,
                and_(Announcement.publish_at == at, Announcement.id > ident)))
        .order_by(Announcement.publish_at, Announcement.id).limit(1))
    return older, newer


def for_call(session: Session, call: Call, *, now: datetime, limit: int = 5
             ) -> list[Announcement]:
    return list(session.scalars(
        select(Announcement).where(visible_clause(now), Announcement.call_id == call.id)
        .order_by(Announcement.publish_at.desc(), Announcement.id.desc()).limit(limit)
    ))


def feed_entries(session: Session, *, now: datetime, lang: str, limit: int = 30
                 ) -> list[Announcement]:
    """Posts written in ``lang``: a reader of the English feed gets no Russian-only posts."""
    return list(session.scalars(
        select(Announcement).where(visible_clause(now), has_language(lang))
        .order_by(Announcement.publish_at.desc(), Announcement.id.desc()).limit(limit)
    ))


# ---- the automatic draft when a call opens ----------------------------------------------------


def _call_path(call: Call) -> str:
    from flask import url_for

    try:
        return url_for("calls.show", slug=call.slug)
    except RuntimeError:  # no request (a command): the same address, built by hand
        return f"/calls/{call.slug}"


def _call_time(value: datetime, call: Call, code: str) -> str:
    return format_datetime(value, tz=call.tz, locale=code)


def _opened_texts(call: Call, code: str) -> dict[str, str]:
    title = (getattr(call, f"title_{code}") or "").strip() or next(
        (getattr(call, f"title_{c}") for c in ("ru", "en", "kk") if getattr(call, f"title_{c}")),
        call.slug)
    opens = _call_time(call.opens_at, call, code)
    closes = _call_time(call.closes_at, call, code)
    categories = [
        (getattr(c, f"name_{code}") or c.name_ru or c.name_en or c.name_kk or c.code).strip()
        for c in call.categories
    ]
    with force_locale(code):
        zone = timezone_words(call.tz, locale=code)
        lines = [
            _("Nominations for “%(title)s” are open.", title=title),
            "",
            "- " + _("Opening: %(when)s (%(zone)s)", when=opens, zone=zone),
            "- " + _("Deadline: %(when)s (%(zone)s)", when=closes, zone=zone),
        ]
        if categories:
            lines += ["", "**" + _("Categories") + "**", ""]
            lines += [f"- {name}" for name in categories]
        lines += ["", "[" + _("Rules and the nomination form") + f"]({_call_path(call)})"]
        return {
            f"title_{code}": _("Nominations are open: %(title)s", title=title)[:300],
            f"summary_{code}": _("Nominations are accepted until %(when)s (%(zone)s).",
                                 when=closes, zone=zone),
            f"body_{code}": "\n".join(lines),
        }


def build_call_opened_draft(session: Session, call: Call, actor=None) -> Announcement | None:
    """The unsaved "nominations are open" draft for ``call``; None if the call has one."""
    exists = session.scalar(select(Announcement.id).where(
        Announcement.call_id == call.id, Announcement.origin == CALL_OPENED))
    if exists is not None:
        return None
    values: dict[str, Any] = {}
    for code in LANGS:
        values.update(_opened_texts(call, code))
    return Announcement(
        call_id=call.id, origin=CALL_OPENED, status=AnnouncementStatus.DRAFT,
        slug=unique_slug(session, slugify(f"{call.slug}-nominations-open")),
        author_id=getattr(actor, "id", None), **values,
    )


def draft_for_opened_call(*, session: Session, call: Call, actor=None) -> Announcement | None:
    """The "nominations are open" draft for ``call``, written once per call (later re-openings
    leave it alone) for an administrator to edit and publish. None if it already exists."""
    announcement = build_call_opened_draft(session, call, actor)
    if announcement is None:
        return None
    # No savepoint is needed against two administrators opening the call at once: the call's
    # own version counter lets only one of those status changes through.
    session.add(announcement)
    session.flush()
    audit.record(session, action="announcement.create", object_type="announcement",
                 object_id=announcement.id, actor=actor, call_id=call.id,
                 after={**snapshot(announcement), "origin": CALL_OPENED})
    return announcement
