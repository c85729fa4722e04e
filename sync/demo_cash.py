"""The demo's cash day: a bank notification paying synced invoices, reconciled and reported.

The payments are drawn from the open invoices arsync just synced, the way customers really
pay: most quote the invoice number (structured or in free text, some with typos), some pay
several invoices at once, some pay part, some take a small deduction, some quote nothing.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from sqlalchemy import select
from sqlmodel import col

from canonical.enums import DocumentStatus
from canonical.models import Customer, Invoice
from canonical.store import Store
from connectors.sandbox.bankfiles import InvoiceRef, Payment, write_camt054
from sync.agreement import balance_agreement

if TYPE_CHECKING:
    from sync.ingest import IngestReport
    from sync.runtime import Runtime

BANK_ACCOUNT = "DE89370400440532013000"
PAYMENTS = 120


def _iban(customer_number: int) -> str:
    return f"GB{customer_number % 90 + 10:02d}NWBK{60161331926819 + customer_number:014d}"[:22]


def sample_payments(store: Store, seed: int = 7, count: int = PAYMENTS) -> list[Payment]:
    """Incoming payments against the open invoices in the store, in realistic variety."""
    rng = random.Random(seed)
    with store.session() as session:
        rows = session.execute(
            select(Invoice, Customer)
            .join(Customer, col(Customer.id) == col(Invoice.customer_id))
            .where(col(Invoice.status) == DocumentStatus.OPEN, col(Invoice.balance_minor) > 0)
            .order_by(col(Invoice.customer_id), col(Invoice.number))
        ).all()
    by_customer: dict[str, list[tuple[Invoice, Customer]]] = {}
    for invoice, customer in rows:
        by_customer.setdefault(customer.id, []).append((invoice, customer))
    # by what the customers are, not their random ids, so the same world gives the same sample
    customers = sorted(
        by_customer,
        key=lambda cid: (
            by_customer[cid][0][1].number or "",
            by_customer[cid][0][1].name,
            by_customer[cid][0][0].number,
        ),
    )
    rng.shuffle(customers)
    payments: list[Payment] = []
    for index, customer_id in enumerate(customers[:count]):
        items = by_customer[customer_id]
        invoice, customer = items[0]
        number = invoice.number
        balance = invoice.balance.amount
        currency = invoice.currency
        iban = _iban(index)
        kind = rng.random()
        today = date.today()
        if kind < 0.40:
            payments.append(
                Payment(
                    customer.name,
                    balance,
                    currency,
                    today,
                    iban=iban,
                    refs=[InvoiceRef(f"INV-{number.zfill(5)}", paid=balance)],
                )
            )
        elif kind < 0.55 and len(items) > 1:
            second = items[1][0]
            total = balance + second.balance.amount
            payments.append(
                Payment(
                    customer.name.upper(),
                    total,
                    currency,
                    today,
                    iban=iban,
                    free_text=f"Payment inv {number} and #{second.number}",
                )
            )
        elif kind < 0.65:
            part = (balance / 2).quantize(Decimal("0.01"))
            payments.append(
                Payment(
                    customer.name,
                    part,
                    currency,
                    today,
                    iban=iban,
                    refs=[InvoiceRef(number, paid=part, invoice_amount=balance)],
                )
            )
        elif kind < 0.75:
            discount = (balance * Decimal("0.02")).quantize(Decimal("0.01"))
            payments.append(
                Payment(
                    customer.name,
                    balance - discount,
                    currency,
                    today,
                    iban=iban,
                    refs=[
                        InvoiceRef(
                            number,
                            paid=balance - discount,
                            invoice_amount=balance,
                            discount=discount,
                        )
                    ],
                )
            )
        elif kind < 0.85:
            typo = number.replace("0", "O", 1) if "0" in number else number + "."
            payments.append(
                Payment(
                    customer.name,
                    balance,
                    currency,
                    today,
                    iban=iban,
                    free_text=f"INVOICE {typo} THANK YOU",
                )
            )
        elif kind < 0.95:
            payments.append(Payment(customer.name, balance, currency, today, iban=iban))
        else:
            payments.append(
                Payment(
                    "UNKNOWN REMITTER LTD",
                    Decimal(rng.randrange(1000, 90000)) / 100,
                    currency,
                    today,
                    free_text="ref 99887766",
                )
            )
    return payments


def print_ingested(report: IngestReport, bank_file: Path, payments: int, console: Console) -> None:
    """What ingesting the sample bank file did: its errors on one line, a line per warning."""
    errors = "; ".join(str(e) for e in report.errors) or "no errors"
    console.print(f"ingested {bank_file.name}: {payments} payments ({escape(errors)})")
    for warning in report.warnings:
        console.print(f"  warning: {escape(str(warning))}")


def reconcile_sample_bank_file(runtime: Runtime, workdir: Path, console: Console) -> int:
    """Write, ingest and reconcile a camt.054, push the decisions to every system, sync
    again, and write the HTML report; returns an exit code."""
    from reconciler.report import build_report, write_report
    from sync.cli import print_push, print_runs
    from sync.ingest import ingest_files

    store = runtime.store
    bank_file = workdir / "bank-notification.camt054.xml"
    payments = sample_payments(store)
    write_camt054(
        bank_file,
        payments,
        account_iban=BANK_ACCOUNT,
        message_id="DEMO-CAMT054",
        created=datetime.now(UTC),
    )
    ingested = ingest_files(store, [bank_file])
    print_ingested(ingested, bank_file, len(payments), console)
    summary = runtime.reconcile()
    console.print(f"reconciled: {summary}")
    before = balance_agreement(store, runtime.settings.tenant)
    pushed = runtime.push()
    print_push(pushed)
    # incremental filters are to the second (SOQL, Intacct): let the push's second pass, so
    # the sync right after it sees every write instead of leaving the last ones to the next
    time.sleep(1.1)
    resynced = runtime.sync()
    print_runs(resynced)
    after = balance_agreement(store, runtime.settings.tenant)
    console.print(f"balances before push: {before}")
    console.print(f"balances after push:  {after}")
    report = build_report(store)
    path = write_report(report, "html", workdir / "report.html")
    console.print(f"report: {path.resolve()}")
    console.print(f"match rate: {report['totals']['match_rate']}")
    ok = pushed.ok and all(r.error is None for r in resynced)
    return 0 if ok else 1
