"""The input boundary (issue 16, items 1-3): NUL and other control characters in forms, paths,
query strings, JSON and backups are refused with a clear message and a 4xx, never a 500, and a
draft keeps its other answers; deep JSON is refused before it is parsed; absurd page numbers
and ids never reach the database."""

from __future__ import annotations

import html
import json
import re

import pytest
from sqlalchemy import select, text

from awards.auth.models import User
from awards.boundary import MSG_CONTROL
from awards.nominations.models import Nomination
from tests.api_factories import api_world
from tests.conftest import PASSWORD, login, post_form
from tests.factories import (
    arrange,
    english,
    field_of,
    make_call,
    read,
    save_draft,
    start_nomination,
)
from tests.integration.test_backup import restore, sqlite_app  # noqa: F401

CONTROL = str(MSG_CONTROL)
HUGE = "99999999999999999999"


@pytest.fixture
def client(app):
    return english(app.test_client())


def text_of(response) -> str:
    return response.get_data(as_text=True)


def field_errors(response) -> dict[str, str]:
    return {name: html.unescape(msg) for name, msg in
            re.findall(r'<p class="error" id="([\w-]+)-error">(.*?)</p>', text_of(response))}


def input_value(response, name: str) -> str | None:
    match = re.search(rf'<input [^>]*name="{name}"[^>]*>', text_of(response))
    assert match, f"no input named {name}"
    value = re.search(r'value="([^"]*)"', match.group(0))
    return html.unescape(value.group(1)) if value else None


def problem(response) -> dict:
    assert response.mimetype == "application/problem+json", text_of(response)[:300]
    return response.get_json()


# ---- forms --------------------------------------------------------------------------------------


@pytest.fixture
def long_call(app):
    def build(session):
        call = make_call(session)
        field_of(call, "activity").max_length = 9000
        return call.id

    return arrange(app, build)


def test_nul_in_a_draft_save_refuses_that_field_and_keeps_the_other_answers(
        app, client, long_call, make_user):
    login(client, make_user("aigerim@example.com").email)
    nomination_id = start_nomination(client)
    description = ("Мы очистили 12 рек вместе с 300 волонтёрами.\n" * 100)[:4000]
    name_before = read(app, lambda s: s.get(Nomination, nomination_id).nominee_name)

    response = save_draft(client, nomination_id, {
        "nominee_name": "a\x00b", "q_activity": description, "q_title": "Clean rivers"})

    assert response.status_code == 400
    assert field_errors(response) == {"nominee_name": CONTROL}
    assert input_value(response, "nominee_name") == "ab"
    assert description.split("\n")[0] in text_of(response)
    stored = read(app, lambda s: (
        s.get(Nomination, nomination_id).nominee_name,
        {a.field.key: a.value for a in s.get(Nomination, nomination_id).answers}))
    assert stored[0] == name_before
    assert stored[1] == {"activity": description, "title": "Clean rivers"}


def test_control_character_in_a_long_answer_is_refused_tab_and_newlines_are_kept(
        app, client, long_call, make_user):
    login(client, make_user("aigerim@example.com").email)
    nomination_id = start_nomination(client)

    refused = save_draft(client, nomination_id, {"q_activity": "bell\x07", "q_title": "T\x1b"})
    kept = save_draft(client, nomination_id, {"q_activity": "one\ttwo\r\nthree"})

    assert refused.status_code == 400
    assert field_errors(refused) == {"q_activity": CONTROL, "q_title": CONTROL}
    assert kept.status_code == 303
    answers = read(app, lambda s: {a.field.key: a.value
                                   for a in s.get(Nomination, nomination_id).answers})
    assert answers["activity"] == "one\ttwo\r\nthree"


def test_nul_in_the_profile_is_refused_and_nothing_changes(app, client, make_user):
    login(client, make_user(name="Dana Admin").email)

    response = post_form(client, "/account/profile", {
        "full_name": "x\x00", "organisation": "", "phone": "", "preferred_language": "en"})

    assert response.status_code == 400
    assert field_errors(response) == {"full_name": CONTROL}
    assert read(app, lambda s: s.scalar(select(User.full_name))) == "Dana Admin"


def test_nul_in_the_login_email_is_refused(app, client, make_user):
    make_user()

    response = post_form(client, "/account/login",
                         {"email": "a\x00@example.com", "password": PASSWORD})

    assert response.status_code == 400
    assert field_errors(response)["email"] == CONTROL


# ---- paths and query strings ------------------------------------------------------------------


@pytest.mark.parametrize("path", [
    "/calls/abc%00def", "/news/abc%00def", "/results/abc%00def", "/public/abc%00def/",
    "/nominations/start/abc%00def", "/calls/abc%01def",
])
def test_nul_in_a_path_is_a_page_not_found(app, client, path):
    arrange(app, api_world)

    response = client.get(path)

    assert response.status_code == 404
    assert "Page not found" in text_of(response)


def test_nul_in_an_api_path_is_a_not_found_problem(app, client):
    world = arrange(app, api_world)

    response = client.get("/api/v1/calls/abc%00def", headers=world.headers("applicant"))

    assert response.status_code == 404
    assert problem(response)["type"] == "/api/v1/problems/not-found"


def test_nul_in_a_query_parameter_is_a_bad_request_naming_it(app, client):
    world = arrange(app, api_world)
    login(client, "admin@example.com")
    call_id = read(app, lambda s: s.scalar(text("SELECT id FROM calls WHERE slug = :s"),
                                           {"s": world.open_slug}))

    page = client.get(f"/admin/screening/{call_id}/?q=a%00b")
    api = client.get("/api/v1/nominations?category=a%00b", headers=world.headers("admin"))

    assert page.status_code == 400
    assert "The address contains a character that is not allowed in “q”." in html.unescape(
        text_of(page))
    assert api.status_code == 400
    assert problem(api)["errors"][0]["field"] == "category"


def test_an_id_no_row_can_have_is_not_found(app, client):
    arrange(app, api_world)
    login(client, "admin@example.com")

    assert client.get(f"/admin/screening/{HUGE}/").status_code == 404
    assert client.get(f"/nominations/{HUGE}").status_code == 404


# ---- JSON ---------------------------------------------------------------------------------------


def deep(levels: int) -> str:
    return '{"scores": ' + "[" * levels + "]" * levels + "}"


def test_deeply_nested_json_to_a_review_is_refused_before_parsing(app, client):
    world = arrange(app, api_world)

    response = client.put(f"/api/v1/assignments/{world.juror_assignment_id}/review",
                          data=deep(1000), content_type="application/json",
                          headers=world.headers("juror"))

    assert response.status_code == 400
    body = problem(response)
    assert body["detail"] == ("The JSON body is nested too deeply: at most 32 levels of arrays "
                              "and objects.")


def test_deeply_nested_json_to_a_new_nomination_is_refused(app, client):
    world = arrange(app, api_world)

    response = client.post("/api/v1/nominations", data=deep(1000),
                           content_type="application/json", headers=world.headers("applicant"))

    assert response.status_code == 400
    assert problem(response)["type"] == "/api/v1/problems/bad-request"


def test_json_body_above_the_size_limit_is_refused(app, client):
    world = arrange(app, api_world)
    body = json.dumps({"call": world.open_slug, "padding": "x" * (1024 * 1024 + 1)})

    response = client.post("/api/v1/nominations", data=body, content_type="application/json",
                           headers=world.headers("applicant"))

    assert response.status_code == 413
    assert problem(response)["type"] == "/api/v1/problems/payload-too-large"


def test_control_character_in_json_text_is_refused_naming_the_field(app, client):
    world = arrange(app, api_world)

    response = client.put(f"/api/v1/assignments/{world.juror_assignment_id}/review",
                          json={"scores": {"impact": 7}, "comment": "ok\x1b[31m"},
                          headers=world.headers("juror"))

    assert response.status_code == 422
    assert problem(response)["errors"] == [{
        "field": "comment", "message": "The text contains a control character that is not "
                                       "allowed."}]


# ---- numbers in the query string --------------------------------------------------------------


def test_absurd_page_numbers_on_admin_lists_are_not_a_server_error(app, client):
    world = arrange(app, api_world)
    login(client, "admin@example.com")
    call_id = read(app, lambda s: s.scalar(text("SELECT id FROM calls WHERE slug = :s"),
                                           {"s": world.open_slug}))

    assert client.get(f"/admin/screening/{call_id}/?page={HUGE}").status_code == 200
    assert client.get(f"/admin/screening/{call_id}/?page=²").status_code == 200
    assert client.get(f"/admin/jury/rounds/{world.round_id}/entries?page={HUGE}"
                      ).status_code == 200
    assert client.get(f"/admin/news/?page={HUGE}").status_code == 404
    assert client.get("/admin/news/?page=²").status_code == 404
    assert client.get("/news/?page=²").status_code == 404
    assert client.get(f"/admin/news/new?call={HUGE}").status_code == 200
    api = client.get(f"/api/v1/nominations?page={HUGE}", headers=world.headers("admin"))
    assert api.status_code == 400
    assert problem(api)["errors"][0]["field"] == "page"


# ---- restore ------------------------------------------------------------------------------------


def test_restore_refuses_text_postgresql_cannot_store_naming_where_it_is(
        app, sqlite_app, tmp_path):  # noqa: F811
    def build(session):
        session.add(User(email="nul@example.com", password_hash="x", full_name="Nul\x00Name",
                         preferred_language="en"))
        session.flush()
        return session.scalar(select(User.id).where(User.email == "nul@example.com"))

    user_id = arrange(sqlite_app, build)
    archive = tmp_path / "with-nul.tar.gz"
    made = sqlite_app.test_cli_runner().invoke(args=["awards", "backup", "-o", str(archive)])
    assert made.exit_code == 0, made.output

    result = restore(app, archive)

    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert (f"table users, column full_name, row id={user_id}: the text holds a NUL "
            "character") in result.output
    assert read(app, lambda s: s.scalar(select(User.id))) is None


def test_restore_with_clean_text_removes_the_characters_and_says_where(
        app, sqlite_app, tmp_path):  # noqa: F811
    arrange(sqlite_app, lambda s: s.add(User(
        email="nul@example.com", password_hash="x", full_name="Nul\x00Name",
        preferred_language="en")))
    archive = tmp_path / "with-nul.tar.gz"
    sqlite_app.test_cli_runner().invoke(args=["awards", "backup", "-o", str(archive)])

    result = restore(app, archive, "--clean-text")

    assert result.exit_code == 0, result.output
    assert "cleaned: table users, column full_name, row id=1" in result.output
    assert read(app, lambda s: s.scalar(select(User.full_name))) == "NulName"


# ---- CSV import ---------------------------------------------------------------------------------


def test_score_import_with_a_nul_character_is_refused_naming_the_line(app):
    from awards.ranking.importer import parse

    content = (b"entry,juror,criterion,score\nVOY-1,juror@example.com,impact,7\n"
               b"VOY-2\x00,juror@example.com,impact,5\n")
    with app.test_request_context(headers={"Accept-Language": "en"}):
        lines, errors, _count = parse(content)

    assert lines == []
    assert [(e.line, e.message) for e in errors] == [(3, (
        "The line holds an invisible control character (such as NUL) that cannot be stored. "
        "Remove it and try again."))]


@pytest.mark.parametrize("value", ["²", "99999999999999999999", "-1x"])
def test_a_strange_attachment_id_to_remove_is_ignored_and_the_draft_saved(
        app, client, long_call, make_user, value):
    login(client, make_user("aigerim@example.com").email)
    nomination_id = start_nomination(client)

    response = save_draft(client, nomination_id, {"q_title": "Clean rivers",
                                                  "remove_attachment": value})

    assert response.status_code == 303
    assert read(app, lambda s: {a.field.key: a.value
                                for a in s.get(Nomination, nomination_id).answers}) \
        == {"title": "Clean rivers"}
