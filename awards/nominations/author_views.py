"""An author's consent through the link e-mailed to them (no login: the link is the
credential), in the same way as the nominee's."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from awards.db import get_db
from awards.extensions import limiter
from awards.i18n import localized
from awards.nominations import authors
from awards.nominations.forms import ConsentForm
from awards.nominations.services import consent_open

bp = Blueprint("authors", __name__, url_prefix="/nominations/authors")


def _limit():
    return current_app.config.get("RATELIMIT_CONSENT", "20 per minute;100 per hour")


@bp.route("/consent/<token>", methods=["GET", "POST"])
@limiter.limit(_limit)
def consent(token: str):
    db = get_db()
    author = authors.find_by_token(db, token)
    if author is None:
        abort(404)
    form = ConsentForm()
    if request.method == "POST":
        decision = request.form.get("decision")
        if not form.validate() or decision not in ("accept", "decline"):
            abort(400)
        try:
            authors.record_author_answer(session=db, author=author,
                                         accept=decision == "accept")
        except authors.AuthorConsentClosed:
            db.rollback()
            abort(409)
        db.commit()
        if decision == "accept":
            flash(_("Thank you: you have confirmed that you are named as an author."),
                  "success")
        else:
            flash(_("You have declined to be named as an author. The applicant will see it."),
                  "success")
        return redirect(url_for(".consent", token=token), 303)
    nomination = author.nomination
    definition = authors.authors_field(nomination.call.fields)
    return render_template(
        "nominations/author_consent.html", author=author, nomination=nomination,
        call=nomination.call, form=form, is_open=consent_open(nomination),
        role=authors.role_label(definition, author.role),
        work=authors.work_title(nomination),
        consent_text=localized(nomination.call, "consent_text"))
