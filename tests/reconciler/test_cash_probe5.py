"""Probe 5: cash application as an AR clerk meets it, in themes the earlier probes left out:
early-payment discounts taken on some invoices only, late or without terms; bank and
intermediary fees taken off a wire against a genuine short pay; a payer paying in another
currency than the invoice's; over-payments and the same invoice paid twice; instalments;
remittance lines that do not add up, or net a credit memo off as a negative line; one payment
for two customers of a group; the same payment arriving through two channels; check, PO and
invoice numbers in one reference line.

Each scenario's docstring says what a careful clerk would do. Wrong cash (the wrong invoice,
the wrong amount, or the same cash twice) is the worst outcome: where the clerk would not be
sure, the reconciler must suggest, not apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from canonical.keys import document_key
from canonical.models import Adjustment, CreditMemo, Invoice
from canonical.store import Store
from reconciler import reconcile
from tests.support.receivables import Book, applied, decision, ref

pytestmark = pytest.mark.usefixtures("book_loading")

AUTO, SUGGESTED, EXCEPTION = "auto_applied", "suggested", "exception"
ISSUED = date(2026, 10, 1)  # "2/10 net 30": the discount's last day is 2026-10-11
IN_TIME = date(2026, 10, 9)
LATE = date(2026, 10, 28)
TERMS = "2/10 net 30"


@dataclass
class Seen:
    """What a remittance's current decision did."""

    status: str
    kind: str | None
    rule: str
    cash: dict[str, str]
    deduction: str
    unapplied: str
    evidence: dict[str, Any]
    candidates: list[dict[str, Any]]

    def candidate_numbers(self) -> list[list[str]]:
        return [[i["number"] for i in c.get("invoices", [])] for c in self.candidates]


class Desk:
    """A small book and the payments arriving at it, decided through the real path."""

    def __init__(self, store: Store, book: Book) -> None:
        self.store = store
        self.book = book
        self.customers: dict[str, str] = {}
        self.invoices: dict[str, str] = {}

    def customer(self, name: str) -> str:
        if name not in self.customers:
            self.customers[name] = self.book.customer(name)
        return self.customers[name]

    def invoice(
        self,
        number: str,
        amount: str,
        customer: str = "Acme Corp",
        currency: str = "USD",
        terms: str | None = None,
        po: str | None = None,
        issued: date = ISSUED,
    ) -> str:
        iid = self.book.invoice(
            self.customer(customer), number, amount, currency, issued=issued, po=po, terms=terms
        )
        self.invoices[number] = iid
        return iid

    def credit(self, number: str, amount: str, customer: str = "Acme Corp") -> str:
        return self.book.credit(self.customer(customer), number, amount)

    def pay(
        self,
        amount: str,
        text: str | None = None,
        *,
        payer: str | None = "ACME CORP",
        refs: list[dict[str, Any]] | None = None,
        currency: str = "USD",
        day: date = date(2026, 11, 2),
        source: str = "camt.054",
        iban: str | None = None,
    ) -> str:
        return self.book.pay(
            amount,
            payer=payer,
            iban=iban,
            text=text,
            refs=refs,
            currency=currency,
            day=day,
            source=source,
        )

    def run(self, rid: str) -> Seen:
        reconcile(self.store)
        return self.seen(rid)

    def seen(self, rid: str) -> Seen:
        d = decision(self.store, rid)
        cash = applied(self.store, rid)
        if d.status != AUTO:
            assert cash == {}, f"a {d.status} decision applied cash: {cash}"
        return Seen(
            d.status,
            d.exception_kind,
            d.rule,
            cash,
            _shown(d.deduction_minor),
            _shown(d.unapplied_minor),
            dict(d.evidence),
            list(d.candidates),
        )

    def balance(self, number: str) -> str:
        with self.store.session() as s:
            inv = s.get(Invoice, self.invoices[number])
            assert inv is not None
            return str(inv.balance.amount)

    def memo_balance(self, number: str) -> str:
        with self.store.session() as s:
            memo = s.execute(
                select(CreditMemo).where(col(CreditMemo.number_key) == document_key(number))
            ).scalar_one()
            return str(memo.balance.amount)

    def adjustment_list(self) -> list[tuple[str, str, str]]:
        with self.store.session() as s:
            rows = s.execute(select(Adjustment, Invoice).join(Invoice)).all()
        return sorted(
            ((inv.number, str(a.amount.amount), a.reason_code) for a, inv in rows),
            key=lambda row: (row[0], row[2]),
        )

    def adjustments(self) -> dict[str, tuple[str, str]]:
        with self.store.session() as s:
            rows = s.execute(select(Adjustment, Invoice).join(Invoice)).all()
        return {inv.number: (str(a.amount.amount), a.reason_code) for a, inv in rows}


def _shown(minor: int) -> str:
    return f"{minor / 100:.2f}"


@pytest.fixture
def desk(store: Store, book: Book) -> Desk:
    return Desk(store, book)


# -- early-payment discounts ----------------------------------------------------------------------


def test_discount_in_time_on_a_named_invoice_with_terms(desk: Desk) -> None:
    """2/10 net 30 on the invoice, paid 2% less within the ten days, invoice named: the clerk
    applies the cash and writes the 2% off as a discount; the invoice is closed."""
    desk.invoice("7001", "1000.00", terms=TERMS)
    got = desk.run(desk.pay("980.00", "INV 7001", day=IN_TIME))
    assert (got.status, got.cash, got.deduction) == (AUTO, {"7001": "980.00"}, "20.00")
    assert desk.adjustments() == {"7001": ("20.00", "DISCOUNT")}
    assert got.evidence["early_payment_discount"][0]["invoice"] == "7001"
    assert desk.balance("7001") == "0.00"


def test_discount_taken_after_its_last_day_is_not_written_off(desk: Desk) -> None:
    """The same 2% taken on day 27: the discount has lapsed; 20.00 short on a 1,000.00
    invoice is beyond the short-pay tolerance, so the clerk leaves it to a person (ask the
    customer for the 20.00), with the lapsed discount named as the likely reason."""
    desk.invoice("7002", "1000.00", terms=TERMS)
    got = desk.run(desk.pay("980.00", "INV 7002", day=LATE))
    assert (got.status, got.kind) == (EXCEPTION, "short_pay_over_tolerance")
    assert got.evidence["discount_lapsed"][0]["invoice"] == "7002"
    assert got.candidate_numbers() == [["7002"]]


def test_discount_without_terms_on_the_invoice_is_not_granted(desk: Desk) -> None:
    """The payer writes "less 2% disc" but the invoice carries no discount terms: the clerk
    does not grant a discount nobody agreed; 20.00 short stays for a person."""
    desk.invoice("7003", "1000.00")
    got = desk.run(desk.pay("980.00", "INV 7003 LESS 2% DISC 20.00", day=IN_TIME))
    assert (got.status, got.kind) == (EXCEPTION, "short_pay_over_tolerance")
    assert "early_payment_discount" not in got.evidence
    assert desk.adjustments() == {}


def test_discount_taken_on_one_of_two_named_invoices(desk: Desk) -> None:
    """Two invoices on 2/10 net 30, both named, paid in time; the payer took the 2% on the
    1,000.00 invoice only (1,480.00 = 980.00 + 500.00). The clerk sees the 20.00 short is
    exactly one invoice's granted discount: applies both, writes 20.00 off as a discount on
    7004 and closes both."""
    desk.invoice("7004", "1000.00", terms=TERMS)
    desk.invoice("7005", "500.00", terms=TERMS)
    got = desk.run(desk.pay("1480.00", "INV 7004 INV 7005", day=IN_TIME))
    assert got.status == AUTO
    assert got.cash == {"7004": "980.00", "7005": "500.00"}
    assert desk.adjustments() == {"7004": ("20.00", "DISCOUNT")}
    assert (desk.balance("7004"), desk.balance("7005")) == ("0.00", "0.00")


def test_discount_taken_on_the_smaller_of_two_named_invoices(desk: Desk) -> None:
    """As above, the discount taken on the 500.00 invoice only (1,490.00): 10.00 off 7007."""
    desk.invoice("7006", "1000.00", terms=TERMS)
    desk.invoice("7007", "500.00", terms=TERMS)
    got = desk.run(desk.pay("1490.00", "INV 7006, 7007", day=IN_TIME))
    assert got.status == AUTO
    assert got.cash == {"7006": "1000.00", "7007": "490.00"}
    assert desk.adjustments() == {"7007": ("10.00", "DISCOUNT")}


def test_discount_on_the_one_invoice_whose_terms_grant_it(desk: Desk) -> None:
    """Only one of the two invoices named has discount terms, and the payer took exactly its
    2%: the clerk grants it there and closes both."""
    desk.invoice("7008", "1000.00", terms=TERMS)
    desk.invoice("7009", "500.00")
    got = desk.run(desk.pay("1480.00", "INV 7008 7009", day=IN_TIME))
    assert got.status == AUTO
    assert got.cash == {"7008": "980.00", "7009": "500.00"}
    assert desk.adjustments() == {"7008": ("20.00", "DISCOUNT")}


def test_discount_on_one_of_two_taken_late(desk: Desk) -> None:
    """The payer took 2% on one of two invoices, three weeks after the discount lapsed: no
    discount is due; 20.00 short over 1,500.00 is beyond tolerance: a person decides."""
    desk.invoice("7010", "1000.00", terms=TERMS)
    desk.invoice("7011", "500.00", terms=TERMS)
    got = desk.run(desk.pay("1480.00", "INV 7010 INV 7011", day=LATE))
    assert (got.status, got.kind) == (EXCEPTION, "short_pay_over_tolerance")
    assert desk.adjustments() == {}


def test_discount_on_each_of_two_named_invoices(desk: Desk) -> None:
    """Both invoices less their 2% in time (1,470.00): both discounts written off."""
    desk.invoice("7012", "1000.00", terms=TERMS)
    desk.invoice("7013", "500.00", terms=TERMS)
    got = desk.run(desk.pay("1470.00", "INV 7012 INV 7013", day=IN_TIME))
    assert got.status == AUTO
    assert got.cash == {"7012": "980.00", "7013": "490.00"}
    assert desk.adjustments() == {"7012": ("20.00", "DISCOUNT"), "7013": ("10.00", "DISCOUNT")}


def test_discount_stated_per_line_on_one_invoice_only(desk: Desk) -> None:
    """An 820 stating 980.00 on 7014 (terms 2/10) and 500.00 on 7015: the stated lines add up
    to the payment; the 20.00 left on 7014 is its granted discount: written off."""
    desk.invoice("7014", "1000.00", terms=TERMS)
    desk.invoice("7015", "500.00", terms=TERMS)
    got = desk.run(
        desk.pay("1480.00", refs=[ref("7014", "980.00"), ref("7015", "500.00")], day=IN_TIME)
    )
    assert got.status == AUTO
    assert got.cash == {"7014": "980.00", "7015": "500.00"}
    assert desk.adjustments() == {"7014": ("20.00", "DISCOUNT")}


def test_discount_bigger_than_the_terms_grant_is_not_written_off(desk: Desk) -> None:
    """The payer took 4% on a 2,000.00 invoice on 2/10, in time: the clerk grants no more
    than the terms; 40.00 beyond the discount is beyond tolerance: a person decides."""
    desk.invoice("7016", "2000.00", terms=TERMS)
    got = desk.run(desk.pay("1920.00", "INV 7016", day=IN_TIME))
    assert (got.status, got.kind) == (EXCEPTION, "short_pay_over_tolerance")
    assert desk.adjustments() == {}


def test_a_little_more_than_the_discount_is_a_short_pay_within_tolerance(desk: Desk) -> None:
    """3% taken on a 1,000.00 invoice on 2/10, in time: 20.00 is the discount the terms
    grant; the 10.00 beyond it is within the short-pay tolerance like any small short pay.
    The clerk books the two apart: DISCOUNT 20.00 and SHORTPAY 10.00."""
    desk.invoice("7019", "1000.00", terms=TERMS)
    got = desk.run(desk.pay("970.00", "INV 7019", day=IN_TIME))
    assert (got.status, got.cash) == (AUTO, {"7019": "970.00"})
    assert desk.adjustment_list() == [("7019", "20.00", "DISCOUNT"), ("7019", "10.00", "SHORTPAY")]


def test_discount_and_a_wire_fee_together(desk: Desk) -> None:
    """5,000.00 on 2/10 net 30 paid by wire in time: 4,885.00 arrives, the 2% (100.00) taken
    and a 15.00 bank charge deducted on the way. The clerk grants the discount and writes the
    fee off as a short pay (within tolerance): the invoice closes, each deduction with its
    own reason."""
    desk.invoice("7020", "5000.00", terms=TERMS)
    got = desk.run(desk.pay("4885.00", "INV 7020", day=IN_TIME))
    assert (got.status, got.cash, got.deduction) == (AUTO, {"7020": "4885.00"}, "115.00")
    assert desk.adjustment_list() == [("7020", "100.00", "DISCOUNT"), ("7020", "15.00", "SHORTPAY")]
    assert got.evidence["short_pay"] == "15.00"
    assert desk.balance("7020") == "0.00"


def test_discount_and_a_fee_beyond_tolerance_stays_open(desk: Desk) -> None:
    """1,000.00 on 2/10 paid 965.00 in time: 20.00 discount and 15.00 more, which is beyond
    the tolerance on a 1,000.00 invoice: a person decides; nothing written off."""
    desk.invoice("7021", "1000.00", terms=TERMS)
    got = desk.run(desk.pay("965.00", "INV 7021", day=IN_TIME))
    assert (got.status, got.kind) == (EXCEPTION, "short_pay_over_tolerance")
    assert desk.adjustments() == {}


def test_discount_and_a_fee_after_the_discount_date(desk: Desk) -> None:
    """The same 4,885.00 three weeks late: no discount is due; 115.00 short is beyond
    tolerance: a person decides."""
    desk.invoice("7022", "5000.00", terms=TERMS)
    got = desk.run(desk.pay("4885.00", "INV 7022", day=LATE))
    assert (got.status, got.kind) == (EXCEPTION, "short_pay_over_tolerance")
    assert desk.adjustments() == {}


def test_discount_on_one_of_two_equal_invoices_is_not_guessed(desk: Desk) -> None:
    """Two 1,000.00 invoices on 2/10 named, 1,980.00 paid in time: the 20.00 is the discount
    of either one. The clerk would not write it off on a guess of which: not applied."""
    desk.invoice("7023", "1000.00", terms=TERMS)
    desk.invoice("7024", "1000.00", terms=TERMS)
    got = desk.run(desk.pay("1980.00", "INV 7023 INV 7024", day=IN_TIME))
    assert got.status != AUTO
    assert desk.adjustments() == {}


def test_discount_on_one_of_two_without_reference_is_not_auto_applied_wrongly(desk: Desk) -> None:
    """No reference: 1,480.00 from a customer owing 1,000.00 and 500.00 (both 2/10, in time).
    Only one reading fits (2% taken on the 1,000.00 one); the clerk may apply it, or at least
    suggest it; never another split."""
    desk.invoice("7017", "1000.00", terms=TERMS)
    desk.invoice("7018", "500.00", terms=TERMS)
    got = desk.run(desk.pay("1480.00", day=IN_TIME))
    if got.status == AUTO:
        assert got.cash == {"7017": "980.00", "7018": "500.00"}
        assert desk.adjustments() == {"7017": ("20.00", "DISCOUNT")}
    else:
        assert got.status in (SUGGESTED, EXCEPTION)


# -- bank and wire fees ---------------------------------------------------------------------------


def test_wire_fee_within_tolerance_is_written_off(desk: Desk) -> None:
    """A 5,000.00 invoice paid by wire, 15.00 short (the bank's charge): within 1% of the
    invoice, the clerk writes it off with the short-pay reason and closes the invoice."""
    desk.invoice("8001", "5000.00")
    got = desk.run(desk.pay("4985.00", "INV 8001"))
    assert (got.status, got.cash, got.deduction) == (AUTO, {"8001": "4985.00"}, "15.00")
    assert desk.adjustments() == {"8001": ("15.00", "SHORTPAY")}
    assert got.evidence["short_pay"] == "15.00"


def test_wire_fee_too_large_for_a_small_invoice_stays_open(desk: Desk) -> None:
    """A 300.00 invoice paid 25.00 short: a fee of that size is 8% of the invoice, beyond the
    tolerance: the clerk does not write it off on their own."""
    desk.invoice("8002", "300.00")
    got = desk.run(desk.pay("275.00", "INV 8002"))
    assert (got.status, got.kind) == (EXCEPTION, "short_pay_over_tolerance")
    assert got.candidate_numbers() == [["8002"]]


def test_intermediary_bank_charges_in_swift_text(desk: Desk) -> None:
    """An international wire: ``/INV/8003 /CHGS/USD20,00`` (field 71F: the intermediary
    bank's charge). 20.00 short on 5,000.00 is within tolerance: written off on 8003. The
    charges figure is no invoice number."""
    desk.invoice("8003", "5000.00")
    desk.invoice("20", "20.00", customer="Globex Inc")
    got = desk.run(desk.pay("4980.00", "/INV/8003 /CHGS/USD20,00"))
    assert (got.status, got.cash, got.deduction) == (AUTO, {"8003": "4980.00"}, "20.00")
    assert desk.balance("20") == "20.00"


def test_fee_split_over_two_invoices_of_one_wire(desk: Desk) -> None:
    """One wire for 2,000.00 and 3,000.00, 30.00 short: within tolerance of the larger one,
    written off there, both closed."""
    desk.invoice("8006", "2000.00")
    desk.invoice("8007", "3000.00")
    got = desk.run(desk.pay("4970.00", "INV 8006 INV 8007"))
    assert got.status == AUTO
    assert got.cash == {"8006": "2000.00", "8007": "2970.00"}
    assert desk.adjustments() == {"8007": ("30.00", "SHORTPAY")}


def test_genuine_short_pay_is_not_a_fee(desk: Desk) -> None:
    """4,000.00 paid on a 5,000.00 invoice named in text, nothing said: a fifth short is no
    bank fee. The clerk leaves 1,000.00 for a person (chase or dispute), with the invoice as
    the candidate."""
    desk.invoice("8004", "5000.00")
    got = desk.run(desk.pay("4000.00", "INV 8004"))
    assert (got.status, got.kind) == (EXCEPTION, "short_pay_over_tolerance")
    assert got.evidence["short_pay"] == "1000.00"
    assert got.candidate_numbers() == [["8004"]]


def test_fee_short_without_reference_is_not_applied_to_a_guess(desk: Desk) -> None:
    """15.00 short of the payer's only open invoice and no reference: nothing says which
    invoice; the clerk would suggest the likely one, never apply by amount alone."""
    desk.invoice("8005", "5000.00")
    got = desk.run(desk.pay("4985.00"))
    assert got.status != AUTO


def test_fee_stated_as_an_adjustment_in_an_820(desk: Desk) -> None:
    """An 820 line paying 5,000.00 less a 15.00 bank charge adjustment: within tolerance,
    written off with the payer's reason code."""
    desk.invoice("8008", "5000.00")
    got = desk.run(
        desk.pay("4985.00", refs=[ref("8008", "4985.00", adjustment="-15.00", reason="BC")])
    )
    assert (got.status, got.cash) == (AUTO, {"8008": "4985.00"})
    assert desk.adjustments() == {"8008": ("15.00", "BC")}


# -- cross-currency -------------------------------------------------------------------------------


def test_usd_payment_naming_a_cad_invoice_is_never_applied_at_face_value(desk: Desk) -> None:
    """USD 1,000.00 for CAD invoice 9001 of 1,000.00: no exchange rate is known here; the
    clerk sends it to a person as a currency mismatch."""
    desk.invoice("9001", "1000.00", currency="CAD")
    got = desk.run(desk.pay("1000.00", refs=[ref("9001")]))
    assert (got.status, got.kind) == (EXCEPTION, "currency_mismatch")
    assert desk.balance("9001") == "1000.00"


def test_usd_payment_naming_a_eur_invoice_in_text(desk: Desk) -> None:
    """USD 1,082.40 with "INV 9002" for a EUR 1,000.00 invoice: a currency mismatch."""
    desk.invoice("9002", "1000.00", currency="EUR")
    got = desk.run(desk.pay("1082.40", "INV 9002"))
    assert (got.status, got.kind) == (EXCEPTION, "currency_mismatch")
    assert got.evidence["invoice_currencies"] == ["EUR"]


def test_usd_payment_naming_a_cad_invoice_is_not_put_on_a_usd_one_of_that_amount(
    desk: Desk,
) -> None:
    """The customer owes CAD 9003 and USD 9004, both 1,000.00; USD 1,000.00 arrives naming
    9003. The clerk does not move the cash to 9004 because the number fits: it names 9003."""
    desk.invoice("9003", "1000.00", currency="CAD")
    desk.invoice("9004", "1000.00")
    got = desk.run(desk.pay("1000.00", "INV 9003"))
    assert got.status != AUTO
    assert got.kind == "currency_mismatch"
    assert desk.balance("9004") == "1000.00"


def test_usd_payment_naming_a_cad_invoice_and_its_cad_amount(desk: Desk) -> None:
    """USD 735.50 with "INV 9006 CAD 1,350.00" while a USD invoice 9007 owes 735.50: the
    payer names the CAD invoice; nothing is applied to 9007."""
    desk.invoice("9006", "1350.00", currency="CAD")
    desk.invoice("9007", "735.50")
    got = desk.run(desk.pay("735.50", "INV 9006 CAD 1,350.00"))
    assert (got.status, got.kind) == (EXCEPTION, "currency_mismatch")


def test_usd_payment_from_a_customer_owing_only_cad(desk: Desk) -> None:
    """No reference, the customer's only open invoice is CAD of the very amount paid in USD:
    a currency mismatch for a person, naming what it owes and in what."""
    desk.invoice("9008", "2500.00", currency="CAD")
    got = desk.run(desk.pay("2500.00"))
    assert (got.status, got.kind) == (EXCEPTION, "currency_mismatch")
    assert got.evidence["invoice_currencies"] == ["CAD"]


def test_structured_refs_to_a_cad_and_a_usd_invoice_in_one_usd_payment(desk: Desk) -> None:
    """A USD payment whose 820 names a USD invoice and a CAD one: part of it cannot be read
    without a rate; the clerk applies none of it on their own."""
    desk.invoice("9009", "400.00")
    desk.invoice("9010", "600.00", currency="CAD")
    got = desk.run(desk.pay("1000.00", refs=[ref("9009", "400.00"), ref("9010", "600.00")]))
    assert got.status != AUTO
    assert got.kind == "currency_mismatch"


# -- over-payments and the same invoice paid twice ------------------------------------------------


def test_over_payment_of_two_named_invoices_leaves_unapplied_cash(desk: Desk) -> None:
    """1,600.00 for invoices of 1,000.00 and 500.00 named: both closed, 100.00 left unapplied
    on the customer's account."""
    desk.invoice("1101", "1000.00")
    desk.invoice("1102", "500.00")
    got = desk.run(desk.pay("1600.00", "INV 1101 INV 1102"))
    assert (got.status, got.cash, got.unapplied) == (
        AUTO,
        {"1101": "1000.00", "1102": "500.00"},
        "100.00",
    )
    assert got.evidence["over_payment"] == "100.00"


def test_over_payment_without_reference_is_not_applied(desk: Desk) -> None:
    """1,000.00 from a customer whose only open invoice is 900.00, no reference: the clerk
    does not decide on their own whether the 100.00 is for something else: a person does."""
    desk.invoice("1103", "900.00")
    got = desk.run(desk.pay("1000.00"))
    assert (got.status, got.kind) == (EXCEPTION, "over_payment")
    assert got.candidate_numbers() == [["1103"]]


def test_invoice_paid_twice_a_fortnight_apart(desk: Desk) -> None:
    """The customer pays invoice 1104 (750.00) twice, two weeks apart, naming it each time;
    another invoice 1105 owes 750.00 too. The second payment is not moved to 1105: the payer
    named a paid invoice, a person decides (refund or apply)."""
    desk.invoice("1104", "750.00")
    desk.invoice("1105", "750.00")
    first = desk.run(desk.pay("750.00", "INV 1104", day=date(2026, 11, 2)))
    assert (first.status, first.cash) == (AUTO, {"1104": "750.00"})
    second = desk.run(desk.pay("750.00", "PMT INV 1104", day=date(2026, 11, 16)))
    assert second.status != AUTO
    assert desk.balance("1105") == "750.00"


def test_invoice_paid_twice_by_structured_reference(desk: Desk) -> None:
    """The same via an 820 both times: the second names a paid invoice; nothing is applied."""
    desk.invoice("1106", "750.00")
    desk.invoice("1107", "750.00")
    desk.run(desk.pay("750.00", refs=[ref("1106", "750.00")], day=date(2026, 11, 2)))
    second = desk.run(desk.pay("750.00", refs=[ref("1106", "750.00")], day=date(2026, 11, 20)))
    assert second.status != AUTO
    assert desk.balance("1107") == "750.00"


# -- instalments ----------------------------------------------------------------------------------


def test_three_instalments_each_naming_the_invoice(desk: Desk) -> None:
    """A 3,000.00 invoice paid in three monthly instalments of 1,000.00, each naming it with
    the amount: each applies, the invoice closes with the third."""
    desk.invoice("1201", "3000.00")
    days = [date(2026, 10, 15), date(2026, 11, 15), date(2026, 12, 15)]
    for n, day in enumerate(days, 1):
        got = desk.run(desk.pay("1000.00", f"INV 1201 1,000.00 INSTALMENT {n} OF 3", day=day))
        assert (got.status, got.cash) == (AUTO, {"1201": "1000.00"}), n
    assert desk.balance("1201") == "0.00"


def test_instalments_by_structured_reference_then_the_rest_by_amount(desk: Desk) -> None:
    """Two stated instalments of 1,200.00 and the remaining 600.00 with no reference: the
    last is exactly what the invoice still owes, the customer's only open balance: applied."""
    desk.invoice("1202", "3000.00")
    for day in (date(2026, 10, 15), date(2026, 11, 15)):
        got = desk.run(desk.pay("1200.00", refs=[ref("1202", "1200.00")], day=day))
        assert (got.status, got.cash) == (AUTO, {"1202": "1200.00"})
    last = desk.run(desk.pay("600.00", day=date(2026, 12, 15)))
    assert (last.status, last.cash) == (AUTO, {"1202": "600.00"})
    assert desk.balance("1202") == "0.00"


def test_an_instalment_more_than_is_left_leaves_the_rest_unapplied(desk: Desk) -> None:
    """After 2,500.00 of 3,000.00 paid, the payer sends 1,000.00 "INV 1203 FINAL": 500.00
    closes the invoice, 500.00 stays unapplied, never applied beyond the balance."""
    desk.invoice("1203", "3000.00")
    desk.run(desk.pay("2500.00", refs=[ref("1203", "2500.00")], day=date(2026, 10, 15)))
    got = desk.run(desk.pay("1000.00", "INV 1203 FINAL", day=date(2026, 11, 15)))
    assert got.status in (AUTO, SUGGESTED)
    if got.status == AUTO:
        assert (got.cash, got.unapplied) == ({"1203": "500.00"}, "500.00")
    assert desk.balance("1203") in ("0.00", "500.00")


# -- remittance lines that do not add up; credit memos as negative lines --------------------------


def test_listed_amounts_exceed_the_payment(desk: Desk) -> None:
    """The advice lists 500.00 and 300.00 but 750.00 arrived: 50.00 short is beyond
    tolerance; the clerk asks a person which invoice bears the 50.00."""
    desk.invoice("1301", "500.00")
    desk.invoice("1302", "300.00")
    got = desk.run(desk.pay("750.00", "INV 1301 500.00 INV 1302 300.00"))
    assert got.status != AUTO
    assert got.kind == "short_pay_over_tolerance"


def test_listed_amounts_below_the_payment(desk: Desk) -> None:
    """The advice lists 500.00 and 300.00 but 900.00 arrived: both invoices are closed as
    listed and 100.00 is unapplied cash."""
    desk.invoice("1303", "500.00")
    desk.invoice("1304", "300.00")
    got = desk.run(desk.pay("900.00", "INV 1303 500.00 INV 1304 300.00"))
    assert (got.status, got.cash, got.unapplied) == (
        AUTO,
        {"1303": "500.00", "1304": "300.00"},
        "100.00",
    )


def test_stated_partial_lines_that_add_up_are_applied_as_stated(desk: Desk) -> None:
    """The advice pays 450.00 on the 500.00 invoice and 300.00 on the other, 750.00 in all:
    the clerk applies it as stated; 50.00 stays open on 1305 (a deduction to chase)."""
    desk.invoice("1305", "500.00")
    desk.invoice("1306", "300.00")
    got = desk.run(desk.pay("750.00", "INV 1305 450.00 INV 1306 300.00"))
    assert (got.status, got.cash) == (AUTO, {"1305": "450.00", "1306": "300.00"})
    assert desk.balance("1305") == "50.00"
    assert desk.adjustments() == {}


def test_credit_memo_as_a_negative_line_in_text(desk: Desk) -> None:
    """ "INV 1401 1000.00 CM-1043 -50.00" and 950.00 paid: the payer nets its open credit
    memo off. The clerk applies 950.00 cash and the 50.00 memo to 1401, which closes."""
    desk.invoice("1401", "1000.00")
    desk.credit("CM-1043", "50.00")
    got = desk.run(desk.pay("950.00", "INV 1401 1000.00 CM-1043 -50.00"))
    assert (got.status, got.cash) == (AUTO, {"1401": "950.00"})
    assert desk.balance("1401") == "0.00"
    assert desk.memo_balance("CM-1043") == "0.00"


def test_credit_memo_in_parentheses(desk: Desk) -> None:
    """The same written "INV 1402 1,000.00; CM1044 (50.00)"."""
    desk.invoice("1402", "1000.00")
    desk.credit("CM-1044", "50.00")
    got = desk.run(desk.pay("950.00", "INV 1402 1,000.00; CM1044 (50.00)"))
    assert (got.status, got.cash) == (AUTO, {"1402": "950.00"})
    assert desk.memo_balance("CM-1044") == "0.00"


def test_credit_memo_line_for_more_than_the_memo_holds(desk: Desk) -> None:
    """ "CM-1045 -80.00" while the memo holds 50.00: the payer takes 30.00 more than it is
    owed. The clerk takes the memo for what it holds at most, and the 30.00 short is beyond
    tolerance: a person decides; never more than the memo's balance taken."""
    desk.invoice("1403", "1000.00")
    desk.credit("CM-1045", "50.00")
    got = desk.run(desk.pay("920.00", "INV 1403 1000.00 CM-1045 -80.00"))
    assert got.status != AUTO
    assert desk.memo_balance("CM-1045") == "50.00"


def test_credit_memo_line_naming_a_memo_that_does_not_exist(desk: Desk) -> None:
    """ "CM-1099 -50.00" names no memo of ours; another open memo of 50.00 exists. The clerk
    does not take that other memo for the payer on a guess: a person decides, told which memo
    could not be taken. (The credit-memo policy may still apply the open memo on its own.)"""
    desk.invoice("1404", "1000.00")
    desk.credit("CM-1046", "50.00")
    got = desk.run(desk.pay("950.00", "INV 1404 1000.00 CM-1099 -50.00"))
    assert got.status != AUTO
    assert [m["credit_memo"] for m in got.evidence["credit_memos_not_taken"]] == ["CM-1099"]
    assert all(not c.get("credits") for c in got.candidates)


def test_credit_memo_as_a_negative_structured_line(desk: Desk) -> None:
    """An 820 with RMR lines 1405 1,000.00 and CM-1047 -50.00, 950.00 paid: memo and cash
    close the invoice."""
    desk.invoice("1405", "1000.00")
    desk.credit("CM-1047", "50.00")
    got = desk.run(desk.pay("950.00", refs=[ref("1405", "1000.00"), ref("CM-1047", "-50.00")]))
    assert (got.status, got.cash) == (AUTO, {"1405": "950.00"})
    assert desk.memo_balance("CM-1047") == "0.00"


def test_credit_memo_named_without_amounts(desk: Desk) -> None:
    """ "INV 1406, CM-1048" and 950.00: the memo's 50.00 and the cash close 1406."""
    desk.invoice("1406", "1000.00")
    desk.credit("CM-1048", "50.00")
    got = desk.run(desk.pay("950.00", "INV 1406, CM-1048"))
    assert (got.status, got.cash) == (AUTO, {"1406": "950.00"})
    assert desk.memo_balance("CM-1048") == "0.00"


def test_credit_memo_number_without_its_prefix_as_a_negative_line(desk: Desk) -> None:
    """ "INV 1408 1,000.00, 1043 -50.00": the payer writes its memo's number without our CM
    prefix, as a negative line; an open invoice numbered 1043 exists too. The clerk reads a
    negative line as the memo netted off: memo CM-1043 is taken, invoice 1043 is untouched."""
    desk.invoice("1408", "1000.00")
    desk.invoice("1043", "50.00")
    desk.credit("CM-1043", "50.00")
    got = desk.run(desk.pay("950.00", "INV 1408 1,000.00, 1043 -50.00"))
    assert (got.status, got.cash) == (AUTO, {"1408": "950.00"})
    assert desk.memo_balance("CM-1043") == "0.00"
    assert desk.balance("1043") == "50.00"


def test_a_negative_line_on_an_invoice_number_never_pays_that_invoice(desk: Desk) -> None:
    """ "INV 1409 1000.00 INV 1410 -50.00" with no memo 1410: a negative line is money taken
    off, not paid; the clerk does not pay 50.00 on 1410 and asks a person about the 50.00."""
    desk.invoice("1409", "1000.00")
    desk.invoice("1410", "50.00")
    got = desk.run(desk.pay("950.00", "INV 1409 1000.00 INV 1410 -50.00"))
    assert got.status != AUTO
    assert desk.balance("1410") == "50.00"


def test_credit_memo_line_whose_amount_does_not_add_up(desk: Desk) -> None:
    """ "INV 1407 1000.00 CM-1049 -50.00" but 900.00 paid: 50.00 more short than the memo
    explains, beyond tolerance: the clerk asks a person; nothing applied."""
    desk.invoice("1407", "1000.00")
    desk.credit("CM-1049", "50.00")
    got = desk.run(desk.pay("900.00", "INV 1407 1000.00 CM-1049 -50.00"))
    assert got.status != AUTO
    assert desk.memo_balance("CM-1049") == "50.00"


# -- one payment for two customers of a group -----------------------------------------------------


def test_group_payment_for_two_subsidiaries_by_structured_refs(desk: Desk) -> None:
    """The group's treasury (no customer of ours by that name) pays invoices of Hooli
    Deutschland and Hooli France in one 820, amounts adding up: the clerk would apply it, but
    two customers paid by an unknown payer is for a person to confirm; never one of them by
    guess."""
    desk.invoice("1501", "1000.00", customer="Hooli Deutschland GmbH")
    desk.invoice("1502", "500.00", customer="Hooli France SAS")
    got = desk.run(
        desk.pay(
            "1500.00",
            refs=[ref("1501", "1000.00"), ref("1502", "500.00")],
            payer="HOOLI GROUP TREASURY",
        )
    )
    assert got.status == SUGGESTED
    assert sorted(n for c in got.candidate_numbers() for n in c) == ["1501", "1502"]


def test_subsidiary_paying_its_own_and_its_sisters_invoice(desk: Desk) -> None:
    """Hooli Deutschland pays its own 1503 and its sister's 1504 in one transfer: cash over
    its own invoice is for the sister; the clerk has a person confirm rather than leave it
    unapplied or apply it silently."""
    desk.invoice("1503", "1000.00", customer="Hooli Deutschland GmbH")
    desk.invoice("1504", "500.00", customer="Hooli France SAS")
    got = desk.run(desk.pay("1500.00", "RE 1503 RE 1504", payer="HOOLI DEUTSCHLAND GMBH"))
    assert got.status == SUGGESTED
    assert desk.balance("1503") == "1000.00"


def test_group_payment_netting_one_subsidiarys_memo_against_the_others_invoice(
    desk: Desk,
) -> None:
    """The treasury nets Hooli France's credit memo against Hooli Deutschland's invoice: a
    memo moves between customers only by a person; nothing is applied on its own."""
    desk.invoice("1505", "1000.00", customer="Hooli Deutschland GmbH")
    desk.invoice("1506", "500.00", customer="Hooli France SAS")
    desk.credit("CM-1507", "100.00", customer="Hooli France SAS")
    got = desk.run(
        desk.pay(
            "1400.00",
            "INV 1505 1000.00 INV 1506 500.00 CM-1507 -100.00",
            payer="HOOLI GROUP TREASURY",
        )
    )
    assert got.status != AUTO
    assert desk.memo_balance("CM-1507") == "100.00"


# -- the same payment through two channels --------------------------------------------------------


def test_bank_line_and_processor_webhook_for_one_payment(desk: Desk) -> None:
    """A card payment reaches us as the processor's webhook (naming the invoice in its
    metadata) and again as the bank's line (naming it in text), same day and amount: the
    invoice is paid once; the second is never applied anywhere."""
    desk.invoice("1601", "500.00")
    desk.invoice("1602", "500.00")
    hook = desk.run(desk.pay("500.00", refs=[ref("1601")], source="stripe", payer="Acme Corp"))
    assert (hook.status, hook.cash) == (AUTO, {"1601": "500.00"})
    line = desk.run(desk.pay("500.00", "INV 1601"))
    assert line.status != AUTO
    assert desk.balance("1602") == "500.00"


def test_same_partial_payment_through_two_channels(desk: Desk) -> None:
    """400.00 on a 1,000.00 invoice arrives as an 820 line and, the same day, as the bank's
    camt line naming the invoice in text. The invoice still owes 600.00 after the first, but
    the clerk sees the same payer, amount, day and invoice: the same cash; not applied twice."""
    desk.invoice("1603", "1000.00")
    first = desk.run(desk.pay("400.00", refs=[ref("1603", "400.00")], source="edi820"))
    assert (first.status, first.cash) == (AUTO, {"1603": "400.00"})
    again = desk.run(desk.pay("400.00", "INV 1603 400.00"))
    assert again.status != AUTO
    assert desk.balance("1603") == "600.00"


def test_same_payment_twice_in_one_run_through_two_channels(desk: Desk) -> None:
    """The same as above, both arriving in one reconcile run."""
    desk.invoice("1604", "1000.00")
    a = desk.pay("400.00", refs=[ref("1604", "400.00")], source="edi820")
    b = desk.pay("400.00", "INV 1604 400.00 PARTIAL")
    reconcile(desk.store)
    got = [desk.seen(a), desk.seen(b)]
    assert sorted(s.status for s in got).count(AUTO) == 1
    assert desk.balance("1604") == "600.00"


def test_amount_only_copy_of_a_payment_that_named_its_invoice(desk: Desk) -> None:
    """The processor's webhook names 1605; the bank's line of the same payment carries no
    reference at all. Another invoice 1606 owes the same 500.00. The clerk does not put the
    bank line on 1606 by its amount: the same payer paid that amount that very day; at most
    a suggestion naming the payment it may repeat."""
    desk.invoice("1605", "500.00")
    desk.invoice("1606", "500.00", issued=date(2026, 10, 5))
    first = desk.run(desk.pay("500.00", refs=[ref("1605")], source="stripe", payer="Acme Corp"))
    assert first.cash == {"1605": "500.00"}
    line = desk.run(desk.pay("500.00", "CARD SETTLEMENT"))
    assert line.status != AUTO
    assert desk.balance("1606") == "500.00"


def test_a_resent_bank_file_with_the_text_respaced(desk: Desk) -> None:
    """A bank re-sends yesterday's file; the line's text differs only in spacing. Same cash:
    never applied twice (the invoice still owes after the first, a partial)."""
    desk.invoice("1607", "1000.00")
    desk.run(desk.pay("300.00", "INV 1607 300.00 PARTIAL"))
    again = desk.run(desk.pay("300.00", "INV  1607  300.00  PARTIAL", source="camt.053"))
    assert again.status != AUTO
    assert desk.balance("1607") == "700.00"


def test_webhook_then_bank_line_two_days_later(desk: Desk) -> None:
    """The processor's webhook on the day of the charge, the bank's line two days later
    when the money settles, both for 400.00 on invoice 1611 (which owes 1,000.00): one
    payment; the second is a duplicate for a person, naming the first."""
    desk.invoice("1611", "1000.00")
    first = desk.pay("400.00", refs=[ref("1611", "400.00")], source="stripe", payer="Acme Corp")
    desk.run(first)
    got = desk.run(desk.pay("400.00", "INV 1611 400.00", day=date(2026, 11, 4)))
    assert (got.status, got.kind, got.rule) == (EXCEPTION, "duplicate_payment", "duplicate_payment")
    assert got.evidence["duplicate_of"]["remittance_id"] == first
    assert got.candidate_numbers() == [["1611"]]
    assert desk.balance("1611") == "600.00"


def test_the_same_processor_event_delivered_twice(desk: Desk) -> None:
    """A processor re-delivers an event under a new id: the same payment; applied once."""
    desk.invoice("1612", "1000.00")
    desk.run(desk.pay("250.00", refs=[ref("1612", "250.00")], source="stripe"))
    again = desk.run(desk.pay("250.00", refs=[ref("1612", "250.00")], source="stripe"))
    assert (again.status, again.kind) == (EXCEPTION, "duplicate_payment")
    assert desk.balance("1612") == "750.00"


def test_a_second_identical_payment_a_month_later_is_new_cash(desk: Desk) -> None:
    """Regression: the same amount for the same invoice a month later is an instalment, not a
    copy: applied."""
    desk.invoice("1608", "1000.00")
    desk.run(desk.pay("400.00", refs=[ref("1608", "400.00")], day=date(2026, 10, 15)))
    got = desk.run(desk.pay("400.00", "INV 1608 400.00", day=date(2026, 11, 16)))
    assert (got.status, got.cash) == (AUTO, {"1608": "400.00"})


def test_two_payments_of_one_amount_for_two_named_invoices_same_day(desk: Desk) -> None:
    """Regression: two payments of 500.00 the same day, each naming a different invoice, are
    two payments: both applied."""
    desk.invoice("1609", "500.00")
    desk.invoice("1610", "500.00")
    a = desk.pay("500.00", "INV 1609")
    b = desk.pay("500.00", refs=[ref("1610")], source="stripe", payer="Acme Corp")
    reconcile(desk.store)
    assert desk.seen(a).cash == {"1609": "500.00"}
    assert desk.seen(b).cash == {"1610": "500.00"}


# -- check, PO and invoice numbers in one line ----------------------------------------------------


def test_check_po_and_invoice_in_one_line(desk: Desk) -> None:
    """ "CHK 004512 PO 7788 INV 1701": only 1701 is an invoice; another customer's invoice
    numbered 4512 is not touched."""
    desk.invoice("1701", "500.00")
    desk.invoice("4512", "500.00", customer="Globex Inc")
    got = desk.run(desk.pay("500.00", "CHK 004512 PO 7788 INV 1701"))
    assert (got.status, got.cash) == (AUTO, {"1701": "500.00"})


def test_check_number_equal_to_an_open_invoice_of_the_payer(desk: Desk) -> None:
    """ "CHECK NO 1702 INV 1703": the payer's check number happens to be one of its own open
    invoice numbers, same amount. The clerk pays the invoice named as such, 1703."""
    desk.invoice("1702", "500.00")
    desk.invoice("1703", "500.00")
    got = desk.run(desk.pay("500.00", "CHECK NO 1702 INV 1703"))
    assert (got.status, got.cash) == (AUTO, {"1703": "500.00"})


def test_po_number_equal_to_an_open_invoice_number(desk: Desk) -> None:
    """ "PO# 1704 / INV# 1705": 1704 is also one of the payer's open invoices of the same
    amount; the PO is not an invoice number: 1705 is paid."""
    desk.invoice("1704", "500.00")
    desk.invoice("1705", "500.00", po="1704")
    got = desk.run(desk.pay("500.00", "PO# 1704 / INV# 1705"))
    assert (got.status, got.cash) == (AUTO, {"1705": "500.00"})


def test_check_number_then_two_invoices(desk: Desk) -> None:
    """ "CK#10293 INV 1706 1707": two invoices paid, the check number ignored."""
    desk.invoice("1706", "200.00")
    desk.invoice("1707", "300.00")
    desk.invoice("10293", "500.00", customer="Globex Inc")
    got = desk.run(desk.pay("500.00", "CK#10293 INV 1706 1707"))
    assert (got.status, got.cash) == (AUTO, {"1706": "200.00", "1707": "300.00"})
    assert desk.balance("10293") == "500.00"


def test_check_number_only_is_no_invoice_number(desk: Desk) -> None:
    """ "CHECK 1712" for 500.00: invoice 1712 owes 800.00, invoice 1713 exactly 500.00. The
    check number names nothing; the amount places the cash on 1713."""
    desk.invoice("1712", "800.00")
    desk.invoice("1713", "500.00")
    got = desk.run(desk.pay("500.00", "CHECK 1712"))
    assert got.cash.get("1712") is None
    assert (got.status, got.cash) == (AUTO, {"1713": "500.00"})


def test_po_alone_pays_the_invoice_bearing_it(desk: Desk) -> None:
    """ "PMT FOR PO 88123 CHK 2231": no invoice number; the PO is on invoice 1714: paid."""
    desk.invoice("1714", "640.00", po="88123")
    desk.invoice("1715", "640.00")
    got = desk.run(desk.pay("640.00", "PMT FOR PO 88123 CHK 2231"))
    assert (got.status, got.cash) == (AUTO, {"1714": "640.00"})


def test_lockbox_line_with_check_amount_and_invoice(desk: Desk) -> None:
    """ "CHECK 1710 AMT 500.00 INV 1711": invoice 1710 exists too; 1711 is the one named."""
    desk.invoice("1710", "500.00")
    desk.invoice("1711", "500.00")
    got = desk.run(desk.pay("500.00", "CHECK 1710 AMT 500.00 INV 1711"))
    assert (got.status, got.cash) == (AUTO, {"1711": "500.00"})


def test_unlabelled_reference_po_and_invoices(desk: Desk) -> None:
    """ "REF 55012 PO 4500012345 INVOICES 1708,1709": 55012 is the payer's own reference (it
    is another customer's invoice number); the two invoices named are paid."""
    desk.invoice("1708", "250.00")
    desk.invoice("1709", "250.00")
    desk.invoice("55012", "500.00", customer="Globex Inc")
    got = desk.run(desk.pay("500.00", "REF 55012 PO 4500012345 INVOICES 1708,1709"))
    assert (got.status, got.cash) == (AUTO, {"1708": "250.00", "1709": "250.00"})
    assert desk.balance("55012") == "500.00"


def test_invoice_po_and_check_glued_by_slashes(desk: Desk) -> None:
    """ "INV#1723/PO#4455/CHK#88812": 4455 is the payer's PO and also one of its open invoice
    numbers; 88812 is the check. Only 1723 is paid."""
    desk.invoice("1723", "500.00")
    desk.invoice("4455", "300.00")
    got = desk.run(desk.pay("500.00", "INV#1723/PO#4455/CHK#88812"))
    assert (got.status, got.cash) == (AUTO, {"1723": "500.00"})
    assert desk.balance("4455") == "300.00"


def test_po_and_invoice_joined_by_a_dash(desk: Desk) -> None:
    """ "PO 1721-INV 1722": 1721 is the PO (and one of the payer's invoices of the same
    amount); the invoice named is 1722."""
    desk.invoice("1721", "500.00")
    desk.invoice("1722", "500.00")
    got = desk.run(desk.pay("500.00", "PO 1721-INV 1722"))
    assert (got.status, got.cash) == (AUTO, {"1722": "500.00"})


def test_wire_in_eur_for_a_eur_invoice_less_a_fee(desk: Desk) -> None:
    """Regression: EUR cash for a EUR invoice is same-currency: 12.50 of fees written off."""
    desk.invoice("1730", "8000.00", currency="EUR", customer="Nordvik AS")
    got = desk.run(desk.pay("7987.50", "INV 1730", currency="EUR", payer="NORDVIK AS"))
    assert (got.status, got.cash, got.deduction) == (AUTO, {"1730": "7987.50"}, "12.50")


def test_check_number_in_a_remittance_that_names_a_paid_invoice(desk: Desk) -> None:
    """ "CHK 1716 INV 1717" where 1717 is already paid and 1716 is an open invoice of that
    amount: the check number does not become the invoice; a person decides."""
    desk.invoice("1716", "500.00")
    desk.invoice("1717", "500.00")
    desk.run(desk.pay("500.00", refs=[ref("1717")], day=date(2026, 10, 20)))
    got = desk.run(desk.pay("500.00", "CHK 1716 INV 1717"))
    assert got.status != AUTO
    assert desk.balance("1716") == "500.00"
