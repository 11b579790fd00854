"""How a request's database session ends: what a view did not commit is rolled back, and a
transaction that only read ends with COMMIT (on PostgreSQL a ROLLBACK makes psycopg drop the
connection's prepared statements, so every query of every page was parsed and planned anew)."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select, update

from awards.calls.models import Programme
from awards.db import end_session, get_db, get_engine
from tests.factories import arrange, read
from tests.public_stage_factories import SLUG, public_world


def _ends(app, work, **kw) -> list[str]:
    """Run ``work`` on a request's session and end it; the transaction ends seen."""
    seen: list[str] = []
    with app.app_context():
        engine = get_engine()
        listeners = [("commit", lambda conn: seen.append("commit")),
                     ("rollback", lambda conn: seen.append("rollback"))]
        for name, fn in listeners:
            event.listen(engine, name, fn)
        try:
            session = get_db()
            work(session)
            end_session(session, **kw)
        finally:
            for name, fn in listeners:
                event.remove(engine, name, fn)
    return seen


def _programme(app) -> int:
    return arrange(app, lambda s: _add(s, Programme(slug="p", name_en="P", name_ru="P")))


def _add(session, obj):
    session.add(obj)
    session.flush()
    return obj.id


def _name(app, programme_id):
    return read(app, lambda s: s.get(Programme, programme_id).name_en)


def test_a_session_that_only_read_ends_with_commit(app):
    programme_id = _programme(app)
    assert _ends(app, lambda s: s.get(Programme, programme_id)) == ["commit"]
    assert _name(app, programme_id) == "P"


def test_a_flushed_change_the_view_did_not_commit_is_rolled_back(app):
    programme_id = _programme(app)

    def change(session):
        session.get(Programme, programme_id).name_en = "Changed"
        session.flush()

    assert _ends(app, change) == ["rollback"]
    assert _name(app, programme_id) == "P"


def test_a_change_not_yet_flushed_is_not_saved(app):
    programme_id = _programme(app)

    def change(session):
        session.get(Programme, programme_id).name_en = "Changed"

    assert _ends(app, change) == ["rollback"]
    assert _name(app, programme_id) == "P"


def test_an_update_statement_the_view_did_not_commit_is_rolled_back(app):
    programme_id = _programme(app)

    def change(session):
        session.execute(update(Programme).where(Programme.id == programme_id)
                        .values(name_en="Changed"))

    assert _ends(app, change) == ["rollback"]
    assert _name(app, programme_id) == "P"


def test_a_change_before_a_rolled_back_savepoint_is_still_rolled_back(app):
    programme_id = _programme(app)

    def change(session):
        session.get(Programme, programme_id).name_en = "Changed"
        session.flush()
        savepoint = session.begin_nested()
        session.get(Programme, programme_id).name_ru = "Изменено"
        session.flush()
        savepoint.rollback()

    assert _ends(app, change)[-1] == "rollback"
    assert _name(app, programme_id) == "P"


def test_a_committed_change_then_a_read_keeps_the_change(app):
    programme_id = _programme(app)

    def change(session):
        session.get(Programme, programme_id).name_en = "Changed"
        session.commit()
        session.scalar(select(Programme.name_en))

    assert _ends(app, change) == ["commit", "commit"]
    assert _name(app, programme_id) == "Changed"


def test_a_failed_request_rolls_back_even_a_read(app):
    programme_id = _programme(app)
    assert _ends(app, lambda s: s.get(Programme, programme_id), failed=True) == ["rollback"]


@pytest.mark.postgres_only
def test_prepared_statements_outlive_the_pages_that_only_read(app, client):
    arrange(app, public_world)
    for _ in range(8):
        assert client.get(f"/public/{SLUG}/").status_code == 200
    # The test client's requests ran one at a time, so the pool holds one connection.
    with app.app_context(), get_engine().connect() as conn:
        prepared = conn.exec_driver_sql("SELECT count(*) FROM pg_prepared_statements")
        assert prepared.scalar() > 0
