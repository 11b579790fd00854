"""DEL (U+007F) and the C1 controls (U+0080 to U+009F) typed or pasted into a form are refused
like the other control characters: the field says why and shows the text without them, the
stored answer stays as it was, the other answers are saved; tab and newlines stay allowed in
multi-line answers."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from awards.auth.models import User
from awards.boundary import MSG_CONTROL
from awards.nominations.models import Nomination
from tests.conftest import login, post_form
from tests.factories import arrange, english, make_call, read, save_draft, start_nomination
from tests.security.test_input_boundary import field_errors, input_value, text_of

CONTROL = str(MSG_CONTROL)


@pytest.fixture
def client(app):
    return english(app.test_client())


@pytest.fixture
def open_call(app):
    return arrange(app, lambda session: make_call(session).id)


def answers_of(app, nomination_id: int) -> dict[str, str]:
    return read(app, lambda s: {a.field.key: a.value
                                for a in s.get(Nomination, nomination_id).answers})


def test_del_and_c1_controls_in_a_draft_are_refused_and_the_stored_answers_stay(
        app, client, open_call, make_user):
    login(client, make_user("aigerim@example.com").email)
    nomination_id = start_nomination(client)
    kept = save_draft(client, nomination_id, {
        "q_title": "Clean rivers", "q_activity": "We cleaned 12 rivers.\n\tWith 300 people."})
    assert kept.status_code == 303
    name_before = read(app, lambda s: s.get(Nomination, nomination_id).nominee_name)

    refused = save_draft(client, nomination_id, {
        "nominee_name": "Aigerim\x9b Sadykova",
        "q_title": "Clean\x85rivers",                     # NEL, from a pasted old document
        "q_activity": "We cleaned\x7f 13 rivers.\n\tWith 400 people.",
        "q_years": "6"})

    assert refused.status_code == 400
    assert field_errors(refused) == {"nominee_name": CONTROL, "q_title": CONTROL,
                                     "q_activity": CONTROL}
    assert input_value(refused, "nominee_name") == "Aigerim Sadykova"
    assert input_value(refused, "q_title") == "Cleanrivers"
    assert "We cleaned 13 rivers." in html.unescape(text_of(refused))
    answers = answers_of(app, nomination_id)
    assert answers["title"] == "Clean rivers"
    assert answers["activity"] == "We cleaned 12 rivers.\n\tWith 300 people."
    assert str(answers["years"]) == "6"  # the clean answer is saved
    assert read(app, lambda s: s.get(Nomination, nomination_id).nominee_name) == name_before


def test_a_c1_control_in_the_profile_name_is_refused_and_nothing_changes(
        app, client, make_user):
    login(client, make_user(name="Dana Admin").email)

    response = post_form(client, "/account/profile", {
        "full_name": "Dana\x80 Admin", "organisation": "", "phone": "",
        "preferred_language": "en"})

    assert response.status_code == 400
    assert field_errors(response) == {"full_name": CONTROL}
    assert input_value(response, "full_name") == "Dana Admin"
    assert read(app, lambda s: s.scalar(select(User.full_name))) == "Dana Admin"


def test_del_in_a_query_parameter_is_a_bad_request_naming_it(app, client, make_user):
    login(client, make_user("aigerim@example.com").email)

    response = client.get("/nominations/?q=a%7Fb")

    assert response.status_code == 400
    assert "The address contains a character that is not allowed in “q”." in html.unescape(
        text_of(response))
