"""Voiding a payment arsync created (Invoiced's ``DELETE /payments/:id``) against the
sandbox; and the push adapter's ``void_cash`` step."""

from __future__ import annotations

from connectors.errors import DataError
from connectors.invoiced import InvoicedConnector, InvoicedSandbox
from connectors.invoiced.writes import PaymentVoid
from mappings.invoiced.push import InvoicedPush
from sync.outbox.adapter import AlreadyDone, Command
from sync.outbox.refs import RefIndex, RemoteRef
from tests.connectors.invoiced.test_invoiced_writes import conn, pay_two, sandbox

__all__ = ["conn", "sandbox"]  # the fixtures, shared with the payment tests


def test_a_voided_payment_stays_voided_and_the_invoices_owe_again(
    sandbox: InvoicedSandbox, conn: InvoicedConnector
) -> None:
    payment = pay_two(sandbox)
    before = {
        a.invoice_id: sandbox.record("invoices", a.invoice_id)["balance"]
        for a in payment.applications
    }
    made = conn.apply_payment(payment)
    payment_id = str(made["id"])
    voided = conn.writer.void_payment(PaymentVoid("void-1", payment_id))
    assert voided["voided"] is True and voided["amount"] == payment.amount
    assert sandbox.record("payments", payment_id)["voided"]
    for invoice_id, balance in before.items():
        assert sandbox.record("invoices", invoice_id)["balance"] == balance
    assert conn.writer.payment(payment_id)["voided"] is True
    try:
        conn.writer.void_payment(PaymentVoid("void-1", payment_id))
    except DataError as exc:
        assert "already been voided" in str(exc)
    else:
        raise AssertionError("a second void must not void again")
    for invoice_id, balance in before.items():
        assert sandbox.record("invoices", invoice_id)["balance"] == balance


def test_the_push_step_voids_once_and_then_finds_the_payment_void(
    sandbox: InvoicedSandbox, conn: InvoicedConnector
) -> None:
    payment = pay_two(sandbox, key="cmd-2")
    payment_id = str(conn.apply_payment(payment)["id"])
    command = Command(
        id="c1",
        system="invoiced",
        operation="void_cash",
        key="void-key-2",
        canonical_type="remittance",
        canonical_id="r1",
        payload={"customer_id": "cust", "currency": "USD", "remote_id": payment_id, "lines": []},
        result={},
        attempts=0,
        status="pending",
    )
    refs = RefIndex("invoiced")
    refs.refs[("customer", "cust")] = RemoteRef("customer", "cust", payment.customer_id, None)
    adapter = InvoicedPush(conn)
    step = adapter.step(command, refs, None)  # type: ignore[arg-type]
    assert step.write == PaymentVoid("void-key-2", payment_id)
    [answer] = adapter.send([step])
    assert answer.ok and answer.remote_id == payment_id
    writes = sandbox.writes
    again = adapter.step(command, refs, None)  # type: ignore[arg-type]
    assert again.write == AlreadyDone(payment_id) and sandbox.writes == writes
