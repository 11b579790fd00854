"""Backup and restore of the whole service: the database and the uploaded files, in one archive.

The archive is a ``.tar.gz`` holding

- ``manifest.json``: format version, the Alembic revision of the schema, when it was made, and
  for every part (one file per table, one per upload) its size and SHA-256; per table also the
  row count and how each column is encoded;
- ``db/<table>.jsonl``: one JSON object per row, tables in foreign-key order. Values are written
  in a form that does not depend on the database (ISO 8601 times, base64 bytes, JSON columns as
  JSON text), so a backup of SQLite restores into PostgreSQL and the other way round;
- ``uploads/...``: the upload folder as it is (without its ``tmp/`` scratch space).

A restore goes into a database migrated to the same revision that holds no data; ``force``
empties it first. Everything is checked (checksums, revision, columns) before anything is
written, and the rows go in within one transaction. The files are unpacked into a staging
folder inside the upload folder; only once every row is in do the upload folder's contents
move aside and the staged files take their place, right before the COMMIT. A refused or failed
restore therefore leaves both the database and the files as they were: the staged files are
dropped and, if the swap had happened, undone."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import secrets
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Enum,
    Float,
    LargeBinary,
    Numeric,
    String,
    Table,
    Time,
    func,
    inspect,
    select,
    text,
    type_coerce,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from awards import audit
from awards.db import Base, utcnow

FORMAT = "awards-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
BATCH = 1000
# Scratch space of uploads in progress: never worth keeping.
SKIPPED_UPLOAD_DIRS = {"tmp"}
# Folders of a restore in progress (or interrupted) inside the upload folder: never backed up.
RESTORE_PREFIX = ".restore-"


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


@dataclass
class BackupSummary:
    path: Path
    revision: str
    tables: dict[str, int]
    uploads: int
    size: int


@dataclass
class RestoreSummary:
    revision: str
    created_at: str
    tables: dict[str, int] = field(default_factory=dict)
    uploads: int = 0
    # Where --clean-text changed a value: "table t, column c, row id=n".
    cleaned: list[str] = field(default_factory=list)


# ---- encoding of values -------------------------------------------------------------------------


def column_kind(column) -> str:
    """How a column's values are written to the archive."""
    type_ = column.type
    if isinstance(type_, TypeDecorator):
        type_ = type_.impl_instance
    if isinstance(type_, JSON):
        return "json"
    if isinstance(type_, Enum):
        return "enum"
    if isinstance(type_, DateTime):
        return "datetime"
    if isinstance(type_, Date):
        return "date"
    if isinstance(type_, Time):
        return "time"
    if isinstance(type_, LargeBinary):
        return "binary"
    if isinstance(type_, Numeric) and not isinstance(type_, Float):
        return "decimal"
    return "plain"


def _select_expression(column, kind: str):
    if kind == "enum":
        # The stored text itself, not the Python enum: it is what goes back in, unchanged.
        return type_coerce(column, String()).label(column.name)
    return column


def encode(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "json":
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if kind in {"datetime", "date", "time"}:
        return value.isoformat()
    if kind == "binary":
        return base64.b64encode(bytes(value)).decode("ascii")
    if kind == "decimal":
        return str(value)
    return value


def decode(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "json":
        return json.loads(value)
    if kind == "datetime":
        return datetime.fromisoformat(value)
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "time":
        return time.fromisoformat(value)
    if kind == "binary":
        return base64.b64decode(value)
    if kind == "decimal":
        return Decimal(value)
    return value


# ---- helpers ----------------------------------------------------------------------------------


def tables() -> list[Table]:
    """Every table of the schema, parents before children."""
    return list(Base.metadata.sorted_tables)


def current_revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None  # never migrated
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _upload_files(root: Path) -> Iterator[tuple[str, Path]]:
    """(relative posix path, file) for every regular file under the upload folder."""
    if not root.is_dir():
        return
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        if here == root:
            dirnames[:] = [d for d in dirnames if d not in SKIPPED_UPLOAD_DIRS
                           and not d.startswith(RESTORE_PREFIX)]
        dirnames.sort()
        for name in sorted(filenames):
            path = here / name
            if path.is_file() and not path.is_symlink():
                yield path.relative_to(root).as_posix(), path


def _has_files(root: Path) -> bool:
    return next(iter(_upload_files(root)), None) is not None


_UNSAFE_PART = re.compile(r"[\\\x00-\x1f]")


def _upload_target(root: Path, relative: str) -> Path:
    """Where an archived upload goes; refuses names that would land outside the folder."""
    parts = PurePosixPath(relative).parts
    if (not parts or relative.startswith("/") or any(
            p in {"", ".", ".."} or _UNSAFE_PART.search(p) for p in parts)
            or parts[0] in SKIPPED_UPLOAD_DIRS or parts[0].startswith(RESTORE_PREFIX)):
        raise BackupError(f"the archive holds an unsafe file name: {relative!r}")
    target = root.joinpath(*parts)
    if not target.resolve().is_relative_to(root.resolve()):
        raise BackupError(f"the archive holds an unsafe file name: {relative!r}")
    return target


# ---- backup -----------------------------------------------------------------------------------


def _snapshot(engine: Engine) -> Connection:
    conn = engine.connect()
    if engine.dialect.name == "postgresql":
        # One snapshot for every table: rows written meanwhile are either all in or all out.
        conn = conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    return conn


def _dump_table(conn: Connection, table: Table, out: Path) -> tuple[int, dict[str, str]]:
    kinds = {c.name: column_kind(c) for c in table.columns}
    columns = [_select_expression(c, kinds[c.name]) for c in table.columns]
    order = list(table.primary_key.columns) or list(table.columns)
    count = 0
    with out.open("w", encoding="utf-8") as fh:
        result = conn.execution_options(yield_per=BATCH).execute(
            select(*columns).order_by(*order))
        for row in result:
            data = {name: encode(value, kinds[name]) for name, value in row._mapping.items()}
            fh.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")))
            fh.write("\n")
            count += 1
    return count, kinds


def create_backup(*, engine: Engine, upload_folder: str | Path,
                  output: str | Path) -> BackupSummary:
    """Write the database and the uploads to ``output`` (a new ``.tar.gz``)."""
    output = Path(output)
    root = Path(upload_folder)
    output.parent.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, Any] = {
        "format": FORMAT, "format_version": FORMAT_VERSION,
        "created_at": utcnow().isoformat(), "database": engine.dialect.name,
        "tables": [], "uploads": [],
    }
    with tempfile.TemporaryDirectory(prefix="awards-backup-", dir=output.parent) as staging:
        staging_dir = Path(staging)
        (staging_dir / "db").mkdir()
        conn = _snapshot(engine)
        try:
            with conn.begin():
                if engine.dialect.name == "sqlite":
                    # pysqlite starts a transaction only before a write; without one every
                    # table would be read at a different moment.
                    conn.exec_driver_sql("BEGIN")
                revision = current_revision(conn)
                if revision is None:
                    raise BackupError("the database has no schema yet: there is nothing to back "
                                      "up (run `flask awards db upgrade` first)")
                manifest["alembic_revision"] = revision
                for table in tables():
                    part = staging_dir / "db" / f"{table.name}.jsonl"
                    count, kinds = _dump_table(conn, table, part)
                    manifest["tables"].append({
                        "name": table.name, "rows": count, "file": f"db/{table.name}.jsonl",
                        "size": part.stat().st_size, "sha256": _sha256_file(part),
                        "columns": kinds,
                    })
        finally:
            conn.close()
        uploads = list(_upload_files(root))
        for relative, path in uploads:
            manifest["uploads"].append({"file": f"uploads/{relative}",
                                        "size": path.stat().st_size,
                                        "sha256": _sha256_file(path)})
        partial = output.with_name(output.name + ".part")
        try:
            with tarfile.open(partial, "w:gz") as tar:
                body = json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")
                info = tarfile.TarInfo(MANIFEST)
                info.size = len(body)
                info.mtime = int(utcnow().timestamp())
                info.mode = 0o600
                tar.addfile(info, io.BytesIO(body))
                for entry in manifest["tables"]:
                    tar.add(staging_dir / entry["file"], arcname=entry["file"], recursive=False)
                for (_relative, path), entry in zip(uploads, manifest["uploads"], strict=True):
                    tar.add(path, arcname=entry["file"], recursive=False)
            os.replace(partial, output)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return BackupSummary(
        path=output, revision=manifest["alembic_revision"],
        tables={t["name"]: t["rows"] for t in manifest["tables"]},
        uploads=len(manifest["uploads"]), size=output.stat().st_size,
    )


# ---- restore ----------------------------------------------------------------------------------


def read_manifest(path: str | Path) -> dict[str, Any]:
    try:
        with tarfile.open(path, "r|gz") as tar:
            member = tar.next()
            if member is None or member.name != MANIFEST or not member.isfile():
                raise BackupError(f"{path} is not an awards backup: it has no manifest")
            manifest = json.loads(tar.extractfile(member).read().decode("utf-8"))
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BackupError(f"{path} cannot be read as a .tar.gz archive: {exc}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupError(f"the manifest of {path} is damaged: {exc}") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is not an awards backup")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"{path} has backup format version {manifest.get('format_version')}; this version "
            f"of the service reads version {FORMAT_VERSION}")
    return manifest


def _parts(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["file"]: p for p in [*manifest["tables"], *manifest["uploads"]]}


def verify_archive(path: str | Path, manifest: dict[str, Any]) -> None:
    """Every part the manifest lists is there, unchanged, and nothing else is."""
    expected = _parts(manifest)
    seen: set[str] = set()
    with tarfile.open(path, "r|gz") as tar:
        for member in tar:
            if member.name == MANIFEST:
                continue
            part = expected.get(member.name)
            if part is None or not member.isfile():
                raise BackupError(f"the archive holds a file its manifest does not list: "
                                  f"{member.name}")
            digest = hashlib.sha256()
            fh = tar.extractfile(member)
            while chunk := fh.read(1024 * 1024):
                digest.update(chunk)
            if digest.hexdigest() != part["sha256"] or member.size != part["size"]:
                raise BackupError(f"{member.name} in the archive is damaged: its checksum does "
                                  f"not match the manifest")
            seen.add(member.name)
    missing = sorted(set(expected) - seen)
    if missing:
        raise BackupError(f"the archive is incomplete: {missing[0]} is missing"
                          + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))


def _check_tables(manifest: dict[str, Any]) -> dict[str, Table]:
    known = {t.name: t for t in tables()}
    archived = {t["name"] for t in manifest["tables"]}
    if archived != set(known):
        raise BackupError("the archive's tables differ from this version's schema "
                          f"(only in the archive: {sorted(archived - set(known))}, only here: "
                          f"{sorted(set(known) - archived)})")
    for entry in manifest["tables"]:
        columns = set(entry["columns"])
        here = {c.name for c in known[entry["name"]].columns}
        if columns != here:
            raise BackupError(f"the columns of table {entry['name']} differ from this version's "
                              f"schema")
    return known


def non_empty_tables(conn: Connection) -> list[str]:
    return [t.name for t in tables()
            if conn.execute(select(func.count()).select_from(t)).scalar()]


def _wipe(conn: Connection) -> None:
    # Plain SQL on the connection: the ORM's append-only guard of the audit log stands for the
    # application, not for replacing the whole database on the operator's order.
    for table in reversed(tables()):
        conn.execute(table.delete())


def _reset_sequences(conn: Connection) -> None:
    """Inserting explicit ids leaves PostgreSQL's sequences behind; the next insert would
    collide with a restored row."""
    if conn.dialect.name != "postgresql":
        return
    for table in tables():
        for column in table.primary_key.columns:
            sequence = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"),
                                    {"t": table.name, "c": column.name}).scalar()
            if sequence is None:
                continue
            conn.execute(text(
                f'SELECT setval(:s, COALESCE((SELECT MAX("{column.name}") FROM "{table.name}"), '
                f'0) + 1, false)'), {"s": sequence})


def _unstorable(value: Any) -> str:
    """Why PostgreSQL cannot store this text (or a text inside this JSON value), or ""."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return "the text holds a NUL character"
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return "the text is not valid Unicode"
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return ""


def _storable(value: Any) -> Any:
    """The value with NUL characters removed and invalid Unicode replaced."""
    if isinstance(value, str):
        return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {_storable(k): _storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable(v) for v in value]
    return value


def _checked_row(table: Table, raw: dict[str, Any], row: dict[str, Any], clean: bool,
                 cleaned: list[str]) -> dict[str, Any]:
    """The row, refused (or cleaned, with ``clean``) when it holds text PostgreSQL cannot
    store; either way the message names the table, the column and the row."""
    for name, value in row.items():
        if not isinstance(value, str | dict | list) or not (why := _unstorable(value)):
            continue
        key = ", ".join(f"{c.name}={raw.get(c.name)}" for c in table.primary_key.columns)
        where = f"table {table.name}, column {name}, row {key or '?'}"
        if not clean:
            raise BackupError(
                f"{where}: {why}, which PostgreSQL cannot store. Nothing was restored. Restore "
                "again with --clean-text to remove such characters (each value cleaned is "
                "listed).")
        row[name] = _storable(value)
        cleaned.append(where)
    return row


def _insert_rows(conn: Connection, table: Table, kinds: dict[str, str], fh, *,
                 clean: bool = False, cleaned: list[str] | None = None) -> int:
    count = 0
    batch: list[dict[str, Any]] = []
    cleaned = [] if cleaned is None else cleaned

    def flush() -> None:
        try:
            conn.execute(table.insert(), batch)
        except DBAPIError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise BackupError(f"table {table.name}: the database refused a row ({reason}). "
                              "Nothing was restored.") from exc

    for line in fh:
        if not line.strip():
            continue
        raw = json.loads(line.decode("utf-8"))
        row = {name: decode(value, kinds[name]) for name, value in raw.items()}
        batch.append(_checked_row(table, raw, row, clean, cleaned))
        if len(batch) >= BATCH:
            flush()
            count += len(batch)
            batch = []
    if batch:
        flush()
        count += len(batch)
    return count


def _load(conn: Connection, archive: Path, manifest: dict[str, Any], known: dict[str, Table],
          root: Path, written: list[Path], *, clean: bool = False,
          cleaned: list[str] | None = None) -> dict[str, int]:
    """One pass over the archive (a .tar.gz cannot be read backwards cheaply): the tables, in
    the foreign-key order they were written in, then the uploads."""
    tables_by_file = {t["file"]: t for t in manifest["tables"]}
    uploads = {u["file"] for u in manifest["uploads"]}
    counts: dict[str, int] = {}
    with tarfile.open(archive, "r|gz") as tar:
        for member in tar:
            entry = tables_by_file.get(member.name)
            if entry is not None:
                table = known[entry["name"]]
                count = _insert_rows(conn, table, entry["columns"], tar.extractfile(member),
                                     clean=clean, cleaned=cleaned)
                if count != entry["rows"]:
                    raise BackupError(f"table {table.name}: the archive has {count} rows, its "
                                      f"manifest says {entry['rows']}")
                counts[table.name] = count
            elif member.name in uploads:
                target = _upload_target(root, member.name.removeprefix("uploads/"))
                target.parent.mkdir(parents=True, exist_ok=True)
                with tar.extractfile(member) as src, target.open("wb") as dst:
                    written.append(target)
                    shutil.copyfileobj(src, dst, 1024 * 1024)
    return counts


def _swap_in(root: Path, staging: Path, aside: Path) -> list[tuple[Path, Path]]:
    """Move the upload folder's contents into ``aside`` and the staged files into their place;
    returns the moves made, in order, so they can be undone."""
    moves: list[tuple[Path, Path]] = []
    aside.mkdir()
    for child in sorted(root.iterdir()):
        if child.name.startswith(RESTORE_PREFIX):
            continue
        target = aside / child.name
        os.replace(child, target)
        moves.append((child, target))
    for child in sorted(staging.iterdir()):
        target = root / child.name
        os.replace(child, target)
        moves.append((child, target))
    return moves


def _swap_back(moves: list[tuple[Path, Path]]) -> None:
    for source, target in reversed(moves):
        os.replace(target, source)


def restore_backup(*, engine: Engine, upload_folder: str | Path, archive: str | Path,
                   force: bool = False, clean_text: bool = False) -> RestoreSummary:
    """Put a backup back into an empty database migrated to the backup's revision (and an empty
    upload folder). ``force`` empties both first. Text PostgreSQL cannot store (NUL, invalid
    Unicode; an older version let SQLite keep it) is refused naming where it is, or with
    ``clean_text`` removed, each value cleaned listed in the summary."""
    archive = Path(archive)
    root = Path(upload_folder)
    if not archive.is_file():
        raise BackupError(f"{archive} does not exist")
    manifest = read_manifest(archive)
    for entry in manifest["uploads"]:
        if not entry["file"].startswith("uploads/"):
            raise BackupError(f"the archive holds an unsafe file name: {entry['file']!r}")
        _upload_target(root, entry["file"].removeprefix("uploads/"))
    verify_archive(archive, manifest)
    known = _check_tables(manifest)
    revision = manifest["alembic_revision"]
    with engine.connect() as conn:
        here = current_revision(conn)
        if here is None:
            raise BackupError("the database has no schema: run `flask awards db upgrade "
                              f"{revision}` first, then restore")
        if here != revision:
            raise BackupError(
                f"the backup was made at schema revision {revision}, the database is at {here}. "
                f"Restore into a database migrated to {revision} (`flask awards db upgrade "
                f"{revision}` on an empty one), then upgrade it.")
        busy = non_empty_tables(conn)
        conn.rollback()
    if not force:
        if busy:
            raise BackupError(
                f"the database is not empty ({len(busy)} tables hold data, e.g. {busy[0]}). "
                "Restore into an empty database, or use --force to delete everything in it "
                "first.")
        if _has_files(root):
            raise BackupError(f"the upload folder {root} is not empty. Restore into an empty "
                              "folder, or use --force to delete its files first.")
    summary = RestoreSummary(revision=revision, created_at=manifest["created_at"])
    written: list[Path] = []
    root.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(6)
    staging = root / f"{RESTORE_PREFIX}new-{token}"
    aside = root / f"{RESTORE_PREFIX}old-{token}"
    staging.mkdir()
    moves: list[tuple[Path, Path]] = []
    committed = False
    try:
        with engine.connect() as conn:
            transaction = conn.begin()
            try:
                if force:
                    _wipe(conn)
                summary.tables = _load(conn, archive, manifest, known, staging, written,
                                       clean=clean_text, cleaned=summary.cleaned)
                _reset_sequences(conn)
                with Session(bind=conn) as session:
                    audit.record(session, action="backup.restore", object_type="database",
                                 after={"archive_created_at": manifest["created_at"],
                                        "revision": revision,
                                        "rows": sum(summary.tables.values()),
                                        "uploads": len(written)},
                                 ip="")
                # The files change places only now that every row is in, right before COMMIT.
                moves = _swap_in(root, staging, aside)
                try:
                    transaction.commit()
                except DBAPIError as exc:
                    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
                    raise BackupError(f"the database refused to commit the restore ({reason}). "
                                      "Nothing was restored; the upload folder is as it "
                                      "was.") from exc
                committed = True
            except BaseException:
                if transaction.is_active:
                    transaction.rollback()
                else:
                    # A COMMIT that failed may leave the server's transaction open: never hand
                    # this connection to anyone else.
                    conn.invalidate()
                raise
    except BaseException as exc:
        if moves:
            try:
                _swap_back(moves)
            except OSError as undo:
                raise BackupError(
                    f"the restore failed ({exc}) and the upload folder could not be put back "
                    f"({undo}): the files it held are in {aside}; move them back by hand") from exc
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        # Kept only when the swap could not be undone: it then holds the previous files.
        if aside.exists() and (committed or not any(aside.iterdir())):
            shutil.rmtree(aside, ignore_errors=True)
    summary.uploads = len(written)
    return summary
