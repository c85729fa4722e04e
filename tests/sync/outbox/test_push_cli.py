"""The push commands as a finance-ops person uses them: run, push --dry-run, outbox."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlmodel import col
from typer.testing import CliRunner

from canonical.enums import CommandStatus
from canonical.models import OutboxCommand
from canonical.store import Store
from connectors.sandbox.bankfiles import write_camt054
from connectors.sandbox.world import World
from sync.cli import app
from sync.demo_cash import BANK_ACCOUNT, sample_payments
from sync.sandboxes import SandboxFleet, running_sandboxes
from sync.tokens import StoredTokens
from tests.support.pipeline import write_toml

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def fleet() -> Iterator[SandboxFleet]:
    with running_sandboxes(World.generate(seed=3, customers=25, invoices=160)) as running:
        yield running


def test_run_dry_run_and_outbox_commands(fleet: SandboxFleet, tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    config = str(write_toml(fleet, db, tmp_path / "arsync.toml"))
    runner = CliRunner()
    seeding = Store.open(f"sqlite:///{db}")
    for system, tokens in fleet.initial_tokens().items():  # a first refresh token, as set up
        StoredTokens(seeding, system, "default").seed(tokens)
    seeding.dispose()
    assert runner.invoke(app, ["sync", "--config", config]).exit_code == 0
    store = Store.open(f"sqlite:///{db}")
    bank = tmp_path / "bank.xml"
    write_camt054(
        bank,
        sample_payments(store),
        account_iban=BANK_ACCOUNT,
        message_id="CLI",
        created=datetime.now(UTC),
    )
    assert runner.invoke(app, ["ingest", str(bank), "--config", config]).exit_code == 0
    assert runner.invoke(app, ["reconcile", "--config", config]).exit_code == 0

    dry = runner.invoke(app, ["push", "--dry-run", "--system", "quickbooks", "--config", config])
    assert dry.exit_code == 0, dry.output
    assert "== quickbooks:" in dry.output and "writes planned" in dry.output
    assert "balance" in dry.output and "->" in dry.output
    with store.session() as s:
        states = set(s.execute(select(col(OutboxCommand.status))).scalars())
    assert states == {CommandStatus.PENDING}  # the dry run changed nothing

    ran = runner.invoke(app, ["run", "--config", config])
    with store.session() as s:
        done = s.execute(select(OutboxCommand)).scalars().all()
        assert {c.status for c in done} <= {CommandStatus.CONFIRMED, CommandStatus.CONFLICT}
    # a conflict needs a person: the run says so by its exit code, as push does
    conflicted = any(c.status == CommandStatus.CONFLICT for c in done)
    assert ran.exit_code == (1 if conflicted else 0), ran.output
    with store.session() as s:
        done = s.execute(select(OutboxCommand)).scalars().all()
        sent = next(c for c in done if c.status == CommandStatus.CONFIRMED)
        victim, never_sent = sent.id, next(c.id for c in done if c.id != sent.id)
        victim_remote = sent.remote_id
        s.execute(  # as a command whose replies were lost (it landed) until it died
            update(OutboxCommand)
            .where(col(OutboxCommand.id) == victim)
            .values(
                status=CommandStatus.DEAD,
                result={},
                remote_id=None,
                last_error="quickbooks: refused (test)",
            )
        )
        s.execute(  # as a command refused before it was ever sent
            update(OutboxCommand)
            .where(col(OutboxCommand.id) == never_sent)
            .values(
                status=CommandStatus.DEAD,
                attempts=0,
                sent_at=None,
                result={},
                remote_id=None,
                last_error="quickbooks: no record",
            )
        )
    listed = runner.invoke(app, ["outbox", "--config", config])
    assert listed.exit_code == 0 and victim in listed.output
    assert "refused" in listed.output and "(test)" in listed.output  # folded in a narrow table
    # dead after it was sent: it may have landed, so it is not cancelled but retried
    landed = runner.invoke(app, ["outbox", "cancel", victim, "--config", config])
    said = " ".join(landed.output.split())
    assert landed.exit_code == 1 and f"command {victim} (" in said
    assert "dead) cannot be cancelled: it was sent to" in said
    assert f"run `arsync outbox retry {victim}`, which looks for it" in said
    retried = runner.invoke(app, ["outbox", "retry", victim, "--config", config])
    assert retried.exit_code == 0 and "1 command(s)" in retried.output
    # it was sent before: it may have landed, so it is looked for before anything is resent,
    # and it cannot be cancelled meanwhile
    kept = runner.invoke(app, ["outbox", "cancel", victim, "--config", config])
    assert kept.exit_code == 1 and "is sent" in kept.output
    cancelled = runner.invoke(app, ["outbox", "cancel", never_sent, "--config", config])
    assert cancelled.exit_code == 0
    refused = runner.invoke(app, ["outbox", "cancel", "nope", "--config", config])
    assert refused.exit_code == 1 and "no outbox command" in refused.output
    again = runner.invoke(app, ["run", "--config", config])
    # a conflict parked by the first run still waits for a person: every run says so
    assert again.exit_code == (1 if conflicted else 0), again.output
    with store.session() as s:
        row = s.get(OutboxCommand, victim)
        assert row is not None and row.status == CommandStatus.CONFIRMED  # found, not resent
        assert row.remote_id == victim_remote
        row = s.get(OutboxCommand, never_sent)
        assert row is not None and row.status == CommandStatus.CANCELLED
    store.dispose()
