"""camt.054 booked credits whose payer-written remittance (``RmtInf``) is malformed.

The entry's amount, currency, dates, debtor and references are the bank's: the credit is kept,
the amounts of an unreadable structured remittance block left out (its documents kept) and a
warning names the element. An unreadable amount or date of the bank's is still an error.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from connectors.bankfiles import RefKind, parse_bank_bytes

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bankfiles"
_FILE = (FIXTURES / "camt054_v08_structured.xml").read_text()
_TX = "/Document/BkToCstmrDbtCdtNtfctn[1]/Ntfctn[1]/Ntry[1]/NtryDtls[1]/TxDtls[1]"
_KEPT = "; the 8648.00 EUR credit is kept"


def _with(old: str, new: str) -> bytes:
    assert old in _FILE
    return _FILE.replace(old, new).encode()


def test_a_remitted_amount_that_is_no_amount_leaves_out_that_documents_amounts_only() -> None:
    result = parse_bank_bytes(
        _with('<RmtdAmt Ccy="EUR">4900.00', '<RmtdAmt Ccy="EUR">49OO.00'), "c054.xml"
    )
    assert result.errors == []
    kept = result.records[0]
    assert (kept.amount, kept.currency, kept.value_date) == (
        Decimal("8648.00"),
        "EUR",
        date(2026, 11, 20),
    )
    assert (kept.payer_name, kept.bank_reference, kept.end_to_end_id) == (
        "Dupont Distribution SAS",
        "BNPP2026112000000451-01",
        "DUR-PAYRUN-4410-17",
    )
    # the documents the payer names are kept; only the unreadable block loses its amounts
    assert [(r.kind, r.ref, r.amount_paid, r.invoice_amount) for r in kept.structured_refs] == [
        (RefKind.INVOICE, "FA-2026-3101", None, None),
        (RefKind.INVOICE, "FA-2026-3102", Decimal("3948.00"), Decimal("4000.00")),
        (RefKind.CREDIT_MEMO, "AV-2026-0077", Decimal("-200.00"), None),
    ]
    assert kept.free_text == "REGLEMENT FACTURES NOV"
    (warning,) = result.warnings
    assert (warning.file, warning.location) == (
        "c054.xml",
        f"{_TX}/RmtInf[1]/Strd[1]/RfrdDocAmt[1]/RmtdAmt[1] (line 7)",
    )
    assert warning.reason == (
        "not an amount: '49OO.00': the amounts stated with it are left out, the documents the "
        f"payer names and the rest of its remittance detail are kept{_KEPT}"
    )
    assert len(result.records) == 2  # the next entry as before


def test_an_adjustment_without_an_amount_leaves_out_its_blocks_amounts_only() -> None:
    result = parse_bank_bytes(_with('<Amt Ccy="EUR">52.00</Amt>', ""), "adj.xml")
    assert result.errors == []
    assert result.records[0].amount == Decimal("8648.00")
    refs = result.records[0].structured_refs
    assert [(r.ref, r.amount_paid, r.adjustment) for r in refs] == [
        ("FA-2026-3101", Decimal("4900.00"), None),
        ("FA-2026-3102", None, None),
        ("AV-2026-0077", Decimal("-200.00"), None),
    ]
    (warning,) = result.warnings
    assert warning.location == (
        f"{_TX}/RmtInf[1]/Strd[2]/RfrdDocAmt[1]/AdjstmntAmtAndRsn[1] (line 8)"
    )
    assert warning.reason.startswith("adjustment without Amt: the amounts stated with it are")


def test_remitted_amounts_in_another_currency_than_the_credit_are_left_out() -> None:
    # a USD invoice paid into a EUR account: 4900.00 USD is not 4900.00 of the EUR credited;
    # the amounts stated in EUR beside it are kept
    result = parse_bank_bytes(
        _with('<RmtdAmt Ccy="EUR">4900.00', '<RmtdAmt Ccy="USD">4900.00'), "fx.xml"
    )
    assert result.errors == []
    first = result.records[0].structured_refs[0]
    assert (first.ref, first.amount_paid, first.invoice_amount, first.discount) == (
        "FA-2026-3101",
        None,
        Decimal("5000.00"),
        Decimal("100.00"),
    )
    assert result.records[0].structured_refs[1].amount_paid == Decimal("3948.00")
    (warning,) = result.warnings
    assert warning.location == f"{_TX}/RmtInf[1]/Strd[1]/RfrdDocAmt[1]/RmtdAmt[1] (line 7), Ccy"
    assert warning.reason.startswith("an amount in USD, the credit is in EUR: this amount is left")


def test_a_bad_related_date_is_left_out_and_the_documents_kept() -> None:
    result = parse_bank_bytes(_with("<RltdDt>2026-10-09", "<RltdDt>2026-13-09"), "dt.xml")
    assert result.errors == []
    refs = result.records[0].structured_refs
    assert [(r.kind, r.ref, r.amount_paid, r.document_date) for r in refs] == [
        (RefKind.INVOICE, "FA-2026-3101", Decimal("4900.00"), date(2026, 10, 2)),
        (RefKind.INVOICE, "FA-2026-3102", Decimal("3948.00"), None),
        (RefKind.CREDIT_MEMO, "AV-2026-0077", Decimal("-200.00"), date(2026, 10, 15)),
    ]
    (warning,) = result.warnings
    assert warning.location == f"{_TX}/RmtInf[1]/Strd[2]/RfrdDocInf[1]/RltdDt[1] (line 8)"
    assert warning.reason == (
        "not a date: '2026-13-09': this date is left out, the rest of the payer's remittance "
        f"detail is kept{_KEPT}"
    )


def test_unreadable_rmr_segments_in_the_text_are_named() -> None:
    # a US bank passing a CCD+ addenda on in Ustrd: its documents were dropped without a word
    result = parse_bank_bytes(
        _with(
            "<Ustrd>REGLEMENT FACTURES NOV</Ustrd>",
            "<Ustrd>RMR*IV*FA-2026-3101**49O0.00\\</Ustrd>",
        ),
        "ustrd.xml",
    )
    assert result.errors == []
    kept = result.records[0]
    assert kept.free_text == "RMR*IV*FA-2026-3101**49O0.00\\"
    (warning,) = result.warnings
    assert warning.location == f"{_TX}/RmtInf[1]/Ustrd[1] (line 6), segment 1 (RMR), RMR04"
    assert warning.reason.startswith("not an amount: '49O0.00': the payer's remittance detail")
    assert warning.reason.endswith(_KEPT)


def test_an_unreadable_booked_amount_or_value_date_is_still_an_error() -> None:
    # a single transaction's amount is its entry's: what reached the account
    bad_amount = parse_bank_bytes(
        _with(
            '<NtryRef>0001</NtryRef><Amt Ccy="EUR">8648.00</Amt>',
            '<NtryRef>0001</NtryRef><Amt Ccy="EUR">86A8.00</Amt>',
        ),
        "amt.xml",
    )
    assert len(bad_amount.records) == 1
    (error,) = bad_amount.errors
    assert error.location == (
        "/Document/BkToCstmrDbtCdtNtfctn[1]/Ntfctn[1]/Ntry[1]/Amt[1] (line 3), amount"
    )
    assert "86A8.00" in error.reason
    bad_date = parse_bank_bytes(
        _with(
            "<ValDt><Dt>2026-11-20</Dt></ValDt><AcctSvcrRef>BNPP2026112000000451<",
            "<ValDt><Dt>2026-11-31</Dt></ValDt><AcctSvcrRef>BNPP2026112000000451<",
        ),
        "date.xml",
    )
    assert len(bad_date.records) == 1
    (error,) = bad_date.errors
    assert "2026-11-31" in error.reason and "ValDt" in error.location


def test_a_credit_note_whose_amount_is_no_amount_goes_to_the_text() -> None:
    """A credit note named without its amount reads as taken whole (the reconciler took the
    note's whole balance and applied the cash by it): one whose stated amount cannot be read
    is no structured reference, its number goes to the free text."""
    result = parse_bank_bytes(
        _with('<CdtNoteAmt Ccy="EUR">200.00', '<CdtNoteAmt Ccy="EUR">2OO.00'), "cn.xml"
    )
    assert result.errors == []
    kept = result.records[0]
    assert [(r.kind, r.ref, r.amount_paid) for r in kept.structured_refs] == [
        (RefKind.INVOICE, "FA-2026-3101", Decimal("4900.00")),
        (RefKind.INVOICE, "FA-2026-3102", Decimal("3948.00")),
    ]
    assert kept.free_text == "REGLEMENT FACTURES NOV AV-2026-0077"
    (warning,) = result.warnings
    assert "not an amount: '2OO.00'" in warning.reason
