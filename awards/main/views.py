"""Home page, language switch and health check."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
)
from flask_login import current_user
from sqlalchemy import text

from awards.auth import services as auth_services
from awards.cache import public_page
from awards.db import get_db, utcnow
from awards.forms import CSRFOnlyForm
from awards.http_cache import same_origin
from awards.urls import safe_next

bp = Blueprint("main", __name__)


@bp.get("/")
@public_page
def index():
    from awards.calls.services import public_calls

    open_calls, _upcoming = public_calls(session=get_db(), now=utcnow())
    return render_template("main/index.html", open_calls=open_calls)


@bp.post("/language/<code>")
def set_language(code: str):
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    form = CSRFOnlyForm()
    # Pages shared by every visitor carry no per-visitor token: a visitor who is not logged in
    # switches from them, and the browser's own headers tell that the post comes from here.
    if not form.validate() and (current_user.is_authenticated or not same_origin()):
        abort(400)
    session["lang"] = code
    session.permanent = True
    if current_user.is_authenticated:
        db = get_db()
        auth_services.set_preferred_language(
            session=db, user=current_user._get_current_object(), language=code
        )
        db.commit()
    return redirect(safe_next(request.form.get("next")))


@bp.get("/healthz")
def healthz():
    try:
        get_db().execute(text("SELECT 1"))
    except Exception as exc:
        current_app.logger.warning("health check failed: %s", exc)
        return jsonify(status="error", database="unavailable"), 503
    return jsonify(status="ok", database="ok", time=utcnow().isoformat())
