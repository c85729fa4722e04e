"""The same payment through a second channel naming what its first copy paid
(``_copy_naming_what_was_paid``), as a review found it misread: the copy is the same
customer's (invoice numbers are unique per customer only) and the latest that fits."""

from __future__ import annotations

from datetime import date

from canonical.enums import DocumentStatus
from canonical.models import Invoice
from canonical.store import Store
from reconciler import reconcile
from tests.support.receivables import Book, applied, decision, ref


def _paid(store: Store, invoice_id: str) -> None:
    with store.session() as s:
        invoice = s.get(Invoice, invoice_id)
        assert invoice is not None
        invoice.balance_minor = 0
        invoice.status = DocumentStatus.PAID
        s.add(invoice)


def test_another_customers_payment_is_never_named_as_the_copy(store: Store) -> None:
    """Acme's transfer pays Acme's 1605; Globex then pays its own 1605, paid already, by card:
    that is no copy of Acme's payment."""
    book = Book(store)
    acme = book.customer("Acme Corp")
    globex = book.customer("Globex Inc")
    book.invoice(acme, "1605", "500.00")
    _paid(store, book.invoice(globex, "1605", "500.00"))
    acme_bank = book.pay("500.00", payer="ACME CORP", text="INV 1605", source="camt.054")
    reconcile(store)
    assert applied(store, acme_bank) == {"1605": "500.00"}
    hook = book.pay(
        "500.00", payer="Globex Inc", refs=[ref("1605")], day=date(2026, 11, 3), source="stripe"
    )
    reconcile(store)
    found = decision(store, hook)
    assert (found.evidence.get("duplicate_of") or {}).get("remittance_id") != acme_bank
    assert found.exception_kind != "duplicate_payment"


def test_the_copy_named_is_the_instalment_it_repeats(store: Store) -> None:
    """1605 (1000.00) paid in two instalments of 500.00 naming it, eight days apart; the
    processor's event of the second, a day after its bank line, names that line as its copy
    (the first instalment, outside the window, hid it)."""
    book = Book(store)
    acme = book.customer("Acme Corp")
    book.invoice(acme, "1605", "1000.00")
    book.pay(
        "500.00", payer="ACME CORP", text="INV 1605 500.00", day=date(2026, 10, 25), source="bai2"
    )
    reconcile(store)
    second = book.pay("500.00", payer="ACME CORP", text="INV 1605 500.00", source="camt.054")
    reconcile(store)
    assert applied(store, second) == {"1605": "500.00"}
    hook = book.pay(
        "500.00", payer="ACME CORP", refs=[ref("1605")], day=date(2026, 11, 3), source="stripe"
    )
    reconcile(store)
    found = decision(store, hook)
    assert found.exception_kind == "duplicate_payment"
    assert found.evidence["duplicate_of"]["remittance_id"] == second
