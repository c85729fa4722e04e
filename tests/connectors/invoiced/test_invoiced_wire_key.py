"""Invoiced answers a repeated ``Idempotency-Key`` with its first reply, a refusal included: a
write retried after a refusal goes with its ``wire_key`` in the header, and keeps its own key in
``metadata``, by which a lost reply is looked for."""

from __future__ import annotations

from dataclasses import replace

from connectors.errors import DataError, UncertainWriteError
from connectors.invoiced import InvoicedConnector, InvoicedSandbox
from connectors.invoiced.writes import CreditNoteCreate
from tests.connectors.invoiced.test_invoiced_writes import conn, open_invoices, pay_two, sandbox

__all__ = ["conn", "sandbox"]  # the fixtures


def test_a_refused_payment_lands_once_retried_with_a_wire_key(
    sandbox: InvoicedSandbox, conn: InvoicedConnector
) -> None:
    payment = pay_two(sandbox, key="cmd-moved")
    invoice = sandbox.ledger.records["invoices"][int(payment.applications[0].invoice_id)]
    owner = invoice["customer"]
    invoice["customer"] = next(c for c in sandbox.ledger.records["customers"] if c != owner)
    [refused] = conn.write_payments([payment])
    assert isinstance(refused.error, DataError) and "another customer" in str(refused.error)

    invoice["customer"] = owner  # moved back to its customer
    [again] = conn.write_payments([payment])  # the same key: the first reply
    assert isinstance(again.error, DataError) and sandbox.payments_created == 0
    [landed] = conn.write_payments([replace(payment, wire_key="cmd-moved-r1")])
    assert landed.ok and sandbox.payments_created == 1
    assert landed.record is not None and landed.record["metadata"] == {"arsync_key": "cmd-moved"}
    assert conn.landed(["cmd-moved"]) == {"cmd-moved": landed.remote_id}
    # the retry's own reply lost: sent again with its wire key, Invoiced answers it once
    [resent] = conn.write_payments([replace(payment, wire_key="cmd-moved-r1")])
    assert resent.remote_id == landed.remote_id and sandbox.payments_created == 1


def test_a_credit_note_goes_with_its_wire_key(
    sandbox: InvoicedSandbox, conn: InvoicedConnector
) -> None:
    [invoice] = open_invoices(sandbox, 1)
    note = CreditNoteCreate(
        key="wo:m",
        customer_id=str(invoice["customer"]),
        amount=invoice["balance"] / 2,
        reason="Deduction short-pay",
        currency=invoice["currency"],
        wire_key="wo:m-r1",
    )
    made = conn.writer.create_credit_note(note)
    assert made["metadata"] == {"arsync_key": "wo:m"}
    assert "wo:m-r1" in sandbox.replies and "wo:m" not in sandbox.replies


def test_a_key_used_before_with_other_parameters_is_an_uncertain_write(
    sandbox: InvoicedSandbox, conn: InvoicedConnector
) -> None:
    """Invoiced refuses a key used before with another body: that earlier attempt may have
    landed, so the write is looked for, never given a new key (it would be written twice)."""
    payment = pay_two(sandbox, key="cmd-body")
    [first] = conn.write_payments([payment])
    assert first.ok and sandbox.payments_created == 1
    changed = replace(payment, notes="another body under the same key")
    [again] = conn.write_payments([changed])
    assert isinstance(again.error, UncertainWriteError)
    assert "used before with other parameters" in str(again.error)
    assert sandbox.payments_created == 1
