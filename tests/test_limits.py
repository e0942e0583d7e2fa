"""The bounds of values from outside: ids and pages the database can hold, text without control
characters (services.limits)."""

from __future__ import annotations

import pytest

from participation.services.limits import (
    MAX_ID,
    MAX_PAGE,
    has_control_characters,
    page_number,
    parse_id,
    without_control_characters,
)

# Ids


@pytest.mark.parametrize("text", ["1", "42", str(MAX_ID), " 7 ", "007"])
def test_a_whole_number_up_to_the_largest_integer_column_value_is_an_id(text):
    assert parse_id(text) == int(text)


@pytest.mark.parametrize(
    "text",
    [
        str(MAX_ID + 1),  # fits SQLite's 64 bits, not PostgreSQL's INTEGER
        str(2**63),
        "9" * 5000,  # more digits than Python turns into an int by default
        "0",
        "-1",
        "1.0",
        "1e3",
        "",
        None,
        "abc",
        "١٢",  # Arabic-Indic digits: int() reads them, no link of ours has them
        "1\x00",
    ],
)
def test_anything_else_names_no_id(text):
    assert parse_id(text) is None


# Pages


@pytest.mark.parametrize(
    ("text", "page"),
    [
        ("3", 3),
        ("1", 1),
        ("0", 1),
        ("-5", 1),
        ("", 1),
        (None, 1),
        ("two", 1),
        ("2.5", 1),
        ("99999999999999999999", MAX_PAGE),
        ("9" * 5000, MAX_PAGE),
        (str(MAX_PAGE + 1), MAX_PAGE),
    ],
)
def test_a_page_number_is_read_within_its_bounds(text, page):
    assert page_number(text) == page


# Control characters


@pytest.mark.parametrize(
    "text", ["a\x00b", "\x1b[31mred", "bell\x07", "del\x7f", "line\nbreak", "carriage\rreturn"]
)
def test_control_characters_and_line_breaks_are_found_in_a_line(text):
    assert has_control_characters(text)


def test_a_tab_is_allowed_in_a_line():
    """Browsers let people paste it into any field; the services collapse it where it matters."""
    assert not has_control_characters("Anna\tSchmidt")


@pytest.mark.parametrize("text", ["first line\nsecond", "windows\r\nlines", "a\ttab"])
def test_tabs_and_line_breaks_are_allowed_in_text_of_several_lines(text):
    assert not has_control_characters(text, multiline=True)


@pytest.mark.parametrize("text", ["a\x00b", "\x0bvertical tab", "\x1b[0m"])
def test_other_control_characters_are_refused_in_text_of_several_lines(text):
    assert has_control_characters(text, multiline=True)


def test_ordinary_text_has_no_control_characters():
    assert not has_control_characters("Grünflächen für Straßen – 100 € 🌳")


def test_control_characters_are_taken_out_to_show_the_text_again():
    assert without_control_characters("Ti\x00tle\x1b\n") == "Title"
    assert without_control_characters("Ti\ttle") == "Ti\ttle"
    assert without_control_characters("Line\x00 one\nline two", multiline=True) == (
        "Line one\nline two"
    )
