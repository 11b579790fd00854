import pytest
from sqlalchemy import select

from awards import create_app
from awards.audit import AuditEvent
from awards.db import get_db
from tests.conftest import IsolatedClient, post_form


@pytest.mark.parametrize(("proxies", "expected_ip"), [(0, "127.0.0.1"), (1, "203.0.113.9")])
def test_audit_ip_follows_trusted_proxy_setting(app_config, proxies, expected_ip):
    app = create_app({**app_config, "PROXY_COUNT": proxies})
    app.test_client_class = IsolatedClient
    client = app.test_client()
    client.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.9"
    response = post_form(client, "/account/register", {
        "full_name": "Proxy User", "email": "proxy@example.com", "password": "a-long-password",
        "confirm": "a-long-password", "accept": "y",
    })
    assert response.status_code == 200
    with app.app_context():
        event = get_db().scalar(select(AuditEvent).where(AuditEvent.action == "user.register"))
        assert event.ip == expected_ip
    app.extensions["awards_db"]["engine"].dispose()
