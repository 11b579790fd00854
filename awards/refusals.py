"""The one way a use case says no.

A service that refuses a request (a rule of the rulebook, a phase, a value out of bounds, a
stale form) raises a :class:`Refusal`, or a feature's subclass of it, before anything is
written or with everything still uncommitted. The caller rolls back and shows the message:
pages through :func:`awards.views_common.run_action`, the API as problem+json, commands as an
error line. Nothing here imports Flask or the database, so every layer may use it."""

from __future__ import annotations


class Refusal(Exception):
    """A request refused; nothing was changed.

    ``message`` is translated (often lazily), ``field`` names the form field the message
    belongs to (None for the page as a whole). A subclass sets ``status`` (the HTTP answer)
    where it knows better than the page; without it, the page chooses (usually 400)."""

    def __init__(self, message, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
