"""Configuration: defaults, then ``instance/config.py``, then ``AWARDS_*`` environment variables.

``create_app(test_config)`` with a dict skips the file and the environment on purpose, so a test
never picks up the developer's local settings."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask


class ConfigError(RuntimeError):
    """Raised at start-up when the configuration cannot run the service safely."""


ENV_PREFIX = "AWARDS_"
ENVIRONMENTS = ("development", "testing", "production")

DEFAULTS: dict[str, object] = {
    "ENV": "development",
    "SECRET_KEY": None,
    "DATABASE_URL": None,  # defaults to sqlite:///<instance>/awards.db
    # The address links in e-mails, feeds and on diplomas point to. Empty: the address the
    # development server listens on, http://HOST:PORT (see base_url_for).
    "BASE_URL": "",
    # Where `flask run` / `make run` listens (AWARDS_HOST, AWARDS_PORT; else FLASK_RUN_HOST,
    # FLASK_RUN_PORT, else HOST and PORT, as `PORT=8080 make run` passes them).
    "HOST": "127.0.0.1",
    "PORT": 5000,
    "MAIL_SERVER": "127.0.0.1",
    "MAIL_PORT": 25,
    "MAIL_USERNAME": "",
    "MAIL_PASSWORD": "",
    "MAIL_USE_TLS": False,
    "MAIL_USE_SSL": False,
    "MAIL_TIMEOUT": 10,
    "MAIL_DEFAULT_SENDER": "Awards <no-reply@awards.local>",
    # A failed message is retried after BASE, 2×BASE, 4×BASE ... seconds, never more than MAX
    # apart, and never given up: the outbox loses nothing.
    "MAIL_RETRY_BASE_SECONDS": 30,
    "MAIL_RETRY_MAX_SECONDS": 6 * 3600,
    # How long a worker may hold a claimed message before another worker takes it over (the
    # first one is presumed dead). Must be far longer than one SMTP delivery can take.
    "MAIL_CLAIM_SECONDS": 600,
    "UPLOAD_FOLDER": None,  # defaults to <instance>/uploads
    "UPLOAD_MAX_BYTES": 10 * 1024 * 1024,
    "MAX_CONTENT_LENGTH": 50 * 1024 * 1024,
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_LOGIN": "10 per minute;50 per hour",
    "RATELIMIT_RESET": "5 per minute;20 per hour",
    "RATELIMIT_REGISTER": "30 per hour",
    # Certificate look-ups per client address, so verification codes can't be guessed.
    "RATELIMIT_CERTIFICATE": "30 per minute;300 per hour",
    # JSON API: per token (or per address without one), and per address whatever the token.
    "RATELIMIT_API": "120 per minute;3000 per hour",
    "RATELIMIT_API_IP": "300 per minute",
    # Public stage: votes per client address and per /24 (IPv4) or /48 (IPv6) network, requests
    # for a voter's code or link, code attempts, and comments or abuse reports.
    "RATELIMIT_PUBLIC_VOTE": "20 per minute;200 per hour",
    "RATELIMIT_PUBLIC_VOTE_NETWORK": "200 per minute;2000 per hour",
    "RATELIMIT_PUBLIC_VERIFY": "5 per minute;20 per hour",
    "RATELIMIT_PUBLIC_CODE": "10 per minute;50 per hour",
    "RATELIMIT_PUBLIC_COMMENT": "5 per minute;30 per hour",
    "PUBLIC_VOTER_CODE_SECONDS": 30 * 60,
    "PUBLIC_VOTER_CODE_ATTEMPTS": 5,
    # More votes than this from one network within the window flags them all for review.
    "PUBLIC_VOTE_BURST_COUNT": 30,
    "PUBLIC_VOTE_BURST_SECONDS": 600,
    "PUBLIC_COMMENT_REPORTS_TO_REQUEUE": 3,
    "BABEL_DEFAULT_LOCALE": "ru",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Almaty",
    "LANGUAGES": ["kk", "ru", "en"],
    "TOKEN_MAX_AGE_VERIFY": 3 * 24 * 3600,
    "TOKEN_MAX_AGE_RESET": 3600,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": 4 * 3600,
    "SQL_ECHO": False,
    # Database connections each process keeps (per worker), how many more it may open at a
    # peak, and how long a request waits for one before it fails.
    "DATABASE_POOL_SIZE": 5,
    "DATABASE_MAX_OVERFLOW": 10,
    "DATABASE_POOL_TIMEOUT": 30,
    "PROXY_COUNT": 0,  # trusted reverse proxies in front of the app (X-Forwarded-*)
    # Anonymous public pages kept in a shared cache (awards/cache.py): redis://host:6379/1,
    # simple:// (one process), filesystem:///path or null://. Empty: a folder in the instance
    # path in development, no cache otherwise.
    "CACHE_URL": "",
    "CACHE_PAGE_SECONDS": 60,  # the longest a cached page is kept (countdowns move)
    "CACHE_HTTP_MAX_AGE": 10,  # Cache-Control max-age of anonymous public pages
    "CACHE_HTTP_SHARED_MAX_AGE": 10,  # and s-maxage, for a reverse proxy's micro-cache
    # Prometheus metrics at /metrics, for requests carrying this bearer token; off (404) while
    # empty (awards/metrics.py).
    "METRICS_TOKEN": "",
    # Keys the audit log's hashes with (HMAC-SHA256); empty: instance/audit_key, created on first
    # use. Retired keys only check the records written with them (awards/audit.py).
    "AUDIT_KEY": "",
    "AUDIT_RETIRED_KEYS": [],
}


def resolve_instance_path(test_config: dict | None, default: Path) -> str:
    """``INSTANCE_PATH`` from the test config, else ``AWARDS_INSTANCE_PATH``, else ``default``.

    The instance folder has to be known before the other layers are read, because one of them
    (``config.py``) lives inside it."""
    if test_config is not None:
        chosen = test_config.get("INSTANCE_PATH")
    else:
        chosen = os.environ.get(f"{ENV_PREFIX}INSTANCE_PATH")
    return str(Path(chosen).resolve()) if chosen else str(default)


def _coerce(name: str, raw: str, default: object) -> object:
    if isinstance(default, bool):
        value = raw.strip().lower()
        if value in {"1", "true", "yes", "on"}:
            return True
        if value in {"0", "false", "no", "off", ""}:
            return False
        raise ConfigError(f"{ENV_PREFIX}{name} must be true or false, not {raw!r}")
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{ENV_PREFIX}{name} must be a whole number, not {raw!r}") from None
    if isinstance(default, list):
        return [part.strip() for part in raw.split(",") if part.strip()]
    return raw


def _use_instance_path(app: Flask, path: str) -> None:
    # The app object already exists when the configuration is read; move it (and the base of
    # from_pyfile) to the instance folder chosen by the environment.
    app.instance_path = path
    app.config.root_path = path


def load_config(app: Flask, test_config: dict | None) -> None:
    app.config.update(DEFAULTS)
    if test_config is None:
        instance_path = resolve_instance_path(None, Path(app.instance_path))
        if instance_path != app.instance_path:
            _use_instance_path(app, instance_path)
        app.config.from_pyfile("config.py", silent=True)
        for key, raw in os.environ.items():
            if key.startswith(ENV_PREFIX):
                name = key.removeprefix(ENV_PREFIX)
                app.config[name] = _coerce(name, raw, DEFAULTS.get(name, ""))
    else:
        app.config.update(test_config)

    if app.config["ENV"] not in ENVIRONMENTS:
        raise ConfigError(
            f"AWARDS_ENV must be one of {', '.join(ENVIRONMENTS)}, not {app.config['ENV']!r}"
        )

    if not app.config["BASE_URL"]:
        environ = {} if test_config is not None else os.environ
        app.config["BASE_URL"] = base_url_for(app.config, environ)

    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    if not app.config["DATABASE_URL"]:
        app.config["DATABASE_URL"] = f"sqlite:///{instance / 'awards.db'}"
    if not app.config["UPLOAD_FOLDER"]:
        app.config["UPLOAD_FOLDER"] = str(instance / "uploads")
    Path(app.config["UPLOAD_FOLDER"]).mkdir(parents=True, exist_ok=True)

    production = app.config["ENV"] == "production"
    if production:
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    if not app.config["SECRET_KEY"]:
        if production:
            raise ConfigError(
                "AWARDS_SECRET_KEY is not set. In production the secret key must be given "
                "(environment variable AWARDS_SECRET_KEY or SECRET_KEY in instance/config.py)."
            )
        app.config["SECRET_KEY"] = _development_secret_key(instance / "secret_key")


def base_url_for(config, environ) -> str:
    """``http://HOST:PORT`` of the server when BASE_URL is not set: AWARDS_HOST / AWARDS_PORT
    (already in ``config``), else Flask's FLASK_RUN_HOST / FLASK_RUN_PORT, else HOST / PORT
    from the environment, else the defaults. A server listening on every address (0.0.0.0, ::)
    is reached on this machine at 127.0.0.1."""
    def chosen(name: str) -> str:
        if f"{ENV_PREFIX}{name}" in environ or config.get(name) != DEFAULTS[name]:
            return str(config.get(name))
        for key in (f"FLASK_RUN_{name}", name):
            if environ.get(key, "").strip():
                return environ[key].strip()
        return str(DEFAULTS[name])

    host, port = chosen("HOST"), chosen("PORT")
    if not (port.isascii() and port.isdigit()) or not 0 < int(port) < 65536:
        raise ConfigError(f"The port must be a number from 1 to 65535, not {port!r}")
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 address in a URL
    return f"http://{host}:{int(port)}"


def _development_secret_key(key_file: Path) -> str:
    """Read the key kept in the instance folder, creating it on the first start.

    The key is written to a private temporary file and linked into place, so it is never
    readable by others, and two processes starting together both end up with the same key."""
    if not key_file.exists():
        tmp = key_file.with_name(f".{key_file.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
            try:
                os.link(tmp, key_file)
            except FileExistsError:
                pass  # another process won the race; use its key
        finally:
            tmp.unlink()
    key = key_file.read_text().strip()
    if not key:
        raise ConfigError(f"{key_file} is empty; delete it to generate a new secret key")
    return key
