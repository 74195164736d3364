"""Submission references: one alphabet, one format, made and recognised in one place."""

from __future__ import annotations

import random

import pytest

from screening.core import references
from screening.core.references import ALPHABET, LENGTH, is_reference, new_reference, normalise


def test_the_alphabet_leaves_out_letters_and_digits_easily_misread():
    assert len(ALPHABET) == len(set(ALPHABET)) == 30
    assert not set("01OILU") & set(ALPHABET)
    assert LENGTH == 8


def test_a_new_reference_is_four_hyphen_four_from_the_alphabet():
    for _ in range(200):
        reference = new_reference()
        assert len(reference) == 9 and reference[4] == "-"
        assert set(reference.replace("-", "")) <= set(ALPHABET)
        assert is_reference(reference)


def test_a_seeded_chooser_gives_repeatable_references():
    first = [new_reference(random.Random(7).choice) for _ in range(3)]
    second = [new_reference(random.Random(7).choice) for _ in range(3)]
    assert first == second
    rng = random.Random(7)
    assert new_reference(rng.choice) != new_reference(rng.choice)


def test_with_hyphen_writes_the_shown_form():
    assert references.with_hyphen("ABCDEFGH") == "ABCD-EFGH"


def test_normalise_strips_and_upper_cases():
    assert normalise("  k7qm-4txd \n") == "K7QM-4TXD"
    assert is_reference(normalise(" k7qm-4txd "))


@pytest.mark.parametrize(
    "text",
    ["K7QM4TXD", "K7QM-4TX", "K7QM-4TXDD", "k7qm-4txd", " K7QM-4TXD", "K7QM-4TXO", "K7QM-4TX1",
     "K7QM-4TXU", "K7QM_4TXD", "", "K7QM-4TXD\n"],
)
def test_anything_else_is_not_a_reference(text):
    assert not is_reference(text)
