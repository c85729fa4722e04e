"""Remittance detail arriving after its cash was applied, and the same payment seen in the other
order.

1. Cash with no detail is applied by its amount alone; the next day the advice of that very
   payment (an EDI 820 without cash, paired with the cash by its trace number or by payer and
   amount, as :class:`reconciler.engine.Advices` pairs them) names other invoices. The cash is
   never moved on its own: the advice becomes an ``advice_contradicts_applied`` exception for
   a person, naming the applied decision and what the advice says; ``arsync resolve ID
   --reverse`` undoes the applied decision, and the next reconcile places the cash by the
   advice. An advice naming what the cash paid confirms it.
2. A processor's webhook naming its invoice is applied first; the bank's bare line of the same
   payment comes after and fits no invoice: its exception names the applied copy.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlmodel import col

from canonical.enums import ApplicationStatus, RemittanceStatus
from canonical.models import Application, Decision, Remittance
from canonical.money import Money
from canonical.store import Store
from reconciler import reconcile
from reconciler.confirm import ConfirmError, confirm
from reconciler.report import build_report
from reconciler.reverse import reverse
from tests.support.receivables import Book, applied, balance, decision, ref

pytestmark = pytest.mark.usefixtures("book_loading")

AUTO, SUGGESTED, EXCEPTION = "auto_applied", "suggested", "exception"
CONTRADICTS = "advice_contradicts_applied"


def _advice(
    store: Store,
    amount: str,
    payer: str | None,
    refs: list[dict[str, str | None]],
    *,
    trace: str | None = None,
    day: date | None = date(2026, 11, 3),
) -> str:
    """An 820 advice without cash (BPR01 ``I``) as ingest stores it."""
    with store.session() as s:
        row = Remittance(
            source="edi820",
            source_file="payer.edi",
            source_key=f"advice-{payer}-{amount}-{trace}-{day}",
            currency="USD",
            amount_minor=Money(amount, "USD").minor,
            value_date=day,
            payer_name=payer,
            bank_reference=trace,
            structured_refs=refs,
            status=RemittanceStatus.ADVICE,
        )
        s.add(row)
    return row.id


def _cash(
    store: Store,
    amount: str,
    payer: str | None,
    *,
    text: str = "ACH CREDIT",
    trace: str | None = None,
    day: date = date(2026, 11, 2),
    key: str = "bank-1",
) -> str:
    """The bank's line of a payment, with no invoice detail."""
    with store.session() as s:
        row = Remittance(
            source="bai2",
            source_key=key,
            currency="USD",
            amount_minor=Money(amount, "USD").minor,
            value_date=day,
            payer_name=payer,
            bank_reference=trace,
            free_text=text,
        )
        s.add(row)
    return row.id


def _status(store: Store, remittance_id: str) -> str:
    with store.session() as s:
        row = s.get(Remittance, remittance_id)
        assert row is not None
        return row.status


def _initech(book: Book) -> dict[str, str]:
    """7101 owes the payment exactly; 7102 and 7103 together owe it too."""
    initech = book.customer("Initech LLC")
    return {
        "7101": book.invoice(initech, "7101", "640.00"),
        "7102": book.invoice(initech, "7102", "400.00"),
        "7103": book.invoice(initech, "7103", "240.00"),
    }


def _applied_on_7101(store: Store, cash: str) -> Decision:
    reconcile(store)
    d = decision(store, cash)
    assert (d.status, d.rule) == (AUTO, "customer_exact_balance")
    assert applied(store, cash) == {"7101": "640.00"}
    return d


# -- 1. an advice contradicting applied cash ---------------------------------------------------


def test_advice_naming_other_invoices_than_the_applied_cash_is_an_exception(
    store: Store, book: Book
) -> None:
    """The cash went on 7101 by its amount; its advice (payer and amount) names 7102 and 7103.
    Nothing moves: the advice is an exception for a person naming the applied decision, what
    it paid and by which rule, and what the advice says; its invoices are the candidates."""
    ids = _initech(book)
    cash = _cash(store, "640.00", "INITECH LLC")
    first = _applied_on_7101(store, cash)
    advice = _advice(store, "640.00", "INITECH LLC", [ref("7102", "400.00"), ref("7103", "240.00")])
    summary = reconcile(store)
    assert summary.exceptions[CONTRADICTS] == 1
    d = decision(store, advice)
    assert (d.status, d.exception_kind, d.rule) == (EXCEPTION, CONTRADICTS, CONTRADICTS)
    assert d.decided_by == "reconciler"
    was = d.evidence["applied_decision"]
    assert was["id"] == first.id
    assert was["remittance"] == cash
    assert was["rule"] == "customer_exact_balance"
    assert was["paid"] == [{"invoice": "7101", "amount": "640.00"}]
    assert d.evidence["advice_invoices"] == [
        {"invoice": "7102", "amount": "400.00"},
        {"invoice": "7103", "amount": "240.00"},
    ]
    assert d.evidence["matched_on"] == "payer and amount"
    assert [i["number"] for i in d.candidates[0]["invoices"]] == ["7102", "7103"]
    # nothing was reversed or applied again
    assert decision(store, cash).id == first.id
    assert applied(store, cash) == {"7101": "640.00"}
    assert applied(store, advice) == {}
    assert balance(store, ids["7101"]) == ("0.00", "paid")
    assert balance(store, ids["7102"]) == ("400.00", "open")
    assert balance(store, ids["7103"]) == ("240.00", "open")
    # asked once: the next run changes nothing
    again = reconcile(store)
    assert again.remittances == 0 and not again.exceptions
    assert decision(store, advice).id == d.id


def test_advice_paired_by_its_trace_number_contradicting_the_applied_cash(
    store: Store, book: Book
) -> None:
    """The bank's line carries the 820's trace (TRN02) in its text; the advice's payer is
    named otherwise. Paired by the trace, its contradiction is reported the same way."""
    _initech(book)
    cash = _cash(store, "640.00", "INITECH LLC", text="ACH CREDIT TRN 1234567890")
    first = _applied_on_7101(store, cash)
    advice = _advice(
        store,
        "640.00",
        "INITECH HOLDINGS AP",
        [ref("7102", "400.00"), ref("7103", "240.00")],
        trace="1234567890",
    )
    reconcile(store)
    d = decision(store, advice)
    assert (d.status, d.exception_kind) == (EXCEPTION, CONTRADICTS)
    assert d.evidence["applied_decision"]["id"] == first.id
    assert d.evidence["matched_on"] == "trace number"
    assert d.evidence["trace"] == "1234567890"
    assert applied(store, cash) == {"7101": "640.00"}


def test_advice_naming_what_the_cash_paid_confirms_it(store: Store, book: Book) -> None:
    """The advice names 7101, which the cash paid: no exception; the advice is used, and the
    applied decision's evidence says the advice confirmed it."""
    _initech(book)
    cash = _cash(store, "640.00", "INITECH LLC")
    first = _applied_on_7101(store, cash)
    advice = _advice(store, "640.00", "INITECH LLC", [ref("7101", "640.00")])
    summary = reconcile(store)
    assert not summary.exceptions
    assert _status(store, advice) == RemittanceStatus.ADVICE_USED
    d = decision(store, cash)
    assert d.id == first.id and d.status == AUTO
    assert d.evidence["confirmed_by_advice"]["id"] == advice
    assert d.evidence["confirmed_by_advice"]["invoices"] == ["7101"]
    with store.session() as s:
        assert not s.execute(select(Decision).where(col(Decision.source_id) == advice)).all()
    assert applied(store, cash) == {"7101": "640.00"}


def test_advice_of_another_weeks_payment_is_not_paired_with_old_applied_cash(
    store: Store, book: Book
) -> None:
    """Cash of the same amount from the same payer applied a month ago is not this advice's
    cash: the advice keeps waiting for its own, no exception."""
    _initech(book)
    cash = _cash(store, "640.00", "INITECH LLC", day=date(2026, 10, 1))
    _applied_on_7101(store, cash)
    advice = _advice(store, "640.00", "INITECH LLC", [ref("7102", "400.00"), ref("7103", "240.00")])
    summary = reconcile(store)
    assert not summary.exceptions
    assert _status(store, advice) == RemittanceStatus.ADVICE
    # its own cash comes: it borrows the advice and pays 7102 and 7103
    later = _cash(store, "640.00", "INITECH LLC", day=date(2026, 11, 4), key="bank-2")
    reconcile(store)
    d = decision(store, later)
    assert (d.status, d.rule) == (AUTO, "structured_reference")
    assert applied(store, later) == {"7102": "400.00", "7103": "240.00"}


def test_advice_naming_other_invoices_than_cash_its_own_text_placed_keeps_waiting(
    store: Store, book: Book
) -> None:
    """The bank's line says ``INV 7101`` and paid it by that reference; an advice of the same
    payer and amount names 7102 and 7103: more likely the advice of another payment whose
    cash is still to come than a contradiction. It keeps waiting; no exception."""
    _initech(book)
    cash = _cash(store, "640.00", "INITECH LLC", text="INV 7101")
    reconcile(store)
    assert (decision(store, cash).rule, applied(store, cash)) == (
        "invoice_number_in_text",
        {"7101": "640.00"},
    )
    advice = _advice(store, "640.00", "INITECH LLC", [ref("7102", "400.00"), ref("7103", "240.00")])
    summary = reconcile(store)
    assert not summary.exceptions
    assert _status(store, advice) == RemittanceStatus.ADVICE


def test_contradicted_cash_reversed_by_a_person_is_placed_by_the_advice(
    store: Store, book: Book
) -> None:
    """``arsync resolve ID --reverse`` on the exception undoes the applied decision (7101 open
    again); the next reconcile decides the cash again with the advice: 7102 and 7103."""
    ids = _initech(book)
    cash = _cash(store, "640.00", "INITECH LLC")
    first = _applied_on_7101(store, cash)
    advice = _advice(store, "640.00", "INITECH LLC", [ref("7102", "400.00"), ref("7103", "240.00")])
    reconcile(store)
    exception = decision(store, advice)
    with pytest.raises(ConfirmError, match="--reverse"):
        confirm(store, exception.id, by="person:ana")  # would apply the same cash twice
    undone = reverse(store, exception.id, by="person:ana")
    assert undone.rule == "reverse_payment" and undone.decided_by == "person:ana"
    assert undone.evidence["reverses_decision"] == first.id
    assert balance(store, ids["7101"]) == ("640.00", "open")
    with store.session() as s:
        states = s.execute(
            select(col(Application.status)).where(col(Application.decision_id) == first.id)
        ).scalars()
        assert set(states) == {ApplicationStatus.REVERSED}
    reconcile(store)
    d = decision(store, cash)
    assert (d.status, d.rule) == (AUTO, "structured_reference")
    assert d.evidence["supersedes_decision"] == first.id
    assert d.evidence["remittance_advice"]["id"] == advice
    assert applied(store, cash) == {"7101": "640.00", "7102": "400.00", "7103": "240.00"}
    with store.session() as s:
        in_force = s.execute(
            select(Application).where(
                col(Application.source_id) == cash,
                col(Application.status) == ApplicationStatus.APPLIED,
            )
        ).scalars()
        assert sorted(a.amount_minor for a in in_force) == [24000, 40000]
    assert balance(store, ids["7101"]) == ("640.00", "open")
    assert balance(store, ids["7102"]) == ("0.00", "paid")
    with pytest.raises(ConfirmError):
        reverse(store, exception.id, by="person:ana")  # done once


def test_contradicting_advice_in_the_report_counts_no_cash(store: Store, book: Book) -> None:
    """The exception is listed under its kind with the command to reverse; the report's
    totals count the 640.00 once."""
    _initech(book)
    cash = _cash(store, "640.00", "INITECH LLC")
    _applied_on_7101(store, cash)
    _advice(store, "640.00", "INITECH LLC", [ref("7102", "400.00"), ref("7103", "240.00")])
    reconcile(store)
    report = build_report(store)
    listed = report["exceptions"][CONTRADICTS]
    assert len(listed) == 1
    assert listed[0]["resolve"].endswith("--reverse")
    assert report["totals"]["cash"]["USD"]["received"]["amount"] == "640.00"


def test_processor_event_naming_other_invoices_than_the_bank_line_paid(
    store: Store, book: Book
) -> None:
    """The bank's bare line went on 7101 by its amount; the processor's event of a payment of
    that amount from the same customer the next day names 7102 and 7103. It may be that very
    payment: it is not applied on its own on top of the bank line's."""
    ids = _initech(book)
    cash = _cash(store, "640.00", "INITECH LLC")
    _applied_on_7101(store, cash)
    hook = book.pay(
        "640.00",
        payer="INITECH LLC",
        refs=[ref("7102", "400.00"), ref("7103", "240.00")],
        day=date(2026, 11, 3),
        source="stripe",
    )
    reconcile(store)
    d = decision(store, hook)
    assert d.status != AUTO
    assert d.evidence["possible_duplicate_of"]["remittance_id"] == cash
    assert [i["number"] for i in d.candidates[0]["invoices"]] == ["7102", "7103"]
    assert balance(store, ids["7102"]) == ("400.00", "open")


# -- 2. the same payment, the webhook first ----------------------------------------------------


@pytest.mark.parametrize("same_run", [False, True])
def test_bank_line_after_the_webhook_that_paid_its_invoice_names_the_copy(
    store: Store, book: Book, same_run: bool
) -> None:
    """The processor's webhook names 1605 and pays it; the bank's bare line of that payment
    (same amount, another source, a day later) fits no open invoice: its exception names the
    applied copy, whether it came in the same run or a later one."""
    acme = book.customer("Acme Corp")
    book.invoice(acme, "1605", "500.00")
    hook = book.pay("500.00", payer="ACME CORP", refs=[ref("1605")], source="stripe")
    if not same_run:
        reconcile(store)
        assert applied(store, hook) == {"1605": "500.00"}
    bank = book.pay(
        "500.00", payer="ACME CORP", text="ACH CREDIT", day=date(2026, 11, 3), source="camt.054"
    )
    reconcile(store)
    assert applied(store, hook) == {"1605": "500.00"}
    d = decision(store, bank)
    assert d.status == EXCEPTION
    copy = d.evidence["possible_duplicate_of"]
    assert copy == {
        "remittance_id": hook,
        "value_date": "2026-11-02",
        "source": "stripe",
        "invoices": ["1605"],
    }
    assert applied(store, bank) == {}


def test_bank_line_of_an_unknown_payer_after_the_webhook_names_the_copy(
    store: Store, book: Book
) -> None:
    """The bank's line names no payer we know: still, a copy of that amount applied within
    days from another source is named as a possible duplicate."""
    acme = book.customer("Acme Corp")
    book.invoice(acme, "1605", "500.00")
    hook = book.pay("500.00", payer="ACME CORP", refs=[ref("1605")], source="stripe")
    reconcile(store)
    bank = book.pay(
        "500.00", payer="STRIPE TRANSFER", text="ST-X8Y7", day=date(2026, 11, 4), source="bai2"
    )
    reconcile(store)
    d = decision(store, bank)
    assert d.status == EXCEPTION
    assert d.evidence["possible_duplicate_of"]["remittance_id"] == hook


def test_bank_line_long_after_the_webhook_names_no_copy(store: Store, book: Book) -> None:
    """Outside the duplicate window, an amount alone says nothing: no hint."""
    acme = book.customer("Acme Corp")
    book.invoice(acme, "1605", "500.00")
    book.pay("500.00", payer="ACME CORP", refs=[ref("1605")], source="stripe")
    reconcile(store)
    bank = book.pay(
        "500.00", payer="ACME CORP", text="ACH CREDIT", day=date(2026, 11, 20), source="camt.054"
    )
    reconcile(store)
    d = decision(store, bank)
    assert d.status == EXCEPTION
    assert "possible_duplicate_of" not in d.evidence
