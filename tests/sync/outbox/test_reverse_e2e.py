"""End to end against the sandboxes: a payment is applied and pushed, the bank returns it, a
person reverses it (``arsync resolve ID --by ... --reverse``), and the push voids the payment
in every system: the invoices are open again in arsync and, after a pull, in each system."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest
from sqlalchemy import select
from sqlmodel import col
from typer.testing import CliRunner

from canonical.enums import CommandStatus
from canonical.models import Decision, ExternalRef, Invoice, OutboxCommand, Remittance
from connectors.intacct import IntacctSandbox
from connectors.invoiced import InvoicedSandbox
from connectors.sandbox.world import World
from sync.cli import app
from sync.demo_cash import write_return, written_everywhere
from sync.ingest import ingest_files
from sync.sandboxes import SandboxFleet, running_sandboxes
from tests.support.pipeline import decide, open_runtime, write_toml

pytestmark = pytest.mark.timeout(300)
PAYMENT_SYSTEMS = ("quickbooks", "invoiced", "intacct")


@pytest.fixture(scope="module")
def fleet() -> Iterator[SandboxFleet]:
    with running_sandboxes(World.generate(seed=5, customers=20, invoices=120)) as running:
        yield running


def test_a_returned_payment_is_voided_everywhere_once_a_person_reverses_it(
    fleet: SandboxFleet, tmp_path: Path
) -> None:
    db = tmp_path / "a.db"
    systems = [*PAYMENT_SYSTEMS, "salesforce"]
    runtime = open_runtime(fleet, db, push={"systems": systems})
    try:
        decide(runtime, tmp_path)
        assert runtime.push().ok
        cash, pushed = written_everywhere(runtime.store, set(PAYMENT_SYSTEMS))
        with runtime.store.session() as s:
            # what each invoice owes once the payment is undone (a deduction stays written off)
            totals = {
                line["invoice_id"]: s.get(Invoice, line["invoice_id"]).balance_minor  # type: ignore[union-attr]
                + line["amount_minor"]
                for line in pushed[0].payload["lines"]
            }
        assert all(r.error is None for r in runtime.sync())  # as `arsync run` does first
        returned = write_return(tmp_path / "return.camt053.xml", cash)
        ingest_files(runtime.store, [returned])
        runtime.reconcile()
        with runtime.store.session() as s:
            back = s.execute(
                select(Remittance).where(col(Remittance.reverses) == cash.bank_reference)
            ).scalar_one()
            exception = s.execute(
                select(Decision).where(
                    col(Decision.source_id) == back.id, col(Decision.superseded).is_(False)
                )
            ).scalar_one()
        assert (exception.exception_kind, exception.rule) == ("returned_payment", "reversal")
    finally:
        runtime.close()

    config = str(write_toml(fleet, db, tmp_path / "arsync.toml", push={"systems": systems}))
    runner = CliRunner()
    done = runner.invoke(
        app, ["resolve", exception.id, "--by", "person:ana", "--reverse", "--config", config]
    )
    assert done.exit_code == 0, done.output
    assert "reversed by person:ana" in done.output
    again = runner.invoke(
        app, ["resolve", exception.id, "--by", "person:ana", "--reverse", "--config", config]
    )
    assert again.exit_code == 1 and "not an open reversal exception" in again.output

    runtime = open_runtime(fleet, db, push={"systems": systems})
    try:
        with runtime.store.session() as s:
            for invoice_id, total in totals.items():
                assert s.get(Invoice, invoice_id).balance_minor == total  # type: ignore[union-attr]
        writes_before = {name: server.writes for name, server in fleet.servers.items()}
        summary = runtime.push()
        assert summary.ok
        with runtime.store.session() as s:
            voids = {
                c.system: c
                for c in s.execute(
                    select(OutboxCommand).where(col(OutboxCommand.operation) == "void_cash")
                ).scalars()
            }
        assert set(voids) == set(PAYMENT_SYSTEMS)
        assert all(c.status == CommandStatus.CONFIRMED for c in voids.values())
        assert all(s.dead == s.conflicts == 0 for s in summary.systems.values())
        for system in PAYMENT_SYSTEMS:
            assert fleet.servers[system].writes == writes_before[system] + 1, system
        remote = {c.system: str(c.remote_id) for c in pushed}
        assert _qbo_voided(fleet, remote["quickbooks"])
        invoiced = cast(InvoicedSandbox, fleet.servers["invoiced"])
        assert invoiced.record("payments", remote["invoiced"])["voided"]
        intacct = cast(IntacctSandbox, fleet.servers["intacct"])
        assert intacct.records["ARPYMT"][remote["intacct"]]["STATE"] == "Reversed"

        # a second push writes nothing; a pull shows the invoices open in every system
        assert runtime.push().written == 0
        assert all(r.error is None for r in runtime.sync())
        with runtime.store.session() as s:
            for invoice_id, total in totals.items():
                assert s.get(Invoice, invoice_id).balance_minor == total  # type: ignore[union-attr]
                views = {
                    system: int(values["balance_minor"])
                    for system, values in s.execute(
                        select(col(ExternalRef.system), col(ExternalRef.values)).where(
                            col(ExternalRef.canonical_type) == "invoice",
                            col(ExternalRef.canonical_id) == invoice_id,
                            col(ExternalRef.deleted).is_(False),
                        )
                    )
                    if values.get("balance_minor") is not None
                }
                for system in PAYMENT_SYSTEMS:
                    assert views.get(system) == total, (system, views)
    finally:
        runtime.close()


def _qbo_voided(fleet: SandboxFleet, payment_id: str) -> bool:
    record = fleet.servers["quickbooks"].records["Payment"][payment_id]  # type: ignore[attr-defined]
    return str(record["PrivateNote"]).startswith("Voided") and record["TotalAmt"] == 0
