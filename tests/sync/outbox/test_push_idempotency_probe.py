"""Push idempotency under failure, every system, every kind of write the outbox sends.

Each scenario runs the whole pipeline (sync, a bank file, reconcile: cash with credit memos
netted off, short pays written off, an over-payment left unapplied, the CRM's state) against
the four sandboxes, breaks the push in one way, lets the next push settle it, and then reads
the *vendor's own books*: every invoice's balance there is what it was less exactly what the
confirmed commands applied (to the cent), every key arsync sent became at most one record,
and every command is done or parked with a reason; nothing pending, sent or failed is left.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col
from werkzeug.wrappers import Request, Response

from canonical.enums import CommandStatus, DocumentStatus
from canonical.lease import lease
from canonical.models import Customer, ExternalRef, Invoice, OutboxCommand
from canonical.money import Money
from connectors.sandbox.bankfiles import InvoiceRef, Payment, write_camt054
from connectors.sandbox.server import Faults, SandboxServer
from connectors.sandbox.world import World
from reconciler.rules import DEFAULT_RULES
from sync.demo_cash import BANK_ACCOUNT, sample_payments
from sync.ingest import ingest_files
from sync.outbox.worker import PUSH_LEASE
from sync.runtime import Runtime
from sync.sandboxes import SandboxFleet, running_sandboxes
from tests.support.pipeline import open_runtime
from tests.sync.outbox.books import plan_reversal
from tests.sync.outbox.test_push_crash import written_keys

pytestmark = pytest.mark.timeout(120)
SYSTEMS = ("quickbooks", "invoiced", "intacct", "salesforce")
PAYMENT_SYSTEMS = SYSTEMS[:3]
WRITE_METHODS = ("POST", "PATCH", "PUT", "DELETE")
INTACCT_WRITES = ("<create>", "<create_aradjustment", "<apply_arpayment", "<reverse_arpayment")
SETTLED = {CommandStatus.CONFIRMED, CommandStatus.CANCELLED}
PARKED = {CommandStatus.DEAD, CommandStatus.CONFLICT}


@pytest.fixture
def fleet() -> Iterator[SandboxFleet]:
    with running_sandboxes(World.generate(seed=3, customers=14, invoices=80)) as running:
        yield running


# the pipeline -------------------------------------------------------------------------------
def runtime_for(fleet: SandboxFleet, tmp_path: Path, systems: tuple[str, ...] = SYSTEMS) -> Runtime:
    return open_runtime(
        fleet,
        tmp_path / "a.db",
        push={"systems": list(systems), "backoff_seconds": 0, "max_attempts": 6},
    )


def decided(fleet: SandboxFleet, tmp_path: Path, systems: tuple[str, ...] = SYSTEMS) -> Runtime:
    """Sync, a bank file (the sample, plus a short pay by a stated discount and an
    over-payment), reconcile: the outbox holds every kind of write."""
    runtime = runtime_for(fleet, tmp_path, systems)
    results = runtime.sync()
    assert all(r.error is None for r in results), [r.error for r in results]
    payments = sample_payments(runtime.store)
    seen_twice: set[str] = set()
    with runtime.store.session() as s:
        rows = s.execute(
            select(Invoice)
            .where(col(Invoice.status) == DocumentStatus.OPEN, col(Invoice.balance_minor) > 0)
            .order_by(col(Invoice.customer_id), col(Invoice.number))
        ).scalars()
        extra: list[Payment] = []
        seen: set[str] = set()  # customers whose first open invoice the sample pays
        for inv in rows:
            if inv.customer_id not in seen:
                seen.add(inv.customer_id)
                continue
            if inv.currency != "USD" or inv.balance_minor < 50_00 or inv.customer_id in seen_twice:
                continue
            seen_twice.add(inv.customer_id)
            customer = s.get(Customer, inv.customer_id)
            assert customer is not None
            name = customer.name
            balance = inv.balance.amount
            if len(extra) == 0:  # a stated discount: the short pay is written off
                discount = Decimal("3.00")
                ref = InvoiceRef(
                    inv.number, paid=balance - discount, invoice_amount=balance, discount=discount
                )
                extra.append(Payment(name, balance - discount, "USD", date_today(), refs=[ref]))
            else:  # an over-payment: the rest is left unapplied
                ref = InvoiceRef(inv.number, paid=balance, invoice_amount=balance)
                extra.append(
                    Payment(name, balance + Decimal("12.34"), "USD", date_today(), refs=[ref])
                )
            if len(extra) == 2:
                break
    bank_file = tmp_path / "bank.camt054.xml"
    write_camt054(
        bank_file,
        payments + extra,
        account_iban=BANK_ACCOUNT,
        message_id="PROBE",
        created=datetime.now(UTC),
    )
    ingest_files(runtime.store, [bank_file])
    rules = tmp_path / "rules.toml"
    rules.write_text(
        DEFAULT_RULES.read_text().replace(
            'stated_deductions = "within_tolerance"', 'stated_deductions = "always"'
        )
    )
    runtime.reconcile(rules)
    planned = commands(runtime)
    kinds = {r.operation for r in planned} | {
        "unapplied" for r in planned if r.payload.get("unapplied_minor")
    }
    wanted = {"apply_cash", "apply_credit", "write_off", "unapplied"}
    if "salesforce" in systems:
        wanted |= {"invoice_state", "account_summary"}
    assert wanted <= kinds, kinds
    return runtime


def date_today() -> Any:
    return datetime.now(UTC).date()


def commands(runtime: Runtime) -> list[OutboxCommand]:
    with runtime.store.session() as s:
        rows = list(s.execute(select(OutboxCommand)).scalars())
        s.expunge_all()
    return rows


# the vendor's books -------------------------------------------------------------------------
def remote_balance(fleet: SandboxFleet, system: str, remote_id: str) -> Decimal | None:
    server: Any = fleet.servers[system]
    if system == "quickbooks":
        row = server.records["Invoice"].get(remote_id)
        return None if row is None else Decimal(str(row["Balance"]))
    if system == "invoiced":
        row = server.ledger.records["invoices"].get(int(remote_id))
        return None if row is None else Decimal(str(row["balance"]))
    if system == "intacct":
        row = server.records["ARINVOICE"].get(remote_id)
        return None if row is None else Decimal(str(row["TRX_TOTALDUE"]))
    row = server.tables["Invoice__c"].get(remote_id)
    return None if row is None else Decimal(str(row["Balance__c"]))


def books(fleet: SandboxFleet, runtime: Runtime) -> dict[tuple[str, str], Decimal]:
    """(system, canonical invoice id) -> the invoice's balance in that system now."""
    out: dict[tuple[str, str], Decimal] = {}
    with runtime.store.session() as s:
        refs = s.execute(
            select(ExternalRef).where(
                col(ExternalRef.canonical_type) == "invoice", col(ExternalRef.deleted).is_(False)
            )
        ).scalars()
        for ref in refs:
            if ref.system in fleet.servers:
                balance = remote_balance(fleet, ref.system, ref.remote_id)
                if balance is not None:
                    out[(ref.system, ref.canonical_id)] = balance
    return out


def taken(c: OutboxCommand) -> dict[str, Decimal]:
    """Invoice id -> what a confirmed command took off its balance in its system."""
    out: Counter[str] = Counter()
    sign = -1 if c.operation == "void_cash" else 1
    if c.operation in ("apply_cash", "apply_credit", "void_cash"):
        for line in c.payload.get("lines") or ():
            out[line["invoice_id"]] += sign * int(line["amount_minor"])
    elif c.operation == "write_off":
        out[c.payload["invoice_id"]] += int(c.payload["amount_minor"])
    return {k: Money.from_minor(v, c.payload["currency"]).amount for k, v in out.items()}


def check_books(
    fleet: SandboxFleet,
    runtime: Runtime,
    before: dict[tuple[str, str], Decimal],
    systems: tuple[str, ...] = SYSTEMS,
) -> list[OutboxCommand]:
    """The vendors' books show every confirmed command exactly once and nothing else; the
    outbox has nothing lost or stuck. Returns the commands."""
    rows = commands(runtime)
    mine = [r for r in rows if r.system in systems]
    stuck = [
        (r.system, r.operation, r.status, r.last_error)
        for r in mine
        if r.status not in SETTLED | PARKED
    ]
    assert not stuck, stuck  # nothing pending, sent (unknown) or failed-to-retry is left
    for r in mine:
        if r.status in PARKED:  # clearly failed, with a reason naming the record
            assert r.last_error and r.system in r.last_error, (r.operation, r.last_error)
    # nothing written twice; everything confirmed is there exactly once
    keys = written_keys(fleet)
    assert [k for k, n in keys.items() if n > 1] == []
    voided = {
        r.payload.get("original_command")
        for r in mine
        if r.operation == "void_cash" and r.status == CommandStatus.CONFIRMED
    }
    for r in mine:
        if r.system in PAYMENT_SYSTEMS and r.status == CommandStatus.CONFIRMED:
            if r.operation == "void_cash" or r.id in voided:  # QBO notes a void "Voided - ..."
                continue
            step_keys = set((r.result or {}).get("remote_ids", {}))
            assert step_keys and all(keys[k] == 1 for k in step_keys), (r.system, r.operation)
    # balances to the cent: what they were, less what the confirmed commands applied
    expected = dict(before)
    for r in mine:
        if r.system in PAYMENT_SYSTEMS and r.status == CommandStatus.CONFIRMED:
            for invoice_id, amount in taken(r).items():
                expected[(r.system, invoice_id)] -= amount
    after = books(fleet, runtime)
    wrong = {
        k: (before[k], expected[k], after.get(k))
        for k in before
        if k[0] in PAYMENT_SYSTEMS and k[0] in systems and after.get(k) != expected[k]
    }
    assert not wrong, wrong
    assert any(r.status == CommandStatus.CONFIRMED for r in mine)
    check_payment_amounts(fleet, mine)
    if "salesforce" in systems:
        check_crm(fleet, runtime, mine, after)
    return rows


def check_payment_amounts(fleet: SandboxFleet, rows: list[OutboxCommand]) -> None:
    """Each confirmed ``apply_cash`` is one payment of the whole cash, unapplied rest included."""
    qbo: Any = fleet.servers.get("quickbooks")
    invoiced: Any = fleet.servers.get("invoiced")
    voided = {r.payload.get("original_command") for r in rows if r.operation == "void_cash"}
    for r in rows:
        if r.operation != "apply_cash" or r.status != CommandStatus.CONFIRMED or r.id in voided:
            continue
        cash = Money.from_minor(int(r.payload["amount_minor"]), r.payload["currency"]).amount
        if r.system == "quickbooks" and qbo is not None:
            record = qbo.records["Payment"][str(r.remote_id)]
            assert Decimal(str(record["TotalAmt"])) == cash, r.payload
        elif r.system == "invoiced" and invoiced is not None:
            record = invoiced.ledger.records["payments"][int(str(r.remote_id))]
            assert Decimal(str(record["amount"])) == cash, r.payload


def check_crm(
    fleet: SandboxFleet,
    runtime: Runtime,
    rows: list[OutboxCommand],
    after: dict[tuple[str, str], Decimal],
) -> None:
    """Salesforce shows arsync's balance of every invoice whose state it confirmed."""
    with runtime.store.session() as s:
        for r in rows:
            if r.system != "salesforce" or r.operation != "invoice_state":
                continue
            assert r.status == CommandStatus.CONFIRMED, r.last_error
            invoice = s.get(Invoice, r.payload["invoice_id"])
            assert invoice is not None
            assert after[("salesforce", invoice.id)] == invoice.balance.amount, invoice.number


# taps on a sandbox's endpoints --------------------------------------------------------------
def is_write(server: SandboxServer, request: Request) -> bool:
    if request.method not in WRITE_METHODS or "token" in request.path or "oauth" in request.path:
        return False
    if server.system == "intacct":
        body = request.get_data(as_text=True)
        return any(tag in body for tag in INTACCT_WRITES)
    return "query" not in request.path


def request_text(request: Request) -> str:
    headers = " ".join(f"{k}:{v}" for k, v in request.headers.items())
    return f"{request.full_path} {headers} {request.get_data(as_text=True)}"


Hook = Callable[[Request, Response], Response | None]


def tap(
    server: SandboxServer,
    *,
    before: Callable[[Request], Response | None] | None = None,
    after: Hook | None = None,
) -> None:
    """Run ``before`` ahead of every write request (its response answers instead) and
    ``after`` once a write was handled (its response replaces the vendor's)."""
    handlers = server._handlers
    for endpoint, handler in list(handlers.items()):

        def wrapped(request: Request, _handler: Any = handler, **kwargs: Any) -> Response:
            write = is_write(server, request)
            if write and before is not None:
                early = before(request)
                if early is not None:
                    return early
            response: Response = _handler(request, **kwargs)
            if write and after is not None and response.status_code < 300:
                replaced = after(request, response)
                if replaced is not None:
                    return replaced
            return response

        handlers[endpoint] = wrapped


# the scenarios ------------------------------------------------------------------------------
class Crash(Exception):
    """The pusher dies: nothing after this point of the push runs."""


@pytest.mark.parametrize("system", SYSTEMS)
def test_a_crash_after_the_writes_landed_before_they_were_recorded(
    fleet: SandboxFleet, tmp_path: Path, system: str
) -> None:
    runtime = decided(fleet, tmp_path)
    before = books(fleet, runtime)
    try:

        def crash(point: str) -> None:
            if point == "after_send":
                raise Crash(point)

        with pytest.raises(Crash):
            runtime.push([system], crash=crash)
        assert any(r.status == CommandStatus.SENT for r in commands(runtime) if r.system == system)
        assert runtime.push().ok
        assert runtime.push().written == 0
        check_books(fleet, runtime, before)
    finally:
        runtime.close()


@pytest.mark.parametrize("system", SYSTEMS)
def test_a_reply_lost_after_the_vendor_applied_it(
    fleet: SandboxFleet, tmp_path: Path, system: str
) -> None:
    runtime = decided(fleet, tmp_path)
    before = books(fleet, runtime)
    server: Any = fleet.servers[system]
    try:
        server.faults = Faults(drop_reply_next=3)
        runtime.push([system])
        server.faults = Faults()
        if system == "invoiced":
            server.replies.clear()  # Invoiced no longer remembers the keys: only metadata can tell
        assert runtime.push().ok
        assert runtime.push().written == 0
        check_books(fleet, runtime, before)
    finally:
        runtime.close()


@pytest.mark.parametrize("system", SYSTEMS)
def test_a_5xx_after_the_write_landed(fleet: SandboxFleet, tmp_path: Path, system: str) -> None:
    runtime = decided(fleet, tmp_path)
    before = books(fleet, runtime)
    server = fleet.servers[system]
    left = [3]

    def after(request: Request, response: Response) -> Response | None:
        if left[0] > 0:
            left[0] -= 1
            return server.error(503, "503", "service unavailable (after the write)")
        return None

    tap(server, after=after)
    try:
        runtime.push()
        left[0] = 0
        runtime.push()
        assert runtime.push().written == 0
        check_books(fleet, runtime, before)
    finally:
        runtime.close()


@pytest.mark.parametrize("system", PAYMENT_SYSTEMS)
def test_a_429_with_retry_after_between_the_steps_of_a_write_off(
    fleet: SandboxFleet, tmp_path: Path, system: str
) -> None:
    """The credit document of a write-off landed; then the vendor throttles (longer than the
    connector's own retries) with Retry-After: the second step waits and is sent later, once."""
    runtime = decided(fleet, tmp_path)
    before = books(fleet, runtime)
    write_offs = [c for c in commands(runtime) if c.system == system and c.operation == "write_off"]
    assert write_offs, "the bank file wrote nothing off"
    memo_keys = [f"{c.idempotency_key}:m" for c in write_offs]
    server = fleet.servers[system]
    throttled = [0]

    def before_write(request: Request) -> Response | None:
        if throttled[0] > 0:
            throttled[0] -= 1
            response = server.error(429, "rate_limit", "too many requests (injected)")
            response.headers["Retry-After"] = "1"
            return response
        return None

    def after(request: Request, response: Response) -> Response | None:
        if any(key in request_text(request) for key in memo_keys):
            throttled[0] = 8  # outlasts the connector's attempts: the outbox must wait
        return None

    tap(server, before=before_write, after=after)
    try:
        first = runtime.push([system])
        assert first.systems[system].failed > 0  # waits for Retry-After
        rows = {c.id: c for c in commands(runtime)}
        assert all(rows[c.id].status != CommandStatus.DEAD for c in write_offs)
        time.sleep(1.1)
        throttled[0] = 0
        assert runtime.push().ok
        assert runtime.push().written == 0
        done = check_books(fleet, runtime, before)
        for c in done:
            if c.operation == "write_off" and c.system == system:
                assert c.status == CommandStatus.CONFIRMED, c.last_error
    finally:
        runtime.close()


@pytest.mark.parametrize("system", SYSTEMS)
def test_a_token_expiring_in_the_middle_of_a_push(
    fleet: SandboxFleet, tmp_path: Path, system: str
) -> None:
    runtime = decided(fleet, tmp_path)
    before = books(fleet, runtime)
    server = fleet.servers[system]
    writes = [0]

    def after(request: Request, response: Response) -> Response | None:
        writes[0] += 1
        if writes[0] == 2:
            server.expire_tokens()  # the access token dies right after this write
        return None

    tap(server, after=after)
    try:
        runtime.push()
        assert runtime.push().ok
        assert runtime.push().written == 0
        check_books(fleet, runtime, before)
    finally:
        runtime.close()


def test_two_push_workers_started_at_once(fleet: SandboxFleet, tmp_path: Path) -> None:
    first = decided(fleet, tmp_path)
    before = books(fleet, first)
    second = runtime_for(fleet, tmp_path)
    for server in fleet.servers.values():  # slow writes: the two pushes overlap

        def slow(request: Request, response: Response) -> Response | None:
            time.sleep(0.02)
            return None

        tap(server, after=slow)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(runtime: Runtime) -> None:
        try:
            barrier.wait()
            runtime.push()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(r,)) for r in (first, second)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors
        first.push()
        assert first.push().written == 0
        check_books(fleet, first, before)
    finally:
        first.close()
        second.close()


def test_a_push_while_another_holds_the_systems_lease_sends_nothing_of_it(
    fleet: SandboxFleet, tmp_path: Path
) -> None:
    runtime = decided(fleet, tmp_path)
    try:
        before = books(fleet, runtime)
        due = {c.id for c in commands(runtime) if c.system == "quickbooks"}
        with lease(runtime.store, runtime.settings.tenant, f"{PUSH_LEASE}:quickbooks"):
            summary = runtime.push()
        skipped = summary.systems["quickbooks"]
        assert skipped.busy and "another push:quickbooks is running" in skipped.busy
        assert skipped.confirmed == 0 and skipped.requests == 0
        assert {
            c.id for c in commands(runtime) if c.status == CommandStatus.PENDING
        } >= due  # nothing of it was marked sent
        assert all(summary.systems[s].busy is None for s in SYSTEMS if s != "quickbooks")
        assert runtime.push().systems["quickbooks"].confirmed == len(due)  # the lease is free
        check_books(fleet, runtime, before)
    finally:
        runtime.close()


def test_reconcile_and_push_again_after_everything_landed_send_nothing(
    fleet: SandboxFleet, tmp_path: Path
) -> None:
    runtime = decided(fleet, tmp_path)
    before = books(fleet, runtime)
    try:
        assert runtime.push().ok
        writes = {name: server.writes for name, server in fleet.servers.items()}
        outbox = len(commands(runtime))
        assert all(r.error is None for r in runtime.sync())
        runtime.reconcile()
        again = runtime.push()
        assert again.ok and again.written == 0
        assert {name: server.writes for name, server in fleet.servers.items()} == writes
        assert len(commands(runtime)) == outbox  # nothing new decided or planned
        check_books(fleet, runtime, before)
    finally:
        runtime.close()


@pytest.mark.parametrize("system", PAYMENT_SYSTEMS)
def test_a_decision_reversed_by_a_person_while_its_payment_is_in_flight(
    fleet: SandboxFleet, tmp_path: Path, system: str
) -> None:
    runtime = decided(fleet, tmp_path, (system,))
    before = books(fleet, runtime)
    rows = commands(runtime)
    by_decision = Counter(r.decision_id for r in rows)
    target = next(
        r
        for r in sorted(rows, key=lambda r: (r.created_at, r.id))
        if r.operation == "apply_cash" and by_decision[r.decision_id] == 1
    )
    line = target.payload["lines"][0]
    reversed_ = [False]

    def after(request: Request, response: Response) -> Response | None:
        if not reversed_[0] and target.idempotency_key in request_text(request):
            reversed_[0] = True  # a person reverses it: the write landed, its reply is on its way
            plan_reversal(
                runtime.store,
                [system],
                customer=target.payload["customer_id"],
                invoice=line["invoice_id"],
                amount_minor=int(line["amount_minor"]),
                original_decision=str(target.decision_id),
            )
        return None

    tap(fleet.servers[system], after=after)
    try:
        runtime.push()
        assert reversed_[0]
        assert runtime.push().ok
        assert runtime.push().written == 0
        done = {r.id: r for r in check_books(fleet, runtime, before, (system,))}
        voids = [r for r in done.values() if r.operation == "void_cash"]
        assert [v.status for v in voids] == [CommandStatus.CONFIRMED], [
            (v.status, v.last_error) for v in voids
        ]
        assert done[target.id].status == CommandStatus.CONFIRMED
        # the bank took the cash back: the invoice owes again what it owed
        after_books = books(fleet, runtime)
        assert after_books[(system, line["invoice_id"])] == before[(system, line["invoice_id"])]
    finally:
        runtime.close()
