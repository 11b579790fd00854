"""Every page writes dates and times one way per language (awards/i18n.py) and names the time
zone once, in words ("Times are Almaty time (UTC+5)."), never as a zone id: the calls list, a
call's page, the jury rounds of the administrators and an applicant's nomination."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from awards.auth.models import User
from awards.enums import CallStatus, NominationStatus, RoundStatus
from awards.nominations.models import StatusChange
from tests.conftest import login
from tests.factories import arrange, make_call, make_nomination
from tests.jury_factories import make_account, make_panel, make_round, make_rubric

ALMATY = ZoneInfo("Asia/Almaty")
OPENS = datetime(2026, 10, 1, 9, 0, tzinfo=ALMATY)
CLOSES = datetime(2030, 11, 30, 23, 59, 59, tzinfo=ALMATY)
ROUND_OPENS = datetime(2031, 1, 5, 10, 0, tzinfo=ALMATY)
ROUND_CLOSES = datetime(2031, 2, 20, 18, 30, tzinfo=ALMATY)
SUBMITTED = datetime(2026, 11, 20, 5, 0, tzinfo=UTC)  # 10:00 in Almaty

# What each language writes (Babel's patterns; U+202F keeps "г."/"ж." with the year).
STYLE = {
    "en": {"closes": "30 November 2030, 23:59", "opens": "1 October 2026, 09:00",
           "round_opens": "5 January 2031, 10:00", "round_closes": "20 February 2031, 18:30",
           "submitted": "20 November 2026, 10:00",
           "note": "Times are Almaty time (UTC+5)."},
    "ru": {"closes": "30 ноября 2030\u202fг., 23:59", "opens": "1 октября 2026\u202fг., 09:00",
           "round_opens": "5 января 2031\u202fг., 10:00",
           "round_closes": "20 февраля 2031\u202fг., 18:30",
           "submitted": "20 ноября 2026\u202fг., 10:00",
           "note": "Время указано по часовому поясу: Алматы (UTC+5)."},
    "kk": {"closes": "2030\u202fж. 30 қараша, 23:59", "opens": "2026\u202fж. 1 қазан, 09:00",
           "round_opens": "2031\u202fж. 5 қаңтар, 10:00",
           "round_closes": "2031\u202fж. 20 ақпан, 18:30",
           "submitted": "2026\u202fж. 20 қараша, 10:00",
           "note": "Уақыт Алматы уақытымен көрсетілген (UTC+5)."},
}

# The formats the site used to mix: "Jan 1, 2026, 12:00 AM", "2026-12-06 04:06", "23:59:59".
OTHER_FORMATS = [
    re.compile(r"\b(AM|PM)\b"),
    re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),
    re.compile(r"\b\d{1,2}:\d{2}:\d{2}\b"),
    re.compile(r"\b(Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{1,2}, \d{4}"),
    re.compile(r"\b\d{1,2} (янв|фев|мар|апр|июн|июл|авг|сен|окт|ноя|дек)\.", re.I),
]


def visible_text(page: str) -> str:
    """The page as read: no tags (a <time datetime="..."> attribute is for machines)."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


@pytest.fixture
def world(app):
    def build(session):
        admin = make_account(session, "admin@example.com", admin=True)
        applicant = make_account(session, "applicant@example.com")
        call = make_call(session, opens_at=OPENS, closes_at=CLOSES, status=CallStatus.OPEN)
        rubric = make_rubric(session, call)
        panel = make_panel(session, call, [(admin, True)])
        make_round(session, call, rubric=rubric, panel=panel, status=RoundStatus.DRAFT,
                   opens_at=ROUND_OPENS, closes_at=ROUND_CLOSES)
        nomination = make_nomination(session, call=call, applicant_id=applicant.id,
                                     status=NominationStatus.SUBMITTED,
                                     reference="VOY-2026-00001", created_at=SUBMITTED,
                                     submitted_at=SUBMITTED)
        nomination.status_changes = [StatusChange(
            from_status=NominationStatus.DRAFT, to_status=NominationStatus.SUBMITTED,
            created_at=SUBMITTED)]
        session.flush()
        return {"call": call.id, "slug": call.slug, "nomination": nomination.id}

    return arrange(app, build)


def pages(app, world, lang):
    """(name, page text, the dates it must show) for each page, read in ``lang``."""
    visitor = app.test_client()
    admin = app.test_client()
    applicant = app.test_client()
    login(admin, "admin@example.com")
    login(applicant, "applicant@example.com")
    for client in (visitor, admin, applicant):
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
    # A signed-in user's saved language comes before the browser's.
    arrange(app, lambda s: s.execute(update(User).values(preferred_language=lang)))
    want = STYLE[lang]
    for name, client, url, shown in [
        ("calls", visitor, "/calls/", ["closes"]),
        ("call", visitor, f"/calls/{world['slug']}", ["opens", "closes"]),
        ("rounds", admin, f"/admin/jury/calls/{world['call']}/rounds",
         ["round_opens", "round_closes"]),
        ("nomination", applicant, f"/nominations/{world['nomination']}", ["submitted"]),
    ]:
        response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        yield name, visible_text(response.get_data(as_text=True)), [want[k] for k in shown]


@pytest.mark.parametrize("lang", ["en", "ru", "kk"])
def test_pages_show_one_date_style_and_the_zone_once_in_words(app, world, lang):
    for name, text, dates in pages(app, world, lang):
        for date in dates:
            assert date in text, f"{lang} {name}: {date!r} not shown"
        assert text.count(STYLE[lang]["note"]) == 1, f"{lang} {name}: the zone is not said once"
        assert "Asia/Almaty" not in text, f"{lang} {name}: a raw zone id"
        for pattern in OTHER_FORMATS:
            found = pattern.search(text)
            assert found is None, f"{lang} {name}: another date format {found.group(0)!r}"


def test_a_call_s_dates_and_status_read_one_way_in_russian(app, world):
    """"Приём заявок открыт: 1 окт." read as a status with a date; the dates are labelled as
    the start and the deadline of nominations, the status says open, opens or closed."""
    visitor = app.test_client()
    visitor.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ru"
    call_page = visible_text(visitor.get(f"/calls/{world['slug']}").get_data(as_text=True))
    calls = visible_text(visitor.get("/calls/").get_data(as_text=True))
    home = visible_text(visitor.get("/").get_data(as_text=True))
    assert re.search(r"Начало приёма заявок\s+1 октября 2026\u202fг., 09:00", call_page)
    assert re.search(r"Срок подачи заявок\s+30 ноября 2030\u202fг., 23:59", call_page)
    for text in (calls, home):
        assert "Приём заявок открыт" in text  # the heading over the open calls
        assert re.search(r"Срок подачи заявок:\s+30 ноября 2030\u202fг., 23:59", text)
    for text in (call_page, calls, home):
        assert not re.search(r"Приём заявок открыт:?\s+\d", text)  # a status is no date label
        assert "Срок подачи:" not in text and "Приём открыт" not in text
