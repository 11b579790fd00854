"""Flask's signed cookie session, with one difference: a request may ask not to send the
cookie again when nothing in the session changed. Permanent sessions are otherwise re-signed
and re-sent on every answer to move their expiry; the public vote, the busiest request of a
campaign, leaves that to the page the vote was cast from."""

from __future__ import annotations

from flask import Flask, g
from flask.sessions import SecureCookieSessionInterface, SessionMixin

_UNCHANGED_ONLY = "_awards_session_unchanged_only"


class SessionInterface(SecureCookieSessionInterface):
    def get_signing_serializer(self, app: Flask):
        # Flask builds a new serializer for every request; it depends only on the keys, so
        # one is kept per set of keys (a changed key gets its own).
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        cached = self.__dict__.get("_serializer")
        if cached is None or cached[0] != keys:
            cached = (keys, super().get_signing_serializer(app))
            self._serializer = cached
        return cached[1]

    def should_set_cookie(self, app: Flask, session: SessionMixin) -> bool:
        if g.get(_UNCHANGED_ONLY):
            return session.modified
        return super().should_set_cookie(app, session)


def send_cookie_only_if_changed() -> None:
    """For this request: set the session cookie only if the session was changed."""
    g.setdefault(_UNCHANGED_ONLY, True)


def register(app: Flask) -> None:
    app.session_interface = SessionInterface()
