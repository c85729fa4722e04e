"""An ingest and a reconcile changing the same remittance at once, on both backends.

A reconcile takes a lease, an ingest does not: a camt.054 detailing a camt.053 entry may come
while a reconcile decides that entry. Whichever of the two writes second sees the other: the
reconcile's batch is not written for an entry the ingest replaced (decided again next run),
and the ingest leaves in place an entry the reconcile decided (a warning names it). The
interleavings are made deterministic by running the other side at the point where the race
would happen, on another connection, in the same thread.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

import reconciler.apply as apply_module
import reconciler.engine as engine_module
import sync.ingest as ingest_module
from canonical.keys import name_key
from canonical.models import Application, Customer, Decision, Invoice, Remittance
from canonical.store import Store
from reconciler.engine import reconcile
from reconciler.report import build_report
from sync.ingest import ingest_files
from tests.support.receivables import applied
from tests.sync.test_ingest_corrected_detail import NACHA as NACHA_FILE
from tests.sync.test_ingest_corrected_detail import _bad_nacha, _globex, _write
from tests.sync.test_ingest_reassociation import assert_counted_once, bai2, cash, edi, initech

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bankfiles"
# three credits booked without their details; the camt.054 details the first
# (AcctSvcrRef ...0001, 1250.00 CHF from Brunner Kaelte AG, "RECHNUNG 30112")
DETAILS = FIXTURES / "camt054_v08_single_details.xml"
ENTRY = "20261207000400123400000001"
DETAILED = "261207CH0A1B2C3D"


@pytest.fixture
def statement(tmp_path: Path) -> Path:
    """The camt.053, its first entry naming the invoice in its entry text: applied alone."""
    path = tmp_path / "stmt.camt053.xml"
    text = (FIXTURES / "camt053_v08_single_entries.xml").read_text()
    path.write_text(
        text.replace(
            "<AddtlNtryInf>GUTSCHRIFT</AddtlNtryInf>",
            "<AddtlNtryInf>RECHNUNG 30112 BRUNNER KAELTE AG</AddtlNtryInf>",
            1,
        )
    )
    return path


def _books(store: Store) -> None:
    with store.session() as s:
        customer = Customer(
            name="Brunner Kaelte AG",
            name_key=name_key("Brunner Kaelte AG"),
            number="C-1",
            currency="CHF",
        )
        s.add(customer)
        s.flush()
        s.add(
            Invoice(
                customer_id=customer.id,
                number="30112",
                number_key="30112",
                currency="CHF",
                total_minor=125000,
                balance_minor=125000,
                issue_date=date(2026, 11, 1),
                due_date=date(2026, 12, 31),
            )
        )


def _entry_id(store: Store) -> str:
    with store.session() as s:
        return s.exec(select(Remittance.id).where(Remittance.bank_reference == ENTRY)).one()


def _before_flush(monkeypatch: pytest.MonkeyPatch, meanwhile: Callable[[], object]) -> list[bool]:
    """Run ``meanwhile`` once, when a reconcile batch has decided and not yet written."""
    real = apply_module.Writes.flush
    ran: list[bool] = []

    def flush(self: apply_module.Writes, session: Any) -> None:
        if self.decisions and not ran:
            ran.append(True)
            meanwhile()
        real(self, session)

    monkeypatch.setattr(apply_module.Writes, "flush", flush)
    return ran


def _no_application_without_its_source(store: Store) -> list[Application]:
    with store.session() as s:
        ids = set(s.exec(select(Remittance.id)).all())
        applications = list(s.exec(select(Application)).all())
        decisions = s.exec(select(Decision).where(Decision.superseded == False)).all()  # noqa: E712
    assert all(a.source_id in ids for a in applications)
    assert all(d.source_id in ids for d in decisions)
    return applications


def test_an_entry_replaced_while_a_reconcile_decides_it_is_not_applied_then_its_details_are(
    store: Store, statement: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _books(store)
    assert ingest_files(store, [statement]).new == 3
    entry = _entry_id(store)
    ingested: list[Any] = []
    ran = _before_flush(monkeypatch, lambda: ingested.extend(ingest_files(store, [DETAILS]).files))

    first = reconcile(store)

    assert ran and ingested[0].new == 2 and ingested[0].warnings == []
    # nothing of the batch deciding the entry was written; the run says why and stops
    assert list(first.changed) == [entry]
    assert "removed" in first.changed[entry]
    assert (first.remittances, first.auto_applied) == (0, 0)
    assert "stopped early" in str(first)
    with store.session() as s:
        assert s.exec(select(Decision)).all() == []
        assert s.exec(select(Invoice.balance_minor)).one() == 125000
        assert s.get(Remittance, entry) is None
    monkeypatch.undo()

    second = reconcile(store)

    assert second.changed == {}
    [application] = _no_application_without_its_source(store)
    with store.session() as s:
        detailed = s.exec(select(Remittance).where(Remittance.bank_reference == DETAILED)).one()
        assert (application.source_id, application.amount_minor) == (detailed.id, 125000)
        assert detailed.status == "auto_applied"
        assert s.exec(select(Invoice.balance_minor)).one() == 0
    cash = build_report(store)["totals"]["cash"]["CHF"]
    assert (cash["received"]["amount"], cash["applied"]["amount"]) == ("3460.00", "1250.00")


def test_batches_written_before_the_change_stand_and_the_rest_are_decided_next_run(
    store: Store, statement: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _books(store)
    ingest_files(store, [statement])
    entry = _entry_id(store)
    monkeypatch.setattr(engine_module, "BATCH", 1)
    real = apply_module.Writes.flush
    written: list[set[str]] = []

    def flush(self: apply_module.Writes, session: Any) -> None:
        deciding = {d["source_id"] for d in self.decisions}
        if entry in deciding:
            ingest_files(store, [DETAILS])
        real(self, session)
        written.append(deciding)

    monkeypatch.setattr(apply_module.Writes, "flush", flush)
    first = reconcile(store)
    monkeypatch.undo()

    assert entry in first.changed
    with store.session() as s:
        decided = set(s.exec(select(Decision.source_id)).all())
    assert decided == set().union(*written)  # each batch written before the entry's stands
    assert entry not in decided
    reconcile(store)
    _no_application_without_its_source(store)
    with store.session() as s:
        standing = s.exec(select(Decision.source_id).where(Decision.superseded == False)).all()  # noqa: E712
        undecided = s.exec(select(Remittance.id).where(Remittance.status == "new")).all()
    assert undecided == [] and len(standing) == len(set(standing)) == 4


def test_the_details_of_an_entry_decided_while_they_were_ingested_leave_it_in_place(
    store: Store, statement: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _books(store)
    ingest_files(store, [statement])
    entry = _entry_id(store)
    real = ingest_module._decided
    ran: list[Any] = []

    def decided(*args: Any, **kwargs: Any) -> set[str]:
        found = real(*args, **kwargs)  # read before the reconcile writes: undecided
        if not ran:
            ran.append(reconcile(store))
        return found

    monkeypatch.setattr(ingest_module, "_decided", decided)
    [outcome] = ingest_files(store, [DETAILS]).files

    assert ran[0].auto_applied == 1
    assert (outcome.new, outcome.duplicate, outcome.rejected) == (1, 1, 0)
    [warning] = outcome.warnings
    assert warning.reason == (
        f"the transaction of entry {ENTRY} (1250.00 CHF, stored from stmt.camt053.xml as one "
        "amount) comes after the reconciler decided it: it is not stored, the entry stays "
        "(check it)"
    )
    [application] = _no_application_without_its_source(store)
    assert application.source_id == entry
    with store.session() as s:
        assert (
            s.exec(select(Remittance.id).where(Remittance.bank_reference == DETAILED)).all() == []
        )
        assert s.get(Remittance, entry).status == "auto_applied"  # type: ignore[union-attr]


# -- an 820 and the bank's record of its cash (see test_ingest_reassociation) -------------------


def test_a_bank_credit_whose_820_was_applied_while_it_was_ingested_is_not_cash_again(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    initech(store)
    ingest_files(store, [edi(tmp_path)])
    [remit] = cash(store)
    real = ingest_module._decided
    ran: list[Any] = []

    def decided(*args: Any, **kwargs: Any) -> set[str]:
        found = real(*args, **kwargs)  # the 820 read undecided
        if not ran:
            ran.append(reconcile(store))
        return found

    monkeypatch.setattr(ingest_module, "_decided", decided)
    report = ingest_files(store, [bai2(tmp_path)])

    assert ran[0].auto_applied == 1
    assert (report.new, report.duplicate) == (0, 1)
    [warning] = report.warnings
    assert remit.id in warning.reason and "already decided (auto_applied)" in warning.reason
    assert [(r.id, r.status) for r in cash(store)] == [(remit.id, "auto_applied")]
    assert applied(store, remit.id) == {"INV-1010": "500.00", "INV-1011": "437.50"}
    monkeypatch.undo()
    assert reconcile(store).remittances == 0


def test_an_820_made_advice_while_a_reconcile_decides_it_is_not_applied_as_cash(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    initech(store)
    ingest_files(store, [edi(tmp_path)])
    [remit] = cash(store)
    ran = _before_flush(monkeypatch, lambda: ingest_files(store, [bai2(tmp_path)]))

    first = reconcile(store)

    assert ran and list(first.changed) == [remit.id]
    assert "now advice" in first.changed[remit.id]
    monkeypatch.undo()
    assert (reconcile(store).auto_applied, reconcile(store).remittances) == (1, 0)
    assert_counted_once(store, "bai2")
    _no_application_without_its_source(store)


# -- a stored credit taking the detail a corrected file states -----------------------------------


def test_a_credit_decided_while_its_corrected_detail_is_ingested_keeps_its_decision(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest_files(store, [_bad_nacha(tmp_path)])
    kept = _globex(store)
    real = ingest_module._standing_decisions
    ran: list[Any] = []

    def standing(*args: Any, **kwargs: Any) -> dict[str, Decision]:
        found = real(*args, **kwargs)  # read undecided
        if not ran:
            ran.append(reconcile(store))  # no customer known: an exception
        return found

    monkeypatch.setattr(ingest_module, "_standing_decisions", standing)
    corrected = ingest_files(store, [_write(tmp_path, "day_corrected.ach", NACHA_FILE)])

    assert ran[0].remittances == 3
    assert corrected.detailed == 0
    [warning] = corrected.warnings
    assert "was decided meanwhile" in warning.reason
    row = _globex(store)
    assert row.id == kept.id
    assert (row.structured_refs, row.source_file, row.status) == ([], "day.ach", "exception")
