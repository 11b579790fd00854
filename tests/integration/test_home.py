from datetime import timedelta

from awards.db import utcnow
from awards.enums import CallStatus
from tests.factories import make_call


def test_home_lists_open_calls_with_links(app, client, db):
    make_call(db)
    make_call(db, slug="abai-2026", reference_prefix="ABAI", title_en="Abai State Prize 2026",
              status=CallStatus.DRAFT)
    db.commit()
    html = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'href="/calls/voy-2026"' in html
    assert "Volunteer of the Year 2026" in html
    assert "abai-2026" not in html


def test_home_says_when_nothing_is_open(app, client, db):
    make_call(db, opens_at=utcnow() + timedelta(days=2), closes_at=utcnow() + timedelta(days=9))
    db.commit()
    html = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "No calls are open right now." in html
    assert 'href="/calls/voy-2026"' not in html


def test_jury_link_only_for_jurors(app, client, db, make_user, login_as):
    make_user("applicant@example.com")
    login_as("applicant@example.com")
    assert 'href="/jury/"' not in client.get("/").get_data(as_text=True)
