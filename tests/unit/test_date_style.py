"""One date and time style per language (awards/i18n.py), the zone in words, sizes with a
translated unit. The catalogs' own words are checked in kk and ru; the patterns come from Babel."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from flask import g
from flask_babel import force_locale

from awards import create_app
from awards.i18n import (
    format_date,
    format_datetime,
    format_dt,
    format_size,
    format_time,
    timezone_note,
    timezone_words,
    utc_offset,
)

# 05:00 UTC is 10:00 in Almaty (UTC+5): the page shows the zone's wall clock.
MOMENT = datetime(2026, 1, 5, 5, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("date-style")
    return create_app({"TESTING": True, "SECRET_KEY": "x", "INSTANCE_PATH": str(folder),
                       "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite'}"})


@pytest.mark.parametrize(("lang", "day", "moment"), [
    ("ru", "5 января 2026\u202fг.", "5 января 2026\u202fг., 10:00"),
    ("kk", "2026\u202fж. 5 қаңтар", "2026\u202fж. 5 қаңтар, 10:00"),
    ("en", "5 January 2026", "5 January 2026, 10:00"),
])
def test_one_style_per_language(app, lang, day, moment):
    with app.test_request_context(), force_locale(lang):
        assert format_date(MOMENT) == day
        assert format_date(date(2026, 1, 5)) == day
        assert format_time(MOMENT) == "10:00"
        assert format_datetime(MOMENT) == moment
        # The older patterns templates still pass keep only their meaning.
        for pattern in (None, "medium", "d MMMM y, HH:mm", "yyyy-MM-dd HH:mm",
                        "d MMMM yyyy, HH:mm"):
            assert format_dt(MOMENT, pattern) == moment
        assert format_dt(MOMENT, "date") == day
        assert format_dt(MOMENT, "time") == "10:00"
        assert format_dt(None) == ""


def test_no_seconds_and_the_date_of_the_zone(app):
    last_second = datetime(2026, 1, 5, 18, 59, 59, tzinfo=UTC)  # 23:59:59 in Almaty
    with app.test_request_context(), force_locale("en"):
        assert format_datetime(last_second) == "5 January 2026, 23:59"
        # 20:00 UTC on the 5th is already the 6th in Almaty.
        assert format_date(datetime(2026, 1, 5, 20, 0, tzinfo=UTC)) == "6 January 2026"
        # A call in another zone: its own wall clock.
        assert format_time(MOMENT, tz="Europe/London") == "05:00"
        # A naive value from the database is UTC.
        assert format_time(MOMENT.replace(tzinfo=None)) == "10:00"


def test_offsets_in_words():
    assert utc_offset(ZoneInfo("Asia/Almaty"), MOMENT) == "UTC+5"
    assert utc_offset(ZoneInfo("Asia/Kolkata"), MOMENT) == "UTC+5:30"
    assert utc_offset(ZoneInfo("America/Sao_Paulo"), MOMENT) == "UTC\u22123"
    assert utc_offset(ZoneInfo("UTC"), MOMENT) == "UTC"


@pytest.mark.parametrize(("lang", "words", "note"), [
    ("en", "Almaty, UTC+5", "Times are Almaty time (UTC+5)."),
    ("ru", "Алматы, UTC+5", "Время указано по часовому поясу: Алматы (UTC+5)."),
    ("kk", "Алматы, UTC+5", "Уақыт Алматы уақытымен көрсетілген (UTC+5)."),
])
def test_the_zone_is_said_in_words_once_per_page(app, lang, words, note):
    with app.test_request_context(), force_locale(lang):
        assert timezone_words("Asia/Almaty", MOMENT) == words
        assert timezone_note() == note  # no time shown yet: the site's zone
        format_datetime(MOMENT, tz="Asia/Almaty")
        format_datetime(MOMENT)
        assert g._awards_time_zones == ["Asia/Almaty"]
        assert timezone_note() == note
        assert "Asia/" not in timezone_note()


@pytest.mark.parametrize(("lang", "sizes"), [
    ("en", ["512 B", "1.5 KB", "10 MB", "2.3 GB"]),
    ("ru", ["512 Б", "1,5 КБ", "10 МБ", "2,3 ГБ"]),
    ("kk", ["512 Б", "1,5 КБ", "10 МБ", "2,3 ГБ"]),
])
def test_sizes_have_the_language_s_number_and_unit(app, lang, sizes):
    with app.test_request_context(), force_locale(lang):
        assert [format_size(n) for n in (512, 1536, 10 * 1024 * 1024,
                                         int(2.3 * 1024 ** 3))] == sizes


def test_a_size_outside_a_request_is_english(app):
    with app.app_context():  # a command, without a language
        assert format_size(1536) == "1.5 KB"
