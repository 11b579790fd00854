"""Errors of the API as RFC 9457 ``application/problem+json``.

Every answer inside /api/v1 that is not a success is a problem document with a stable ``type``
URI (``/api/v1/problems/<name>``), never an HTML page or a stack trace. The names below are
part of the API: clients switch on them, so they never change once released. The handlers are
registered on the API blueprint, so the rest of the site keeps its HTML error pages."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from flask import Blueprint, Response, g, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from awards.extensions import retry_after

log = logging.getLogger(__name__)

PREFIX = "/api/v1"
PROBLEM_BASE = PREFIX + "/problems/"
MEDIA_TYPE = "application/problem+json"


@dataclass(frozen=True)
class ProblemType:
    name: str
    status: int
    title: object  # a lazy string: shown in the client's language
    description: object

    @property
    def uri(self) -> str:
        return PROBLEM_BASE + self.name


_TYPES = [
    ProblemType("bad-request", 400, _l("Bad request"),
                _l("The request could not be understood: a malformed body, header or "
                   "parameter.")),
    ProblemType("invalid-parameter", 400, _l("Invalid parameter"),
                _l("A query parameter has a wrong value, for example a page size above the "
                   "maximum; `errors` names it.")),
    ProblemType("unauthorized", 401, _l("Authentication required"),
                _l("Send a personal API token as `Authorization: Bearer <token>`.")),
    ProblemType("invalid-token", 401, _l("Invalid token"),
                _l("The token is unknown, expired or revoked, or its account is disabled.")),
    ProblemType("token-required", 401, _l("Token required for changes"),
                _l("Changes through the API need a Bearer token; a browser session cookie "
                   "only allows reading.")),
    ProblemType("forbidden", 403, _l("Forbidden"),
                _l("Your account may not do this.")),
    ProblemType("email-not-verified", 403, _l("E-mail not confirmed"),
                _l("Confirm the account's e-mail address before submitting anything.")),
    ProblemType("not-found", 404, _l("Not found"),
                _l("Nothing is here, or it is not available to you.")),
    ProblemType("method-not-allowed", 405, _l("Method not allowed"),
                _l("This address does not accept that method; `Allow` lists those it does.")),
    ProblemType("not-acceptable", 406, _l("Not acceptable"),
                _l("The API answers in JSON only.")),
    ProblemType("conflict", 409, _l("Conflict"),
                _l("The request conflicts with the current state of the resource.")),
    ProblemType("deadline-passed", 409, _l("Deadline passed"),
                _l("The call's deadline has passed: the nomination can no longer be "
                   "submitted or changed.")),
    ProblemType("call-not-open", 409, _l("Call not open"),
                _l("The call does not accept nominations now.")),
    ProblemType("not-editable", 409, _l("Not editable"),
                _l("The nomination can no longer be changed (withdrawn, screened or "
                   "anonymised).")),
    ProblemType("already-submitted", 409, _l("Already submitted"),
                _l("The nomination or review is already submitted.")),
    ProblemType("round-closed", 409, _l("Round closed"),
                _l("The judging round is closed; reviews can no longer be changed.")),
    ProblemType("round-not-open", 409, _l("Round not open"),
                _l("Scoring in this round has not opened yet, or its rubric is not ready.")),
    ProblemType("stale", 409, _l("Changed in the meantime"),
                _l("Someone else changed this since you read it; read it again and retry.")),
    ProblemType("results-published", 409, _l("Results published"),
                _l("The call's results are published: decisions are frozen.")),
    ProblemType("payload-too-large", 413, _l("Request too large"),
                _l("The request body is larger than allowed.")),
    ProblemType("unsupported-media-type", 415, _l("Unsupported media type"),
                _l("Send the body as `application/json`.")),
    ProblemType("validation-failed", 422, _l("Validation failed"),
                _l("The body is well-formed but some values are not acceptable; `errors` "
                   "lists each field with its message.")),
    ProblemType("rate-limited", 429, _l("Too many requests"),
                _l("Too many requests for this token or address; wait for `Retry-After` "
                   "seconds.")),
    ProblemType("server-error", 500, _l("Server error"),
                _l("An unexpected error happened. It has been logged.")),
    ProblemType("service-unavailable", 503, _l("Service temporarily unavailable"),
                _l("The database cannot be reached right now. Nothing was saved; retry after "
                   "`Retry-After` seconds.")),
]
PROBLEM_TYPES: dict[str, ProblemType] = {t.name: t for t in _TYPES}
_BY_STATUS = {400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found",
              405: "method-not-allowed", 406: "not-acceptable", 409: "conflict",
              413: "payload-too-large", 415: "unsupported-media-type",
              422: "validation-failed", 429: "rate-limited", 503: "service-unavailable"}
RETRY_AFTER = 30
# Headers an HTTP error carries that the client needs.
_KEPT_HEADERS = {"allow", "retry-after", "www-authenticate"}


class ApiProblem(Exception):
    """Raised anywhere in an API view; turned into a problem document by the handler."""

    def __init__(self, name: str, detail: object = None, *, errors: list[dict] | None = None,
                 headers: dict[str, str] | None = None, status: int | None = None):
        super().__init__(name)
        self.type = PROBLEM_TYPES[name]
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.status = status or self.type.status


def field_error(field: str, message: object) -> dict[str, str]:
    return {"field": field, "message": str(message)}


def problem_response(name: str, *, detail: object = None, errors: list[dict] | None = None,
                     headers: dict[str, str] | None = None, status: int | None = None
                     ) -> Response:
    kind = PROBLEM_TYPES[name]
    status = status or kind.status
    body: dict = {"type": kind.uri, "title": str(kind.title), "status": status,
                  "detail": str(detail if detail is not None else kind.description),
                  "instance": request.path}
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body, ensure_ascii=False), status=status,
                        mimetype=MEDIA_TYPE)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    response.headers["Cache-Control"] = "no-store"
    return response


def _from_http(exc: HTTPException) -> Response:
    code = exc.code or 500
    name = _BY_STATUS.get(code, "server-error" if code >= 500 else "bad-request")
    headers = {k: v for k, v in exc.get_headers() if k.lower() in _KEPT_HEADERS}
    if code == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="awards"')
    detail = None
    if code == 429:
        # Flask-Limiter's text names the limit ("120 per 1 minute"): worth showing.
        detail = _l("Rate limit exceeded: %(limit)s.", limit=exc.description)
        if seconds := retry_after():
            headers["Retry-After"] = seconds
    return problem_response(name, detail=detail, headers=headers, status=code)


def _rollback(*, close: bool = False) -> None:
    """Undo the request's unfinished changes. Called after the answer is built: building it
    may read the caller's account (for the language), which a rollback would expire."""
    session = g.pop("_db_session", None) if close else g.get("_db_session")
    if session is None:
        return
    try:
        session.rollback()
    except Exception:  # a dead connection cannot roll back; it is dropped with the session
        log.warning("rollback after an API error failed", exc_info=True)
    finally:
        if close:
            session.close()


def is_api_path(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def register(bp: Blueprint) -> None:
    @bp.errorhandler(ApiProblem)
    def _problem(exc: ApiProblem):
        response = problem_response(exc.type.name, detail=exc.detail, errors=exc.errors,
                                    headers=exc.headers, status=exc.status)
        _rollback()
        return response

    @bp.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if exc.code is not None and exc.code < 400:
            return exc
        response = _from_http(exc)
        _rollback()
        return response

    @bp.errorhandler(Exception)
    def _unexpected(exc: Exception):
        from sqlalchemy.exc import InterfaceError, OperationalError

        log.exception("unhandled error in the API", exc_info=exc)
        database_gone = isinstance(exc, OperationalError | InterfaceError) or getattr(
            exc, "connection_invalidated", False)
        name = "service-unavailable" if database_gone else "server-error"
        headers = {"Retry-After": str(RETRY_AFTER)} if database_gone else None
        try:
            response = problem_response(name, headers=headers)
        except Exception:  # the caller's language could not be read (the database is gone)
            from flask_babel import force_locale

            with force_locale("en"):
                response = problem_response(name, headers=headers)
        _rollback(close=True)
        return response

    @bp.before_app_request
    def _routing_errors():
        # An unknown path or a wrong method under /api/v1 never reaches a view of this
        # blueprint, so its handlers would not apply; answer here, before Flask raises the
        # routing error and the site's HTML error page takes over.
        exc = request.routing_exception
        if exc is None or not is_api_path(request.path):
            return None
        if isinstance(exc, HTTPException) and (exc.code or 0) >= 400:
            return _from_http(exc)
        return None
