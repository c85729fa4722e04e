"""PostgreSQL parity: the flows paying users run (sync, reconcile, push, ingest, webhooks,
import, export, report, concurrent runs) behave alike on SQLite and PostgreSQL, and the
classic dialect traps (declared VARCHAR lengths, NUL bytes, JSON, time zones, big amounts,
transactions aborted by an error, migrations of an existing database) are handled on purpose
rather than by whichever backend happens to be underneath."""

from __future__ import annotations

import io
import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from canonical.lease import LeaseHeld, lease
from canonical.models import (
    Customer,
    Decision,
    ExternalRef,
    Invoice,
    OutboxCommand,
    Quarantine,
    Remittance,
    SyncRun,
    WebhookEvent,
)
from canonical.store import Store, alembic_config
from connectors.base import RawRecord
from connectors.sandbox.world import World
from mappings.base import MappingContext
from mappings.registry import mapper
from reconciler import reconcile
from reconciler.report import build_report, write_report
from sync.export import write_export
from sync.importer import import_file
from sync.ingest import ingest_files
from sync.pull import PageWriter
from sync.runtime import Runtime
from sync.sandboxes import SandboxFleet, running_sandboxes
from sync.settings import SystemOfRecord, load_settings
from sync.webhooks import receive
from tests.conftest import PG_ADMIN_URL, _pg_reachable
from tests.support.pipeline import FAST, decide
from tests.support.receivables import Book, applied, balance, decision, ref

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(240)]

STRIPE_SECRET = "whsec_parity"


# -- helpers ---------------------------------------------------------------------------------


def runtime_on(store: Store, fleet: SandboxFleet | None = None, **extra: Any) -> Runtime:
    """A runtime on the test's store (SQLite file or PostgreSQL schema)."""
    settings = load_settings(
        None,
        database_url=store.url,
        sync={"lag_seconds": 0},
        webhooks={"stripe_secrets": [STRIPE_SECRET]},
        **(fleet.settings_overrides() if fleet else {}),
        **extra,
    )
    runtime = Runtime.open(settings, policy=FAST)
    if fleet:
        for system, tokens in fleet.initial_tokens().items():
            runtime.seed_tokens(system, tokens)
    return runtime


def stripe(store: Store, settings: Any, event: dict[str, Any]) -> Any:
    import hashlib
    import hmac
    import time

    raw = json.dumps(event).encode()
    stamp = str(int(time.time()))
    digest = hmac.new(STRIPE_SECRET.encode(), stamp.encode() + b"." + raw, hashlib.sha256)
    headers = {"Stripe-Signature": f"t={stamp},v1={digest.hexdigest()}"}
    return receive(store, settings, "stripe", raw, headers)


def stripe_payment(pi: str, amount: int, *, name: str = "Acme Corp", **meta: str) -> dict:
    return {
        "id": f"evt_{pi}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": 1763800100,
        "type": "payment_intent.succeeded",
        "livemode": False,
        "data": {
            "object": {
                "id": pi,
                "object": "payment_intent",
                "amount": amount,
                "amount_received": amount,
                "currency": "usd",
                "status": "succeeded",
                "description": meta.pop("description", None),
                "metadata": meta,
                "charges": {"data": [{"billing_details": {"name": name}}]},
            }
        },
    }


def pull(store: Store, system: str, stream: str, rows: list[tuple[str, dict[str, Any]]]) -> Any:
    """Write ``rows`` through the system's real mapping, as a sync does."""
    writer = PageWriter(
        tenant="default",
        system=system,
        stream=stream,
        mapper=mapper(system, stream),
        context=MappingContext(system=system),
        system_of_record=SystemOfRecord(),
        run_id="run-parity",
    )
    records = [
        RawRecord(stream=stream, object_type=stream, remote_id=rid, payload=payload)
        for rid, payload in rows
    ]
    with store.session() as session:
        return writer.write(session, records)


def quarantined(store: Store) -> dict[str, Quarantine]:
    with store.session() as s:
        return {q.remote_id: q for q in s.execute(select(Quarantine)).scalars()}


def customers(store: Store) -> dict[str, Customer]:
    with store.session() as s:
        return {c.number or c.name: c for c in s.execute(select(Customer)).scalars()}


CAMT_TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">
<BkToCstmrDbtCdtNtfctn>
<GrpHdr><MsgId>{msg}</MsgId><CreDtTm>2026-11-02T10:00:00</CreDtTm></GrpHdr>
<Ntfctn><Id>{msg}-N</Id><CreDtTm>2026-11-02T10:00:00</CreDtTm>
<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id></Acct>
{entries}
</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>
"""

CAMT_ENTRY = """<Ntry><NtryRef>{ref}</NtryRef><Amt Ccy="{ccy}">{amount}</Amt>
<CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
<BookgDt><Dt>2026-11-02</Dt></BookgDt><ValDt><Dt>2026-11-02</Dt></ValDt>
<NtryDtls><TxDtls><Refs><AcctSvcrRef>{ref}</AcctSvcrRef><EndToEndId>E2E-{ref}</EndToEndId></Refs>
<Amt Ccy="{ccy}">{amount}</Amt>
<RltdPties><Dbtr><Nm>{payer}</Nm></Dbtr></RltdPties>
<RmtInf><Ustrd>{text}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"""


def camt_file(path: Path, entries: list[dict[str, str]], msg: str = "PARITY") -> Path:
    body = "\n".join(CAMT_ENTRY.format(**{"ccy": "USD", **e}) for e in entries)
    path.write_text(CAMT_TEMPLATE.format(msg=msg, entries=body), encoding="utf-8")
    return path


# -- the whole pipeline against the sandboxes --------------------------------------------------


@pytest.fixture(scope="module")
def fleet() -> Iterator[SandboxFleet]:
    with running_sandboxes(World.generate(seed=5, customers=12, invoices=60)) as running:
        yield running


def test_sync_reconcile_push_and_a_rerun_that_pushes_nothing(
    store: Store, fleet: SandboxFleet, tmp_path: Path
) -> None:
    systems = ["quickbooks", "invoiced", "salesforce"]
    runtime = runtime_on(store, fleet, push={"systems": systems})
    try:
        decide(runtime, tmp_path)
        with store.session() as s:
            invoices = s.execute(select(func.count()).select_from(Invoice)).scalar_one()
            decided = s.execute(select(func.count()).select_from(Decision)).scalar_one()
            runs = {r.system: r.status for r in s.execute(select(SyncRun)).scalars()}
        assert invoices >= 60 and decided > 0
        assert set(runs) == {"quickbooks", "invoiced", "salesforce", "intacct"}
        first = runtime.push()
        assert first.ok, first
        assert first.written > 0
        writes = {name: server.writes for name, server in fleet.servers.items()}
        runtime.sync()
        runtime.reconcile()
        again = runtime.push()
        assert again.ok and again.written == 0
        assert {name: server.writes for name, server in fleet.servers.items()} == writes
        with store.session() as s:
            statuses = set(s.execute(select(col(OutboxCommand.status)).distinct()).scalars())
        assert "failed" not in statuses and "dead" not in statuses

        report = build_report(store)
        assert report["remittances"], "the report shows the bank file's remittances"
        for fmt in ("csv", "html", "xlsx", "json"):
            out = write_report(report, fmt, tmp_path / f"report.{fmt}")
            assert out.stat().st_size > 0
        buffer = io.StringIO()
        assert write_export(store, "invoices", "csv", buffer) == invoices
        rows = json.loads(_json_export(store, "applications"))
        assert rows and all(isinstance(r["amount"], str) for r in rows)
    finally:
        runtime.close()


def _json_export(store: Store, kind: Any) -> str:
    buffer = io.StringIO()
    write_export(store, kind, "json", buffer)
    return buffer.getvalue()


# -- reconcile: short pays, over-payments, multi-invoice payments, credit memos ---------------


def test_reconcile_short_over_multi_and_credit_memos(store: Store) -> None:
    book = Book(store)
    acme = book.customer("Acme Corporation")
    globex = book.customer("Globex GmbH")
    i1 = book.invoice(acme, "INV-1001", "1000.00")
    i2 = book.invoice(acme, "INV-1002", "250.00")
    i3 = book.invoice(globex, "INV-2001", "500.00")
    i4 = book.invoice(globex, "INV-2002", "300.00")
    book.credit(acme, "CM-7", "100.00", reference="INV-1002")
    multi = book.pay(
        "1250.00", payer="ACME CORPORATION", refs=[ref("INV-1001", "1000.00"), ref("INV-1002")]
    )
    short = book.pay("499.00", payer="Globex GmbH", text="INV-2001")
    over = book.pay("320.00", payer="Globex GmbH", text="INV-2002")
    summary = reconcile(store)
    assert summary is not None
    assert applied(store, multi) == {"INV-1001": "1000.00", "INV-1002": "250.00"}
    assert balance(store, i1) == ("0.00", "paid")
    assert balance(store, i2)[0] == "0.00"
    assert decision(store, short).status in ("auto_applied", "suggested", "exception")
    assert decision(store, over).amount_minor == 32000
    assert balance(store, i3)[0] in ("0.00", "1.00", "500.00")
    assert balance(store, i4)[0] in ("0.00", "300.00")
    # a second run decides nothing again
    again = reconcile(store)
    with store.session() as s:
        live = s.execute(
            select(func.count()).select_from(Decision).where(col(Decision.superseded).is_(False))
        ).scalar_one()
    assert live >= 3
    assert again is not None


def test_huge_amounts_in_minor_units_of_idr(store: Store) -> None:
    """10^15 minor units and more (a large IDR or VND book) round-trip exactly and sum."""
    book = Book(store)
    big = book.customer("PT Besar Sekali Tbk")
    invoice = book.invoice(big, "IDR-1", "9000000000000000", currency="IDR")
    cash = book.pay("9000000000000000", payer="PT Besar Sekali Tbk", text="IDR-1", currency="IDR")
    reconcile(store)
    # IDR has two decimals in ISO 4217: 9 * 10^17 minor units, near BIGINT's limit
    assert applied(store, cash) == {"IDR-1": "9000000000000000.00"}
    assert balance(store, invoice) == ("0.00", "paid")
    report = build_report(store)
    text_report = json.dumps(report, default=str)
    assert "9000000000000000" in text_report


# -- ingest and webhooks ----------------------------------------------------------------------


def test_bank_file_twice_and_a_replayed_webhook_apply_cash_once(
    store: Store, tmp_path: Path
) -> None:
    book = Book(store)
    acme = book.customer("Acme Corp")
    inv = book.invoice(acme, "INV-77", "200.00")
    inv2 = book.invoice(acme, "INV-78", "150.00")
    path = camt_file(
        tmp_path / "a.xml",
        [{"ref": "B1", "amount": "200.00", "payer": "Acme Corp", "text": "INV-77"}],
    )
    first = ingest_files(store, [path])
    second = ingest_files(store, [path])
    assert (first.new, second.new, second.duplicate) == (1, 0, 1)

    runtime = runtime_on(store)
    try:
        event = stripe_payment("pi_PAR1", 15000, invoice_number="INV-78")
        one = stripe(store, runtime.settings, event)
        two = stripe(store, runtime.settings, event)
        assert len(one.remittances) == 1 and two.duplicates == 1
    finally:
        runtime.close()
    reconcile(store)
    reconcile(store)
    assert balance(store, inv) == ("0.00", "paid")
    assert balance(store, inv2) == ("0.00", "paid")
    with store.session() as s:
        cash = s.execute(select(func.count()).select_from(Remittance)).scalar_one()
    assert cash == 2


def test_long_payer_names_and_narrations_in_a_bank_file_are_kept(
    store: Store, tmp_path: Path
) -> None:
    path = camt_file(
        tmp_path / "long.xml",
        [
            {"ref": "L1", "amount": "10.00", "payer": "P" * 140, "text": "N" * 140},
            {"ref": "L2", "amount": "11.00", "payer": "Q" * 70, "text": "short"},
        ],
    )
    report = ingest_files(store, [path])
    assert report.new == 2, report.errors
    with store.session() as s:
        names = sorted(len(r.payer_name or "") for r in s.execute(select(Remittance)).scalars())
    assert names == [70, 140]


def test_a_webhook_with_a_very_long_payer_name_is_taken_in(store: Store) -> None:
    runtime = runtime_on(store)
    try:
        event = stripe_payment("pi_LONG", 5000, name="Ä" * 400, invoice_number="INV-9")
        intake = stripe(store, runtime.settings, event)
        assert len(intake.remittances) == 1, intake
        with store.session() as s:
            cash = s.execute(select(Remittance)).scalar_one()
        assert cash.payer_name is not None and cash.payer_name.startswith("ÄÄÄ")
        assert len(cash.payer_name) <= 255
    finally:
        runtime.close()


def test_nul_bytes_in_a_webhook_do_not_fail_the_delivery(store: Store) -> None:
    runtime = runtime_on(store)
    try:
        event = stripe_payment(
            "pi_NUL", 5000, name="Acme\x00 Corp", invoice_number="INV-\x0010", description="a\x00b"
        )
        intake = stripe(store, runtime.settings, event)
        assert len(intake.remittances) == 1, intake
        with store.session() as s:
            cash = s.execute(select(Remittance)).scalar_one()
            stored = s.execute(select(WebhookEvent)).scalar_one()
        assert "\x00" not in (cash.payer_name or "") + (cash.free_text or "")
        assert stored.status == "processed"
        # a later invoice.paid searches structured refs of the stored cash (JSON on PostgreSQL)
        paid = {
            "id": "evt_paid_x",
            "object": "event",
            "api_version": "2025-03-31.basil",
            "created": 1763800200,
            "type": "invoice.paid",
            "livemode": False,
            "data": {
                "object": {
                    "id": "in_X",
                    "object": "invoice",
                    "number": "STR-1",
                    "amount_paid": 5000,
                    "amount_due": 5000,
                    "currency": "usd",
                    "status": "paid",
                    "metadata": {},
                }
            },
        }
        later = stripe(store, runtime.settings, paid)
        assert later.failed == [], later.failed
    finally:
        runtime.close()


def test_nul_bytes_in_a_bank_file_narration(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "nul.xml"
    camt_file(path, [{"ref": "Z1", "amount": "12.00", "payer": "Acme", "text": "INV-1 paid"}])
    path.write_bytes(path.read_bytes().replace(b"INV-1 paid", b"INV-1 &#0; paid"))
    raw = path.read_bytes().replace(b"Acme", b"Ac\x00me")
    (tmp_path / "nul2.xml").write_bytes(raw)
    report = ingest_files(store, [path, tmp_path / "nul2.xml"])
    # whatever the parser makes of it, nothing crashes and the outcome is reported
    assert report.new + report.rejected + report.duplicate >= 1
    with store.session() as s:
        for r in s.execute(select(Remittance)).scalars():
            assert "\x00" not in (r.payer_name or "") + (r.free_text or "") + r.raw


# -- pull through the real mappings: lengths and NUL bytes ------------------------------------


def test_pulled_values_longer_than_their_columns_are_quarantined_or_truncated(
    store: Store,
) -> None:
    counts = pull(
        store,
        "invoiced",
        "customers",
        [
            ("1", {"id": 1, "name": "N" * 400, "number": "C-1"}),
            ("2", {"id": 2, "name": "Fine Co", "number": "X" * 80}),
            ("3", {"id": 3, "name": "Also Fine", "number": "C-3"}),
            ("4", {"id": 4, "name": "Mail Co", "number": "C-4", "email": "m" * 300 + "@x.io"}),
        ],
    )
    stored = customers(store)
    assert "C-3" in stored, "one bad record never stops the page"
    assert len(stored["C-1"].name) <= 255 and stored["C-1"].name.startswith("NNN")
    problems = quarantined(store)
    assert "2" in problems and "number" in problems["2"].reason
    # an email is a contact, not an identifier: a list of addresses too long is cut, and the
    # customer (whom its invoices need) is stored
    assert "4" not in problems and stored["C-4"].email == ("m" * 300)[:255]
    assert counts.quarantined == 1


def test_a_remote_id_longer_than_the_ref_column_is_quarantined(store: Store) -> None:
    long_id = "a" * 200
    pull(
        store,
        "invoiced",
        "customers",
        [(long_id, {"id": long_id, "name": "Long Id"}), ("5", {"id": 5, "name": "Short Id"})],
    )
    stored = customers(store)
    assert "Short Id" in stored and "Long Id" not in stored
    problems = quarantined(store)
    assert len(problems) == 1
    (problem,) = problems.values()
    assert "remote_id" in problem.reason or "id" in (problem.field or "")


def test_nul_bytes_in_pulled_records(store: Store) -> None:
    pull(
        store,
        "invoiced",
        "customers",
        [("6", {"id": 6, "name": "Nul\x00 Co", "number": "C-6"}), ("7", {"id": 7, "name": "Ok"})],
    )
    stored = customers(store)
    assert "Ok" in stored
    assert "C-6" in stored and "\x00" not in stored["C-6"].name
    with store.session() as s:
        for r in s.execute(select(ExternalRef)).scalars():
            assert "\x00" not in json.dumps(r.values)


# -- import --------------------------------------------------------------------------------


def test_import_csv_with_long_and_nul_values(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(
        "customer_id,name,email\n"
        "C1,Plain Co,a@b.c\n"
        f"C2,{'L' * 300},l@b.c\n"
        f"{'K' * 200},Long Key,k@b.c\n"
        "C4,Nul\x00Co,n@b.c\n",
        encoding="utf-8",
    )
    report = import_file(store, "customers", path)
    stored = customers(store)
    names = {c.name for c in stored.values()}
    assert "Plain Co" in names, report.errors
    assert report.created + report.rejected == 4, report
    assert all("\x00" not in n and len(n) <= 255 for n in names)
    assert {"Plain Co", "L" * 255, "NulCo"} <= names
    assert report.rejected == 1
    assert report.errors == [
        "customers.csv: row 4: field 'remote_id': is 200 characters long, at most 128 fit"
    ]
    invoices = tmp_path / "invoices.csv"
    invoices.write_text(
        "invoice_number,customer_id,currency,total\nINV-1,C1,IDR,1000000000000000\n",
        encoding="utf-8",
    )
    result = import_file(store, "invoices", invoices)
    assert result.created == 1, result.errors
    with store.session() as s:
        total = s.execute(select(col(Invoice.total_minor))).scalar_one()
    assert total == 10**17  # 10^15 rupiah: IDR keeps two decimals in ISO 4217


# -- concurrent runs ------------------------------------------------------------------------


def test_a_second_run_is_refused_while_the_lease_is_held(store: Store) -> None:
    errors: list[BaseException] = []
    holding = threading.Event()
    release = threading.Event()

    def hold() -> None:
        try:
            with lease(store, "default", "reconcile"):
                holding.set()
                release.wait(10)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=hold)
    thread.start()
    assert holding.wait(10)
    try:
        with pytest.raises(LeaseHeld):
            reconcile(store)
    finally:
        release.set()
        thread.join(10)
    assert not errors
    assert reconcile(store) is not None  # released: the next run goes ahead


def test_many_threads_take_a_lease_exactly_once(store: Store) -> None:
    got: list[str] = []
    refused: list[str] = []
    start = threading.Barrier(6)
    lock = threading.Lock()

    def race(n: int) -> None:
        start.wait(10)
        try:
            with lease(store, "default", "race"):
                with lock:
                    got.append(str(n))
                threading.Event().wait(0.3)
        except LeaseHeld:
            with lock:
                refused.append(str(n))

    threads = [threading.Thread(target=race, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert len(got) == 1 and len(refused) == 5, (got, refused)


# -- dialect traps --------------------------------------------------------------------------


def test_aware_and_naive_datetimes_compare_alike(store: Store) -> None:
    naive = datetime(2026, 11, 2, 12, 0)
    with store.session() as s:
        s.add(SyncRun(system="quickbooks", started_at=naive))
        s.add(SyncRun(system="invoiced", started_at=datetime(2026, 11, 2, 13, 0, tzinfo=UTC)))
    cutoff = datetime(2026, 11, 2, 14, 30, tzinfo=UTC) - timedelta(hours=2)
    with store.session() as s:
        later = s.execute(
            select(col(SyncRun.system)).where(col(SyncRun.started_at) > cutoff)
        ).scalars()
        assert set(later) == {"invoiced"}
        back = s.execute(select(SyncRun).where(col(SyncRun.system) == "quickbooks")).scalar_one()
    assert back.started_at == naive.replace(tzinfo=UTC)


def test_a_failed_statement_does_not_poison_the_ingest_of_the_rest(
    store: Store, tmp_path: Path
) -> None:
    """A duplicate key raced in by another ingest: the rest of the file still lands."""
    first = camt_file(
        tmp_path / "one.xml", [{"ref": "R1", "amount": "5.00", "payer": "A", "text": "x"}], "M1"
    )
    ingest_files(store, [first])
    both = camt_file(
        tmp_path / "two.xml",
        [
            {"ref": "R1", "amount": "5.00", "payer": "A", "text": "x"},
            {"ref": "R2", "amount": "6.00", "payer": "B", "text": "y"},
            {"ref": "R3", "amount": "7.00", "payer": "C" * 300, "text": "z"},
        ],
        "M2",
    )
    report = ingest_files(store, [both])
    assert report.new == 2 and report.duplicate == 1, report.errors


def test_integrity_error_inside_a_session_rolls_back_cleanly(store: Store) -> None:
    with store.session() as s:
        s.add(Remittance(source="x", source_key="dup", currency="USD", amount_minor=1))
    with pytest.raises(IntegrityError), store.session() as s:
        s.add(Remittance(source="x", source_key="dup", currency="USD", amount_minor=2))
    with store.session() as s:  # the connection returned to the pool is usable
        assert s.execute(select(func.count()).select_from(Remittance)).scalar_one() == 1


def test_case_and_ordering_of_text_do_not_depend_on_the_backend(store: Store) -> None:
    book = Book(store)
    lower = book.customer("acme corp")
    book.invoice(lower, "inv-10", "10.00")
    upper = book.customer("ACME CORP")
    book.invoice(upper, "INV-10", "12.00")
    cash = book.pay("12.00", payer="ACME CORP", text="INV-10")
    reconcile(store)
    assert applied(store, cash) in ({"INV-10": "12.00"}, {})
    rows = json.loads(_json_export(store, "invoices"))
    assert [r["number"] for r in rows] == sorted(r["number"] for r in rows) or len(rows) == 2


def test_long_error_messages_and_salesforce_names_are_stored(store: Store) -> None:
    with store.session() as s:
        s.add(
            OutboxCommand(
                system="salesforce",
                operation="update_invoice",
                canonical_type="invoice",
                canonical_id="i1",
                idempotency_key="k" * 64,
                last_error="E" * 10_000,
                remote_id="a0B" + "x" * 15,
            )
        )
        s.add(SyncRun(system="salesforce", error="boom " * 5000))
    counts = pull(
        store,
        "salesforce",
        "customers",
        [
            (
                "001000000000001AAA",
                {
                    "Id": "001000000000001AAA",
                    "Name": "S" * 300,
                    "AccountNumber": "SF-1",
                    "LastModifiedDate": "2026-01-01T00:00:00.000+0000",
                },
            )
        ],
    )
    assert counts.created + counts.quarantined == 1
    with store.session() as s:
        assert len(s.execute(select(OutboxCommand)).scalar_one().last_error or "") == 10_000


def test_json_columns_round_trip_decimals_and_unicode(store: Store) -> None:
    with store.session() as s:
        s.add(
            Remittance(
                source="camt.054",
                source_key="json-1",
                currency="USD",
                amount_minor=100,
                structured_refs=[{"kind": "invoice", "ref": "Ü-1", "amount": "1.00"}],
            )
        )
    with store.session() as s:
        r = s.execute(select(Remittance)).scalar_one()
    assert r.structured_refs == [{"kind": "invoice", "ref": "Ü-1", "amount": "1.00"}]


# -- migrations --------------------------------------------------------------------------------


def test_an_existing_postgres_database_upgrades_in_place() -> None:
    reason = _pg_reachable()
    if reason:
        pytest.skip(reason)
    schema = f"m_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{PG_ADMIN_URL}?options=-csearch_path%3D{schema}"
    try:
        old = Store(url)
        cfg = alembic_config(old.engine)
        command.upgrade(cfg, "4079c847a41c")  # the initial schema
        with old.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO customer (id, tenant, name, name_key, status, credit_hold, "
                    "created_at, updated_at) VALUES ('c1', 'default', 'Kept', 'KEPT', "
                    "'ACTIVE', false, '2026-01-01', '2026-01-01')"
                )
            )
        old.dispose()
        store = Store.open(url)
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT name FROM customer")).scalar_one() == "Kept"
        from alembic.autogenerate import compare_metadata
        from alembic.migration import MigrationContext
        from sqlmodel import SQLModel

        with store.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
        store.dispose()
        assert diff == [], diff
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
