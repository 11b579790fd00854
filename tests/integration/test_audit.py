import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, select, text, update

from awards import audit
from awards.audit import AuditEvent, AuditLogAppendOnly, verify_chain
from awards.auth.models import User
from awards.db import get_db
from tests.conftest import ON_POSTGRES, post_form


def _record_events(db, count, start=1):
    for n in range(start, start + count):
        audit.record(db, action="thing.update", object_type="thing", object_id=n,
                     before={"n": n - 1}, after={"n": n, "title": "Жүлде"})
    db.commit()


def _verify(runner, *extra):
    return runner.invoke(args=["awards", "audit", "verify", *extra])


def test_record_keeps_actor_time_object_and_before_after(db, make_user):
    user = make_user("juror@example.com")
    before = datetime.now(UTC).replace(microsecond=0)
    ev = audit.record(db, action="nomination.update", object_type="nomination", object_id=42,
                      actor=user, before={"title": "Старое"}, after={"title": "Жаңа атау"},
                      call_id=7, ip="203.0.113.5")
    db.commit()
    stored = get_db().execute(
        select(AuditEvent).where(AuditEvent.id == ev.id).execution_options(populate_existing=True)
    ).scalar_one()
    assert stored.id == 1
    assert stored.actor_id == user.id
    assert stored.actor_label == "juror@example.com"
    assert stored.action == "nomination.update"
    assert (stored.object_type, stored.object_id, stored.call_id) == ("nomination", "42", 7)
    assert stored.before_data() == {"title": "Старое"}
    assert stored.after_data() == {"title": "Жаңа атау"}
    assert stored.ip == "203.0.113.5"
    assert stored.created_at.tzinfo is UTC
    assert before <= stored.created_at <= datetime.now(UTC)
    assert stored.prev_hash == audit.GENESIS
    assert stored.key_id == audit.keyring().current_id
    assert stored.hash == audit.compute_hash(audit.GENESIS, stored.payload(),
                                             audit.keyring().current)


def test_record_without_actor_is_labelled_system(db):
    ev = audit.record(db, action="call.close", object_type="call", object_id=3)
    assert (ev.actor_id, ev.actor_label, ev.ip) == (None, "system", "")


def test_records_are_chained_in_order(db):
    _record_events(db, 3)
    events = db.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [e.id for e in events] == [1, 2, 3]
    assert [e.prev_hash for e in events] == [audit.GENESIS, events[0].hash, events[1].hash]


def test_record_is_rolled_back_with_the_change(db):
    _record_events(db, 1)
    db.add(User(email="gone@example.com", password_hash="x"))
    audit.record(db, action="user.register", object_type="user", object_id="gone")
    db.rollback()
    assert db.scalar(select(User).where(User.email == "gone@example.com")) is None
    assert db.scalars(select(AuditEvent.id)).all() == [1]
    assert audit.record(db, action="x", object_type="y").id == 2


def test_web_change_is_audited_with_actor_and_address(client, db):
    post_form(client, "/account/register", {
        "full_name": "Aigerim", "email": "aigerim@example.com", "password": "a-long-password",
        "confirm": "a-long-password", "accept": "y",
    })
    ev = db.scalars(select(AuditEvent)).one()
    user = db.scalars(select(User)).one()
    assert (ev.action, ev.object_type, ev.object_id) == ("user.register", "user", str(user.id))
    assert (ev.actor_id, ev.actor_label, ev.ip) == (user.id, "aigerim@example.com", "127.0.0.1")
    assert ev.after_data() == {"email": "aigerim@example.com", "full_name": "Aigerim"}


def test_verify_passes_on_intact_chain(db, runner):
    _record_events(db, 5)
    head = db.scalar(select(AuditEvent.hash).where(AuditEvent.id == 5))
    result = _verify(runner)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"audit log intact: 5 records\nhead 5:{head}\n"
    assert _verify(runner, "--expect", f"5:{head}").exit_code == 0
    assert _verify(runner, "--expect", f"3:{head}").exit_code == 1


def test_verify_passes_on_empty_log(runner):
    result = _verify(runner)
    assert result.exit_code == 0
    assert result.stdout == "audit log intact: 0 records\n"


SWAP_2_AND_3 = [
    "UPDATE audit_events SET id = 1000 WHERE id = 2",
    "UPDATE audit_events SET id = 2 WHERE id = 3",
    "UPDATE audit_events SET id = 3 WHERE id = 1000",
]


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        (["UPDATE audit_events SET after = '{\"n\": 999}' WHERE id = 3"],
         "BROKEN at record 3: record content does not match its hash"),
        (["UPDATE audit_events SET actor_label = 'someone@else.kz' WHERE id = 2"],
         "BROKEN at record 2: record content does not match its hash"),
        (["UPDATE audit_events SET before = 'null' WHERE id = 1"],
         "BROKEN at record 1: record content does not match its hash"),
        (["DELETE FROM audit_events WHERE id = 3"],
         "BROKEN at record 4: record 3 is missing"),
        (["DELETE FROM audit_events WHERE id = 1"],
         "BROKEN at record 2: record 1 is missing"),
        (SWAP_2_AND_3,
         "BROKEN at record 2: link to the previous record is broken"),
    ],
    ids=["after-changed", "actor-changed", "first-changed", "deleted", "first-deleted",
         "reordered"],
)
def test_verify_fails_after_tampering_by_hand(db, runner, statements, expected):
    _record_events(db, 5)
    assert _verify(runner).exit_code == 0
    for statement in statements:
        db.execute(text(statement))
    db.commit()
    result = _verify(runner)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert expected in result.stderr


def test_verify_fails_when_a_rewritten_record_gets_a_fresh_hash(db, runner):
    # Even someone holding the key who rewrites one record breaks the link of the next one.
    _record_events(db, 4)
    forged = db.get(AuditEvent, 2)
    payload = forged.payload() | {"after": '{"n": 999}'}
    new_hash = audit.compute_hash(forged.prev_hash, payload, audit.keyring().current)
    db.execute(text("UPDATE audit_events SET after = :a, hash = :h WHERE id = 2"),
               {"a": '{"n": 999}', "h": new_hash})
    db.commit()
    result = _verify(runner)
    assert result.exit_code == 1
    assert "BROKEN at record 3: link to the previous record is broken" in result.stderr


def test_verify_with_expected_head_catches_records_cut_off_the_end(db, runner):
    _record_events(db, 4)
    head = _verify(runner).stdout.splitlines()[-1].removeprefix("head ")
    assert head.startswith("4:")
    db.execute(text("DELETE FROM audit_events WHERE id = 4"))
    db.commit()
    result = _verify(runner, "--expect", head)
    assert result.exit_code == 1
    assert "BROKEN at record 4: it is missing" in result.stderr


def test_verify_leaves_the_callers_session_alone(db):
    _record_events(db, 3)
    user = User(email="kept@example.com", password_hash="x")
    db.add(user)
    db.flush()
    result = verify_chain(db, batch=2)
    assert (result.ok, result.checked, result.head_id) == (True, 3, 3)
    assert user in db


def test_orm_change_of_an_event_is_refused(db):
    _record_events(db, 2)
    ev = db.get(AuditEvent, 1)
    ev.after = '{"n": 999}'
    with pytest.raises(AuditLogAppendOnly):
        db.flush()
    db.rollback()


def test_orm_delete_of_an_event_is_refused(db):
    _record_events(db, 2)
    db.delete(db.get(AuditEvent, 1))
    with pytest.raises(AuditLogAppendOnly):
        db.flush()
    db.rollback()


@pytest.mark.parametrize(
    "statement",
    [
        update(AuditEvent).where(AuditEvent.id == 1).values(actor_label="x"),
        update(AuditEvent.__table__).values(after="null"),
        delete(AuditEvent).where(AuditEvent.id == 2),
        delete(AuditEvent.__table__),
    ],
    ids=["orm-update", "table-update", "orm-delete", "table-delete"],
)
def test_bulk_change_of_events_is_refused(db, runner, statement):
    _record_events(db, 2)
    with pytest.raises(AuditLogAppendOnly):
        db.execute(statement)
    db.rollback()
    assert _verify(runner).stdout.startswith("audit log intact: 2 records\n")


def test_query_delete_of_events_is_refused(db):
    _record_events(db, 2)
    with pytest.raises(AuditLogAppendOnly):
        db.query(AuditEvent).filter(AuditEvent.id == 1).delete()
    db.rollback()
    assert db.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all() == [1, 2]


def test_updating_other_tables_in_bulk_still_works(db, make_user):
    make_user("a@example.com")
    db.execute(update(User).values(full_name="Renamed"))
    db.commit()
    assert db.scalar(select(User.full_name)) == "Renamed"


def _append_concurrently(app, threads=2, per_thread=50):
    factory = app.extensions["awards_db"]["session_factory"]
    barrier = threading.Barrier(threads)
    errors = []

    def work(worker):
        context = app.app_context()
        context.push()
        session = factory()
        try:
            barrier.wait()
            for n in range(per_thread):
                audit.record(session, action="load.test", object_type="worker",
                             object_id=f"{worker}-{n}", ip="")
                session.commit()
        except Exception as exc:
            errors.append(exc)
        finally:
            session.close()
            context.pop()

    workers = [threading.Thread(target=work, args=(w,)) for w in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join(60)
    return errors


def _assert_intact_chain_of(db, runner, count):
    ids = db.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all()
    assert ids == list(range(1, count + 1))
    workers = {o.split("-")[0] for o in db.scalars(select(AuditEvent.object_id))}
    assert workers == {"0", "1"}
    result = _verify(runner)
    assert result.exit_code == 0
    assert result.stdout.startswith(f"audit log intact: {count} records\n")


@pytest.mark.postgres_only
def test_concurrent_appenders_on_postgres_keep_the_chain_intact(app, db, runner):
    assert _append_concurrently(app) == []
    _assert_intact_chain_of(db, runner, 100)


@pytest.mark.skipif(ON_POSTGRES, reason="the PostgreSQL variant runs instead")
def test_concurrent_appenders_on_sqlite_keep_the_chain_intact(app, db, runner):
    assert _append_concurrently(app) == []
    _assert_intact_chain_of(db, runner, 100)
