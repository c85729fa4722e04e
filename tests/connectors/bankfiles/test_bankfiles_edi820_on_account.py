"""X12 820 RMR segments that name no document: a payer paying on account or in advance.

The X12 RMR segment (Remittance Advice Accounts Receivable Open Item Reference) lets a payer
leave out RMR01/RMR02 when it pays no particular open item; RMR03 (element 482, payment
action code: PO payment on account, PA payment in advance, ...) then says how the cash is to
be applied, and RMR04 (the amount paid) is required. Such a line is no reason to reject the
payment: its amount counts toward BPR02 and is named in the text.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from connectors.bankfiles import BankFileFormat, RefKind, parse_bank_bytes
from connectors.bankfiles.records import ParseResult
from tests.support.nacha_records import OUR_ACCOUNT, OUR_ROUTING
from tests.support.nacha_records import record as _rec

D = Decimal


def _isa() -> str:
    isa = "*".join(
        [
            *("ISA", "00", " " * 10, "00", " " * 10, "ZZ", f"{'GLOBEXAP':<15}", "ZZ"),
            *(f"{'ACMEWIDGETS':<15}", "260316", "1200", "U", "00401", "000000731", "0", "P", ">"),
        ]
    )
    assert len(isa) == 105
    return isa + "~"


def _interchange(sets: list[list[str]]) -> bytes:
    lines = [_isa(), "GS*RA*GLOBEXAP*ACMEWIDGETS*20260316*1200*731*X*004010~"]
    for number, body in enumerate(sets, start=1):
        segments = [f"ST*820*{number:04d}", *body]
        lines += [f"{s}~" for s in segments] + [f"SE*{len(segments) + 1}*{number:04d}~"]
    lines += [f"GE*{len(sets)}*731~", "IEA*1*000000731~"]
    return "\n".join(lines).encode()


def _parse(sets: list[list[str]]) -> ParseResult:
    return parse_bank_bytes(_interchange(sets), "globex_820.edi")


def test_a_payment_on_account_beside_an_invoice_keeps_the_payment() -> None:
    """RMR***PO*500.00: 500.00 paid on account beside invoice INV-1001; the payment stands
    whole, the invoice keeps its amount, and the detail adds up to BPR02 (no warning)."""
    result = _parse(
        [
            [
                "BPR*C*1500.00*C*ACH*CCP***********20260316",
                "TRN*1*GX-7731*1234567890",
                "N1*PR*GLOBEX CORPORATION*91*GX-001",
                "ENT*1",
                "RMR*IV*INV-1001*PI*1000.00*1000.00",
                "RMR***PO*500.00",
            ]
        ]
    )
    assert result.errors == [] and result.warnings == []
    (record,) = result.records
    assert record.format is BankFileFormat.EDI_820
    assert (record.amount, record.currency) == (D("1500.00"), "USD")
    assert (record.payer_name, record.bank_reference) == ("GLOBEX CORPORATION", "GX-7731")
    assert record.value_date == date(2026, 3, 16)
    assert [(r.kind, r.ref, r.amount_paid) for r in record.structured_refs] == [
        (RefKind.INVOICE, "INV-1001", D("1000.00"))
    ]
    assert record.free_text == "payment on account 500.00"


def test_an_advance_payment_naming_no_document_and_an_adjustment_after_it() -> None:
    """RMR****2000.00 (no action code) and RMR***PA*: each is an amount paid naming no
    document; an ADX after such a line adjusts the payment, not the invoice before it."""
    result = _parse(
        [
            [
                "BPR*C*2000.00*C*ACH*CCP***********20260316",
                "TRN*1*GX-7732",
                "N1*PR*GLOBEX CORPORATION",
                "RMR****2000.00",
            ],
            [
                "BPR*C*730.00*C*ACH*CCP***********20260316",
                "TRN*1*GX-7733",
                "N1*PR*GLOBEX CORPORATION",
                "RMR*IV*INV-1002*PI*500.00*500.00",
                "RMR***PA*250.00",
                "ADX*-20.00*CS",
            ],
        ]
    )
    assert result.errors == [] and result.warnings == []
    first, second = result.records
    assert (first.amount, first.structured_refs, first.free_text) == (
        D("2000.00"),
        (),
        "paid naming no document 2000.00",
    )
    assert second.amount == D("730.00")
    invoice, adjustment = second.structured_refs
    assert (invoice.ref, invoice.amount_paid, invoice.adjustment) == ("INV-1002", D("500.00"), None)
    assert (adjustment.kind, adjustment.adjustment, adjustment.adjustment_reason) == (
        RefKind.OTHER,
        D("-20.00"),
        "CS",
    )
    assert second.free_text == "payment in advance 250.00"


def test_an_rmr_naming_neither_a_document_nor_an_amount_is_still_an_error() -> None:
    """RMR***PO with no RMR04 says nothing: that set is rejected naming RMR02, the next set
    of the group is kept."""
    result = _parse(
        [
            [
                "BPR*C*100.00*C*ACH*CCP***********20260316",
                "TRN*1*GX-7734",
                "N1*PR*GLOBEX CORPORATION",
                "RMR***PO",
            ],
            [
                "BPR*C*100.00*C*ACH*CCP***********20260316",
                "TRN*1*GX-7735",
                "N1*PR*GLOBEX CORPORATION",
                "RMR***PO*100.00",
            ],
        ]
    )
    assert [r.bank_reference for r in result.records] == ["GX-7735"]
    (error,) = result.errors
    assert error.location == "line 7, segment 7 (RMR), RMR02"
    assert "no amount paid without one (RMR04)" in error.reason


def test_a_ctx_entry_whose_820_pays_on_account_is_cash() -> None:
    """A CTX entry's addenda carry an 820 with an on-account line: the ACH credit is kept
    with its invoice, not rejected for the line naming no document."""
    text = (
        "BPR*C*800.00*C*ACH*CTX*01*021000021*DA*99887766*1234567890**01*071000013*DA*"
        "88120456*20260317\\TRN*1*CTX-OA-1*1234567890\\N1*PR*GLOBEX CORPORATION\\"
        "RMR*IV*INV-2001*PI*600.00\\RMR***PO*200.00\\"
    )
    chunks = [text[i : i + 80] for i in range(0, len(text), 80)]
    trace = "021000020000031"
    lines = [
        _rec((0, "101 " + OUR_ROUTING), (13, " 021000021"), (23, "2603161200A094101")),
        _rec(
            (0, "5220GLOBEX CORP"),
            (40, "1234567890CTX"),
            (53, "PAYMENT"),
            (69, "260317"),
            (78, "1021000020000001"),
        ),
        _rec(
            (0, "622" + OUR_ROUTING),
            (12, OUR_ACCOUNT),
            (29, "0000080000"),
            (39, "GX-CTX-1"),
            (54, f"{len(chunks):04d}"),
            (58, "ACME WIDGETS"),
            (78, "1" + trace),
        ),
        *(
            _rec((0, "705" + chunk), (83, f"{i:04d}" + trace[-7:]))
            for i, chunk in enumerate(chunks, start=1)
        ),
    ]
    result = parse_bank_bytes("\n".join(lines).encode(), "globex_ctx.ach")
    assert result.errors == []
    (record,) = result.records
    assert (record.amount, record.currency, record.bank_reference) == (
        D("800.00"),
        "USD",
        trace,
    )
    assert record.payer_name == "GLOBEX CORPORATION"
    assert [(r.ref, r.amount_paid) for r in record.structured_refs] == [("INV-2001", D("600.00"))]
    assert "payment on account 200.00" in (record.free_text or "")
