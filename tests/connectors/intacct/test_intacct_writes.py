"""Intacct writes against its sandbox over real HTTP: ARPYMT with cash and credit details,
credit adjustments, several functions per request, duplicates refused by control id."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from lxml import etree

from connectors.base import MemoryTokenStore
from connectors.errors import DataError
from connectors.http import RetryPolicy
from connectors.intacct import IntacctConnector, IntacctSandbox
from connectors.intacct.writes import (
    KEY_TAG,
    AdjustmentCreate,
    ArPaymentCreate,
    CreditApply,
    PaymentLine,
)

DAY = date(2026, 11, 2)


def make(sandbox: IntacctSandbox, **changes: object) -> IntacctConnector:
    config = sandbox.config().model_copy(update=changes)
    return IntacctConnector(
        config, MemoryTokenStore(), policy=RetryPolicy(max_attempts=3, sleep=lambda _: None)
    )


def open_invoices(sandbox: IntacctSandbox, n: int) -> list[dict[str, str]]:
    """Open invoices of one customer, in USD."""
    rows = [
        r
        for r in sandbox.records["ARINVOICE"].values()
        if Decimal(r["TRX_TOTALDUE"]) > 10 and r["STATE"] != "Reversed" and r["CURRENCY"] == "USD"
    ]
    by_customer: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_customer.setdefault(row["CUSTOMERID"], []).append(row)
    return max(by_customer.values(), key=len)[:n]


def test_a_payment_pays_its_invoices_and_reads_back_with_its_details(
    sandbox: IntacctSandbox,
) -> None:
    first, second = open_invoices(sandbox, 2)
    due = Decimal(first["TRX_TOTALDUE"])
    connector = make(sandbox)
    [result] = connector.write(
        [
            ArPaymentCreate(
                "k1",
                first["CUSTOMERID"],
                DAY,
                (
                    PaymentLine(first["RECORDNO"], due),
                    PaymentLine(second["RECORDNO"], Decimal("10.00")),
                ),
                "USD",
                reference="WIRE-77",
            )
        ]
    )
    assert result.ok and result.remote_id
    payment = sandbox.records["ARPYMT"][result.remote_id]
    assert payment["DESCRIPTION"] == f"{KEY_TAG}k1" and payment["DOCNUMBER"] == "WIRE-77"
    assert Decimal(sandbox.records["ARINVOICE"][first["RECORDNO"]]["TRX_TOTALDUE"]) == 0
    assert sandbox.records["ARINVOICE"][first["RECORDNO"]]["STATE"] == "Paid"
    pulled = [
        r
        for page in connector.streams()["payments"].pages(
            datetime.now(UTC) - timedelta(hours=1), datetime.now(UTC) + timedelta(minutes=1)
        )
        for r in page.records
        if r.remote_id == result.remote_id
    ]
    details = pulled[0].payload["ARPYMTDETAILS"]
    assert sorted(Decimal(d["TRX_PAYMENTAMOUNT"]) for d in details) == sorted(
        [due, Decimal("10.00")]
    )


def test_several_functions_per_request_and_one_failure_fails_only_its_write(
    sandbox: IntacctSandbox,
) -> None:
    invoices = open_invoices(sandbox, 3)
    customer = invoices[0]["CUSTOMERID"]
    connector = make(sandbox, write_batch_size=2)
    writes = [
        ArPaymentCreate(
            f"p{i}", customer, DAY, (PaymentLine(inv["RECORDNO"], Decimal("1.00")),), "USD"
        )
        for i, inv in enumerate(invoices)
    ]
    writes.insert(
        1, ArPaymentCreate("bad", customer, DAY, (PaymentLine("999999", Decimal("1.00")),), "USD")
    )
    before = connector.api_calls
    results = connector.write(writes)
    assert [r.key for r in results] == ["p0", "bad", "p1", "p2"]
    assert [r.ok for r in results] == [True, False, True, True]
    assert isinstance(results[1].error, DataError) and "999999" in str(results[1].error)
    assert connector.api_calls - before <= 3  # two requests (+ a login)


def test_a_credit_adjustment_is_created_then_applied(sandbox: IntacctSandbox) -> None:
    [invoice] = open_invoices(sandbox, 1)
    connector = make(sandbox)
    [made] = connector.write(
        [AdjustmentCreate("wo:m", invoice["CUSTOMERID"], Decimal("3.50"), DAY, "short pay")]
    )
    assert made.ok and made.remote_id
    adjustment = sandbox.records["ARADJUSTMENT"][made.remote_id]
    assert Decimal(adjustment["TRX_TOTALDUE"]) == Decimal("-3.50")
    before = Decimal(invoice["TRX_TOTALDUE"])
    [applied] = connector.write(
        [
            ArPaymentCreate(
                "wo:a",
                invoice["CUSTOMERID"],
                DAY,
                (PaymentLine(invoice["RECORDNO"], Decimal("3.50"), made.remote_id),),
                "USD",
            )
        ]
    )
    assert applied.ok
    assert Decimal(sandbox.records["ARINVOICE"][invoice["RECORDNO"]]["TRX_TOTALDUE"]) == (
        before - Decimal("3.50")
    )
    assert Decimal(adjustment["TRX_TOTALDUE"]) == 0
    [again] = connector.write(
        [
            CreditApply(
                "wo:b", made.remote_id, (PaymentLine(invoice["RECORDNO"], Decimal("1")),), DAY
            )
        ]
    )
    assert not again.ok and "left on" in str(again.error)  # nothing left to apply


def test_a_resent_request_is_refused_and_its_records_found_by_key(
    sandbox: IntacctSandbox,
) -> None:
    [invoice] = open_invoices(sandbox, 1)
    write = ArPaymentCreate(
        "dup1",
        invoice["CUSTOMERID"],
        DAY,
        (PaymentLine(invoice["RECORDNO"], Decimal("2.00")),),
        "USD",
    )
    connector = make(sandbox)
    [first] = connector.write([write])
    count = len(sandbox.records["ARPYMT"])
    [second] = connector.write([write])  # the same function controlid, uniqueid true
    assert second.ok and second.remote_id == first.remote_id
    assert len(sandbox.records["ARPYMT"]) == count
    assert "dup1" in sandbox.processed_controls  # the function's controlid, not the request's


def test_a_lost_reply_is_resent_safely(sandbox: IntacctSandbox) -> None:
    [invoice] = open_invoices(sandbox, 1)
    due = Decimal(invoice["TRX_TOTALDUE"])
    sandbox.faults.drop_reply_next = 1
    connector = make(sandbox)
    [result] = connector.write(
        [
            ArPaymentCreate(
                "lost1",
                invoice["CUSTOMERID"],
                DAY,
                (PaymentLine(invoice["RECORDNO"], Decimal("5.00")),),
                "USD",
            )
        ]
    )
    assert result.ok
    assert Decimal(invoice["TRX_TOTALDUE"]) == due - Decimal("5.00")  # applied once
    mine = [r for r in sandbox.records["ARPYMT"].values() if r["DESCRIPTION"] == f"{KEY_TAG}lost1"]
    assert len(mine) == 1 and connector.landed(["lost1"], None) == {"lost1": mine[0]["RECORDNO"]}


def test_request_xml_names_the_documented_fields(sandbox: IntacctSandbox) -> None:
    connector = make(sandbox)
    write = ArPaymentCreate(
        "x1", "C-1", DAY, (PaymentLine("10", Decimal("1.5")),), "EUR", reference="R1"
    )
    element = connector.writer._function(write)
    text = etree.tostring(element).decode()
    for fragment in (
        '<function controlid="x1"><create><ARPYMT>',
        "<FINANCIALENTITY>BOA-CHECKING</FINANCIALENTITY>",
        "<PAYMENTMETHOD>EFT</PAYMENTMETHOD>",
        "<RECEIPTDATE>11/02/2026</RECEIPTDATE>",
        "<ARPYMTDETAILS><ARPYMTDETAIL><RECORDKEY>10</RECORDKEY>"
        "<TRX_PAYMENTAMOUNT>1.50</TRX_PAYMENTAMOUNT>",
    ):
        assert fragment in text
    unset = make(sandbox, deposit_account=None)
    with pytest.raises(ValueError, match=r"intacct\.deposit_account"):
        unset.writer._function(write)


def test_a_payment_of_a_debit_memo_names_it_in_posadjkey(sandbox: IntacctSandbox) -> None:
    memo = next(
        row
        for row in sandbox.records["ARADJUSTMENT"].values()
        if Decimal(row["TRX_TOTALENTERED"]) > 0 and row["STATE"] != "Reversal"
    )
    hundred = Decimal("100.00")  # an open debit memo
    memo.update(sandbox._amounts("TOTAL", "USD", ENTERED=hundred, PAID=Decimal(0), DUE=hundred))
    memo.update({"STATE": "Posted", "CURRENCY": "USD"})
    payment = ArPaymentCreate(
        "dm1",
        memo["CUSTOMERID"],
        DAY,
        (PaymentLine(memo["RECORDNO"], Decimal("40.00"), debit_memo=True),),
        "USD",
    )
    connector = make(sandbox)
    xml = etree.tostring(connector.writer._function(payment)).decode()
    assert f"<POSADJKEY>{memo['RECORDNO']}</POSADJKEY>" in xml and "RECORDKEY" not in xml
    [result] = connector.write([payment])
    assert result.ok, result.error
    assert Decimal(memo["TRX_TOTALDUE"]) == Decimal("60.00")
    [detail] = [d for d in sandbox.details.values() if d["PAYMENTKEY"] == result.remote_id]
    assert (detail["POSADJKEY"], detail["RECORDKEY"]) == (memo["RECORDNO"], "")
