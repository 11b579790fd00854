"""Uploaded files: type checked by content, stored under random names outside the web root.

Files are only ever served through views that check permission first."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from flask import current_app, g, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy.orm import Session

CONTENT_TYPES = {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png",
                 "gif": "image/gif", "webp": "image/webp"}
EXTENSIONS = {"pdf": ".pdf", "jpeg": ".jpg", "png": ".png", "gif": ".gif", "webp": ".webp"}
CHUNK = 64 * 1024


class UploadError(ValueError):
    """A file the user must be told about; ``message`` is translated."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class StoredFile:
    stored_name: str
    original_name: str
    content_type: str
    kind: str
    size: int
    sha256: str


def sniff(head: bytes) -> str | None:
    """The real type of a file from its first bytes, whatever its name says."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "webp"
    return None


def _image_is_sound(path: Path) -> bool:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img.verify()
        with Image.open(path) as img:
            # Guards against decompression bombs: a tiny file claiming a gigantic canvas.
            return img.width * img.height <= 80_000_000
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return False


def _pdf_is_sound(path: Path, size: int) -> bool:
    with path.open("rb") as fh:
        fh.seek(max(0, size - 2048))
        tail = fh.read()
    return b"%%EOF" in tail


def clean_filename(name: str | None) -> str:
    """Keep only the last path part, no control characters, a sane length."""
    name = name or ""
    name = PureWindowsPath(PurePosixPath(name).name).name
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = name.strip().lstrip(".")
    if len(name) > 150:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 140] + dot + ext[:9]) if dot else name[:150]
    return name or "file"


def upload_root() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"])


def path_for(stored_name: str) -> Path:
    if not stored_name or "/" in stored_name or "\\" in stored_name or stored_name.startswith("."):
        raise FileNotFoundError(stored_name)
    return upload_root() / stored_name[:2] / stored_name


def save_upload(stream, filename: str | None, *, allowed: list[str], max_bytes: int) -> StoredFile:
    """Write ``stream`` under a random name, checking size and real type as it goes.

    Raises UploadError with a message for the user; nothing is left on disk on failure."""
    original = clean_filename(filename)
    token = secrets.token_hex(20)
    tmp_dir = upload_root() / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    tmp_path = tmp_dir / token
    digest = hashlib.sha256()
    size = 0
    head = b""
    try:
        with tmp_path.open("wb") as out:
            while True:
                chunk = stream.read(CHUNK)
                if not chunk:
                    break
                if len(head) < 16:
                    head += chunk[: 16 - len(head)]
                size += len(chunk)
                if size > max_bytes:
                    raise UploadError(
                        _l("The file “%(name)s” is larger than %(limit)s.", name=original,
                           limit=human_size(max_bytes))
                    )
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise UploadError(_l("The file “%(name)s” is empty.", name=original))
        kind = sniff(head)
        if kind is None or kind not in allowed:
            raise UploadError(
                _l("The file “%(name)s” is not an allowed type (%(types)s). The type is checked by "
                   "the file's content, not its name.", name=original,
                   types=", ".join(t.upper() for t in allowed))
            )
        sound = _pdf_is_sound(tmp_path, size) if kind == "pdf" else _image_is_sound(tmp_path)
        if not sound:
            raise UploadError(_l("The file “%(name)s” is damaged or not a real %(type)s file.",
                                 name=original, type=kind.upper()))
        stored_name = token + EXTENSIONS[kind]
        final = path_for(stored_name)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp_path, final)
        _note_uncommitted(stored_name)
    except OSError as exc:
        tmp_path.unlink(missing_ok=True)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise UploadError(_l("The server has no room for the file right now. Your draft is "
                                 "saved; please try the upload again later.")) from exc
        raise
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return StoredFile(stored_name=stored_name, original_name=_with_ext(original, kind),
                      content_type=CONTENT_TYPES[kind], kind=kind, size=size,
                      sha256=digest.hexdigest())


def _with_ext(name: str, kind: str) -> str:
    _stem, dot, ext = name.rpartition(".")
    if dot and ext.lower() in {"pdf", "jpg", "jpeg", "png", "gif", "webp"}:
        return name
    return name + EXTENSIONS[kind]


# A file is written before the row that points to it is committed. Should the request then fail
# unexpectedly (the database going away, say), the row is rolled back and the file must go too;
# a commit makes the files written so far permanent.
_UNCOMMITTED = "_uploads_uncommitted"


def _note_uncommitted(stored_name: str) -> None:
    if has_app_context():
        g.setdefault(_UNCOMMITTED, []).append(stored_name)


@event.listens_for(Session, "after_commit")
def _files_committed(_session) -> None:
    if has_app_context():
        g.pop(_UNCOMMITTED, None)


def discard_uncommitted() -> None:
    """After a rollback: delete the files this request wrote for rows that were never saved."""
    for name in g.pop(_UNCOMMITTED, []) if has_app_context() else []:
        delete_stored(name)


def delete_stored(stored_name: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        path_for(stored_name).unlink(missing_ok=True)


def read_stored(stored_name: str) -> bytes:
    return path_for(stored_name).read_bytes()


def human_size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}".replace(".0 ", " ")
        n /= 1024
    return f"{n} B"
