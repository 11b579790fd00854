"""Fixtures: a fresh app and a fresh, migrated database per test, on SQLite or PostgreSQL.

``AWARDS_TEST_DATABASE_URL`` chooses the server: unset means SQLite; a PostgreSQL URL names a
server on which a throw-away database is created for this run (one per xdist worker) and
dropped afterwards."""

from __future__ import annotations

import contextvars
import os
import re
import shutil
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from awards import create_app
from awards.db import Base, get_db
from awards.migrate import upgrade
from tests import speedups

speedups.install()

PG_URL = os.environ.get("AWARDS_TEST_DATABASE_URL", "")
ON_POSTGRES = PG_URL.startswith("postgresql")


def pytest_report_header(config):
    return f"database: {'PostgreSQL' if ON_POSTGRES else 'SQLite'}"


def pytest_collection_modifyitems(config, items):
    if ON_POSTGRES:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (run by make test's PostgreSQL pass)")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def database_template(tmp_path_factory, worker_id):
    """Migrate once per run; each test then starts from this empty, migrated schema."""
    if ON_POSTGRES:
        server = make_url(PG_URL)
        name = f"awards_test_{worker_id}_{uuid.uuid4().hex[:8]}"
        admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = server.set(database=name).render_as_string(hide_password=False)
        upgrade(url)
        yield {"url": url}
        _dispose_reset_engines()
        with admin.connect() as conn:
            conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
            ), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
    else:
        path = tmp_path_factory.mktemp("template") / "template.db"
        upgrade(f"sqlite:///{path}")
        yield {"path": path}


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing():
    """Argon2 at production cost is ~0.3 s a hash; tests use the cheapest parameters (still
    argon2id, so the stored format and the checks are the real ones)."""
    from argon2 import PasswordHasher, profiles

    from awards.auth import services

    saved = services._hasher, services._DUMMY_HASH
    services._hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
    services._DUMMY_HASH = services._hasher.hash("not-a-real-password")
    yield
    services._hasher, services._DUMMY_HASH = saved


_reset_engines: dict[str, object] = {}


def _empty_postgres(url: str) -> None:
    """Empty every table and restart every sequence in one round trip, on a connection kept for
    the run (DELETE in dependency order is ~20x faster than TRUNCATE for many small tables)."""
    engine = _reset_engines.get(url)
    if engine is None:
        engine = _reset_engines[url] = create_engine(url, pool_size=1, pool_pre_ping=True)
    statements = [f'DELETE FROM "{table.name}"' for table in reversed(Base.metadata.sorted_tables)]
    statements.append(
        "SELECT setval(c.oid::regclass, 1, false) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind = 'S' AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
    )
    with engine.begin() as conn:
        conn.exec_driver_sql(";\n".join(statements))


def _dispose_reset_engines() -> None:
    for engine in _reset_engines.values():
        engine.dispose()
    _reset_engines.clear()


@pytest.fixture
def database_url(database_template, tmp_path):
    if ON_POSTGRES:
        _empty_postgres(database_template["url"])
        return database_template["url"]
    path = tmp_path / "awards.db"
    shutil.copy(database_template["path"], path)
    return f"sqlite:///{path}"


@pytest.fixture
def app_config(database_url, tmp_path):
    return {
        "TESTING": True,
        "ENV": "testing",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        # One audit key for every app of a test, as a restore onto another server needs.
        "AUDIT_KEY": "test-audit-key",
        "BASE_URL": "http://localhost",
        "RATELIMIT_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": 1,  # nothing listens: tests that deliver use the smtp_server fixture
        "MAIL_RETRY_BASE_SECONDS": 30,
    }


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    yield app
    app.extensions["awards_db"]["engine"].dispose()


class IsolatedClient(FlaskClient):
    """Each request runs in a fresh context, as in a real server, even while a test holds an
    app context open (the ``db`` fixture): no shared ``g``, no shared logged-in user."""

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def db(app):
    """A session inside an app context, for arranging and checking data."""
    with app.app_context():
        yield get_db()


# ---- users and logging in -------------------------------------------------------------------

PASSWORD = "correct-horse-battery"


@pytest.fixture
def make_user(app):
    from awards.auth.models import User
    from awards.auth.services import hash_password
    from awards.db import utcnow

    hashed = hash_password(PASSWORD)

    def _make(email="user@example.com", *, admin=False, verified=True, name="Test User",
              language="en", password=None):
        with app.app_context():
            session = get_db()
            user = User(email=email, password_hash=hash_password(password) if password else hashed,
                        full_name=name, is_admin=admin, preferred_language=language,
                        email_verified_at=utcnow() if verified else None)
            session.add(user)
            session.commit()
            session.refresh(user)
            session.expunge(user)
            return user

    return _make


CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def get_csrf(client, url: str = "/") -> str:
    html = client.get(url).get_data(as_text=True)
    if CSRF_RE.search(html) is None:
        # A page shared by every visitor carries no token (awards/cache.py); any form page
        # shows the session's.
        html = client.get("/account/login").get_data(as_text=True)
    return csrf_from(html)


def post_form(client, url: str, data: dict | None = None, *, csrf_url: str | None = None, **kw):
    """Post like a browser: take the CSRF token from the page first."""
    payload = dict(data or {})
    payload.setdefault("csrf_token", get_csrf(client, csrf_url or url))
    return client.post(url, data=payload, **kw)


def login(client, email: str, password: str = PASSWORD):
    response = post_form(client, "/account/login", {"email": email, "password": password},
                         csrf_url="/account/login")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


@pytest.fixture
def login_as(client):
    def _login(user_or_email, password: str = PASSWORD):
        email = getattr(user_or_email, "email", user_or_email)
        return login(client, email, password)

    return _login


# ---- mail -----------------------------------------------------------------------------------


@pytest.fixture
def outbox(app):
    """Read the queued messages (the outbox table) as the worker would see them."""
    from sqlalchemy import select

    from awards.mail import OutgoingMail

    def _read(to: str | None = None):
        with app.app_context():
            q = select(OutgoingMail).order_by(OutgoingMail.id)
            if to:
                q = q.where(OutgoingMail.to_address == to)
            return list(get_db().scalars(q))

    return _read


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class SMTPSink:
    host: str
    port: int
    messages: list = field(default_factory=list)
    fail_next: int = 0

    def wait_for(self, count: int, timeout: float = 30.0):
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages


@pytest.fixture
def smtp_server(app):
    """A real SMTP server (aiosmtpd) on loopback; the app is pointed at it."""
    from email import message_from_bytes, policy

    from aiosmtpd.controller import Controller

    sink = SMTPSink("127.0.0.1", free_port())

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            if sink.fail_next > 0:
                sink.fail_next -= 1
                return "451 Requested action aborted: try again later"
            msg = message_from_bytes(envelope.content, policy=policy.default)
            sink.messages.append(msg)
            return "250 Message accepted for delivery"

    controller = Controller(Handler(), hostname=sink.host, port=sink.port)
    controller.start()
    app.config.update(MAIL_SERVER=sink.host, MAIL_PORT=sink.port)
    yield sink
    controller.stop()


# ---- live server for the browser ------------------------------------------------------------


@pytest.fixture
def live_server(app):
    from werkzeug.serving import make_server

    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config["BASE_URL"] = f"http://127.0.0.1:{port}"
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope="session")
def browser():
    pytest.importorskip("playwright")
    from playwright.sync_api import sync_playwright

    exe = "/usr/bin/chromium"
    if not Path(exe).exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing at /usr/bin/chromium (make test installs it)")
        pytest.skip("Chromium is not installed")
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=exe,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server, locale="ru-RU")
    pg = context.new_page()
    pg.set_default_timeout(15000)
    yield pg
    context.close()
