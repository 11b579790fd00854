"""Who is calling the API: a Bearer token, or (for reading only) the browser session.

Writes need a Bearer token. A browser sends the session cookie with any request another site
makes it send, so a cookie alone must never be enough to change anything (CSRF through the
API); a token is never sent by the browser on its own."""

from __future__ import annotations

import hashlib

from flask import Blueprint, current_app, g, request
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from flask_login import current_user

from awards.api import tokens
from awards.api.problems import ApiProblem
from awards.db import get_db, utcnow
from awards.extensions import limiter

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CHALLENGE = 'Bearer realm="awards"'
# Defaults until config.py names them: generous for scripts that page through lists, tight
# enough that a runaway loop is stopped within a minute.
_LIMITS = {"RATELIMIT_API": "120 per minute;3000 per hour",
           "RATELIMIT_API_IP": "300 per minute"}


def _limit(name: str):
    return lambda: current_app.config.get(name, _LIMITS[name])


def _presented_secret() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def _token_or_address() -> str:
    """The rate-limit key: the token (hashed, never the secret itself) or the address."""
    secret = _presented_secret()
    if secret:
        return "api-token:" + hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()[:24]
    return "api-ip:" + (get_remote_address() or "")


def _address() -> str:
    return "api-addr:" + (get_remote_address() or "")


def _unauthorized(name: str, detail=None) -> ApiProblem:
    return ApiProblem(name, detail, headers={"WWW-Authenticate": CHALLENGE})


def authenticate() -> None:
    """Before every API view: resolve the caller into ``g.api_user`` (None: anonymous)."""
    g.api_user = None
    g.api_token = None
    header = request.headers.get("Authorization")
    if header:
        secret = _presented_secret()
        if secret is None:
            raise _unauthorized("invalid-token", _l("Use the Bearer scheme: "
                                                    "Authorization: Bearer <token>."))
        db = get_db()
        now = utcnow()
        token = tokens.find_usable(db, secret, now)
        if token is None:
            raise _unauthorized("invalid-token")
        if tokens.touch(db, token, now):
            db.commit()
        g.api_user = token.user
        g.api_token = token
        # Pages' helpers (permissions, language) read Flask-Login's user; make it the token's
        # owner for this request only, without touching the session.
        g._login_user = token.user
        return
    if request.method in WRITE_METHODS:
        raise _unauthorized("token-required")
    if current_user.is_authenticated:
        g.api_user = current_user._get_current_object()


def api_user():
    return g.get("api_user")


def require_user():
    user = api_user()
    if user is None:
        raise _unauthorized("unauthorized")
    return user


def require_verified():
    user = require_user()
    if not user.email_verified:
        raise ApiProblem("email-not-verified")
    return user


def require_admin():
    user = require_user()
    if not user.is_admin:
        raise ApiProblem("forbidden")
    return user


def register(bp: Blueprint) -> None:
    bp.before_request(authenticate)
    limiter.limit(_limit("RATELIMIT_API"), key_func=_token_or_address)(bp)
    limiter.limit(_limit("RATELIMIT_API_IP"), key_func=_address)(bp)
