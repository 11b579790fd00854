"""Template globals and filters shared by every page."""

from __future__ import annotations

from flask import Flask, current_app, g, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from awards import social
from awards.forms import CSRFOnlyForm
from awards.i18n import (
    LANGUAGE_NAMES,
    format_date,
    format_dt,
    format_size,
    format_time,
    install_template_gettext,
    localized,
    timezone_note,
    timezone_words,
)

# (endpoint, label, who sees it). Links appear once their feature's blueprint is registered.
NAV = [
    ("calls.index", _l("Calls"), "all"),
    ("results.archive", _l("Results"), "all"),
    ("announcements.index", _l("News"), "all"),
    ("nominations.mine", _l("My nominations"), "user"),
    ("jury.dashboard", _l("Jury"), "juror"),
    ("admin.dashboard", _l("Administration"), "admin"),
]


def _is_juror() -> bool:
    if not current_user.is_authenticated:
        return False
    known = g.get("is_juror")  # set by a page that already read the user's active seat
    if known is not None:
        return known
    from sqlalchemy import select

    from awards.db import get_db
    from awards.enums import JurorStatus
    from awards.jury.models import JuryMember

    return get_db().scalar(
        select(JuryMember.id).where(JuryMember.user_id == current_user.id,
                                    JuryMember.status == JurorStatus.ACTIVE).limit(1)
    ) is not None


def action_form() -> CSRFOnlyForm:
    """The CSRF field for the small forms of a page (language, logout, buttons): one form per
    request, whatever the number of buttons, and never bound to the posted data."""
    form = g.get("_action_form")
    if form is None:
        form = g._action_form = CSRFOnlyForm(formdata=MultiDict())
    return form


def nav_links() -> list[tuple[str, str]]:
    links = []
    for endpoint, label, who in NAV:
        if endpoint not in current_app.view_functions:
            continue
        if who == "user" and not current_user.is_authenticated:
            continue
        if who == "admin" and not (current_user.is_authenticated and current_user.is_admin):
            continue
        if who == "juror" and not _is_juror():
            continue
        links.append((endpoint, label))
    return links


def register(app: Flask) -> None:
    install_template_gettext(app.jinja_env)
    app.jinja_env.filters["datetime"] = format_dt
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["time"] = format_time
    app.jinja_env.filters["zone"] = timezone_words
    app.jinja_env.filters["filesize"] = format_size
    app.jinja_env.globals["timezone_note"] = timezone_note
    app.jinja_env.globals["localized"] = localized
    app.jinja_env.globals.update(page_url=social.page_url, share_links=social.share_links,
                                 og_locale=social.og_locale)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def _globals():
        return {
            "LANGUAGE_NAMES": LANGUAGE_NAMES,
            "current_locale": str(get_locale()),
            "action_form": action_form,
            "nav_links": nav_links,
            "current_path": request.full_path.rstrip("?") if request else "/",
        }
