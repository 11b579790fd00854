"""Append-only audit log. Each record carries the hash of the one before it, so altering,
removing or reordering a record breaks the chain that ``flask awards audit verify`` checks.

Removing records from the *end* of the chain leaves a shorter chain that is still intact; only
a head noted elsewhere catches that, which is why ``verify`` prints the head and accepts
``--expect ID:HASH``."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, String, Text, event, select, text
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from awards.db import Base, utcnow

GENESIS = "0" * 64


class AuditLogAppendOnly(PermissionError):
    """An attempt to change or delete a recorded audit event through the application."""


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
    part of it, so moving a record to another position breaks its hash."""
    values = {name: getattr(record, name) for name in HASHED_FIELDS}
    values["created_at"] = values["created_at"].isoformat()
    return values


def compute_hash(prev_hash: str, payload: dict[str, Any]) -> str:
    body = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


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
    _lock_chain(session)
    last = session.execute(
        select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    prev_hash = last.hash if last else GENESIS
    actor_id = getattr(actor, "id", None) if actor is not None else None
    actor_label = getattr(actor, "email", "") if actor is not None else "system"
    ev = AuditEvent(
        id=(last.id + 1) if last else 1,
        # Whole seconds: the value must read back exactly as hashed on every backend.
        created_at=utcnow().replace(microsecond=0),
        actor_id=actor_id,
        actor_label=actor_label or "",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        call_id=call_id,
        before=_dump(before),
        after=_dump(after),
        ip=ip or "",
        prev_hash=prev_hash,
    )
    ev.hash = compute_hash(prev_hash, ev.payload())
    session.add(ev)
    session.flush()
    return ev


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


def verify_chain(session: Session, batch: int = 2000) -> VerifyResult:
    """Walk the chain from record 1. Reads plain rows, so the caller's session is untouched."""
    columns = [getattr(AuditEvent, name) for name in (*HASHED_FIELDS, "prev_hash", "hash")]
    prev_hash = GENESIS
    expected_id = 1
    checked = 0
    head_id = None
    while True:
        rows = session.execute(
            select(*columns).where(AuditEvent.id >= expected_id).order_by(AuditEvent.id)
            .limit(batch)
        ).all()
        if not rows:
            return VerifyResult(True, checked, head_id=head_id, head_hash=prev_hash)
        for row in rows:
            if row.id != expected_id:
                return VerifyResult(
                    False, checked, row.id, f"record {expected_id} is missing", head_id, prev_hash
                )
            if row.prev_hash != prev_hash:
                return VerifyResult(
                    False, checked, row.id, "link to the previous record is broken",
                    head_id, prev_hash,
                )
            if compute_hash(prev_hash, payload_of(row)) != row.hash:
                return VerifyResult(
                    False, checked, row.id, "record content does not match its hash",
                    head_id, prev_hash,
                )
            prev_hash = row.hash
            head_id = row.id
            expected_id = row.id + 1
            checked += 1


def hash_of(session: Session, event_id: int) -> str | None:
    return session.scalar(select(AuditEvent.hash).where(AuditEvent.id == event_id))


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
