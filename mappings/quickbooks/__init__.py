"""QuickBooks Online records -> canonical records, one module per object."""

from __future__ import annotations

from collections.abc import Callable

from canonical.records import RecordIn
from connectors.base import RawRecord
from mappings.base import MappingContext
from mappings.quickbooks import credit_memo, customer, invoice, payment

# raise when a change maps stored records differently
# 2: exact amounts
# 3: ISO 4217 minor units (HUF, IDR, COP, ... two decimals, IQD three), not CLDR's
# 4: payment lines linking journal entries (and other unsynced credits) are credit, not cash
# 5: amounts without CurrencyRef are in the company's home currency (its Preferences)
# 6: customers deleted as "Name (deleted-1)" (a deleted name already taken) are deleted too
# 7: terms with a fraction of a percent (1/2% 10 Net 30) grant that fraction, not 2%
VERSION = 7
MAPPERS: dict[str, Callable[[RawRecord, MappingContext], RecordIn]] = {
    "customers": customer.to_canonical,
    "invoices": invoice.to_canonical,
    "credit_memos": credit_memo.to_canonical,
    "payments": payment.to_canonical,
}
