"""Outbox commands as Invoiced writes: payments with ``applied_to``, credit notes.

* ``apply_cash``: a payment of the cash received with one ``invoice`` entry per invoice;
  the rest stays on the payment as its balance.
* ``apply_credit``: a zero-amount payment with ``credit_note`` entries naming both documents.
* ``write_off``: two steps, each with its own key derived from the command's.

  0. ``POST /credit_notes`` (customer, currency, date, one item, metadata; key ``<key>:m``):
     the credit note for the deduction, recorded and linked as the write-off's canonical
     credit memo, so the next pull links it instead of importing it.
  1. ``POST /payments`` (key ``<key>:a``): a zero-amount payment applying that credit note to
     the invoice, with one ``applied_to`` entry ``{"type": "credit_note", "credit_note": id,
     "document_type": "invoice", "invoice": id, "amount": X}``.

  Invoiced documents no ``invoice`` attribute on credit notes (developer.invoiced.com/api,
  github.com/Invoiced/api ``_credit_notes.md.erb``, ``_payments.md.erb``): a credit note is
  applied by a payment, never by its creation.

* ``void_cash``: the payment an ``apply_cash``/``apply_credit`` created is voided with
  ``DELETE /payments/:id``; the payment is read first, and one already ``voided`` is
  confirmed without a write (a resend after a lost reply voids nothing twice).

Invoiced has no batch endpoint: one request per write, each with its ``Idempotency-Key`` (its
wire key: :meth:`~sync.outbox.adapter.Command.wire_key`, another after each refusal) and the
step's own key in its ``metadata``. A write left without a reply after the retries is
uncertain, as in the other systems: a resend much later cannot count on Invoiced still
remembering its key. The worker records each step before the next; after a lost reply or a crash,
:meth:`InvoicedPush.landed` looks for the step's record by that metadata key (credit notes for
step 0, payments otherwise), so no credit note is created twice and none is applied twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session

from connectors.base import RawRecord
from connectors.errors import (
    ApiError,
    AuthError,
    DataError,
    NotFoundError,
    PartialAuthError,
    share_of_failed_call,
)
from connectors.invoiced.connector import InvoicedConnector
from connectors.invoiced.writes import (
    Application,
    CreditNoteCreate,
    PaymentCreate,
    PaymentVoid,
    credit_note_application,
)
from mappings.base import MappingContext, MappingError
from mappings.invoiced.common import currency as document_currency
from mappings.invoiced.invoice import standing
from sync.outbox.adapter import (
    AlreadyDone,
    Command,
    PushAdapter,
    Step,
    StepResult,
    Unwritable,
    label,
)
from sync.outbox.refs import RefIndex, RemoteRef


class InvoicedPush(PushAdapter):
    system = "invoiced"
    batch_size = 1
    connector: InvoicedConnector

    def step(self, command: Command, refs: RefIndex, session: Session) -> Step:
        customer = self.customer(refs, command).remote_id
        if command.operation != "void_cash":
            self._same_currency(refs, command)
        p = command.payload
        currency = str(p["currency"])
        diff: list[str] = []
        if command.operation == "apply_cash":
            entries = tuple(
                Application("invoice", invoice.remote_id, amount)
                for invoice, amount in self.applied_invoices(refs, command, diff)
            )
            payment = PaymentCreate(
                key=command.key,
                wire_key=command.wire_key(command.key),
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
                Application("credit_note", invoice.remote_id, amount, note)
                for invoice, amount in self.applied_invoices(refs, command, diff)
            )
            payment = PaymentCreate(
                key=command.key,
                wire_key=command.wire_key(command.key),
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
            return self._write_off(command, refs, customer, diff)
        if command.operation == "void_cash":
            return self._void(command, refs, diff)
        raise Unwritable(f"invoiced cannot {command.operation}")

    def _void(self, command: Command, refs: RefIndex, diff: list[str]) -> Step:
        payment_id = self.voided_payment(command)
        try:
            current = self.connector.writer.payment(payment_id)
        except NotFoundError:
            raise Unwritable(f"payment {payment_id} no longer exists", conflict=True) from None
        if current.get("voided"):
            diff.append(f"payment {payment_id} is already void")
            return Step(command, command.key, AlreadyDone(payment_id), diff=diff)
        self.given_back(refs, command, diff)
        diff.insert(0, f"void payment {payment_id} ({current.get('amount')})")
        return Step(command, command.key, PaymentVoid(command.key, payment_id), diff=diff)

    def _write_off(self, command: Command, refs: RefIndex, customer: str, diff: list[str]) -> Step:
        """Step 0: the credit note; step 1: the zero-amount payment applying it to the invoice."""
        p = command.payload
        currency = str(p["currency"])
        amount = command.money(p["amount_minor"])
        invoice = self.invoice(refs, command, p["invoice_id"], p["amount_minor"], diff)
        note_key, apply_key = command.write_off_keys
        if command.step_index == 0:
            note = CreditNoteCreate(
                key=note_key,
                wire_key=command.wire_key(note_key),
                customer_id=customer,
                amount=amount,
                reason=command.deduction,
                currency=currency,
                issued_on=command.on,
            )
            diff.insert(0, f"new credit note {amount} {currency} ({p.get('reason')})")
            return Step(
                command,
                note_key,
                note,
                final=False,
                diff=diff,
                creates=("credit_memo", "credit_note"),
            )
        note_id = self.write_off_credit(command, "credit note")
        payment = credit_note_application(
            apply_key,
            customer,
            invoice.remote_id,
            note_id,
            amount,
            currency=currency,
            received_on=command.on,
            wire_key=command.wire_key(apply_key),
        )
        diff.insert(0, f"new zero-amount payment applying credit note {note_id} to the invoice")
        return Step(command, apply_key, payment, diff=diff, creates=("payment", "payment"))

    def send(self, steps: Sequence[Step]) -> list[StepResult]:
        """One request per step, in order. An auth failure stops the sending: it is raised as a
        :class:`PartialAuthError` carrying the steps answered before it. A step whose body
        cannot be made (more applied than received) is refused unsent, naming its command; the
        steps after it are sent."""
        results: list[StepResult] = []
        for step in steps:
            try:
                if isinstance(step.write, CreditNoteCreate):
                    record = self.connector.writer.create_credit_note(step.write)
                elif isinstance(step.write, PaymentVoid):
                    record = self.connector.writer.void_payment(step.write)
                else:
                    record = self.connector.apply_payment(step.write)
            except AuthError as exc:
                raise PartialAuthError(exc, results) from exc
            except ApiError as exc:
                # no reply after the retries: it may have landed (looked for before a resend)
                where = f"command {step.command.id}"
                results.append(StepResult(step, error=share_of_failed_call(exc, where)))
                continue
            except ValueError as exc:  # a body Invoiced would not take: never sent
                error = DataError(self.system, f"command {step.command.id}: {exc}")
                results.append(StepResult(step, error=error, sent=False))
                continue
            results.append(StepResult(step, remote_id=str(record.get("id"))))
        return results

    def refresh(self, command: Command, refs: RefIndex) -> None:
        """Re-read the documents ``command`` touches (after a refusal, to re-validate the
        decision): the invoices and an ``apply_credit``'s credit note, their currency, status
        and what they owe or have left as the pull maps them. A document now in another
        currency keeps its old balance: :meth:`step` refuses it for its currency."""
        code = str(command.payload["currency"]).upper()
        documents = [("invoice", "/invoices", ref) for ref in self.touched_invoices(refs, command)]
        note = self._applied_note(refs, command)
        if note is not None:
            documents.append(("credit note", "/credit_notes", note))
        for what, path, ref in documents:
            current = self.connector.client.get(f"{path}/{ref.remote_id}")
            if not isinstance(current, dict):
                continue
            record = RawRecord(path[1:], what, ref.remote_id, current)
            try:
                context = MappingContext(system=self.system, home_currency=code)
                found = document_currency(record, context)
                ref.values["currency"] = found
                if found != code:
                    continue
                status, balance = standing(current, code)
            except MappingError as exc:
                raise DataError(self.system, f"{what} {ref.remote_id}: {exc}") from None
            ref.values["balance_minor"] = str(balance.minor)
            ref.values["status"] = status.value

    @staticmethod
    def _applied_note(refs: RefIndex, command: Command) -> RemoteRef | None:
        """The credit note an ``apply_credit`` applies, when known."""
        memo_id = command.payload.get("credit_memo_id")
        if command.operation != "apply_credit" or not memo_id:
            return None
        return refs.get("credit_memo", str(memo_id))

    def _same_currency(self, refs: RefIndex, command: Command) -> None:
        """Refuse, as a conflict, a document now in another currency than the command's."""
        code = str(command.payload["currency"])
        documents = [("invoice", ref) for ref in self.touched_invoices(refs, command)]
        note = self._applied_note(refs, command)
        if note is not None:
            documents.append(("credit memo", note))
        for what, ref in documents:
            found = ref.values.get("currency")
            if found and str(found).upper() != code.upper() and refs.checks:
                raise Unwritable(
                    f"{label(what, ref)} is in {found} in {self.system}, the decision is in {code}",
                    conflict=True,
                )

    def landed(self, steps: Sequence[Step], since: datetime) -> dict[str, str]:
        """Steps whose record is already in Invoiced, found by the key in its metadata.

        A resend carries the same Idempotency-Key and gets the first reply; this finds records
        whose key Invoiced may no longer remember: payments, and write-off credit notes."""
        writer = self.connector.writer
        payments = [s.key for s in steps if isinstance(s.write, PaymentCreate)]
        notes = [s.key for s in steps if isinstance(s.write, CreditNoteCreate)]
        found = writer.landed(payments) if payments else {}
        if notes:
            found.update(writer.landed(notes, "/credit_notes"))
        for step in steps:
            legacy = _legacy_write_off(step)
            if legacy and step.key not in found:
                # sent by the former one-step write-off (a credit note that Invoiced applied to
                # the invoice when it was created): if it landed, the command is done
                hit = writer.landed([legacy], "/credit_notes")
                if legacy in hit:
                    step.final = True
                    found[step.key] = hit[legacy]
        return found


def _legacy_write_off(step: Step) -> str | None:
    """The key of a write-off sent in one step (keyed by the command's own key) whose reply
    was never recorded, or None."""
    c = step.command
    if c.operation == "write_off" and c.step_index == 0 and c.result.get("sending") == c.key:
        return c.key
    return None


ADAPTER = InvoicedPush
