"""Who may vote (services.budgeting.electorate): the form of voting codes, their check character,
and the keyed hashes that are all the database keeps of codes and register entries."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from participation.services.budgeting import electorate
from participation.services.errors import ValidationFailed

RANDOM = st.text(alphabet=electorate.CODE_ALPHABET, min_size=15, max_size=15)
CODE_FORM = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$")


def test_a_code_is_four_groups_of_four_with_75_random_bits():
    codes = {electorate.generate_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(CODE_FORM.match(code) for code in codes)
    assert len(electorate.CODE_ALPHABET) ** electorate.CODE_RANDOM_LENGTH >= 2**60


def test_a_generated_code_carries_its_check_character():
    for _ in range(200):
        compact = electorate.generate_code().replace("-", "")
        assert electorate.check_character(compact[:-1]) == compact[-1]


@given(RANDOM, st.integers(0, 14), st.sampled_from(electorate.CODE_ALPHABET))
def test_any_one_wrong_character_is_caught_by_the_check_character(random, position, char):
    code = random + electorate.check_character(random)
    typo = code[:position] + char + code[position + 1 :]
    if typo != code:
        with pytest.raises(ValidationFailed) as refused:
            electorate.parse_code(typo)
        assert refused.value.errors["code"] == electorate.MISTYPED_CODE


@given(RANDOM, st.integers(0, 15), st.integers(0, 15))
def test_any_two_swapped_characters_are_caught_by_the_check_character(random, first, second):
    code = random + electorate.check_character(random)
    swapped = list(code)
    swapped[first], swapped[second] = code[second], code[first]
    if "".join(swapped) != code:
        with pytest.raises(ValidationFailed):
            electorate.parse_code("".join(swapped))


@pytest.mark.parametrize("random", ["00000000000Z000", "Z00000000000000", "0Z0Z0Z0Z0Z0Z0Z0"[:15]])
def test_swapping_0_and_z_is_caught_which_luhn_mod_32_misses(random):
    code = random + electorate.check_character(random)
    for position in range(15):
        swapped = code[:position] + code[position + 1] + code[position] + code[position + 2 :]
        if swapped != code:
            with pytest.raises(ValidationFailed):
                electorate.parse_code(swapped)


def test_every_single_wrong_character_of_a_code_is_caught():
    code = electorate.generate_code().replace("-", "")
    for position in range(16):
        for char in electorate.CODE_ALPHABET.replace(code[position], ""):
            with pytest.raises(ValidationFailed):
                electorate.parse_code(code[:position] + char + code[position + 1 :])


def test_a_code_is_read_in_any_case_with_or_without_dashes_and_look_alikes():
    code = electorate.generate_code()
    random = code.replace("-", "")[:-1]
    typed = code.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert electorate.parse_code(typed) == random
    assert electorate.parse_code(code.replace("-", "")) == random


@pytest.mark.parametrize(
    "typed", ["", "   ", "K7QF-M2XD", "K7QF-M2XD-9P4T-W3R8-XXXX", "K7QF-M2XD-9P4T-W3R!"]
)
def test_what_cannot_be_a_code_is_refused_as_such(typed):
    with pytest.raises(ValidationFailed) as refused:
        electorate.parse_code(typed)
    assert refused.value.errors["code"] == electorate.NOT_A_CODE


def test_hashes_are_keyed_by_the_voter_secret(app, monkeypatch):
    with app.app_context():
        first = electorate.code_hash("K7QFM2XD9P4TW3R")
        assert re.fullmatch(r"[0-9a-f]{64}", first)
        assert "K7QF" not in first
        # Put back afterwards: the app is shared by every test of the session.
        monkeypatch.setitem(app.config, "VOTER_SECRET", "another key")
        assert electorate.code_hash("K7QFM2XD9P4TW3R") != first


def test_a_register_entry_is_found_whatever_the_case_and_spacing_of_its_identifier(app):
    with app.app_context():
        born = date(1990, 5, 17)
        assert electorate.register_hash("ab-123 45", born) == electorate.register_hash(
            "AB12345", born
        )
        assert electorate.register_hash("AB12345", born) != electorate.register_hash(
            "AB12345", date(1990, 5, 18)
        )


@pytest.mark.parametrize(
    ("born", "day", "age"),
    [
        (date(2010, 6, 1), date(2026, 6, 1), 16),
        (date(2010, 6, 2), date(2026, 6, 1), 15),
        (date(2008, 2, 29), date(2026, 2, 28), 17),
        (date(2008, 2, 29), date(2026, 3, 1), 18),
    ],
)
def test_the_age_counts_whole_years_on_the_day(born, day, age):
    assert electorate.age_on(born, day) == age
