"""Raw bank-file remittance -> canonical ``Remittance``.

``structured_refs`` become dicts ``{"kind", "ref", "amount", "invoice_amount", "discount",
"adjustment", "reason", "date"}`` with amounts as strings quantized to the remittance's
currency (``None`` where the file is silent). ``raw`` keeps the source lines verbatim and
``source_key`` is the parser's de-duplication key.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from canonical.enums import RemittanceStatus
from canonical.models import DEFAULT_TENANT, Remittance
from canonical.money import Money, MoneyError
from connectors.bankfiles.records import RawRemittance, StructuredRef
from mappings.base import MappingError

_LIMITS = {
    "payer_account": 64,
    "payer_iban": 64,
    "bank_reference": 128,
    "end_to_end_id": 128,
    "reverses": 128,
}
_NAME_LIMIT = 255
_FILE_LIMIT = 512


def _money(amount: Decimal, currency: str, field: str) -> Money:
    try:
        return Money(amount, currency, exact=True)
    except MoneyError as exc:
        raise MappingError(field, str(exc)) from exc


def _optional_amount(amount: Decimal | None, currency: str, field: str) -> str | None:
    if amount is None:
        return None
    return str(_money(amount, currency, field).amount)


def structured_ref_dict(ref: StructuredRef, currency: str, index: int) -> dict[str, Any]:
    """One structured reference as the canonical JSON dict."""
    field = f"structured_refs[{index}]"
    return {
        "kind": ref.kind.value,
        "ref": ref.ref,
        "amount": _optional_amount(ref.amount_paid, currency, f"{field}.amount"),
        "invoice_amount": _optional_amount(ref.invoice_amount, currency, f"{field}.invoice_amount"),
        "discount": _optional_amount(ref.discount, currency, f"{field}.discount"),
        "adjustment": _optional_amount(ref.adjustment, currency, f"{field}.adjustment"),
        "reason": ref.adjustment_reason,
        "date": ref.document_date.isoformat() if ref.document_date else None,
    }


def _bounded(value: str | None, field: str) -> str | None:
    limit = _LIMITS[field]
    if value is not None and len(value) > limit:
        raise MappingError(field, f"is {len(value)} characters long, at most {limit} allowed")
    return value


def remittance_from_raw(raw: RawRemittance, tenant: str = DEFAULT_TENANT) -> Remittance:
    """The canonical remittance for one parsed bank-file record (not yet stored)."""
    amount = _money(raw.amount, raw.currency, "amount")
    if raw.reverses is not None:
        if amount.amount >= 0:
            raise MappingError("amount", f"a returned payment must be negative, got {amount}")
    elif amount.amount <= 0:
        raise MappingError("amount", f"an incoming payment must be positive, got {amount}")
    source_file = raw.source_file
    if len(source_file) > _FILE_LIMIT:
        source_file = "..." + source_file[-(_FILE_LIMIT - 3) :]
    payer_name = raw.payer_name[:_NAME_LIMIT] if raw.payer_name else None
    return Remittance(
        tenant=tenant,
        source=raw.format.value,
        source_file=source_file,
        source_key=raw.dedup_key,
        currency=amount.currency,
        amount_minor=amount.minor,
        value_date=raw.value_date,
        payer_name=payer_name,
        ultimate_payer_name=(
            raw.ultimate_payer_name[:_NAME_LIMIT] if raw.ultimate_payer_name else None
        ),
        payer_account=_bounded(raw.payer_account, "payer_account"),
        payer_iban=_bounded(raw.payer_iban, "payer_iban"),
        bank_reference=_bounded(raw.bank_reference, "bank_reference"),
        end_to_end_id=_bounded(raw.end_to_end_id, "end_to_end_id"),
        free_text=raw.free_text,
        structured_refs=[
            structured_ref_dict(ref, amount.currency, i)
            for i, ref in enumerate(raw.structured_refs)
        ],
        raw=raw.raw,
        reverses=_bounded(raw.reverses, "reverses"),
        status=RemittanceStatus.ADVICE if raw.advice_only else RemittanceStatus.NEW,
    )
