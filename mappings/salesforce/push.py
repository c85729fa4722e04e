"""Outbox commands as Salesforce writes: state the CRM shows, not transactions.

* ``invoice_state``: the invoice's status, balance and paid date (fields per the schema; where
  the org's balance is calculated and its status drives the package, as in Salesforce Billing,
  the balance goes to the schema's ``push_balance`` field and the status is not written).
* ``credit_memo_state``: what is left of a credit memo and its status (applied once nothing
  is), to the fields the schema lets arsync write: the balance to ``push_balance``, else to
  ``balance`` unless the org calculates it (``balance_calculated``), the status only if
  ``push_status``. Where none is writable (Revenue Cloud, Salesforce Billing) the command is
  done without a write.
* ``account_summary``: the Account's AR summary — open balance, overdue balance, oldest
  overdue days, aging bucket, credit hold.

Values are computed from the canonical store when sent, so they are absolute: a resend after
a lost reply writes the same values again, and several commands for one record in a push
become one record in the request. sObject Collections, 200 records per call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from canonical.enums import ApplicationStatus, DocumentStatus
from canonical.models import Application, CreditMemo, Customer, Invoice
from canonical.money import Money
from canonical.types import utcnow
from connectors.errors import (
    ERROR_CLASSES,
    AuthError,
    ErrorKind,
    PartialAuthError,
    answered_before,
)
from connectors.salesforce.connector import SalesforceConnector
from connectors.salesforce.writes import AccountSummary, InvoiceStatus, WriteResult, wire_status
from mappings.salesforce.schema import DocumentSpec
from sync.outbox.adapter import AlreadyDone, Command, PushAdapter, Step, StepResult, Unwritable
from sync.outbox.refs import RefIndex

BUCKETS = ((0, "current"), (30, "1-30"), (60, "31-60"), (90, "61-90"))


def aging_bucket(days_overdue: int) -> str:
    """The aging bucket of the oldest overdue invoice."""
    for limit, name in BUCKETS:
        if days_overdue <= limit:
            return name
    return "90+"


def summary_currency(account_currency: str | None, rows: Sequence[Any], account: str) -> str:
    """The currency an Account's AR summary is written in: the account's own (in a
    multi-currency org, Salesforce reads an Account's currency fields in its
    ``CurrencyIsoCode``), else the one currency of its open invoices. arsync converts no
    currency: open invoices in another currency than that one cannot be summed into the
    figures, so the summary is unwritable rather than written without them. ``account``
    names the account in the reason."""
    found = sorted({str(row[2]) for row in rows})
    if account_currency:
        currency = str(account_currency).upper()
        others = [c for c in found if c != currency]
        if others:
            raise Unwritable(
                f"{account} is kept in {currency} and has open invoices in {', '.join(others)}: "
                "the AR summary would leave them out (arsync converts no currency)"
            )
        return currency
    if len(found) > 1:
        raise Unwritable(
            f"{account} has open invoices in {', '.join(found)} and no account currency: the "
            "AR summary would add different currencies"
        )
    return found[0] if found else "USD"


def credit_memo_fields(
    spec: DocumentSpec, status: DocumentStatus, balance: Money
) -> dict[str, Any]:
    """The writable fields of a credit memo's state (API name -> value): its balance and its
    status picklist, each only where the schema lets arsync write it. Empty: none is."""
    values: dict[str, Any] = {}
    balance_field = spec.pushed_balance()
    if balance_field:
        values[balance_field] = balance.amount
    if spec.status and spec.push_status:
        try:
            values[spec.status] = wire_status(spec.status_map, status.value)
        except ValueError as exc:
            raise Unwritable(f"{spec.sobject}.{spec.status}: {exc}") from None
    return values


@dataclass(frozen=True)
class CreditMemoState:
    """A credit memo's state as arsync decided it, in the org's field names."""

    record_id: str
    values: Mapping[str, Any]


@dataclass(frozen=True)
class _Record:
    kind: str  # invoice | credit_memo | account
    update: InvoiceStatus | CreditMemoState | AccountSummary


class SalesforcePush(PushAdapter):
    system = "salesforce"
    sends_state = True
    connector: SalesforceConnector

    @property
    def batch_size(self) -> int:  # type: ignore[override]
        return int(self.connector.config.write_batch_size)

    def step(self, command: Command, refs: RefIndex, session: Session) -> Step:
        if command.operation == "invoice_state":
            return self._invoice(command, refs, session)
        if command.operation == "credit_memo_state":
            return self._credit_memo(command, refs, session)
        if command.operation == "account_summary":
            return self._account(command, refs, session)
        raise Unwritable(f"salesforce cannot {command.operation}")

    def _invoice(self, command: Command, refs: RefIndex, session: Session) -> Step:
        invoice_id = str(command.payload["invoice_id"])
        ref = refs.live("invoice", invoice_id, f"invoice {invoice_id}")
        invoice = session.get(Invoice, invoice_id)
        if invoice is None:
            raise Unwritable(f"invoice {invoice_id} is not in the store")
        if invoice.status in (DocumentStatus.VOID, DocumentStatus.DELETED):
            raise Unwritable(f"invoice {invoice.number} is {invoice.status}", conflict=True)
        paid = invoice.balance_minor == 0
        paid_on: date | None = None
        if paid:
            paid_on = session.execute(
                select(func.max(col(Application.applied_on))).where(
                    col(Application.invoice_id) == invoice_id,
                    col(Application.status) == ApplicationStatus.APPLIED,
                )
            ).scalar_one_or_none()
        balance = invoice.balance
        update = InvoiceStatus(
            record_id=ref.remote_id,
            status=DocumentStatus.PAID.value if paid else DocumentStatus.OPEN.value,
            balance=balance.amount,
            paid_date=paid_on,
        )
        was = ref.balance_minor
        before = (
            f"{Money.from_minor(was, invoice.currency).amount}" if was is not None else "unknown"
        )
        spec = self.connector.config.objects.invoice
        status = (
            f"status {ref.values.get('status') or 'unknown'} -> {update.status}, "
            if spec.status and spec.push_status
            else ""
        )
        diff = [
            f"invoice {invoice.number} ({ref.remote_id}): {status}balance {before} -> "
            f"{balance.amount}" + (f", paid date -> {paid_on}" if paid_on else "")
        ]
        return Step(command, command.key, _Record("invoice", update), diff=diff)

    def _credit_memo(self, command: Command, refs: RefIndex, session: Session) -> Step:
        memo_id = str(command.payload["credit_memo_id"])
        ref = refs.live("credit_memo", memo_id, f"credit memo {memo_id}")
        memo = session.get(CreditMemo, memo_id)
        if memo is None:
            raise Unwritable(f"credit memo {memo_id} is not in the store")
        if memo.status in (DocumentStatus.VOID, DocumentStatus.DELETED):
            raise Unwritable(f"credit memo {memo.number} is {memo.status}", conflict=True)
        status = DocumentStatus.PAID if memo.balance_minor == 0 else DocumentStatus.OPEN
        spec = self.connector.config.objects.credit_memo
        values = credit_memo_fields(spec, status, memo.balance)
        name = f"credit memo {memo.number} ({ref.remote_id})"
        if not values:
            reason = f"{name}: nothing to write ({spec.sobject} calculates its balance and status)"
            return Step(command, command.key, AlreadyDone(ref.remote_id), diff=[reason])
        changes = []
        if spec.status and spec.status in values:
            changes.append(f"status {ref.values.get('status') or 'unknown'} -> {status.value}")
        if spec.pushed_balance():
            was = ref.balance_minor
            before = (
                f"{Money.from_minor(was, memo.currency).amount}" if was is not None else "unknown"
            )
            changes.append(f"credit left {before} -> {memo.balance.amount}")
        update = CreditMemoState(record_id=ref.remote_id, values=values)
        diff = [f"{name}: {', '.join(changes)}"]
        return Step(command, command.key, _Record("credit_memo", update), diff=diff)

    def _account(self, command: Command, refs: RefIndex, session: Session) -> Step:
        customer_id = str(command.payload["customer_id"])
        ref = refs.live("customer", customer_id, f"customer {customer_id}")
        customer = session.get(Customer, customer_id)
        if customer is None:
            raise Unwritable(f"customer {customer_id} is not in the store")
        today = utcnow().date()
        rows = session.execute(
            select(col(Invoice.balance_minor), col(Invoice.due_date), col(Invoice.currency)).where(
                col(Invoice.customer_id) == customer_id,
                col(Invoice.status) == DocumentStatus.OPEN,
                col(Invoice.balance_minor) > 0,
            )
        ).all()
        account = f"account {customer.name} ({ref.remote_id})"
        currency = summary_currency(
            command.payload.get("currency") or customer.currency, rows, account
        )
        open_minor = sum(r[0] for r in rows)
        overdue = [(r[0], (today - r[1]).days) for r in rows if r[1] and r[1] < today]
        oldest = max((days for _, days in overdue), default=0)
        update = AccountSummary(
            record_id=ref.remote_id,
            open_balance=Money.from_minor(open_minor, currency).amount,
            overdue_balance=Money.from_minor(sum(m for m, _ in overdue), currency).amount,
            oldest_overdue_days=oldest,
            aging_bucket=aging_bucket(oldest),
            credit_hold=bool(customer.credit_hold),
        )
        diff = [
            f"{account}: open {update.open_balance}, overdue "
            f"{update.overdue_balance}, oldest overdue {oldest} days ({update.aging_bucket})"
        ]
        return Step(command, command.key, _Record("account", update), diff=diff)

    def send(self, steps: Sequence[Step]) -> list[StepResult]:
        """Invoices, credit memos, then accounts, each record once (its latest state), 200 per
        call. An auth
        failure stops the sending: it is raised as a :class:`PartialAuthError` carrying the
        steps whose record was answered before it."""
        answers: dict[tuple[str, str], WriteResult] = {}
        for kind in ("invoice", "credit_memo", "account"):
            latest: dict[str, Any] = {}
            for step in steps:
                record: _Record = step.write
                if record.kind == kind:
                    latest[record.update.record_id] = record.update
            if not latest:
                continue
            updates = list(latest.values())
            try:
                if kind == "invoice":
                    results = self.connector.write_invoice_statuses(updates)
                elif kind == "credit_memo":
                    results = self._write_credit_memos(updates)
                else:
                    results = self.connector.write_account_summaries(updates)
            except AuthError as exc:
                for update, result in zip(updates, answered_before(exc), strict=False):
                    answers[(kind, update.record_id)] = result
                answered = [s for s in steps if _answer_key(s) in answers]
                raise PartialAuthError(exc, [_answer(s, answers) for s in answered]) from exc
            for update, result in zip(updates, results, strict=True):
                answers[(kind, update.record_id)] = result
        return [_answer(step, answers) for step in steps]

    def _write_credit_memos(self, updates: Sequence[CreditMemoState]) -> list[WriteResult]:
        """Credit memo states by Id, 200 per call; one result per update."""
        sobject = self.connector.config.objects.credit_memo.sobject
        records = [{"Id": u.record_id, **u.values} for u in updates]
        return self.connector.writer.update(sobject, records)


def _answer_key(step: Step) -> tuple[str, str]:
    record: _Record = step.write
    return (record.kind, record.update.record_id)


def _answer(step: Step, answers: dict[tuple[str, str], WriteResult]) -> StepResult:
    """The step's result: its record's, as Salesforce answered it."""
    record: _Record = step.write
    result = answers[_answer_key(step)]
    if result.success:
        return StepResult(step, remote_id=result.record_id)
    kind_of_error = result.kind or ErrorKind.DATA
    message = f"{record.kind} {record.update.record_id}: {result.code}: {result.message}"
    return StepResult(
        step,
        error=ERROR_CLASSES[kind_of_error](
            "salesforce", message, kind=kind_of_error, code=result.code
        ),
    )


ADAPTER = SalesforcePush
