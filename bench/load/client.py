"""A minimal browser for the load clients: one keep-alive connection, a cookie jar, forms
(urlencoded and multipart) and the CSRF token read from the page, as a person's browser would.

Kept to the standard library so the load generator costs little CPU next to the server on a
small machine, and so the benchmark needs nothing beyond the project's own dependencies."""

from __future__ import annotations

import html
import http.client
import re
import secrets
import socket
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
    after each response, so a new one is opened for the next request; a request on a reused
    connection the server had already closed is sent once more, as browsers do.

    HTTP/1.1 is spoken directly on the socket (``http.client`` parses every answer's headers
    with the e-mail parser): the client shares the machine's cores with the server, and what it
    spends is taken from the server's figures."""

    def __init__(self, host: str, port: int, *, language: str = "en", timeout: float = 120,
                 headers: dict[str, str] | None = None):
        self.host, self.port, self.timeout = host, port, timeout
        self.language = language
        # Sent with every request (X-Forwarded-For: the client address a proxy would add).
        self.headers = dict(headers or {})
        self.cookies: dict[str, str] = {}
        self.sock: socket.socket | None = None
        self._pending: tuple | None = None

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def _connect(self) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock
        return sock

    def request(self, method: str, path: str, body: bytes | None = None,
                content_type: str | None = None, headers: dict[str, str] | None = None
                ) -> Response:
        for attempt in (1, 2):
            reused = self.send(method, path, body, content_type, headers)
            try:
                return self.receive()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if reused and attempt == 1:
                    continue
                raise
        raise AssertionError("unreachable")

    def send(self, method: str, path: str, body: bytes | None = None,
             content_type: str | None = None, headers: dict[str, str] | None = None) -> bool:
        """Send a request without waiting for the answer (``receive`` reads it), so that two
        browsers can have requests in flight at once. True if the connection was reused."""
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                 f"Accept-Language: {self.language}"]
        lines.extend(f"{k}: {v}" for k, v in {**self.headers, **(headers or {})}.items())
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if content_type:
            lines.append(f"Content-Type: {content_type}")
        if body is not None or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body or b'')}")
        message = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")
        reused = self.sock is not None
        started = time.perf_counter()
        try:
            (self.sock or self._connect()).sendall(message)
        except (ConnectionResetError, BrokenPipeError):
            self.close()
            if not reused:
                raise
            started = time.perf_counter()
            self._connect().sendall(message)
            reused = False
        self._pending = (started,)
        return reused

    def receive(self) -> Response:
        (started,) = self._pending
        self._pending = None
        sock = self.sock
        if sock is None:
            raise http.client.RemoteDisconnected("no connection")
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                raise http.client.RemoteDisconnected("closed before the answer")
            data += chunk
        head, rest = data.split(b"\r\n\r\n", 1)
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        headers: dict[str, list[str]] = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers.setdefault(name.strip().lower(), []).append(value.strip())
        body = self._body(sock, rest, headers)
        elapsed = time.perf_counter() - started
        if "close" in headers.get("connection", [""])[0].lower():
            self.close()
        for header in headers.get("set-cookie", []):
            self._store(header)
        return Response(status, headers.get("location", [""])[0],
                        body.decode("utf-8", "replace"), elapsed)

    @staticmethod
    def _body(sock: socket.socket, rest: bytes, headers: dict[str, list[str]]) -> bytes:
        if "content-length" in headers:
            length = int(headers["content-length"][0])
            while len(rest) < length:
                chunk = sock.recv(max(65536, length - len(rest)))
                if not chunk:
                    raise http.client.RemoteDisconnected("closed in the middle of the answer")
                rest += chunk
            return rest[:length]
        if "chunked" in headers.get("transfer-encoding", [""])[0].lower():
            body, buffer = b"", rest
            while True:
                while b"\r\n" not in buffer:
                    buffer += sock.recv(65536)
                size_line, buffer = buffer.split(b"\r\n", 1)
                size = int(size_line.split(b";")[0], 16)
                while len(buffer) < size + 2:
                    buffer += sock.recv(65536)
                if size == 0:
                    return body
                body, buffer = body + buffer[:size], buffer[size + 2:]
        while chunk := sock.recv(65536):  # the answer ends with the connection
            rest += chunk
        return rest

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
