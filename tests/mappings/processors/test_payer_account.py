"""A processor's id of the payer (a GoCardless customer) becomes the remittance's payer account:
learned for the customer its first placed payment went to, it identifies the payer's later
payments that name no invoice; cash a won chargeback gives back keeps it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select

from canonical.models import PayerAlias
from canonical.money import Money
from canonical.store import Store
from connectors.processors.records import ProcessorRecord, RecordKind
from mappings.processors.remittance import reinstatement_from_record, remittance_from_record
from reconciler import reconcile
from tests.support.receivables import Book, decision


def record(
    payment_id: str,
    amount: str,
    kind: RecordKind = "payment",
    refs: tuple[str, ...] = (),
    payer_name: str | None = None,
) -> ProcessorRecord:
    return ProcessorRecord(
        processor="gocardless",
        event_id=f"EV{payment_id}",
        event_type="payments.confirmed",
        kind=kind,
        amount=Money(Decimal(amount), "GBP"),
        occurred_at=datetime(2026, 11, 3, 9, 13, tzinfo=UTC),
        payment_id=payment_id,
        payer_name=payer_name,
        payer_account="CU000AC1",
        invoice_refs=refs,
        merchant_refs=("DD-88231",),
    )


def _pay(store: Store, rec: ProcessorRecord) -> str:
    remittance = remittance_from_record(rec)
    with store.session() as s:
        s.add(remittance)
    return remittance.id


def test_the_payer_account_is_learned_and_identifies_the_next_payment(store: Store) -> None:
    book = Book(store)
    acme = book.customer("Acme Widgets Ltd")
    book.customer("Globex Ltd")
    book.invoice(acme, "INV-5521", "480.00", currency="GBP")
    book.invoice(acme, "INV-5530", "250.00", currency="GBP")
    first = _pay(store, record("PM000L1", "480.00", refs=("INV-5521",), payer_name="Priya Shah"))
    reconcile(store)
    assert decision(store, first).customer_id == acme
    with store.session() as s:
        learned = {
            (a.kind, a.value): a.customer_id for a in s.execute(select(PayerAlias)).scalars()
        }
    assert learned[("account", "CU000AC1")] == acme

    later = _pay(store, record("PM000L2", "250.00"))  # no invoice named, no name
    reconcile(store)
    made = decision(store, later)
    assert made.customer_id == acme
    assert made.evidence["customer_from"] == "learned account"


def test_cash_given_back_keeps_the_payer_account() -> None:
    original = remittance_from_record(record("PM000R1", "480.00", payer_name="Acme Widgets Ltd"))
    assert original.payer_account == "CU000AC1"
    back = reinstatement_from_record(record("PM000R1", "480.00", kind="reinstatement"), original)
    assert (back.payer_name, back.payer_account) == ("Acme Widgets Ltd", "CU000AC1")
