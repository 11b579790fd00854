"""A database of a test module's own, for worlds built once per module (the authorisation and
rulebook matrices, the accessibility site): the per-test databases of conftest are emptied by
every other test on the worker, and such a world must outlive them."""

from __future__ import annotations

import shutil
import uuid

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from awards.migrate import upgrade
from tests.conftest import ON_POSTGRES, PG_URL


def module_database(tmp_path_factory, database_template, worker_id, label: str):
    """``(url, drop)``: a copy of the migrated SQLite template, or a new migrated PostgreSQL
    database (``drop`` removes it; None for SQLite)."""
    if not ON_POSTGRES:
        path = tmp_path_factory.mktemp(label) / "awards.db"
        shutil.copy(database_template["path"], path)
        return f"sqlite:///{path}", None
    server = make_url(PG_URL)
    name = f"awards_{label}_{worker_id}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    upgrade(url)

    def drop():
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :n"), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()

    return url, drop
