"""What every Intacct record shares: RECORDNO origin, currency, TRX_ amounts, STATE.

Amounts with more decimals than the currency's minor unit are rounded to it, half-even, in
:func:`mappings.base.rounded_money`, on purpose. Intacct carries more precision than the
minor unit in some amounts (prices with many decimals, base-currency amounts converted at an
exchange rate), so such a value is not by itself a broken record. The document-currency
``TRX_`` amount is preferred whenever Intacct sends it.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from canonical.enums import DocumentStatus
from canonical.money import Money
from connectors.base import RawRecord
from mappings.base import MappingContext, MappingError, get_path, optional_text, rounded_money

SYSTEM = "intacct"
ADJUSTMENT = "ARADJUSTMENT"  # credit memos and debit memos alike: the sign is the type
VOID_STATES = ("Reversed", "Reversal", "Voided")
REVERSAL_STATE = "Reversal"  # the entry that zeroes out a reversed document: opposite sign
DRAFT_STATE = "Draft"  # saved, not posted: no effect on the subledger yet
# an ARPYMT whose cash is recorded: posted, then confirmed to the GL, then reconciled with the
# bank (Confirmed: Intacct's word for a payment whose cash is confirmed). Paid / Partially Paid
# and no STATE at all have always read as posted and still do.
PAYMENT_POSTED_STATES = (
    "Posted",
    "Complete",
    "Confirmed",
    "Reconciled",
    "Paid",
    "Partially Paid",
    "",
)
# an ARPYMT in Intacct's payment approval workflow: awaiting approval, or declined. Like a draft
# it has not been posted, so it has moved no cash.
PAYMENT_UNPOSTED_STATES = (
    DRAFT_STATE,
    "Submitted",
    "Pending Approval",
    "Partially Approved",
    "Approved",
    "Declined",
    "Unapproved",
)


def origin(record: RawRecord) -> dict[str, Any]:
    """The RecordIn fields saying where a record came from."""
    return {
        "system": SYSTEM,
        "object_type": record.object_type,
        "remote_id": record.remote_id,
        "remote_version": record.remote_version,
        "modified_at": record.modified_at,
        "deleted": record.deleted,
    }


def text_at(payload: Mapping[str, Any], path: str) -> str | None:
    raw = get_path(payload, path, None)
    if type(raw) is str:  # nearly always: optional_text's result, without its checks
        return raw.strip() or None
    try:
        return optional_text(raw)
    except ValueError as exc:
        raise MappingError(path, str(exc)) from exc


def required_text(payload: Mapping[str, Any], path: str) -> str:
    value = text_at(payload, path)
    if value is None:
        raise MappingError(path, "is required but missing")
    return value


def currency(payload: Mapping[str, Any], ctx: MappingContext) -> str:
    """The document currency (``CURRENCY``), else the base currency, else the home one."""
    for path in ("CURRENCY", "BASECURR"):
        code = text_at(payload, path)
        if code is not None:
            return code
    return ctx.home_currency


def base_currency_of(payload: Mapping[str, Any]) -> str | None:
    """BASECURR when the record's currency differs from it (a foreign-currency record whose
    plain amounts are base-currency amounts); None otherwise."""
    document, base = text_at(payload, "CURRENCY"), text_at(payload, "BASECURR")
    if document and base and document.upper() != base.upper():
        return base
    return None


def amount(
    payload: Mapping[str, Any],
    name: str,
    code: str,
    *,
    negate: bool = False,
    base: str | None = None,
) -> Money:
    """``TRX_<name>`` (document currency) when present, else ``<name>``; required.

    Without multi-currency Intacct sends only the base-currency field. A record in a currency
    other than its base currency (``CURRENCY`` GBP, ``BASECURR`` USD; or ``base`` given for a
    payment's detail rows) without ``TRX_<name>`` is refused: ``<name>`` is in the base
    currency and would be read as an amount in the document currency.
    """
    path = f"TRX_{name}" if text_at(payload, f"TRX_{name}") is not None else name
    base = base or base_currency_of(payload)
    if path == name and base is not None:
        raise MappingError(
            f"TRX_{name}", f"is missing: {name} is in the base currency {base}, not in {code}"
        )
    raw = get_path(payload, path, None)
    if raw is None or raw == "":
        raise MappingError(path, "is required but missing")
    value = rounded_money(raw, code, path)
    return Money(-value.amount, code) if negate else value


def document_status(payload: Mapping[str, Any], balance: Money) -> DocumentStatus:
    """STATE: Reversed is a void (the record stays); Draft a draft; nothing due is paid."""
    state = text_at(payload, "STATE") or ""
    if state in VOID_STATES:
        return DocumentStatus.VOID
    if state == "Draft":
        return DocumentStatus.DRAFT
    if state == "Paid" or balance.is_zero():
        return DocumentStatus.PAID
    return DocumentStatus.OPEN


def status_and_balance(
    payload: Mapping[str, Any], balance: Money, code: str
) -> tuple[DocumentStatus, Money]:
    """The document's status (:func:`document_status`) and what it still owes: nothing once
    it is reversed (or is the Reversal entry), whatever TOTALDUE says."""
    status = document_status(payload, balance)
    if status is DocumentStatus.VOID:
        return status, Money.zero(code)
    return status, balance


def magnitude(value: Money) -> Money:
    return Money(abs(value.amount), value.currency)


def is_debit_memo(payload: Mapping[str, Any], entered: Money) -> bool:
    """An ARADJUSTMENT that raises what the customer owes: a positive total, or a negative
    one on the Reversal entry of a debit memo (a Reversal carries the opposite sign of the
    document it reverses). Everything else (a credit memo, the Reversal of one) lowers it.
    The XML API has no adjustment-type field: the sign is the type.
    """
    sign = entered.amount
    if text_at(payload, "STATE") == REVERSAL_STATE:
        sign = -sign
    return sign > 0


def total_field(payload: Mapping[str, Any]) -> str:
    """The total an adjustment's type was read from (``TRX_`` when Intacct sends it)."""
    return "TRX_TOTALENTERED" if text_at(payload, "TRX_TOTALENTERED") else "TOTALENTERED"


def zero(ctx: MappingContext) -> Money:
    return Money(Decimal(0), ctx.home_currency)
