"""BAI type codes that decide what a credit or debit is to AR, shared by every parser that
reads them: BAI2's detail records, and a camt entry whose ``BkTxCd/Prtry/Cd`` is the BAI code
a US bank also states there (see ``connectors.bankfiles.camt``)."""

from __future__ import annotations

from bai2.constants import TypeCodes

# credit detail codes that are not a customer paying. 191 (incoming internal money transfer)
# is not one: it is a book transfer from any account at the same bank, and some banks report
# incoming third-party payments under it (Citi UK: Faster Payments)
NOT_RECEIPTS = frozenset(
    {
        # transfers between one's own accounts: concentration, automatic, ZBA, sweeps
        *("135", "145", "201", "274", "275", "276", "277", "278", "281", "286"),
        *("346", "347"),
        # investments, securities, loans, interest
        *("171", "202", "226", "232", "233", "234", "235", "236", "238", "240", "241"),
        *("242", "243", "244", "246", "247", "248", "249", "263", "306", "342", "345"),
        *("348", "349", "351", "354", "359", "364"),
        # one's own items coming back, reversals and bank corrections; 168 settles returned
        # ACH items (of one's own credits) or adjustments in one total, the twin of 468
        *("123", "168", "252", "254", "255", "257", "258", "261", "266", "268", "395"),
        # the bank's own: a float (availability) adjustment, a refund of its fees
        *("397", "398"),
    }
)
# debit detail codes that take back a credit counted before (names from the BAI "Cash
# Management Balance Reporting Specifications Version 2" detail type codes; each is the debit
# twin of a credit listed in NOT_RECEIPTS as one's own item coming back)
RETURNED_ITEMS = frozenset(
    {
        "423",  # EDIBANX return item debit (the twin of 557 on the EDIBANX network)
        "552",  # credit reversal: the bank reverses a credit it posted
        "555",  # deposited item returned (a check deposited, unpaid)
        "557",  # individual ACH return item (an ACH debit of ours returned)
        "558",  # ACH reversal debit (a NACHA reversing entry: an erroneous credit taken back)
        "561",  # individual rejected debit (an ACH debit of ours rejected after it was credited)
        "566",  # return item (an item deposited, returned)
        "694",  # deposit reversal
    }
)
# Debits left out though they may touch cash counted before, for a person to see in the bank's
# own report (each is a warning): their amount or what they take back is not one item taken
# back whole. 468 ACH return item or adjustment settlement (a total of several returns, each
# also reported as a 557, or adjustments), 554 posting error correction debit and 695 deposit
# correction debit (the bank corrects an amount it posted, often part of one), 568 return
# item adjustment (of an earlier return), 631 debit adjustment, 489 cash letter adjustment.
# Not these: 408 float adjustment (availability, not cash), 567 return item fee (a fee, not
# the item), nor any other debit (a payment of ours).
ADJUSTMENTS = frozenset({"468", "489", "554", "568", "631", "695"})


def describe(code: str) -> str:
    """The BAI name of a type code (``ZBA Credit`` for 275); "" for one BAI does not define."""
    found = TypeCodes.get(code)
    return found.description if found is not None else ""
