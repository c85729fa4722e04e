"""Salesforce raw records <-> canonical records, per the org's configured schema.

Pass the org's schema as ``MappingContext(options={"schema": config.objects})`` (a
:class:`~mappings.salesforce.schema.SalesforceSchema`, its dict, or a preset name). Without
it the shipped preset whose objects include the record's SObject is used.
"""

from __future__ import annotations

from collections.abc import Callable

from canonical.records import RecordIn
from connectors.base import RawRecord
from mappings.base import MappingContext
from mappings.salesforce import credit_memo, customer, invoice, payment

# raise when a change maps stored records differently
# 2: Draft and Pending payments not cash
# 3: Revenue Cloud Unapplied lines (Type Unapplied, HasBeenUnapplied NA) apply nothing
# 4: currency codes normalised (a bad one names the currency field); application rows in a
#    currency other than their payment's are refused
# 5: ISO 4217 minor units (HUF, IDR, COP, ... two decimals, IQD three), not CLDR's
# 6: a payment that is not cash (Canceled, Draft, Pending) leaves nothing unapplied
# 7: a dateTime read as a date is the day in the org's time zone (org_timezone)
# 8: the org's corporate currency and time zone, read from its Organization record
# 9: Revenue Cloud invoices Void In Progress and Voided are void, no longer refused; a void
#    document owes nothing, whatever balance it still shows
# 10: a payment's credit rows come first, each with the invoice it pays
# 11: Salesforce Billing payments Posted are cash (they were refused: every allocatable
#     payment was quarantined); Canceled is void as Cancelled
# 12: a Number field holding a whole number reads as its digits as text (1001.0 -> 1001)
# 13: Salesforce Billing invoices Canceled (an invoice run's clean-up) are void, not refused
# 14: terms with a fraction of a percent (1/2% 10 Net 30) grant that fraction, not 2%; Salesforce
#     Billing credit notes Canceled are void, not refused
VERSION = 14
MAPPERS: dict[str, Callable[[RawRecord, MappingContext], RecordIn]] = {
    "customers": customer.to_canonical,
    "invoices": invoice.to_canonical,
    "credit_memos": credit_memo.to_canonical,
    "payments": payment.to_canonical,
}
