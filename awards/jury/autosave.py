"""The score sheet's autosave: the page's script posts the sheet to the same save route as the
buttons (the same service, version check and audit) and asks for JSON instead of a page.

The answers: 200 ``{"status": "saved", "version": n}``; 409 ``stale`` (another tab saved: the
stored ``version``), ``closed`` or ``submitted`` with a translated ``message``; 400 ``invalid``
with the field ``errors``. The script keeps what was typed on the device until a save
succeeds."""

from __future__ import annotations

from flask import jsonify, request


def wants_json() -> bool:
    """A save sent by the page's script (``Accept: application/json``), not a form post."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes["application/json"] >= 1


def saved_json(review):
    return jsonify(status="saved", version=review.version_id,
                   submitted=bool(review.is_submitted))


def refused_json(status: str, code: int, **details):
    body = {"status": status}
    body.update({k: (str(v) if k == "message" else v) for k, v in details.items()})
    return jsonify(body), code


def form_errors(form) -> dict[str, str]:
    return {name: " ".join(str(e) for e in field.errors)
            for name, field in form._fields.items() if field.errors}
