"""Invoiced records <-> canonical records."""

from __future__ import annotations

from collections.abc import Callable

from canonical.records import RecordIn
from connectors.base import RawRecord
from mappings.base import MappingContext
from mappings.invoiced import credit_memo, customer, invoice, payment

# raise when a change maps stored records differently
# 2: bad debt and closed credit notes, exact amounts
# 3: voided payments leave nothing unapplied; applied_to entries with a null document_type
# 4: paid documents (status paid or paid: true) have a zero balance
# 5: ISO 4217 minor units (HUF, IDR, COP, ... two decimals, IQD three), not CLDR's
# 6: a credit note moved to the customer's credit balance (applied_to naming no document)
# 7: dates are calendar days in the company's time zone (company_timezone), not UTC's
# 8: a payment whose charge failed on the gateway is void (no cash came in)
# 9: applied_credit entries spend the customer's credit balance, never the payment's cash
# 10: terms with a fraction of a percent (1/2% 10 Net 30) grant that fraction, not 2%
VERSION = 10
MAPPERS: dict[str, Callable[[RawRecord, MappingContext], RecordIn]] = {
    "customers": customer.to_canonical,
    "invoices": invoice.to_canonical,
    "credit_memos": credit_memo.to_canonical,
    "payments": payment.to_canonical,
}
