"""Possible-match keys: the same email or phone written differently gives the same key."""

from __future__ import annotations

import pytest

from screening.core.identity import email_key, phone_key


@pytest.mark.parametrize(
    "written",
    ["alex.testperson@example.com", "  Alex.Testperson@Example.COM ",
     "ALEX.TESTPERSON@EXAMPLE.COM"],
)
def test_email_key_ignores_case_and_surrounding_spaces(written):
    assert email_key(written) == "alex.testperson@example.com"


def test_email_key_casefolds_rather_than_lowercases():
    assert email_key("STRASSE@example.com") == email_key("straße@example.com")


def test_an_empty_email_has_no_key():
    assert email_key("") is None
    assert email_key("   ") is None


@pytest.mark.parametrize(
    "written",
    ["+1 (555) 010-4477", "555 010 4477", "555.010.4477", "1-555-010-4477", "(555) 0104477",
     "15550104477"],
)
def test_phone_key_is_the_digits_without_the_north_american_country_code(written):
    assert phone_key(written) == "5550104477"


def test_other_numbers_keep_all_their_digits():
    assert phone_key("+44 20 7946 0000") == "442079460000"
    assert phone_key("25550104477") == "25550104477"  # 11 digits, not starting with 1
    assert phone_key("+1 555 010 44770") == "155501044770"  # 12 digits: left alone


@pytest.mark.parametrize(("written", "key"), [("010 4477", "0104477"), ("010 447", None),
                                              ("", None), ("no digits", None)])
def test_fewer_than_7_digits_have_no_key(written, key):
    assert phone_key(written) == key


def test_only_ascii_digits_count():
    assert phone_key("555 010 4477²") == "5550104477"  # "²" is not a digit of the number
    assert phone_key("٥٥٥٠١٠٤٤٧٧") is None  # Arabic-Indic digits are not read
