"""Append-only audit log. Each record carries the hash of the one before it, so altering,
removing or reordering a record breaks the chain that ``flask awards audit verify`` checks.

The hash is an HMAC-SHA256 keyed with a server key kept outside the database
(``AUDIT_KEY``, or ``instance/audit_key`` created on first use): someone who can write to the
database but does not hold the key cannot rewrite a record and compute fresh hashes for it and
the records after it. Each record names the key it was hashed with (``key_id``, derived from the
key), so keys can be rotated: older keys stay listed in ``AUDIT_RETIRED_KEYS`` for checking.

Records written before keyed hashes existed (``key_id`` empty) are checked as plain SHA-256,
and only as the start of the chain: the first record appended after them is a keyed cut-over
record (``audit.keyed``) that seals their head. An unkeyed record anywhere else, or unkeyed
records no keyed one follows, break the chain.

Removing records from the *end* of the chain leaves a shorter chain that is still intact; only
a head noted elsewhere catches that. The head at each publication of results is shown on the
results page and in the public feed ``/audit/heads.atom``, and
``verify --against ID:HASH`` checks the chain still holds that record unchanged."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import BigInteger, Integer, String, Text, event, select, text
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from awards.db import Base, utcnow

GENESIS = "0" * 64
# The record that ends the unkeyed records of an older version and starts the keyed ones.
CUTOVER_ACTION = "audit.keyed"
KEY_FILE = "audit_key"


class AuditLogAppendOnly(PermissionError):
    """An attempt to change or delete a recorded audit event through the application."""


class AuditKeyError(RuntimeError):
    """The audit key cannot be read; the message says which file or setting to fix."""


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # Plain columns, not foreign keys: deleting a user or a call must never touch the log.
    actor_id: Mapped[int | None] = mapped_column(index=True)
    actor_label: Mapped[str] = mapped_column(String(254), default="")
    action: Mapped[str] = mapped_column(String(80), index=True)
    object_type: Mapped[str] = mapped_column(String(60))
    object_id: Mapped[str] = mapped_column(String(60), default="")
    call_id: Mapped[int | None] = mapped_column(index=True)
    before: Mapped[str] = mapped_column(Text, default="null")
    after: Mapped[str] = mapped_column(Text, default="null")
    ip: Mapped[str] = mapped_column(String(64), default="")
    # Which server key the hash is keyed with; empty for the plain SHA-256 of older versions.
    key_id: Mapped[str] = mapped_column(String(16), default="", server_default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    def payload(self) -> dict[str, Any]:
        return payload_of(self)

    def before_data(self) -> Any:
        return json.loads(self.before)

    def after_data(self) -> Any:
        return json.loads(self.after)


HASHED_FIELDS = (
    "id", "created_at", "actor_id", "actor_label", "action", "object_type", "object_id",
    "call_id", "before", "after", "ip",
)


def payload_of(record: Any) -> dict[str, Any]:
    """The hashed fields of an event or of a row read with the same column names. The id is
    part of it, so moving a record to another position breaks its hash; so is the key id of a
    keyed record, so it cannot be passed off as hashed with another key."""
    values = {name: getattr(record, name) for name in HASHED_FIELDS}
    values["created_at"] = values["created_at"].isoformat()
    key_id = getattr(record, "key_id", "") or ""
    if key_id:
        values["key_id"] = key_id
    return values


def compute_hash(prev_hash: str, payload: dict[str, Any], key: bytes | None = None) -> str:
    """HMAC-SHA256 with ``key`` of the previous hash and the canonical JSON of the payload;
    without a key, the plain SHA-256 of records written before keyed hashes."""
    body = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    message = (prev_hash + body).encode("utf-8")
    if key is None:
        return hashlib.sha256(message).hexdigest()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


# ---- the server's keys --------------------------------------------------------------------------


def key_id_of(key: bytes) -> str:
    """A short public name of a key: the same key gives the same id on every host, and the id
    says nothing about the key."""
    return hashlib.sha256(b"awards-audit-key-id\x00" + key).hexdigest()[:8]


@dataclass(frozen=True)
class Keyring:
    current_id: str
    keys: dict[str, bytes] = field(default_factory=dict)

    @property
    def current(self) -> bytes:
        return self.keys[self.current_id]

    @classmethod
    def of(cls, key: str | bytes, retired: list[str] | tuple[str, ...] = ()) -> Keyring:
        def raw(value: str | bytes) -> bytes:
            return value if isinstance(value, bytes) else value.encode("utf-8")

        current = raw(key)
        keys = {key_id_of(raw(k)): raw(k) for k in retired if k}
        keys[key_id_of(current)] = current
        return cls(current_id=key_id_of(current), keys=keys)


def _key_file(path: Path) -> str:
    """The key kept in the instance folder, created on first use. Written to a private
    temporary file and linked into place, so it is never readable by others and two processes
    starting together end up with the same key."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass  # another process won the race; use its key
        finally:
            tmp.unlink()
    key = path.read_text().strip()
    if not key:
        raise AuditKeyError(f"{path} is empty. Put the audit key back (from a copy), or set "
                            "AWARDS_AUDIT_KEY; a new key cannot check the records already "
                            "written.")
    return key


def keyring() -> Keyring:
    """The keys of the running app: ``AUDIT_KEY`` (or the key file) signs, it and
    ``AUDIT_RETIRED_KEYS`` check. Read once per app."""
    from flask import current_app

    cached = current_app.extensions.get("awards_audit_keyring")
    if cached is None:
        key = current_app.config.get("AUDIT_KEY") or _key_file(
            Path(current_app.instance_path) / KEY_FILE)
        cached = Keyring.of(key, current_app.config.get("AUDIT_RETIRED_KEYS") or ())
        current_app.extensions["awards_audit_keyring"] = cached
    return cached


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


_LOCK_KEY = 7_424_017  # PostgreSQL advisory lock id for appending to the chain


def _lock_chain(session: Session) -> None:
    """Make this transaction the only appender until it ends, so that two transactions never
    chain onto the same predecessor (which would fork the chain or fail on the id)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    elif dialect == "sqlite":
        # SQLite has one writer at a time, but a transaction only becomes the writer at its
        # first write; reading the head before that could read a head another writer is about
        # to replace. A write that changes nothing takes the write lock first.
        session.execute(text("UPDATE audit_events SET id = id WHERE 0"))


def _head(session: Session):
    return session.execute(
        select(AuditEvent.id, AuditEvent.hash, AuditEvent.key_id)
        .order_by(AuditEvent.id.desc()).limit(1)
    ).first()


def _append(session: Session, last, keys: Keyring, **values: Any) -> AuditEvent:
    prev_hash = last.hash if last else GENESIS
    ev = AuditEvent(
        id=(last.id + 1) if last else 1,
        # Whole seconds: the value must read back exactly as hashed on every backend.
        created_at=utcnow().replace(microsecond=0),
        key_id=keys.current_id, prev_hash=prev_hash, **values,
    )
    ev.hash = compute_hash(prev_hash, ev.payload(), keys.current)
    session.add(ev)
    session.flush()
    return ev


def _seal(session: Session, last, keys: Keyring) -> AuditEvent:
    """The keyed cut-over record after unkeyed ones: it fixes their head under the key."""
    return _append(session, last, keys, actor_id=None, actor_label="system",
                   action=CUTOVER_ACTION, object_type="audit", object_id=str(last.id),
                   call_id=None, before=_dump(None), ip="",
                   after=_dump({"legacy_records": last.id,
                                "legacy_head": f"{last.id}:{last.hash}",
                                "key_id": keys.current_id}))


def seal(session: Session) -> AuditEvent | None:
    """Write the cut-over record if the chain ends with unkeyed records (an upgraded
    installation); None when there is nothing to seal. The caller commits."""
    _lock_chain(session)
    last = _head(session)
    if last is None or last.key_id:
        return None
    return _seal(session, last, keyring())


def record(
    session: Session,
    *,
    action: str,
    object_type: str,
    object_id: object = "",
    actor: Any = None,
    before: Any = None,
    after: Any = None,
    call_id: int | None = None,
    ip: str | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction (committed or rolled back with the change)."""
    if ip is None:
        ip = _request_ip()
    keys = keyring()
    _lock_chain(session)
    last = _head(session)
    if last is not None and not last.key_id:
        last = _seal(session, last, keys)
    actor_id = getattr(actor, "id", None) if actor is not None else None
    actor_label = getattr(actor, "email", "") if actor is not None else "system"
    return _append(
        session, last, keys,
        actor_id=actor_id,
        actor_label=actor_label or "",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        call_id=call_id,
        before=_dump(before),
        after=_dump(after),
        ip=ip or "",
    )


def _request_ip() -> str:
    from flask import has_request_context, request

    if has_request_context():
        return request.remote_addr or ""
    return ""


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    broken_at: int | None = None
    reason: str = ""
    head_id: int | None = None
    head_hash: str = GENESIS
    # Records of an older version hashed without a key, at the start of the chain.
    legacy: int = 0


def verify_chain(session: Session, batch: int = 2000,
                 keys: Keyring | None = None) -> VerifyResult:
    """Walk the chain from record 1. Reads plain rows, so the caller's session is untouched."""
    keys = keys or keyring()
    columns = [getattr(AuditEvent, name)
               for name in (*HASHED_FIELDS, "key_id", "prev_hash", "hash")]
    prev_hash = GENESIS
    expected_id = 1
    checked = legacy = 0
    keyed = False
    head_id = None

    def broken(at: int, reason: str) -> VerifyResult:
        return VerifyResult(False, checked, at, reason, head_id, prev_hash, legacy)

    while True:
        rows = session.execute(
            select(*columns).where(AuditEvent.id >= expected_id).order_by(AuditEvent.id)
            .limit(batch)
        ).all()
        if not rows:
            if legacy and not keyed:
                return broken(legacy, f"records 1 to {legacy} carry no key and no keyed record "
                                      "follows them (`flask awards audit seal` writes one)")
            return VerifyResult(True, checked, head_id=head_id, head_hash=prev_hash,
                                legacy=legacy)
        for row in rows:
            if row.id != expected_id:
                return broken(row.id, f"record {expected_id} is missing")
            if row.prev_hash != prev_hash:
                return broken(row.id, "link to the previous record is broken")
            if not row.key_id:
                if keyed:
                    return broken(row.id, "the record carries no key, but keyed records "
                                          "come before it")
                key = None
                legacy += 1
            else:
                key = keys.keys.get(row.key_id)
                if key is None:
                    return broken(row.id, f"the record is keyed with key {row.key_id}, which "
                                          "this server does not hold (AWARDS_AUDIT_KEY, "
                                          "AWARDS_AUDIT_RETIRED_KEYS)")
                if legacy and not keyed and row.action != CUTOVER_ACTION:
                    return broken(row.id, "the records without a key are not followed by the "
                                          "keyed cut-over record")
                keyed = True
            if not hmac.compare_digest(compute_hash(prev_hash, payload_of(row), key),
                                       row.hash):
                return broken(row.id, "record content does not match its hash")
            prev_hash = row.hash
            head_id = row.id
            expected_id = row.id + 1
            checked += 1


def hash_of(session: Session, event_id: int) -> str | None:
    return session.scalar(select(AuditEvent.hash).where(AuditEvent.id == event_id))


def head(session: Session) -> tuple[int, str] | None:
    """The newest record's (id, hash), as published."""
    last = _head(session)
    return (last.id, last.hash) if last else None


@event.listens_for(Session, "before_flush")
def _append_only(session: Session, _ctx, _instances) -> None:
    for obj in session.deleted:
        if isinstance(obj, AuditEvent):
            raise AuditLogAppendOnly("the audit log is append-only: events cannot be deleted")
    for obj in session.dirty:
        if isinstance(obj, AuditEvent) and session.is_modified(obj):
            raise AuditLogAppendOnly("the audit log is append-only: events cannot be changed")


@event.listens_for(Session, "do_orm_execute")
def _no_bulk_changes(state: ORMExecuteState) -> None:
    # update(AuditEvent) / delete(AuditEvent) and Query.update/delete skip the flush; refuse
    # them here. Raw SQL is not stopped, and is what ``audit verify`` exists to detect.
    if not (state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) == AuditEvent.__tablename__:
        raise AuditLogAppendOnly("the audit log is append-only: no bulk UPDATE or DELETE")
