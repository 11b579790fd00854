"""Template globals and filters shared by every page."""

from __future__ import annotations

from flask import Flask, request
from flask_babel import get_locale

from awards.forms import CSRFOnlyForm
from awards.i18n import LANGUAGE_NAMES, format_dt, localized


def register(app: Flask) -> None:
    app.jinja_env.filters["datetime"] = format_dt
    app.jinja_env.globals["localized"] = localized
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def _globals():
        return {
            "LANGUAGE_NAMES": LANGUAGE_NAMES,
            "current_locale": str(get_locale()),
            "action_form": CSRFOnlyForm,
            "current_path": request.full_path.rstrip("?") if request else "/",
        }
