"""The applicant's own data: what is kept, download it all, delete the account."""

from __future__ import annotations

import tempfile

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    send_file,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from awards.db import get_db, utcnow
from awards.extensions import limiter
from awards.privacy import services
from awards.privacy.forms import DeleteAccountForm

bp = Blueprint("privacy", __name__, url_prefix="/account/data")


def _render_index(form: DeleteAccountForm, status: int = 200, message=None):
    return render_template("privacy/index.html", form=form, message=message), status


@bp.get("/")
@login_required
def index():
    return _render_index(DeleteAccountForm(formdata=None))


@bp.route("/export", methods=["GET", "POST"])
@login_required
def export():
    # Reads only, so a plain link (GET) is fine; the form on the page posts for the same file.
    user = current_user._get_current_object()
    bundle = services.collect_export(session=get_db(), user=user)
    # In memory up to 32 MB, then on disk: a nomination's documents can be large.
    # send_file closes it when the response is done.
    out = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)  # noqa: SIM115
    services.write_zip(bundle, out)
    out.seek(0)
    name = f"awards-my-data-{user.id}-{utcnow():%Y%m%d}.zip"
    response = send_file(out, mimetype="application/zip", as_attachment=True,
                         download_name=name, max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/delete")
@login_required
# The password is checked here too: no more guesses than at the login form.
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"])
def delete():
    form = DeleteAccountForm()
    if not form.validate():
        return _render_index(form, 400)
    db = get_db()
    user = current_user._get_current_object()
    try:
        result = services.delete_account(session=db, user=user, password=form.password.data)
    except services.WrongPassword as refusal:
        db.rollback()
        form.password.errors.append(refusal.message)
        return _render_index(form, 400)
    except services.DeletionRefused as refusal:
        db.rollback()
        return _render_index(form, 409, message=refusal.message)
    db.commit()
    services.remove_files(result.files_to_remove)
    current_app.logger.info("account %s deleted", user.id)
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    logout_user()
    flash(_("Your account has been deleted. We have sent a last message to your former "
            "e-mail address."), "success")
    return redirect(url_for("main.index"), 303)
