"""References that name none of our invoices (a PO, the payer's own reference, a processor's
object id) do not turn a certain match into a suggestion; an invoice the payer labelled that
is not open still does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import col

from canonical.models import Remittance
from canonical.store import Store
from connectors.processors.stripe_events import parse_event
from mappings.processors.remittance import remittance_from_record
from reconciler import reconcile
from sync.ingest import ingest_files
from tests.support.receivables import Book, applied, decision, ref

pytestmark = pytest.mark.usefixtures("book_loading")

FIXTURES = Path(__file__).parents[1] / "fixtures" / "processors"
ISA = "ISA*00*          *00*          *ZZ*INITECHAP      *ZZ*ACMEWIDGETS    *261120*0930*U*"
INITECH_820 = (
    ISA
    + """00401*000000905*0*P*>~
GS*RA*INITECHAP*ACMEWIDGETS*20261120*0930*905*X*004010~
ST*820*0001~
BPR*C*1437.50*C*ACH*CTX*01*091000019*DA*5550001234*9876543210**01*021000021*DA*\
0012345678*20261120~
TRN*1*INI0000457*9876543210~
CUR*PR*USD~
N1*PR*INITECH LLC*91*VEND-0042~
N1*PE*ACME WIDGETS INC~
ENT*1~
RMR*IV*INV-1010**1000.00*1000.00~
REF*PO*PO-77120~
DTM*003*20261015~
RMR*IV*INV-1011**437.50*437.50~
SE*12*0001~
GE*1*905~
IEA*1*000000905~
"""
)


def test_an_820_with_a_po_on_no_invoice_still_applies(
    store: Store, book: Book, tmp_path: Path
) -> None:
    initech = book.customer("Initech LLC")
    book.invoice(initech, "INV-1010", "1000.00")
    book.invoice(initech, "INV-1011", "437.50")
    path = tmp_path / "initech.edi"
    path.write_text(INITECH_820)
    ingest_files(store, [path])
    reconcile(store)
    with store.session() as s:
        rid = s.execute(select(col(Remittance.id))).scalar_one()
    d = decision(store, rid)
    # before, the PO was an "unresolved" reference: confidence 80, a suggestion
    assert d.status == "auto_applied" and d.confidence == 100
    assert applied(store, rid) == {"INV-1010": "1000.00", "INV-1011": "437.50"}
    assert d.evidence["other_refs"] == ["PO-77120"]
    assert "unresolved_refs" not in d.evidence


def test_the_payers_own_creditor_reference_beside_an_invoice(store: Store, book: Book) -> None:
    initech = book.customer("Initech LLC")
    book.invoice(initech, "INV-1010", "1000.00")
    rid = book.pay(
        "1000.00",
        payer="INITECH LLC",
        refs=[ref("INV-1010", "1000.00"), ref("REMIT-2026-11-0045", kind="other")],
    )
    reconcile(store)
    d = decision(store, rid)
    assert d.status == "auto_applied" and applied(store, rid) == {"INV-1010": "1000.00"}
    assert d.evidence["other_refs"] == ["REMIT-2026-11-0045"]


def test_a_stripe_payment_naming_our_invoice_and_stripes_own(store: Store, book: Book) -> None:
    acme = book.customer("Acme Corp")
    book.invoice(acme, "INV-01001", "1250.00")
    event = json.loads((FIXTURES / "stripe_payment_intent_succeeded.json").read_text())
    record = parse_event(event)
    assert record is not None
    remittance = remittance_from_record(record)
    with store.session() as s:
        s.add(remittance)
    reconcile(store)
    d = decision(store, remittance.id)
    # Stripe's in_... id of its invoice object is no invoice number of ours
    assert d.status == "auto_applied" and applied(store, remittance.id) == {"INV-01001": "1250.00"}
    assert d.evidence["other_refs"] == ["in_1QkTestInvoice01"]
    assert "labelled_not_found" not in d.evidence


def test_a_labelled_invoice_not_found_still_makes_it_a_suggestion(store: Store, book: Book) -> None:
    initech = book.customer("Initech LLC")
    book.invoice(initech, "INV-1010", "1000.00")
    rid = book.pay(
        "1000.00",
        payer="INITECH LLC",
        refs=[ref("INV-1010", "1000.00"), ref("INV-1099"), ref("PO-5", kind="po")],
    )
    reconcile(store)
    d = decision(store, rid)
    assert d.status == "suggested" and d.evidence["labelled_not_found"] == ["INV-1099"]
    assert d.evidence["other_refs"] == ["PO-5"]
