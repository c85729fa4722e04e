"""BAI2 credits (16 records) whose payer-written X12 text (16/88) is malformed.

JPMorgan and other banks pass an ACH originator's CCD+/CTX addenda on in the detail's text,
continued in 88 records. The 16 record's amount, type and references are the bank's: the
credit is kept, the unreadable detail left out with its text kept as free text, and a
warning names the 88 line and the element. An unreadable 16 amount is still an error.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from connectors.bankfiles import RefKind, parse_bank_bytes


def _file(*details: tuple[int, str, list[str]]) -> str:
    """One USD account: each detail is (cents, its 16 record after the amount, 88 texts);
    the 49, 98 and 99 add up, so a warning is about the detail alone."""
    body: list[str] = []
    total = 0
    for cents, rest, continuations in details:
        total += cents
        body.append(f"16,{rest[:3]},{cents},{rest[4:]}")
        body.extend(f"88,{text}" for text in continuations)
    records = [
        "01,021000021,ACMEWIDGETS,261121,0615,20261121B,80,,2/",
        "02,ACMEWIDGETS,021000021,1,261120,2400,USD,2/",
        "03,0012345678,USD,010,0,,/",
        *body,
        f"49,{total},{len(body) + 2}/",
        f"98,{total},1,{len(body) + 4}/",
        f"99,{total},1,{len(body) + 6}/",
    ]
    return "\n".join(records) + "\n"


def test_a_credit_whose_88_rmr04_is_no_amount_is_kept_and_named_by_its_88_line() -> None:
    text = _file(
        (
            125000,
            "142,0,ACH0000990010,GLX-55012,ORIG CO NAME:GLOBEX CORP ENTRY DESCR:PAYMENT",
            ["RMR*IV*INV-1100**1O0.00\\RMR*IV*INV-1101**1150.00\\"],
        ),
        (30000, "142,0,ACH0000990011,,ORIG CO NAME:SOYLENT CORP", ["RMR*IV*INV-1102**300.00\\"]),
    )
    result = parse_bank_bytes(text.encode(), "jpm.bai")
    assert result.errors == []
    kept, other = result.records
    assert (kept.location, kept.amount, kept.currency, kept.value_date) == (
        "line 4",
        Decimal("1250.00"),
        "USD",
        date(2026, 11, 20),
    )
    assert (kept.payer_name, kept.bank_reference, kept.end_to_end_id) == (
        "GLOBEX CORP",
        "ACH0000990010",
        "GLX-55012",
    )
    assert kept.structured_refs == ()
    assert kept.free_text == (
        "ENTRY DESCR:PAYMENT RMR*IV*INV-1100**1O0.00\\RMR*IV*INV-1101**1150.00\\"
    )
    (warning,) = result.warnings
    assert (warning.file, warning.location) == (
        "jpm.bai",
        "line 5, remittance text, segment 1 (RMR), RMR04",
    )
    assert warning.reason == (
        "not an amount: '1O0.00': the payer's remittance detail is left out (its text is "
        "kept as free text); the 1250.00 USD credit is kept"
    )
    assert [(r.ref, r.amount_paid) for r in other.structured_refs] == [
        ("INV-1102", Decimal("300.00"))
    ]


def test_a_bad_document_date_is_left_out_and_the_rest_of_the_detail_kept() -> None:
    text = _file(
        (
            125000,
            "142,0,ACH0000990020,,ORIG CO NAME:GLOBEX CORP",
            ["RMR*IV*INV-1100**1250.00\\DTM*003*20261332\\"],
        )
    )
    result = parse_bank_bytes(text.encode(), "dtm.bai")
    assert result.errors == []
    (kept,) = result.records
    assert [(r.kind, r.ref, r.amount_paid, r.document_date) for r in kept.structured_refs] == [
        (RefKind.INVOICE, "INV-1100", Decimal("1250.00"), None)
    ]
    (warning,) = result.warnings
    assert warning.location == "line 5, remittance text, segment 2 (DTM), DTM02"
    assert warning.reason == (
        "not a date: '20261332': this date is left out, the rest of the payer's remittance "
        "detail is kept; the 1250.00 USD credit is kept"
    )


def test_a_returned_item_with_bad_rmr_text_is_still_taken_back() -> None:
    # a reversal reads no remittance detail: nothing is left out, no warning
    text = _file(
        (
            48000,
            "557,0,ACH0000480002,HF-AP-20877,ORIG CO NAME:HARBOR FOODS INC",
            ["RMR*IV*INV-2087**48O.00\\"],
        )
    )
    result = parse_bank_bytes(text.encode(), "return.bai")
    assert result.errors == [] and result.warnings == []
    (returned,) = result.records
    assert (returned.amount, returned.reverses) == (Decimal("-480.00"), "HF-AP-20877")


def test_an_unreadable_16_amount_is_still_an_error() -> None:
    text = _file(
        (0, "142,0,ACH0000990030,,ORIG CO NAME:GLOBEX CORP", ["RMR*IV*INV-1100**1O0.00\\"])
    )
    text = text.replace("16,142,0,", "16,142,12A50,")
    result = parse_bank_bytes(text.encode(), "amount.bai")
    assert result.records == []
    (error,) = result.errors
    assert error.location == "line 4" and "12A50" in error.reason
