"""The audit chain outsiders can check: hashes keyed with a server key kept outside the database,
heads published with the results and in a public feed, and ``audit verify --against`` catching a
rewritten or truncated log; records of older versions sealed by a keyed cut-over record."""

from __future__ import annotations

import hashlib
import json
import re
import stat
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest
from sqlalchemy import MetaData, Table, create_engine, select, text

from awards import audit, create_app
from awards.audit import AuditEvent
from awards.migrate import upgrade
from tests.conftest import ON_POSTGRES, csrf_from, login
from tests.factories import arrange, english, read
from tests.integration import test_backup
from tests.results_factories import decided_call

ATOM = "{http://www.w3.org/2005/Atom}"


def record_events(app, count):
    def build(session):
        for n in range(1, count + 1):
            audit.record(session, action="thing.update", object_type="thing", object_id=n,
                         after={"n": n, "title": "Жүлде"}, ip="")

    arrange(app, build)


def verify(app, *extra):
    return app.test_cli_runner().invoke(args=["awards", "audit", "verify", *extra])


def rows_of(app):
    columns = [getattr(AuditEvent, name)
               for name in (*audit.HASHED_FIELDS, "key_id", "prev_hash", "hash")]
    return read(app, lambda s: [dict(r._mapping) for r in s.execute(
        select(*columns).order_by(AuditEvent.id))])


def as_row(values: dict):
    """Something with the columns as attributes, as ``payload_of`` reads a row."""
    return type("Row", (), values)()


def plain_rechain(app, *, drop_keys: bool, edit: dict | None = None):
    """What someone with database access but without the key can do: change record 1, then
    give every record a fresh plain SHA-256 hash so that each link matches again."""

    def build(session):
        prev = audit.GENESIS
        for row in rows_of(app):
            values = dict(row, **(edit or {})) if row["id"] == 1 else dict(row)
            if drop_keys:
                values["key_id"] = ""
            payload = audit.payload_of(as_row(values))
            digest = audit.compute_hash(prev, payload)
            session.execute(text(
                "UPDATE audit_events SET after = :after, key_id = :key_id, prev_hash = :prev, "
                "hash = :hash WHERE id = :id"),
                {"after": values["after"], "key_id": values["key_id"], "prev": prev,
                 "hash": digest, "id": row["id"]})
            prev = digest

    arrange(app, build)


# ---- rewriting -------------------------------------------------------------------------------


def test_untouched_keyed_chain_passes(app):
    record_events(app, 5)
    result = verify(app)
    assert result.exit_code == 0, result.output
    head = read(app, lambda s: s.scalar(select(AuditEvent.hash).where(AuditEvent.id == 5)))
    assert result.stdout == f"audit log intact: 5 records\nhead 5:{head}\n"
    keys = {r["key_id"] for r in rows_of(app)}
    assert keys == {audit.key_id_of(b"test-audit-key")}


@pytest.mark.parametrize(("drop_keys", "expected"), [
    (False, "BROKEN at record 1: record content does not match its hash"),
    (True, "BROKEN at record 5: records 1 to 5 carry no key and no keyed record follows them"),
], ids=["keys-kept", "keys-dropped"])
def test_record_1_edited_and_plain_hashes_recomputed_fails(app, drop_keys, expected):
    record_events(app, 5)
    plain_rechain(app, drop_keys=drop_keys, edit={"after": '{"n": 999}'})

    result = verify(app)

    assert result.exit_code == 1
    assert expected in result.stderr


def test_record_passed_off_as_hashed_with_an_unknown_key_fails(app):
    record_events(app, 3)
    arrange(app, lambda s: s.execute(text("UPDATE audit_events SET key_id = 'deadbeef' "
                                          "WHERE id = 2")))
    result = verify(app)
    assert result.exit_code == 1
    assert ("BROKEN at record 2: the record is keyed with key deadbeef, which this server does "
            "not hold") in result.stderr


def test_unkeyed_record_after_keyed_ones_fails(app):
    record_events(app, 3)

    def strip_last(session):
        row = rows_of(app)[-1]
        digest = audit.compute_hash(row["prev_hash"], audit.payload_of(
            as_row(dict(row, key_id=""))))
        session.execute(text("UPDATE audit_events SET key_id = '', hash = :h WHERE id = 3"),
                        {"h": digest})

    arrange(app, strip_last)
    result = verify(app)
    assert result.exit_code == 1
    assert "BROKEN at record 3: the record carries no key, but keyed records come before it" \
        in result.stderr


# ---- published heads ---------------------------------------------------------------------------


def publish_results(app, client):
    world = arrange(app, decided_call)
    login(client, world.admin_email)
    overview = f"/admin/results/calls/{world.call_id}"
    page = client.get(f"{overview}/publish", query_string={"mode": "now", "scheduled_for": ""})
    html = page.get_data(as_text=True)
    state = re.search(r'name="state" type="hidden" value="([0-9a-f]+)"', html).group(1)
    response = client.post(f"{overview}/publish", data={
        "csrf_token": csrf_from(html), "state": state, "mode": "now", "scheduled_for": ""})
    assert response.status_code == 303
    client.post("/account/logout", data={"csrf_token": csrf_from(
        client.get("/").get_data(as_text=True))})
    return world


def page_head(client, slug) -> str:
    html = english(client).get(f"/results/{slug}").get_data(as_text=True)
    match = re.search(r"Audit log head at this publication:\s*<code>(\d+:[0-9a-f]{64})</code>",
                      html)
    assert match, "the results page shows no audit head"
    return match.group(1)


def feed_entries(client) -> list[tuple[str, str]]:
    response = english(client).get("/audit/heads.atom")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    root = ET.fromstring(response.get_data())
    return [(e.findtext(f"{ATOM}title"), e.findtext(f"{ATOM}content"))
            for e in root.findall(f"{ATOM}entry")]


@pytest.fixture
def published(app, client):
    world = publish_results(app, client)
    head = page_head(client, world.call_slug)
    return world, head


def test_results_page_and_feed_show_the_head_at_publication(app, client, published):
    world, head = published
    publish_id = read(app, lambda s: s.scalar(select(AuditEvent.id).where(
        AuditEvent.action == "results.publish")))
    publish_hash = read(app, lambda s: s.get(AuditEvent, publish_id).hash)
    assert head == f"{publish_id}:{publish_hash}"
    record_events(app, 2)  # the log moves on; the published head stays as it was

    entries = feed_entries(client)

    newest = read(app, lambda s: s.execute(select(AuditEvent.id, AuditEvent.hash)
                                           .order_by(AuditEvent.id.desc()).limit(1)).one())
    assert entries == [
        (f"Audit log head: record {newest.id}", f"{newest.id}:{newest.hash}"),
        ("Audit log head at the publication of the results: Volunteer of the Year 2026, "
         "version 1", head),
    ]
    assert page_head(client, world.call_slug) == head


def test_verify_against_the_published_head_passes_then_catches_newest_records_deleted(
        app, published):
    _world, head = published
    record_events(app, 2)
    untouched = verify(app, "--against", head)
    assert untouched.exit_code == 0, untouched.output
    assert f"published head {head} found" in untouched.stdout
    head_id = int(head.split(":")[0])
    arrange(app, lambda s: s.execute(text("DELETE FROM audit_events WHERE id >= :n"),
                                     {"n": head_id}))
    assert verify(app).exit_code == 0  # what is left is a shorter chain, intact in itself

    result = verify(app, "--against", head)

    assert result.exit_code == 1
    assert f"BROKEN at record {head_id}: it is missing" in result.stderr


def test_verify_against_the_published_head_catches_a_log_rewritten_with_the_key(app, published):
    # Even the key's holder cannot rewrite history behind a published head unnoticed.
    _world, head = published
    keys = read(app, lambda s: audit.keyring())
    rows = rows_of(app)

    def rewrite(session):
        prev = audit.GENESIS
        for row in rows:
            values = dict(row, after='{"forged": true}') if row["id"] == 1 else dict(row)
            digest = audit.compute_hash(prev, audit.payload_of(as_row(values)),
                                        keys.keys[row["key_id"]])
            session.execute(text("UPDATE audit_events SET after = :a, prev_hash = :p, hash = :h "
                                 "WHERE id = :id"),
                            {"a": values["after"], "p": prev, "h": digest, "id": row["id"]})
            prev = digest

    arrange(app, rewrite)
    assert verify(app).exit_code == 0

    result = verify(app, "--against", head)

    assert result.exit_code == 1
    assert f"BROKEN at record {head.split(':')[0]}: its hash differs from the one published" \
        in result.stderr


@pytest.mark.parametrize("value", ["5", "x:abc", ":abc", "99999999999999999999:ab"])
def test_verify_refuses_a_head_that_is_not_id_and_hash(app, value):
    result = verify(app, "--against", value)
    assert result.exit_code == 2
    assert "use ID:HASH as published" in result.output


def test_feed_of_an_empty_log_is_valid_and_empty(client):
    assert feed_entries(client) == []


# ---- the key ---------------------------------------------------------------------------------


@pytest.fixture
def keyfile_config(app_config):
    return dict(app_config, AUDIT_KEY="")


def test_key_file_is_created_privately_on_first_use_and_kept(keyfile_config, tmp_path):
    first = create_app(keyfile_config)
    key_file = tmp_path / "instance" / "audit_key"
    assert not key_file.exists()
    record_events(first, 2)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip()
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    assert {r["key_id"] for r in rows_of(first)} == {audit.key_id_of(key.encode())}

    again = create_app(keyfile_config)  # a restart reads the same key
    record_events(again, 1)
    assert key_file.read_text().strip() == key
    assert verify(again).exit_code == 0
    for created in (first, again):
        created.extensions["awards_db"]["engine"].dispose()


def test_rotated_key_checks_old_records_with_the_retired_key(app, app_config):
    record_events(app, 2)
    rotated = create_app(dict(app_config, AUDIT_KEY="new-key",
                              AUDIT_RETIRED_KEYS=["test-audit-key"]))
    record_events(rotated, 2)
    assert [r["key_id"] for r in rows_of(rotated)] == [
        audit.key_id_of(b"test-audit-key")] * 2 + [audit.key_id_of(b"new-key")] * 2
    assert verify(rotated).exit_code == 0

    forgot = create_app(dict(app_config, AUDIT_KEY="new-key"))
    result = verify(forgot)
    assert result.exit_code == 1
    assert (f"BROKEN at record 1: the record is keyed with key "
            f"{audit.key_id_of(b'test-audit-key')}, which this server does not hold") \
        in result.stderr
    for created in (rotated, forgot):
        created.extensions["awards_db"]["engine"].dispose()


# ---- records of an older version ----------------------------------------------------------------


def legacy_insert(conn, count: int) -> None:
    """Records as the version before keyed hashes wrote them: plain SHA-256, no key id."""
    old_table = Table("audit_events", MetaData(), *[
        c._copy() for c in AuditEvent.__table__.columns if c.name != "key_id"])
    prev = audit.GENESIS
    for n in range(1, count + 1):
        values = {"id": n, "created_at": datetime(2026, 11, 30, 10, 0, n, tzinfo=UTC),
                  "actor_id": None, "actor_label": "system", "action": "old.thing",
                  "object_type": "thing", "object_id": str(n), "call_id": None,
                  "before": "null", "after": json.dumps({"n": n}), "ip": ""}
        payload = dict(values, created_at=values["created_at"].isoformat())
        body = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        digest = hashlib.sha256((prev + body).encode("utf-8")).hexdigest()
        conn.execute(old_table.insert().values(**values, prev_hash=prev, hash=digest))
        prev = digest


@pytest.fixture
def legacy_app(tmp_path, app_config):
    """An installation of the version before keyed hashes (schema 0002) with three records."""
    config = dict(app_config, INSTANCE_PATH=str(tmp_path / "legacy"))
    admin = None
    if ON_POSTGRES:
        from sqlalchemy.engine import make_url

        url = make_url(app_config["DATABASE_URL"])
        name = url.database + "_legacy"
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        config["DATABASE_URL"] = url.set(database=name).render_as_string(hide_password=False)
    else:
        config["DATABASE_URL"] = f"sqlite:///{tmp_path / 'legacy.db'}"
    upgrade(config["DATABASE_URL"], "0002")
    engine = create_engine(config["DATABASE_URL"])
    with engine.begin() as conn:
        legacy_insert(conn, 3)
    engine.dispose()
    legacy = create_app(config)
    yield legacy
    legacy.extensions["awards_db"]["engine"].dispose()
    if admin is not None:
        with admin.connect() as conn:
            conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
            ), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def test_upgrade_seals_older_records_so_a_rewrite_of_them_fails(legacy_app):
    runner = legacy_app.test_cli_runner()
    upgraded = runner.invoke(args=["awards", "db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert "audit log: records 1 to 3 sealed by the keyed cut-over record 4" in upgraded.output

    rows = rows_of(legacy_app)
    assert [(r["id"], r["key_id"], r["action"]) for r in rows] == [
        (1, "", "old.thing"), (2, "", "old.thing"), (3, "", "old.thing"),
        (4, audit.key_id_of(b"test-audit-key"), "audit.keyed")]
    assert json.loads(rows[3]["after"])["legacy_head"] == f"3:{rows[2]['hash']}"
    result = verify(legacy_app)
    assert result.exit_code == 0, result.output
    assert "audit log intact: 4 records" in result.stdout
    assert "records 1 to 3 were written before keyed hashes" in result.stdout
    assert runner.invoke(args=["awards", "audit", "seal"]).output.startswith("nothing to seal")

    # Someone without the key rewrites an older record and its successors' plain hashes: the
    # keyed cut-over record no longer links to them.
    def rewrite_legacy(session):
        prev = audit.GENESIS
        for row in rows[:3]:
            values = dict(row, after='{"n": 999}') if row["id"] == 2 else dict(row)
            digest = audit.compute_hash(prev, audit.payload_of(as_row(values)))
            session.execute(text("UPDATE audit_events SET after = :a, prev_hash = :p, hash = :h "
                                 "WHERE id = :id"),
                            {"a": values["after"], "p": prev, "h": digest, "id": row["id"]})
            prev = digest

    arrange(legacy_app, rewrite_legacy)
    rewritten = verify(legacy_app)
    assert rewritten.exit_code == 1
    assert "BROKEN at record 4: link to the previous record is broken" in rewritten.stderr


def test_older_records_are_sealed_by_the_first_new_record_too(legacy_app):
    upgrade(legacy_app.config["DATABASE_URL"], "head")  # alembic alone: nothing sealed yet
    unsealed = verify(legacy_app)
    assert unsealed.exit_code == 1
    assert "records 1 to 3 carry no key and no keyed record follows them" in unsealed.stderr

    record_events(legacy_app, 1)

    assert [(r["id"], r["action"]) for r in rows_of(legacy_app)] == [
        (1, "old.thing"), (2, "old.thing"), (3, "old.thing"), (4, "audit.keyed"),
        (5, "thing.update")]
    assert verify(legacy_app).exit_code == 0


# ---- a restore onto a server with another key --------------------------------------------------

second_app = test_backup.second_app  # the fixture: another installation with an empty database


def test_restore_onto_a_server_with_another_key_warns_and_the_old_key_checks_it(
        app, second_app, app_config, tmp_path):
    record_events(app, 2)
    archive = tmp_path / "awards.tar.gz"
    assert app.test_cli_runner().invoke(
        args=["awards", "backup", "--output", str(archive)]).exit_code == 0
    second_app.config["AUDIT_KEY"] = "another-server-key"

    restored = second_app.test_cli_runner().invoke(args=["awards", "restore", str(archive)])

    assert restored.exit_code == 0, restored.output
    old_id = audit.key_id_of(b"test-audit-key")
    assert (f"warning: audit records in this backup are keyed with {old_id}, which this server "
            "does not hold") in restored.stderr
    unchecked = verify(second_app)
    assert unchecked.exit_code == 1
    assert f"keyed with key {old_id}, which this server does not hold" in unchecked.stderr

    with_old_key = create_app(dict(app_config, INSTANCE_PATH=str(tmp_path / "third"),
                                   DATABASE_URL=second_app.config["DATABASE_URL"],
                                   AUDIT_KEY="another-server-key",
                                   AUDIT_RETIRED_KEYS=["test-audit-key"]))
    checked = verify(with_old_key)
    assert checked.exit_code == 0, checked.output
    assert checked.stdout.startswith("audit log intact: 3 records\n")
    with_old_key.extensions["awards_db"]["engine"].dispose()
