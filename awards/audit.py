"""Append-only audit log. Each record carries the hash of the one before it, so altering,
removing or reordering a record breaks the chain that ``flask awards audit verify`` checks."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, String, Text, event, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from awards.db import Base, utcnow

GENESIS = "0" * 64


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
        return {
            "id": self.id,
            "created_at": self.created_at.isoformat(),
            "actor_id": self.actor_id,
            "actor_label": self.actor_label,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "call_id": self.call_id,
            "before": self.before,
            "after": self.after,
            "ip": self.ip,
        }

    def before_data(self) -> Any:
        return json.loads(self.before)

    def after_data(self) -> Any:
        return json.loads(self.after)


def compute_hash(prev_hash: str, payload: dict[str, Any]) -> str:
    body = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


_LOCK_KEY = 7_424_017  # PostgreSQL advisory lock id for appending to the chain


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
    if session.get_bind().dialect.name == "postgresql":
        # Serialise appenders so two transactions never chain onto the same predecessor.
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    last = session.execute(
        select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    prev_hash = last.hash if last else GENESIS
    actor_id = getattr(actor, "id", None) if actor is not None else None
    actor_label = getattr(actor, "email", "") if actor is not None else "system"
    ev = AuditEvent(
        id=(last.id + 1) if last else 1,
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


def verify_chain(session: Session, batch: int = 2000) -> VerifyResult:
    prev_hash = GENESIS
    expected_id = None
    checked = 0
    last_id = 0
    while True:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
        ).all()
        if not rows:
            return VerifyResult(ok=True, checked=checked)
        for ev in rows:
            if expected_id is not None and ev.id != expected_id:
                return VerifyResult(False, checked, ev.id, f"record {expected_id} is missing")
            if ev.prev_hash != prev_hash:
                return VerifyResult(False, checked, ev.id, "link to the previous record is broken")
            if compute_hash(prev_hash, ev.payload()) != ev.hash:
                return VerifyResult(False, checked, ev.id, "record content does not match its hash")
            prev_hash = ev.hash
            expected_id = ev.id + 1
            last_id = ev.id
            checked += 1
        session.expunge_all()


@event.listens_for(Session, "before_flush")
def _append_only(session: Session, _ctx, _instances) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise PermissionError("the audit log is append-only")
