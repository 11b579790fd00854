"""The page cache's front: a cached public page answered before Flask's request handling.

A hit through Flask still builds a request context, opens the session, chooses the language,
runs the before/after hooks and the security headers: about ten times the work of the page's
bytes. This WSGI layer, placed just around Flask's own application (inside the proxy settings
and the metrics' timing), answers an anonymous GET or HEAD of a ``public_page`` address from the
same entry under the same key, with the headers the application answered when the entry was
built (security headers included), a fresh ``Cache-Control`` cut to the entry's life, and 304
to a matching ``If-None-Match``.

It answers only when the application would have shared the page too, and hands the request to
the application otherwise (which then decides as before, in ``awards.cache``):

- not a GET or HEAD, a body, an ``Authorization`` header, a "keep me logged in" cookie;
- a session cookie whose signature does not verify, or a session holding anything but the
  language and the markers of ``SHAREABLE_SESSION_KEYS`` (a login, a voter, a flashed message);
  a non-empty session that Flask-Login has not yet marked as not fresh (the application marks
  it, so that answer carries a cookie);
- an address whose view is not a ``public_page``, or one with an ``unless`` condition;
- no entry, an entry of an older content version, past its expiry (the embargo instant to the
  microsecond), or one not yet completed with the application's final headers.

The language is chosen by ``awards.i18n.choose_language``, the function the application uses.
Entries are stored here too: the decorator leaves a new entry in the environ and this layer
stores it with the headers of the application's answer. Hits are counted in the metrics under
the page's endpoint, as the application counts its own."""

from __future__ import annotations

import logging

from flask import Flask
from itsdangerous import BadSignature
from werkzeug.datastructures import Headers
from werkzeug.wrappers import Request, Response

from awards import db as awards_db
from awards import metrics
from awards.cache import (
    EXTENSION,
    FRONT,
    HEADER,
    PENDING,
    SHAREABLE_SESSION_KEYS,
    VARY,
    page_key,
    public_cache_control,
    valid,
)
from awards.i18n import choose_language

log = logging.getLogger(__name__)

# Headers of an answer that belong to that answer only; the others are stored with the page.
MAX_REMEMBERED = 4096  # addresses whose endpoint is remembered, per process
PER_ANSWER = frozenset({"content-length", "set-cookie", "vary", "cache-control", "etag",
                        "last-modified", HEADER.lower(), "date"})


class PageFront:
    def __init__(self, app: Flask, wsgi_app) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        setting = app.config.get("CACHE_FRONT", True)
        self._endpoints: dict[tuple, str | None] = {}
        self.serve = str(setting).strip().lower() not in ("0", "false", "no", "off", "")

    def __call__(self, environ, start_response):
        pages = self.app.extensions.get(EXTENSION)
        if pages is None or not pages.enabled:
            return self.wsgi_app(environ, start_response)
        if self.serve and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            try:
                answer = self._hit(environ, pages)
            except Exception:  # never worse than the application itself
                log.warning("the page cache's front failed; the application answers",
                            exc_info=True)
                answer = None
            if answer is not None:
                return answer(environ, start_response)
        return self._through(environ, start_response, pages)

    # ---- the application answers, and a new entry is stored with its final headers ----------

    def _through(self, environ, start_response, pages):
        environ[FRONT] = True
        seen: list = []

        def _start_response(status, headers, exc_info=None):
            seen[:] = [status, headers]
            return start_response(status, headers, exc_info)

        body = self.wsgi_app(environ, _start_response)
        pending = environ.pop(PENDING, None)
        if pending is not None and seen and seen[0][:3] == "200":
            key, entry, seconds = pending
            entry = {**entry, "final": True,
                     "headers": [(name, value) for name, value in seen[1]
                                 if name.lower() not in PER_ANSWER]}
            pages.store(key, entry, seconds)
        return body

    # ---- a hit, before Flask ---------------------------------------------------------------

    def _hit(self, environ, pages) -> Response | None:
        if environ.get("HTTP_AUTHORIZATION") or environ.get("CONTENT_LENGTH") not in \
                (None, "", "0") or "HTTP_TRANSFER_ENCODING" in environ:
            return None
        app = self.app
        config = app.config
        request = Request(environ)
        cookies = request.cookies
        if config.get("REMEMBER_COOKIE_NAME", "remember_token") in cookies:
            return None
        data = self._session(cookies)
        if data is None:
            return None
        endpoint = self._public_endpoint(request)
        if endpoint is None:
            return None
        language = choose_language(data.get("lang"), environ.get("HTTP_ACCEPT_LANGUAGE", ""),
                                   config["LANGUAGES"], config["BABEL_DEFAULT_LOCALE"])
        request.trusted_hosts = config.get("TRUSTED_HOSTS")
        key = page_key(request.scheme, request.host, request.full_path, language)
        version, entry = pages.lookup(key)
        stamp = awards_db.utcnow().timestamp()
        if not valid(entry, version, stamp) or not entry.get("final"):
            return None
        metrics.count_front_hit(app, environ, entry.get("endpoint") or endpoint)
        body = entry["body"]
        headers = [*entry["headers"], ("ETag", entry["etag"]),
                   ("Last-Modified", entry["last_modified"]),
                   ("Cache-Control", public_cache_control(pages, entry["expires"], stamp)),
                   ("Vary", VARY), (HEADER, "hit")]
        if "HTTP_IF_NONE_MATCH" in environ or "HTTP_IF_MODIFIED_SINCE" in environ \
                or "HTTP_IF_MATCH" in environ:
            # Revalidation: werkzeug's rules, as the application's make_conditional.
            response = Response(body, status=200, headers=Headers(headers))
            response.make_conditional(environ)
            return response
        headers.append(("Content-Length", str(len(body))))
        head = environ["REQUEST_METHOD"] == "HEAD"

        def answer(_environ, start_response):
            start_response("200 OK", headers)
            return [] if head else [body]

        return answer

    def _session(self, cookies) -> dict | None:
        """The session's contents when a shared page may be answered for it, else None."""
        app = self.app
        interface = app.session_interface
        value = cookies.get(interface.get_cookie_name(app))
        if not value:
            return {}
        serializer = interface.get_signing_serializer(app)
        if serializer is None:
            return None
        try:
            data = serializer.loads(
                value, max_age=int(app.permanent_session_lifetime.total_seconds()))
        except BadSignature:
            return None
        if not isinstance(data, dict) or not SHAREABLE_SESSION_KEYS.issuperset(data):
            return None
        if data and data.get("_fresh") is not False:
            return None  # Flask-Login's session protection marks it on this request
        return data

    def _public_endpoint(self, request: Request) -> str | None:
        """The endpoint of a shared page at this address, or None; remembered per host and
        path (the routes do not change while the process runs)."""
        environ = request.environ
        where = (environ.get("HTTP_HOST"), environ.get("SCRIPT_NAME"), environ.get("PATH_INFO"))
        if where in self._endpoints:
            return self._endpoints[where]
        try:
            endpoint, _args = self.app.create_url_adapter(request).match()
        except Exception:  # a redirect, an unknown address, a host not trusted: the app says
            return None
        view = self.app.view_functions.get(endpoint)
        if not getattr(view, "public_page", False) or \
                getattr(view, "public_page_unless", None) is not None:
            endpoint = None
        if len(self._endpoints) >= MAX_REMEMBERED:
            self._endpoints.clear()
        self._endpoints[where] = endpoint
        return endpoint


def install(app: Flask) -> None:
    """Around Flask's own WSGI application (call before the proxy settings and metrics wrap
    it). ``CACHE_FRONT = False`` stores entries as usual but leaves every hit to Flask."""
    app.wsgi_app = PageFront(app, app.wsgi_app)
