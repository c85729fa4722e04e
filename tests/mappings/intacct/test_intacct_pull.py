"""Intacct records through the real mappings into the store: what a debit memo and a draft
payment leave behind (nothing that could be applied as credit or counted as cash)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import select

from canonical.enums import ApplicationStatus, DocumentStatus
from canonical.models import Application, CreditMemo, ExternalRef, Invoice, Quarantine
from canonical.store import Store
from connectors.base import RawRecord
from connectors.intacct.xmlwire import parse, to_dict
from mappings.base import MappingContext
from mappings.intacct import MAPPERS
from sync.pull import PageWriter
from sync.settings import SystemOfRecord
from tests.support import pull as support

STAMP = datetime(2026, 4, 20, 17, 0, tzinfo=UTC)
OBJECTS = {
    "customers": "CUSTOMER",
    "invoices": "ARINVOICE",
    "credit_memos": "ARADJUSTMENT",
    "payments": "ARPYMT",
}


def write(
    store: Store, stream: str, rows: list[tuple[str, dict[str, Any]]], object_type: str = ""
) -> Any:
    writer = PageWriter(
        tenant="default",
        system="intacct",
        stream=stream,
        mapper=MAPPERS[stream],
        context=MappingContext(system="intacct", home_currency="USD"),
        system_of_record=SystemOfRecord(),
    )
    obj = object_type or OBJECTS[stream]
    records = [RawRecord(stream, obj, rid, p, modified_at=STAMP) for rid, p in rows]
    with store.session() as session:
        return writer.write(session, records)


def xml(text: str) -> dict[str, Any]:
    return to_dict(parse(text.encode()))


CUSTOMER = xml(
    "<CUSTOMER><RECORDNO>31</RECORDNO><CUSTOMERID>C-00031</CUSTOMERID>"
    "<NAME>Harbor Supply</NAME><STATUS>active</STATUS><CURRENCY>USD</CURRENCY></CUSTOMER>"
)
INVOICE = xml(
    "<ARINVOICE><RECORDNO>8101</RECORDNO><RECORDID>INV8101</RECORDID>"
    "<CUSTOMERID>C-00031</CUSTOMERID><WHENCREATED>04/01/2026</WHENCREATED>"
    "<WHENDUE>05/01/2026</WHENDUE><STATE>Selected</STATE><CURRENCY>USD</CURRENCY>"
    "<TRX_TOTALENTERED>500.00</TRX_TOTALENTERED><TRX_TOTALPAID>0</TRX_TOTALPAID>"
    "<TRX_TOTALDUE>500.00</TRX_TOTALDUE></ARINVOICE>"
)
DEBIT_MEMO = xml(
    "<ARADJUSTMENT><RECORDNO>8107</RECORDNO><RECORDID>ADJ8107</RECORDID>"
    "<CUSTOMERID>C-00031</CUSTOMERID><WHENCREATED>04/03/2026</WHENCREATED>"
    "<STATE>Posted</STATE><CURRENCY>USD</CURRENCY>"
    "<TRX_TOTALENTERED>75.00</TRX_TOTALENTERED><TRX_TOTALDUE>75.00</TRX_TOTALDUE>"
    "</ARADJUSTMENT>"
)
CREDIT_MEMO = xml(
    "<ARADJUSTMENT><RECORDNO>8105</RECORDNO><RECORDID>ADJ8105</RECORDID>"
    "<CUSTOMERID>C-00031</CUSTOMERID><WHENCREATED>04/02/2026</WHENCREATED>"
    "<STATE>Posted</STATE><CURRENCY>USD</CURRENCY>"
    "<TRX_TOTALENTERED>-40.00</TRX_TOTALENTERED><TRX_TOTALDUE>-40.00</TRX_TOTALDUE>"
    "</ARADJUSTMENT>"
)


def payment(state: str) -> dict[str, Any]:
    return xml(
        f"<ARPYMT><RECORDNO>8140</RECORDNO><STATE>{state}</STATE>"
        "<CUSTOMERID>C-00031</CUSTOMERID><PAYMENTDATE>04/20/2026</PAYMENTDATE>"
        "<CURRENCY>USD</CURRENCY><TRX_TOTALENTERED>200.00</TRX_TOTALENTERED>"
        "<ARPYMTDETAILS><ARPYMTDETAIL><PAYMENTKEY>8140</PAYMENTKEY><RECORDKEY>8101</RECORDKEY>"
        "<TRX_PAYMENTAMOUNT>200.00</TRX_PAYMENTAMOUNT></ARPYMTDETAIL></ARPYMTDETAILS></ARPYMT>"
    )


def test_debit_memo_is_quarantined_and_never_becomes_credit(sqlite_store: Store) -> None:
    write(sqlite_store, "customers", [("C-00031", CUSTOMER)])
    counts = write(sqlite_store, "credit_memos", [("8105", CREDIT_MEMO), ("8107", DEBIT_MEMO)])
    assert (counts.created, counts.quarantined) == (1, 1)
    with sqlite_store.session() as s:
        memos = s.exec(select(CreditMemo)).all()
        quarantined = s.exec(select(Quarantine)).one()
    assert [(m.number, m.balance_minor, m.status) for m in memos] == [
        ("ADJ8105", 4000, DocumentStatus.OPEN)
    ]
    assert (quarantined.remote_id, quarantined.field) == ("8107", "TRX_TOTALENTERED")
    assert "debit memo" in quarantined.reason


@pytest.mark.parametrize(("waiting", "posted"), [("Draft", "Posted"), ("Submitted", "Complete")])
def test_draft_payment_applies_nothing_until_it_is_posted(
    sqlite_store: Store, waiting: str, posted: str
) -> None:
    """A draft, or a payment awaiting approval, has moved no cash until Intacct posts it."""
    write(sqlite_store, "customers", [("C-00031", CUSTOMER)])
    write(sqlite_store, "invoices", [("8101", INVOICE)])
    write(sqlite_store, "payments", [("8140", payment(waiting))])
    with sqlite_store.session() as s:
        invoice = s.exec(select(Invoice)).one()
        applications = s.exec(select(Application)).all()
    assert invoice.balance_minor == 50000 and invoice.status == DocumentStatus.OPEN
    assert [(a.amount_minor, a.status) for a in applications] == [
        (20000, ApplicationStatus.REVERSED)
    ]
    write(sqlite_store, "payments", [("8140", payment(posted))])
    with sqlite_store.session() as s:
        applications = s.exec(select(Application)).all()
    assert [(a.amount_minor, a.status) for a in applications] == [
        (20000, ApplicationStatus.APPLIED)
    ]


DEBIT_MEMO_PAYMENT = xml(
    "<ARPYMT><RECORDNO>8141</RECORDNO><STATE>Posted</STATE>"
    "<CUSTOMERID>C-00031</CUSTOMERID><PAYMENTDATE>04/21/2026</PAYMENTDATE>"
    "<CURRENCY>USD</CURRENCY><TRX_TOTALENTERED>75.00</TRX_TOTALENTERED>"
    "<ARPYMTDETAILS><ARPYMTDETAIL><PAYMENTKEY>8141</PAYMENTKEY><POSADJKEY>8107</POSADJKEY>"
    "<TRX_PAYMENTAMOUNT>75.00</TRX_PAYMENTAMOUNT></ARPYMTDETAIL></ARPYMTDETAILS></ARPYMT>"
)


def test_debit_memo_is_an_invoice_and_its_payment_applies_to_it(sqlite_store: Store) -> None:
    write(sqlite_store, "customers", [("C-00031", CUSTOMER)])
    write(sqlite_store, "invoices", [("8101", INVOICE)])
    counts = write(sqlite_store, "invoices", [("8107", DEBIT_MEMO)], object_type="ARADJUSTMENT")
    assert (counts.created, counts.quarantined) == (1, 0)
    write(sqlite_store, "payments", [("8141", DEBIT_MEMO_PAYMENT)])
    with sqlite_store.session() as s:
        memo = s.exec(select(Invoice).where(Invoice.number == "ADJ8107")).one()
        ref = s.exec(select(ExternalRef).where(ExternalRef.canonical_id == memo.id)).one()
        [application] = s.exec(select(Application)).all()
    assert (memo.total_minor, memo.status) == (7500, DocumentStatus.OPEN)
    assert (ref.object_type, ref.remote_id, ref.canonical_type) == (
        "ARADJUSTMENT",
        "8107",
        "invoice",
    )
    assert application.invoice_id == memo.id and application.amount_minor == 7500
    assert application.status == ApplicationStatus.APPLIED


def other_system(store: Store, invoices: list[tuple[str, str]]) -> None:
    """The same customer in QuickBooks (linked by its exact name) with invoices numbered so."""
    support.write(store, "quickbooks", "customers", [("58", {"name": "Harbor Supply"})])
    support.write(
        store,
        "quickbooks",
        "invoices",
        [
            (rid, {"customer": "58", "number": number, "total": "75.00", "balance": "75.00"})
            for rid, number in invoices
        ],
    )


def canonical_of(store: Store, system: str, remote_id: str) -> str:
    with store.session() as s:
        return s.exec(
            select(ExternalRef.canonical_id).where(
                ExternalRef.system == system,
                ExternalRef.remote_id == remote_id,
                ExternalRef.canonical_type == "invoice",
            )
        ).one()


def test_a_debit_memo_links_by_number_only_to_a_document_numbered_alike(
    sqlite_store: Store,
) -> None:
    write(sqlite_store, "customers", [("C-00031", CUSTOMER)])
    write(sqlite_store, "invoices", [("8107", DEBIT_MEMO)], object_type="ARADJUSTMENT")
    # QuickBooks invoice 8107 shares the number key of ADJ8107 but is another document;
    # ADJ-8107 is the debit memo itself, written with its own prefix
    other_system(sqlite_store, [("900", "8107"), ("901", "ADJ-8107")])
    memo = canonical_of(sqlite_store, "intacct", "8107")
    assert canonical_of(sqlite_store, "quickbooks", "900") != memo
    assert canonical_of(sqlite_store, "quickbooks", "901") == memo


def test_an_invoice_read_first_is_not_taken_by_a_debit_memo_of_its_number(
    sqlite_store: Store,
) -> None:
    other_system(sqlite_store, [("900", "8107")])
    write(sqlite_store, "customers", [("C-00031", CUSTOMER)])
    write(sqlite_store, "invoices", [("8107", DEBIT_MEMO)], object_type="ARADJUSTMENT")
    assert canonical_of(sqlite_store, "intacct", "8107") != canonical_of(
        sqlite_store, "quickbooks", "900"
    )
    with sqlite_store.session() as s:
        assert len(s.exec(select(Invoice)).all()) == 2
