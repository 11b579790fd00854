"""Security headers on every response."""

from __future__ import annotations

from flask import Flask

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def register(app: Flask) -> None:
    headers = [("Content-Security-Policy", CSP), ("X-Frame-Options", "DENY"),
               ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "same-origin"),
               ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
               ("Cross-Origin-Opener-Policy", "same-origin")]
    if app.config["ENV"] == "production":
        headers.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))
    wanted = tuple((name.lower(), name, value) for name, value in headers)

    @app.after_request
    def _headers(response):
        # Each header unless the view set its own: the names present are read once, where
        # a setdefault per header would search the response's headers seven times.
        present = {name.lower() for name, _value in response.headers.items()}
        response.headers.extend([(name, value) for lower, name, value in wanted
                                 if lower not in present])
        return response
