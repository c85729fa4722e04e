"""A payment whose details pay one invoice with cash and another with a credit memo: each
credit stays on the document its ARPYMTDETAIL names, through the real mappings into the
store (Intacct's documented detail fields: RECORDKEY, TRX_PAYMENTAMOUNT, ADJUSTMENTKEY,
TRX_ADJUSTMENTAMOUNT)."""

from __future__ import annotations

from sqlmodel import select

from canonical.enums import ApplicationKind
from canonical.models import Application, CreditMemo, Invoice
from canonical.store import Store
from tests.mappings.intacct.test_intacct_pull import CREDIT_MEMO, CUSTOMER, INVOICE, write, xml

SECOND_INVOICE = xml(
    "<ARINVOICE><RECORDNO>8102</RECORDNO><RECORDID>INV8102</RECORDID>"
    "<CUSTOMERID>C-00031</CUSTOMERID><WHENCREATED>04/01/2026</WHENCREATED>"
    "<STATE>Posted</STATE><CURRENCY>USD</CURRENCY>"
    "<TRX_TOTALENTERED>90.00</TRX_TOTALENTERED><TRX_TOTALDUE>90.00</TRX_TOTALDUE></ARINVOICE>"
)


def detail(invoice: str, cash: str, credit: str = "") -> str:
    adjustment = (
        f"<ADJUSTMENTKEY>8105</ADJUSTMENTKEY><TRX_ADJUSTMENTAMOUNT>{credit}</TRX_ADJUSTMENTAMOUNT>"
        if credit
        else ""
    )
    return (
        f"<ARPYMTDETAIL><PAYMENTKEY>8140</PAYMENTKEY><RECORDKEY>{invoice}</RECORDKEY>"
        f"<TRX_PAYMENTAMOUNT>{cash}</TRX_PAYMENTAMOUNT>{adjustment}</ARPYMTDETAIL>"
    )


def payment(total: str, *details: str) -> dict[str, object]:
    return xml(
        "<ARPYMT><RECORDNO>8140</RECORDNO><STATE>Posted</STATE>"
        "<CUSTOMERID>C-00031</CUSTOMERID><PAYMENTDATE>04/20/2026</PAYMENTDATE>"
        f"<CURRENCY>USD</CURRENCY><TRX_TOTALENTERED>{total}</TRX_TOTALENTERED>"
        f"<ARPYMTDETAILS>{''.join(details)}</ARPYMTDETAILS></ARPYMT>"
    )


def stored(store: Store, row: dict[str, object]) -> list[tuple[str, str, str, int]]:
    write(store, "customers", [("C-00031", CUSTOMER)])
    write(store, "invoices", [("8101", INVOICE), ("8102", SECOND_INVOICE)])
    write(store, "credit_memos", [("8105", CREDIT_MEMO)])
    write(store, "payments", [("8140", row)])
    with store.session() as s:
        numbers = {i.id: i.number for i in s.exec(select(Invoice)).all()}
        memos = {m.id: m.number for m in s.exec(select(CreditMemo)).all()}
        rows = s.exec(select(Application)).all()
    return sorted(
        (a.kind, memos.get(a.source_id, "cash"), numbers[a.invoice_id], a.amount_minor)
        for a in rows
    )


def test_credit_memo_stays_on_the_invoice_its_detail_names(sqlite_store: Store) -> None:
    """Cash pays INV8101, the credit memo ADJ8105 (with cash) pays INV8102: the credit was
    recorded as paying INV8101, the first invoice of the payment."""
    row = payment("250.00", detail("8101", "200.00"), detail("8102", "50.00", "40.00"))
    assert stored(sqlite_store, row) == [
        (ApplicationKind.CREDIT_MEMO, "ADJ8105", "INV8102", 4000),
        (ApplicationKind.PAYMENT, "cash", "INV8101", 20000),
        (ApplicationKind.PAYMENT, "cash", "INV8102", 5000),
    ]


def test_credit_only_detail_after_a_cash_detail(sqlite_store: Store) -> None:
    """A credit-only detail (no cash) on the second invoice: the credit pays it, not the first."""
    row = payment("200.00", detail("8101", "200.00"), detail("8102", "0", "40.00"))
    assert stored(sqlite_store, row) == [
        (ApplicationKind.CREDIT_MEMO, "ADJ8105", "INV8102", 4000),
        (ApplicationKind.PAYMENT, "cash", "INV8101", 20000),
    ]
