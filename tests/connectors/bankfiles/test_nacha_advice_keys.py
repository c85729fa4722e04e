"""Zero-dollar CCD+ remittance advice (transaction code 24) after 81cbd17 read it anew: an
advice stored under the amount an earlier version advised keeps that key among its earlier
ones, an RMR naming a purchase order without an amount paid advises nothing of its own (it
does not leave the rest in doubt), and free text that merely looks like a segment is text.
"""

from __future__ import annotations

from decimal import Decimal

from connectors.bankfiles.records import RefKind
from tests.connectors.bankfiles.test_nacha_820_real2 import _ccd_plus, _one

D = Decimal


# an amount read otherwise before keyed the advice otherwise: that key is an earlier one ------


def test_an_advice_paying_on_a_po_keeps_the_key_of_the_invoices_alone_it_advised_before() -> None:
    # before 81cbd17 the same entry advised the 250.00 of its invoice only: the key of that
    # entry advising 250.00 is the key of the advice naming the invoice alone
    before = _one(_ccd_plus("RMR*IV*INV-1**250.00\\"))
    record = _one(_ccd_plus("RMR*IV*INV-1**250.00\\RMR*PO*PO-4471**500.00\\"))
    assert record.advice_only and record.amount == D("750.00")
    assert record.dedup_key != before.dedup_key
    assert before.dedup_key in record.also_known_as
    assert set(before.also_known_as) <= set(record.also_known_as)
    # its own key of file and position stays first (the key a shared trace falls back to)
    assert record.also_known_as[0].startswith("nacha:")
    assert record.also_known_as[0] not in before.also_known_as


def test_an_advice_paying_on_account_keeps_the_key_of_the_invoices_alone() -> None:
    before = _one(_ccd_plus("RMR*IV*INV-1**250.00\\"))
    record = _one(_ccd_plus("RMR*IV*INV-1**250.00\\RMR***PO*50.00\\"))
    assert record.amount == D("300.00")
    assert before.dedup_key in record.also_known_as


def test_an_advice_read_as_before_has_no_second_earlier_key() -> None:
    record = _one(_ccd_plus("RMR*IV*INV-1**250.00\\RMR*CM*CM-1**-50.00\\"))
    assert record.amount == D("200.00") and len(record.also_known_as) == 1


# an RMR naming a purchase order without an amount paid states nothing paid -------------------


def test_an_rmr_naming_a_po_without_an_amount_leaves_the_invoice_amounts_advised() -> None:
    record = _one(_ccd_plus("RMR*IV*INV-1**250.00\\RMR*PO*PO-9\\"))
    assert record.advice_only and record.amount == D("250.00")
    invoice, po = record.structured_refs
    assert (invoice.kind, invoice.ref, invoice.amount_paid) == (RefKind.INVOICE, "INV-1", D("250"))
    assert (po.kind, po.ref, po.amount_paid) == (RefKind.PO, "PO-9", None)


def test_a_po_without_an_amount_beside_amounts_on_another_po_and_on_account() -> None:
    text = "RMR*PO*PO-9\\RMR*PO*PO-4471**500.00\\RMR***PO*50.00\\"
    record = _one(_ccd_plus(text))
    assert record.advice_only and record.amount == D("550.00")


def test_an_invoice_without_an_amount_still_leaves_the_advice_in_doubt() -> None:
    result = _ccd_plus("RMR*IV*INV-1\\RMR*PO*PO-4471**500.00\\")
    assert result.records == [] and result.errors == []
    [warning] = result.warnings
    assert "zero-dollar entry" in warning.reason and "states no amount" in warning.reason


def test_only_a_po_without_an_amount_advises_nothing() -> None:
    result = _ccd_plus("RMR*PO*PO-9\\")
    assert result.records == [] and len(result.warnings) == 1


# text that merely looks like a segment ----------------------------------------------------


def test_text_after_the_rmr_starting_with_a_word_and_a_star_is_kept_as_free_text() -> None:
    record = _one(_ccd_plus("RMR*IV*INV-501**600.00\\INV*502 400.00\\", 60000, "22"))
    assert record.free_text == "REMITTANCE INV*502 400.00"
    [invoice] = record.structured_refs
    assert (invoice.ref, invoice.amount_paid) == ("INV-501", D("600.00"))


def test_820_segments_after_the_rmr_are_not_free_text() -> None:
    text = "RMR*IV*INV-501**600.00\\N3*1 MAIN ST\\PER*IC*J SMITH\\"
    record = _one(_ccd_plus(text, 60000, "22"))
    assert record.free_text == "REMITTANCE"
