"""A purchase order the payer names (820 ``RMR*PO``/``REF*PO``, camt ``PUOR``, ``PO 7790`` in
text) is looked up against the POs our invoices bear, never against invoice numbers: a PO
that is another customer's invoice number pays nothing there."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import col

from canonical.models import DEFAULT_TENANT, PayerAlias, Remittance
from canonical.store import Store
from reconciler import reconcile
from reconciler.book import Book as OpenBook
from reconciler.book import Scope
from reconciler.references import po_key, read_references
from sync.ingest import ingest_files
from tests.support.receivables import Book, applied, decision, ref

pytestmark = pytest.mark.usefixtures("book_loading")

ISA = "ISA*00*          *00*          *ZZ*BIGBOXAP       *ZZ*ACMEWIDGETS    *261120*0930*U*"
BIGBOX_820 = (
    ISA
    + """00401*000000906*0*P*>~
GS*RA*BIGBOXAP*ACMEWIDGETS*20261120*0930*906*X*004010~
ST*820*0001~
BPR*C*1200.00*C*ACH*CTX*01*091000019*DA*5550001234*9876543210**01*021000021*DA*\
0012345678*20261120~
TRN*1*BBX0000991*9876543210~
N1*PR*BIGBOX RETAIL STORES~
N1*PE*ACME WIDGETS INC~
ENT*1~
RMR*PO*88000**1200.00~
SE*8*0001~
GE*1*906~
IEA*1*000000906~
"""
)


def po(number: str, amount: str | None = None) -> dict[str, object]:
    return ref(number, amount, kind="po")


def test_an_820_paying_by_po_pays_the_invoice_bearing_it_not_the_one_numbered_like_it(
    store: Store, book: Book, tmp_path: Path
) -> None:
    bigbox = book.customer("Big Box Retail Inc")
    zeta = book.customer("Zeta LLC")
    book.invoice(bigbox, "45001", "1200.00", po="88000")
    book.invoice(zeta, "88000", "1000.00")
    path = tmp_path / "bigbox.edi"
    path.write_text(BIGBOX_820)
    ingest_files(store, [path])
    reconcile(store)
    with store.session() as s:
        rid = s.execute(select(col(Remittance.id))).scalar_one()
        learned = {a.customer_id for a in s.execute(select(PayerAlias)).scalars()}
    d = decision(store, rid)
    # before, 1000.00 went to Zeta's invoice 88000 and the payer was learned as Zeta
    assert d.status == "auto_applied" and applied(store, rid) == {"45001": "1200.00"}
    assert d.evidence["matched"] == [{"ref": "88000", "invoice": "45001", "by": "po"}]
    assert learned <= {bigbox}


def test_a_known_payers_po_equal_to_another_customers_invoice_number(
    store: Store, book: Book
) -> None:
    acme = book.customer("Acme Corp")
    zeta = book.customer("Zeta LLC")
    book.invoice(acme, "45001", "1200.00", po="88000")
    book.invoice(zeta, "88000", "1000.00")
    rid = book.pay("1200.00", payer="ACME CORP", refs=[po("88000")])
    reconcile(store)
    assert decision(store, rid).status == "auto_applied"
    assert applied(store, rid) == {"45001": "1200.00"}


def test_an_unknown_payers_po_equal_to_another_customers_invoice_number(
    store: Store, book: Book
) -> None:
    acme = book.customer("Acme Corp")
    zeta = book.customer("Zeta LLC")
    book.invoice(acme, "45001", "1200.00", po="88000")
    book.invoice(zeta, "88000", "1000.00")
    rid = book.pay("1200.00", payer="ACME HOLDINGS GROUP PLC", refs=[po("88000")])
    reconcile(store)
    assert "88000" not in applied(store, rid)


def test_a_structured_po_picks_one_of_two_invoices_of_the_same_amount(
    store: Store, book: Book
) -> None:
    acme = book.customer("Acme Corp")
    book.invoice(acme, "45001", "1200.00", po="4500012345")
    book.invoice(acme, "45002", "1200.00", po="4500012399")
    rid = book.pay("1200.00", payer="ACME CORP", refs=[po("4500012399")])
    reconcile(store)
    assert decision(store, rid).status == "auto_applied"
    assert applied(store, rid) == {"45002": "1200.00"}


def test_a_po_in_text_picks_one_of_two_invoices_of_the_same_amount(
    store: Store, book: Book
) -> None:
    acme = book.customer("Acme Corp")
    book.invoice(acme, "45001", "1200.00", po="PO-7781")
    book.invoice(acme, "45002", "1200.00", po="PO-7790")
    rid = book.pay("1200.00", payer="ACME CORP", text="PO 7790")
    reconcile(store)
    d = decision(store, rid)
    assert d.status == "auto_applied" and applied(store, rid) == {"45002": "1200.00"}
    assert d.evidence["text_pos"] == ["PO 7790"]


def test_an_rmr_po_in_bank_text_is_a_po_not_an_invoice_number(store: Store, book: Book) -> None:
    acme = book.customer("Acme Corp")
    zeta = book.customer("Zeta LLC")
    book.invoice(acme, "45001", "1200.00", po="88000")
    book.invoice(zeta, "88000", "1200.00")
    rid = book.pay("1200.00", payer="ACME CORP", text="RMR*PO*88000**1200.00\\")
    reconcile(store)
    assert applied(store, rid) == {"45001": "1200.00"}


def test_another_customers_po_of_that_number_is_a_coincidence(store: Store, book: Book) -> None:
    acme = book.customer("Acme Corp")
    zeta = book.customer("Zeta LLC")
    book.invoice(acme, "45001", "640.00")
    book.invoice(zeta, "99001", "640.00", po="7790")
    rid = book.pay("640.00", payer="ACME CORP", refs=[po("7790")])
    reconcile(store)
    d = decision(store, rid)
    assert d.status == "auto_applied" and applied(store, rid) == {"45001": "640.00"}
    assert d.evidence["other_refs"] == ["7790"]


def test_a_po_alone_from_an_unknown_payer_that_leaves_cash_over_is_suggested(
    store: Store, book: Book
) -> None:
    acme = book.customer("Acme Corp")
    book.invoice(acme, "45001", "1200.00", po="88000")
    rid = book.pay("1500.00", payer="NORTHWIND HOLDINGS", refs=[po("88000")])
    reconcile(store)
    d = decision(store, rid)
    assert d.status == "suggested" and applied(store, rid) == {}
    assert "purchase order" in d.evidence["not_applied_because"]


def test_po_numbers_are_read_from_text_beside_the_invoice_numbers() -> None:
    reading = read_references("PO 7781, 7782 INV 1001")
    assert [r.keys[0][0] for r in reading.refs] == ["1001"]
    assert [(r.written, r.keys[0][0]) for r in reading.pos] == [
        ("PO 7781", "7781"),
        ("7782", "7782"),
    ]
    assert [r.keys[0][0] for r in read_references("Purchase Order No. 4500012399").pos] == [
        "4500012399"
    ]
    assert po_key("PO-007790") == po_key("P.O. 7790") == po_key("7790") == "7790"


def test_a_book_loaded_for_a_few_remittances_holds_the_invoices_bearing_their_pos(
    store: Store, book: Book
) -> None:
    acme = book.customer("Acme Corp")
    wanted = book.invoice(acme, "45002", "1200.00", po="PO-7790")
    book.invoice(acme, "45001", "1200.00", po="PO-7781")
    with store.session() as s:
        loaded = OpenBook.load(s, DEFAULT_TENANT, Scope(keys={"PO7790"}))
    assert [i.id for i in loaded.by_po["7790"]] == [wanted]
    assert "45001" in {i.number for i in loaded.invoices.values()}  # the customer's, as ever
