"""NACHA credits whose payer-written remittance detail (X12 in the 05 addenda) is malformed.

The bank's entry (amount, effective date, originator, trace) is certain: the credit is kept,
the unreadable detail left out with its text kept as free text, and a warning names the
addenda line and the element. An unreadable entry amount is still an error.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import select

from canonical.models import Remittance
from canonical.store import Store
from connectors.bankfiles import RefKind, parse_bank_bytes
from sync.ingest import ingest_files

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bankfiles"
_FILE = (FIXTURES / "nacha_ccd_ctx.ach").read_text()


def _with(old: str, new: str, text: str = _FILE) -> str:
    """The fixture with one field changed, every record still 94 characters."""
    assert old in text
    changed = text.replace(old, new.ljust(len(old)) if len(new) < len(old) else new)
    assert all(len(line) == 94 for line in changed.splitlines())
    return changed


@pytest.mark.parametrize("sec", ["CCD", "PPD"])
def test_a_credit_whose_addenda_rmr04_is_no_amount_is_kept_with_a_warning(sec: str) -> None:
    text = _with("RMR*IV*INV-1003**1875.00\\", "RMR*IV*INV-1003**1O0.00\\")
    text = _with("1234567890CCDPAYMENT", f"1234567890{sec}PAYMENT", text)
    result = parse_bank_bytes(text.encode(), "ccd_plus.ach")
    assert result.errors == []
    first = result.records[0]
    assert (first.location, first.amount, first.currency) == ("line 3", Decimal("1875.00"), "USD")
    assert first.value_date == date(2026, 11, 20)
    assert (first.payer_name, first.payer_account) == ("GLOBEX CORP", "1234567890")
    assert (first.bank_reference, first.end_to_end_id) == ("021000020000001", "GLX-AP-55012")
    assert first.structured_refs == ()
    assert first.free_text == "PAYMENT RMR*IV*INV-1003**1O0.00\\"
    (warning,) = result.warnings
    assert (warning.file, warning.location) == (
        "ccd_plus.ach",
        "line 4 (addenda), segment 1 (RMR), RMR04",
    )
    assert warning.reason == (
        "not an amount: '1O0.00': the payer's remittance detail is left out (its text is "
        "kept as free text); the 1875.00 USD credit is kept"
    )
    assert warning.raw.splitlines()[1].startswith("705RMR*IV*INV-1003**1O0.00")
    assert len(result.records) == 3  # the rest of the file as before


def test_a_ctx_820_with_a_bad_rmr_keeps_the_credit_and_names_the_addenda_line() -> None:
    # the RMR of INV-1010 starts in the third of the four addenda records (line 14)
    result = parse_bank_bytes(_with("**500.00*510.00", "**5OO.00*510.00").encode(), "ctx.ach")
    assert result.errors == []
    ctx = result.records[2]
    assert (ctx.location, ctx.amount, ctx.currency, ctx.value_date) == (
        "line 11",
        Decimal("937.50"),
        "USD",
        date(2026, 11, 20),
    )
    # the payer is the batch's originator (the bank's record), not the 820's N1*PR
    assert (ctx.payer_name, ctx.bank_reference) == ("INITECH LLC", "091000010000457")
    assert ctx.structured_refs == ()
    assert ctx.free_text is not None
    assert ctx.free_text.startswith("AP PAYMENT ST*820*0001\\BPR*C*937.50*")
    assert "RMR*IV*INV-1010**5OO.00*510.00*10.00\\" in ctx.free_text
    (warning,) = result.warnings
    assert warning.location == "line 14 (addenda), segment 8 (RMR), RMR04"
    assert warning.reason.startswith("not an amount: '5OO.00': the payer's remittance detail")
    assert warning.reason.endswith("; the 937.50 USD credit is kept")


def test_a_ctx_820_with_a_bad_document_date_keeps_the_rest_of_its_detail() -> None:
    result = parse_bank_bytes(_with("*20261015", "*2026101X").encode(), "ctx_dtm.ach")
    assert result.errors == []
    ctx = result.records[2]
    assert ctx.amount == Decimal("937.50") and ctx.payer_name == "INITECH LLC"
    assert [(r.kind, r.ref, r.amount_paid, r.document_date) for r in ctx.structured_refs] == [
        (RefKind.INVOICE, "INV-1010", Decimal("500.00"), None),
        (RefKind.INVOICE, "INV-1011", Decimal("437.50"), None),
    ]
    (warning,) = result.warnings
    assert warning.location == "line 14 (addenda), segment 9 (DTM), DTM02"
    assert warning.reason == (
        "not a date: '2026101X': this date is left out, the rest of the payer's remittance "
        "detail is kept; the 937.50 USD credit is kept"
    )


def test_an_unreadable_entry_amount_is_still_an_error() -> None:
    text = _with("0000093750INI0000457", "00000937A0INI0000457")
    result = parse_bank_bytes(text.encode(), "bad_amount.ach")
    assert [r.location for r in result.records] == ["line 3", "line 5"]
    (error,) = result.errors
    assert error.location == "line 11, amount"
    assert "00000937A0" in error.reason


def test_ingest_stores_the_cash_and_reports_the_warning(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "ccd_plus.ach"
    path.write_text(_with("RMR*IV*INV-1003**1875.00\\", "RMR*IV*INV-1003**1O0.00\\"))
    report = ingest_files(store, [path])
    assert (report.rejected, report.errors) == (0, [])
    assert [(w.location, w.reason.split(":")[0]) for w in report.warnings] == [
        ("line 4 (addenda), segment 1 (RMR), RMR04", "not an amount")
    ]
    with store.session() as s:
        stored = s.exec(select(Remittance).where(Remittance.payer_name == "GLOBEX CORP")).all()
    cash = next(r for r in stored if r.amount.amount == Decimal("1875.00"))
    assert (cash.currency, cash.value_date, cash.structured_refs) == ("USD", date(2026, 11, 20), [])
    assert cash.free_text == "PAYMENT RMR*IV*INV-1003**1O0.00\\"
