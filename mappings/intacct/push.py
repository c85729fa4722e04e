"""Outbox commands as Sage Intacct writes.

* ``apply_cash``: an ``ARPYMT`` with one ``ARPYMTDETAIL`` per invoice; the cash received
  that the lines do not apply goes in its ``OVERPAYMENTAMOUNT``, so the payment records the
  whole deposit (as QuickBooks' ``UnappliedAmt`` and Invoiced's payment balance do) and the
  rest is the customer's overpayment in Intacct, not cash missing from its books.
* ``apply_credit``: an ``ARPYMT`` whose details apply the credit adjustment to the invoices
  (``ADJUSTMENTKEY``); it carries its key, so a lost reply can be looked up.
* ``write_off``: a credit ``ARADJUSTMENT`` on the configured GL account, then an ARPYMT
  applying it to the invoice (two steps, each keyed).

* ``void_cash``: the ARPYMT an ``apply_cash``/``apply_credit`` created is reversed
  (``reverse_arpayment``, dated the day of the reversal decision); one already reversed is
  confirmed without a write, and a resend of the function is answered "already recorded"
  for its control id, which counts as done.

Several functions per request (``write_batch_size``), each keyed by its control id.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlmodel import Session

from canonical.types import utcnow
from connectors.errors import AuthError, PartialAuthError, answered_before
from connectors.intacct.connector import IntacctConnector
from connectors.intacct.writes import (
    REVERSED_STATES,
    AdjustmentCreate,
    ArPaymentCreate,
    PaymentLine,
    PaymentReverse,
)
from sync.outbox.adapter import (
    AlreadyDone,
    Command,
    PushAdapter,
    Step,
    StepResult,
    Unwritable,
)
from sync.outbox.refs import RefIndex, RemoteRef


class IntacctPush(PushAdapter):
    system = "intacct"
    connector: IntacctConnector

    @property
    def batch_size(self) -> int:  # type: ignore[override]
        return int(self.connector.config.write_batch_size)

    def step(self, command: Command, refs: RefIndex, session: Session) -> Step:
        customer = self.customer(refs, command).remote_id
        p = command.payload
        on = command.on or utcnow().date()
        diff: list[str] = []
        if command.operation == "apply_cash":
            config = self.connector.config
            if not (config.deposit_account or config.undeposited_account):
                raise Unwritable("intacct.deposit_account is not set: nowhere to deposit cash")
            lines = self._lines(command, refs, diff)
            applied = sum((line.amount for line in lines), command.money(0))
            cash = command.money(p["amount_minor"])
            if applied > cash:
                raise Unwritable(f"the lines apply {applied}, more than the {cash} received")
            payment = ArPaymentCreate(
                key=command.key,
                customer_id=customer,
                received_on=on,
                lines=lines,
                currency=str(p["currency"]),
                reference=p.get("reference"),
                overpayment=cash - applied,
            )
            diff.insert(0, f"new ARPYMT {cash} {p['currency']} for customer {customer}")
            if payment.overpayment:
                diff.append(f"{payment.overpayment} stays on it unapplied (OVERPAYMENTAMOUNT)")
            return Step(command, command.key, payment, diff=diff, creates=("payment", "ARPYMT"))
        if command.operation == "apply_credit":
            total = sum(int(line["amount_minor"]) for line in p["lines"])
            credit = self.credit(refs, command, p["credit_memo_id"], total, diff).remote_id
            lines = tuple(
                PaymentLine(line.invoice_key, line.amount, credit, line.debit_memo)
                for line in self._lines(command, refs, diff)
            )
            payment = ArPaymentCreate(command.key, customer, on, lines, str(p["currency"]))
            diff.insert(0, f"new ARPYMT applying credit adjustment {credit}")
            return Step(command, command.key, payment, diff=diff, creates=("payment", "ARPYMT"))
        if command.operation == "write_off":
            return self._write_off(command, refs, customer, diff)
        if command.operation == "void_cash":
            # the command's day is the decision's in UTC; a reversal dated after the
            # company's today (a US evening is the next UTC day) would be future-dated
            today = datetime.now(self.connector.config.zone).date()
            return self._void(command, refs, min(on, today), diff)
        raise Unwritable(f"intacct cannot {command.operation}")

    def _void(self, command: Command, refs: RefIndex, on: date, diff: list[str]) -> Step:
        payment = self.voided_payment(command)
        state = self.connector.writer.payment_state(payment)
        if state is None:
            raise Unwritable(f"ARPYMT {payment} no longer exists", conflict=True)
        if state in REVERSED_STATES:
            diff.append(f"ARPYMT {payment} is already {state}")
            return Step(command, command.key, AlreadyDone(payment), diff=diff)
        self.given_back(refs, command, diff)
        diff.insert(0, f"reverse ARPYMT {payment} on {on}")
        reason = command.payload.get("reason")
        write = PaymentReverse(command.key, payment, on, str(reason) if reason else None)
        return Step(command, command.key, write, diff=diff)

    def _lines(self, command: Command, refs: RefIndex, diff: list[str]) -> tuple[PaymentLine, ...]:
        return tuple(
            PaymentLine(invoice.remote_id, amount, debit_memo=_is_debit_memo(invoice))
            for invoice, amount in self.applied_invoices(refs, command, diff)
        )

    def _write_off(self, command: Command, refs: RefIndex, customer: str, diff: list[str]) -> Step:
        p = command.payload
        amount = command.money(p["amount_minor"])
        invoice = self.invoice(refs, command, p["invoice_id"], p["amount_minor"], diff)
        doc_key, apply_key = command.write_off_keys
        on = command.on or utcnow().date()
        if command.step_index == 0:
            account = self.connector.config.write_off_account
            if not account:
                raise Unwritable("intacct.write_off_account is not set: nowhere to write off")
            write = AdjustmentCreate(
                doc_key,
                customer,
                amount,
                on,
                command.deduction,
                str(p["currency"]),
            )
            diff.insert(0, f"new credit ARADJUSTMENT {amount} ({p.get('reason')}) on {account}")
            return Step(
                command,
                doc_key,
                write,
                final=False,
                diff=diff,
                creates=("credit_memo", "ARADJUSTMENT"),
            )
        adjustment = self.write_off_credit(command, "adjustment")
        apply = ArPaymentCreate(
            apply_key,
            customer,
            on,
            (PaymentLine(invoice.remote_id, amount, adjustment, _is_debit_memo(invoice)),),
            str(p["currency"]),
        )
        diff.insert(0, f"new ARPYMT applying write-off adjustment {adjustment}")
        return Step(command, apply.key, apply, diff=diff, creates=("payment", "ARPYMT"))

    def send(self, steps: Sequence[Step]) -> list[StepResult]:
        """``write_batch_size`` steps per request. An auth failure stops the sending: it is
        raised as a :class:`PartialAuthError` carrying the steps answered before it."""
        try:
            results = self.connector.write([s.write for s in steps])
        except AuthError as exc:
            done = zip(steps, answered_before(exc), strict=False)  # a prefix
            raise PartialAuthError(
                exc, [StepResult(s, remote_id=r.remote_id, error=r.error) for s, r in done]
            ) from exc
        return [
            StepResult(step, remote_id=r.remote_id, error=r.error)
            for step, r in zip(steps, results, strict=True)
        ]

    def landed(self, steps: Sequence[Step], since: datetime) -> dict[str, str]:
        # a reversal is looked for when its step is built (the payment's STATE shows it)
        keys = [s.key for s in steps if not isinstance(s.write, PaymentReverse)]
        return self.connector.landed(keys, since) if keys else {}


ADAPTER = IntacctPush


def _is_debit_memo(invoice: RemoteRef) -> bool:
    """A canonical invoice that Intacct holds as a debit memo (an ARADJUSTMENT)."""
    return invoice.object_type == "ARADJUSTMENT"
