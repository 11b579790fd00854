"""A cover image chosen in the post's form before a preview (or before a refused save).

A browser never sends a chosen file again: after the page comes back the file input is empty.
So the chosen cover is stored at once as a *pending* file, not yet any post's, and the form
carries a signed reference to it (``pending_cover``): the preview shows it and the next save or
publish uses it as the cover. The reference is signed with the site's secret for the
administrator who chose the file, and expires, so nobody can point a post at another stored
file (a nominee's upload, say) by typing its name. A pending file no post took is an
unreferenced upload, removed by the upload sweep (``flask awards storage sweep --delete``,
which leaves files younger than a day alone: as long as a reference to them can be valid)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer

from awards import storage
from awards.announcements.forms import IMAGE_MAX_BYTES, IMAGE_TYPES
from awards.announcements.services import AnnouncementError

SALT = "awards.news.pending-cover"
MAX_AGE = 24 * 3600  # a chosen cover is kept for a day's editing

EXPIRED = _l("The cover image chosen earlier is no longer available (it was kept for a day). "
             "Nothing was saved: choose the cover image again.")


@dataclass
class PendingCover:
    stored_name: str
    original_name: str
    token: str


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def keep(field, *, user_id: int | None) -> PendingCover:
    """Store the file chosen in ``field`` (checked by content) as a pending cover. The file
    reaches its place when the caller commits."""
    try:
        stored = storage.save_upload(field.data.stream, field.data.filename,
                                     allowed=IMAGE_TYPES, max_bytes=IMAGE_MAX_BYTES)
    except storage.UploadError as exc:
        raise AnnouncementError(exc.message, field=field.name) from exc
    token = _serializer().dumps({"n": stored.stored_name, "o": stored.original_name,
                                 "u": user_id})
    return PendingCover(stored.stored_name, stored.original_name, token)


def resolve(token: str | None, *, user_id: int | None) -> PendingCover | None:
    """The pending cover a form refers to; None without a reference. A reference that is
    forged, another person's, expired or whose file is gone is refused (nothing is saved
    without the cover the administrator chose)."""
    if not token:
        return None
    try:
        data = _serializer().loads(token, max_age=MAX_AGE)
    except BadSignature as exc:
        raise AnnouncementError(EXPIRED, field="cover") from exc
    if not isinstance(data, dict) or data.get("u") != user_id:
        raise AnnouncementError(EXPIRED, field="cover")
    name = str(data.get("n") or "")
    try:
        if not storage.path_for(name).is_file():
            raise AnnouncementError(EXPIRED, field="cover")
    except FileNotFoundError as exc:
        raise AnnouncementError(EXPIRED, field="cover") from exc
    return PendingCover(name, str(data.get("o") or ""), token)
