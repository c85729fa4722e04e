"""Storing pages: identity across systems, system of record, drift, deletes, quarantine."""

from __future__ import annotations

from sqlmodel import col, select

from canonical.models import (
    Application,
    Customer,
    DriftFinding,
    ExternalRef,
    IdentityCandidate,
    Invoice,
    Quarantine,
)
from canonical.money import Money
from canonical.store import Store
from tests.support.pull import seed_two_systems, write


def test_same_records_in_two_systems_become_one_with_two_refs(store: Store) -> None:
    seed_two_systems(store)
    counts = write(
        store,
        "invoiced",
        "invoices",
        [("i9", {"customer": "c1", "number": "INV-01001", "total": "100.00", "balance": "100.00"})],
    )
    assert counts.linked == 1 and counts.created == 0
    with store.session() as s:
        assert len(s.exec(select(Customer)).all()) == 1
        invoice = s.exec(select(Invoice)).one()
        refs = s.exec(select(ExternalRef).where(col(ExternalRef.canonical_id) == invoice.id)).all()
    assert {(r.system, r.link_rule) for r in refs} == {
        ("quickbooks", "created"),
        ("invoiced", "number_customer"),
    }
    assert invoice.number == "1001"  # the ERP is the system of record


def test_disagreement_is_drift_and_the_system_of_record_wins(store: Store) -> None:
    seed_two_systems(store)
    write(
        store,
        "invoiced",
        "invoices",
        [("i9", {"customer": "c1", "number": "INV-01001", "total": "100.00", "balance": "60.00"})],
    )
    with store.session() as s:
        invoice = s.exec(select(Invoice)).one()
        finding = s.exec(select(DriftFinding)).one()
    assert invoice.balance == Money("100.00", "USD")
    assert finding.field == "balance"
    assert finding.values == {"quickbooks": "100.00 USD", "invoiced": "60.00 USD"}
    assert finding.system_of_record == "quickbooks"
    assert finding.status == "open"
    # the AR platform catches up: the finding resolves
    write(
        store,
        "invoiced",
        "invoices",
        [("i9", {"customer": "c1", "number": "INV-01001", "total": "100.00", "balance": "100.00"})],
    )
    with store.session() as s:
        assert s.exec(select(DriftFinding)).one().status == "resolved"


def test_unchanged_records_write_nothing(store: Store) -> None:
    seed_two_systems(store)
    counts = write(
        store,
        "quickbooks",
        "invoices",
        [("130", {"customer": "58", "number": "1001", "total": "100.00", "balance": "100.00"})],
    )
    assert counts.unchanged == 1 and counts.writes == 0


def test_delete_is_recorded_not_dropped(store: Store) -> None:
    seed_two_systems(store)
    counts = write(store, "quickbooks", "invoices", [("130", {"id": "130"})], deleted=True)
    assert counts.deleted == 1
    with store.session() as s:
        invoice = s.exec(select(Invoice)).one()
        ref = s.exec(select(ExternalRef).where(col(ExternalRef.remote_id) == "130")).one()
    assert invoice.status == "deleted" and ref.deleted


def test_bad_record_is_quarantined_and_the_page_goes_on(store: Store) -> None:
    seed_two_systems(store)
    counts = write(
        store,
        "quickbooks",
        "invoices",
        [
            ("131", {"customer": "58", "number": "1002", "total": "garbage", "balance": "1"}),
            ("132", {"customer": "58", "number": "1003", "total": "5.00", "balance": "5.00"}),
        ],
    )
    assert counts.quarantined == 1 and counts.created == 1
    with store.session() as s:
        row = s.exec(select(Quarantine)).one()
    assert row.reason == "quickbooks invoices 131: field 'total': not a number: 'garbage'"
    # the same bad record again is not a new write
    again = write(
        store,
        "quickbooks",
        "invoices",
        [("131", {"customer": "58", "number": "1002", "total": "garbage", "balance": "1"})],
    )
    assert again.writes == 0


def test_payment_applications_split_credit_lines(store: Store) -> None:
    seed_two_systems(store)
    write(
        store,
        "quickbooks",
        "payments",
        [
            (
                "p1",
                {
                    "customer": "58",
                    "amount": "70.00",
                    "applied": [
                        ("invoice", "130", "100.00"),
                        ("credit_memo", "cm-unknown", "30.00"),
                    ],
                },
            )
        ],
    )
    with store.session() as s:
        apps = s.exec(select(Application)).all()
    # the credit pays first even without a stored memo: only the 70.00 of cash is cash
    assert [(a.kind, a.amount) for a in apps] == [("payment", Money("70.00", "USD"))]


def test_credit_from_an_unsynced_transaction_is_never_counted_as_cash(store: Store) -> None:
    seed_two_systems(store)
    write(
        store,
        "quickbooks",
        "payments",
        [
            (
                "p2",
                {
                    "customer": "58",
                    "amount": "0.00",
                    "applied": [
                        ("invoice", "130", "40.00"),
                        ("credit", "JournalEntry:88", "40.00"),
                    ],
                },
            )
        ],
    )
    with store.session() as s:
        assert s.exec(select(Application)).all() == []


def test_similar_names_are_candidates_never_silent_links(store: Store) -> None:
    write(store, "quickbooks", "customers", [("1", {"name": "Northwind Traders"})])
    write(store, "salesforce", "customers", [("a1", {"name": "Northwind Tradres"})])
    with store.session() as s:
        assert len(s.exec(select(Customer)).all()) == 2
        candidate = s.exec(select(IdentityCandidate)).one()
    assert candidate.score >= 88 and candidate.status == "pending"


def test_one_systems_own_customers_are_never_candidates_of_each_other(store: Store) -> None:
    write(store, "quickbooks", "customers", [("1", {"name": "Northwind Traders"})])
    write(store, "quickbooks", "customers", [("2", {"name": "Northwind Tradres"})])
    write(store, "salesforce", "customers", [("a1", {"name": "Northwind Trader"})])
    with store.session() as s:
        candidates = s.exec(select(IdentityCandidate)).all()
        by_id = {c.id: c.name for c in s.exec(select(Customer)).all()}
    # the two QuickBooks records are two customers there; the Salesforce one may be either
    assert sorted(by_id[c.candidate_id] for c in candidates) == [
        "Northwind Traders",
        "Northwind Tradres",
    ]
    assert {by_id[c.canonical_id] for c in candidates} == {"Northwind Trader"}


def test_a_customer_whose_record_here_is_deleted_is_still_a_candidate(store: Store) -> None:
    write(store, "quickbooks", "customers", [("58", {"name": "Northwind Tradres"})])
    write(store, "invoiced", "customers", [("c1", {"name": "Northwind Tradres"})])
    write(store, "quickbooks", "customers", [("58", {"name": "Northwind Tradres"})], deleted=True)
    write(store, "quickbooks", "customers", [("77", {"name": "Northwind Traders"})])
    with store.session() as s:
        candidates = s.exec(select(IdentityCandidate)).all()
    assert len(candidates) == 1 and candidates[0].score >= 88
