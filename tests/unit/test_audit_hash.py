import hashlib
from datetime import UTC, datetime

import pytest

from awards.audit import GENESIS, HASHED_FIELDS, AuditEvent, compute_hash, payload_of

PAYLOAD = {
    "id": 1,
    "created_at": "2026-11-25T10:00:00+00:00",
    "actor_id": 5,
    "actor_label": "admin@example.kz",
    "action": "call.publish",
    "object_type": "call",
    "object_id": "9",
    "call_id": 9,
    "before": '{"status": "draft"}',
    "after": '{"status": "published", "title": "Үздік жоба"}',
    "ip": "203.0.113.7",
}


def test_hash_is_sha256_of_previous_hash_and_canonical_json():
    body = (
        '{"action":"call.publish","actor_id":5,"actor_label":"admin@example.kz",'
        '"after":"{\\"status\\": \\"published\\", \\"title\\": \\"Үздік жоба\\"}",'
        '"before":"{\\"status\\": \\"draft\\"}","call_id":9,'
        '"created_at":"2026-11-25T10:00:00+00:00","id":1,"ip":"203.0.113.7",'
        '"object_id":"9","object_type":"call"}'
    )
    expected = hashlib.sha256((GENESIS + body).encode("utf-8")).hexdigest()
    assert compute_hash(GENESIS, PAYLOAD) == expected


def test_hash_does_not_depend_on_key_order():
    reversed_payload = dict(reversed(list(PAYLOAD.items())))
    assert compute_hash(GENESIS, reversed_payload) == compute_hash(GENESIS, PAYLOAD)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", 2),
        ("created_at", "2026-11-25T10:00:01+00:00"),
        ("actor_id", None),
        ("actor_label", "someone@example.kz"),
        ("action", "call.unpublish"),
        ("object_type", "nomination"),
        ("object_id", "10"),
        ("call_id", None),
        ("before", "null"),
        ("after", '{"status": "published", "title": "Үздік жоба "}'),
        ("ip", "203.0.113.8"),
    ],
)
def test_changing_any_hashed_field_changes_the_hash(field, value):
    assert compute_hash(GENESIS, PAYLOAD | {field: value}) != compute_hash(GENESIS, PAYLOAD)


def test_hash_depends_on_the_previous_hash():
    assert compute_hash("1" * 64, PAYLOAD) != compute_hash(GENESIS, PAYLOAD)


def test_every_hashed_field_is_in_the_payload():
    assert sorted(HASHED_FIELDS) == sorted(PAYLOAD)


def test_payload_of_an_event_matches_the_stored_form():
    event = AuditEvent(
        id=1, created_at=datetime(2026, 11, 25, 10, 0, tzinfo=UTC), actor_id=5,
        actor_label="admin@example.kz", action="call.publish", object_type="call", object_id="9",
        call_id=9, before='{"status": "draft"}',
        after='{"status": "published", "title": "Үздік жоба"}', ip="203.0.113.7",
    )
    assert payload_of(event) == PAYLOAD
    assert event.payload() == PAYLOAD


def test_keyed_hash_is_hmac_sha256_of_the_same_message():
    import hmac

    body = __import__("json").dumps(PAYLOAD, sort_keys=True, ensure_ascii=False,
                                    separators=(",", ":"))
    expected = hmac.new(b"k", (GENESIS + body).encode("utf-8"), hashlib.sha256).hexdigest()
    assert compute_hash(GENESIS, PAYLOAD, b"k") == expected
    assert compute_hash(GENESIS, PAYLOAD, b"k") != compute_hash(GENESIS, PAYLOAD)
    assert compute_hash(GENESIS, PAYLOAD, b"k") != compute_hash(GENESIS, PAYLOAD, b"other")


def test_key_id_is_stable_short_and_part_of_a_keyed_payload():
    from awards.audit import Keyring, key_id_of

    assert key_id_of(b"k") == key_id_of(b"k") != key_id_of(b"other")
    assert len(key_id_of(b"k")) == 8
    ring = Keyring.of("new", ["old", ""])
    assert ring.current_id == key_id_of(b"new")
    assert set(ring.keys) == {key_id_of(b"new"), key_id_of(b"old")}
    event = AuditEvent(
        id=1, created_at=datetime(2026, 11, 25, 10, 0, tzinfo=UTC), actor_id=5,
        actor_label="admin@example.kz", action="call.publish", object_type="call", object_id="9",
        call_id=9, before='{"status": "draft"}',
        after='{"status": "published", "title": "Үздік жоба"}', ip="203.0.113.7",
        key_id=ring.current_id,
    )
    assert payload_of(event) == PAYLOAD | {"key_id": ring.current_id}
