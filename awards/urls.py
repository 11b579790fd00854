"""URL helpers."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import url_for


def safe_next(target: str | None, default_endpoint: str = "main.index") -> str:
    """Only same-site relative paths are followed after login or a language switch."""
    if target:
        parts = urlsplit(target)
        if (
            not parts.scheme
            and not parts.netloc
            and target.startswith("/")
            and not target.startswith("//")
            and "\\" not in target
        ):
            return target
    return url_for(default_endpoint)


def external_url(endpoint: str, **values) -> str:
    """Absolute link for e-mails, built on BASE_URL (requests may come through a proxy)."""
    from flask import current_app

    return current_app.config["BASE_URL"].rstrip("/") + url_for(endpoint, **values)
