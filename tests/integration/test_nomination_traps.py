"""Traps an applicant met on the nomination form: reloading after an error, a file larger than
the site takes, a year with a fraction, one-file fields, the consent box of a call without a
consent text."""

from __future__ import annotations

import html
import io
import re

import pytest
from sqlalchemy import select

from awards.calls.models import Call
from awards.enums import FieldType, NominationStatus
from awards.nominations.models import Attachment, Nomination
from tests.api_factories import api_world
from tests.factories import (
    PDF,
    _field,
    arrange,
    default_fields,
    english,
    make_call,
    make_nomination,
    png_bytes,
    read,
    save_draft,
    start_nomination,
    submit,
    valid_form,
)
from tests.pages import field_errors, text_of

LIMIT = 64 * 1024  # the site's limit on a request's body in these tests


@pytest.fixture
def app_config(app_config):
    return {**app_config, "MAX_CONTENT_LENGTH": LIMIT}


@pytest.fixture
def client(app):
    return english(app.test_client())


def _with_year(categories):
    return [*default_fields(categories),
            _field(20, "year", FieldType.NUMBER, "Year of creation", "Год создания",
                   "Жасалған жылы", min_value=1900, max_value=2027)]


@pytest.fixture
def call_id(app):
    return arrange(app, lambda s: make_call(s, fields=_with_year).id)


@pytest.fixture
def applicant(make_user, login_as):
    user = make_user("aigerim@example.com", name="Aigerim Sadykova")
    login_as(user)
    return user


def input_tag(response, name: str) -> str:
    match = re.search(rf'<input [^>]*name="{name}"[^>]*>', text_of(response))
    assert match, f"no input {name}"
    return match.group(0)


def answers(app, nomination_id: int = 1) -> dict:
    return read(app, lambda db: {a.field.key: a.value for a in
                                 db.get(Nomination, nomination_id).answers
                                 if a.value is not None})


def attachment_names(app) -> list[tuple[str, str]]:
    return read(app, lambda db: [(a.field.key, a.original_name) for a in
                                 db.scalars(select(Attachment).order_by(Attachment.id))])


# ---- 1. reloading the form after an error ---------------------------------------------------


def test_reloading_after_a_refused_submission_opens_the_form_with_the_typed_answers(
        app, client, call_id, applicant):
    nomination_id = start_nomination(client)
    refused = submit(client, nomination_id, {"q_title": "Clean rivers", "q_years": "4"})
    assert refused.status_code == 400

    # A reload of the page the submission answered asks for the same address with GET.
    reloaded = client.get(f"/nominations/{nomination_id}/submit")

    assert reloaded.status_code == 303
    assert reloaded.headers["Location"] == f"/nominations/{nomination_id}/edit"
    page = client.get(reloaded.headers["Location"])
    assert page.status_code == 200
    assert 'value="Clean rivers"' in input_tag(page, "q_title")
    assert answers(app)["years"] == 4


def test_the_submit_address_of_someone_elses_nomination_stays_unknown(app, client, call_id,
                                                                      applicant, make_user):
    owner = make_user("other@example.com")
    nomination_id = arrange(app, lambda s: make_nomination(
        s, call=s.get(Call, call_id), applicant_id=owner.id).id)

    assert client.get(f"/nominations/{nomination_id}/submit").status_code == 404


# ---- 2. a request larger than the site takes ----------------------------------------------


def test_a_file_over_the_site_limit_answers_the_form_and_keeps_the_draft(app, client, call_id,
                                                                        applicant):
    nomination_id = start_nomination(client)
    save_draft(client, nomination_id, {"q_title": "Saved before", "q_years": "3"})

    response = save_draft(client, nomination_id, {
        "q_title": "Typed now", "q_documents": (io.BytesIO(b"%PDF" + b"0" * LIMIT), "big.pdf")})

    assert response.status_code == 413
    page = text_of(response)
    assert "64 KB" in html.unescape(page)
    assert "Nothing from this save was stored" in html.unescape(page)
    # The form again, with the draft as it was saved, not a dead end.
    assert 'value="Saved before"' in input_tag(response, "q_title")
    assert f'action="/nominations/{nomination_id}/edit"' in page
    assert answers(app) == {"title": "Saved before", "years": 3}
    assert attachment_names(app) == []


def test_a_save_over_the_limit_that_may_not_edit_shows_no_form(app, client, call_id, applicant,
                                                                make_user):
    big = {"q_title": "Changed", "q_documents": (io.BytesIO(b"%PDF" + b"0" * LIMIT), "big.pdf")}
    # Someone else's nomination stays unknown, whatever the size of the post.
    owner = make_user("other@example.com")
    theirs = arrange(app, lambda s: make_nomination(
        s, call=s.get(Call, call_id), applicant_id=owner.id,
        answers={"title": "Their secret"}).id)
    response = save_draft(client, theirs, dict(big, q_documents=(
        io.BytesIO(b"%PDF" + b"0" * LIMIT), "big.pdf")))
    assert response.status_code == 404
    assert "Their secret" not in html.unescape(text_of(response))

    # One's own, withdrawn: no longer editable, so the plain "too large" page, not the form.
    mine = arrange(app, lambda s: make_nomination(
        s, call=s.get(Call, call_id), applicant_id=applicant.id,
        status=NominationStatus.WITHDRAWN, answers={"title": "Withdrawn one"}).id)
    response = save_draft(client, mine, big)
    assert response.status_code == 413
    page = html.unescape(text_of(response))
    assert f'action="/nominations/{mine}/edit"' not in page
    assert "Nothing from this save was stored" not in page


def test_a_request_over_the_limit_elsewhere_offers_a_way_back(app, client):
    response = client.post("/account/login", data={"email": "x" * (LIMIT + 10)},
                           headers={"Referer": "http://localhost/account/login"})

    assert response.status_code == 413
    page = html.unescape(text_of(response))
    assert "64 KB" in page
    assert 'href="http://localhost/account/login"' in page


def test_the_api_answers_a_body_over_the_limit_with_a_problem(app, client):
    world = arrange(app, api_world)
    response = client.patch(f"/api/v1/nominations/{world.own_nomination_id}",
                            headers={**world.headers("applicant"),
                                     "Content-Type": "application/json"},
                            data=b'{"answers": {"title": "' + b"x" * LIMIT + b'"}}')

    assert response.status_code == 413
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.get_json()["status"] == 413


def test_file_inputs_tell_the_browser_their_limits(app, client, call_id, applicant):
    nomination_id = start_nomination(client)
    page = client.get(f"/nominations/{nomination_id}/edit")

    documents = html.unescape(input_tag(page, "q_documents"))
    assert 'data-max-bytes="2048"' in documents
    assert 'data-max-count="2"' in documents
    assert 'data-types="pdf"' in documents
    assert "is larger than 2 KB" in documents
    photo = html.unescape(input_tag(page, "q_photo"))
    assert 'data-max-bytes="1048576"' in photo
    assert "is larger than 1 MB" in photo


# ---- 3. a year is a whole number ------------------------------------------------------------


def test_a_year_with_a_fraction_is_refused(app, client, call_id, applicant):
    nomination_id = start_nomination(client)
    page = client.get(f"/nominations/{nomination_id}/edit")
    assert 'step="1"' in input_tag(page, "q_year")
    assert 'step="any"' in input_tag(page, "q_years")

    response = save_draft(client, nomination_id, {"q_year": "2020.5", "q_years": "2,5"})

    assert response.status_code == 400
    assert field_errors(response) == {"q_year": "Enter a whole number (a year), for example "
                                                "2020."}
    assert 'value="2020.5"' in input_tag(response, "q_year")
    assert answers(app) == {"years": 2.5}

    assert save_draft(client, nomination_id, {"q_year": "2020"}).status_code == 303
    assert answers(app)["year"] == 2020


# ---- 4. a one-file field ----------------------------------------------------------------------


def test_a_one_file_field_takes_one_file_and_a_new_one_replaces_the_old(app, client, call_id,
                                                                       applicant):
    nomination_id = start_nomination(client)
    page = client.get(f"/nominations/{nomination_id}/edit")
    assert "multiple" not in input_tag(page, "q_photo")
    assert "multiple" in input_tag(page, "q_documents")

    save_draft(client, nomination_id, {"q_photo": (io.BytesIO(png_bytes()), "old.png")})
    # A file that cannot be stored leaves the old one in place.
    refused = save_draft(client, nomination_id, {"q_photo": (io.BytesIO(PDF), "new.pdf")})
    assert refused.status_code == 400
    assert attachment_names(app) == [("photo", "old.png")]

    replaced = save_draft(client, nomination_id,
                          {"q_photo": (io.BytesIO(png_bytes((6, 6))), "new.png")})

    assert replaced.status_code == 303
    assert attachment_names(app) == [("photo", "new.png")]
    assert answers(app)["photo"] == read(app, lambda db: [db.scalar(select(Attachment.id))])


# ---- 5. the consent box without a consent text ------------------------------------------------


def test_without_a_consent_text_the_box_does_not_point_at_a_text_above(app, client, applicant):
    arrange(app, lambda s: make_call(s, consent_text_en="", consent_text_ru="",
                                     consent_text_kk="").id)
    nomination_id = start_nomination(client)
    page = text_of(client.get(f"/nominations/{nomination_id}/edit"))

    assert "consent above" not in page
    assert "I agree to the processing of the personal data given in this nomination" in page

    response = submit(client, nomination_id, valid_form())
    assert response.status_code == 303


def test_with_a_consent_text_the_box_points_at_it(app, client, call_id, applicant):
    nomination_id = start_nomination(client)
    page = text_of(client.get(f"/nominations/{nomination_id}/edit"))
    assert "I agree that my personal data is processed to run the prize." in page
    assert "I have read and accept the consent above" in page
