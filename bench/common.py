"""What the benchmark scripts share: a throw-away database, the application built on it, a
statement counter and bulk inserts.

    with throwaway_database(args.database_url) as url:   # "" = a temporary SQLite file
        app = bench_app(url)                              # migrated, rate limits off
        with app.app_context():
            insert_rows(get_db(), Nomination, rows)
        with StatementCounter(engine_of(app)) as c:
            ...
        print(c.n, c.elapsed)
"""

from __future__ import annotations

import contextlib
import tempfile
import time
import uuid
from collections.abc import Iterator
from typing import Any

from flask import Flask
from sqlalchemy import create_engine, event, insert, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
CHUNK = 20_000  # rows per INSERT call: bounds the memory of one statement's parameters

# The configuration every benchmark runs with: no rate limits (they would measure the limiter),
# no page cache (it would measure the cache), a secret key of its own.
BENCH_CONFIG: dict[str, Any] = {
    "SECRET_KEY": "bench", "ENV": "testing", "TESTING": True,
    "RATELIMIT_ENABLED": False, "RATELIMIT_STORAGE_URI": "memory://", "CACHE_URL": "null://",
}


@contextlib.contextmanager
def throwaway_database(server_url: str = "") -> Iterator[str]:
    """The URL of a new, empty database, removed on the way out: a temporary SQLite file
    when ``server_url`` is empty, else ``awards_bench_<random>`` on that PostgreSQL server."""
    if not server_url:
        with tempfile.TemporaryDirectory(prefix="awards-bench-") as folder:
            yield f"sqlite:///{folder}/bench.db"
        return
    server = make_url(server_url)
    name = f"awards_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def bench_app(url: str, **config: Any) -> Flask:
    """The application on a migrated database at ``url``, with ``BENCH_CONFIG`` and ``config``
    on top, and an instance folder of its own."""
    from awards import create_app
    from awards.migrate import upgrade

    upgrade(url)
    return create_app({**BENCH_CONFIG, "DATABASE_URL": url,
                       "INSTANCE_PATH": tempfile.mkdtemp(prefix="awards-bench-"), **config})


def engine_of(app: Flask) -> Engine:
    return app.extensions["awards_db"]["engine"]


def insert_rows(session: Session, model, rows: list[dict], chunk: int = CHUNK) -> None:
    """Bulk INSERT of plain dicts in chunks of ``chunk`` rows (no ORM objects)."""
    for start in range(0, len(rows), chunk):
        session.execute(insert(model), rows[start:start + chunk])


class StatementCounter:
    """Inside its ``with`` block: the SQL statements sent (``n``), the wall time (``elapsed``)
    and this process's CPU time (``cpu``, which leaves out the database server's own work but
    stays meaningful on a busy machine), in seconds."""

    def __init__(self, engine: Engine):
        self.engine, self.n, self.elapsed, self.cpu = engine, 0, 0.0, 0.0

    def __enter__(self) -> StatementCounter:
        self.n = 0
        event.listen(self.engine, "before_cursor_execute", self._count)
        self.started = time.perf_counter()
        self.cpu_started = time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.elapsed = time.perf_counter() - self.started
        self.cpu = time.process_time() - self.cpu_started
        event.remove(self.engine, "before_cursor_execute", self._count)

    def _count(self, *_args) -> None:
        self.n += 1
