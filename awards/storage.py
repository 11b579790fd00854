"""Uploaded files: type checked by content, stored under random names outside the web root.

Files are only ever served through views that check permission first.

An upload is written to a temporary name in the upload folder's ``tmp/`` and synced to disk;
it moves to its final name when the database transaction that refers to it commits (after the
last flush, just before COMMIT), and is removed if that transaction rolls back or ends without
committing. A process killed meanwhile leaves at most a file nobody refers to: a partial or
complete one in ``tmp/``, or, killed between the move and the COMMIT, one under its final name
with no row. ``flask awards storage sweep`` lists such orphans and removes them."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import secrets
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath, PureWindowsPath

from flask import current_app, g, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction

from awards.i18n import format_size

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


def save_upload(stream, filename: str | None, *, allowed: list[str], max_bytes: int,
                session: Session | None = None) -> StoredFile:
    """Write ``stream`` under a random name, checking size and real type as it goes.

    The file reaches its final name when ``session`` (default: the request's) commits, and is
    removed if it does not. Raises UploadError with a message for the user; nothing is left on
    disk on failure."""
    original = clean_filename(filename)
    token = secrets.token_hex(20)
    tmp_dir = upload_root() / TMP_DIR
    tmp_dir.mkdir(parents=True, exist_ok=True)
    tmp_path = tmp_dir / (token + PARTIAL)
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
                           limit=format_size(max_bytes))
                    )
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            # On disk before the row that points to it can commit.
            os.fsync(out.fileno())
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
        _pending(session).append((tmp_path, path_for(stored_name)))
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


# ---- moving into place with the commit ----------------------------------------------------------

TMP_DIR = "tmp"
PARTIAL = ".part"
_PENDING = "awards_uploads_pending"  # (temporary path, final path), in session.info
_MOVED = "awards_uploads_moved"      # final paths moved before a COMMIT that may still fail


def _pending(session: Session | None) -> list[tuple[Path, Path]]:
    if session is None:
        from awards.db import get_db

        session = get_db()
    return session.info.setdefault(_PENDING, [])


@event.listens_for(Session, "before_commit")
def _move_into_place(session: Session) -> None:
    pending = session.info.get(_PENDING)
    if not pending:
        return
    # The rows first: a flush refused by the database leaves the files where they are.
    session.flush()
    moved = session.info.setdefault(_MOVED, [])
    folders = set()
    while pending:
        tmp_path, final = pending[0]
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp_path, final)
        moved.append(final)
        pending.pop(0)
        folders.add(final.parent)
    for folder in folders:
        _fsync_dir(folder)


@event.listens_for(Session, "after_commit")
def _files_committed(session: Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_MOVED, None)


@event.listens_for(Session, "after_transaction_end")
def _files_not_committed(session: Session, transaction: SessionTransaction) -> None:
    # After a commit both lists are gone already; what is left was rolled back or abandoned.
    if transaction.parent is not None:
        return
    for tmp_path, _final in session.info.pop(_PENDING, []):
        tmp_path.unlink(missing_ok=True)
    for final in session.info.pop(_MOVED, []):
        final.unlink(missing_ok=True)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # not every file system syncs directories
    finally:
        os.close(fd)


def discard_uncommitted() -> None:
    """After a failed request: remove the files of the request's session that never reached a
    commit (its rollback normally has done so already)."""
    session = g.get("_db_session") if has_app_context() else None
    if session is None:
        return
    for tmp_path, _final in session.info.pop(_PENDING, []):
        tmp_path.unlink(missing_ok=True)
    for final in session.info.pop(_MOVED, []):
        final.unlink(missing_ok=True)


def delete_stored(stored_name: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        path_for(stored_name).unlink(missing_ok=True)


def read_stored(stored_name: str) -> bytes:
    return path_for(stored_name).read_bytes()


# ---- orphans ------------------------------------------------------------------------------------

# Where rows name stored files: (table, column). Published results keep the photos their
# snapshot shows (a citation's photo may have been replaced since).
REFERENCES = (("attachments", "stored_name"), ("announcement_images", "stored_name"),
              ("announcements", "image_name"), ("citations", "photo_name"))
_STORED_NAME = re.compile(r"^[0-9a-f]{40}\.(?:pdf|jpg|png|gif|webp)$")
# Left by a restore that was killed between moving the files and committing the rows: they
# may hold the only copy of the files the database still refers to, so never removed here.
RESTORE_PREFIX = ".restore-"


@dataclass(frozen=True)
class Orphan:
    path: str          # relative to the upload folder
    size: int
    modified: datetime
    reason: str        # "temporary", "unreferenced" or "restore"


@dataclass
class SweepReport:
    orphans: list[Orphan] = field(default_factory=list)
    removed: list[Orphan] = field(default_factory=list)
    kept_recent: int = 0   # orphans younger than the limit, left alone

    @property
    def size(self) -> int:
        return sum(o.size for o in self.orphans)


def referenced_names(session: Session) -> set[str]:
    """Every stored file name some row refers to."""
    from awards.db import Base

    names: set[str] = set()
    tables = Base.metadata.tables
    for table_name, column_name in REFERENCES:
        column = tables[table_name].c[column_name]
        names.update(n for n in session.scalars(select(column).where(column.isnot(None))))
    snapshots = tables["publications"].c.snapshot
    for snapshot in session.scalars(select(snapshots)):
        names.update(_names_in(snapshot))
    return names


def _names_in(value) -> Iterator[str]:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _STORED_NAME.match(item):
                yield item
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _files(root: Path) -> Iterator[tuple[Path, str]]:
    """(file, reason it would be an orphan, "" if none yet known) under the upload folder."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        top = here.relative_to(root).parts[0] if here != root else ""
        dirnames.sort()
        for name in sorted(filenames):
            path = here / name
            if path.is_symlink() or not path.is_file():
                continue
            if top == TMP_DIR:
                yield path, "temporary"
            elif top.startswith(RESTORE_PREFIX):
                yield path, "restore"
            else:
                yield path, ""


def sweep(session: Session, *, root: Path | None = None, older_than: timedelta,
          delete: bool = False, now: datetime | None = None) -> SweepReport:
    """Files in the upload folder no row refers to (and uploads that never finished), last
    changed more than ``older_than`` ago; removed with ``delete``. Files of an interrupted
    restore are listed, never removed."""
    root = root or upload_root()
    now = now or datetime.now(UTC)
    # Files first, then the names in use: a file committed in between is recent anyway.
    candidates = list(_files(root)) if root.is_dir() else []
    used = referenced_names(session)
    report = SweepReport()
    for path, reason in candidates:
        if not reason:
            if path.name in used and path.parent.name == path.name[:2] \
                    and path.parent.parent == root:
                continue
            reason = "unreferenced"
        try:
            info = path.stat()
        except FileNotFoundError:
            continue  # moved or removed meanwhile
        modified = datetime.fromtimestamp(info.st_mtime, UTC)
        if now - modified < older_than:
            report.kept_recent += 1
            continue
        orphan = Orphan(path.relative_to(root).as_posix(), info.st_size, modified, reason)
        report.orphans.append(orphan)
        if delete and reason != "restore":
            path.unlink(missing_ok=True)
            report.removed.append(orphan)
    return report
