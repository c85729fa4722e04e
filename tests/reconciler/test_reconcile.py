"""The cascade end to end on a store: each rule, each exception kind, credit memos, re-runs."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlmodel import col

from canonical.models import (
    Adjustment,
    Application,
    CreditMemo,
    Decision,
    PayerAlias,
)
from canonical.store import Store
from reconciler import reconcile
from reconciler.references import rf_reference, text_tokens
from tests.support.receivables import Book, applied, balance, decision, ref

pytestmark = pytest.mark.usefixtures("book_loading")


def test_structured_reference_applies_exactly(store: Store, book: Book) -> None:
    acme = book.customer("Acme Corp")
    inv = book.invoice(acme, "1001", "150.00")
    rid = book.pay("150.00", payer="ACME CORPORATION", refs=[ref("INV-01001", "150.00")])
    summary = reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.rule, d.confidence) == ("auto_applied", "structured_reference", 100)
    assert d.evidence["matched"] == [{"ref": "INV-01001", "invoice": "1001"}]
    assert applied(store, rid) == {"1001": "150.00"}
    assert balance(store, inv) == ("0.00", "paid")
    assert summary.auto_applied == 1 and summary.match_rate == 100


def test_rf_creditor_reference_with_valid_check_digits(store: Store, book: Book) -> None:
    assert rf_reference("RF18 5390 0754 7034") == "539007547034"
    assert rf_reference("RF19 5390 0754 7034") is None  # bad check digits
    c = book.customer("Globex")
    book.invoice(c, "539007547034", "80.00")
    rid = book.pay("80.00", refs=[{"kind": "rf", "ref": "RF18539007547034"}])
    reconcile(store)
    assert applied(store, rid) == {"539007547034": "80.00"}


def test_invoice_numbers_in_free_text_with_ocr_errors(store: Store, book: Book) -> None:
    c = book.customer("Initech")
    book.invoice(c, "1003", "40.00")
    book.invoice(c, "1004", "60.00")
    rid = book.pay("100.00", payer="INITECH", text="INVOICE 1O03 and inv #1004 THANK YOU")
    reconcile(store)
    d = decision(store, rid)
    assert d.status == "auto_applied" and d.rule == "invoice_number_in_text"
    assert applied(store, rid) == {"1003": "40.00", "1004": "60.00"}


def test_text_tokens_normalise() -> None:
    keys = [k for _, k in text_tokens("INV-001234, inv 1234, #1234, Invoice No. 1234")]
    assert keys == ["1234"]


def test_partial_payment_leaves_invoice_open(store: Store, book: Book) -> None:
    c = book.customer("Hooli")
    inv = book.invoice(c, "2001", "1000.00")
    rid = book.pay("400.00", refs=[ref("2001", "400.00", invoice_amount="1000.00")])
    reconcile(store)
    assert decision(store, rid).status == "auto_applied"
    assert balance(store, inv) == ("600.00", "open")


def test_short_pay_within_tolerance_is_a_deduction_with_reason(store: Store, book: Book) -> None:
    c = book.customer("Wonka")
    inv = book.invoice(c, "3001", "500.00")
    rid = book.pay("497.00", text="invoice 3001")
    reconcile(store)
    assert decision(store, rid).status == "auto_applied"
    with store.session() as s:
        adj = s.execute(select(Adjustment)).scalar_one()
    assert (str(adj.amount.amount), adj.reason_code) == ("3.00", "SHORTPAY")
    assert balance(store, inv) == ("0.00", "paid")


def test_stated_discount_and_adx_reason(store: Store, book: Book) -> None:
    c = book.customer("Vandelay")
    inv = book.invoice(c, "3101", "100.00")
    rid = book.pay("95.00", refs=[ref("3101", "95.00", adjustment="-5.00", reason="CS")])
    reconcile(store)
    with store.session() as s:
        adj = s.execute(select(Adjustment)).scalar_one()
    assert adj.reason_code == "CS" and balance(store, inv) == ("0.00", "paid")
    assert decision(store, rid).deduction_minor == 500


def test_short_pay_over_tolerance_is_an_exception(store: Store, book: Book) -> None:
    c = book.customer("Stark")
    inv = book.invoice(c, "4001", "500.00")
    rid = book.pay("300.00", text="invoice 4001")
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.exception_kind) == ("exception", "short_pay_over_tolerance")
    assert d.candidates[0]["invoices"][0]["number"] == "4001"
    assert balance(store, inv) == ("500.00", "open")


def test_over_payment_becomes_unapplied_credit(store: Store, book: Book) -> None:
    c = book.customer("Wayne")
    book.invoice(c, "5001", "100.00")
    rid = book.pay("120.00", text="invoice 5001")
    reconcile(store)
    d = decision(store, rid)
    assert d.status == "auto_applied" and d.unapplied_minor == 2000
    assert d.evidence["over_payment"] == "20.00"


def test_no_reference_exact_open_balance_of_the_payer(store: Store, book: Book) -> None:
    c = book.customer("Pied Piper Inc.")
    book.invoice(c, "6001", "77.70")
    book.invoice(c, "6002", "12.00")
    rid = book.pay("77.70", payer="PIED PIPER INCORPORATED")
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.rule) == ("auto_applied", "customer_exact_balance")


def test_subset_of_open_invoices(store: Store, book: Book) -> None:
    c = book.customer("Massive Dynamic")
    book.invoice(c, "7001", "100.00")
    book.invoice(c, "7002", "250.00")
    book.invoice(c, "7003", "999.99")
    rid = book.pay("350.00", payer="Massive Dynamic")
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.rule) == ("auto_applied", "customer_invoice_subset")
    assert applied(store, rid) == {"7001": "100.00", "7002": "250.00"}


def test_subset_with_an_open_credit_memo_applies_the_memo_and_the_cash(
    store: Store, book: Book
) -> None:
    c = book.customer("Massive Dynamic")
    first = book.invoice(c, "7101", "100.00", issued=date(2026, 9, 1))
    second = book.invoice(c, "7102", "250.00", issued=date(2026, 9, 20))
    book.invoice(c, "7103", "999.99")
    memo = book.credit(c, "CM-71", "50.00")
    rid = book.pay("300.00", payer="Massive Dynamic")
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.rule) == ("auto_applied", "customer_invoice_subset")
    assert d.evidence["credits_in_subset"] == ["CM-71"]
    assert applied(store, rid) == {"7101": "50.00", "7102": "250.00"}  # the cash: 300.00
    assert (d.applied_minor, d.unapplied_minor) == (30000, 0)
    with store.session() as s:
        credit = s.execute(
            select(Application).where(col(Application.source_id) == memo)
        ).scalar_one()
        assert (credit.invoice_id, credit.amount_minor, credit.decision_id) == (first, 5000, d.id)
        assert s.get(CreditMemo, memo).balance_minor == 0  # type: ignore[union-attr]
    assert balance(store, first) == ("0.00", "paid")
    assert balance(store, second) == ("0.00", "paid")


def test_structured_payment_short_by_an_open_credit_memo_takes_the_memo(
    store: Store, book: Book
) -> None:
    c = book.customer("Oscorp")
    inv = book.invoice(c, "7201", "500.00")
    memo = book.credit(c, "CM-72", "120.00")
    rid = book.pay("380.00", payer="Oscorp", refs=[ref("7201")])
    summary = reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.evidence["credit_taken"]) == ("auto_applied", "CM-72")
    assert applied(store, rid) == {"7201": "380.00"}
    assert balance(store, inv) == ("0.00", "paid")
    assert summary.credit_memos_applied == 0  # taken by the payment, not by the memo pass
    with store.session() as s:
        assert s.get(CreditMemo, memo).balance_minor == 0  # type: ignore[union-attr]
        assert not s.execute(select(Adjustment)).scalars().all()  # no write-off either


def test_credit_memo_named_in_the_remittance_is_applied_with_the_cash(
    store: Store, book: Book
) -> None:
    """An 820 paying three invoices less a credit memo (RMR*CM) and a deduction (ADX)."""
    c = book.customer("Globex Corporation")
    first = book.invoice(c, "INV-1020", "2000.00")
    second = book.invoice(c, "INV-1021", "1550.00")
    third = book.invoice(c, "INV-1022", "1000.00")
    memo = book.credit(c, "CM-0042", "377.00")
    rid = book.pay(
        "4123.00",
        payer="GLOBEX CORPORATION",
        refs=[
            ref("INV-1020", "2000.00"),
            ref("INV-1021", "1500.00", adjustment="-50.00", reason="CS"),
            {"kind": "credit_memo", "ref": "CM-0042", "amount": "-377.00"},
            ref("INV-1022", "1000.00"),
        ],
    )
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.confidence) == ("auto_applied", 100)
    assert d.evidence["credit_memo_refs"] == ["CM-0042"]
    assert applied(store, rid) == {
        "INV-1020": "1623.00",
        "INV-1021": "1500.00",
        "INV-1022": "1000.00",
    }
    # the 50.00 deduction is over the short-pay tolerance: it stays open for a person
    assert (d.applied_minor, d.deduction_minor, d.unapplied_minor) == (412300, 0, 0)
    assert d.evidence["deductions_left_open"] == [
        {
            "invoice": "INV-1021",
            "amount": "50.00",
            "reason": "CS",
            "why": "over the short-pay tolerance",
        }
    ]
    with store.session() as s:
        line = s.execute(select(Application).where(col(Application.source_id) == memo)).scalar_one()
        assert (line.invoice_id, line.amount_minor) == (first, 37700)
        assert s.get(CreditMemo, memo).balance_minor == 0  # type: ignore[union-attr]
    for invoice in (first, third):
        assert balance(store, invoice) == ("0.00", "paid")
    assert balance(store, second)[0] == "50.00"


def test_same_name_customers_told_apart_by_legal_form(store: Store, book: Book) -> None:
    inc = book.customer("Acme Foods Inc.")
    llc = book.customer("Acme Foods LLC")
    book.invoice(inc, "7301", "75.00")
    book.invoice(llc, "7302", "75.00")
    rid = book.pay("75.00", payer="ACME FOODS, LLC")
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.customer_id) == ("auto_applied", llc)
    assert d.evidence["customer_from"] == "exact name with legal form"
    assert applied(store, rid) == {"7302": "75.00"}
    # without the legal form nothing tells them apart
    book.invoice(inc, "7303", "80.00")
    book.invoice(llc, "7304", "80.00")
    other = book.pay("80.00", payer="Acme Foods")
    reconcile(store)
    assert decision(store, other).status != "auto_applied"


def test_ties_are_suggested_never_applied(store: Store, book: Book) -> None:
    c = book.customer("Aperture")
    book.invoice(c, "8001", "50.00", issued=date(2026, 9, 1))
    book.invoice(c, "8002", "50.00", issued=date(2026, 9, 15))
    rid = book.pay("50.00", payer="Aperture")
    reconcile(store)
    d = decision(store, rid)
    assert d.status == "suggested" and d.exception_kind == "ambiguous"
    assert [c["invoices"][0]["number"] for c in d.candidates] == ["8001", "8002"]
    assert applied(store, rid) == {}


def test_unidentified_payer(store: Store, book: Book) -> None:
    book.customer("Black Mesa")
    rid = book.pay("10.00", payer="Someone Else Entirely")
    reconcile(store)
    assert decision(store, rid).exception_kind == "unidentified_payer"


def test_similar_names_abstain(store: Store, book: Book) -> None:
    a = book.customer("Summit Logistics North")
    b = book.customer("Summit Logistics South")
    book.invoice(a, "9001", "10.00")
    book.invoice(b, "9002", "10.00")
    rid = book.pay("10.00", payer="Summit Logistics")
    reconcile(store)
    assert decision(store, rid).exception_kind in ("ambiguous", "unidentified_payer")
    assert applied(store, rid) == {}


def test_currency_mismatch(store: Store, book: Book) -> None:
    c = book.customer("Oceanic")
    book.invoice(c, "1101", "100.00", currency="EUR")
    rid = book.pay("100.00", currency="USD", refs=[ref("1101", "100.00")])
    reconcile(store)
    assert decision(store, rid).exception_kind == "currency_mismatch"


def test_currency_mismatch_by_payer_names_what_it_owes_and_in_what(
    store: Store, book: Book
) -> None:
    """Cash from a known payer in a currency none of its open invoices is in: the evidence
    says in which currencies it owes, for the person deciding."""
    c = book.customer("Soylent Corp")
    book.invoice(c, "1102", "450.00", currency="GBP")
    book.invoice(c, "1103", "20.00", currency="EUR")
    rid = book.pay("450.00", currency="USD", payer="SOYLENT CORP")
    reconcile(store)
    d = decision(store, rid)
    assert d.exception_kind == "currency_mismatch"
    assert d.evidence["invoice_currencies"] == ["EUR", "GBP"]
    assert d.evidence["open_invoices_in_other_currencies"] == 2


def test_duplicate_payment_is_never_applied_twice(store: Store, book: Book) -> None:
    c = book.customer("Tyrell")
    book.invoice(c, "1201", "30.00")
    book.invoice(c, "1202", "30.00")
    first = book.pay("30.00", iban="DE02100100100006820101", refs=[ref("1201", "30.00")])
    reconcile(store)
    second = book.pay(
        "30.00", iban="DE02100100100006820101", refs=[ref("1201", "30.00")], day=date(2026, 11, 3)
    )
    reconcile(store)
    assert decision(store, first).status == "auto_applied"
    duplicate = decision(store, second)
    assert duplicate.exception_kind == "duplicate_payment"
    # the person sees which payment it repeats
    assert duplicate.evidence["duplicate_of"] == {
        "remittance_id": first,
        "value_date": "2026-11-02",
    }


def test_learned_iban_identifies_the_payer_next_time(store: Store, book: Book) -> None:
    c = book.customer("Umbrella")
    book.invoice(c, "1301", "20.00")
    book.invoice(c, "1302", "33.00")
    book.pay("20.00", iban="GB33BUKB20201555555555", refs=[ref("1301", "20.00")])
    reconcile(store)
    with store.session() as s:
        assert (
            s.execute(select(PayerAlias).where(col(PayerAlias.kind) == "iban"))
            .scalar_one()
            .customer_id
            == c
        )
    rid = book.pay("33.00", iban="GB33BUKB20201555555555", payer="U. CORP TREASURY")
    reconcile(store)
    d = decision(store, rid)
    assert d.status == "auto_applied" and d.evidence["customer_from"] == "learned iban"


def test_credit_memo_applies_to_the_invoice_with_the_same_reference(
    store: Store, book: Book
) -> None:
    c = book.customer("Cyberdyne")
    book.invoice(c, "1401", "100.00", issued=date(2026, 8, 1))
    target = book.invoice(c, "1402", "100.00", po="PO-77")
    memo = book.credit(c, "CM-1", "40.00", reference="PO-77")
    summary = reconcile(store)
    assert summary.credit_memos_applied == 1
    assert balance(store, target) == ("60.00", "open")
    with store.session() as s:
        cm = s.get(CreditMemo, memo)
        assert cm is not None and cm.balance_minor == 0 and cm.status == "paid"


def test_a_write_off_credit_memo_is_never_credit_to_apply(store: Store, book: Book) -> None:
    """The credit memo arsync created to write off a deduction is used up by that write-off,
    even while a system still shows it open (a pull between the write-off's two steps): a
    payment short by its amount is a new deduction, and only the customer's genuine credit
    memo is applied."""
    c = book.customer("Tyrell Corp")
    first = book.invoice(c, "7301", "200.00", issued=date(2026, 9, 1))
    later = book.invoice(c, "7302", "100.00", issued=date(2026, 9, 15))
    written_off = book.credit(c, "CN-5013", "3.00")
    genuine = book.credit(c, "CM-73", "40.00")
    with store.session() as s:
        memo = s.get(CreditMemo, written_off)
        assert memo is not None
        memo.adjustment_id = written_off  # as the write-off push records it
        s.add(memo)
    rid = book.pay("197.00", payer="Tyrell Corp", refs=[ref("7301")])
    summary = reconcile(store)
    d = decision(store, rid)
    assert d.status == "auto_applied" and "credit_taken" not in d.evidence
    assert d.evidence["short_pay"] == "3.00" and d.deduction_minor == 300
    assert summary.credit_memos_applied == 1
    with store.session() as s:
        assert s.get(CreditMemo, written_off).balance_minor == 300  # type: ignore[union-attr]
        assert s.get(CreditMemo, genuine).balance_minor == 0  # type: ignore[union-attr]
        used = set(s.execute(select(col(Application.source_id))).scalars())
        assert written_off not in used and genuine in used
        assert not s.execute(select(Decision).where(col(Decision.source_id) == written_off)).first()
    assert balance(store, first) == ("0.00", "paid")
    assert balance(store, later) == ("60.00", "open")
    again = reconcile(store)
    assert (again.credit_memos_applied, again.credit_memos_suggested) == (0, 0)


def test_rerun_changes_nothing(store: Store, book: Book) -> None:
    c = book.customer("Soylent")
    book.invoice(c, "1501", "10.00")
    book.pay("10.00", text="inv 1501")
    book.pay("99.00", payer="Nobody Known")
    first = reconcile(store)
    with store.session() as s:
        decisions = len(s.execute(select(Decision)).all())
    second = reconcile(store)
    with store.session() as s:
        assert len(s.execute(select(Decision)).all()) == decisions
    assert first.remittances == 2 and second.remittances == 0


def test_a_person_confirms_a_suggestion_and_the_payer_is_learned(store: Store, book: Book) -> None:
    from reconciler.confirm import confirm

    c = book.customer("Bluth")
    first = book.invoice(c, "1601", "50.00", issued=date(2026, 9, 1))
    book.invoice(c, "1602", "50.00", issued=date(2026, 9, 15))
    rid = book.pay("50.00", payer="Bluth", iban="NL91ABNA0417164300")
    reconcile(store)
    suggested = decision(store, rid)
    assert suggested.status == "suggested"
    confirmed = confirm(store, suggested.id, by="person:ana")
    assert (confirmed.status, confirmed.decided_by, confirmed.rule) == (
        "auto_applied",
        "person:ana",
        "confirmed_by_person",
    )
    assert balance(store, first) == ("0.00", "paid")
    with store.session() as s:
        assert s.get(Decision, suggested.id).superseded  # type: ignore[union-attr]
        assert s.execute(select(PayerAlias).where(col(PayerAlias.kind) == "iban")).scalar_one()
    assert reconcile(store).remittances == 0


def test_no_matching_invoice_for_a_known_payer(store: Store, book: Book) -> None:
    c = book.customer("Gringotts")
    book.invoice(c, "1701", "80.00")
    book.invoice(c, "1702", "90.00")
    rid = book.pay("30.00", payer="Gringotts")
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.exception_kind) == ("exception", "no_matching_invoice")
    assert d.candidates[0]["why"].startswith("oldest open invoices first")
    assert applied(store, rid) == {}


def test_payment_above_everything_open_is_an_over_payment_exception(
    store: Store, book: Book
) -> None:
    c = book.customer("Dunder Paper")
    book.invoice(c, "1801", "10.00")
    rid = book.pay("500.00", payer="Dunder Paper")
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.exception_kind) == ("exception", "over_payment")
    assert applied(store, rid) == {}


def test_a_payer_account_that_pays_for_several_customers_identifies_none(
    store: Store, book: Book
) -> None:
    """A bill-payment service or a parent company pays for several customers from one
    account: once it has paid for a second customer it is shared, and an unreferenced
    payment from it is not put on the first customer's invoices by amount."""
    first, second = book.customer("Initech"), book.customer("Hooli")
    book.invoice(first, "1801", "40.00")
    book.invoice(first, "1802", "75.00")
    book.invoice(second, "1901", "60.00")
    iban = "GB94BARC10201530093459"
    book.pay("40.00", iban=iban, payer="BILLPAY SERVICES", refs=[ref("1801", "40.00")])
    reconcile(store)
    book.pay("60.00", iban=iban, payer="BILLPAY SERVICES", refs=[ref("1901", "60.00")])
    reconcile(store)
    with store.session() as s:
        alias = s.execute(select(PayerAlias).where(col(PayerAlias.kind) == "iban")).scalar_one()
        assert alias.customer_id == ""  # shared: it names nobody
    unreferenced = book.pay("75.00", iban=iban, payer="BILLPAY SERVICES")
    reconcile(store)
    d = decision(store, unreferenced)
    assert d.status != "auto_applied" and "customer_from" not in d.evidence
    assert d.evidence["payer_shared"] == ["iban", "name"]  # the report says why: no one
