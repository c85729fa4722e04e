"""Cash received beyond the invoices it pays, written to Intacct as the ARPYMT's overpayment.

Intacct's ARPYMT ``create`` takes ``OVERPAYMENTAMOUNT`` ("overpayment amount recorded by the
payment", beside ``OVERPAYMENTLOCATIONID`` / ``OVERPAYMENTDEPARTMENTID``): the payment records
the whole deposit and the rest stays the customer's credit, applied later by ``OVERPAYMENTKEY``
(which arsync's pull already reads). What ARPYMT cannot do is an *advance*, a payment applying
nothing (ARADVANCE's). QuickBooks keeps the same cash as a Payment's ``UnappliedAmt`` and
Invoiced as a payment's ``balance``; an ARPYMT of the applied part only would leave the cash
short in Intacct's bank account against the bank statement, and the customer's credit unknown.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from lxml import etree

from canonical.money import Money
from connectors.intacct import IntacctSandbox
from connectors.intacct.writes import ArPaymentCreate, PaymentLine
from mappings.intacct.push import IntacctPush
from sync.outbox.adapter import Command
from sync.outbox.refs import RefIndex, RemoteRef
from tests.connectors.intacct.test_intacct_writes import make, open_invoices

DAY = date(2026, 11, 2)


def apply_cash(amount_minor: int, lines: list[tuple[str, int]], currency: str = "USD") -> Command:
    applied = sum(minor for _, minor in lines)
    return Command(
        id="c1",
        system="intacct",
        operation="apply_cash",
        key="k" * 32,
        canonical_type="remittance",
        canonical_id="r1",
        payload={
            "customer_id": "cust",
            "currency": currency,
            "amount_minor": amount_minor,
            "unapplied_minor": amount_minor - applied,
            "lines": [{"invoice_id": i, "amount_minor": m} for i, m in lines],
            "on": DAY.isoformat(),
            "reference": "WIRE 0042",
            "payer": "Acme GmbH",
        },
        result={},
        attempts=0,
        status="pending",
    )


def refs_for(customer: str, invoices: dict[str, tuple[str, int]]) -> RefIndex:
    refs = RefIndex("intacct")
    refs.refs[("customer", "cust")] = RemoteRef("customer", "cust", customer, None)
    for canonical, (record_no, balance) in invoices.items():
        refs.refs[("invoice", canonical)] = RemoteRef(
            "invoice",
            canonical,
            record_no,
            None,
            {"balance_minor": str(balance)},
            False,
            "ARINVOICE",
        )
    return refs


def test_the_overpayment_goes_in_overpaymentamount_at_the_currency_decimals() -> None:
    jpy = ArPaymentCreate(
        "k1",
        "C-1",
        DAY,
        (PaymentLine("501", Money.from_minor(80000, "JPY").amount),),
        "JPY",
        overpayment=Money.from_minor(5000, "JPY").amount,
    )
    raw = etree.tostring(jpy.body({})).decode()
    assert (
        "<CURRENCY>JPY</CURRENCY><OVERPAYMENTAMOUNT>5000</OVERPAYMENTAMOUNT><ARPYMTDETAILS>" in raw
    )
    kwd = ArPaymentCreate(
        "k2",
        "C-1",
        DAY,
        (PaymentLine("501", Money.from_minor(12345, "KWD").amount),),
        "KWD",
        overpayment=Money.from_minor(5, "KWD").amount,
    )
    assert "<OVERPAYMENTAMOUNT>0.005</OVERPAYMENTAMOUNT>" in etree.tostring(kwd.body({})).decode()
    exact = ArPaymentCreate("k3", "C-1", DAY, (PaymentLine("501", Decimal("10.00")),), "USD")
    assert "OVERPAYMENT" not in etree.tostring(exact.body({})).decode()
    with pytest.raises(ValueError, match="negative"):
        ArPaymentCreate(
            "k4", "C-1", DAY, (PaymentLine("501", Decimal("1")),), "USD", overpayment=Decimal("-1")
        ).body({})


def test_apply_cash_with_cash_left_over_records_the_whole_deposit_in_intacct(
    sandbox: IntacctSandbox,
) -> None:
    [invoice] = open_invoices(sandbox, 1)
    due = Money(Decimal(invoice["TRX_TOTALDUE"]), "USD").minor
    connector = make(sandbox)
    adapter = IntacctPush(connector)
    command = apply_cash(due + 2550, [("inv1", due)])  # the invoice and 25.50 more
    refs = refs_for(invoice["CUSTOMERID"], {"inv1": (invoice["RECORDNO"], due)})
    step = adapter.step(command, refs, None)  # type: ignore[arg-type]
    [answer] = adapter.send([step])
    assert answer.ok and answer.remote_id
    row = sandbox.records["ARPYMT"][answer.remote_id]
    received = Money.from_minor(due + 2550, "USD").amount
    assert Decimal(row["TRX_TOTALENTERED"]) == received  # the whole deposit
    assert Decimal(row["TRX_TOTALPAID"]) == received - Decimal("25.50")
    assert Decimal(sandbox.records["ARINVOICE"][invoice["RECORDNO"]]["TRX_TOTALDUE"]) == 0
    assert any("25.50 stays on it unapplied" in line for line in step.diff)


def test_a_short_pay_has_no_overpayment(sandbox: IntacctSandbox) -> None:
    [invoice] = open_invoices(sandbox, 1)
    due = Money(Decimal(invoice["TRX_TOTALDUE"]), "USD").minor
    adapter = IntacctPush(make(sandbox))
    command = apply_cash(due - 100, [("inv1", due - 100)])
    refs = refs_for(invoice["CUSTOMERID"], {"inv1": (invoice["RECORDNO"], due)})
    step = adapter.step(command, refs, None)  # type: ignore[arg-type]
    assert (
        "OVERPAYMENT" not in etree.tostring(adapter.connector.writer._function(step.write)).decode()
    )
    [answer] = adapter.send([step])
    assert answer.ok and answer.remote_id
    row = sandbox.records["ARPYMT"][answer.remote_id]
    assert Decimal(row["TRX_TOTALENTERED"]) == Money.from_minor(due - 100, "USD").amount
    assert Decimal(sandbox.records["ARINVOICE"][invoice["RECORDNO"]]["TRX_TOTALDUE"]) == Decimal(
        "1.00"
    )
