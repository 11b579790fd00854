"""Named permission predicates and view guards. Every state-changing view checks one of these
on the server; templates only use them to hide what the user could not do anyway."""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user


def is_admin(user) -> bool:
    return bool(user and getattr(user, "is_authenticated", False) and user.is_admin)


def admin_required(view):
    """Anonymous visitors are sent to log in; signed-in non-administrators get 403."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            from awards.extensions import login_manager

            return login_manager.unauthorized()
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def verified_required(view):
    """Applicants must confirm their e-mail before they submit anything."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            from awards.extensions import login_manager

            return login_manager.unauthorized()
        if not current_user.email_verified:
            from flask import flash, redirect, url_for
            from flask_babel import gettext as _

            flash(_("Please confirm your e-mail address first: follow the link we sent you."),
                  "warning")
            return redirect(url_for("auth.profile"))
        return view(*args, **kwargs)

    return wrapper


def can_view_nomination(user, nomination) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return user.is_admin or nomination.applicant_id == user.id


def can_edit_nomination(user, nomination, now) -> bool:
    return (
        getattr(user, "is_authenticated", False)
        and nomination.applicant_id == user.id
        and nomination.is_editable_at(now)
    )
