"""Outbox commands as Invoiced writes: payments with ``applied_to``, credit notes.

* ``apply_cash``: a payment of the cash received with one ``invoice`` entry per invoice;
  the rest stays on the payment as its balance.
* ``apply_credit``: a zero-amount payment with ``credit_note`` entries naming both documents.
* ``write_off``: a credit note issued against the invoice, which Invoiced applies to it.

Invoiced has no batch endpoint: one request per write, each with its ``Idempotency-Key``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session

from connectors.errors import ApiError, AuthError
from connectors.invoiced.connector import InvoicedConnector
from connectors.invoiced.writes import Application, CreditNoteCreate, PaymentCreate
from sync.outbox.adapter import Command, PushAdapter, Step, StepResult, Unwritable
from sync.outbox.refs import RefIndex


class InvoicedPush(PushAdapter):
    system = "invoiced"
    batch_size = 1
    connector: InvoicedConnector

    def step(self, command: Command, refs: RefIndex, session: Session) -> Step:
        customer = self.customer(refs, command).remote_id
        p = command.payload
        currency = str(p["currency"])
        diff: list[str] = []
        if command.operation == "apply_cash":
            entries = tuple(
                Application(
                    "invoice",
                    self.invoice(
                        refs, command, line["invoice_id"], line["amount_minor"], diff
                    ).remote_id,
                    command.money(line["amount_minor"]),
                )
                for line in p["lines"]
            )
            payment = PaymentCreate(
                key=command.key,
                customer_id=customer,
                amount=command.money(p["amount_minor"]),
                applications=entries,
                currency=currency,
                received_on=command.on,
                reference=p.get("reference"),
                notes=f"remittance from {p['payer']}" if p.get("payer") else None,
            )
            diff.insert(0, f"new payment {payment.amount} {currency} for customer {customer}")
            return Step(command, command.key, payment, diff=diff, creates=("payment", "payment"))
        if command.operation == "apply_credit":
            total = sum(int(line["amount_minor"]) for line in p["lines"])
            note = self.credit(refs, command, p["credit_memo_id"], total, diff).remote_id
            entries = tuple(
                Application(
                    "credit_note",
                    self.invoice(
                        refs, command, line["invoice_id"], line["amount_minor"], diff
                    ).remote_id,
                    command.money(line["amount_minor"]),
                    note,
                )
                for line in p["lines"]
            )
            payment = PaymentCreate(
                key=command.key,
                customer_id=customer,
                amount=command.money(0),
                applications=entries,
                currency=currency,
                received_on=command.on,
                method="other",
            )
            diff.insert(0, f"new zero-amount payment applying credit note {note}")
            return Step(command, command.key, payment, diff=diff, creates=("payment", "payment"))
        if command.operation == "write_off":
            invoice = self.invoice(refs, command, p["invoice_id"], p["amount_minor"], diff)
            credit = CreditNoteCreate(
                key=command.key,
                customer_id=customer,
                invoice_id=invoice.remote_id,
                amount=command.money(p["amount_minor"]),
                reason=f"Deduction {p.get('reason') or ''}".strip(),
                currency=currency,
                issued_on=command.on,
            )
            diff.insert(0, f"new credit note {credit.amount} ({p.get('reason')}) on the invoice")
            return Step(
                command, command.key, credit, diff=diff, creates=("credit_memo", "credit_note")
            )
        raise Unwritable(f"invoiced cannot {command.operation}")

    def send(self, steps: Sequence[Step]) -> list[StepResult]:
        results: list[StepResult] = []
        for step in steps:
            try:
                if isinstance(step.write, CreditNoteCreate):
                    record = self.connector.writer.create_credit_note(step.write)
                else:
                    record = self.connector.apply_payment(step.write)
            except AuthError:
                raise
            except ApiError as exc:
                results.append(StepResult(step, error=exc))
                continue
            results.append(StepResult(step, remote_id=str(record.get("id"))))
        return results

    def refresh(self, command: Command, refs: RefIndex) -> None:
        """Re-read the invoices' balances (after a refusal, to re-validate the decision)."""
        ids = [line["invoice_id"] for line in command.payload.get("lines") or ()]
        if command.payload.get("invoice_id"):
            ids.append(command.payload["invoice_id"])
        for invoice_id in ids:
            ref = refs.get("invoice", invoice_id)
            if ref is None:
                continue
            current = self.connector.client.get(f"/invoices/{ref.remote_id}")
            if isinstance(current, dict) and current.get("balance") is not None:
                ref.values["balance_minor"] = str(command.money_minor(current["balance"]))
                ref.values["status"] = "void" if current.get("voided") else ref.values.get("status")

    def landed(self, steps: Sequence[Step], since: datetime) -> dict[str, str]:
        # a resend carries the same Idempotency-Key and gets the first reply; this finds
        # payments whose key Invoiced may no longer remember
        keys = [s.key for s in steps if isinstance(s.write, PaymentCreate)]
        return self.connector.landed(keys) if keys else {}


ADAPTER = InvoicedPush
