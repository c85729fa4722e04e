"""The canonical store's tables (SQLModel).

Amounts are stored as integer minor units next to their ISO currency (exact on SQLite and
PostgreSQL alike) and exposed as :class:`~canonical.money.Money` through properties.
No table here knows any system's field names.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from canonical.enums import (
    ApplicationStatus,
    CommandStatus,
    CustomerStatus,
    DocumentStatus,
    FindingStatus,
    PaymentStatus,
    RunStatus,
)
from canonical.ids import new_id
from canonical.keys import NAME_KEY_LENGTH
from canonical.money import Money
from canonical.types import CleanText, ClippedString, UTCDateTime, utcnow

DEFAULT_TENANT = "default"


def _ts(**kw: Any) -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, **kw)


def _minor(**kw: Any) -> Any:
    return Field(default=0, sa_type=BigInteger, **kw)


def _clipped(length: int, **kw: Any) -> Any:
    """A name or description a person reads: cut to ``length`` (see ClippedString)."""
    return Field(max_length=length, sa_type=ClippedString(length), **kw)


def _json(default: Any) -> Any:
    return Field(default_factory=default, sa_column=Column(JSON, nullable=False))


class Customer(SQLModel, table=True):
    """A customer (an Account in a CRM)."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant: str = Field(default=DEFAULT_TENANT, max_length=64)
    name: str = _clipped(255)
    name_key: str = _clipped(NAME_KEY_LENGTH, default="", index=True)
    number: str | None = Field(default=None, index=True, max_length=64)
    # a contact, not an identifier: a list of addresses longer than the column is cut
    email: str | None = _clipped(255, default=None)
    currency: str | None = Field(default=None, max_length=3)
    tax_id: str | None = Field(default=None, max_length=64)
    status: CustomerStatus = Field(default=CustomerStatus.ACTIVE, max_length=16)
    credit_hold: bool = False
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class Invoice(SQLModel, table=True):
    """An invoice: what the customer owes."""

    __table_args__ = (Index("ix_invoice_customer_number", "tenant", "customer_id", "number_key"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant: str = Field(default=DEFAULT_TENANT, max_length=64)
    customer_id: str | None = Field(default=None, foreign_key="customer.id", index=True)
    number: str = Field(max_length=64)
    number_key: str = Field(default="", index=True, max_length=64)
    currency: str = Field(max_length=3)
    issue_date: date | None = None
    due_date: date | None = None
    total_minor: int = _minor()
    balance_minor: int = _minor()
    status: DocumentStatus = Field(default=DocumentStatus.OPEN, index=True, max_length=16)
    po_number: str | None = _clipped(64, default=None)
    terms: str | None = _clipped(64, default=None)
    # early-payment discount: 200 = 2.00 % of the total, if paid by discount_until
    discount_basis_points: int | None = None
    discount_until: date | None = None
    memo: str | None = Field(default=None, sa_type=CleanText)
    created_at: datetime = _ts()
    updated_at: datetime = _ts(index=True)

    @property
    def total(self) -> Money:
        return Money.from_minor(self.total_minor, self.currency)

    @property
    def balance(self) -> Money:
        return Money.from_minor(self.balance_minor, self.currency)


class CreditMemo(SQLModel, table=True):
    """A credit memo / credit note / AR adjustment: credit the customer can apply."""

    __tablename__ = "credit_memo"
    __table_args__ = (
        Index("ix_credit_memo_customer_number", "tenant", "customer_id", "number_key"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant: str = Field(default=DEFAULT_TENANT, max_length=64)
    customer_id: str | None = Field(default=None, foreign_key="customer.id", index=True)
    number: str = Field(max_length=64)
    number_key: str = Field(default="", index=True, max_length=64)
    currency: str = Field(max_length=3)
    issue_date: date | None = None
    total_minor: int = _minor()
    balance_minor: int = _minor()
    status: DocumentStatus = Field(default=DocumentStatus.OPEN, index=True, max_length=16)
    reference: str | None = _clipped(128, default=None)
    memo: str | None = Field(default=None, sa_type=CleanText)
    # the deduction (Adjustment) this credit memo writes off, when arsync created it to do so
    # (a ``write_off`` push): used up by that write-off from the start, never credit to apply,
    # whatever balance a system shows for it before the write-off's application lands
    adjustment_id: str | None = Field(default=None, max_length=32)
    created_at: datetime = _ts()
    updated_at: datetime = _ts(index=True)

    @property
    def total(self) -> Money:
        return Money.from_minor(self.total_minor, self.currency)

    @property
    def balance(self) -> Money:
        return Money.from_minor(self.balance_minor, self.currency)


class Payment(SQLModel, table=True):
    """A payment recorded in a system (ERP, AR platform or CRM)."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant: str = Field(default=DEFAULT_TENANT, max_length=64)
    customer_id: str | None = Field(default=None, foreign_key="customer.id", index=True)
    currency: str = Field(max_length=3)
    amount_minor: int = _minor()
    unapplied_minor: int = _minor()
    received_on: date | None = None
    method: str | None = _clipped(32, default=None)
    reference: str | None = _clipped(128, default=None)
    memo: str | None = Field(default=None, sa_type=CleanText)
    status: PaymentStatus = Field(default=PaymentStatus.POSTED, max_length=16)
    created_at: datetime = _ts()
    updated_at: datetime = _ts(index=True)

    @property
    def amount(self) -> Money:
        return Money.from_minor(self.amount_minor, self.currency)

    @property
    def unapplied(self) -> Money:
        return Money.from_minor(self.unapplied_minor, self.currency)


class Remittance(SQLModel, table=True):
    """Incoming cash seen in a bank file or a processor event, before it is applied.

    ``structured_refs`` is a list of ``{"kind", "ref", "amount", "discount", "adjustment",
    "reason"}`` dicts (amounts as strings) carried by the source itself. A reversal (cash
    taken back: ``reverses`` set) has a negative amount and is never applied.
    """

    __table_args__ = (UniqueConstraint("tenant", "source_key", name="uq_remittance_source"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant: str = Field(default=DEFAULT_TENANT, max_length=64)
    source: str = Field(max_length=32)  # bai2, camt.053, camt.054, nacha, edi820, stripe, ...
    source_file: str | None = _clipped(512, default=None)
    source_key: str = Field(max_length=128)  # de-duplication key, unique per tenant
    currency: str = Field(max_length=3)
    amount_minor: int = _minor()
    value_date: date | None = None
    payer_name: str | None = _clipped(255, default=None)
    # whom the payer paid for, where the bank names another party (camt UltmtDbtr)
    ultimate_payer_name: str | None = _clipped(255, default=None)
    payer_account: str | None = Field(default=None, max_length=64)
    payer_iban: str | None = Field(default=None, max_length=64)
    bank_reference: str | None = Field(default=None, max_length=128)
    end_to_end_id: str | None = Field(default=None, max_length=128)
    free_text: str | None = Field(default=None, sa_type=CleanText)
    structured_refs: list[dict[str, Any]] = _json(list)
    # cash going back out (a chargeback, a failed direct debit, a returned item): what names
    # the payment it takes back (that remittance's source_key, end-to-end id or trace)
    reverses: str | None = Field(default=None, max_length=128)
    raw: str = Field(default="", sa_type=CleanText)
    status: str = Field(default="new", index=True, max_length=16)
    created_at: datetime = _ts(index=True)

    @property
    def amount(self) -> Money:
        return Money.from_minor(self.amount_minor, self.currency)


class Application(SQLModel, table=True):
    """An amount of a payment, remittance or credit memo applied to one invoice."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant: str = Field(default=DEFAULT_TENANT, max_length=64)
    kind: str = Field(max_length=16)  # ApplicationKind
    source_id: str = Field(index=True, max_length=32)
    invoice_id: str = Field(foreign_key="invoice.id", index=True)
    currency: str = Field(max_length=3)
    amount_minor: int = _minor()
    applied_on: date | None = None
    origin: str = Field(max_length=32)  # "system:<name>" when pulled, "reconciler" or "person"
    decision_id: str | None = Field(default=None, index=True, max_length=32)
    # a pulled row: the payment whose record wrote it (a credit it applies has the memo as
    # its source), so the row goes when the payment is written again, voided or deleted
    payment_id: str | None = Field(default=None, index=True, max_length=32)
    status: ApplicationStatus = Field(default=ApplicationStatus.APPLIED, max_length=16)
    created_at: datetime = _ts()

    @property
    def amount(self) -> Money:
        return Money.from_minor(self.amount_minor, self.currency)


class Adjustment(SQLModel, table=True):
    """A deduction or write-off on an invoice (short pay within tolerance, discount)."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant: str = Field(default=DEFAULT_TENANT, max_length=64)
    invoice_id: str = Field(foreign_key="invoice.id", index=True)
    source_kind: str = Field(max_length=16)
    source_id: str = Field(index=True, max_length=32)
    currency: str = Field(max_length=3)
    amount_minor: int = _minor()
    reason_code: str = Field(max_length=32)
    decision_id: str | None = Field(default=None, index=True, max_length=32)
    created_at: datetime = _ts()

    @property
    def amount(self) -> Money:
        return Money.from_minor(self.amount_minor, self.currency)


class ExternalRef(SQLModel, table=True):
    """Where a canonical record lives in one system, and what we last saw of it there.

    ``values`` holds the canonical field values as that system last reported them (strings),
    so disagreements between systems can be found without another call.
    """

    __tablename__ = "external_ref"
    __table_args__ = (
        UniqueConstraint("tenant", "system", "canonical_type", "remote_id", name="uq_external_ref"),
        Index("ix_external_ref_canonical", "canonical_type", "canonical_id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant: str = Field(default=DEFAULT_TENANT, max_length=64)
    canonical_type: str = Field(max_length=16)
    canonical_id: str = Field(max_length=32)
    system: str = Field(max_length=32)
    object_type: str = Field(max_length=64)
    remote_id: str = Field(max_length=128)
    remote_version: str | None = _clipped(64, default=None)
    hash: str = Field(default="", max_length=64)
    link_rule: str = Field(default="created", max_length=32)
    deleted: bool = False
    values: dict[str, Any] = _json(dict)
    seen_at: datetime = _ts()


class SyncBookmark(SQLModel, table=True):
    """Incremental position of one stream: committed with the records it covers."""

    __tablename__ = "sync_bookmark"

    tenant: str = Field(default=DEFAULT_TENANT, primary_key=True, max_length=64)
    system: str = Field(primary_key=True, max_length=32)
    stream: str = Field(primary_key=True, max_length=32)
    cursor: str | None = Field(default=None, max_length=64)
    boundary_ids: list[str] = _json(list)
    # the mappings' version the stream was last read through to the end with
    mapping_version: str | None = Field(default=None, max_length=32)
    updated_at: datetime = _ts()


class Lease(SQLModel, table=True):
    """Who runs a step that must never run twice at once (a reconcile, a sync), until when.

    A holder renews it in the same transaction as each batch it commits, so a holder whose
    lease ran out and was taken over commits nothing more (see :mod:`canonical.lease`)."""

    __tablename__ = "lease"

    tenant: str = Field(default=DEFAULT_TENANT, primary_key=True, max_length=64)
    name: str = Field(primary_key=True, max_length=64)
    holder: str = _clipped(200)
    acquired_at: datetime = _ts()
    expires_at: datetime = _ts()


class SyncRun(SQLModel, table=True):
    """What one sync of one system did."""

    __tablename__ = "sync_run"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant: str = Field(default=DEFAULT_TENANT, max_length=64)
    system: str = Field(index=True, max_length=32)
    mode: str = Field(default="incremental", max_length=16)
    status: RunStatus = Field(default=RunStatus.RUNNING, max_length=16)
    started_at: datetime = _ts(index=True)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    counts: dict[str, Any] = _json(dict)
    api_calls: int = 0
    error: str | None = Field(default=None, sa_type=CleanText)


class Quarantine(SQLModel, table=True):
    """A record that could not be mapped or stored; the run went on without it."""

    __table_args__ = (
        UniqueConstraint("tenant", "system", "object_type", "remote_id", name="uq_quarantine"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant: str = Field(default=DEFAULT_TENANT, max_length=64)
    run_id: str | None = Field(default=None, max_length=32)
    system: str = Field(max_length=32)
    object_type: str = _clipped(64)
    remote_id: str = _clipped(128)
    field: str | None = _clipped(128, default=None)
    reason: str = Field(sa_type=CleanText)
    payload: dict[str, Any] = _json(dict)
    created_at: datetime = _ts()
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class DriftFinding(SQLModel, table=True):
    """Two systems disagree on a field of the same canonical record."""

    __tablename__ = "drift_finding"
    __table_args__ = (
        UniqueConstraint("tenant", "canonical_type", "canonical_id", "field", name="uq_drift"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant: str = Field(default=DEFAULT_TENANT, max_length=64)
    canonical_type: str = Field(max_length=16)
    canonical_id: str = Field(max_length=32)
    field: str = Field(max_length=64)
    values: dict[str, Any] = _json(dict)
    system_of_record: str | None = Field(default=None, max_length=32)
    status: FindingStatus = Field(default=FindingStatus.OPEN, max_length=16)
    first_seen: datetime = _ts()
    last_seen: datetime = _ts()


class IdentityCandidate(SQLModel, table=True):
    """A possible cross-system match that needs a person's review (never linked silently)."""

    __tablename__ = "identity_candidate"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant: str = Field(default=DEFAULT_TENANT, max_length=64)
    canonical_type: str = Field(max_length=16)
    canonical_id: str = Field(max_length=32)
    candidate_id: str = Field(max_length=32)
    score: int = 0  # 0..100
    evidence: dict[str, Any] = _json(dict)
    status: str = Field(default="pending", max_length=16)
    created_at: datetime = _ts()


class Credential(SQLModel, table=True):
    """Rotating secrets a connector must keep (e.g. QuickBooks refresh tokens)."""

    tenant: str = Field(default=DEFAULT_TENANT, primary_key=True, max_length=64)
    system: str = Field(primary_key=True, max_length=32)
    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(sa_type=CleanText)
    updated_at: datetime = _ts()


class Decision(SQLModel, table=True):
    """What the reconciler (or a person) decided about one source of cash or credit.

    ``source_kind`` is ``remittance``, ``payment`` (unapplied cash pulled from a system) or
    ``credit_memo``. ``status`` is ``auto_applied``, ``suggested`` or ``exception``;
    ``exception_kind`` names why (unidentified_payer, no_matching_invoice, ambiguous,
    short_pay_over_tolerance, over_payment, duplicate_payment, currency_mismatch,
    returned_payment, not_incoming_cash, advice_contradicts_applied).
    ``evidence`` records what the rule saw (tokens, scores, amounts); ``candidates`` is the
    ranked list of alternatives considered. A newer decision on the same source supersedes.
    """

    __table_args__ = (Index("ix_decision_source", "tenant", "source_kind", "source_id"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant: str = Field(default=DEFAULT_TENANT, max_length=64)
    source_kind: str = Field(max_length=16)
    source_id: str = Field(max_length=32)
    status: str = Field(index=True, max_length=16)
    exception_kind: str | None = Field(default=None, max_length=32)
    rule: str = Field(max_length=64)
    ruleset_version: str = Field(default="", max_length=64)
    confidence: int = 0  # 0..100
    customer_id: str | None = Field(default=None, max_length=32)
    currency: str = Field(max_length=3)
    amount_minor: int = _minor()
    applied_minor: int = _minor()
    deduction_minor: int = _minor()
    unapplied_minor: int = _minor()
    evidence: dict[str, Any] = _json(dict)
    candidates: list[dict[str, Any]] = _json(list)
    decided_by: str = Field(default="reconciler", max_length=64)
    superseded: bool = Field(default=False, index=True)
    created_at: datetime = _ts()


class PayerAlias(SQLModel, table=True):
    """What the reconciler learned about who pays: an IBAN, account or name -> a customer.

    Learned from confirmed matches (automatic or by a person); used before fuzzy names.
    """

    __tablename__ = "payer_alias"
    __table_args__ = (UniqueConstraint("tenant", "kind", "value", name="uq_payer_alias"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant: str = Field(default=DEFAULT_TENANT, max_length=64)
    kind: str = Field(max_length=16)  # iban | account | name
    value: str = _clipped(255)
    customer_id: str = Field(max_length=32)
    learned_from: str | None = Field(default=None, max_length=32)  # the decision
    created_at: datetime = _ts()


class OutboxCommand(SQLModel, table=True):
    """One write to one external system, durable from the moment its decision is.

    ``payload`` is canonical (canonical ids and minor units, no system's field names); the
    system's wire form is built when the command is sent, from the refs known then.
    ``idempotency_key`` is fixed at creation and sent with every attempt, in the way the
    system supports (QBO ``requestid``, Intacct ``controlid``, Invoiced ``Idempotency-Key``,
    Salesforce absolute values / external-id upsert). ``result`` keeps what the system
    answered (remote ids, progress of a multi-step write).
    """

    __tablename__ = "outbox_command"
    __table_args__ = (
        UniqueConstraint("tenant", "idempotency_key", name="uq_outbox_key"),
        Index("ix_outbox_due", "tenant", "system", "status"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant: str = Field(default=DEFAULT_TENANT, max_length=64)
    system: str = Field(max_length=32)
    operation: str = Field(max_length=32)
    decision_id: str | None = Field(default=None, index=True, max_length=32)
    canonical_type: str = Field(max_length=16)
    canonical_id: str = Field(max_length=32)
    payload: dict[str, Any] = _json(dict)
    idempotency_key: str = Field(max_length=64)
    status: CommandStatus = Field(default=CommandStatus.PENDING, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, sa_type=CleanText)
    remote_id: str | None = Field(default=None, max_length=128)
    result: dict[str, Any] = _json(dict)
    created_at: datetime = _ts()
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = _ts()


class WebhookEvent(SQLModel, table=True):
    """A webhook delivery, stored once per (source, event id) after its signature checked.

    A replayed delivery finds its row and does nothing. ``payload`` has secrets removed.
    ``error`` says why a failed one failed; ``note`` why an ignored one moved no cash.
    """

    __tablename__ = "webhook_event"
    __table_args__ = (UniqueConstraint("tenant", "source", "event_id", name="uq_webhook_event"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    tenant: str = Field(default=DEFAULT_TENANT, max_length=64)
    source: str = Field(max_length=32)  # stripe, adyen, gocardless, quickbooks, invoiced, ...
    event_id: str = Field(max_length=255)
    event_type: str = _clipped(128, default="")
    status: str = Field(default="received", max_length=16)  # received|processed|ignored|failed
    error: str | None = Field(default=None, sa_type=CleanText)
    note: str | None = Field(default=None, sa_type=CleanText)
    payload: dict[str, Any] = _json(dict)
    received_at: datetime = _ts()
    processed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
