"""A payment that arrives before its invoice (or its customer) is synced is decided again
once it is: the new decision supersedes the exception, and nothing is applied twice."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, update
from sqlmodel import col

from canonical.enums import DocumentStatus
from canonical.models import Application, Decision, Invoice
from canonical.store import Store
from reconciler import reconcile
from reconciler.confirm import ConfirmError, confirm
from tests.support.receivables import Book, applied, balance, decision, ref

pytestmark = pytest.mark.usefixtures("book_loading")


def applications(store: Store) -> int:
    with store.session() as s:
        return len(s.execute(select(Application)).all())


@pytest.mark.parametrize(
    "named",
    [{"text": "INV 9001"}, {"refs": [ref("9001", "1234.00")]}],
    ids=["text", "structured"],
)
def test_a_payment_is_applied_once_the_invoice_it_names_arrives(
    store: Store, book: Book, named: dict[str, object]
) -> None:
    acme = book.customer("Acme Corp")
    book.invoice(acme, "8999", "55.00")
    rid = book.pay("1234.00", payer="ACME CORP", **named)  # type: ignore[arg-type]
    reconcile(store)
    first = decision(store, rid)
    assert first.status == "exception" and "9001" in str(first.evidence)
    assert reconcile(store).remittances == 0  # nothing arrived: nothing decided again
    assert decision(store, rid).id == first.id

    invoice = book.invoice(acme, "9001", "1234.00", issued=date(2026, 11, 1))
    summary = reconcile(store)
    again = decision(store, rid)
    assert again.status == "auto_applied"
    assert (summary.late, summary.remittances, summary.auto_applied) == (1, 1, 1)
    assert again.evidence["supersedes_decision"] == first.id
    assert again.evidence["decided_again"] == {
        "decision": first.id,
        "invoices_now_open": ["9001"],
    }
    assert applied(store, rid) == {"9001": "1234.00"}
    assert balance(store, invoice) == ("0.00", "paid")

    count = applications(store)
    rerun = reconcile(store)
    assert (rerun.late, rerun.remittances) == (0, 0)
    assert applications(store) == count


def test_a_payment_from_a_customer_not_yet_synced_is_applied_once_it_is(
    store: Store, book: Book
) -> None:
    rid = book.pay("1234.00", payer="NEWCO INDUSTRIES")
    reconcile(store)
    first = decision(store, rid)
    assert (first.status, first.exception_kind) == ("exception", "unidentified_payer")

    newco = book.customer("NewCo Industries Inc")
    book.invoice(newco, "9002", "1234.00")
    summary = reconcile(store)
    again = decision(store, rid)
    assert (again.status, again.customer_id) == ("auto_applied", newco)
    assert summary.late == 1
    assert again.evidence["decided_again"]["payer_now_known"] == "a customer of that name"
    assert applied(store, rid) == {"9002": "1234.00"}


def test_a_paid_invoice_of_that_number_decides_nothing_again(store: Store, book: Book) -> None:
    acme = book.customer("Acme Corp")
    rid = book.pay("1234.00", payer="ACME CORP", text="INV 9003")
    reconcile(store)
    first = decision(store, rid)
    paid = book.invoice(acme, "9003", "1234.00")
    with store.session() as s:  # synced already paid (a cheque entered in the ERP)
        s.execute(
            update(Invoice)
            .where(col(Invoice.id) == paid)
            .values(balance_minor=0, status=DocumentStatus.PAID)
        )
    assert reconcile(store).late == 0
    assert decision(store, rid).id == first.id


@pytest.mark.parametrize("who", ["person", "duplicate"])
def test_a_person_s_decision_or_a_duplicate_is_never_decided_again(
    store: Store, book: Book, who: str
) -> None:
    acme = book.customer("Acme Corp")
    rid = book.pay("1234.00", payer="ACME CORP", text="INV 9004")
    reconcile(store)
    first = decision(store, rid)
    with store.session() as s:
        values = (
            {"decided_by": "person:ana"}
            if who == "person"
            else {"exception_kind": "duplicate_payment"}
        )
        s.execute(update(Decision).where(col(Decision.id) == first.id).values(**values))
    book.invoice(acme, "9004", "1234.00")
    assert reconcile(store).late == 0
    assert decision(store, rid).id == first.id
    assert applied(store, rid) == {}


def test_confirming_a_decision_decided_again_names_the_one_that_replaced_it(
    store: Store, book: Book
) -> None:
    acme = book.customer("Acme Corp")
    book.invoice(acme, "8999", "55.00")
    rid = book.pay("1234.00", payer="ACME CORP", text="INV 9001")
    reconcile(store)
    first = decision(store, rid)
    book.invoice(acme, "9001", "1234.00", issued=date(2026, 11, 1))
    reconcile(store)
    again = decision(store, rid)
    with pytest.raises(ConfirmError, match=f"replaced by decision {again.id} \\(auto_applied\\)"):
        confirm(store, first.id, by="person:ana")


@pytest.mark.parametrize(
    ("payer", "customer"),
    [
        ("OBRIEN AND SONS", "O'Brien & Sons, LLC"),  # punctuation inside a word
        ("ACMETOOLS INC", "Acme-Tools, Inc."),
        ("ACME TOOLS ACCOUNTS PAYABLE", "Acme Tools LLC"),  # the payer's A/P department
    ],
)
def test_a_payment_is_decided_again_when_a_customer_its_name_matching_accepts_arrives(
    store: Store, book: Book, payer: str, customer: str
) -> None:
    """Not only a customer of the payer's exact normalised name: one the cascade's name
    matching recognises as the payer, as it would had the customer been there first."""
    rid = book.pay("1234.00", payer=payer)
    reconcile(store)
    first = decision(store, rid)
    assert (first.status, first.exception_kind) == ("exception", "unidentified_payer")

    arrived = book.customer(customer)
    book.invoice(arrived, "9002", "1234.00")
    summary = reconcile(store)
    again = decision(store, rid)
    assert (again.status, again.customer_id) == ("auto_applied", arrived)
    assert summary.late == 1
    assert again.evidence["decided_again"] == {
        "decision": first.id,
        "payer_now_known": "a customer of a similar name",
    }
    assert applied(store, rid) == {"9002": "1234.00"}
    assert reconcile(store).late == 0


@pytest.mark.parametrize(
    ("payer", "customer"),
    [
        ("DELTA AIR LINES", "Delta Inc"),  # the customer's name is only part of the payer's
        ("GLOBEX CORPORATION", "Initech LLC"),
    ],
)
def test_a_customer_the_name_matching_would_not_accept_decides_nothing_again(
    store: Store, book: Book, payer: str, customer: str
) -> None:
    rid = book.pay("1234.00", payer=payer)
    reconcile(store)
    first = decision(store, rid)
    arrived = book.customer(customer)
    book.invoice(arrived, "9002", "1234.00")
    assert reconcile(store).late == 0
    assert decision(store, rid).id == first.id
