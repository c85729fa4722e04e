"""Probe 7: numbers of the payer's or the shipment's own documents written in remittance text
(a delivery note, a packing slip, a goods receipt, a sales order written S/O, the payer's
payment run). They are no invoice numbers: where one equals an open invoice of the payer
and the amount cannot tell two invoices apart, nothing is applied on that number."""

from __future__ import annotations

import pytest

from canonical.store import Store
from reconciler import reconcile
from reconciler.references import read_references
from tests.support.receivables import Book, applied, decision

pytestmark = pytest.mark.usefixtures("book_loading")

TEXTS = [
    "DELIVERY NOTE 7002",
    "DELIVERY NOTE NO. 7002",
    "PACKING SLIP 7002",
    "PACKING LIST #7002",
    "GRN 7002",
    "GOODS RECEIPT 7002",
    "S/O 7002",
    "PAYMENT RUN 7002",
    "PAY RUN NO 7002",
]


@pytest.mark.parametrize("text", TEXTS)
def test_the_payers_document_numbers_are_not_read_as_invoices(text: str) -> None:
    reading = read_references(text)
    assert reading.refs == []
    assert [i["written"].split()[-1].lstrip("#") for i in reading.ignored] == ["7002"]
    assert all(i["why"] == "not an invoice number" for i in reading.ignored)


@pytest.mark.parametrize("text", ["DELIVERY NOTE 7002", "S/O 7002", "PAYMENT RUN 7002"])
def test_a_document_number_equal_to_one_of_two_equal_invoices_applies_nothing(
    store: Store, book: Book, text: str
) -> None:
    """Acme owes 500.00 on 7001 and on 7002 and pays 500.00 naming its delivery note (or
    sales order, payment run) 7002: the cash is suggested for either, never put on 7002."""
    acme = book.customer("Acme Corp")
    book.invoice(acme, "7001", "500.00")
    book.invoice(acme, "7002", "500.00")
    rid = book.pay("500.00", payer="ACME CORP", text=text)
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.exception_kind, d.rule) == (
        "suggested",
        "ambiguous",
        "customer_exact_balance",
    )
    assert applied(store, rid) == {}
    assert [i["why"] for i in d.evidence["text_ignored"]] == ["not an invoice number"]


def test_a_delivery_note_beside_the_invoice_pays_the_invoice(store: Store, book: Book) -> None:
    """INV 7001 DELIVERY NOTE 7002: the invoice named is paid, the delivery note is not."""
    acme = book.customer("Acme Corp")
    book.invoice(acme, "7001", "500.00")
    book.invoice(acme, "7002", "500.00")
    rid = book.pay("500.00", payer="ACME CORP", text="INV 7001 DELIVERY NOTE 7002")
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.rule) == ("auto_applied", "invoice_number_in_text")
    assert applied(store, rid) == {"7001": "500.00"}
