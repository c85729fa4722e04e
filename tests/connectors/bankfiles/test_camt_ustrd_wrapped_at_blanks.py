"""Untagged Ustrd lines a bank wrapped at blanks, a line ending at column 35 by chance: whole
numbers on the two lines stay apart (glued, they named nothing and the invoices were lost)."""

from typing import Any

import pytest

from reconciler.references import read_references
from tests.connectors.bankfiles.test_camt_realworld import _document, _entry, _one, _parse, _tx


def _record(lines: list[str], version: str = "02") -> Any:
    remittance = "".join(f"<Ustrd>{line}</Ustrd>" for line in lines)
    return _one(_parse(_document(_entry(_tx(remittance)), version=version)))


def _refs(text: str) -> set[str]:
    return {r.written for r in read_references(text).refs}


@pytest.mark.parametrize(
    ("first", "second", "expected_text", "expected_refs"),
    [
        # an invoice list wrapped at a blank, the first line ending at 35 by chance
        (
            "Invoice 100234 100235 100236 100237",
            "100238 100239",
            "Invoice 100234 100235 100236 100237 100238 100239",
            {"100237", "100238"},
        ),
        (
            "Fakt. 2026-0041 2026-0042 2026-0043",
            "2026-0044 2026-0045",
            "Fakt. 2026-0041 2026-0042 2026-0043 2026-0044 2026-0045",
            {"2026-0043", "2026-0044"},
        ),
        # a date at the end of the line, the invoice number on the next
        (
            "Zahlung zur Rechnung vom 15.03.2026",
            "4711 und 4712",
            "Zahlung zur Rechnung vom 15.03.2026 4711 und 4712",
            {"4711"},
        ),
        # an amount at the end of the line, a count on the next
        (
            "PAYMENT FOR INVOICE 1001 AMT 100.00",
            "2 INVOICES",
            "PAYMENT FOR INVOICE 1001 AMT 100.00 2 INVOICES",
            set(),
        ),
    ],
)
def test_word_wrapped_ustrd_lines_ending_at_35_keep_whole_numbers_apart(
    first: str, second: str, expected_text: str, expected_refs: set[str]
) -> None:
    assert len(first) == 35
    record = _record([first, second])
    assert record.free_text == expected_text
    assert _refs(record.free_text) >= expected_refs
