"""The floor under bench/sync_bench.py's mapping+store figure: the same records' hashing and
mapping alone, and the rows a sync leaves in the store inserted by the driver alone (no
identity resolution, no updates, no lookups, no ORM). Prints figures; asserts nothing.

    python bench/sync_floor.py                  # 100,000 invoices, as sync_bench.py
    python bench/sync_floor.py --invoices 20000 # a quick look
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.sync_bench import serve
from canonical.store import Store
from connectors.http import RetryPolicy
from connectors.registry import SYSTEMS
from mappings.base import MappingError
from sync import pull
from sync.runtime import Runtime
from sync.settings import load_settings

TABLES = (
    "customer",
    "invoice",
    "credit_memo",
    "payment",
    "external_ref",
    "application",
    "drift_finding",
    "identity_candidate",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=100_000)
    args = parser.parse_args()
    systems = SYSTEMS
    per_system = args.invoices // len(systems)
    customers = max(10, args.invoices // 20 // len(systems))
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.Process(
        target=serve, args=(child, 7, customers, per_system, systems), daemon=True
    )
    process.start()
    info = parent.recv()
    captured: list[tuple[Any, list[Any]]] = []
    write = pull.PageWriter.write

    def capturing(self: Any, session: Any, records: list[Any]) -> Any:
        captured.append((self, list(records)))
        return write(self, session, records)

    pull.PageWriter.write = capturing  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/synced.db"
        settings = load_settings(
            None, database_url=url, **{s: i["config"] for s, i in info.items()}
        )
        runtime = Runtime.open(settings, policy=RetryPolicy(max_delay=2.0))
        for system, system_info in info.items():
            runtime.seed_tokens(system, system_info["tokens"])
        results = runtime.sync()
        runtime.close()
        pull.PageWriter.write = write  # type: ignore[method-assign]
        fetched = sum(r.total.fetched for r in results)
        measured = sum(r.write_seconds for r in results)

        clock = time.perf_counter()
        for writer, records in captured:
            for raw in records:
                pull.payload_hash(raw, writer.mapping_version)
                with contextlib.suppress(MappingError, ValueError, TypeError, KeyError):
                    writer.mapper(raw, writer.context)
        mapping = time.perf_counter() - clock

        source = sqlite3.connect(f"{tmp}/synced.db")
        # the store's own engine, so the target has its schema and connection settings
        floor_store = Store.open(f"sqlite:///{tmp}/floor.db")
        connection = floor_store.engine.raw_connection()
        target: Any = connection.driver_connection
        target.isolation_level = None  # BEGIN and COMMIT as written below
        rows_of = {t: source.execute(f"SELECT * FROM {t}").fetchall() for t in TABLES}
        columns_of = {
            t: len(source.execute(f"SELECT * FROM {t} LIMIT 0").description) for t in TABLES
        }
        counts = {t: len(rows) for t, rows in rows_of.items()}
        clock = time.perf_counter()
        for table in TABLES:
            rows = rows_of[table]
            marks = ", ".join("?" * columns_of[table])
            for start in range(0, len(rows), 1000):
                target.execute("BEGIN")
                target.executemany(
                    f"INSERT INTO {table} VALUES ({marks})", rows[start : start + 1000]
                )
                target.execute("COMMIT")
        inserting = time.perf_counter() - clock
        connection.close()
        floor_store.dispose()
    parent.send(("stop", None))
    parent.recv()
    process.join(timeout=10)
    print(f"records pulled: {fetched}; rows the sync left: {counts}")
    print(f"measured mapping+store: {measured:.1f}s = {fetched / measured:,.0f} records/s")
    print(f"hashing and mapping alone: {mapping:.1f}s")
    print(f"inserting the final rows by the driver alone: {inserting:.1f}s")
    floor = mapping + inserting
    print(f"floor: {floor:.1f}s = {fetched / floor:,.0f} records/s")


if __name__ == "__main__":
    main()
