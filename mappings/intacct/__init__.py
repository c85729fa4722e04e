"""Sage Intacct records -> canonical records, one module per object."""

from __future__ import annotations

from collections.abc import Callable

from canonical.records import RecordIn
from connectors.base import RawRecord
from mappings.base import MappingContext
from mappings.intacct import credit_memo, customer, invoice, payment

# raise when a change maps stored records differently
# 2: debit memos refused, draft payments not cash
# 3: debit memos are invoices (invoices stream), payments of them (POSADJKEY) resolve to them
# 4: debit memos marked as such (they link by number only to documents numbered alike)
# 5: payments with credit from advances/overpayments/inline credits/negative invoices refused;
#    multi-customer payments (PAYERNAME, no CUSTOMERID) map with no customer
# 6: flat related fields of readByQuery (DISPLAYCONTACT.EMAIL1) are read
# 7: a record in a currency other than BASECURR without its TRX_ amount is refused (the plain
#    amount is in the base currency), payment details included
# 8: ISO 4217 minor units (HUF, IDR, COP, ... two decimals, IQD three), not CLDR's
# 9: a negative ARINVOICE (credit the customer holds) is refused, not an open invoice
# 10: a payment's credit entries come first, each on the document its detail names
# 11: payments awaiting approval or declined are not cash; an unknown payment STATE is refused
# 12: a payment read back (no PAYMENTDATE) is received on its WHENPAID, not its RECEIPTDATE;
#     a foreign-currency detail's zero base amount without its TRX_ amount is zero, not refused
# 13: terms with a fraction of a percent (1/2% 10 Net 30) grant that fraction, not 2%
VERSION = 13
MAPPERS: dict[str, Callable[[RawRecord, MappingContext], RecordIn]] = {
    "customers": customer.to_canonical,
    "invoices": invoice.to_canonical,
    "credit_memos": credit_memo.to_canonical,
    "payments": payment.to_canonical,
}
