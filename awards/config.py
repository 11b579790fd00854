"""Configuration: defaults, then ``instance/config.py``, then ``AWARDS_*`` environment variables."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask


class ConfigError(RuntimeError):
    """Raised at start-up when the configuration cannot run the service safely."""


DEFAULTS: dict[str, object] = {
    "ENV": "development",
    "SECRET_KEY": None,
    "DATABASE_URL": None,  # defaults to sqlite:///<instance>/awards.db
    "BASE_URL": "http://127.0.0.1:5000",
    "MAIL_SERVER": "127.0.0.1",
    "MAIL_PORT": 25,
    "MAIL_USERNAME": "",
    "MAIL_PASSWORD": "",
    "MAIL_USE_TLS": False,
    "MAIL_USE_SSL": False,
    "MAIL_TIMEOUT": 10,
    "MAIL_DEFAULT_SENDER": "Awards <no-reply@awards.local>",
    "MAIL_MAX_ATTEMPTS": 8,
    "MAIL_RETRY_BASE_SECONDS": 30,
    "UPLOAD_FOLDER": None,  # defaults to <instance>/uploads
    "UPLOAD_MAX_BYTES": 10 * 1024 * 1024,
    "MAX_CONTENT_LENGTH": 50 * 1024 * 1024,
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_LOGIN": "10 per minute;50 per hour",
    "RATELIMIT_RESET": "5 per minute;20 per hour",
    "RATELIMIT_REGISTER": "10 per hour",
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
}


def _coerce(raw: str, default: object) -> object:
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, list):
        return [part.strip() for part in raw.split(",") if part.strip()]
    return raw


def load_config(app: Flask, test_config: dict | None) -> None:
    app.config.update(DEFAULTS)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        for key, raw in os.environ.items():
            if key.startswith("AWARDS_"):
                name = key.removeprefix("AWARDS_")
                app.config[name] = _coerce(raw, DEFAULTS.get(name, ""))
    else:
        app.config.update(test_config)

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
        key_file = instance / "secret_key"
        if not key_file.exists():
            key_file.write_text(secrets.token_hex(32))
            key_file.chmod(0o600)
        app.config["SECRET_KEY"] = key_file.read_text().strip()
