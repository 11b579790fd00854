"""An author's consent through the link e-mailed to them (no login: the link is the
credential): the same page as the nominee's (``nominations.consent_page``)."""

from __future__ import annotations

from flask import Blueprint, current_app
from flask_babel import gettext as _

from awards.db import get_db
from awards.extensions import limiter
from awards.nominations import authors
from awards.nominations.consent_page import ConsentSubject, answer_page, nomination_facts
from awards.nominations.services import consent_open

bp = Blueprint("authors", __name__, url_prefix="/nominations/authors")


def _limit():
    return current_app.config.get("RATELIMIT_CONSENT", "20 per minute;100 per hour")


@bp.route("/consent/<token>", methods=["GET", "POST"])
@limiter.limit(_limit)
def consent(token: str):
    author = authors.find_by_token(get_db(), token)
    return answer_page(token, None if author is None else _author_subject(author))


def _author_subject(author) -> ConsentSubject:
    nomination = author.nomination
    role = authors.role_label(authors.authors_field(nomination.call.fields), author.role)
    name = f"{author.name()} ({role})" if role else author.name()
    return ConsentSubject(
        nomination=nomination, title=_("You are named as an author"),
        facts=nomination_facts(nomination, (_("Work"), authors.work_title(nomination) or ""),
                               (_("Author"), name)),
        accept_label=_("I confirm I am an author of this work"),
        decline_label=_("I decline"),
        accepted_message=_("Thank you: you have confirmed that you are named as an author."),
        declined_message=_("You have declined to be named as an author. The applicant will "
                           "see it."),
        confirmed_text=lambda when: _("You confirmed on %(when)s.", when=when),
        declined_text=lambda when: _("You declined on %(when)s.", when=when),
        confirmed_at=author.consent_at, declined_at=author.declined_at,
        is_open=consent_open(nomination),
        record=lambda db, accept: authors.record_author_answer(session=db, author=author,
                                                               accept=accept),
        closed=authors.AuthorConsentClosed)
