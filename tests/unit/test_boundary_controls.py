"""The input boundary refuses every control character but tab, line feed and carriage return:
the C0 controls, DEL (U+007F) and the C1 controls (U+0080 to U+009F); and reads the numbers
given to commands in the digits 0-9 only."""

from __future__ import annotations

import click
import pytest

from awards.boundary import MAX_ID, WHOLE_NUMBER, WholeNumber, has_control, strip_control

REFUSED = [chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20),
                            *range(0x7F, 0xA0))]
KEPT = ["\t", "\n", "\r", " ", "~", "\xa0", "é", "Қ", "ё", "\u200b", "😀"]


@pytest.mark.parametrize("char", REFUSED, ids=lambda c: f"U+{ord(c):04X}")
def test_every_control_character_is_refused_and_removed(char):
    text = f"Айгерим{char} Садыкова"
    assert has_control(text)
    assert strip_control(text) == "Айгерим Садыкова"


@pytest.mark.parametrize("char", KEPT, ids=lambda c: f"U+{ord(c):04X}")
def test_tab_newlines_and_ordinary_characters_are_kept(char):
    text = f"one{char}two"
    assert not has_control(text)
    assert strip_control(text) == text


def test_del_and_c1_controls_next_to_the_latin_1_letters_they_border():
    assert strip_control("caf\x7fé\x80\x85\x9f\xa0ü") == "café\xa0ü"


@pytest.mark.parametrize("raw, number", [("0", 0), ("42", 42), (" 7 ", 7),
                                         (str(MAX_ID), MAX_ID)])
def test_a_command_number_in_ascii_digits_is_read(raw, number):
    assert WHOLE_NUMBER.convert(raw, None, None) == number


@pytest.mark.parametrize("raw", ["²", "٣", "３", "-1", "1.5", "", "1e3",
                                 str(MAX_ID + 1), "9" * 30])
def test_a_command_number_in_other_digits_or_out_of_range_is_refused(raw):
    with pytest.raises(click.BadParameter, match="0-9"):
        WHOLE_NUMBER.convert(raw, None, None)


def test_a_larger_maximum_reads_bigint_ids():
    assert WholeNumber(2**63 - 1).convert(str(2**40), None, None) == 2**40
