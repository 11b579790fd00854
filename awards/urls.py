"""URL helpers."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, url_for


def is_safe_next(target: str | None) -> bool:
    """True for a same-site absolute path such as ``/calls/3?tab=jury``.

    Browsers drop tabs and newlines inside a URL and read a backslash as a slash, so
    ``/\\t/evil.com`` or ``/\\evil.com`` would lead off-site: any control character,
    whitespace or backslash is refused outright rather than trusting the parser to agree
    with every browser."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def safe_next(target: str | None, default_endpoint: str = "main.index") -> str:
    """Only same-site relative paths are followed after login or a language switch."""
    if is_safe_next(target):
        return target  # type: ignore[return-value]  # is_safe_next rules out None
    return url_for(default_endpoint)


def external_url(endpoint: str, **values) -> str:
    """Absolute link for e-mails, built on BASE_URL (requests may come through a proxy)."""
    return current_app.config["BASE_URL"].rstrip("/") + url_for(endpoint, **values)
