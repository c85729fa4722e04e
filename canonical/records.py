"""Canonical records as mappings produce them, before identity resolution and storage.

Each carries where it came from (system, remote id, version) and the links the system itself
holds to the same record elsewhere (``links``: system -> remote id).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from canonical.enums import CustomerStatus, DocumentStatus, PaymentStatus
from canonical.money import Money


class RecordIn(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    system: str
    object_type: str
    remote_id: str
    remote_version: str | None = None
    modified_at: datetime | None = None
    deleted: bool = False
    links: dict[str, str] = Field(default_factory=dict)


class CustomerIn(RecordIn):
    name: str
    number: str | None = None
    email: str | None = None
    currency: str | None = None
    tax_id: str | None = None
    status: CustomerStatus = CustomerStatus.ACTIVE
    credit_hold: bool | None = None


class InvoiceIn(RecordIn):
    customer_remote_id: str | None
    number: str
    total: Money
    balance: Money
    issue_date: date | None = None
    due_date: date | None = None
    status: DocumentStatus = DocumentStatus.OPEN
    po_number: str | None = None
    memo: str | None = None
    terms: str | None = None
    discount_basis_points: int | None = None
    discount_until: date | None = None
    # a debit memo: a document of its own series that raises what is owed (Intacct's
    # ARADJUSTMENT); it links by number only to a document numbered the same way
    debit_memo: bool = False


class CreditMemoIn(RecordIn):
    customer_remote_id: str | None
    number: str
    total: Money
    balance: Money
    issue_date: date | None = None
    status: DocumentStatus = DocumentStatus.OPEN
    reference: str | None = None
    memo: str | None = None


class AppliedIn(BaseModel):
    """Part of a payment applied to an invoice or taken from a credit memo, per the system.
    ``credit`` is credit taken from a transaction arsync does not sync (a QuickBooks journal
    entry crediting receivables): it pays invoices before the cash does, and is no one's
    application."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    target: Literal["invoice", "credit_memo", "credit"]
    target_remote_id: str
    amount: Money


class PaymentIn(RecordIn):
    customer_remote_id: str | None
    amount: Money
    unapplied: Money | None = None
    received_on: date | None = None
    method: str | None = None
    reference: str | None = None
    memo: str | None = None
    status: PaymentStatus = PaymentStatus.POSTED
    applied: list[AppliedIn] = Field(default_factory=list)


AnyRecordIn = CustomerIn | InvoiceIn | CreditMemoIn | PaymentIn
