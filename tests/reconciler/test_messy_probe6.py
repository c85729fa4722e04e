"""Probe 6: remittances as collections teams receive them, in shapes the earlier probes left
out: long lockbox stubs that list fewer invoices than the check pays, an advice that arrives
after its cash was placed, thirty invoices each a cent short, a wire fee beside a named
invoice, an invoice paid with its late fee, customers named alike across borders, and an
invoice number the payer's AP system padded or suffixed. Each is decided through the real
reconcile path and checked for its outcome, its rule and its evidence; where the reconciler
cannot be sure, the cash must stay with a person."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from canonical.enums import RemittanceStatus
from canonical.models import Remittance
from canonical.money import Money
from canonical.store import Store
from reconciler import reconcile
from tests.support.receivables import Book, applied, balance, decision, ref

pytestmark = pytest.mark.usefixtures("book_loading")

AUTO, SUGGESTED, EXCEPTION = "auto_applied", "suggested", "exception"


def _amount(*amounts: str) -> str:
    """The sum of amounts, written as a payment states it."""
    return str(sum((Decimal(a) for a in amounts), Decimal("0.00")))


# -- lockbox stubs --------------------------------------------------------------------------


def _twelve(book: Book, customer: str) -> dict[str, str]:
    """Twelve open invoices of distinct amounts: number -> amount."""
    invoices = {f"{5001 + n}": f"{100 + 10 * n}.00" for n in range(12)}
    for number, amount in invoices.items():
        book.invoice(customer, number, amount)
    return invoices


def test_lockbox_stub_listing_ten_of_twelve_invoices_pays_the_ten(store: Store, book: Book) -> None:
    """A check for exactly ten of the customer's twelve open invoices, keyed by the lockbox
    one stub line each: the ten named are paid, the other two stay open."""
    acme = book.customer("Acme Corp")
    invoices = _twelve(book, acme)
    listed = list(invoices)[:10]
    text = "\n".join(f"INV {n} {invoices[n]}" for n in listed)
    rid = book.pay(_amount(*(invoices[n] for n in listed)), payer="ACME CORP", text=text)
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.rule) == (AUTO, "invoice_number_in_text")
    assert applied(store, rid) == {n: invoices[n] for n in listed}
    assert [m["invoice"] for m in d.evidence["matched"]] == listed
    assert d.unapplied_minor == 0


def test_lockbox_check_paying_more_than_the_stub_lists_is_not_spread_on_a_guess(
    store: Store, book: Book
) -> None:
    """The check covers all twelve invoices, the stub lists ten: the ten named are paid, and
    the rest is left unapplied on the account rather than put on the two unnamed invoices
    because their sum happens to fit."""
    acme = book.customer("Acme Corp")
    invoices = _twelve(book, acme)
    listed = list(invoices)[:10]
    text = "REMITTANCE " + " ".join(f"{n}" for n in listed)
    rid = book.pay(_amount(*invoices.values()), payer="ACME CORP", text=text)
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.rule) == (AUTO, "invoice_number_in_text")
    assert applied(store, rid) == {n: invoices[n] for n in listed}
    assert d.unapplied_minor == Money(_amount(invoices["5011"], invoices["5012"]), "USD").minor
    assert d.evidence["over_payment"] == _amount(invoices["5011"], invoices["5012"])


def test_lockbox_stub_with_two_lines_short_applies_as_stated_and_leaves_them_open(
    store: Store, book: Book
) -> None:
    """Twelve stub lines, two of them paid short by the payer's deductions (25.00 and
    40.00, beyond the tolerance): the cash applies as the stub states, and the two
    deductions stay open on their invoices for a person to chase."""
    acme = book.customer("Acme Corp")
    invoices = _twelve(book, acme)
    stated = dict(invoices) | {"5003": "95.00", "5008": "130.00"}  # 120.00 - 25, 170.00 - 40
    text = "\n".join(f"{n} {stated[n]}" for n in invoices)
    ids = {n: i for n, i in zip(invoices, _ids(store, list(invoices)), strict=True)}
    rid = book.pay(_amount(*stated.values()), payer="ACME CORP", text="INVOICES\n" + text)
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.rule) == (AUTO, "invoice_number_in_text")
    assert applied(store, rid) == stated
    assert d.evidence["amounts"] == "as stated by the payer"
    assert d.deduction_minor == 0
    assert balance(store, ids["5003"]) == ("25.00", "open")
    assert balance(store, ids["5008"]) == ("40.00", "open")


def _ids(store: Store, numbers: list[str]) -> list[str]:
    from sqlalchemy import select
    from sqlmodel import col

    from canonical.models import Invoice

    with store.session() as s:
        rows = dict(
            s.execute(
                select(col(Invoice.number), col(Invoice.id)).where(col(Invoice.number).in_(numbers))
            ).all()
        )
    return [rows[n] for n in numbers]


# -- remittance advice after the cash -------------------------------------------------------


def _advice(store: Store, amount: str, payer: str, refs: list[dict[str, str | None]]) -> str:
    """An 820 advice without cash (BPR01 ``I``) as ingest stores it."""
    with store.session() as s:
        row = Remittance(
            source="edi820",
            source_key=f"advice-{payer}-{amount}",
            currency="USD",
            amount_minor=Money(amount, "USD").minor,
            value_date=date(2026, 11, 3),
            payer_name=payer,
            structured_refs=refs,
            status=RemittanceStatus.ADVICE,
        )
        s.add(row)
    return row.id


def test_advice_a_day_after_cash_held_as_an_exception_places_it(store: Store, book: Book) -> None:
    """Cash with no detail that no rule could place (two equal invoices) waits as a
    suggestion; the advice arriving next day names the invoice: the cash is decided again
    by its references and applied there."""
    initech = book.customer("Initech LLC")
    book.invoice(initech, "7101", "640.00")
    book.invoice(initech, "7102", "640.00")
    rid = book.pay("640.00", payer="INITECH LLC", text="ACH CREDIT")
    reconcile(store)
    assert decision(store, rid).status == SUGGESTED
    _advice(store, "640.00", "INITECH LLC", [ref("7102", "640.00")])
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.rule) == (AUTO, "structured_reference")
    assert applied(store, rid) == {"7102": "640.00"}
    assert d.evidence["remittance_advice"]["matched_on"] == "payer and amount"


# -- the same payment through two channels ---------------------------------------------------


def test_bank_line_placed_by_amount_then_the_webhook_naming_its_invoice(
    store: Store, book: Book
) -> None:
    """The bank's line of a card payment comes first, with no detail, and its amount places
    it on 1605; next day the processor's webhook of that payment names 1605. It is the same
    cash: a duplicate for a person naming the bank's line, not cash naming nothing open."""
    acme = book.customer("Acme Corp")
    book.invoice(acme, "1605", "500.00")
    book.invoice(acme, "1606", "700.00")
    bank = book.pay("500.00", payer="ACME CORP", text="ACH CREDIT", source="camt.054")
    reconcile(store)
    assert applied(store, bank) == {"1605": "500.00"}
    hook = book.pay(
        "500.00", payer="ACME CORP", refs=[ref("1605")], day=date(2026, 11, 3), source="stripe"
    )
    reconcile(store)
    d = decision(store, hook)
    assert (d.status, d.exception_kind, d.rule) == (
        EXCEPTION,
        "duplicate_payment",
        "duplicate_payment",
    )
    assert d.evidence["duplicate_of"]["remittance_id"] == bank
    assert d.evidence["labelled_not_found"] == ["1605"]
    assert applied(store, hook) == {}


def test_webhook_naming_an_invoice_a_bank_line_of_that_payment_paid(
    store: Store, book: Book
) -> None:
    """The bank's line names 1605 and pays it; the processor's webhook of that card payment
    names 1605 in its description a day later. Another invoice owes 500.00 too: the copy is
    a duplicate, never a suggestion to put the cash on 1606."""
    acme = book.customer("Acme Corp")
    book.invoice(acme, "1605", "500.00")
    other = book.invoice(acme, "1606", "500.00")
    bank = book.pay("500.00", payer="ACME CORP", text="INV 1605", source="camt.054")
    reconcile(store)
    hook = book.pay(
        "500.00",
        payer="ACME CORP",
        text="Invoice 1605 paid by card",
        day=date(2026, 11, 3),
        source="stripe",
    )
    reconcile(store)
    d = decision(store, hook)
    assert (d.status, d.exception_kind) == (EXCEPTION, "duplicate_payment")
    assert d.evidence["duplicate_of"]["remittance_id"] == bank
    assert applied(store, hook) == {}
    assert balance(store, other) == ("500.00", "open")


def test_a_payment_naming_another_paid_invoice_is_no_copy(store: Store, book: Book) -> None:
    """The webhook names 1607, paid last week by another payment of another amount: not a
    copy of the bank's line that paid 1605; it stays a question for a person about a paid
    invoice, not a duplicate."""
    acme = book.customer("Acme Corp")
    book.invoice(acme, "1605", "500.00")
    book.invoice(acme, "1607", "800.00")
    book.pay("800.00", payer="ACME CORP", text="INV 1607", day=date(2026, 10, 27))
    bank = book.pay("500.00", payer="ACME CORP", text="ACH CREDIT", source="camt.054")
    reconcile(store)
    assert applied(store, bank) == {"1605": "500.00"}
    hook = book.pay(
        "500.00", payer="ACME CORP", refs=[ref("1607")], day=date(2026, 11, 3), source="stripe"
    )
    reconcile(store)
    d = decision(store, hook)
    assert d.status == EXCEPTION and d.exception_kind != "duplicate_payment"
    assert d.evidence["labelled_not_found"] == ["1607"]
    assert applied(store, hook) == {}


# -- a cent short on each of many invoices ---------------------------------------------------


def test_thirty_invoices_each_a_cent_short_in_an_820(store: Store, book: Book) -> None:
    """An AP system rounds each of thirty lines down a cent (333.33 on 333.34): each line's
    cent is within the tolerance, and so are the 0.30 together; every invoice closes, the
    cents written off as short pays."""
    acme = book.customer("Acme Corp")
    numbers = [f"{8101 + n}" for n in range(30)]
    ids = [book.invoice(acme, n, "333.34") for n in numbers]
    rid = book.pay(
        _amount(*["333.33"] * 30), payer="ACME CORP", refs=[ref(n, "333.33") for n in numbers]
    )
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.rule) == (AUTO, "structured_reference")
    assert applied(store, rid) == dict.fromkeys(numbers, "333.33")
    assert d.deduction_minor == 30
    assert d.evidence["short_pay"] == "0.30"
    assert all(balance(store, i) == ("0.00", "paid") for i in ids)


def test_thirty_invoices_listed_in_text_paid_thirty_cents_short(store: Store, book: Book) -> None:
    """The same thirty invoices named in text without amounts, the check 0.30 short: within
    the tolerance of the invoices paid; written off, every invoice closed."""
    acme = book.customer("Acme Corp")
    numbers = [f"{8201 + n}" for n in range(30)]
    ids = [book.invoice(acme, n, "333.34") for n in numbers]
    rid = book.pay(
        _amount(*["333.33"] * 30), payer="ACME CORP", text="INVOICES " + ", ".join(numbers)
    )
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.rule) == (AUTO, "invoice_number_in_text")
    assert d.deduction_minor == 30
    assert d.evidence["short_pay"] == "0.30"
    assert all(balance(store, i) == ("0.00", "paid") for i in ids)


def test_thirty_invoices_a_cent_short_without_reference_is_not_applied(
    store: Store, book: Book
) -> None:
    """No reference at all: thirty invoices less 0.30 is no subset the search can vouch for;
    the cash is never applied on its own."""
    acme = book.customer("Acme Corp")
    for n in range(30):
        book.invoice(acme, f"{8301 + n}", "333.34")
    rid = book.pay(_amount(*["333.33"] * 30), payer="ACME CORP", text="PAYMENT")
    reconcile(store)
    assert decision(store, rid).status != AUTO
    assert applied(store, rid) == {}


# -- wire fees -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fee", "total", "status"),
    [
        ("15.00", "2500.00", AUTO),  # 0.6 %: within the tolerance
        ("25.00", "2500.00", AUTO),  # 1.0 %: on the line, within
        ("35.00", "2500.00", EXCEPTION),  # 1.4 %: a person decides
    ],
)
def test_wire_fee_of_a_common_size_on_a_named_invoice(
    store: Store, book: Book, fee: str, total: str, status: str
) -> None:
    """A wire naming its invoice arrives short by the intermediary's usual charge: written
    off as a short pay when within the tolerance, else left to a person with the invoice as
    the candidate; never applied to another invoice."""
    acme = book.customer("Acme Corp")
    inv = book.invoice(acme, "8401", total)
    book.invoice(acme, "8402", _amount(total, f"-{fee}"))  # the net amount fits this one
    rid = book.pay(_amount(total, f"-{fee}"), payer="ACME CORP", text="/INV/8401")
    reconcile(store)
    d = decision(store, rid)
    assert d.status == status
    assert d.evidence["short_pay"] == fee
    if status == AUTO:
        assert applied(store, rid) == {"8401": _amount(total, f"-{fee}")}
        assert d.deduction_minor == Money(fee, "USD").minor
        assert balance(store, inv) == ("0.00", "paid")
    else:
        assert d.exception_kind == "short_pay_over_tolerance"
        assert [i["number"] for i in d.candidates[0]["invoices"]] == ["8401"]
        assert applied(store, rid) == {}


# -- an invoice and its late fee -------------------------------------------------------------


def test_invoice_and_its_finance_charge_both_named(store: Store, book: Book) -> None:
    """The payer pays invoice 8501 and the finance charge invoiced on it (FC-8501): both
    named, both closed."""
    acme = book.customer("Acme Corp")
    book.invoice(acme, "8501", "1200.00")
    book.invoice(acme, "FC-8501", "18.00")
    rid = book.pay("1218.00", payer="ACME CORP", text="INV 8501 AND FIN CHG FC-8501")
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.rule) == (AUTO, "invoice_number_in_text")
    assert applied(store, rid) == {"8501": "1200.00", "FC-8501": "18.00"}


def test_invoice_paid_with_its_late_fee_named_only_in_words(store: Store, book: Book) -> None:
    """``INV 8601 INCL LATE FEE`` and the invoice's amount plus the fee: the named invoice is
    paid; the fee's cash is not put on the finance-charge invoice the payer did not name,
    nor lost: it stays unapplied on the account."""
    acme = book.customer("Acme Corp")
    book.invoice(acme, "8601", "1200.00")
    fee = book.invoice(acme, "FC-8601", "18.00")
    rid = book.pay("1218.00", payer="ACME CORP", text="INV 8601 INCL LATE FEE 18.00")
    reconcile(store)
    d = decision(store, rid)
    assert d.status in (AUTO, SUGGESTED)
    if d.status == AUTO:
        assert applied(store, rid) == {"8601": "1200.00"}
        assert d.unapplied_minor == 1800
    assert balance(store, fee) == ("18.00", "open")


# -- payers' AP systems writing our numbers their way ------------------------------------------


def test_an_820_with_our_number_padded_by_the_payers_ap_system(store: Store, book: Book) -> None:
    """The payer's AP system pads every reference to ten digits (``0000008701``): the
    number is ours; applied by the structured reference."""
    acme = book.customer("Acme Corp")
    book.invoice(acme, "INV-008701", "700.00")
    book.invoice(acme, "INV-008702", "700.00")
    rid = book.pay("700.00", payer="ACME CORP", refs=[ref("0000008701", "700.00")])
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.rule) == (AUTO, "structured_reference")
    assert applied(store, rid) == {"INV-008701": "700.00"}


def test_an_820_naming_our_invoice_without_its_letters(store: Store, book: Book) -> None:
    """Our invoice ``SI-2026-8801``; the payer's AP keyed ``2026-8801`` into RMR: the
    payer's one open invoice of that number but for our prefix. Not an invoice number as
    written, so a person confirms it; never applied elsewhere by the amount."""
    acme = book.customer("Acme Corp")
    book.invoice(acme, "SI-2026-8801", "900.00")
    book.invoice(acme, "SI-2026-8802", "900.00")
    rid = book.pay("900.00", payer="ACME CORP", refs=[ref("2026-8801", "900.00")])
    reconcile(store)
    d = decision(store, rid)
    assert d.status != AUTO or applied(store, rid) == {"SI-2026-8801": "900.00"}
    if d.status != AUTO:
        assert [i["number"] for i in d.candidates[0]["invoices"]] == ["SI-2026-8801"]


def test_ocr_slips_in_a_check_stub_list(store: Store, book: Book) -> None:
    """A scanned stub reads ``INV 87O1, 87I2, 87S3, 87B4`` (O, I, S, B for 0, 1, 5, 8): each
    read back to our number; all four paid, the evidence saying how each was read."""
    acme = book.customer("Acme Corp")
    for number in ("8701", "8712", "8753", "8784"):
        book.invoice(acme, number, "50.00")
    book.invoice(acme, "8799", "50.00")
    rid = book.pay("200.00", payer="ACME CORP", text="INV 87O1, 87I2, 87S3, 87B4")
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.rule) == (AUTO, "invoice_number_in_text")
    assert applied(store, rid) == dict.fromkeys(("8701", "8712", "8753", "8784"), "50.00")
    assert {m["read"] for m in d.evidence["matched"]} == {"ocr"}


# -- customers named alike across borders ------------------------------------------------------


def test_acme_corp_and_its_canadian_namesake_amount_only(store: Store, book: Book) -> None:
    """Acme Corp and ``Acme Corp. (Canada)`` both owe 500.00; ``ACME CORP`` pays 500.00 with
    nothing else: the name written is the US company's exactly, its one invoice of that
    amount is paid; the Canadian one is left alone."""
    us = book.customer("Acme Corp")
    ca = book.customer("Acme Corp. (Canada)")
    book.invoice(us, "9101", "500.00")
    theirs = book.invoice(ca, "9102", "500.00")
    rid = book.pay("500.00", payer="ACME CORP", text="PAYMENT")
    reconcile(store)
    d = decision(store, rid)
    assert d.customer_id == us
    assert applied(store, rid) in ({"9101": "500.00"}, {})
    assert balance(store, theirs) == ("500.00", "open")


def test_the_canadian_namesake_paying_the_us_companys_invoice(store: Store, book: Book) -> None:
    """``ACME CORP CANADA`` pays naming the US company's invoice: one customer paying for
    another is for a person to confirm, never applied on its own."""
    us = book.customer("Acme Corp")
    ca = book.customer("Acme Corp. (Canada)")
    book.invoice(us, "9201", "500.00")
    book.invoice(ca, "9202", "750.00")
    rid = book.pay("500.00", payer="ACME CORP CANADA", text="INV 9201")
    reconcile(store)
    d = decision(store, rid)
    assert d.status == SUGGESTED
    assert d.evidence["other_customers_invoices"] == [{"ref": "INV 9201", "invoice": "9201"}]
    assert d.candidates[0]["invoices"][0]["number"] == "9201"
    assert applied(store, rid) == {}
    assert d.customer_id == ca


def test_the_canadian_namesake_in_usd_owing_only_cad(store: Store, book: Book) -> None:
    """``ACME CORP (CANADA)`` sends USD 500.00 with no reference; it owes CAD 500.00 and the
    US company owes USD 500.00: the cash is not moved to the US company by its amount."""
    us = book.customer("Acme Corp")
    ca = book.customer("Acme Corp. (Canada)")
    book.invoice(us, "9301", "500.00")
    book.invoice(ca, "9302", "500.00", currency="CAD")
    rid = book.pay("500.00", payer="ACME CORP (CANADA)", text="PAYMENT")
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.exception_kind) == (EXCEPTION, "currency_mismatch")
    assert d.customer_id == ca
    assert applied(store, rid) == {}


# -- cash in another currency than the invoice ---------------------------------------------------


def test_eur_cash_naming_usd_invoices_with_their_usd_amounts(store: Store, book: Book) -> None:
    """EUR 1,388.00 naming two USD invoices with their USD amounts (1,000.00 + 500.00): no
    rate is known; a currency mismatch for a person, naming both invoices."""
    acme = book.customer("Acme Corp")
    book.invoice(acme, "9401", "1000.00")
    book.invoice(acme, "9402", "500.00")
    rid = book.pay(
        "1388.00",
        payer="ACME CORP",
        currency="EUR",
        refs=[ref("9401", "1000.00"), ref("9402", "500.00")],
    )
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.exception_kind) == (EXCEPTION, "currency_mismatch")
    assert sorted(i["number"] for c in d.candidates for i in c["invoices"]) == ["9401", "9402"]
    assert applied(store, rid) == {}


def test_eur_cash_of_the_usd_figure_without_reference(store: Store, book: Book) -> None:
    """EUR 1,000.00 from a payer whose only open invoice is USD 1,000.00 and one EUR invoice
    of 400.00: the figure matching means nothing across currencies; not applied."""
    acme = book.customer("Acme Corp")
    book.invoice(acme, "9501", "1000.00")
    book.invoice(acme, "9502", "400.00", currency="EUR")
    rid = book.pay("1000.00", payer="ACME CORP", currency="EUR", text="PAYMENT")
    reconcile(store)
    d = decision(store, rid)
    assert d.status != AUTO
    assert applied(store, rid) == {}
