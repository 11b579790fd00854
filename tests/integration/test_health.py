from tests.conftest import post_form


def test_healthz_reports_ok_after_database_check(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "ok"
    assert response.json["database"] == "ok"


def test_register_queues_verification_mail(client, outbox):
    response = post_form(client, "/account/register", {
        "full_name": "Aigerim", "email": "Aigerim@Example.com", "password": "a-long-password",
        "confirm": "a-long-password", "accept": "y",
    })
    assert response.status_code == 200
    mails = outbox("aigerim@example.com")
    assert len(mails) == 1
    assert "/account/verify/" in mails[0].body_text

