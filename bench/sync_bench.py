"""Sync benchmark: API calls vs the minimum, mapping+store throughput, time and peak memory.

The four sandboxes run in a child process (their data does not count against arsync's
memory); arsync syncs them into a fresh SQLite file in this process. Prints figures; asserts
nothing.

    python bench/sync_bench.py                 # 100,000 invoices over the four sandboxes
    python bench/sync_bench.py --invoices 4000 # a quick look
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import resource
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connectors.http import RetryPolicy
from connectors.registry import SYSTEMS, entry
from connectors.sandbox.world import World
from sync.engine import RunResult
from sync.runtime import Runtime
from sync.settings import load_settings

STREAM_NAMES = ("customers", "invoices", "credit_memos", "payments")


def serve(
    conn: Connection, seed: int, customers: int, invoices: int, systems: tuple[str, ...]
) -> None:
    """Child process: run the sandboxes and answer the parent's requests."""
    world = World.generate(seed=seed, customers=customers, invoices=invoices)
    servers = {}
    for system in systems:
        server = entry(system).sandbox(world=world)
        server.start()
        servers[system] = server
    conn.send(
        {
            system: {
                "config": server.config().model_dump(),  # type: ignore[attr-defined]
                "tokens": server.initial_tokens(),  # type: ignore[attr-defined]
                "counts": {s: len(server.remote_ids(s)) for s in STREAM_NAMES},
                # a stream that reads several queries (Intacct: invoices and debit memos)
                # pages each on its own
                "source_counts": {s: source_counts(server, s) for s in STREAM_NAMES},
                # rows a system serves beside the streams' own: Intacct's payment applications
                # (ARPYMTDETAIL) are their own object, read page by page like the rest
                "extra_rows": len(getattr(server, "details", {})),
                "session_calls": 1 if system == "intacct" else 0,  # getAPISession
            }
            for system, server in servers.items()
        }
    )
    while True:
        command, argument = conn.recv()
        if command == "touch":
            changed = {}
            for system, server in servers.items():
                ids = server.remote_ids("invoices")
                step = max(1, int(1 / argument))
                picked = ids[::step]
                for remote_id in picked:
                    server.touch("invoices", remote_id)
                changed[system] = len(picked)
            conn.send(changed)
        elif command == "stop":
            for server in servers.values():
                server.stop()
            conn.send("stopped")
            return


def source_counts(server: Any, stream: str) -> list[int]:
    """Records of each query a full read of the stream makes (one unless the sandbox says)."""
    if hasattr(server, "source_counts"):
        return list(server.source_counts(stream))
    return [len(server.remote_ids(stream))]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def minimum_calls(info: dict[str, Any], page_size: int) -> int:
    """Pages of every object the system must serve at its maximum page size, plus the calls
    its protocol needs before reading (Intacct's getAPISession)."""
    pages = sum(
        math.ceil(n / page_size) for counts in info["source_counts"].values() for n in counts if n
    )
    return pages + math.ceil(info["extra_rows"] / page_size) + info["session_calls"]


def print_runs(title: str, results: list[RunResult], minimums: dict[str, int] | None) -> None:
    print(f"\n{title}")
    print(
        f"{'system':<12}{'records':>10}{'written':>10}{'calls':>8}{'minimum':>9}{'ratio':>8}"
        f"{'seconds':>9}{'map+store rec/s':>17}"
    )
    for r in results:
        total = r.total
        minimum = (minimums or {}).get(r.system)
        ratio = f"{r.api_calls / minimum:.2f}x" if minimum else "-"
        rate = total.fetched / r.write_seconds if r.write_seconds else 0.0
        print(
            f"{r.system:<12}{total.fetched:>10}{total.writes:>10}{r.api_calls:>8}"
            f"{minimum if minimum is not None else '-':>9}{ratio:>8}{r.seconds:>9.1f}{rate:>17,.0f}"
        )
    fetched = sum(r.total.fetched for r in results)
    write_seconds = sum(r.write_seconds for r in results)
    calls = sum(r.api_calls for r in results)
    print(
        f"{'all':<12}{fetched:>10}{sum(r.total.writes for r in results):>10}{calls:>8}"
        + (
            f"{sum(minimums.values()):>9}{calls / sum(minimums.values()):>7.2f}x"
            if minimums
            else ""
        )
        + f"   mapping+store: {fetched / write_seconds if write_seconds else 0:,.0f} records/s"
    )
    map_seconds = sum(r.map_seconds for r in results)
    print(
        f"mapping+store {write_seconds:.1f}s: mapping (hash and map) {map_seconds:.1f}s, "
        f"identity and store {write_seconds - map_seconds:.1f}s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--invoices",
        type=int,
        default=100_000,
        help="invoices over all four sandboxes (each serves a quarter)",
    )
    parser.add_argument("--customers", type=int, default=0, help="default: invoices / 20")
    parser.add_argument(
        "--changed", type=float, default=0.01, help="share changed before the incremental run"
    )
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="comma-separated systems")
    parser.add_argument(
        "--database", default="", help="SQLAlchemy URL (default: a temp SQLite file)"
    )
    args = parser.parse_args()
    systems = tuple(s.strip() for s in args.systems.split(",") if s.strip())
    per_system = max(1, args.invoices // len(systems))
    customers = args.customers or max(10, args.invoices // 20 // len(systems))

    parent, child = multiprocessing.Pipe()
    process = multiprocessing.Process(
        target=serve, args=(child, 7, customers, per_system, systems), daemon=True
    )
    started = time.perf_counter()
    process.start()
    info = parent.recv()
    print(
        f"sandboxes up in {time.perf_counter() - started:.1f}s: "
        f"{per_system} invoices and {customers} customers in each of {len(systems)} systems"
    )

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{tmp}/bench.db"
        settings = load_settings(
            None, database_url=url, **{s: i["config"] for s, i in info.items()}
        )
        runtime = Runtime.open(settings, policy=RetryPolicy(max_delay=2.0))
        for system, system_info in info.items():
            runtime.seed_tokens(system, system_info["tokens"])
        minimums = {
            system: minimum_calls(system_info, int(runtime.config(system).page_size))  # type: ignore[attr-defined]
            for system, system_info in info.items()
        }
        rss_before = peak_mb()
        clock = time.perf_counter()
        initial = runtime.sync()
        initial_seconds = time.perf_counter() - clock
        print_runs("initial pull (full)", initial, minimums)
        print(
            f"end-to-end initial sync: {initial_seconds:.1f}s; peak RSS {peak_mb():.0f} MB"
            f" (before sync: {rss_before:.0f} MB)"
        )

        parent.send(("touch", args.changed))
        changed = parent.recv()
        clock = time.perf_counter()
        incremental = runtime.sync()
        print_runs(
            f"incremental pull after {args.changed:.0%} of invoices changed "
            f"({sum(changed.values())} records)",
            incremental,
            None,
        )
        for r in incremental:
            print(
                f"  {r.system}: {changed[r.system]} changed -> {r.total.updated} updated, "
                f"{r.api_calls} calls"
            )
        print(f"incremental sync: {time.perf_counter() - clock:.1f}s")

        clock = time.perf_counter()
        again = runtime.sync()
        print(
            f"re-run with no changes: {sum(r.total.writes for r in again)} writes, "
            f"{sum(r.api_calls for r in again)} calls, {time.perf_counter() - clock:.1f}s"
        )
        runtime.close()
    parent.send(("stop", None))
    parent.recv()
    process.join(timeout=10)
    print(f"peak RSS of the arsync process: {peak_mb():.0f} MB")


if __name__ == "__main__":
    main()
