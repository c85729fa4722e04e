"""One system's wrong section never stops the push to the others: `Runtime.push` (the CLI's
push and run, and every cycle of `arsync serve`) turns a system whose section is wrong into
that system's error, a setting (the CLI exits 2), and pushes the other systems' writes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import col
from typer.testing import CliRunner

from canonical.models import OutboxCommand
from connectors.sandbox.world import World
from sync.cli import app
from sync.runtime import MisconfiguredPush, Runtime, misconfigured
from sync.sandboxes import SandboxFleet, running_sandboxes
from sync.serve import Due, Pipeline
from sync.settings import load_settings
from tests.support.pipeline import FAST, _toml, decide, open_runtime, plain

pytestmark = pytest.mark.timeout(300)
CLIENT_ID_MISSING = "config error: quickbooks.client_id: Field required"


@pytest.fixture
def fleet() -> Iterator[SandboxFleet]:
    world = World.generate(seed=5, customers=12, invoices=60)
    with running_sandboxes(world, systems=("quickbooks", "invoiced")) as running:
        yield running


def _decided(fleet: SandboxFleet, db: Path, workdir: Path) -> None:
    """Sync both systems and reconcile a bank file: writes wait in the outbox for both."""
    runtime = open_runtime(fleet, db)
    try:
        decide(runtime, workdir)
    finally:
        runtime.close()
    assert set(_by_status(db)) >= {("quickbooks", "pending"), ("invoiced", "pending")}


def _wrong_quickbooks(fleet: SandboxFleet) -> dict[str, Any]:
    sections = plain(fleet.settings_overrides())
    del sections["quickbooks"]["client_id"]
    return dict(sections)


def _by_status(db: Path) -> dict[tuple[str, str], int]:
    settings = load_settings(None, database_url=f"sqlite:///{db}")
    runtime = Runtime.open(settings)
    try:
        with runtime.store.session() as session:
            rows = session.execute(
                select(col(OutboxCommand.system), col(OutboxCommand.status), func.count()).group_by(
                    col(OutboxCommand.system), col(OutboxCommand.status)
                )
            ).all()
    finally:
        runtime.close()
    return {(system, str(status)): n for system, status, n in rows}


def _runtime(db: Path, sections: dict[str, Any]) -> Runtime:
    settings = load_settings(
        None, database_url=f"sqlite:///{db}", sync={"lag_seconds": 0}, **sections
    )
    return Runtime.open(settings, policy=FAST)


def test_runtime_push_sends_the_others_and_names_the_wrong_section(
    fleet: SandboxFleet, tmp_path: Path
) -> None:
    db = tmp_path / "a.db"
    _decided(fleet, db, tmp_path)
    pending = _by_status(db)[("invoiced", "pending")]
    runtime = _runtime(db, _wrong_quickbooks(fleet))
    try:
        summary = runtime.push()
    finally:
        runtime.close()
    qbo = summary.systems["quickbooks"]
    assert isinstance(qbo, MisconfiguredPush) and qbo.error == CLIENT_ID_MISSING
    assert misconfigured(summary) == ["quickbooks"]
    invoiced = summary.systems["invoiced"]
    assert invoiced.error is None and invoiced.confirmed > 0
    assert invoiced.confirmed + invoiced.conflicts + invoiced.dead == pending
    after = _by_status(db)
    assert after[("invoiced", "confirmed")] == invoiced.confirmed
    assert ("invoiced", "pending") not in after
    # nothing was sent to QuickBooks: its writes wait for its section to be put right
    assert ("quickbooks", "confirmed") not in after and after[("quickbooks", "pending")] > 0


def test_cli_push_exits_2_naming_the_key_after_pushing_the_others(
    fleet: SandboxFleet, tmp_path: Path
) -> None:
    db = tmp_path / "a.db"
    _decided(fleet, db, tmp_path)
    config = tmp_path / "arsync.toml"
    config.write_text(
        _toml({"database_url": f"sqlite:///{db}", **_wrong_quickbooks(fleet)}), encoding="utf-8"
    )
    answer = CliRunner().invoke(app, ["push", "--config", str(config)])
    assert answer.exit_code == 2, answer.output
    assert CLIENT_ID_MISSING in answer.stderr
    after = _by_status(db)
    assert after[("invoiced", "confirmed")] > 0 and ("invoiced", "pending") not in after
    assert ("quickbooks", "confirmed") not in after


def test_a_serve_cycle_pushes_the_others(fleet: SandboxFleet, tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    _decided(fleet, db, tmp_path)
    runtime = _runtime(db, _wrong_quickbooks(fleet))
    errors: list[str] = []
    try:
        Pipeline(runtime, start=False)._reconcile_and_push(Due(), errors)
    finally:
        runtime.close()
    assert errors == [f"push quickbooks: {CLIENT_ID_MISSING}"]
    after = _by_status(db)
    assert after[("invoiced", "confirmed")] > 0 and ("invoiced", "pending") not in after
