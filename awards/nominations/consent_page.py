"""The page behind a consent link e-mailed to someone without an account (the link is the
credential): the nominee's (``nominations.consent``) and an author's (``authors.consent``)
are one page with their own facts and wording.

GET shows who asks what; POST takes the answer ("accept" or "decline"), records it through
the feature's service and redirects back to the page, which then shows the answer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from awards.db import get_db
from awards.i18n import localized
from awards.nominations.forms import ConsentForm
from awards.nominations.models import Nomination


@dataclass
class ConsentSubject:
    """What one kind of link shows and does.

    ``record(session, accept)`` writes the answer and raises ``closed`` when answers are no
    longer taken; ``facts`` are (label, value) rows shown above the buttons, empty values left
    out; ``confirmed_at`` / ``declined_at`` the answer given so far."""

    nomination: Nomination
    title: str
    facts: list[tuple[str, str]]
    accept_label: str
    decline_label: str
    accepted_message: str
    declined_message: str
    confirmed_text: Callable[[datetime], str]
    declined_text: Callable[[datetime], str]
    confirmed_at: datetime | None
    declined_at: datetime | None
    is_open: bool
    record: Callable[[object, bool], object]
    closed: type[Exception] = field(default=Exception)


def nomination_facts(nomination: Nomination, *middle: tuple[str, str]) -> list[tuple[str, str]]:
    """The rows both pages show: the prize and category, ``middle``, who nominated, the
    reference."""
    nominator = nomination.organisation_name or (
        nomination.applicant.display_name if nomination.applicant else "")
    rows = [(_("Prize"), localized(nomination.call, "title")),
            (_("Category"), localized(nomination.category, "name")),
            *middle,
            (_("Nominated by"), nominator),
            (_("Reference"), nomination.reference or "")]
    return [(label, value) for label, value in rows if value]


def answer_page(token: str, subject: ConsentSubject | None):
    """The consent page for ``subject`` (None: no such link, a 404)."""
    if subject is None:
        abort(404)
    db = get_db()
    form = ConsentForm()
    if request.method == "POST":
        decision = request.form.get("decision")
        if not form.validate() or decision not in ("accept", "decline"):
            abort(400)
        try:
            subject.record(db, decision == "accept")
        except subject.closed:
            db.rollback()
            abort(409)
        db.commit()
        flash(subject.accepted_message if decision == "accept" else subject.declined_message,
              "success")
        return redirect(url_for(request.endpoint, token=token), 303)
    nomination = subject.nomination
    return render_template("nominations/consent.html", subject=subject, form=form,
                           nomination=nomination, call=nomination.call,
                           consent_text=localized(nomination.call, "consent_text"))
