"""A wire's own fields (TIME:, UID:, ORG=/, BNF: /) name no invoice, but they take no more
than their own value: not the payer's number after a date or an amount blanked out and a
slash, not the same word written bare by the payer, not the numbers listed after the field."""

from __future__ import annotations

import pytest

from reconciler.references import read_references


def _written(text: str) -> list[str]:
    """The first key of each number read as written, in order."""
    return [ref.keys[0][0] for ref in read_references(text).refs if ref.how == "written"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PMT DATE 2024-01-15 / 4471 / 4472", ["4471", "4472"]),
        ("DATE 01/15/2024 / 4471", ["4471"]),
        ("AMT 1,200.00 / 4471", ["4471"]),
        ("TAX 12.00 / 4471", ["4471"]),
        # the same without the slash: the date or the amount was the label's value
        ("DATE 2024-01-15 4471", ["4471"]),
        ("TOTAL 1,200.00 4471", ["4471"]),
    ],
)
def test_a_label_whose_value_was_a_date_or_an_amount_does_not_take_the_next_number(
    text: str, expected: list[str]
) -> None:
    assert _written(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PAID ON TIME 4471 4472", ["4471", "4472"]),
        ("FED 4471", ["4471"]),
        ("INV 4471 / ORG 4472", ["4471", "4472"]),
        ("RATE 4471", ["4471"]),
    ],
)
def test_a_wire_field_word_written_bare_is_the_payers_word(text: str, expected: list[str]) -> None:
    assert _written(text) == expected


@pytest.mark.parametrize(
    ("text", "ignored"),
    [
        ("UID:123456 4471 4472", "UID:123456"),
        ("ORG:/000123456 4471 4472", "ORG:/000123456"),
    ],
)
def test_a_wire_field_holds_one_value(text: str, ignored: str) -> None:
    reading = read_references(text)
    assert _written(text) == ["4471", "4472"]
    assert ignored in [i["written"] for i in reading.ignored]


@pytest.mark.parametrize(
    ("text", "ignored"),
    [
        ("ORG=/000123456789 ACME CORP INV 4471", "ORG=/000123456789"),
        ("OBI: INV 4471 BNF: /000123456 ARSYNC INC", "BNF: /000123456"),
        ("TIME:1432 FED#06710 INV 4471", "FED#06710"),
        ("FX RATE 1.0823 INV 4471", "FX RATE 1.0823"),
    ],
)
def test_a_wire_field_as_the_wire_writes_it_is_still_no_invoice(text: str, ignored: str) -> None:
    reading = read_references(text)
    assert _written(text) == ["4471"]
    assert ignored in [i["written"] for i in reading.ignored]


def test_a_label_still_takes_the_numbers_listed_after_it() -> None:
    # PO 7781, 7782: both the payer's purchase orders, as before
    assert _written("PO 7781, 7782 INV 4471") == ["4471"]
