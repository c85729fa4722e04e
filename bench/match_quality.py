"""Match quality: a seeded, messy receivables book run through import, ingest, reconcile and
the JSON report, scored against the generator's truth. Prints figures per scenario.

    python bench/match_quality.py              # about 2,000 payments, a typical mix
    python bench/match_quality.py --mix equal  # every scenario equally often
    python bench/match_quality.py --size 300   # a quick look

The typical mix is an assumption about a B2B receivables inbox, not a measurement: most
payments carry a structured remittance (820, camt RfrdDocInf, lockbox) or an invoice number
in their text; a minority carry none; duplicates and payers nobody knows are a few percent.
The per-scenario figures do not depend on the mix; the overall share does.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select

from canonical.models import Remittance
from canonical.store import Store
from connectors.sandbox.bankfiles import (
    InvoiceRef,
    Payment,
    write_bai2,
    write_camt054,
    write_edi820,
)
from reconciler import reconcile
from reconciler.report import build_report
from sync.importer import import_file
from sync.ingest import ingest_files

STEMS = (
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Hooli",
    "Vandelay",
    "Wonka",
    "Tyrell",
    "Oceanic",
    "Soylent",
    "Cyberdyne",
    "Aperture",
    "Monarch",
    "Atlas",
    "Summit",
)
TRADES = ("Foods", "Logistics", "Systems", "Supply", "Medical", "Freight", "Labs", "Paper")
SUFFIXES = ("Inc.", "LLC", "Ltd", "GmbH", "Corp.")
REGIONS = ("of Texas", "West", "Europe", "Midwest", "Pacific", "International", "Group", "East")
SAME_NAME_SHARE = 0.03  # customers whose legal name another customer already bears
FORMATS = ("INV-{:06d}", "{:d}", "2026-{:d}", "A{:d}")
OCR = {"0": "O", "1": "I", "5": "S", "8": "B"}


@dataclass
class Truth:
    scenario: str
    applications: dict[str, str]  # invoice number -> amount; empty: nothing should be applied
    structured: bool = False


def money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


def ocr(number: str, rng: random.Random) -> str:
    digits = [i for i, ch in enumerate(number) if ch in OCR]
    if not digits:
        return number
    i = rng.choice(digits)
    return number[:i] + OCR[number[i]] + number[i + 1 :]


TYPICAL_MIX = {  # percent of payments
    "structured": 32,
    "structured_multi_adx": 8,
    "text": 14,
    "text_ocr": 5,
    "partial": 5,
    "no_reference": 9,
    "multi_no_reference": 5,
    "credit_memo_netted": 4,
    "short_pay": 4,
    "early_discount": 5,
    "foreign_currency": 4,
    "duplicate": 1.5,
    "unknown_payer": 3.5,
}


def generate(
    size: int, seed: int, folder: Path, mix: str = "typical"
) -> tuple[list[Payment], dict[str, Truth]]:
    rng = random.Random(seed)
    customers = []
    names: set[str] = set()
    for n in range(max(10, size // 4)):
        for _ in range(20):  # similar names are common; the very same legal name is rare
            region = f" {rng.choice(REGIONS)}" if rng.random() < 0.6 else ""
            name = f"{rng.choice(STEMS)} {rng.choice(TRADES)}{region} {rng.choice(SUFFIXES)}"
            if name not in names or rng.random() < SAME_NAME_SHARE:
                break
        names.add(name)
        customers.append(
            {
                "customer_id": f"C{n}",
                "name": name,
                "number": f"N{n:05d}",
                "currency": "EUR" if n % 10 == 0 else "USD",
                "iban": f"DE{n % 89 + 10:02d}5001051754{n:08d}",
                "format": rng.choice(FORMATS),
            }
        )
    invoices: list[dict[str, str]] = []
    open_by_customer: dict[str, list[dict[str, str]]] = defaultdict(list)
    for n in range(size * 3):
        c = rng.choice(customers)
        number = c["format"].format(10_000 + n)
        amount = Decimal(rng.randrange(2_000, 900_000)) / 100
        discounted = n % 4 == 0  # 2/10 net 30, issued in the last ten days: discount open
        issued = (
            date(2026, 10, 24) + timedelta(days=n % 9)
            if discounted
            else date(2026, 6, 1) + timedelta(days=n % 150)
        )
        row = {
            "invoice_number": number,
            "customer_id": c["customer_id"],
            "currency": c["currency"],
            "issue_date": str(issued),
            "total": money(amount),
            "terms": "2/10 net 30" if discounted else "Net 30",
        }
        invoices.append(row)
        open_by_customer[c["customer_id"]].append(row)
    with (folder / "customers.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["customer_id", "name", "number", "currency"])
        writer.writeheader()
        writer.writerows({k: c[k] for k in writer.fieldnames} for c in customers)
    with (folder / "invoices.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(invoices[0]))
        writer.writeheader()
        writer.writerows(invoices)

    payments: list[Payment] = []
    truth: dict[str, Truth] = {}
    used: set[str] = set()
    scenarios = (
        "structured",
        "structured_multi_adx",
        "text",
        "text_ocr",
        "partial",
        "no_reference",
        "multi_no_reference",
        "duplicate",
        "foreign_currency",
        "unknown_payer",
        "credit_memo_netted",
        "short_pay",
        "early_discount",
    )
    credit_memos: list[dict[str, str]] = []
    assert set(TYPICAL_MIX) == set(scenarios)
    chooser = random.Random(seed + 1)
    for n in range(size):
        scenario = (
            scenarios[n % len(scenarios)]
            if mix == "equal"
            else chooser.choices(list(TYPICAL_MIX), weights=list(TYPICAL_MIX.values()))[0]
        )
        trace = f"T{n:06d}"
        c = rng.choice(customers)
        if scenario == "foreign_currency":
            c = rng.choice([x for x in customers if x["currency"] == "EUR"])
        elif scenario != "unknown_payer":
            c = rng.choice([x for x in customers if x["currency"] == "USD"])
        items = [i for i in open_by_customer[c["customer_id"]] if i["invoice_number"] not in used]
        if scenario == "unknown_payer" or not items:
            payments.append(
                Payment(
                    "Mystery Holdings Ltd",
                    Decimal(rng.randrange(100, 99_999)) / 100,
                    "USD",
                    date(2026, 11, 2),
                    reference=trace,
                    free_text="PAYMENT",
                )
            )
            truth[trace] = Truth("unknown_payer", {})
            continue
        if scenario == "early_discount":  # the payer picks an invoice whose discount is open
            items.sort(key=lambda i: "2/10" not in i["terms"])
        first = items[0]
        used.add(first["invoice_number"])
        total = Decimal(first["total"])
        payer = c["name"].upper() if rng.random() < 0.5 else c["name"]
        kw: dict[str, Any] = {"reference": trace, "iban": c["iban"] if rng.random() < 0.5 else None}
        if scenario in ("structured", "foreign_currency"):
            payments.append(
                Payment(
                    payer,
                    total,
                    c["currency"],
                    date(2026, 11, 2),
                    refs=[InvoiceRef(first["invoice_number"], paid=total)],
                    **kw,
                )
            )
            truth[trace] = Truth(scenario, {first["invoice_number"]: money(total)}, structured=True)
        elif scenario == "structured_multi_adx" and len(items) > 1:
            second = items[1]
            used.add(second["invoice_number"])
            other = Decimal(second["total"])
            cut = Decimal("2.50")
            payments.append(
                Payment(
                    payer,
                    total + other - cut,
                    c["currency"],
                    date(2026, 11, 2),
                    refs=[
                        InvoiceRef(first["invoice_number"], paid=total),
                        InvoiceRef(
                            second["invoice_number"],
                            paid=other - cut,
                            invoice_amount=other,
                            adjustment=-cut,
                            adjustment_reason="CS",
                        ),
                    ],
                    **kw,
                )
            )
            truth[trace] = Truth(
                scenario,
                {
                    first["invoice_number"]: money(total),
                    second["invoice_number"]: money(other - cut),
                },
                structured=True,
            )
        elif scenario in ("text", "text_ocr", "structured_multi_adx"):
            written = (
                first["invoice_number"]
                if scenario != "text_ocr"
                else ocr(first["invoice_number"], rng)
            )
            payments.append(
                Payment(
                    payer,
                    total,
                    c["currency"],
                    date(2026, 11, 2),
                    free_text=f"Payment for invoice {written} thank you",
                    **kw,
                )
            )
            truth[trace] = Truth(scenario, {first["invoice_number"]: money(total)})
        elif scenario == "partial":
            part = (total * Decimal("0.4")).quantize(Decimal("0.01"))
            payments.append(
                Payment(
                    payer,
                    part,
                    c["currency"],
                    date(2026, 11, 2),
                    refs=[InvoiceRef(first["invoice_number"], paid=part, invoice_amount=total)],
                    **kw,
                )
            )
            truth[trace] = Truth(scenario, {first["invoice_number"]: money(part)}, structured=True)
        elif scenario == "credit_memo_netted":
            # the customer's open credit memo, taken off an invoice the payer references
            credit = (total * Decimal("0.15")).quantize(Decimal("0.01"))
            credit_memos.append(
                {
                    "credit_memo_number": f"CM-{len(credit_memos) + 5000}",
                    "customer_id": c["customer_id"],
                    "currency": c["currency"],
                    "issue_date": "2026-10-20",
                    "total": money(credit),
                }
            )
            payments.append(
                Payment(
                    payer,
                    total - credit,
                    c["currency"],
                    date(2026, 11, 2),
                    refs=[InvoiceRef(first["invoice_number"])],
                    **kw,
                )
            )
            truth[trace] = Truth(
                scenario, {first["invoice_number"]: money(total - credit)}, structured=True
            )
        elif scenario == "short_pay":  # a few dollars short, within tolerance: a deduction
            short = Decimal(rng.randrange(1, 500)) / 100
            payments.append(
                Payment(
                    payer,
                    total - short,
                    c["currency"],
                    date(2026, 11, 2),
                    free_text=f"INV {first['invoice_number']}",
                    **kw,
                )
            )
            truth[trace] = Truth(scenario, {first["invoice_number"]: money(total - short)})
        elif scenario == "early_discount" and "2/10" in first["terms"]:
            discount = (total * 2 / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            text = f"INV {first['invoice_number']}" if rng.random() < 0.5 else None
            payments.append(
                Payment(
                    payer, total - discount, c["currency"], date(2026, 11, 2), free_text=text, **kw
                )
            )
            truth[trace] = Truth(scenario, {first["invoice_number"]: money(total - discount)})
        elif scenario == "no_reference":
            payments.append(Payment(payer, total, c["currency"], date(2026, 11, 2), **kw))
            truth[trace] = Truth(scenario, {first["invoice_number"]: money(total)})
        elif scenario == "multi_no_reference" and len(items) > 1:
            second = items[1]
            used.add(second["invoice_number"])
            payments.append(
                Payment(
                    payer, total + Decimal(second["total"]), c["currency"], date(2026, 11, 2), **kw
                )
            )
            truth[trace] = Truth(
                scenario,
                {first["invoice_number"]: money(total), second["invoice_number"]: second["total"]},
            )
        else:  # a duplicate of an earlier structured payment, or a lone multi: plain structured
            earlier = next((p for p in reversed(payments) if p.refs and len(p.refs) == 1), None)
            if scenario == "duplicate" and earlier is not None:
                payments.append(
                    Payment(
                        earlier.payer_name,
                        earlier.amount,
                        earlier.currency,
                        earlier.value_date + timedelta(days=1),
                        iban=earlier.iban,
                        refs=earlier.refs,
                        reference=trace,
                    )
                )
                truth[trace] = Truth("duplicate", {})
            else:
                payments.append(
                    Payment(
                        payer,
                        total,
                        c["currency"],
                        date(2026, 11, 2),
                        refs=[InvoiceRef(first["invoice_number"], paid=total)],
                        **kw,
                    )
                )
                truth[trace] = Truth(
                    "structured", {first["invoice_number"]: money(total)}, structured=True
                )
    with (folder / "credit_memos.csv").open("w", newline="") as handle:
        fields = ["credit_memo_number", "customer_id", "currency", "issue_date", "total"]
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(credit_memos)
    return payments, truth


def write_bank_files(payments: list[Payment], folder: Path) -> list[Path]:
    """A third of the payments each in camt.054, BAI2 (USD only) and EDI 820."""
    created = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)
    camt: list[Payment] = []
    bai2: list[Payment] = []
    edi: list[Payment] = []
    for n, payment in enumerate(payments):
        target = (camt, bai2, edi)[n % 3]
        (camt if target is bai2 and payment.currency != "USD" else target).append(payment)
    paths = [
        write_camt054(
            folder / "notification.camt054.xml",
            camt,
            account_iban="DE89370400440532013000",
            message_id="MQ-CAMT",
            created=created,
        )
    ]
    if bai2:
        paths.append(
            write_bai2(
                folder / "lockbox.bai2",
                bai2,
                sender_id="BANKUS",
                receiver_id="ARSYNC",
                account_number="000123456789",
                file_id="1",
                created=created,
            )
        )
    if edi:
        paths.append(
            write_edi820(
                folder / "remittance.820",
                edi,
                sender_id="PAYERS",
                receiver_id="ARSYNC",
                control_number=1,
                created=created,
            )
        )
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2000, help="number of payments")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--mix", choices=("typical", "equal"), default="typical", help="how often each scenario"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        payments, truth = generate(args.size, args.seed, folder, args.mix)
        print(f"scenario mix: {args.mix}")
        files = write_bank_files(payments, folder)
        store = Store.open(f"sqlite:///{folder / 'mq.db'}")
        for kind, name in (
            ("customers", "customers.csv"),
            ("invoices", "invoices.csv"),
            ("credit-memos", "credit_memos.csv"),
        ):
            report = import_file(store, kind, folder / name)  # type: ignore[arg-type]
            print(report.summary())
        ingested = ingest_files(store, files)
        print(
            f"ingested {ingested.new} remittances from {len(files)} files, "
            f"{ingested.rejected} rejected"
        )
        print(reconcile(store))
        report_json = json.loads(json.dumps(build_report(store)))
        with store.session() as session:
            trace_of = {
                r.id: r.bank_reference for r in session.execute(select(Remittance)).scalars()
            }
        score(report_json, truth, trace_of)
        store.dispose()


def score(report: dict[str, Any], truth: dict[str, Truth], trace_of: dict[str, str | None]) -> None:
    stats: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in report["remittances"]:
        t = truth.get(trace_of.get(row["id"]) or "")
        if t is None:
            continue
        s = stats[t.scenario]
        s["payments"] += 1
        s["applicable"] += bool(t.applications)
        if row["status"] == "auto_applied":
            s["auto"] += 1
            for app in row["applications"]:
                s["applied_lines"] += 1
                if t.applications.get(app["invoice_number"]) == app["amount"]["amount"]:
                    s["correct_lines"] += 1
            if t.structured:
                s["structured_auto"] += 1
        else:
            s["not_auto"] += 1
            best = row["candidates"][0] if row["candidates"] else {}
            numbers = {i["number"] for i in best.get("invoices", [])}
            if (t.applications and numbers == set(t.applications)) or (not t.applications):
                s["top_right"] += 1
        if t.structured:
            s["structured"] += 1
    print(
        f"\n{'scenario':<22}{'payments':>9}{'auto':>7}{'precision':>11}{'top suggestion right':>22}"
    )
    totals: dict[str, int] = defaultdict(int)
    for scenario, s in sorted(stats.items()):
        for key, value in s.items():
            totals[key] += value
        precision = f"{s['correct_lines'] / s['applied_lines']:.1%}" if s["applied_lines"] else "-"
        top = f"{s['top_right'] / s['not_auto']:.1%}" if s["not_auto"] else "-"
        print(
            f"{scenario:<22}{s['payments']:>9}{s['auto'] / s['payments']:>7.0%}"
            f"{precision:>11}{top:>22}"
        )
    overall = totals["correct_lines"] / totals["applied_lines"] if totals["applied_lines"] else 0
    print(f"\nprecision of auto-applied applications: {overall:.2%} (target >= 99.9%)")
    print(
        f"share auto-applied: {totals['auto'] / max(totals['payments'], 1):.1%} of all payments; "
        f"{totals['auto'] / max(totals['applicable'], 1):.1%} of those that should be applied "
        "(duplicates and unknown payers must not be) (target >= 90%)"
    )
    if totals["structured"]:
        print(
            "structured references auto-applied: "
            f"{totals['structured_auto'] / totals['structured']:.1%} (target 100%)"
        )
    if totals["not_auto"]:
        print(
            f"not auto-applied whose top suggestion is right (or correctly nothing): "
            f"{totals['top_right'] / totals['not_auto']:.1%}"
        )


if __name__ == "__main__":
    main()
