"""X12 820 detail a payer writes about a short pay: the adjustment an RMR states itself
(RMR07 reason code, RMR08 amount), and an invoice date that cannot be read.

RMR07 and RMR08 are defined from version 003040 on (the pair is required together): the
code of the reason a document was paid short or over, and the amount of that adjustment,
which the RMR04 amount paid is already net of.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from connectors.bankfiles import BankFileFormat, RefKind, parse_bank_bytes
from connectors.bankfiles.records import ParseResult
from tests.connectors.bankfiles.test_bankfiles_edi820_payers import _interchange
from tests.connectors.bankfiles.test_bankfiles_nacha_probe import (
    _addenda,
    _ctx_entry,
    _file,
    _header,
)
from tests.connectors.bankfiles.test_bankfiles_nacha_probe import _parse as _parse_ach

D = Decimal

SHORT_PAY = [
    "BPR*C*940.00*C*ACH*CTX*01*091000019*DA*1234567*1234567890**01*021000021*DA*987654321*20261120",
    "TRN*1*0012399001*1234567890",
    "N1*PR*BIGBOX STORES INC*91*VND-00731",
    "ENT*1",
    "RMR*IV*INV-60011*PI*450.00*500.00**04*-50.00",
    "RMR*IV*INV-60012*PI*490.00*500.00*10.00",
]


def _parse(text: str) -> ParseResult:
    result = parse_bank_bytes(text.encode(), "payer.edi")
    assert result.format is BankFileFormat.EDI_820
    return result


def test_an_rmr_stating_its_own_adjustment_keeps_the_reason_and_amount() -> None:
    """INV-60011 paid 450.00 of 500.00: 50.00 deducted for damaged goods (04) in the RMR."""
    result = _parse(_interchange([[SHORT_PAY]]))
    assert result.errors == [] and result.warnings == []
    (record,) = result.records
    short, discounted = record.structured_refs
    assert (short.kind, short.ref, short.amount_paid, short.invoice_amount) == (
        RefKind.INVOICE,
        "INV-60011",
        D("450.00"),
        D("500.00"),
    )
    assert (short.adjustment, short.adjustment_reason) == (D("-50.00"), "04")
    assert (discounted.discount, discounted.adjustment, discounted.adjustment_reason) == (
        D("10.00"),
        None,
        None,
    )


def test_an_rmr_adjustment_and_an_adx_in_its_loop_add_up() -> None:
    body = [*SHORT_PAY[:4], "RMR*IV*INV-60011*PI*440.00*500.00**04*-50.00", "ADX*-10.00*CS"]
    body[0] = body[0].replace("940.00", "440.00")
    result = _parse(_interchange([[body]]))
    assert result.errors == [] and result.warnings == []
    (ref,) = result.records[0].structured_refs
    assert (ref.amount_paid, ref.adjustment, ref.adjustment_reason) == (
        D("440.00"),
        D("-60.00"),
        "04,CS",
    )


def test_an_rmr08_that_is_no_amount_is_an_error_naming_it() -> None:
    body = [*SHORT_PAY[:4], "RMR*IV*INV-60011*PI*940.00*1000.00**04*SIXTY"]
    result = _parse(_interchange([[body]]))
    assert result.records == []
    assert [(e.location, e.reason) for e in result.errors] == [
        ("line 8, segment 8 (RMR), RMR08", "not an amount: 'SIXTY'")
    ]


def test_a_ctx_entry_whose_820_states_rmr_adjustments_keeps_them() -> None:
    trace = "091000010000077"
    detail = (
        "ST*820*0001\\BPR*C*940.00*C*ACH*CTX*01*091000019*DA*1234567*1234567890\\"
        "TRN*1*0012399001*1234567890\\N1*PR*BIGBOX STORES INC\\ENT*1\\"
        "RMR*IV*INV-60011*PI*450.00*500.00**04*-50.00\\"
        "RMR*IV*INV-60012*PI*490.00*500.00*10.00\\SE*8*0001\\"
    )
    records = _addenda(detail, trace)
    lines = _file(
        [
            (
                _header("BIGBOX STORES", "1234567890", "CTX", "PAYMENT", 1),
                [_ctx_entry("22", 94000, "VND-00731", trace, len(records)), *records],
            )
        ]
    )
    result = _parse_ach(lines)
    assert result.errors == [] and result.warnings == []
    (record,) = result.records
    assert record.amount == D("940.00")
    assert [(r.ref, r.adjustment, r.adjustment_reason) for r in record.structured_refs] == [
        ("INV-60011", D("-50.00"), "04"),
        ("INV-60012", None, None),
    ]


def test_an_invoice_date_that_cannot_be_read_leaves_out_that_date_only() -> None:
    """One invoice dated 31 February: the payment and every invoice it pays are kept."""
    body = [
        *SHORT_PAY[:4],
        "RMR*IV*INV-60011*PI*450.00*500.00",
        "DTM*003*20260231",
        "RMR*IV*INV-60012*PI*490.00*500.00*10.00",
        "DTM*003*20261010",
    ]
    result = _parse(_interchange([[body]]))
    assert result.errors == []
    (record,) = result.records
    assert (record.amount, record.currency, record.value_date) == (
        D("940.00"),
        "USD",
        date(2026, 11, 20),
    )
    assert [(r.ref, r.amount_paid, r.document_date) for r in record.structured_refs] == [
        ("INV-60011", D("450.00"), None),
        ("INV-60012", D("490.00"), date(2026, 10, 10)),
    ]
    (warning,) = result.warnings
    assert warning.location == "line 9, segment 9 (DTM), DTM02"
    assert warning.reason == (
        "not a date: '20260231': this date is left out, the rest of the payer's remittance "
        "detail is kept; the payment of 940.00 USD is kept"
    )


def test_a_bad_date_in_a_set_rejected_for_another_reason_adds_no_warning() -> None:
    body = [*SHORT_PAY[:4], "RMR*IV*INV-60011*PI*4S0.00", "DTM*003*20260231"]
    result = _parse(_interchange([[body]]))
    assert result.records == [] and result.warnings == []
    assert [e.location for e in result.errors] == ["line 8, segment 8 (RMR), RMR04"]


def test_a_payment_date_that_cannot_be_read_still_rejects_the_set() -> None:
    """BPR16 left out, the payment dated by a DTM*097 before any RMR: that date keys the
    payment, so one that cannot be read is no date to leave out (kept undated, the payer's
    corrected resend was stored as a second payment of the same cash)."""
    bpr = SHORT_PAY[0].rsplit("*", 1)[0] + "*"
    body = [bpr, *SHORT_PAY[1:3], "DTM*097*20261131", *SHORT_PAY[3:]]
    result = _parse(_interchange([[body]]))
    assert result.records == []
    (error,) = result.errors
    assert error.location.endswith("(DTM), DTM02")
    assert "not a date: '20261131'" in error.reason
