"""Push benchmark: 10,000 applications decided, pushed to the four sandboxes.

    python bench/push_bench.py                  # 10,000 applications
    python bench/push_bench.py --applications 2000

Syncs a generated world into a fresh SQLite store, pays N open invoices by structured
remittances, reconciles (the outbox fills), then pushes. Prints, per system, the commands, the
API calls the push used and the minimum the system's batch size allows for them (their ratio:
target at most 1.1x), and throughput. Asserts nothing.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select
from sqlmodel import col

from canonical.ids import new_id
from canonical.models import Customer, Invoice, OutboxCommand, Remittance
from canonical.types import utcnow
from connectors.http import RetryPolicy
from connectors.sandbox.world import World
from sync.outbox.registry import adapter_for
from sync.runtime import Runtime
from sync.sandboxes import running_sandboxes
from sync.settings import load_settings


def pay_open_invoices(runtime: Runtime, count: int) -> int:
    """One structured remittance per open invoice, paying it in full."""
    with runtime.store.session() as session:
        rows = session.execute(
            select(
                col(Invoice.number),
                col(Invoice.balance_minor),
                col(Invoice.currency),
                col(Customer.name),
            )
            .join(Customer, col(Customer.id) == col(Invoice.customer_id))
            .where(col(Invoice.status) == "OPEN", col(Invoice.balance_minor) > 0)
            .order_by(col(Invoice.number))
            .limit(count)
        ).all()
        now = utcnow()
        session.execute(
            Remittance.__table__.insert(),  # type: ignore[attr-defined]
            [
                {
                    "id": new_id(),
                    "tenant": "default",
                    "source": "bench",
                    "source_file": None,
                    "source_key": f"bench-{number}",
                    "currency": currency,
                    "amount_minor": balance,
                    "value_date": date.today(),
                    "payer_name": name,
                    "payer_account": None,
                    "payer_iban": None,
                    "bank_reference": f"B{index}",
                    "end_to_end_id": None,
                    "free_text": None,
                    "structured_refs": [{"kind": "invoice", "ref": number}],
                    "raw": "",
                    "status": "new",
                    "created_at": now,
                }
                for index, (number, balance, currency, name) in enumerate(rows)
            ],
        )
    return len(rows)


def minimum_calls(runtime: Runtime, system: str) -> int:
    """The fewest requests the system's batch size allows for its commands."""
    with runtime.store.session() as session:
        rows = session.execute(
            select(col(OutboxCommand.operation), col(OutboxCommand.canonical_id)).where(
                col(OutboxCommand.system) == system
            )
        ).all()
    adapter = adapter_for(system, runtime.connector(system))
    if system == "salesforce":
        records = defaultdict(set)
        for operation, canonical_id in rows:
            records[operation].add(canonical_id)
        return sum(math.ceil(len(ids) / adapter.batch_size) for ids in records.values())
    steps = sum(2 if op == "write_off" else 1 for op, _ in rows)
    return math.ceil(steps / adapter.batch_size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--applications", type=int, default=10_000)
    args = parser.parse_args()
    n = args.applications
    world = World.generate(seed=21, customers=max(50, n // 8), invoices=int(n * 3))
    with tempfile.TemporaryDirectory() as tmp, running_sandboxes(world) as fleet:
        settings = load_settings(
            None,
            database_url=f"sqlite:///{Path(tmp) / 'bench.db'}",
            sync={"lag_seconds": 0},
            **fleet.settings_overrides(),
        )
        runtime = Runtime.open(settings, policy=RetryPolicy(max_delay=2.0))
        for system, tokens in fleet.initial_tokens().items():
            runtime.seed_tokens(system, tokens)
        started = time.perf_counter()
        runtime.sync()
        print(f"synced {len(world.invoices)} invoices in {time.perf_counter() - started:.1f} s")
        paid = pay_open_invoices(runtime, n)
        started = time.perf_counter()
        summary = runtime.reconcile()
        print(f"reconciled {paid} remittances in {time.perf_counter() - started:.1f} s: {summary}")
        started = time.perf_counter()
        pushed = runtime.push()
        seconds = time.perf_counter() - started
        print(f"\npush: {seconds:.1f} s")
        print(
            f"{'system':<12}{'confirmed':>10}{'other':>8}{'calls':>8}{'minimum':>9}{'ratio':>8}{'cmd/s':>9}"
        )
        for system, result in pushed.systems.items():
            if result.error and not result.confirmed:
                print(f"{system:<12} not pushed: {result.error}")
                continue
            minimum = minimum_calls(runtime, system)
            ratio = result.requests / minimum if minimum else float("nan")
            other = result.failed + result.dead + result.conflicts
            print(
                f"{system:<12}{result.confirmed:>10}{other:>8}{result.requests:>8}{minimum:>9}"
                f"{ratio:>8.2f}{result.confirmed / seconds:>9.0f}"
            )
        with runtime.store.session() as session:
            troubles = session.execute(
                select(
                    col(OutboxCommand.system),
                    col(OutboxCommand.status),
                    col(OutboxCommand.last_error),
                ).where(col(OutboxCommand.status) != "confirmed")
            ).all()
        reasons: Counter[tuple[str, str, str]] = Counter(
            (system, status, (error or "")[:90]) for system, status, error in troubles
        )
        for (system, status, error), count in reasons.most_common(8):
            print(f"  {count:>6} {system} {status}: {error}")
        again = runtime.push()
        calls = sum(r.requests for r in again.systems.values())
        print(f"\nsecond push: {again.written} writes, {calls} calls")
        runtime.close()


if __name__ == "__main__":
    main()
