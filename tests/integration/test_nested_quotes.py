"""Quotes inside quotes in Russian and Kazakh: a call named «Премия «Зелёные города» 2027» put
in a message's quotes reads «Премия „Зелёные города“ 2027», and a name already in quotes gets
no second pair (awards.i18n.nest_quotes, on every template's messages and flashed messages)."""

from __future__ import annotations

import pytest
from markupsafe import Markup

from awards.i18n import nest_quotes
from awards.mail import OutgoingMail, queue_mail
from tests.factories import read


@pytest.mark.parametrize(("text", "shown"), [
    ("«Премия «Зелёные города» 2027»", "«Премия „Зелёные города“ 2027»"),
    ("на конкурс ««Волонтёр года»»", "на конкурс «Волонтёр года»"),
    ("«Международная премия «Волонтёр года — 2026»»",
     "«Международная премия „Волонтёр года — 2026“»"),
    ("««Международная премия «Волонтёр года — 2026»»» жюри",
     "«Международная премия „Волонтёр года — 2026“» жюри"),
    ("«один» и «другой»", "«один» и «другой»"),
    ("“English” quotes", "“English” quotes"),
])
def test_nested_quotes(text, shown):
    assert nest_quotes(text) == shown
    assert isinstance(nest_quotes(Markup(text)), Markup)


@pytest.mark.parametrize(("lang", "subject", "line"), [
    ("ru", "Приглашение в жюри конкурса «Премия „Зелёные города“ 2027»",
     "конкурса «Премия „Зелёные города“ 2027»"),
    ("kk", "«Премия „Зелёные города“ 2027»", "«Премия „Зелёные города“ 2027»"),
])
def test_an_e_mail_quotes_a_quoted_call_name_the_right_way(app, lang, subject, line):
    def send():
        from awards.db import get_db

        session = get_db()
        queue_mail(session, to="juror@example.com", template="jury_invitation", language=lang,
                   name="Juror", call_title="Премия «Зелёные города» 2027", panel_name="Main",
                   is_chair=False, url="http://localhost/x", inviter="")
        session.commit()

    with app.test_request_context():
        send()
    subject_text, body = read(app, lambda s: next((m.subject, m.body_text)
                                                  for m in s.query(OutgoingMail)))
    assert subject in subject_text
    assert line in body
    assert "««" not in body and "«Зелёные" not in body
