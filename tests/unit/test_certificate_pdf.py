"""The diploma PDF, read back with pypdf: what a printed certificate says in each language, and
reading a verification code the way people type it."""

from __future__ import annotations

import io

import pytest
from flask_babel import force_locale, gettext
from pypdf import PdfReader

from awards.results.certificates import (
    format_code,
    normalise_code,
    render_certificate_pdf,
)
from tests.certificate_factories import (
    AWARD,
    CALL_TITLE,
    CATEGORY,
    KAZAKH_LETTERS,
    PROGRAMME,
    RECIPIENT,
    SHOWN_CODE,
    unsaved_certificate,
)

URL = "https://awards.example.kz/certificates/K7Q2-M9XD-4HTR"
# Babel puts a narrow no-break space (U+202F) next to the abbreviations "ж." and "г."
DATES = {"kk": "2025\u202fж. 5 желтоқсан", "ru": "5 декабря 2025\u202fг.", "en": "5 December 2025"}


@pytest.fixture
def pdf_app(app):
    app.config["BASE_URL"] = "https://awards.example.kz/"
    with app.app_context():
        yield app


def _read(language: str, **kwargs) -> tuple[str, PdfReader]:
    data = render_certificate_pdf(certificate=unsaved_certificate(**kwargs), language=language)
    reader = PdfReader(io.BytesIO(data))
    return reader.pages[0].extract_text(), reader


def _translated(text: str, language: str) -> str:
    with force_locale(language):
        return gettext(text)


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_certificate_pdf_prints_every_fact_in_its_language(pdf_app, language):
    text, reader = _read(language)

    assert len(reader.pages) == 1
    page = reader.pages[0]
    assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(
        (841.89, 595.28), abs=0.01)  # A4 landscape, in points
    lines = text.splitlines()
    assert PROGRAMME[language].upper() in lines
    assert _translated("Diploma", language).upper() in lines
    assert RECIPIENT in lines
    assert AWARD[language] in lines
    assert CALL_TITLE[language] in lines
    assert CATEGORY[language] in text
    assert DATES[language] in text
    assert SHOWN_CODE in text
    assert URL in lines


def test_certificate_pdf_in_kazakh_keeps_every_kazakh_letter(pdf_app):
    text, _reader = _read("kk")

    assert [letter for letter in KAZAKH_LETTERS if letter not in text] == []
    assert "Әлеуметтік көмекші" in text
    assert "Жеңімпаз" in text
    assert "Гүлнұр Дәулетқызы Шаһағалиева" in text
    assert "ҰЛТТЫҚ ВОЛОНТЕРЛІК ЖЕЛІ" in text


def test_certificate_pdf_in_russian_keeps_russian_text(pdf_app):
    text, _reader = _read("ru")

    assert "Волонтёр года — 2025" in text
    assert "Социальный помощник" in text
    assert "Победитель" in text
    assert DATES["ru"] in text


def test_certificate_pdf_in_english_has_english_wording(pdf_app):
    text, _reader = _read("en")

    lines = text.splitlines()
    assert lines[:4] == ["NATIONAL VOLUNTEER NETWORK", "DIPLOMA", "is awarded to", RECIPIENT]
    assert 'in the category “Social Helper”' in lines
    assert "Check this certificate at" in lines


def test_certificate_pdf_date_is_the_calls_local_day(pdf_app):
    # Published at 20:00 UTC on 4 December, which is already 5 December in Almaty.
    text, _reader = _read("en")

    assert "5 December 2025" in text
    assert "December 4" not in text


def test_certificate_pdf_metadata_names_winner_and_programme(pdf_app):
    _text, reader = _read("ru")

    meta = reader.metadata
    assert meta.title == f"{_translated('Diploma', 'ru')}: {RECIPIENT}"
    assert meta.author == PROGRAMME["ru"]
    assert meta.subject == f"{AWARD['ru']} · {CATEGORY['ru']} · {CALL_TITLE['ru']}"


def test_certificate_pdf_without_category_name_leaves_that_line_out(pdf_app):
    text, _reader = _read("en", category=False)

    assert "in the category" not in text
    assert CALL_TITLE["en"] in text.splitlines()


def test_certificate_fonts_ship_with_the_package():
    from awards.results.certificates import FONT_DIR, FONTS

    assert sorted(p.name for p in FONT_DIR.iterdir()) == sorted([*FONTS.values(), "LICENSE"])


@pytest.mark.parametrize("typed", [
    "K7Q2-M9XD-4HTR", "K7Q2M9XD4HTR", "k7q2-m9xd-4htr", " k7q2 m9xd 4htr ",
    "K7Q2–M9XD–4HTR",  # en dashes, as word processors print them
    "К7Q2-М9ХD-4НТR",  # Cyrillic К, М, Х, Н, Т typed on a Russian keyboard layout
])
def test_normalise_code_forgives_how_people_type_it(typed):
    assert normalise_code(typed) == "K7Q2M9XD4HTR"


@pytest.mark.parametrize(("typed", "stored"), [
    ("OOOO-IIII-LLLL", "000011111111"),  # letters Crockford reads as the digits they resemble
    ("oo00-il1i-0000", "000011110000"),
])
def test_normalise_code_reads_lookalike_letters_as_digits(typed, stored):
    assert normalise_code(typed) == stored


@pytest.mark.parametrize("typed", [
    "", None, "K7Q2-M9XD-4HT", "K7Q2-M9XD-4HTRX", "K7Q2-M9XD-4HTU", "K7Q2/M9XD/4HTR",
    "'; DROP TABLE certificates; --",
])
def test_normalise_code_refuses_what_cannot_be_a_code(typed):
    assert normalise_code(typed) is None


def test_format_code_groups_by_four():
    assert format_code("K7Q2M9XD4HTR") == "K7Q2-M9XD-4HTR"


def test_issued_codes_read_back_as_themselves():
    from awards.results.services import new_certificate_code

    codes = {new_certificate_code() for _ in range(200)}

    assert len(codes) == 200
    assert all(normalise_code(format_code(code)) == code for code in codes)
