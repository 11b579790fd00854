"""Small helpers every feature's views share.

An administrator's action is one pattern everywhere: the view parses the request (a form, a
button's CSRF token), makes ONE service call through :func:`run_action`, and answers (a
redirect on success, the page again with the refusal otherwise)::

    form = AwardLevelForm()
    if form.validate_on_submit() and run_action(
            lambda: services.create_award_level(session=db, actor=actor(), category=category,
                                                values=form.values()),
            form=form, success=_("The award level is added.")):
        return redirect(url_for(".category_edit", call_id=call.id, category_id=category.id))
    return render_template("admin/award_level_form.html", form=form, ...), form_status(form)

A button without fields checks its CSRF token, calls ``run_action`` and redirects whatever
the outcome (the flash says which). ``Outcome.value`` is what the service returned (the new
object to redirect to), ``Outcome.status()`` the HTTP status of a refusal.

The service asks the policy, writes and audits; ``run_action`` commits or rolls back and
flashes. A view does not commit, roll back or catch a refusal itself (where one must, a
comment says why)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import abort, flash
from flask_babel import gettext as _
from flask_login import current_user

from awards.db import get_db
from awards.forms import CSRFOnlyForm
from awards.refusals import Refusal


@dataclass
class Outcome:
    """What :func:`run_action` did: true when the service's work was committed (``value`` is
    what the service returned), false when it was refused (``error``)."""

    value: Any = None
    error: Refusal | None = None

    def __bool__(self) -> bool:
        return self.error is None

    def status(self, default: int = 400) -> int:
        """The HTTP status for the page that shows the refusal: the refusal's own (409 for a
        phase, 403 for a role) when it has one, else ``default``."""
        return getattr(self.error, "status", None) or default


def run_action(service: Callable[[], Any], *, form=None,
               success: str | Callable[[Any], str | None] | None = None,
               show: bool = True) -> Outcome:
    """Make one service call for the request: on a :class:`Refusal` roll back (nothing is
    saved) and show its message, next to the form field it names or flashed at the top; else
    commit and flash ``success`` (a text, or a function of the service's result giving one).

    The refusal is also kept on ``form`` so that :func:`form_status` answers with its status.
    ``show=False`` is for the page that shows the refusal in its own place (``Outcome.error``).
    """
    db = get_db()
    try:
        value = service()
    except Refusal as exc:
        db.rollback()
        if show:
            show_error(form, exc)
        if form is not None:
            form.refusal = exc
        return Outcome(error=exc)
    db.commit()
    message = success(value) if callable(success) else success
    if message:
        flash(str(message), "success")
    return Outcome(value=value)


def saved(message: str) -> Callable[[bool], str]:
    """The success message of an edit whose service tells whether anything changed."""
    return lambda changed: message if changed else _("Nothing was changed.")


def actor():
    """The signed-in user as a plain object (services store it; a proxy must not leak)."""
    return current_user._get_current_object()


def call_time(value, call, fmt: str = "datetime") -> str:
    """A UTC instant as wall-clock time in the call's own zone (a deadline means the call's
    local time whatever the reader's), in the site's one style: "date", "time" or both. Pages
    have it as ``call_dt``; the page names the zone once (base.html)."""
    from awards.i18n import format_dt

    return format_dt(value, fmt, tz=call.tz)


def check_csrf() -> None:
    """For buttons that post an action without fields (move, delete, remind)."""
    if not CSRFOnlyForm().validate():
        abort(400)


def show_error(form, error) -> None:
    """Put a service's refusal (``message``, optional ``field``) next to the input it is about,
    or at the top of the page (every reason, when the refusal lists several)."""
    field = getattr(error, "field", None)
    target = getattr(form, field, None) if form is not None and field else None
    if target is not None:
        target.errors = [*target.errors, error.message]
        return
    for reason in getattr(error, "reasons", None) or [error.message]:
        flash(str(reason), "error")


def form_status(form) -> int:
    """200 for a form shown, 400 for one sent back with errors, or the status of the refusal
    :func:`run_action` met (409 when the phase forbids the change, 403 for a role)."""
    refusal = getattr(form, "refusal", None)
    if refusal is not None:
        return getattr(refusal, "status", None) or 400
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
