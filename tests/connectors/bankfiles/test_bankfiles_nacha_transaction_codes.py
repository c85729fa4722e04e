"""NACHA entries whose transaction code (positions 2-3) is none the Operating Rules define.

The code alone says whether an entry is a credit or a debit, live or a prenotification, and
to which kind of account: a damaged one (``2X``) or one the Rules leave undefined (``25``,
``35``) cannot be read as anything, so the entry is an error naming the field, never left
out in silence; the rest of the batch is kept.
"""

from __future__ import annotations

from decimal import Decimal

from connectors.bankfiles import parse_bank_bytes
from tests.support.nacha_records import OUR_ACCOUNT, OUR_ROUTING
from tests.support.nacha_records import record as _rec


def _entry(code: str, cents: int, ident: str, trace: str) -> str:
    return _rec(
        (0, "6" + code + OUR_ROUTING),
        (12, OUR_ACCOUNT),
        (29, f"{cents:010d}"),
        (39, ident),
        (54, "ACME WIDGETS"),
        (78, "0" + trace),
    )


def test_an_entry_under_an_undefined_transaction_code_is_an_error_naming_the_field() -> None:
    lines = [
        _rec((0, "101 " + OUR_ROUTING), (13, " 021000021"), (23, "2603161200A094101")),
        _rec(
            (0, "5220INITECH LLC"),
            (40, "1987654321CCD"),
            (53, "VENDOR PAY"),
            (69, "260317"),
            (78, "1021000020000001"),
        ),
        _entry("22", 125000, "INV-4001", "021000020000041"),
        _entry("2X", 50000, "INV-4002", "021000020000042"),
        _entry("25", 70000, "INV-4003", "021000020000043"),
        _entry("32", 9950, "INV-4004", "021000020000044"),
    ]
    result = parse_bank_bytes("\r\n".join(lines).encode(), "initech.ach")
    assert [(r.end_to_end_id, r.amount, r.currency) for r in result.records] == [
        ("INV-4001", Decimal("1250.00"), "USD"),
        ("INV-4004", Decimal("99.50"), "USD"),
    ]
    assert [(e.location, e.reason) for e in result.errors] == [
        (
            "line 4, transaction code (positions 2-3)",
            "'2X' is not a NACHA transaction code: the entry is not read",
        ),
        (
            "line 5, transaction code (positions 2-3)",
            "'25' is not a NACHA transaction code: the entry is not read",
        ),
    ]
    assert result.errors[0].raw.startswith("62X" + OUR_ROUTING)
