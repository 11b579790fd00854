"""Managing personal API tokens from the profile page: create (the secret is shown once, on
the answer to the form, and never stored), revoke. Session-authenticated forms with CSRF."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from awards.api import tokens
from awards.api.forms import NEVER, TokenForm
from awards.api.models import ApiToken
from awards.db import get_db, utcnow
from awards.views_common import actor, check_csrf

bp = Blueprint("api_tokens", __name__, url_prefix="/account/api-tokens")


@bp.app_template_global("api_token_panel")
def api_token_panel(form: TokenForm | None = None) -> dict:
    """What the profile page's token section shows."""
    if not current_user.is_authenticated:
        return {"tokens": [], "form": None, "now": utcnow()}
    return {"tokens": tokens.tokens_of(get_db(), current_user),
            "form": form or TokenForm(formdata=None), "now": utcnow()}


def _no_store(html: str):
    # The page holds the only copy of the secret: no cache may keep it.
    response = make_response(html)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/")
@login_required
def index():
    return render_template("api/tokens.html", panel=api_token_panel())


@bp.post("/")
@login_required
def create():
    form = TokenForm()
    if not form.validate():
        return render_template("api/tokens.html", panel=api_token_panel(form)), 400
    db = get_db()
    now = utcnow()
    days = form.expires_in.data
    expires_at = None if days == NEVER else now + timedelta(days=int(days))
    try:
        created = tokens.create_token(session=db, user=actor(), name=form.name.data,
                                      expires_at=expires_at, now=now)
    except tokens.TokenError as exc:
        db.rollback()
        target = getattr(form, exc.field, None) if exc.field else None
        if target is not None:
            target.errors = [*target.errors, exc.message]
        else:
            flash(str(exc.message), "error")
        return render_template("api/tokens.html", panel=api_token_panel(form)), 400
    db.commit()
    return _no_store(render_template("api/token_created.html", token=created.token,
                                     secret=created.secret))


@bp.post("/<int:token_id>/revoke")
@login_required
def revoke(token_id: int):
    check_csrf()
    db = get_db()
    token = db.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    if tokens.revoke_token(session=db, user=actor(), token=token):
        db.commit()
        flash(_("The token “%(name)s” is revoked. Programs using it can no longer connect.",
                name=token.name), "success")
    return redirect(url_for("auth.profile") + "#api-tokens", 303)
