"""Small helpers every feature's views share."""

from __future__ import annotations

from flask import abort, flash
from flask_login import current_user

from awards.db import get_db
from awards.forms import CSRFOnlyForm


def actor():
    """The signed-in user as a plain object (services store it; a proxy must not leak)."""
    return current_user._get_current_object()


def check_csrf() -> None:
    """For buttons that post an action without fields (move, delete, remind)."""
    if not CSRFOnlyForm().validate():
        abort(400)


def show_error(form, error) -> None:
    """Put a service's refusal (``message``, optional ``field``) next to the input it is about,
    or at the top of the page."""
    target = getattr(form, error.field, None) if getattr(error, "field", None) else None
    if target is not None:
        target.errors = [*target.errors, error.message]
    else:
        flash(str(error.message), "error")


def form_status(form) -> int:
    return 400 if form.is_submitted() else 200


def get_or_404(model, ident: int):
    obj = get_db().get(model, ident)
    if obj is None:
        abort(404)
    return obj


def viewer():
    """The signed-in person as the policy sees them, built once per request."""
    from flask import g

    from awards.policy import Viewer

    found = g.get("_policy_viewer")
    if found is None:
        found = g._policy_viewer = Viewer(get_db(), current_user._get_current_object())
    return found
