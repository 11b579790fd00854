"""A minimal browser for the load clients: one keep-alive connection, a cookie jar, forms
(urlencoded and multipart) and the CSRF token read from the page, as a person's browser would.

Kept to the standard library so the load generator costs little CPU next to the server on a
small machine, and so the benchmark needs nothing beyond the project's own dependencies."""

from __future__ import annotations

import html
import http.client
import re
import secrets
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@dataclass
class Response:
    status: int
    location: str
    body: str
    elapsed: float

    def path(self) -> str:
        """The redirect target's path, whether the Location header is absolute or not."""
        return urlsplit(self.location).path


def csrf_of(body: str) -> str | None:
    match = CSRF_RE.search(body)
    return match.group(1) if match else None


def input_value(body: str, name: str) -> str | None:
    tag = re.search(rf'<input [^>]*name="{re.escape(name)}"[^>]*>', body)
    if tag is None:
        return None
    value = re.search(r'value="([^"]*)"', tag.group(0))
    return html.unescape(value.group(1)) if value else ""


def multipart(fields: list[tuple[str, str]], files: list[tuple[str, str, str, bytes]]
              ) -> tuple[bytes, str]:
    """(body, content type) for text fields and (field, file name, content type, bytes)."""
    boundary = "----bench" + secrets.token_hex(12)
    parts: list[bytes] = []
    for name, value in fields:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     .encode() + value.encode() + b"\r\n")
    for name, filename, content_type, data in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                     f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
                     + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class Browser:
    """Sequential requests over one connection. gunicorn's sync workers close the connection
    after each response, so http.client opens a new one for the next request; a request on a
    reused connection the server had already closed is sent once more, as browsers do."""

    def __init__(self, host: str, port: int, *, language: str = "en", timeout: float = 120,
                 headers: dict[str, str] | None = None):
        self.host, self.port, self.timeout = host, port, timeout
        self.language = language
        # Sent with every request (X-Forwarded-For: the client address a proxy would add).
        self.headers = dict(headers or {})
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection(host, port, timeout=timeout)
        self._pending: tuple | None = None

    def close(self) -> None:
        self.conn.close()

    def request(self, method: str, path: str, body: bytes | None = None,
                content_type: str | None = None, headers: dict[str, str] | None = None
                ) -> Response:
        for attempt in (1, 2):
            reused = self.send(method, path, body, content_type, headers)
            try:
                return self.receive()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                if reused and attempt == 1:
                    continue
                raise
        raise AssertionError("unreachable")

    def send(self, method: str, path: str, body: bytes | None = None,
             content_type: str | None = None, headers: dict[str, str] | None = None) -> bool:
        """Send a request without waiting for the answer (``receive`` reads it), so that two
        browsers can have requests in flight at once. True if the connection was reused."""
        all_headers = {"Accept-Language": self.language, "Host": f"{self.host}:{self.port}",
                       **self.headers, **(headers or {})}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if content_type:
            all_headers["Content-Type"] = content_type
        reused = self.conn.sock is not None
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=all_headers)
        except (ConnectionResetError, BrokenPipeError):
            self.conn.close()
            if not reused:
                raise
            started = time.perf_counter()
            self.conn.request(method, path, body=body, headers=all_headers)
            reused = False
        self._pending = (started,)
        return reused

    def receive(self) -> Response:
        (started,) = self._pending
        self._pending = None
        raw = self.conn.getresponse()
        data = raw.read()
        elapsed = time.perf_counter() - started
        for header in raw.headers.get_all("Set-Cookie") or []:
            self._store(header)
        return Response(raw.status, raw.headers.get("Location", ""),
                        data.decode("utf-8", "replace"), elapsed)

    def _store(self, header: str) -> None:
        jar = SimpleCookie()
        jar.load(header)
        for name, morsel in jar.items():
            expired = morsel["max-age"] == "0" or "1970" in (morsel["expires"] or "")
            if expired or not morsel.value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.value

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(self, path: str, data: dict[str, str] | list[tuple[str, str]],
             headers: dict[str, str] | None = None) -> Response:
        return self.request("POST", path, urlencode(data).encode(),
                            "application/x-www-form-urlencoded", headers)

    def post_multipart(self, path: str, fields: list[tuple[str, str]],
                       files: list[tuple[str, str, str, bytes]]) -> Response:
        body, content_type = multipart(fields, files)
        return self.request("POST", path, body, content_type)
