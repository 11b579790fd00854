"""Authors as people on the application form: entered as rows (add, remove, reorder without
JavaScript), checked, kept as rows at submission, each author with an e-mail asked for consent
by a one-off link; an author is in conflict with the entry like its nominee."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from awards.mail import OutgoingMail
from awards.nominations.authors import NominationAuthor
from awards.nominations.models import Nomination
from awards.policy.conflicts import Person, conflict_kinds, conflict_pairs, conflicted_ids
from tests.author_factories import authors_question
from tests.conftest import post_form
from tests.factories import arrange, english, make_call, read, save_draft, start_nomination

AUTHORS = [("Әлия Нұрланқызы", "Aliya Nurlankyzy", "author", "aliya.author@example.org"),
           ("", "Galym Seitov", "director", "Galym.Director@Example.org"),
           ("Дәурен Өмірбек", "", "composer", "")]


def _fields(categories):
    from awards.calls.models import FormField
    from awards.enums import FieldType

    return [FormField(key="work_title", type=FieldType.SHORT_TEXT, position=1,
                      label_en="Title of the work", required=True)]


@pytest.fixture
def call_id(app):
    def build(s):
        call = make_call(s, fields=_fields)
        authors_question(s, call, max_authors=3)
        return call.id

    return arrange(app, build)


@pytest.fixture
def applicant(make_user, login_as):
    user = make_user("applicant@example.com", name="Applicant Person")
    login_as(user)
    return user


def rows_data(rows, *, count=None, **extra) -> dict:
    data = {"q_work_title": "Steppe Symphony", "q_authors-count": str(count or len(rows))}
    for i, (kk, en, role, email) in enumerate(rows):
        data.update({f"q_authors-{i}-name_kk": kk, f"q_authors-{i}-name_en": en,
                     f"q_authors-{i}-name_ru": "", f"q_authors-{i}-role": role,
                     f"q_authors-{i}-email": email})
    data.update(extra)
    return data


def stored(app, nomination_id) -> list:
    def q(s):
        n = s.get(Nomination, nomination_id)
        answer = next(a for a in n.answers if a.field.key == "authors")
        return [(r["name_kk"] or r["name_en"], r["role"], r["email"]) for r in answer.value]

    return read(app, q)


def author_rows(app, nomination_id) -> list:
    return read(app, lambda s: [(a.position, a.name("en"), a.email, a.consent_state)
                                for a in s.scalars(select(NominationAuthor).where(
                                    NominationAuthor.nomination_id == nomination_id)
                                    .order_by(NominationAuthor.position))])


def error_of(response) -> str:
    match = re.search(r'<p class="error" id="q_authors-error">(.*?)</p>',
                      response.get_data(as_text=True), re.S)
    return html.unescape(match.group(1)) if match else ""


def test_form_builder_offers_the_authors_field_type(app, client, call_id, make_user, login_as):
    login_as(make_user("admin@example.com", admin=True))
    page = english(client).get(f"/admin/calls/{call_id}/form/new/authors")

    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Authors (an author or an author collective)" in text
    assert 'name="max_authors"' in text


def test_draft_keeps_authors_in_order_and_the_page_shows_them(app, client, call_id, applicant):
    client = english(client)
    nomination_id = start_nomination(client, kind="self")

    response = save_draft(client, nomination_id, rows_data(AUTHORS))

    assert response.status_code == 303
    assert stored(app, nomination_id) == [
        ("Әлия Нұрланқызы", "author", "aliya.author@example.org"),
        ("Galym Seitov", "director", "galym.director@example.org"),
        ("Дәурен Өмірбек", "composer", "")]
    page = client.get(f"/nominations/{nomination_id}/edit").get_data(as_text=True)
    assert 'value="Galym Seitov"' in page
    # Three authors fill the question (at most 3): no blank row, no "add another author".
    assert 'name="q_authors-count" value="3"' in page
    assert "Add another author" not in page


def test_move_up_and_remove_work_without_javascript(app, client, call_id, applicant):
    client = english(client)
    nomination_id = start_nomination(client, kind="self")
    save_draft(client, nomination_id, rows_data(AUTHORS))

    moved = save_draft(client, nomination_id, rows_data(AUTHORS, **{"q_authors-up": "2"}))
    assert moved.status_code == 303
    assert moved.headers["Location"].endswith(f"/nominations/{nomination_id}/edit")
    assert [r[0] for r in stored(app, nomination_id)] == [
        "Әлия Нұрланқызы", "Дәурен Өмірбек", "Galym Seitov"]

    save_draft(client, nomination_id, rows_data(AUTHORS, **{"q_authors-remove": "0"}))
    assert [r[0] for r in stored(app, nomination_id)] == ["Galym Seitov", "Дәурен Өмірбек"]


def test_add_another_author_shows_one_more_blank_row(app, client, call_id, applicant):
    client = english(client)
    nomination_id = start_nomination(client, kind="self")
    data = rows_data([AUTHORS[0], ("", "", "author", "")], **{"q_authors-add": "1"})

    response = save_draft(client, nomination_id, data)

    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'name="q_authors-count" value="3"' in page  # one author and two blank rows
    assert 'id="q_authors-2-name_en" name="q_authors-2-name_en"' in page


@pytest.mark.parametrize(("rows", "message"), [
    ([("", "Galym", "director", "not-an-address")],
     "Author 1: enter a valid e-mail address."),
    ([("", "", "author", "someone@example.org")],
     "Author 1: enter the name in at least one language."),
    ([("", "A", "author", "same@example.org"), ("", "B", "author", "Same@example.org")],
     "Author 2: this e-mail is already given for another author."),
    ([("", "A", "dancer", "")], "Author 1: choose one of the roles."),
    ([("", n, "author", "") for n in "ABCD"], "Name at most 3 authors."),
])
def test_wrong_authors_are_refused_with_a_message_and_kept(app, client, call_id, applicant,
                                                          rows, message):
    client = english(client)
    nomination_id = start_nomination(client, kind="self")

    response = save_draft(client, nomination_id, rows_data(rows))

    assert response.status_code == 400
    assert error_of(response) == message
    assert f'value="{rows[-1][1]}"' in response.get_data(as_text=True)


def test_submission_asks_each_author_with_an_e_mail_for_consent(app, client, call_id,
                                                                applicant):
    client = english(client)
    nomination_id = start_nomination(client, kind="self")
    data = rows_data(AUTHORS, personal_data_consent="y")

    response = post_form(client, f"/nominations/{nomination_id}/submit", data, csrf_url="/")

    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    assert author_rows(app, nomination_id) == [
        (0, "Aliya Nurlankyzy", "aliya.author@example.org", "pending"),
        (1, "Galym Seitov", "galym.director@example.org", "pending"),
        (2, "Дәурен Өмірбек", "", "none")]
    mails = read(app, lambda s: [(m.to_address, m.body_text) for m in s.scalars(
        select(OutgoingMail).where(OutgoingMail.kind == "author_consent_request")
        .order_by(OutgoingMail.id))])
    assert [to for to, _body in mails] == ["aliya.author@example.org",
                                          "galym.director@example.org"]

    link = re.search(r"https?://\S+/nominations/authors/consent/\S+", mails[1][1]).group(0)
    path = "/" + link.split("/", 3)[3]
    author_client = english(app.test_client())
    page = author_client.get(path)
    assert page.status_code == 200
    assert "Galym Seitov" in page.get_data(as_text=True)
    assert "Steppe Symphony" in page.get_data(as_text=True)
    answered = post_form(author_client, path, {"decision": "accept"}, csrf_url=path)
    assert answered.status_code == 303
    assert [row[3] for row in author_rows(app, nomination_id)] == ["pending", "given", "none"]

    shown = client.get(f"/nominations/{nomination_id}").get_data(as_text=True)
    assert "Galym Seitov (Director)" in shown
    assert "consent given" in shown


def test_an_author_is_in_conflict_by_e_mail_and_by_name(app, call_id, make_user):
    def build(s):
        from awards.calls.models import Call
        from tests.author_factories import COLLECTIVE, give_authors
        from tests.factories import make_nomination

        call = s.get(Call, call_id)
        owner = make_user("owner@example.com")
        entry = make_nomination(s, call=call, applicant_id=owner.id)
        give_authors(s, entry, next(f for f in call.fields if f.key == "authors"), COLLECTIVE)
        return entry.id

    entry_id = arrange(app, build)
    by_mail = Person(id=901, email="galym.director@example.org")
    by_name = Person(id=902, name="даурен омирбек")
    stranger = Person(id=903, email="someone@example.org", name="someone else")

    def check(s):
        entry = s.get(Nomination, entry_id)
        return ({p.id: conflicted_ids(s, p, call_id) for p in (by_mail, by_name, stranger)},
                conflict_pairs(s, [by_mail, by_name, stranger], call_id),
                [conflict_kinds(s, p, entry) for p in (by_mail, by_name, stranger)])

    ids, pairs, kinds = read(app, check)
    assert ids == {901: frozenset({entry_id}), 902: frozenset({entry_id}), 903: frozenset()}
    assert pairs == {(901, entry_id), (902, entry_id)}
    assert kinds == [["author"], ["author_name"], []]


@pytest.mark.parametrize(("status", "left"), [
    ("eligible", [("Aliya Nurlankyzy", ""), ("Galym Seitov", ""), ("Dauren Omirbek", "")]),
    ("ineligible", []),
])
def test_anonymising_an_entry_drops_authors_e_mails_and_keeps_names_only_if_eligible(
        app, call_id, make_user, status, left):
    from awards.db import utcnow
    from awards.enums import NominationStatus
    from awards.privacy.services import anonymise_nomination
    from tests.author_factories import give_authors
    from tests.factories import make_nomination

    def build(s):
        from awards.calls.models import Call

        call = s.get(Call, call_id)
        owner = make_user(f"owner-{status}@example.com")
        entry = make_nomination(s, call=call, applicant_id=owner.id,
                                status=NominationStatus(status))
        give_authors(s, entry, next(f for f in call.fields if f.key == "authors"))
        anonymise_nomination(session=s, nomination=entry, user=s.merge(owner), now=utcnow())
        return entry.id

    entry_id = arrange(app, build)

    assert [(name, email) for _p, name, email, _s in author_rows(app, entry_id)] == left
