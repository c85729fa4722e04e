"""Enumerations of the canonical vocabulary."""

from __future__ import annotations

from enum import StrEnum


class System(StrEnum):
    """Systems arsync talks to. Remittance sources are not systems of record."""

    QUICKBOOKS = "quickbooks"
    INTACCT = "intacct"
    INVOICED = "invoiced"
    SALESFORCE = "salesforce"


class ObjectType(StrEnum):
    """Canonical object types that carry external refs."""

    CUSTOMER = "customer"
    INVOICE = "invoice"
    CREDIT_MEMO = "credit_memo"
    PAYMENT = "payment"


class CustomerStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    DELETED = "deleted"


class DocumentStatus(StrEnum):
    """Status of an invoice or credit memo."""

    DRAFT = "draft"
    OPEN = "open"
    PAID = "paid"  # for a credit memo: fully applied
    VOID = "void"
    DELETED = "deleted"


class PaymentStatus(StrEnum):
    POSTED = "posted"
    VOID = "void"
    DELETED = "deleted"


class RemittanceStatus(StrEnum):
    """Where a remittance stands; once decided, its decision's status."""

    NEW = "new"
    ADVICE = "advice"  # remittance detail only (an 820 whose BPR01 is not C or D): cash comes apart
    ADVICE_USED = "advice_used"  # its references were lent to the cash it describes
    REVERSED = "reversed"  # cash taken back and its applications undone by a person
    DISMISSED = "dismissed"  # closed by a person with no cash moved (not a customer paying, ...)


class ApplicationKind(StrEnum):
    """What is applied to the invoice."""

    PAYMENT = "payment"
    CREDIT_MEMO = "credit_memo"
    REMITTANCE = "remittance"


class ApplicationStatus(StrEnum):
    APPLIED = "applied"
    SUGGESTED = "suggested"
    REVERSED = "reversed"


class RunStatus(StrEnum):
    RUNNING = "running"
    OK = "ok"
    PARTIAL = "partial"  # finished, some records quarantined
    FAILED = "failed"
    SKIPPED = "skipped"  # a run's result only, never stored: another run held the lease


class FindingStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class CommandStatus(StrEnum):
    """Where one outbox command stands.

    ``sent`` means an attempt may have reached the system and its answer is not stored yet:
    the next push finds out whether it landed before sending it again.
    """

    PENDING = "pending"
    SENT = "sent"
    CONFIRMED = "confirmed"
    FAILED = "failed"  # will be retried after its backoff
    DEAD = "dead"  # out of attempts, or refused for good: a person must look
    CONFLICT = "conflict"  # the record changed and the decision no longer holds
    CANCELLED = "cancelled"
