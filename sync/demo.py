"""``arsync demo``: the whole product on its embedded default, with no account anywhere.

Four sandboxes on loopback render one seeded world; arsync syncs them into a fresh SQLite
file, ingests a bank file, reconciles, writes the HTML report and summarises.
"""

from __future__ import annotations

import shlex
import shutil
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select
from sqlmodel import col

from canonical.enums import FindingStatus
from canonical.models import DriftFinding, ExternalRef, Quarantine
from canonical.store import Store
from connectors.http import RetryPolicy
from connectors.sandbox.world import World
from sync.cli import print_runs, run_with_progress
from sync.runtime import Runtime
from sync.sandboxes import SandboxFleet, running_sandboxes
from sync.settings import load_settings

CORRUPTED_PER_SYSTEM = 2


def run_demo(workdir: Path, *, console: Console, customers: int = 300, invoices: int = 3000) -> int:
    """Run the demo; returns the process exit code."""
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    world = World.generate(seed=7, customers=customers, invoices=invoices)
    console.print(
        f"[bold]arsync demo[/bold]: {len(world.customers)} customers, {len(world.invoices)} "
        f"invoices, {len(world.credit_memos)} credit memos, {len(world.payments)} payments "
        "in four local sandboxes"
    )
    with running_sandboxes(world) as fleet:
        _mess_up(fleet)
        # the sandboxes answer from one process and never stamp late: no lag is needed, so
        # the resync after the push sees every write at once
        settings = load_settings(
            None,
            database_url=f"sqlite:///{workdir / 'arsync.db'}",
            sync={"lag_seconds": 0},
            **fleet.settings_overrides(),
        )
        runtime = Runtime.open(settings, policy=RetryPolicy(max_delay=2.0))
        try:
            for system, tokens in fleet.initial_tokens().items():
                runtime.seed_tokens(system, tokens)
            results = run_with_progress(runtime, None, full=False)
            print_runs(results)
            summarise(runtime.store, console)
            code = 0 if all(r.error is None for r in results) else 1
            from sync.demo_cash import reconcile_sample_bank_file

            code = max(code, reconcile_sample_bank_file(runtime, workdir, console))
        finally:
            runtime.close()
    for line in next_steps(settings.database_url):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    return code


def next_steps(database_url: str) -> list[str]:
    """How to go on with the demo's data: a plain ``arsync`` opens the default database
    (var/arsync.db), not the demo's."""
    program = sys.argv[0] if Path(sys.argv[0]).name == "arsync" else "arsync"
    env = shlex.quote(f"ARSYNC_DATABASE_URL={database_url}")
    return [
        f"the demo's data stays in {database_url} (a plain `arsync` command opens the "
        "database its config names, by default var/arsync.db); to look at it with status, "
        "outbox or report (its sandboxes are gone and no system is configured to write to: "
        "cash applied there with resolve or reconcile would be applied in arsync only):",
        f"  {env} {shlex.quote(program)} status",
    ]


def _mess_up(fleet: SandboxFleet) -> None:
    """Serve a couple of malformed records per system, as real systems sometimes do."""
    for server in fleet.servers.values():
        for remote_id in server.remote_ids("invoices")[-CORRUPTED_PER_SYSTEM:]:
            server.corrupt("invoices", remote_id)


def summarise(store: Store, console: Console) -> None:
    """Counts per system, records linked across systems, drift, quarantine."""
    with store.session() as session:
        per_system = session.execute(
            select(col(ExternalRef.system), col(ExternalRef.canonical_type), func.count())
            .where(col(ExternalRef.deleted).is_(False))
            .group_by(col(ExternalRef.system), col(ExternalRef.canonical_type))
        ).all()
        spread = (
            select(
                col(ExternalRef.canonical_type),
                col(ExternalRef.canonical_id),
                func.count(func.distinct(col(ExternalRef.system))).label("systems"),
            )
            .group_by(col(ExternalRef.canonical_type), col(ExternalRef.canonical_id))
            .subquery()
        )
        linked = session.execute(
            select(spread.c.canonical_type, spread.c.systems, func.count())
            .where(spread.c.systems > 1)
            .group_by(spread.c.canonical_type, spread.c.systems)
        ).all()
        drift = session.execute(
            select(col(DriftFinding.canonical_type), col(DriftFinding.field), func.count())
            .where(col(DriftFinding.status) == FindingStatus.OPEN)
            .group_by(col(DriftFinding.canonical_type), col(DriftFinding.field))
        ).all()
        quarantined = session.execute(
            select(col(Quarantine.system), func.count())
            .where(col(Quarantine.resolved_at).is_(None))
            .group_by(col(Quarantine.system))
        ).all()
    table = Table(title="records per system")
    kinds = ("customer", "invoice", "credit_memo", "payment")
    table.add_column("system")
    for kind in kinds:
        table.add_column(kind, justify="right")
    counts = {(s, k): n for s, k, n in per_system}
    for system in sorted({s for s, _, _ in per_system}):
        table.add_row(system, *(str(counts.get((system, k), 0)) for k in kinds))
    console.print(table)
    links = Table(title="linked across systems")
    links.add_column("object")
    links.add_column("in 2 systems", justify="right")
    links.add_column("in 3", justify="right")
    links.add_column("in 4", justify="right")
    spread_counts = {(k, n): c for k, n, c in linked}
    for kind in kinds:
        links.add_row(kind, *(str(spread_counts.get((kind, n), 0)) for n in (2, 3, 4)))
    console.print(links)
    drift_total = sum(n for _, _, n in drift)
    console.print(
        f"drift findings (systems disagree): {drift_total} "
        + ", ".join(f"{k}.{f}: {n}" for k, f, n in drift)
    )
    console.print(
        f"quarantined records: {sum(n for _, n in quarantined)} "
        + ", ".join(f"{s}: {n}" for s, n in quarantined)
    )
