"""Voiding a Payment arsync created, as Intuit documents it (a sparse update with
``include=void``), against the sandbox; and the push adapter's ``void_cash`` step."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connectors.errors import ConflictError
from connectors.quickbooks import QuickBooksSandbox
from connectors.quickbooks.writes import PaymentVoid, is_voided
from mappings.quickbooks.push import QuickBooksPush
from sync.outbox.adapter import AlreadyDone, Command
from sync.outbox.refs import RefIndex, RemoteRef
from tests.connectors.quickbooks.qbo_helpers import sandbox_connector
from tests.connectors.quickbooks.test_qbo_writes import cash_payment, open_invoices


def void_command(invoices: list[dict[str, Any]], payment_id: str) -> tuple[Command, RefIndex]:
    customer = invoices[0]["CustomerRef"]["value"]
    command = Command(
        id="c1",
        system="quickbooks",
        operation="void_cash",
        key="void-key-1",
        canonical_type="remittance",
        canonical_id="r1",
        payload={
            "customer_id": "cust",
            "currency": "USD",
            "remote_id": payment_id,
            "lines": [{"invoice_id": "inv", "amount_minor": 100}],
            "on": "2026-12-04",
        },
        result={},
        attempts=0,
        status="pending",
    )
    refs = RefIndex("quickbooks")
    refs.refs[("customer", "cust")] = RemoteRef("customer", "cust", customer, None)
    return command, refs


def test_a_voided_payment_gives_its_invoices_their_balance_back(
    sandbox: QuickBooksSandbox,
) -> None:
    connector, _ = sandbox_connector(sandbox)
    invoices = open_invoices(sandbox, 2)
    before = {i["Id"]: Decimal(i["Balance"]) for i in invoices}
    [made] = connector.write([cash_payment("pay-1", invoices)])
    assert made.remote_id and all(sandbox.records["Invoice"][i]["Balance"] == 0 for i in before)
    token = connector.read("Payment", made.remote_id)["SyncToken"]

    voided = connector.writer.void(PaymentVoid("void-1", made.remote_id, token))
    assert voided.ok and voided.remote_id == made.remote_id
    assert voided.record is not None and is_voided(voided.record)
    assert voided.record["PrivateNote"].startswith("Voided")
    assert {i: Decimal(sandbox.records["Invoice"][i]["Balance"]) for i in before} == before

    # a resend after a lost reply carries the same requestid: the first answer, no new write
    writes = sandbox.writes
    again = connector.writer.void(PaymentVoid("void-1", made.remote_id, token))
    assert again.ok and sandbox.writes == writes
    # another void based on the old SyncToken is refused as stale (5010)
    stale = connector.writer.void(PaymentVoid("void-2", made.remote_id, token))
    assert isinstance(stale.error, ConflictError)
    assert {i: Decimal(sandbox.records["Invoice"][i]["Balance"]) for i in before} == before


def test_the_push_step_voids_once_and_then_finds_the_payment_void(
    sandbox: QuickBooksSandbox,
) -> None:
    connector, _ = sandbox_connector(sandbox)
    invoices = open_invoices(sandbox, 1)
    [made] = connector.write([cash_payment("pay-2", invoices)])
    assert made.remote_id
    adapter = QuickBooksPush(connector)
    command, refs = void_command(invoices, made.remote_id)
    step = adapter.step(command, refs, None)  # type: ignore[arg-type]
    assert isinstance(step.write, PaymentVoid) and step.diff[0].startswith("void Payment")
    [answer] = adapter.send([step])
    assert answer.ok and answer.remote_id == made.remote_id
    again = adapter.step(command, refs, None)  # type: ignore[arg-type]
    assert again.write == AlreadyDone(made.remote_id)
    assert adapter.landed([step], sandbox.now()) == {}
