"""Error pages (translated) for the status codes users can meet."""

from __future__ import annotations

import logging

from flask import Flask, g, render_template
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Please check the form and try again.")),
    403: (_l("Access denied"), _l("You do not have permission to open this page.")),
    404: (_l("Page not found"), _l("The page you are looking for does not exist or is not available to you.")),
    405: (_l("Method not allowed"), _l("This address does not accept that kind of request.")),
    413: (_l("File too large"), _l("The upload is larger than allowed. Please choose a smaller file.")),
    429: (_l("Too many requests"), _l("Too many attempts. Please wait a little and try again.")),
    500: (_l("Something went wrong"), _l("An unexpected error happened. It has been logged; please try again later.")),
}

# Headers an HTTP error carries that the client needs (Allow on 405, Retry-After on 429/503,
# WWW-Authenticate on 401); the body is ours, so its Content-Type is not among them.
_KEPT_HEADERS = {"allow", "retry-after", "www-authenticate"}


def _blank_action_form():
    # The page layout builds small forms (language switch, log out). Built the usual way they
    # read the request's form data, which is what failed for a 413 or a malformed POST; an
    # error page must render whatever the request was.
    from awards.forms import CSRFOnlyForm

    return CSRFOnlyForm(formdata=MultiDict())


def render_error(code: int, detail: str | None = None):
    title, message = MESSAGES.get(code, MESSAGES[500] if code >= 500 else MESSAGES[400])
    html = render_template(
        "errors/error.html", code=code, title=title, message=detail or message,
        action_form=_blank_action_form,
    )
    return html, code


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        code = exc.code or 500
        if code < 400:
            return exc  # routing redirects (trailing slash) are not errors
        html, status = render_error(code)
        headers = [(k, v) for k, v in exc.get_headers() if k.lower() in _KEPT_HEADERS]
        return html, status, headers

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error", exc_info=exc)
        session = g.pop("_db_session", None)
        if session is not None:
            session.rollback()
            session.close()
        return render_error(InternalServerError.code)
