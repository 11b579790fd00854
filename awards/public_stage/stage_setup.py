"""Setting a public stage up: its timing and rules, and the entries taking part (audited)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    insert,
    select,
)
from sqlalchemy.orm import Session

from awards import audit
from awards.calls.models import Call
from awards.db import utcnow
from awards.enums import StageKind
from awards.nominations.models import Nomination
from awards.public_stage.common import StageError
from awards.public_stage.models import (
    PublicStage,
    StageEntry,
)
from awards.public_stage.reading import eligible_nominations, stage_of

STAGE_FIELDS = ("kind", "opens_at", "closes_at", "advance_per_category", "tie_rule",
                "votes_changeable", "show_counts_to_jury")


def _snapshot(stage: PublicStage) -> dict[str, Any]:
    return {name: (getattr(stage, name).isoformat() if isinstance(getattr(stage, name), datetime)
                   else str(getattr(stage, name)) if name in ("kind", "tie_rule")
                   else getattr(stage, name)) for name in STAGE_FIELDS}


def _check_values(stage: PublicStage | None, values: Mapping[str, Any], now: datetime) -> None:
    if values["closes_at"] <= values["opens_at"]:
        raise StageError(_l("The close must come after the opening."), field="closes_at",
                         status=400)
    if values["advance_per_category"] < 1:
        raise StageError(_l("At least one entry per category must advance."),
                         field="advance_per_category", status=400)
    if stage is None:
        return
    if stage.closed_at is not None:
        raise StageError(_l("The public stage is closed and can no longer be changed."))
    started = stage.opens_at <= now
    if started and StageKind(values["kind"]) != stage.kind:
        raise StageError(_l("The kind of stage cannot change once it has opened."), field="kind")
    if started and values["opens_at"] != stage.opens_at:
        raise StageError(_l("The opening cannot move once the stage has opened."),
                         field="opens_at")


def save_stage(*, session: Session, actor, call: Call, values: Mapping[str, Any],
               now: datetime | None = None) -> tuple[PublicStage, bool]:
    """Create the call's stage (with every eligible entry taking part) or change it.
    Returns the stage and whether anything changed."""
    now = now or utcnow()
    stage = stage_of(session, call)
    _check_values(stage, values, now)
    if stage is None:
        stage = PublicStage(call=call, **{k: values[k] for k in STAGE_FIELDS})
        session.add(stage)
        session.flush()
        ids = [n.id for n in eligible_nominations(session, call)]
        _insert_entries(session, stage, ids)
        audit.record(session, action="public_stage.create", object_type="public_stage",
                     object_id=stage.id, actor=actor, call_id=call.id,
                     after={**_snapshot(stage), "entries": len(ids)})
        return stage, True
    before = _snapshot(stage)
    for name in STAGE_FIELDS:
        setattr(stage, name, values[name])
    after = _snapshot(stage)
    if before == after:
        return stage, False
    session.flush()
    audit.record(session, action="public_stage.update", object_type="public_stage",
                 object_id=stage.id, actor=actor, call_id=call.id, before=before, after=after)
    return stage, True


def _insert_entries(session: Session, stage: PublicStage, ids: Collection[int]) -> None:
    if not ids:
        return
    by_id = dict(session.execute(
        select(Nomination.id, Nomination.category_id).where(Nomination.id.in_(list(ids)))
    ).all())
    session.execute(insert(StageEntry), [
        {"stage_id": stage.id, "nomination_id": nid, "category_id": by_id[nid],
         "tied_at_cut": False}
        for nid in sorted(ids)
    ])
    session.expire(stage, ["entries"])


def set_entries(*, session: Session, actor, stage: PublicStage, nomination_ids: Collection[int],
                now: datetime | None = None) -> bool:
    """Choose the entries taking part; only before the stage opens, and only eligible ones."""
    now = now or utcnow()
    if stage.closed_at is not None or stage.opens_at <= now:
        raise StageError(_l("The entries cannot change once the stage has opened."))
    wanted = set(nomination_ids)
    eligible = {n.id for n in eligible_nominations(session, stage.call)}
    if not wanted <= eligible:
        raise StageError(_l("Only eligible entries of this call can take part."), status=400)
    present = {e.nomination_id for e in stage.entries}
    added, removed = sorted(wanted - present), sorted(present - wanted)
    if not added and not removed:
        return False
    for entry in list(stage.entries):
        if entry.nomination_id in removed:
            session.delete(entry)
    session.flush()
    _insert_entries(session, stage, added)
    audit.record(session, action="public_stage.entries", object_type="public_stage",
                 object_id=stage.id, actor=actor, call_id=stage.call_id,
                 before={"count": len(present)},
                 after={"count": len(wanted), "added": added, "removed": removed})
    return True
