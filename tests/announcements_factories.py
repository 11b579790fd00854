"""News posts written straight to the database, for the announcement tests.

``make_announcement(session, **overrides)`` builds a post published an hour ago in three
languages; override ``status`` and ``publish_at`` for drafts and scheduled posts."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from awards.announcements.models import Announcement, AnnouncementImage
from awards.db import utcnow
from awards.enums import AnnouncementStatus

_counter = {"n": 0}


def make_announcement(session: Session, **overrides: Any) -> Announcement:
    _counter["n"] += 1
    n = _counter["n"]
    values: dict[str, Any] = {
        "slug": f"post-{n}",
        "title_en": f"Post {n}", "title_ru": f"Новость {n}", "title_kk": f"Жаңалық {n}",
        "summary_en": f"Summary {n}", "summary_ru": f"Кратко {n}", "summary_kk": f"Қысқаша {n}",
        "body_en": f"Body **{n}**", "body_ru": f"Текст **{n}**", "body_kk": f"Мәтін **{n}**",
        "status": AnnouncementStatus.PUBLISHED,
        "publish_at": utcnow() - timedelta(hours=1),
    }
    values.update(overrides)
    announcement = Announcement(**values)
    session.add(announcement)
    session.flush()
    return announcement


def store_image(app, data: bytes, name: str = "photo.png") -> str:
    """Write ``data`` through the real upload storage and return its stored name."""
    from awards import storage
    from awards.db import get_db

    with app.app_context():
        stored = storage.save_upload(io.BytesIO(data), name, allowed=["png", "jpeg", "gif",
                                                                     "webp"],
                                     max_bytes=5 * 1024 * 1024)
        get_db().commit()  # the file moves to its final name with a commit
    return stored.stored_name


def attach_image(session: Session, announcement: Announcement, stored_name: str,
                 alt: str = "") -> AnnouncementImage:
    image = AnnouncementImage(announcement=announcement, stored_name=stored_name,
                              original_name="photo.png", content_type="image/png", size=1,
                              alt_text=alt)
    session.add(image)
    session.flush()
    return image
