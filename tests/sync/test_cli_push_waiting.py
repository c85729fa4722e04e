"""`arsync push` while commands wait for a person (a conflict, a dead write): every push
exits 1 with one stderr line saying how many wait and how to see them, not only the push
that parked them; with nothing waiting it exits 0."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col
from typer.testing import CliRunner

from canonical.models import ExternalRef, OutboxCommand
from connectors.sandbox.world import World
from sync.cli import app
from sync.sandboxes import SandboxFleet, running_sandboxes
from tests.support.pipeline import decide, open_runtime, write_toml

pytestmark = pytest.mark.timeout(300)
PUSH = {"systems": ["quickbooks"]}


@pytest.fixture
def fleet() -> Iterator[SandboxFleet]:
    with running_sandboxes(
        World.generate(seed=9, customers=30, invoices=220), systems=("quickbooks",)
    ) as running:
        yield running


def _paid_elsewhere(fleet: SandboxFleet, db: Path, workdir: Path) -> str:
    """Decide cash (the outbox fills up), then pay one of its invoices in QuickBooks by
    someone else: its apply_cash will be parked as a conflict. Returns that command's id."""
    runtime = open_runtime(fleet, db, push=PUSH)
    try:
        decide(runtime, workdir)
        with runtime.store.session() as s:
            command = (
                s.execute(
                    select(OutboxCommand).where(
                        col(OutboxCommand.system) == "quickbooks",
                        col(OutboxCommand.operation) == "apply_cash",
                    )
                )
                .scalars()
                .first()
            )
            assert command is not None
            invoice_id = command.payload["lines"][0]["invoice_id"]
            remote = s.execute(
                select(col(ExternalRef.remote_id)).where(
                    col(ExternalRef.system) == "quickbooks",
                    col(ExternalRef.canonical_type) == "invoice",
                    col(ExternalRef.canonical_id) == invoice_id,
                )
            ).scalar_one()
            parked_id = command.id
    finally:
        runtime.close()
    qbo: Any = fleet.servers["quickbooks"]
    qbo.records["Invoice"][remote]["Balance"] = Decimal("0.00")
    return parked_id


def _said(answer: Any) -> list[str]:
    """Its stderr lines, less the warning about the test config's inline secret."""
    lines = answer.stderr.strip().splitlines()
    return [line for line in lines if not line.startswith("config warning:")]


def test_every_push_says_what_waits_for_a_person_until_it_is_settled(
    fleet: SandboxFleet, tmp_path: Path
) -> None:
    db = tmp_path / "a.db"
    parked = _paid_elsewhere(fleet, db, tmp_path)
    config = str(write_toml(fleet, db, tmp_path / "arsync.toml", push=PUSH))
    runner = CliRunner()

    first = runner.invoke(app, ["push", "--config", config], terminal_width=300)
    assert first.exit_code == 1, first.output
    [line] = _said(first)
    assert "1 command waits for a person" in line and "`arsync outbox`" in line, line

    # nothing new is sent, but the conflict is still parked: cron must keep noticing
    second = runner.invoke(app, ["push", "--config", config], terminal_width=300)
    assert second.exit_code == 1, second.output
    assert _said(second) == [line]
    listed = runner.invoke(app, ["outbox", "--config", config], terminal_width=300)
    assert parked in listed.stdout and "conflict" in listed.stdout

    cancelled = runner.invoke(app, ["outbox", "cancel", parked, "--config", config])
    assert cancelled.exit_code == 0, cancelled.output
    settled = runner.invoke(app, ["push", "--config", config], terminal_width=300)
    assert settled.exit_code == 0, settled.output
    assert _said(settled) == []
