"""The module databases of the test suite (PostgreSQL): dropped without the run waiting for the
server's checkpoint, and those left by a run that ended early swept at the next run, never
one whose process is alive or that somebody is connected to."""

from __future__ import annotations

import os
import time
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import PG_URL
from tests.module_database import drop_in_background, stale_databases

pytestmark = pytest.mark.postgres_only


def test_stale_module_databases_are_found_and_dropped_without_waiting():
    admin_url = make_url(PG_URL).set(database="postgres")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    tag = uuid.uuid4().hex[:8]
    dead = f"awards_probe_gw0_p{2**22 + 12345}_{tag}"   # above the pid limit: no such process
    alive = f"awards_probe_gw0_p{os.getpid()}_{tag}"
    in_use = f"awards_probe_gw1_p{2**22 + 12346}_{tag}"
    names = [dead, alive, in_use]
    try:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        user = create_engine(make_url(PG_URL).set(database=in_use))
        with user.connect() as busy:
            busy.execute(text("SELECT 1"))
            with admin.connect() as conn:
                stale = stale_databases(conn)
            assert dead in stale
            assert alive not in stale and in_use not in stale
        user.dispose()

        dsn = admin_url.set(drivername="postgresql").render_as_string(hide_password=False)
        started = time.perf_counter()
        drop_in_background(dsn, [dead], force=False)
        assert time.perf_counter() - started < 2  # Python starting, not the drop
        for _ in range(100):
            with admin.connect() as conn:
                left = set(conn.execute(text(
                    "SELECT datname FROM pg_database WHERE datname LIKE :p"),
                    {"p": f"awards_probe_%_{tag}"}).scalars())
            if dead not in left:
                break
            time.sleep(0.2)
        assert left == {alive, in_use}
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
