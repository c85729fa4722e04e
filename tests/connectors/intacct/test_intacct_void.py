"""Reversing an AR payment arsync created (legacy ``reverse_arpayment``) against the
sandbox over real HTTP; and the push adapter's ``void_cash`` step."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from lxml import etree

from connectors.intacct import IntacctSandbox
from connectors.intacct.writes import ArPaymentCreate, PaymentLine, PaymentReverse
from mappings.intacct.push import IntacctPush
from sync.outbox.adapter import AlreadyDone, Command
from sync.outbox.refs import RefIndex, RemoteRef
from tests.connectors.intacct.test_intacct_writes import make, open_invoices

DAY = date(2026, 12, 4)


def test_the_documented_function_names_the_payment_and_the_day() -> None:
    body = PaymentReverse("k9", "4711", DAY, "returned: R01").body()
    assert etree.tostring(body).decode() == (
        '<reverse_arpayment key="4711"><datereversed><year>2026</year><month>12</month>'
        "<day>04</day></datereversed><description>returned: R01</description>"
        "</reverse_arpayment>"
    )


def test_a_reversed_payment_gives_its_invoices_their_balance_back(
    sandbox: IntacctSandbox,
) -> None:
    first, second = open_invoices(sandbox, 2)
    due = {row["RECORDNO"]: Decimal(row["TRX_TOTALDUE"]) for row in (first, second)}
    connector = make(sandbox)
    lines = tuple(PaymentLine(key, amount) for key, amount in due.items())
    [made] = connector.write([ArPaymentCreate("pay-1", first["CUSTOMERID"], DAY, lines, "USD")])
    assert made.ok and made.remote_id
    [reversed_] = connector.write([PaymentReverse("rev-1", made.remote_id, DAY)])
    assert reversed_.ok and reversed_.remote_id == made.remote_id
    assert sandbox.records["ARPYMT"][made.remote_id]["STATE"] == "Reversed"
    assert connector.writer.payment_state(made.remote_id) == "Reversed"
    for key, amount in due.items():
        assert Decimal(sandbox.records["ARINVOICE"][key]["TRX_TOTALDUE"]) == amount
    # a resend of the same function (its reply lost) is "already recorded": done, not again
    writes = sandbox.writes
    [again] = connector.write([PaymentReverse("rev-1", made.remote_id, DAY)])
    assert again.ok and again.remote_id == made.remote_id and sandbox.writes == writes


def test_the_push_step_reverses_once_and_then_finds_the_payment_reversed(
    sandbox: IntacctSandbox,
) -> None:
    [first] = open_invoices(sandbox, 1)
    connector = make(sandbox)
    line = PaymentLine(first["RECORDNO"], Decimal("10.00"))
    [made] = connector.write([ArPaymentCreate("pay-2", first["CUSTOMERID"], DAY, (line,), "USD")])
    assert made.remote_id
    command = Command(
        id="c1",
        system="intacct",
        operation="void_cash",
        key="void-key-3",
        canonical_type="remittance",
        canonical_id="r1",
        payload={
            "customer_id": "cust",
            "currency": "USD",
            "remote_id": made.remote_id,
            "lines": [],
            "on": DAY.isoformat(),
            "reason": "payment taken back (R01)",
        },
        result={},
        attempts=0,
        status="pending",
    )
    refs = RefIndex("intacct")
    refs.refs[("customer", "cust")] = RemoteRef("customer", "cust", first["CUSTOMERID"], None)
    adapter = IntacctPush(connector)
    step = adapter.step(command, refs, None)  # type: ignore[arg-type]
    assert step.write == PaymentReverse(
        "void-key-3", made.remote_id, DAY, "payment taken back (R01)"
    )
    [answer] = adapter.send([step])
    assert answer.ok and answer.remote_id == made.remote_id
    again = adapter.step(command, refs, None)  # type: ignore[arg-type]
    assert again.write == AlreadyDone(made.remote_id)


def test_a_reversal_is_never_dated_after_the_companys_today(sandbox: IntacctSandbox) -> None:
    """The command's day is the decision's UTC day: in a company west of UTC an evening
    decision falls on the company's tomorrow, and Intacct refuses future reversal dates."""
    [first] = open_invoices(sandbox, 1)
    connector = make(sandbox)
    connector.config.company_timezone = "Pacific/Pago_Pago"  # UTC-11
    line = PaymentLine(first["RECORDNO"], Decimal("10.00"))
    [made] = connector.write([ArPaymentCreate("pay-3", first["CUSTOMERID"], DAY, (line,), "USD")])
    assert made.remote_id
    utc_today = datetime.now(UTC).date()
    company_today = datetime.now(connector.config.zone).date()
    command = Command(
        id="c2",
        system="intacct",
        operation="void_cash",
        key="void-key-4",
        canonical_type="remittance",
        canonical_id="r2",
        payload={
            "customer_id": "cust",
            "currency": "USD",
            "remote_id": made.remote_id,
            "lines": [],
            "on": (utc_today + timedelta(days=1)).isoformat(),
            "reason": "undone",
        },
        result={},
        attempts=0,
        status="pending",
    )
    refs = RefIndex("intacct")
    refs.refs[("customer", "cust")] = RemoteRef("customer", "cust", first["CUSTOMERID"], None)
    step = IntacctPush(connector).step(command, refs, None)  # type: ignore[arg-type]
    assert isinstance(step.write, PaymentReverse) and step.write.on == company_today
