"""The demo's cash day: a bank notification paying synced invoices, reconciled and reported.

The payments are drawn from the open invoices arsync just synced, the way customers really
pay: most quote the invoice number (structured or in free text, some with typos), some pay
several invoices at once, some pay part, some take a small deduction, some quote nothing.
After the push, the bank returns one payment: a person reverses it and the next push voids
it in every system.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape as escape_xml

from rich.console import Console
from rich.markup import escape
from sqlalchemy import select
from sqlmodel import col

from canonical.enums import CommandStatus, DocumentStatus
from canonical.models import Customer, Decision, Invoice, OutboxCommand, Remittance
from canonical.money import Money
from canonical.store import Store
from connectors.sandbox.bankfiles import InvoiceRef, Payment, write_camt054
from sync.agreement import balance_agreement

if TYPE_CHECKING:
    from sync.ingest import IngestReport
    from sync.runtime import Runtime

BANK_ACCOUNT = "DE89370400440532013000"
PAYMENTS = 120
# a camt.053 entry taking back a payment (a returned collection, AM04 insufficient funds)
RETURN = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
 <BkToCstmrStmt><GrpHdr><MsgId>{id}</MsgId><CreDtTm>{day}T18:00:00</CreDtTm></GrpHdr>
  <Stmt><Id>{id}</Id><CreDtTm>{day}T18:00:00</CreDtTm>
   <Acct><Id><IBAN>{account}</IBAN></Id><Ccy>{currency}</Ccy></Acct>
   <Ntry><Amt Ccy="{currency}">{amount}</Amt><CdtDbtInd>DBIT</CdtDbtInd>
    <Sts><Cd>BOOK</Cd></Sts><ValDt><Dt>{day}</Dt></ValDt><AcctSvcrRef>{id}-1</AcctSvcrRef>
    <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>IDDT</Cd><SubFmlyCd>UPDD</SubFmlyCd></Fmly>
    </Domn></BkTxCd>
    <NtryDtls><TxDtls><Refs><TxId>{name}</TxId></Refs>
     <RltdPties><Dbtr><Nm>{payer}</Nm></Dbtr></RltdPties>
     <RtrInf><Rsn><Cd>AM04</Cd></Rsn></RtrInf></TxDtls></NtryDtls></Ntry>
  </Stmt>
 </BkToCstmrStmt>
</Document>
"""


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


def write_return(path: Path, cash: Remittance, message_id: str = "RETURN-1") -> Path:
    """A camt.053 in which the bank takes back ``cash``, naming it by its bank reference."""
    path.write_text(
        RETURN.format(
            id=message_id,
            day=datetime.now(UTC).date().isoformat(),
            account=BANK_ACCOUNT,
            currency=cash.currency,
            amount=Money.from_minor(cash.amount_minor, cash.currency).amount,
            name=escape_xml(cash.bank_reference or ""),
            payer=escape_xml(cash.payer_name or "Payer"),
        ),
        encoding="utf-8",
    )
    return path


def written_everywhere(store: Store, systems: set[str]) -> tuple[Remittance, list[OutboxCommand]]:
    """A remittance whose cash every system in ``systems`` confirmed, named by a bank
    reference no other remittance bears (what its return names), with those commands."""
    with store.session() as session:
        confirmed: dict[str, list[OutboxCommand]] = {}
        for c in session.execute(
            select(OutboxCommand)
            .where(
                col(OutboxCommand.operation) == "apply_cash",
                col(OutboxCommand.status) == CommandStatus.CONFIRMED,
            )
            .order_by(col(OutboxCommand.canonical_id))
        ).scalars():
            confirmed.setdefault(c.canonical_id, []).append(c)
        remittances = {r.id: r for r in session.execute(select(Remittance)).scalars()}
    names = Counter(r.bank_reference for r in remittances.values())
    for remittance_id, commands in confirmed.items():
        cash = remittances[remittance_id]
        if (
            {c.system for c in commands} >= systems
            and cash.bank_reference
            and names[cash.bank_reference] == 1
        ):
            return cash, commands
    raise LookupError("no payment was written to every system")


def reverse_a_returned_payment(runtime: Runtime, workdir: Path, console: Console) -> bool:
    """The bank returns one pushed payment; a person reverses it (as ``arsync resolve ID
    --by person:demo --reverse`` does), the push voids it in every system and a sync reads
    the invoices back open; whether all went through."""
    from reconciler.reverse import reverse
    from sync.cli import print_push, print_runs
    from sync.ingest import ingest_files
    from sync.outbox.plan import PAYMENT_SYSTEMS

    store = runtime.store
    systems = set(runtime.settings.push_systems()) & PAYMENT_SYSTEMS
    try:
        cash, _ = written_everywhere(store, systems)
    except LookupError:
        console.print("no payment to return: skipped")
        return True
    ingest_files(store, [write_return(workdir / "return.camt053.xml", cash)])
    runtime.reconcile()
    with store.session() as session:
        exception = session.execute(
            select(Decision)
            .join(Remittance, col(Remittance.id) == col(Decision.source_id))
            .where(
                col(Remittance.reverses) == cash.bank_reference,
                col(Decision.superseded).is_(False),
            )
        ).scalar_one()
    amount = Money.from_minor(cash.amount_minor, cash.currency).amount
    console.print(
        f"returned by the bank: {escape(cash.payer_name or '')} {amount} {cash.currency} -> "
        f"exception {exception.id}; arsync resolve {exception.id} --by person:demo --reverse",
        soft_wrap=True,  # the command stays on one line, to copy and paste
    )
    made = reverse(
        store,
        exception.id,
        by="person:demo",
        tenant=runtime.settings.tenant,
        sink=runtime.planner,
    )
    undone = len(made.evidence["applications_reversed"])
    console.print(f"reversed: {undone} applications; the push voids the payment")
    pushed = runtime.push()
    print_push(pushed)
    time.sleep(1.1)
    resynced = runtime.sync()
    print_runs(resynced)
    agreement = balance_agreement(store, runtime.settings.tenant)
    console.print(f"balances after the reversal: {agreement}")
    return pushed.ok and all(r.error is None for r in resynced)


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
    undone = reverse_a_returned_payment(runtime, workdir, console)
    report = build_report(store)
    path = write_report(report, "html", workdir / "report.html")
    console.print(f"report: {path.resolve()}")
    console.print(f"match rate: {report['totals']['match_rate']}")
    ok = pushed.ok and undone and all(r.error is None for r in resynced)
    return 0 if ok else 1
