"""ARPYMT STATE: which states are posted cash. Posted, Complete and Reconciled are; a payment
in approval (Submitted, Partially Approved, Approved) or declined (Declined, Unapproved) has
not been posted and is read like a draft; any other STATE is refused, naming STATE."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from canonical.enums import PaymentStatus
from canonical.models import Application, Quarantine
from canonical.money import Money
from canonical.records import PaymentIn
from canonical.store import Store
from connectors.base import RawRecord
from connectors.intacct import IntacctSandbox
from connectors.intacct.xmlwire import parse, to_dict
from connectors.sandbox.world import World
from mappings.base import MappingContext, MappingError
from mappings.intacct import payment as payment_map
from tests.mappings.intacct.test_intacct_pull import CUSTOMER, INVOICE, write

CTX = MappingContext("intacct", home_currency="USD")

PAYMENT_XML = """<arpymt>
  <RECORDNO>8140</RECORDNO><STATE>{state}</STATE><PAYMENTMETHOD>Printed Check</PAYMENTMETHOD>
  <CUSTOMERID>C-00031</CUSTOMERID><DOCNUMBER>10455</DOCNUMBER><DESCRIPTION/>
  <PAYMENTDATE>04/20/2026</PAYMENTDATE><RECEIPTDATE>04/20/2026</RECEIPTDATE>
  <BASECURR>USD</BASECURR><CURRENCY>USD</CURRENCY>
  <TOTALENTERED>250.00</TOTALENTERED><TRX_TOTALENTERED>250.00</TRX_TOTALENTERED>
  <ARPYMTDETAILS>
    <ARPYMTDETAIL><PAYMENTKEY>8140</PAYMENTKEY><RECORDKEY>8101</RECORDKEY>
      <TRX_PAYMENTAMOUNT>200.00</TRX_PAYMENTAMOUNT></ARPYMTDETAIL>
  </ARPYMTDETAILS>
</arpymt>"""

NOT_POSTED = ["Submitted", "Partially Approved", "Approved", "Declined", "Unapproved"]


def payload(state: str) -> dict[str, Any]:
    return to_dict(parse(PAYMENT_XML.format(state=state).encode()))


def mapped(state: str) -> PaymentIn:
    return payment_map.to_canonical(RawRecord("payments", "ARPYMT", "8140", payload(state)), CTX)


@pytest.mark.parametrize("state", [*NOT_POSTED, "submitted", "DECLINED"])
def test_payment_in_approval_or_declined_is_not_cash(state: str) -> None:
    """Before: read as posted, its 200.00 applied to invoice 8101 and 50.00 unapplied."""
    result = mapped(state)
    assert result.status is PaymentStatus.VOID  # as a draft: the status that is not cash
    assert result.unapplied == Money("0", "USD")
    assert result.amount == Money("250.00", "USD")


@pytest.mark.parametrize("state", ["Posted", "Complete", "Reconciled"])
def test_documented_posted_states_are_cash(state: str) -> None:
    result = mapped(state)
    assert result.status is PaymentStatus.POSTED
    assert result.unapplied == Money("50.00", "USD")
    assert [(a.target_remote_id, a.amount) for a in result.applied] == [
        ("8101", Money("200.00", "USD"))
    ]


@pytest.mark.parametrize("state", ["Selected", "In transit", "Pending"])
def test_unknown_state_is_refused_naming_state(state: str) -> None:
    """Before: any STATE not void or draft was posted cash."""
    with pytest.raises(MappingError) as caught:
        mapped(state)
    assert caught.value.field == "STATE"
    assert repr(state) in caught.value.reason and "posted cash" in caught.value.reason


def test_a_blank_state_reads_as_no_state() -> None:
    """A STATE of blanks is no STATE, read as posted as before (review: it raised an
    AttributeError that failed the whole batch)."""
    assert mapped("  ").status == PaymentStatus.POSTED


def test_unknown_state_is_quarantined_and_applies_nothing(sqlite_store: Store) -> None:
    write(sqlite_store, "customers", [("C-00031", CUSTOMER)])
    write(sqlite_store, "invoices", [("8101", INVOICE)])
    counts = write(sqlite_store, "payments", [("8140", payload("In transit"))])
    assert (counts.created, counts.quarantined) == (0, 1)
    with sqlite_store.session() as s:
        quarantined = s.exec(select(Quarantine)).one()
        applications = s.exec(select(Application)).all()
    assert (quarantined.remote_id, quarantined.field) == ("8140", "STATE")
    assert "8140" in quarantined.reason and "'In transit'" in quarantined.reason
    assert applications == []


def test_sandbox_payments_read_as_before() -> None:
    """The sandbox seeds payments Posted and reverses them to Reversed: both unchanged."""
    box = IntacctSandbox(world=World.generate(11, customers=10, invoices=60))
    details = box.rows("ARPYMTDETAIL")
    rows = box.rows("ARPYMT")
    assert rows and {row["STATE"] for row in rows} == {"Posted"}
    for row in rows:
        key = row["RECORDNO"]
        mine = [d for d in details if d["PAYMENTKEY"] == key]
        record = RawRecord("payments", "ARPYMT", key, row | {"ARPYMTDETAILS": mine})
        assert payment_map.to_canonical(record, CTX).status is PaymentStatus.POSTED
    box.void("payments", rows[0]["RECORDNO"])
    (reversed_row,) = [r for r in box.rows("ARPYMT") if r["RECORDNO"] == rows[0]["RECORDNO"]]
    record = RawRecord("payments", "ARPYMT", reversed_row["RECORDNO"], reversed_row)
    assert payment_map.to_canonical(record, CTX).status is PaymentStatus.VOID
