"""Cash taken back (a returned direct debit, a chargeback) is never applied: it is reported
with the payment it takes back and what that payment paid, for a person to reverse."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from canonical.models import Remittance
from canonical.store import Store
from reconciler import reconcile
from sync.ingest import ingest_files
from tests.support.receivables import Book, applied, decision

pytestmark = pytest.mark.usefixtures("book_loading")

STATEMENT = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
 <BkToCstmrStmt><GrpHdr><MsgId>{id}</MsgId><CreDtTm>2026-12-04T18:00:00</CreDtTm></GrpHdr>
  <Stmt><Id>{id}</Id><CreDtTm>2026-12-04T18:00:00</CreDtTm>
   <Acct><Id><IBAN>DE02120300000000202051</IBAN></Id><Ccy>EUR</Ccy></Acct>
   <Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{indicator}</CdtDbtInd>
    <Sts><Cd>BOOK</Cd></Sts><ValDt><Dt>{day}</Dt></ValDt><AcctSvcrRef>{id}-1</AcctSvcrRef>
    <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>IDDT</Cd><SubFmlyCd>{family}</SubFmlyCd></Fmly>
    </Domn></BkTxCd>
    <NtryDtls><TxDtls><Refs><EndToEndId>COLL-2026-0042</EndToEndId></Refs>
     <RltdPties><Dbtr><Nm>Harbor Foods GmbH</Nm></Dbtr></RltdPties>
     {extra}</TxDtls></NtryDtls></Ntry>
  </Stmt>
 </BkToCstmrStmt>
</Document>
"""


def remittances(store: Store) -> list[Remittance]:
    with store.session() as s:
        return list(s.execute(select(Remittance)).scalars())


def statement(tmp_path: Path, name: str, **values: str) -> Path:
    path = tmp_path / name
    path.write_text(STATEMENT.format(**values))
    return path


def collection(tmp_path: Path) -> Path:
    """A SEPA direct debit collected from Harbor Foods for RE-2026-118."""
    return statement(
        tmp_path,
        "collection.xml",
        id="STMT-1",
        amount="1000.00",
        indicator="CRDT",
        day="2026-12-01",
        family="ESDD",
        extra="<RmtInf><Ustrd>RE-2026-118</Ustrd></RmtInf>",
    )


def return_of_collection(tmp_path: Path) -> Path:
    """The payer's bank sends that collection back unpaid (AM04: insufficient funds)."""
    return statement(
        tmp_path,
        "return.xml",
        id="STMT-2",
        amount="1000.00",
        indicator="DBIT",
        day="2026-12-09",
        family="UPDD",
        extra="<RtrInf><Rsn><Cd>AM04</Cd></Rsn></RtrInf>",
    )


def test_a_returned_direct_debit_names_the_collection_and_the_invoice_it_paid(
    store: Store, book: Book, tmp_path: Path
) -> None:
    book.invoice(book.customer("Harbor Foods GmbH"), "RE-2026-118", "1000.00", currency="EUR")
    collected = collection(tmp_path)
    ingest_files(store, [collected])
    reconcile(store)
    [cash] = remittances(store)
    assert decision(store, cash.id).status == "auto_applied"

    returned = return_of_collection(tmp_path)
    ingest_files(store, [returned])
    summary = reconcile(store)
    assert summary.reversals == 1 and summary.match_rate == 0  # nothing new was applied
    [back] = [r for r in remittances(store) if r.amount_minor < 0]
    taken = decision(store, back.id)
    assert (taken.status, taken.exception_kind) == ("exception", "returned_payment")
    assert taken.evidence["reverses"] == "COLL-2026-0042"
    assert taken.evidence["original"]["remittance"] == cash.id
    assert taken.evidence["paid"] == [{"invoice": "RE-2026-118", "amount": "1000.00"}]
    assert applied(store, back.id) == {}
    assert applied(store, cash.id) == {"RE-2026-118": "1000.00"}  # a person reverses it


def test_a_return_whose_payment_is_unknown_is_still_reported(
    store: Store, book: Book, tmp_path: Path
) -> None:
    returned = statement(
        tmp_path,
        "return.xml",
        id="STMT-3",
        amount="250.00",
        indicator="DBIT",
        day="2026-12-09",
        family="UPDD",
        extra="<RtrInf><Rsn><Cd>MD06</Cd></Rsn></RtrInf>",
    )
    ingest_files(store, [returned])
    reconcile(store)
    [back] = remittances(store)
    taken = decision(store, back.id)
    assert (taken.exception_kind, taken.evidence["original"]) == ("returned_payment", None)
    assert back.payer_name == "Harbor Foods GmbH"


def test_cash_taken_back_before_the_reconcile_ran_is_never_applied(
    store: Store, book: Book, tmp_path: Path
) -> None:
    book.invoice(book.customer("Harbor Foods GmbH"), "RE-2026-118", "1000.00", currency="EUR")
    collected = collection(tmp_path)
    returned = return_of_collection(tmp_path)
    ingest_files(store, [collected, returned])
    reconcile(store)
    cash, back = sorted(remittances(store), key=lambda r: -r.amount_minor)
    kept = decision(store, cash.id)
    assert (kept.status, kept.rule, kept.exception_kind) == (
        "exception",
        "taken_back",
        "returned_payment",
    )
    assert applied(store, cash.id) == {}
    taken = decision(store, back.id)
    assert taken.evidence["original"]["rule"] == "taken_back"
    assert taken.evidence["paid"] == [] and "nothing to reverse" in taken.evidence["action"]


def test_a_person_cannot_apply_cash_taken_back(store: Store, book: Book, tmp_path: Path) -> None:
    from reconciler.confirm import ConfirmError, confirm

    book.invoice(book.customer("Harbor Foods GmbH"), "RE-2026-118", "1000.00", currency="EUR")
    ingest_files(store, [collection(tmp_path)])
    reconcile(store)
    ingest_files(store, [return_of_collection(tmp_path)])
    reconcile(store)
    [back] = [r for r in remittances(store) if r.amount_minor < 0]
    taken = decision(store, back.id)
    with pytest.raises(ConfirmError, match=r"takes cash back .*cannot be applied"):
        confirm(store, taken.id, by="person:ana", invoice_numbers=["RE-2026-118"])
    assert decision(store, back.id).id == taken.id  # the exception stands, nothing decided
    assert applied(store, back.id) == {}


def test_a_name_two_payments_bear_takes_neither_back(store: Store, book: Book) -> None:
    """An ACH originator often sends one identification number (our vendor number in its
    books) with every payment; a reversal named only by it cannot say which payment it takes
    back, so neither is held back and the reversal goes to a person naming no payment."""
    from datetime import date

    customer = book.customer("Harbor Foods GmbH")
    book.invoice(customer, "RE-2026-201", "480.00")
    book.invoice(customer, "RE-2026-202", "480.00")
    rows = [
        Remittance(
            source="nacha",
            source_key=f"nacha:credit-{n}",
            currency="USD",
            amount_minor=48000,
            value_date=date(2026, 12, 1),
            payer_name="Harbor Foods GmbH",
            end_to_end_id="VENDOR-7731",
            free_text=f"RE-2026-20{n}",
        )
        for n in (1, 2)
    ]
    rows.append(
        Remittance(
            source="nacha",
            source_key="nacha:reversal-1",
            currency="USD",
            amount_minor=-48000,
            value_date=date(2026, 12, 2),
            payer_name="Harbor Foods GmbH",
            free_text="REVERSAL OF VENDOR-7731",
            reverses="VENDOR-7731",
        )
    )
    with store.session() as s:
        s.add_all(rows)
    reconcile(store)
    first, second, back = (decision(store, r.id) for r in rows)
    assert first.status == second.status == "auto_applied"  # neither held back
    assert back.exception_kind == "returned_payment" and back.evidence["original"] is None
