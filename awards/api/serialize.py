"""Model objects → the JSON shapes of ``awards.api.schemas``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from awards.enums import FieldType
from awards.nominations.authors import author_names, authors_of
from awards.nominations.services import NOMINEE_COLUMNS

LANGS = ("kk", "ru", "en")


def dt(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def texts(obj: Any, field: str) -> dict[str, str]:
    return {lang: getattr(obj, f"{field}_{lang}", "") or "" for lang in LANGS}


def option_texts(option: dict, field: str) -> dict[str, str]:
    return {lang: str(option.get(f"{field}_{lang}") or "") for lang in LANGS}


def call_ref(call) -> dict[str, Any]:
    return {"id": call.id, "slug": call.slug}


def category_ref(category) -> dict[str, Any]:
    return {"id": category.id, "code": category.code}


def nomination_ref(nomination_id: int, reference: str | None) -> dict[str, Any]:
    return {"id": nomination_id, "reference": reference or None}


def call_summary(call, now: datetime) -> dict[str, Any]:
    return {
        "id": call.id, "slug": call.slug, "year": call.year, "status": call.status.value,
        "title": texts(call, "title"),
        "programme": {"slug": call.programme.slug, "name": texts(call.programme, "name")},
        "timezone": call.timezone, "opens_at": dt(call.opens_at), "closes_at": dt(call.closes_at),
        "is_open": call.is_open_at(now),
    }


def category(cat) -> dict[str, Any]:
    return {
        "id": cat.id, "code": cat.code, "name": texts(cat, "name"),
        "description": texts(cat, "description"), "position": cat.position,
        "winners_count": cat.winners_count,
        "award_levels": [{"id": lv.id, "key": lv.key, "name": texts(lv, "name"),
                          "count": lv.count} for lv in cat.award_levels],
    }


def form_field(f) -> dict[str, Any]:
    return {
        "key": f.key, "type": f.type.value, "label": texts(f, "label"), "help": texts(f, "help"),
        "required": bool(f.required), "category": f.category.code if f.category else None,
        "nominator_kinds": list(f.nominator_kinds) if f.nominator_kinds is not None else None,
        "options": [{"value": str(o.get("value")), "label": option_texts(o, "label")}
                    for o in f.options or []],
        "min_value": f.min_value, "max_value": f.max_value, "max_length": f.max_length,
    }


def call_detail(call, now: datetime) -> dict[str, Any]:
    return {
        **call_summary(call, now),
        "rules": texts(call, "rules"), "consent_text": texts(call, "consent_text"),
        "allowed_nominator_kinds": list(call.allowed_nominator_kinds or []),
        "requires_nominee_consent": bool(call.requires_nominee_consent),
        "categories": [category(c) for c in call.categories],
        "fields": [form_field(f) for f in call.fields],
    }


def attachment(a, name: str | None = None) -> dict[str, Any]:
    """``name`` replaces the uploaded name where the reader may not see it (blind rounds)."""
    return {"id": a.id, "field": a.field.key if a.field else None,
            "original_name": name or a.original_name, "content_type": a.content_type,
            "size": a.size}


def answers(nomination, keys: set[str] | None = None) -> dict[str, Any]:
    """Stored answers by question key (nominee details are in ``nominee``)."""
    out = {}
    for answer in nomination.answers:
        key = answer.field.key
        if key in NOMINEE_COLUMNS or (keys is not None and key not in keys):
            continue
        if answer.value is not None:
            out[key] = answer.value
    return out


def nominee(nomination) -> dict[str, str]:
    return {name: getattr(nomination, name) or "" for name in NOMINEE_COLUMNS}


def nomination(n, now: datetime) -> dict[str, Any]:
    from awards.nominations import services
    from awards.policy import call_is_frozen

    # As the page: nothing changes once the call's results are scheduled or published.
    editable = n.is_editable_at(now) and not call_is_frozen(n.call)
    return {
        "id": n.id, "reference": n.reference or None, "call": call_ref(n.call),
        "category": category_ref(n.category), "applicant_id": n.applicant_id,
        "nominator_kind": n.nominator_kind.value, "status": n.status.value,
        "nominee": nominee(n), "answers": answers(n),
        "attachments": [attachment(a) for a in n.attachments],
        "authors": [{"position": a.position, "name": author_names(a.row()), "role": a.role,
                     "email": a.email, "consent": a.consent_state} for a in authors_of(n)],
        "missing": services.missing_fields(n) if editable else [],
        "editable": editable,
        "created_at": dt(n.created_at), "updated_at": dt(n.updated_at),
        "submitted_at": dt(n.submitted_at), "withdrawn_at": dt(n.withdrawn_at),
        "timeline": [{"at": dt(e.at), "kind": e.kind,
                      "status": e.status.value if e.status is not None else None,
                      "reason": e.reason or "", "version": e.number}
                     for e in services.timeline(n)],
    }


# ---- jury ---------------------------------------------------------------------------------------


def round_summary(round_, now: datetime) -> dict[str, Any]:
    from awards.jury.access import round_is_closed

    return {"id": round_.id, "name": texts(round_, "name"), "blind": bool(round_.blind),
            "opens_at": dt(round_.opens_at), "closes_at": dt(round_.closes_at),
            "is_open": round_.is_open_at(now), "is_closed": round_is_closed(round_, now)}


def review(r) -> dict[str, Any] | None:
    if r is None:
        return None
    return {
        "status": r.status.value,
        "scores": {s.criterion.key: s.value for s in r.scores},
        "comments": {s.criterion.key: s.comment or "" for s in r.scores},
        "overall_comment": r.overall_comment or "", "private_note": r.private_note or "",
        "total": r.total, "version": r.version_id, "submitted_at": dt(r.submitted_at),
        "updated_at": dt(r.updated_at),
    }


def assignment_summary(a, now: datetime) -> dict[str, Any]:
    from awards.jury.services import state_of

    n = a.nomination
    return {
        "id": a.id, "round": round_summary(a.round, now), "call": call_ref(a.round.call),
        "category": category_ref(n.category), "nomination": nomination_ref(n.id, n.reference),
        "state": state_of(a), "review": review(a.review),
    }


def rubric(r) -> dict[str, Any] | None:
    if r is None:
        return None
    return {"total_method": r.total_method.value, "criteria": [
        {"key": c.key, "title": texts(c, "title"), "description": texts(c, "description"),
         "min_score": c.min_score, "max_score": c.max_score, "step": c.step,
         "weight": c.weight} for c in r.criteria]}


def juror_entry(nomination, round_, *, identity: bool) -> dict[str, Any]:
    """What ``awards.jury.services.entry_view`` shows the juror, by key: where the policy hides
    identity (a blind round) the nominee's details and every identifying answer and file are
    left out, and the files that remain are named "Attachment 2.pdf" as on the juror's page."""
    from awards.nominations.services import fields_for, question_fields
    from awards.redaction import neutral_names

    fields = question_fields(fields_for(nomination))
    # Authors name people: hidden in a blind round whatever the question says (as the page).
    visible = [f for f in fields
               if identity or not (f.is_identifying or f.type == FieldType.AUTHORS)]
    keys = {f.key for f in visible if f.type != FieldType.FILE}
    file_ids = {f.id for f in visible if f.type == FieldType.FILE}
    files = [a for a in nomination.attachments if a.field_id in file_ids]
    names = {} if identity else neutral_names(files)
    return {
        "nominee": nominee(nomination) if identity else None,
        "answers": answers(nomination, keys),
        "attachments": [attachment(a, names.get(a.id)) for a in files],
    }


# ---- ranking ------------------------------------------------------------------------------------


def decision(d) -> dict[str, Any]:
    return {
        "id": d.id, "kind": d.kind.value, "category": category_ref(d.category),
        "round_id": d.round_id,
        "nomination": nomination_ref(d.nomination_id, d.nomination.reference),
        "award_level": ({"id": d.award_level.id, "key": d.award_level.key}
                        if d.award_level is not None else None),
        "note": d.note or "", "decided_at": dt(d.decided_at), "decided_by_id": d.decided_by_id,
    }


def ranking(result, round_, now: datetime) -> dict[str, Any]:
    return {
        "round": round_summary(round_, now), "call": call_ref(round_.call),
        "method": result.method.value, "tie_breaks": list(result.tie_breaks),
        "categories": [{
            "category": category_ref(cat.category), "top_n": cat.top_n,
            "entries": [{
                "nomination": nomination_ref(row.entry.id, row.entry.reference),
                "rank": row.ranked.rank, "tied": bool(row.ranked.tied),
                "score": row.ranked.score, "score_rank": row.ranked.score_rank,
                "score_tied": bool(row.ranked.score_tied), "decided_by": row.ranked.decided_by,
                "review_count": row.result.review_count, "complete": bool(row.result.complete),
                "totals": list(row.totals),
            } for row in cat.rows],
        } for cat in result.categories],
    }


# ---- public -------------------------------------------------------------------------------------


def announcement_summary(a) -> dict[str, Any]:
    return {"id": a.id, "slug": a.slug, "title": texts(a, "title"),
            "summary": texts(a, "summary"), "published_at": dt(a.publish_at),
            "call": a.call.slug if a.call is not None else None}


def announcement(a) -> dict[str, Any]:
    return {**announcement_summary(a), "body": texts(a, "body")}


def publication(p, now: datetime, versions: list[int]) -> dict[str, Any]:
    return {
        "call": call_summary(p.call, now), "version": p.version, "status": p.status.value,
        "published_at": dt(p.published_at or p.scheduled_for), "note": texts(p, "note"),
        "snapshot": p.snapshot if isinstance(p.snapshot, dict) else {}, "versions": versions,
    }
