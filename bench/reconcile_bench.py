"""Reconcile benchmark: a large open book, a full reconcile, then a small incremental one.

    python bench/reconcile_bench.py               # 1M invoices, 100k customers, 200k payments
    python bench/reconcile_bench.py --scale 0.05 # a quick look

Prints time and peak memory of the full run and of 1,000 new remittances reconciled against
the same book afterwards. Asserts nothing.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from canonical.ids import new_id
from canonical.keys import document_key, name_key
from canonical.models import Customer, Invoice, Remittance
from canonical.store import Store
from reconciler import reconcile

WORDS = (
    "North",
    "Blue",
    "Acme",
    "Globex",
    "Summit",
    "River",
    "Stone",
    "Pine",
    "Atlas",
    "Nova",
    "Iron",
    "Oak",
    "Delta",
    "Vista",
    "Prime",
    "Crown",
    "Eagle",
    "Harbor",
)
KINDS = ("Foods", "Labs", "Systems", "Freight", "Supply", "Energy", "Textiles", "Medical")


def peak_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def build(
    store: Store, customers: int, invoices: int, payments: int, rng: random.Random
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Customers and open invoices, inserted in chunks as they are generated.

    Returns the invoices the full run's payments pay (the first ``payments``) and 1,000 of
    those no payment touches, for the incremental run; nothing else is kept.
    """
    now = datetime.now(UTC)
    customer_rows = []
    for n in range(customers):
        name = f"{rng.choice(WORDS)} {rng.choice(WORDS)} {rng.choice(KINDS)} {n}"
        customer_rows.append(
            {
                "id": new_id(),
                "tenant": "default",
                "name": name,
                "name_key": name_key(name),
                "number": f"C{n:07d}",
                "email": None,
                "currency": "USD",
                "tax_id": None,
                "status": "active",
                "credit_hold": False,
                "created_at": now,
                "updated_at": now,
            }
        )
    with store.engine.begin() as conn:
        for start in range(0, len(customer_rows), 20_000):
            conn.execute(Customer.__table__.insert(), customer_rows[start : start + 20_000])  # type: ignore[attr-defined]
    untouched = set(rng.sample(range(payments * 3, invoices), min(1000, invoices - payments * 3)))
    paid: list[dict[str, Any]] = []
    later: list[dict[str, Any]] = []
    chunk: list[dict[str, Any]] = []
    for n in range(invoices):
        customer = customer_rows[rng.randrange(customers)]
        minor = rng.randrange(1_000, 5_000_000)
        number = f"INV-{n + 100000}"
        chunk.append(
            {
                "id": new_id(),
                "tenant": "default",
                "customer_id": customer["id"],
                "number": number,
                "number_key": document_key(number),
                "currency": "USD",
                "issue_date": date(2026, 1, 1) + timedelta(days=n % 300),
                "due_date": None,
                "total_minor": minor,
                "balance_minor": minor,
                "status": "open",
                "po_number": None,
                "memo": None,
                "created_at": now,
                "updated_at": now,
            }
        )
        wanted = {"number": number, "balance_minor": minor, "_payer": customer["name"]}
        if n < payments:
            paid.append(wanted)
        elif n in untouched:
            later.append(wanted)
        if len(chunk) == 20_000 or n == invoices - 1:
            with store.engine.begin() as conn:
                conn.execute(Invoice.__table__.insert(), chunk)  # type: ignore[attr-defined]
            chunk = []
    return paid, later


def timed_reconcile(url: str) -> tuple[float, float, str]:
    """Runs in a fresh process: seconds, that process's peak RSS (MB), the summary."""
    store = Store.open(url)
    clock = time.perf_counter()
    summary = reconcile(store)
    seconds = time.perf_counter() - clock
    store.dispose()
    return seconds, peak_mb(), str(summary)


def remittances(store: Store, invoices: list[dict[str, Any]], tag: str) -> None:
    """Payments: half with a structured reference, a quarter in free text, a quarter none."""
    now = datetime.now(UTC)
    rows = []
    for n, invoice in enumerate(invoices):
        amount = invoice["balance_minor"]
        kind = n % 4
        refs: list[dict[str, Any]] = []
        text = None
        if kind in (0, 1):
            refs = [
                {
                    "kind": "invoice",
                    "ref": invoice["number"],
                    "amount": f"{amount // 100}.{amount % 100:02d}",
                }
            ]
        elif kind == 2:
            text = f"payment for inv {invoice['number'][4:]}"
        rows.append(
            {
                "id": new_id(),
                "tenant": "default",
                "source": "camt.054",
                "source_file": "bench",
                "source_key": f"{tag}-{n}",
                "currency": "USD",
                "amount_minor": amount,
                "value_date": date(2026, 11, 1),
                "payer_name": invoice["_payer"].upper(),
                "payer_account": None,
                "payer_iban": None,
                "bank_reference": None,
                "end_to_end_id": None,
                "free_text": text,
                "structured_refs": refs,
                "raw": "",
                "status": "new",
                "created_at": now,
            }
        )
    with store.engine.begin() as conn:
        for start in range(0, len(rows), 20_000):
            conn.execute(Remittance.__table__.insert(), rows[start : start + 20_000])  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--database", default="", help="SQLAlchemy URL (default: temp SQLite)")
    args = parser.parse_args()
    customers = max(10, int(100_000 * args.scale))
    invoices = max(100, int(1_000_000 * args.scale))
    payments = max(50, int(200_000 * args.scale))
    rng = random.Random(7)
    # Each reconcile runs in its own fresh process, so its peak memory is its own, not the
    # generator's.
    spawn = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{tmp}/bench.db"
        store = Store.open(url)
        clock = time.perf_counter()
        paid, later = build(store, customers, invoices, payments, rng)
        remittances(store, paid, "full")
        del paid
        print(
            f"book: {customers} customers, {invoices} open invoices, {payments} remittances "
            f"(built in {time.perf_counter() - clock:.1f}s)"
        )
        with spawn.Pool(1) as pool:
            seconds, peak, summary = pool.apply(timed_reconcile, (url,))
        print(f"full reconcile: {seconds:.1f}s, peak RSS {peak:.0f} MB; {summary}")
        remittances(store, later, "incremental")
        with spawn.Pool(1) as pool:
            seconds, peak, summary = pool.apply(timed_reconcile, (url,))
        print(
            f"incremental reconcile of {len(later):,} new remittances: {seconds:.2f}s, "
            f"peak RSS {peak:.0f} MB; {summary}"
        )
        store.dispose()


if __name__ == "__main__":
    main()
