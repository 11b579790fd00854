"""A database of a test module's own, for worlds built once per module (the authorisation and
rulebook matrices, the accessibility site): the per-test databases of conftest are emptied by
every other test on the worker, and such a world must outlive them.

On PostgreSQL, ``DROP DATABASE`` makes the server write a checkpoint (every dirty buffer of
every database on it): a tenth of a second on an idle server, 3 to 10 seconds while other test
runs write. So the module does not wait for it: a detached process drops the database while
the tests go on. Each name carries the id of the process that made it; a database whose
process is gone (a run killed before it dropped its own) is dropped when the next module
database is made, and only if nobody is connected to it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from awards.migrate import upgrade
from tests.conftest import ON_POSTGRES, PG_URL

# awards_<label>_<worker>_p<pid>_<random>
_OWNED = re.compile(r"^awards_.+_p(\d+)_[0-9a-f]{8}$")
# Run by the detached process: drop each database named on the command line; FORCE ends the
# connections still open (a page's last request), a stale one is dropped only when unused.
# It forks at once, so the test process waits only for Python to start, and no zombie stays.
_DROP_SCRIPT = """
import os, sys
if os.fork():
    os._exit(0)
import psycopg
force, names = sys.argv[1] == "force", sys.argv[2:]
with psycopg.connect(os.environ["AWARDS_DROP_DSN"], autocommit=True) as conn:
    for name in names:
        try:
            conn.execute('DROP DATABASE IF EXISTS "%s"%s'
                         % (name.replace('"', '""'), " WITH (FORCE)" if force else ""))
        except psycopg.Error:
            pass
"""
_swept = False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def drop_in_background(server_dsn: str, names: list[str], *, force: bool) -> None:
    """Start a detached process that drops ``names`` and exits; the caller does not wait for
    the drop."""
    subprocess.run(
        [sys.executable, "-c", _DROP_SCRIPT, "force" if force else "unused", *names],
        env={**os.environ, "AWARDS_DROP_DSN": server_dsn}, start_new_session=True,
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        check=False, timeout=30)


def stale_databases(conn) -> list[str]:
    """Module databases left by test processes that have ended, with nobody connected."""
    rows = conn.execute(text(
        "SELECT d.datname FROM pg_database d WHERE d.datname LIKE 'awards\\_%' AND NOT EXISTS "
        "(SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname)")).scalars()
    return [name for name in rows
            if (m := _OWNED.match(name)) and not _alive(int(m.group(1)))]


def module_database(tmp_path_factory, database_template, worker_id, label: str):
    """``(url, drop)``: a copy of the migrated SQLite template, or a new migrated PostgreSQL
    database (``drop`` removes it without waiting; None for SQLite)."""
    global _swept
    if not ON_POSTGRES:
        path = tmp_path_factory.mktemp(label) / "awards.db"
        shutil.copy(database_template["path"], path)
        return f"sqlite:///{path}", None
    server = make_url(PG_URL)
    admin_url = server.set(database="postgres")
    server_dsn = admin_url.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"awards_{label}_{worker_id}_p{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if not _swept:
                _swept = True
                if stale := stale_databases(conn):
                    drop_in_background(server_dsn, stale, force=False)
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    url = server.set(database=name).render_as_string(hide_password=False)
    upgrade(url)

    def drop():
        drop_in_background(server_dsn, [name], force=True)

    return url, drop
