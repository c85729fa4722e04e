"""CCD+ addenda as originators write them beyond a lone RMR: zero-dollar remittance sent apart
from its cash that pays on a purchase order (RMR01 PO) or on account (no document named),
and free text after the RMR segments. REF, DTM and ADX after an RMR are read into its
document; RMR05 (invoice amount) and RMR06 (discount) are never taken for the cash.

Records are built field by field by the helpers of the real-world NACHA tests, whose batch and
file controls add up: the only warnings are the ones under test.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from connectors.bankfiles.nacha import parse_nacha
from connectors.bankfiles.records import ParseResult, RawRemittance, RefKind
from tests.connectors.bankfiles.test_bankfiles_nacha_realworld import (
    _addenda,
    _entry,
    _file,
    _header,
)

D = Decimal


def _ccd_plus(text: str, cents: int = 0, code: str = "24") -> ParseResult:
    """One CCD entry of ``cents`` (a zero-dollar 24 by default) with ``text`` as its 705."""
    header = _header("CCD", "GLOBEX CORP", "1234567890", "REMITTANCE", 1)
    records = [_entry(code, cents, "CUST-881", "ACME PARTS", 41, 1), _addenda(text, 1, 41)]
    return parse_nacha(_file([(header, records)]), "ccd.ach")


def _one(result: ParseResult) -> RawRemittance:
    assert result.errors == [] and result.warnings == [], (result.errors, result.warnings)
    (record,) = result.records
    return record


# zero-dollar remittance: the cash it describes is what every RMR04 adds up to --------------


def test_a_zero_dollar_ccd_paying_on_a_purchase_order_advises_the_amount_its_rmr_states() -> None:
    record = _one(_ccd_plus("RMR*PO*PO-4471**500.00\\"))
    assert record.advice_only and record.amount == D("500.00") and record.currency == "USD"
    [po] = record.structured_refs
    assert (po.kind, po.ref, po.amount_paid) == (RefKind.PO, "PO-4471", D("500.00"))


def test_a_zero_dollar_ccd_advises_the_amounts_paid_on_a_po_and_on_account_with_invoices() -> None:
    on_po = _one(_ccd_plus("RMR*PO*PO-4471**500.00\\RMR*IV*INV-1**250.00\\"))
    assert on_po.advice_only and on_po.amount == D("750.00")
    on_account = _one(_ccd_plus("RMR*IV*INV-1**250.00\\RMR***PO*50.00\\"))
    assert on_account.advice_only and on_account.amount == D("300.00")
    assert "payment on account 50.00" in (on_account.free_text or "")


def test_a_zero_dollar_ccd_advises_amounts_paid_not_invoice_amounts_or_discounts() -> None:
    record = _one(_ccd_plus("RMR*IV*INV-1**250.00*260.00*10.00\\REF*PO*PO-88\\"))
    assert record.advice_only and record.amount == D("250.00")
    invoice, po = record.structured_refs
    assert (invoice.amount_paid, invoice.invoice_amount, invoice.discount) == (
        D("250.00"),
        D("260.00"),
        D("10.00"),
    )
    assert (po.kind, po.ref, po.amount_paid) == (RefKind.PO, "PO-88", None)


def test_a_zero_dollar_ccd_whose_payment_adjustment_leaves_the_total_in_doubt_is_named() -> None:
    # an ADX after an amount paid on account adjusts the whole payment, not a document
    result = _ccd_plus("RMR*IV*INV-1**250.00\\RMR***PO*50.00\\ADX*-5.00*CS\\")
    assert result.records == [] and result.errors == []
    [warning] = result.warnings
    assert "zero-dollar entry" in warning.reason and "states no amount" in warning.reason


# text after the RMR segments -----------------------------------------------------------------


def test_text_after_the_rmr_segments_of_a_ccd_plus_addenda_is_kept_as_free_text() -> None:
    record = _one(_ccd_plus("RMR*IV*INV-501**1000.00\\Also inv 502 per J. Smith", 100000, "22"))
    assert record.amount == D("1000.00") and not record.advice_only
    assert record.free_text == "REMITTANCE Also inv 502 per J. Smith"
    [invoice] = record.structured_refs
    assert (invoice.ref, invoice.amount_paid) == ("INV-501", D("1000.00"))


def test_text_between_rmr_segments_is_kept_and_both_documents_read() -> None:
    text = "RMR*IV*INV-501**600.00\\PAID IN FULL\\RMR*IV*INV-502**400.00\\"
    record = _one(_ccd_plus(text, 100000, "22"))
    assert record.free_text == "REMITTANCE PAID IN FULL"
    assert [(r.ref, r.amount_paid) for r in record.structured_refs] == [
        ("INV-501", D("600.00")),
        ("INV-502", D("400.00")),
    ]


def test_ref_dtm_and_adx_after_an_rmr_describe_its_document() -> None:
    text = "RMR*IV*INV-501**1234.56*1300.00*55.44\\DTM*003*20260301\\ADX*-10.00*CS\\REF*CR*C-55\\"
    record = _one(_ccd_plus(text, 123456, "22"))
    assert record.amount == D("1234.56")  # the entry's amount, not RMR05
    [invoice] = record.structured_refs
    assert (invoice.ref, invoice.amount_paid, invoice.invoice_amount, invoice.discount) == (
        "INV-501",
        D("1234.56"),
        D("1300.00"),
        D("55.44"),
    )
    assert (invoice.adjustment, invoice.adjustment_reason) == (D("-10.00"), "CS")
    assert invoice.document_date == date(2026, 3, 1)
    assert record.free_text == "REMITTANCE CR C-55"
