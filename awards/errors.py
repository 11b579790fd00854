"""Error pages (translated) for the status codes users can meet."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Flask, current_app, g, render_template, request
from flask_babel import lazy_gettext as _l
from markupsafe import escape
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from awards.extensions import retry_after
from awards.i18n import format_size as size_text

log = logging.getLogger(__name__)

MESSAGES = {
    400: (_l("Bad request"),
          _l("The request could not be understood. Please check the form and try again.")),
    403: (_l("Access denied"), _l("You do not have permission to open this page.")),
    404: (_l("Page not found"),
          _l("The page you are looking for does not exist or is not available to you.")),
    405: (_l("Method not allowed"), _l("This address does not accept that kind of request.")),
    413: (_l("File too large"),
          _l("The upload is larger than allowed. Please choose a smaller file.")),
    429: (_l("Too many requests"), _l("Too many attempts. Please wait a little and try again.")),
    500: (_l("Something went wrong"),
          _l("An unexpected error happened. It has been logged; please try again later.")),
    503: (_l("Service temporarily unavailable"),
          _l("The service cannot reach its database right now. Nothing was saved from this "
             "request; please try again in a minute.")),
}

# Seconds a client is asked to wait after the database went away.
RETRY_AFTER = 30

# Headers an HTTP error carries that the client needs (Allow on 405, Retry-After on 429/503,
# WWW-Authenticate on 401); the body is ours, so its Content-Type is not among them.
_KEPT_HEADERS = {"allow", "retry-after", "www-authenticate"}


def render_error(code: int, detail: str | None = None):
    title, message = MESSAGES.get(code, MESSAGES[500] if code >= 500 else MESSAGES[400])
    note = None
    if code == 413:
        note = _l("The site accepts at most %(limit)s at once. Nothing from this request was "
                  "stored.", limit=size_text(current_app.config.get("MAX_CONTENT_LENGTH") or 0))
    html = render_template(
        "errors/error.html", code=code, title=title, message=detail or message, note=note,
        back_url=_back_url() if code == 413 else None,
    )
    return html, code


def _back_url() -> str | None:
    """The page the refused request came from, when it is one of this site's."""
    referrer = request.referrer or ""
    parts = urlsplit(referrer)
    if parts.scheme in ("http", "https") and parts.netloc == request.host:
        return referrer
    return None


def http_error_page(exc: HTTPException):
    """The site's translated page for an HTTP error, with the headers the client needs (Allow,
    Retry-After, WWW-Authenticate). What the application answers for an ``HTTPException``; a
    blueprint's own handler calls it for the cases it does not answer itself."""
    code = exc.code or 500
    if code < 400:
        return exc  # routing redirects (trailing slash) are not errors
    # A refusal that names what was wrong (the input boundary) shows that on the page.
    html, status = render_error(code, getattr(exc, "page_detail", None))
    headers = [(k, v) for k, v in exc.get_headers() if k.lower() in _KEPT_HEADERS]
    if code == 429 and (seconds := retry_after()) and not any(
            k.lower() == "retry-after" for k, _v in headers):
        headers.append(("Retry-After", seconds))
    return html, status, headers


def register(app: Flask) -> None:
    app.register_error_handler(HTTPException, http_error_page)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error", exc_info=exc)
        database_gone = isinstance(exc, (OperationalError, InterfaceError)) or getattr(
            exc, "connection_invalidated", False)
        session = g.pop("_db_session", None)
        if session is not None:
            try:
                session.rollback()
            except Exception:
                log.warning("rollback after an error failed", exc_info=True)
            finally:
                session.close()
        from awards.storage import discard_uncommitted

        discard_uncommitted()
        _reload_user(skip=database_gone)
        if database_gone:
            html, code = _render_safely(ServiceUnavailable.code)
            return html, code, {"Retry-After": str(RETRY_AFTER)}
        return _render_safely(InternalServerError.code)


def _reload_user(*, skip: bool) -> None:
    """The logged-in user was loaded by the session just thrown away; the layout of the error
    page reads it. Load it afresh, or show the page as to a visitor when the database is gone
    (the next page, once the database is back, shows the user logged in as before)."""
    g.pop("_login_user", None)
    if not skip:
        try:
            current_app.login_manager._load_user()
            return
        except Exception:
            log.warning("reloading the user for an error page failed", exc_info=True)
            session = g.pop("_db_session", None)
            if session is not None:
                session.close()
    g._login_user = current_app.login_manager.anonymous_user()


def _render_safely(code: int):
    try:
        return render_error(code)
    except Exception:
        log.exception("the error page itself failed")
        title, message = MESSAGES[code]
        return (f"<!doctype html><title>{escape(str(title))}</title><h1>{escape(str(title))}"
                f"</h1><p>{escape(str(message))}</p>", code)
