"""Engine, one session per request or command, and the declarative base."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import ClassVar

from flask import Flask, current_app, g
from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Stores naive UTC on every backend, returns aware UTC, so SQLite and PostgreSQL agree."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict] = {datetime: UTCDateTime()}


def utcnow() -> datetime:
    return datetime.now(UTC)


def _lower(value):
    return value.lower() if isinstance(value, str) else value


def make_engine(url: str, echo: bool = False, pool: dict | None = None) -> Engine:
    """``pool``: the connection pool's ``pool_size``, ``max_overflow`` and ``pool_timeout``
    (an in-memory SQLite database has a pool of its own and ignores them)."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    kwargs: dict = {"echo": echo, "future": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
    if pool and ":memory:" not in url and url not in ("sqlite://", "sqlite+pysqlite://"):
        kwargs.update(pool)
    engine = create_engine(url, **kwargs)
    if engine.dialect.name != "sqlite":
        _ping_idle_connections(engine)
    else:

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            if ":memory:" not in url:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
            # SQLite's own lower() folds ASCII only; PostgreSQL's folds every letter. Rules
            # that compare names in SQL (conflicts of interest: "Эко Волонтёры") must give the
            # same answer on both, and as Python's str.lower().
            dbapi_conn.create_function("lower", 1, _lower, deterministic=True)

    return engine


# A pooled connection that sat unused for longer than this is pinged before it is handed out,
# and replaced if the server went away meanwhile (a restart, a failover, a dropped idle
# connection). A busy site's connections are never idle that long, so its requests skip the
# round trip that SQLAlchemy's ``pool_pre_ping`` costs on every checkout.
PING_AFTER_IDLE = 10.0
_IDLE_SINCE = "awards_idle_since"


def _ping_idle_connections(engine: Engine) -> None:
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection, record) -> None:
        if record is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, _proxy) -> None:
        since = record.info.pop(_IDLE_SINCE, None)
        if since is None or time.monotonic() - since < PING_AFTER_IDLE:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            # The pool drops this connection and checks out another one.
            raise DisconnectionError("the connection was lost while idle") from exc


def init_app(app: Flask) -> None:
    pool = {"pool_size": int(app.config.get("DATABASE_POOL_SIZE", 5)),
            "max_overflow": int(app.config.get("DATABASE_MAX_OVERFLOW", 10)),
            "pool_timeout": float(app.config.get("DATABASE_POOL_TIMEOUT", 30))}
    engine = make_engine(app.config["DATABASE_URL"], app.config.get("SQL_ECHO", False), pool)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    _track_writes(factory)
    app.extensions["awards_db"] = {"engine": engine, "session_factory": factory}

    @app.teardown_appcontext
    def _close_session(exc):
        session: Session | None = g.pop("_db_session", None)
        if session is not None:
            end_session(session, failed=exc is not None)
        connection: Connection | None = g.pop("_db_connection", None)
        if connection is not None:
            connection.close()


WROTE = "awards_wrote"


def _track_writes(factory: sessionmaker) -> None:
    """Mark a session whose transaction wrote anything (a flush or an INSERT, UPDATE or DELETE
    statement), until that transaction ends."""

    def wrote(session: Session, *_args) -> None:
        session.info[WROTE] = True

    def statement(state) -> None:
        if not state.is_select:
            state.session.info[WROTE] = True

    def committed(session: Session) -> None:
        session.info.pop(WROTE, None)

    def rolled_back(session: Session, previous_transaction) -> None:
        # A savepoint rolled back leaves the writes of the transaction around it.
        if not previous_transaction.nested:
            session.info.pop(WROTE, None)

    event.listen(factory, "after_flush", wrote)
    event.listen(factory, "do_orm_execute", statement)
    event.listen(factory, "after_commit", committed)
    event.listen(factory, "after_soft_rollback", rolled_back)


def end_session(session: Session, *, failed: bool = False) -> None:
    """The end of a request: whatever the view did not commit is rolled back, but a transaction
    that only read ends with COMMIT, which for it is the same thing. The difference matters
    on PostgreSQL: psycopg forgets every prepared statement of the connection on ROLLBACK, so
    rolling back after each page made the server parse and plan every query of every request
    again (measured in bench/RESULTS.md, "The public vote")."""
    try:
        if not failed and session.in_transaction() and not session.info.get(WROTE) \
                and not (session.new or session.dirty or session.deleted):
            session.commit()
    except Exception:
        pass
    finally:
        session.close()


def get_engine() -> Engine:
    return current_app.extensions["awards_db"]["engine"]


def get_db() -> Session:
    """The session of the current request or command; services flush, callers commit."""
    if "_db_session" not in g:
        factory = current_app.extensions["awards_db"]["session_factory"]
        connection = g.get("_db_connection")
        g._db_session = factory() if connection is None else factory(bind=connection)
    return g._db_session


def autocommit_connection() -> Connection:
    """The request's one database connection, in autocommit mode: each statement commits by
    itself, with no transaction around it (the public vote, whose statements are each complete
    on their own). The request's session (:func:`get_db`) runs on this same connection if the
    request needs it too (the signed-in user, a page), so the request never holds two
    connections, nor waits for a second one while it holds one. The connection is returned at
    the end of the request."""
    connection = g.get("_db_connection")
    if connection is not None:
        return connection
    connection = get_engine().connect().execution_options(isolation_level="AUTOCOMMIT")
    g._db_connection = connection
    session: Session | None = g.get("_db_session")
    if session is not None:
        # The request already read through its session: that transaction ends here (a
        # session that wrote must commit first), and the session goes on on this connection.
        if session.info.get(WROTE) or session.new or session.dirty or session.deleted:
            raise RuntimeError("autocommit_connection() in a request whose session wrote")
        session.commit()
        session.bind = connection
    return connection
