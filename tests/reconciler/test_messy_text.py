"""Messy remittance text as bank files carry it: lists, ranges, amounts per invoice, numbers
that are not invoice numbers, other customers' invoices, cut and split references."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlmodel import col

from canonical.models import CreditMemo, Invoice
from canonical.store import Store
from reconciler import reconcile
from reconciler.references import loose_key, payer_behind, read_references
from tests.support.receivables import Book, applied, decision, ref

pytestmark = pytest.mark.usefixtures("book_loading")


def _keys(text: str) -> list[str]:
    return [ref.keys[0][0] for ref in read_references(text).refs]


def test_numbers_labelled_as_something_else_are_not_invoice_numbers() -> None:
    reading = read_references(
        "PO 4500 ACCT 778899 CUST NO 5521 TRACE#:021000021234567 DATE 20261102 "
        "PAID 11/02/2026 USD 1,250.00 INV 1001"
    )
    assert [ref.keys[0][0] for ref in reading.refs] == ["1001"]
    ignored = {entry["written"] for entry in reading.ignored}
    assert {"PO 4500", "ACCT 778899", "CUST NO 5521", "20261102", "11/02/2026"} <= ignored


def test_lists_ranges_and_shorthand_are_read_as_several_invoices() -> None:
    assert _keys("Inv#s 1001, 1002 & 1003") == ["1001", "1002", "1003"]
    assert _keys("INV 1234/35/36")[1:] == ["1234", "1235", "1236"]
    assert _keys("INVOICES 1001-1003")[1:] == ["1001", "1002", "1003"]
    assert [r.how for r in read_references("INVOICES 1001-1003").refs][1:] == ["range"] * 3
    assert _keys("1001-1999") == ["10011999"]  # too wide for a range: one number


def test_amounts_written_after_invoice_numbers_and_rmr_segments() -> None:
    refs = read_references("PMT INV1234 500.00 INV1235 $1,250.00 TOTAL 1750.00").refs
    assert [(r.keys[0][0], r.amount) for r in refs] == [("1234", "500.00"), ("1235", "1250.00")]
    refs = read_references("RMR*IV*1001**100.00\\RMR*IV*1002**50.00\\").refs
    assert [(r.keys[0][0], r.amount, r.labelled) for r in refs] == [
        ("1001", "100.00", True),
        ("1002", "50.00", True),
    ]


def test_keys_without_inner_zeros_and_processor_descriptors() -> None:
    assert loose_key("INV-2024-00123") == loose_key("2024-123") == "2024123"
    assert loose_key("A00123") == "A123"
    assert payer_behind("PAYPAL *ACME TOOLS") == ("PAYPAL", "ACME TOOLS")
    assert payer_behind("ACME * TOOLS") is None
    assert [r.how for r in read_references("RF18 5390 0754 7034").refs] == ["rf"]
    assert read_references("RF19 5390 0754 7034").refs == []  # bad check digits: nothing


def test_a_number_the_payer_did_not_mean_as_invoice_never_applies_to_another_customer(
    store: Store, book: Book
) -> None:
    acme = book.customer("Acme Corp")
    book.invoice(acme, "1001", "100.00")
    globex = book.customer("Globex Inc")
    book.invoice(globex, "4500", "80.00")
    book.invoice(globex, "778899", "80.00")
    po = book.pay("100.00", payer="ACME CORP", text="PO 4500 ACCT 778899 THANK YOU")
    reconcile(store)
    d = decision(store, po)
    assert (d.status, d.rule) == ("auto_applied", "customer_exact_balance")
    assert applied(store, po) == {"1001": "100.00"}
    assert {e["written"] for e in d.evidence["text_ignored"]} == {"PO 4500", "ACCT 778899"}


def test_text_naming_only_another_customers_invoice_is_a_suggestion(
    store: Store, book: Book
) -> None:
    acme = book.customer("Acme Corp")
    book.invoice(acme, "1001", "100.00")
    globex = book.customer("Globex Inc")
    book.invoice(globex, "3321", "60.00")
    book.invoice(globex, "1013", "100.00")
    bare = book.pay("100.00", payer="ACME CORP", text="REF 3321")
    ocr = book.pay("100.00", payer="ACME CORP", text="INV 1OI3")
    reconcile(store)
    for rid, number in ((bare, "3321"), (ocr, "1013")):
        d = decision(store, rid)
        assert (d.status, d.rule) == ("suggested", "invoice_number_in_text")
        assert applied(store, rid) == {}
        assert d.evidence["other_customers_invoices"][0]["invoice"] == number
        numbers = [c["invoices"][0]["number"] for c in d.candidates]
        assert numbers == ["1001", number]  # the payer's own open balance first


def test_an_unlabelled_number_leaving_cash_over_from_an_unknown_payer_is_suggested(
    store: Store, book: Book
) -> None:
    c = book.customer("Acme Corp")
    book.invoice(c, "7731", "60.00")
    book.invoice(c, "7732", "60.00")
    over = book.pay("100.00", payer="ZZ HOLDINGS", text="REF 7731")
    exact = book.pay("60.00", payer="ZZ HOLDINGS", text="REF 7732")
    reconcile(store)
    d = decision(store, over)
    assert d.status == "suggested" and d.rule == "invoice_number_in_text"
    assert d.evidence["text_weak"] == ["7731"] and "not_applied_because" in d.evidence
    assert d.candidates[0]["invoices"][0]["number"] == "7731"
    assert decision(store, exact).status == "auto_applied"
    assert applied(store, exact) == {"7732": "60.00"}


def test_list_range_and_amounts_in_text_apply_each_invoice(store: Store, book: Book) -> None:
    c = book.customer("Acme Corp")
    for number, amount in (("1001", "100"), ("1002", "100"), ("1003", "100"), ("1004", "100")):
        book.invoice(c, number, amount)
    book.invoice(c, "1234", "500.00")
    book.invoice(c, "1235", "1000.00")
    ranged = book.pay("300.00", payer="ACME CORP", text="INVOICES 1001-1003")
    stated = book.pay("750.00", payer="ACME CORP", text="PMT INV1234 500.00 INV1235 250.00")
    reconcile(store)
    d = decision(store, ranged)
    assert (d.status, d.rule) == ("auto_applied", "invoice_number_in_text")
    assert applied(store, ranged) == {"1001": "100.00", "1002": "100.00", "1003": "100.00"}
    assert {m.get("read") for m in d.evidence["matched"]} == {"range"}
    d = decision(store, stated)
    assert d.status == "auto_applied" and d.evidence["amounts"] == "as stated by the payer"
    assert applied(store, stated) == {"1234": "500.00", "1235": "250.00"}


def test_a_range_whose_amount_does_not_fit_is_not_applied(store: Store, book: Book) -> None:
    c = book.customer("Acme Corp")
    for number in ("1001", "1002", "1003"):
        book.invoice(c, number, "100.00")
    rid = book.pay("450.00", payer="ZZ UNKNOWN", text="1001-1003")
    reconcile(store)
    d = decision(store, rid)
    assert d.status == "suggested" and applied(store, rid) == {}
    assert len(d.candidates[0]["invoices"]) == 3


def test_inner_leading_zeros_and_credit_memo_numbers_in_text(store: Store, book: Book) -> None:
    c = book.customer("Acme Corp")
    book.invoice(c, "2024-123", "75.00")
    book.invoice(c, "2024-124", "75.00")
    book.invoice(c, "1001", "100.00")
    book.invoice(c, "5001", "30.00")  # bears the credit memo's number without its CM
    book.credit(c, "CM-5001", "30.00")
    zeros = book.pay("75.00", payer="ACME CORP", text="RE: INV-2024-00123")
    netted = book.pay("70.00", payer="ACME CORP", text="INV 1001 LESS CM-5001")
    reconcile(store)
    d = decision(store, zeros)
    assert d.status == "auto_applied" and applied(store, zeros) == {"2024-123": "75.00"}
    assert d.evidence["matched"] == [
        {"ref": "INV-2024-00123", "invoice": "2024-123", "read": "loose"}
    ]
    d = decision(store, netted)
    assert d.status == "auto_applied" and applied(store, netted) == {"1001": "70.00"}
    assert d.evidence["credit_memo_refs"] == ["CM-5001"]
    with store.session() as s:
        memo = s.execute(select(CreditMemo).where(col(CreditMemo.number) == "CM-5001")).scalar_one()
        five = s.execute(select(Invoice).where(col(Invoice.number) == "5001")).scalar_one()
    assert memo.balance_minor == 0 and five.balance_minor == 3000  # the memo, not invoice 5001


def test_a_number_cut_at_the_field_length_or_split_is_only_suggested(
    store: Store, book: Book
) -> None:
    c = book.customer("Acme Corp")
    book.invoice(c, "1234", "250.00")
    book.invoice(c, "123456", "100.00")
    text = ("PAYMENT FOR GOODS DELIVERED " * 6)[: 140 - len(" INV 1234")] + " INV 1234"
    assert len(text) == 140
    cut = book.pay("250.00", payer="ACME CORP", text=text)
    split = book.pay("100.00", payer="ACME CORP", text="INV 1234\n56")
    reconcile(store)
    for rid, first in ((cut, "1234"), (split, "123456")):
        d = decision(store, rid)
        assert (d.status, d.rule) == ("suggested", "invoice_number_in_text")
        assert applied(store, rid) == {}
        assert d.evidence["text_conflicts"]
        assert d.candidates[0]["invoices"][0]["number"] == first  # the amount fits it


def test_payer_behind_a_processor_descriptor_is_identified(store: Store, book: Book) -> None:
    acme = book.customer("Acme Corp")
    book.invoice(acme, "1001", "100.00")
    book.invoice(acme, "1002", "30.00")
    paypal = book.customer("PayPal Inc")
    book.invoice(paypal, "9001", "100.00")
    rid = book.pay("100.00", payer="PAYPAL *ACME")
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.rule) == ("auto_applied", "customer_exact_balance")
    assert d.evidence["payer_via"] == "PAYPAL"
    assert applied(store, rid) == {"1001": "100.00"}


def test_a_structured_reference_to_a_credit_memo_never_pays_the_invoice_of_that_number(
    store: Store, book: Book
) -> None:
    acme = book.customer("Acme Corp")
    book.invoice(acme, "INV-5001", "120.00")
    book.invoice(acme, "INV-5002", "75.00")
    book.credit(acme, "CM-5001", "25.00")
    memo_only = book.pay("100.00", payer="ACME CORP", refs=[ref("CM-5001", "100.00")])
    with_memo = book.pay("50.00", payer="ACME CORP", refs=[ref("INV-5002"), ref("CM-5001")])
    reconcile(store)
    assert decision(store, memo_only).rule != "structured_reference"
    assert "INV-5001" not in applied(store, memo_only)
    d = decision(store, with_memo)
    assert (d.status, d.rule) == ("auto_applied", "structured_reference")
    assert d.evidence["credit_memo_refs"] == ["CM-5001"]
    assert applied(store, with_memo) == {"INV-5002": "50.00"}  # the credit pays the other 25.00
