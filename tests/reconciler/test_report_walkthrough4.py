"""A fourth finance-ops walk through the report: a drift row points to arsync's waiting writes
(and says not to change the value by hand) only when they close the difference; one that was
there before them keeps its change by hand, counting what the writes will still apply, and
lists them; a write whose payment was reversed is only looked for; a payment several returns
took back says one amount kept; the report reads only the writes of the drifting records."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select, update
from sqlmodel import col

import reconciler.report
from canonical.bulk import insert_rows
from canonical.enums import CommandStatus
from canonical.ids import new_id
from canonical.models import OutboxCommand, Remittance
from canonical.money import Money
from canonical.store import Store
from canonical.types import utcnow
from reconciler import reconcile
from reconciler.dismiss import dismiss
from reconciler.report import build_report, write_report
from reconciler.reverse import reverse
from sync.outbox.plan import OutboxPlanner
from tests.reconciler.test_report_walkthrough3 import (
    INVOICED_1001,
    QBO_1001,
    _adds_up,
    _commands,
    _paid_in_arsync,
    _pay,
)
from tests.reconciler.test_reverse import returned
from tests.support.pull import seed_two_systems, write
from tests.support.receivables import Book, decision

BOTH = ["quickbooks", "invoiced"]


def _balance(report: dict[str, Any]) -> dict[str, Any]:
    [finding] = [d for d in report["drift"] if d["field"] == "balance"]
    return finding


# 1. a difference the waiting writes do not close ------------------------------------------


def test_drift_there_before_the_writes_keeps_its_change_by_hand(sqlite_store: Store) -> None:
    """Invoice 1001 is 100.00 in QuickBooks and 99.00 in Invoiced before anything is decided;
    a 100.00 payment is applied and a write planned to each. Once both land QuickBooks shows
    0.00 and Invoiced -1.00: the writes do not close the difference, so the row keeps its
    change by hand and lists them."""
    seed_two_systems(sqlite_store)
    write(sqlite_store, "invoiced", "invoices", [("i9", {**INVOICED_1001, "balance": "99.00"})])
    _pay(sqlite_store, 10000, "INVOICE 1001")
    reconcile(sqlite_store, sink=OutboxPlanner("default", BOTH))
    finding = _balance(build_report(sqlite_store))
    assert finding["values"] == {"invoiced": "99.00 USD", "quickbooks": "100.00 USD"}
    step = finding["next"]
    assert "do not change it by hand" not in step
    assert "Change balance of invoice 1001 to 100.00 USD in invoiced" in step
    assert "do not close this difference: once they land" in step
    assert finding["change_in"] == ["invoiced"]
    assert {(w["system"], w["status"]) for w in finding["waiting_writes"]} == {
        ("quickbooks", "pending"),
        ("invoiced", "pending"),
    }
    assert finding["after_writes"] == {"invoiced": "-1.00 USD", "quickbooks": "0.00 USD"}

    # pushed: QuickBooks took it (0.00), Invoiced's write is a conflict (99.00 still)
    _commands(sqlite_store, "quickbooks", CommandStatus.CONFIRMED)
    parked = _commands(sqlite_store, "invoiced", CommandStatus.CONFLICT)
    paid = {**QBO_1001, "balance": "0.00", "status": "paid"}
    write(sqlite_store, "quickbooks", "invoices", [("130", paid)])
    report = build_report(sqlite_store)
    finding = _balance(report)
    assert finding["values"] == {"invoiced": "99.00 USD", "quickbooks": "0.00 USD"}
    step = finding["next"]
    # set to 0.00 by hand, the retried write would take another 100.00 off it
    assert "to 0.00 USD in invoiced" not in step and "do not change it by hand" not in step
    assert "Change balance of invoice 1001 to 100.00 USD in invoiced" in step
    assert f"in invoiced first (as above), then `arsync outbox retry {parked}`" in step
    [status] = [d for d in report["drift"] if d["field"] == "status"]
    assert status["values"] == {"invoiced": "open", "quickbooks": "paid"}
    assert "do not change it by hand" not in status["next"]
    assert "Change status of invoice 1001 to paid in invoiced" in status["next"]
    assert f"balance finding), then `arsync outbox retry {parked}`" in status["next"]
    assert [w["command_id"] for w in status["waiting_writes"]] == [parked]


def test_a_status_the_waiting_write_sets_points_to_that_write(sqlite_store: Store) -> None:
    """QuickBooks took the payment (paid, 0.00); Invoiced's write, parked as a conflict, would
    take its 100.00 to 0.00 and so set it paid: both rows point to the write."""
    _paid_in_arsync(sqlite_store)
    _commands(sqlite_store, "quickbooks", CommandStatus.CONFIRMED)
    parked = _commands(sqlite_store, "invoiced", CommandStatus.CONFLICT)
    paid = {**QBO_1001, "balance": "0.00", "status": "paid"}
    write(sqlite_store, "quickbooks", "invoices", [("130", paid)])
    report = build_report(sqlite_store)
    for finding in report["drift"]:
        assert finding["field"] in ("balance", "status")
        assert "do not change it by hand in invoiced" in finding["next"], finding["field"]
        assert f"`arsync outbox retry {parked}`" in finding["next"]
        assert finding["change_in"] == []
    [status] = [d for d in report["drift"] if d["field"] == "status"]
    assert status["after_writes"] == {"invoiced": "paid", "quickbooks": "paid"}


# 2. a write whose payment a person reversed ----------------------------------------------------


def test_a_reversed_write_is_said_to_be_only_looked_for(sqlite_store: Store) -> None:
    """Invoiced's apply_cash was sent, its reply lost; the bank took the payment back and a
    person reversed it. The push only looks for that write (never sends it again); the void
    undoes it if it landed."""
    _paid_in_arsync(sqlite_store)
    _commands(sqlite_store, "quickbooks", CommandStatus.CONFIRMED)
    lost = _commands(sqlite_store, "invoiced", CommandStatus.SENT)
    with sqlite_store.session() as s:
        s.execute(
            update(OutboxCommand)
            .where(col(OutboxCommand.id) == lost)
            .values(attempts=1, sent_at=utcnow())
        )
        [pay] = s.execute(select(Remittance)).scalars().all()
        paid_by = pay.id
    back = returned(sqlite_store, paid_by, "100.00")
    sink = OutboxPlanner("default", BOTH)
    reconcile(sqlite_store, sink=sink)
    reverse(sqlite_store, decision(sqlite_store, back).id, by="person:ana", sink=sink)
    write(sqlite_store, "quickbooks", "invoices", [("130", {**QBO_1001, "balance": "0.00"})])
    write(sqlite_store, "invoiced", "invoices", [("i9", INVOICED_1001)])
    finding = _balance(build_report(sqlite_store))
    step = finding["next"]
    said = step.split(f"{lost} (")[1].split("; write ")[0]
    assert "sends it again" not in said
    assert "never sent again, only looked for in invoiced" in said
    writes = {w["command_id"]: w for w in finding["waiting_writes"]}
    assert writes[lost]["reversed_by"]
    [void] = [w for w in writes.values() if w["undoes"] == lost]
    assert void["command_id"] in said
    # the lost write may be in Invoiced already: what the writes leave cannot be told, so no
    # value is given to set by hand
    assert finding["after_writes"] is None and finding["change_in"] == []
    assert "do not change its balance by hand yet" in step
    assert (
        "Then `arsync sync --system invoiced` and `arsync sync --system quickbooks` and read "
        "this report again" in step
    )


def test_a_write_sent_whose_reply_was_lost_gives_no_value_to_set_by_hand(
    sqlite_store: Store,
) -> None:
    """QuickBooks' apply_cash was sent and landed, its reply lost (still sent): QuickBooks shows
    0.00; Invoiced's write waits and it shows 100.00. Counting the lost write again would
    have said to set Invoiced to 0.00, and its own write would then take 100.00 more off."""
    _paid_in_arsync(sqlite_store)
    lost = _commands(sqlite_store, "quickbooks", CommandStatus.SENT)
    with sqlite_store.session() as s:
        s.execute(
            update(OutboxCommand)
            .where(col(OutboxCommand.id) == lost)
            .values(attempts=1, sent_at=utcnow())
        )
    _commands(sqlite_store, "invoiced", CommandStatus.PENDING)
    write(
        sqlite_store,
        "quickbooks",
        "invoices",
        [("130", {**QBO_1001, "balance": "0.00", "status": "paid"})],
    )
    for finding in build_report(sqlite_store)["drift"]:
        if finding["number"] != "1001":
            continue
        assert finding["change_in"] == [], finding
        assert "Change " not in finding["next"], finding["next"]
        assert "do not change" in finding["next"]


# 3. several returns of one payment -------------------------------------------------------------


def _return(store: Store, original: str, amount: str, key: str) -> str:
    with store.session() as s:
        cash = s.get(Remittance, original)
        assert cash is not None
        r = Remittance(
            source="nacha",
            source_key=key,
            currency="USD",
            amount_minor=-Money(amount, "USD").minor,
            value_date=date(2026, 11, 9),
            payer_name="Acme Corp",
            free_text="R01 insufficient funds",
            reverses=cash.source_key,
        )
        s.add(r)
    return r.id


def _advance_returned_twice(store: Store) -> tuple[str, str, str]:
    """Acme's 4250.00 pays no invoice; the bank takes back 1000.00, then 500.00 of it."""
    book = Book(store)
    book.invoice(book.customer("Acme Corp"), "1001", "9000.00")
    cash = book.pay("4250.00", payer="ACME CORP", text="ADVANCE")
    reconcile(store)
    first = _return(store, cash, "1000.00", "ra")
    reconcile(store)
    second = _return(store, cash, "500.00", "rb")
    reconcile(store)
    return cash, first, second


def _kept_item(report: dict[str, Any], cash: str) -> dict[str, Any]:
    [item] = [i for c in report["unapplied_cash"]["customers"] for i in c["items"]]
    assert item["remittance_id"] == cash and item["reason"] == "returned_in_part"
    return item


def test_two_dismissed_returns_of_one_payment_say_one_amount_kept(
    sqlite_store: Store, tmp_path: Path
) -> None:
    cash, first, second = _advance_returned_twice(sqlite_store)
    for back in (first, second):
        dismiss(sqlite_store, decision(sqlite_store, back).id, by="person:ana", reason="R01")
    report = build_report(sqlite_store)
    item = _kept_item(report, cash)
    for text in (item["why"], item["next"]):
        assert "2750.00 USD kept" in text and "3750.00" not in text
    assert first in item["why"] and second in item["why"]
    assert "took back 1500.00 USD of its 4250.00 USD" in item["why"]
    assert "(its returns are closed already)" in item["next"]
    said = {d["remittance_id"]: d["took_back"] for d in report["dismissed"]}
    assert ": 2750.00 USD kept" in said[first] and ": 2750.00 USD kept" in said[second]
    assert "1500.00 USD in all, by 2 returns" in said[first]
    assert report["totals"]["cash"]["USD"]["dismissed"]["amount"] == "-1500.00"
    _adds_up(report, write_report(report, "csv", tmp_path / "r.csv"))


def test_an_open_and_a_dismissed_return_say_one_amount_kept(
    sqlite_store: Store, tmp_path: Path
) -> None:
    cash, first, second = _advance_returned_twice(sqlite_store)
    dismiss(sqlite_store, decision(sqlite_store, second).id, by="person:ana", reason="R01")
    report = build_report(sqlite_store)
    item = _kept_item(report, cash)
    assert item["unapplied"]["amount"] == "3250.00"  # the open return nets its 1000.00
    for text in (item["why"], item["next"]):
        assert "2750.00 USD kept" in text and "3250.00 USD left" not in text
    assert first in item["why"] and second in item["why"]
    open_return = decision(sqlite_store, first).id
    assert f"the return with `arsync resolve {open_return} --by person:NAME" in item["next"]
    assert decision(sqlite_store, second).id not in item["next"]
    assert first in item["resolve"] and second in item["resolve"]
    [took] = [d["took_back"] for d in report["dismissed"]]
    assert ": 2750.00 USD kept" in took
    _adds_up(report, write_report(report, "csv", tmp_path / "r.csv"))


# 4. what the report reads ----------------------------------------------------------------------


def test_the_report_reads_only_the_writes_of_the_drifting_records(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """500 writes of other payments wait for other invoices: the report reads none of them
    to find what waits to change invoice 1001."""
    _paid_in_arsync(sqlite_store)
    _commands(sqlite_store, "quickbooks", CommandStatus.CONFIRMED)
    parked = _commands(sqlite_store, "invoiced", CommandStatus.CONFLICT)
    write(sqlite_store, "quickbooks", "invoices", [("130", {**QBO_1001, "balance": "0.00"})])
    with sqlite_store.session() as s:
        proto = s.get(OutboxCommand, parked)
        assert proto is not None
        now = utcnow()
        others = [
            {
                **{k: getattr(proto, k) for k in OutboxCommand.model_fields},
                "id": new_id(),
                "canonical_id": new_id(),
                "idempotency_key": f"other-{n}",
                "status": CommandStatus.PENDING,
                "payload": {
                    **proto.payload,
                    "lines": [{"invoice_id": new_id(), "amount_minor": 100}],
                },
                "created_at": now,
                "updated_at": now,
            }
            for n in range(500)
        ]
        insert_rows(s, OutboxCommand.__table__, others)  # type: ignore[attr-defined]
    read: list[str] = []
    monkeypatch.setattr(
        reconciler.report,
        "select_in",
        _counting(reconciler.report.select_in, read),
    )

    def loaded(target: OutboxCommand, _: Any) -> None:
        read.append(target.id)

    event.listen(OutboxCommand, "load", loaded)
    try:
        finding = _balance(build_report(sqlite_store))
    finally:
        event.remove(OutboxCommand, "load", loaded)
    assert [w["command_id"] for w in finding["waiting_writes"]] == [parked]
    assert len(set(read)) < 10, len(set(read))


def _counting(select_in: Any, read: list[str]) -> Any:
    def counted(session: Any, table: Any, names: Any, **kw: Any) -> list[Any]:
        rows = select_in(session, table, names, **kw)
        if table.name == OutboxCommand.__tablename__:
            read.extend(row.id for row in rows)
        return list(rows)

    return counted
