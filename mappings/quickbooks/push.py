"""Outbox commands as QuickBooks Online writes.

* ``apply_cash``: a Payment whose lines link the invoices (``LinkedTxn`` type Invoice); cash
  not applied stays on it as ``UnappliedAmt``.
* ``apply_credit``: a zero-total Payment linking the invoices and the credit memo.
* ``write_off``: a CreditMemo on the configured write-off item, then a zero-total Payment
  applying it to the invoice (two steps, each with its own key).
* ``void_cash``: the Payment an ``apply_cash``/``apply_credit`` created is voided (a sparse
  update with ``include=void``, its own request with a requestid); one already voided is
  confirmed without a write.

Everything goes through ``/batch`` (30 items per request, ``requestid`` per request, made of
the items' wire keys: :meth:`~sync.outbox.adapter.Command.wire_key`), and each write carries
its key in ``PrivateNote`` for read-before-retry.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session

from connectors.errors import AuthError, NotFoundError, PartialAuthError, answered_before
from connectors.quickbooks.connector import QuickBooksConnector
from connectors.quickbooks.writes import (
    BATCH_LIMIT,
    CreditMemoCreate,
    PaymentCreate,
    PaymentLine,
    PaymentVoid,
    WriteResult,
    credit_memo_application,
    is_voided,
)
from sync.outbox.adapter import (
    AlreadyDone,
    Command,
    PushAdapter,
    Step,
    StepResult,
    Unwritable,
)
from sync.outbox.refs import RefIndex


class QuickBooksPush(PushAdapter):
    system = "quickbooks"
    batch_size = BATCH_LIMIT
    connector: QuickBooksConnector

    def __init__(
        self, connector: QuickBooksConnector, options: dict[str, Any] | None = None
    ) -> None:
        super().__init__(connector, options)
        # command id -> QuickBooks' refusal of its last attempt, kept from the send to the
        # re-check that follows it, so a conflict found there says what QuickBooks answered
        self._refusals: dict[str, str] = {}
        self._rechecking: dict[str, str] = {}

    def step(self, command: Command, refs: RefIndex, session: Session) -> Step:
        answered = self._rechecking.pop(command.id, None)
        try:
            return self._step(command, refs)
        except Unwritable as exc:
            if answered is None:
                raise
            reason = f"{exc.reason} (QuickBooks answered: {answered})"
            raise Unwritable(reason, conflict=exc.conflict) from None

    def _step(self, command: Command, refs: RefIndex) -> Step:
        customer = self.customer(refs, command).remote_id
        p = command.payload
        currency = str(p["currency"])
        diff: list[str] = []
        if command.operation == "apply_cash":
            lines = tuple(
                PaymentLine("Invoice", invoice.remote_id, amount)
                for invoice, amount in self.applied_invoices(refs, command, diff)
            )
            payer = f" from {p['payer']}" if p.get("payer") else ""
            payment = PaymentCreate(
                key=command.key,
                wire_key=command.wire_key(command.key),
                customer_id=customer,
                total=command.money(p["amount_minor"]),
                lines=lines,
                currency=currency,
                txn_date=command.on,
                reference=p.get("reference"),
                memo=f"remittance{payer}",
            )
            diff.insert(0, f"new Payment {payment.total} {currency} for customer {customer}")
            return Step(command, command.key, payment, diff=diff, creates=("payment", "Payment"))
        if command.operation == "apply_credit":
            total = sum(int(line["amount_minor"]) for line in p["lines"])
            memo = self.credit(refs, command, p["credit_memo_id"], total, diff)
            invoice_lines = [
                PaymentLine("Invoice", invoice.remote_id, amount)
                for invoice, amount in self.applied_invoices(refs, command, diff)
            ]
            payment = PaymentCreate(
                key=command.key,
                wire_key=command.wire_key(command.key),
                customer_id=customer,
                total=command.money(0),
                lines=(
                    *invoice_lines,
                    PaymentLine("CreditMemo", memo.remote_id, command.money(total)),
                ),
                currency=currency,
                txn_date=command.on,
            )
            diff.insert(0, "new zero-total Payment applying the credit memo")
            return Step(command, command.key, payment, diff=diff, creates=("payment", "Payment"))
        if command.operation == "write_off":
            return self._write_off(command, refs, customer, diff)
        if command.operation == "void_cash":
            return self._void(command, refs, diff)
        raise Unwritable(f"quickbooks cannot {command.operation}")

    def _void(self, command: Command, refs: RefIndex, diff: list[str]) -> Step:
        """Void the Payment arsync created, read first for its SyncToken (and to find one
        already voided: a resend after a lost reply then writes nothing)."""
        payment_id = self.voided_payment(command)
        try:
            current = self.connector.read("Payment", payment_id)
        except NotFoundError:
            raise Unwritable(f"Payment {payment_id} no longer exists", conflict=True) from None
        if is_voided(current):
            diff.append(f"Payment {payment_id} is already void")
            return Step(command, command.key, AlreadyDone(payment_id), diff=diff)
        self.given_back(refs, command, diff)
        diff.insert(0, f"void Payment {payment_id} ({current.get('TotalAmt')})")
        token = str(current.get("SyncToken", "0"))
        write = PaymentVoid(command.key, payment_id, token, wire_key=command.wire_key(command.key))
        return Step(command, command.key, write, diff=diff)

    def _write_off(self, command: Command, refs: RefIndex, customer: str, diff: list[str]) -> Step:
        p = command.payload
        amount = command.money(p["amount_minor"])
        invoice = self.invoice(refs, command, p["invoice_id"], p["amount_minor"], diff)
        memo_key, apply_key = command.write_off_keys
        if command.step_index == 0:
            item = self.connector.config.write_off_item_id
            if not item:
                raise Unwritable("quickbooks.write_off_item_id is not set: nowhere to write off")
            write = CreditMemoCreate(
                memo_key,
                customer,
                amount,
                item,
                str(p["currency"]),
                command.on,
                command.deduction,
                wire_key=command.wire_key(memo_key),
            )
            diff.insert(0, f"new CreditMemo {amount} ({p.get('reason')}) on item {item}")
            return Step(
                command,
                memo_key,
                write,
                final=False,
                diff=diff,
                creates=("credit_memo", "CreditMemo"),
            )
        memo_id = self.write_off_credit(command, "credit memo")
        application = credit_memo_application(
            apply_key,
            customer,
            invoice.remote_id,
            memo_id,
            amount,
            currency=str(p["currency"]),
            txn_date=command.on,
            wire_key=command.wire_key(apply_key),
        )
        diff.insert(0, f"new zero-total Payment applying CreditMemo {memo_id}")
        return Step(command, apply_key, application, diff=diff, creates=("payment", "Payment"))

    def send(self, steps: Sequence[Step]) -> list[StepResult]:
        """The creates through ``/batch`` (30 per request), then each void as its own request.
        An auth failure stops the sending: it is raised as a :class:`PartialAuthError` carrying
        the steps answered before it."""
        self._refusals.clear()  # a previous round's, re-checked or not needed by then
        creates = [s for s in steps if not isinstance(s.write, PaymentVoid)]
        try:
            written = self.connector.write([s.write for s in creates])
        except AuthError as exc:
            # the batches answered before it: a prefix of the creates
            done = zip(creates, answered_before(exc), strict=False)
            raise PartialAuthError(exc, [_answer(s, r) for s, r in done]) from exc
        answered = {id(s): _answer(s, r) for s, r in zip(creates, written, strict=True)}
        for step in steps:
            if isinstance(step.write, PaymentVoid):
                try:
                    answered[id(step)] = _answer(step, self.connector.writer.void(step.write))
                except AuthError as exc:
                    raise PartialAuthError(exc, list(answered.values())) from exc
        results = [answered[id(s)] for s in steps]
        for result in results:
            if result.error is not None:
                self._refusals[result.step.command.id] = result.error.message
        return results

    def landed(self, steps: Sequence[Step], since: datetime) -> dict[str, str]:
        # a void is looked for when its step is built (the payment read shows it voided)
        keys = [s.key for s in steps if not isinstance(s.write, PaymentVoid)]
        return self.connector.landed(keys, since) if keys else {}

    def refresh(self, command: Command, refs: RefIndex) -> None:
        """Re-read the invoices: their balance now is what the decision is checked against;
        one QuickBooks no longer has (610: another user deleted it) is deleted."""
        answered = self._refusals.pop(command.id, None)
        for ref in self.touched_invoices(refs, command):
            try:
                current = self.connector.read("Invoice", ref.remote_id)
            except NotFoundError:
                # deleted only when a query by Id confirms it: a 610 or bare 404 alone may be
                # a passing or permission answer, and re-reading failed is what it then says
                if ref.remote_id not in self.connector.missing("invoices", {ref.remote_id}):
                    raise
                ref.values["status"] = "deleted"
                continue
            balance = current.get("Balance")
            if balance is not None:
                ref.values["balance_minor"] = str(command.money_minor(balance))
            ref.version = str(current.get("SyncToken", ref.version))
        if answered is not None:
            self._rechecking[command.id] = answered


def _answer(step: Step, result: WriteResult) -> StepResult:
    return StepResult(step, remote_id=result.remote_id, error=result.error, sent=result.sent)


ADAPTER = QuickBooksPush
