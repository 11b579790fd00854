from tests.conftest import login


def test_second_client_is_anonymous_while_db_context_open(app, db, client, make_user):
    make_user("a@example.com")
    login(client, "a@example.com")
    other = app.test_client()
    assert "a@example.com" not in other.get("/account/profile").get_data(as_text=True)
    assert other.get("/account/profile").status_code == 302
    assert client.get("/account/profile").status_code == 200
