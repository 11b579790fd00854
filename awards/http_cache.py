"""HTTP caching outside the shared public pages (those are in ``awards.cache``).

- Every answer that says nothing of its own is ``Cache-Control: private, no-store``: a reverse
  proxy's micro-cache must never keep a personal page, an error or a redirect.
- Static files are linked under content-hashed names (``css/app.3f2a1b9c0d4e.css``) and served
  under them with a year's ``max-age`` and ``immutable``; a new deploy changes the name, so no
  browser keeps an old file. The plain name still works, revalidated on each use.
- ``same_origin()``: whether a POST comes from a page of this site, as the browser says in its
  ``Sec-Fetch-Site`` (or ``Origin``) header."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from flask import Flask, request, send_from_directory
from werkzeug.exceptions import NotFound
from werkzeug.security import safe_join

YEAR = 365 * 24 * 3600
_HASHED = re.compile(r"^(?P<stem>.+)\.(?P<digest>[0-9a-f]{12})(?P<ext>\.[A-Za-z0-9]+)$")


class StaticNames:
    """File name → content-hashed name, read once (or on every change in debug mode)."""

    def __init__(self, folder: str, *, watch: bool):
        self.folder = folder
        self.watch = watch
        self._names: dict[str, tuple[tuple[int, int], str]] = {}

    def hashed(self, filename: str) -> str:
        known = self._names.get(filename)
        if known is not None and not self.watch:
            return known[1]
        joined = safe_join(self.folder, filename)
        if joined is None:
            return filename
        path = Path(joined)
        try:
            stat = path.stat()
        except OSError:
            return filename  # not a file of ours: linked as it was asked for
        signature = (stat.st_mtime_ns, stat.st_size)
        if known is not None and known[0] == signature:
            return known[1]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        stem, dot, ext = filename.rpartition(".")
        name = f"{stem}.{digest}.{ext}" if dot and "/" not in ext else f"{filename}.{digest}"
        self._names[filename] = (signature, name)
        return name


def register(app: Flask) -> None:
    @app.after_request
    def _private_by_default(response):
        response.headers.setdefault("Cache-Control", "private, no-store")
        return response

    if not app.has_static_folder:
        return
    names = StaticNames(app.static_folder, watch=app.debug)
    app.extensions["awards_static_names"] = names

    @app.url_defaults
    def _hashed_static(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values:
            values["filename"] = names.hashed(values["filename"])

    def static(filename: str):
        match = _HASHED.match(filename)
        if match is not None and safe_join(app.static_folder, filename) is not None \
                and not Path(app.static_folder, filename).is_file():
            original = match["stem"] + match["ext"]
            if names.hashed(original) != filename:
                # An older deploy's name: today's file, but never kept for a year under it.
                if not Path(app.static_folder, original).is_file():
                    raise NotFound()
                return app.send_static_file(original)
            response = send_from_directory(app.static_folder, original, max_age=YEAR)
            response.cache_control.immutable = True
            return response
        return app.send_static_file(filename)

    app.view_functions["static"] = static


def same_origin() -> bool:
    """The request comes from a page of this site, by the browser's word, which no other site
    can change: ``Sec-Fetch-Site`` (sent by current browsers with every request; it does not
    depend on the proxy settings), else ``Origin`` (sent with every POST) compared with this
    site's address."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site == "same-origin"
    origin = request.headers.get("Origin")
    return origin is not None and origin == request.host_url.rstrip("/")
