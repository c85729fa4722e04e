"""The CLI as an operator meets it: first install, daily runs, and everything that goes wrong.

Each case drives ``arsync`` through Typer's CliRunner against an Invoiced sandbox on loopback
(the API key is a distinctive value that must never appear in any output), and checks what a
finance-ops engineer sees: one line naming the key, record or field, no Python traceback, the
exit code the README and ``--help`` promise (0 done, 1 failed, 2 wrong usage or setting, 75
another run holds the step).
"""

from __future__ import annotations

import csv
import io
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from canonical.lease import lease
from canonical.models import ExternalRef, Invoice
from connectors.invoiced import InvoicedSandbox
from connectors.sandbox.server import Faults
from connectors.sandbox.world import World
from sync.cli import app
from sync.engine import SYNC_LEASE
from sync.runtime import Runtime
from tests.support.pipeline import FAST

SECRET = "sk_live_OPERATOR_PROBE_7f3a9c2e5b1d"  # distinctive: found anywhere, it leaked
FORMULA_NAME = '=HYPERLINK("http://evil","Pay here"), Traders'
QUOTED_NAME = 'Smith, "Jones" and Sons'
NEWLINE_NAME = 'Line One,\n"Line" Two'  # imported: a sandbox folds blanks
PLUS_NAME = "+1 Traders"
MINUS_NAME = "-Minus Traders"
AT_NAME = "@Risk GmbH"
UNICODE_NAME = "Müller Straße Ōsaka 株式会社"


def _world() -> World:
    """A small book with the names and currencies that break naive exports."""
    world = World.generate(seed=11, customers=10, invoices=40)
    names = [FORMULA_NAME, QUOTED_NAME, PLUS_NAME, MINUS_NAME, AT_NAME, UNICODE_NAME]
    for customer, name in zip(world.customers, names, strict=False):
        customer.name = name
    jpy, kwd = world.customers[6], world.customers[7]
    jpy.currency, kwd.currency = "JPY", "KWD"
    for invoice in world.invoices:
        if invoice.customer_key == jpy.key:
            invoice.currency = "JPY"
            invoice.total = Decimal(123456)
            invoice.balance = Decimal(123456) if invoice.status == "open" else Decimal(0)
        elif invoice.customer_key == kwd.key:
            invoice.currency = "KWD"
            invoice.total = Decimal("1234.567")
            invoice.balance = Decimal("1234.567") if invoice.status == "open" else Decimal(0)
    world.credit_memos = [m for m in world.credit_memos if m.customer_key not in (7, 8)]
    world.payments = [p for p in world.payments if p.customer_key not in (7, 8)]
    return world


@pytest.fixture(scope="module")
def sandbox() -> Iterator[InvoicedSandbox]:
    server = InvoicedSandbox(world=_world())
    server.api_key = SECRET
    server.start()
    yield server
    server.stop()


@dataclass
class Operator:
    """An operator's shell: a config file, the environment, and ``arsync``."""

    home: Path
    sandbox: InvoicedSandbox
    monkeypatch: pytest.MonkeyPatch

    @property
    def db(self) -> Path:
        return self.home / "var" / "arsync.db"

    def config(self, body: str | None = None, name: str = "arsync.toml") -> Path:
        path = self.home / name
        if body is None:
            body = (
                f'database_url = "sqlite:///{self.db}"\n'
                "[sync]\nlag_seconds = 0\n"
                f'[invoiced]\nbase_url = "{self.sandbox.base_url}"\n'
            )
        path.write_text(body, encoding="utf-8")
        return path

    def arsync(self, *args: str, expect: int | None = None) -> Result:
        result = CliRunner().invoke(app, list(args))
        shown = result.output
        assert SECRET not in shown, f"secret leaked by {args}: {shown}"
        assert "Traceback" not in shown, shown
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(f"{args} raised {result.exception!r}:\n{shown}")
        if expect is not None:
            assert result.exit_code == expect, f"{args} exit {result.exit_code}:\n{shown}"
        return result

    def rows(self, model: Any) -> int:
        from canonical.store import Store

        store = Store.open(f"sqlite:///{self.db}")
        try:
            with store.session() as session:
                return int(session.execute(select(func.count()).select_from(model)).scalar_one())
        finally:
            store.dispose()


@pytest.fixture
def op(
    tmp_path: Path, sandbox: InvoicedSandbox, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Operator]:
    for name in list(__import__("os").environ):
        if name.startswith("ARSYNC_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ARSYNC_INVOICED__API_KEY", SECRET)
    monkeypatch.chdir(tmp_path)
    opened = Runtime.open.__func__  # type: ignore[attr-defined]
    # the CLI's own retry policy, with the waits shortened (an unreachable host is retried)
    monkeypatch.setattr(
        Runtime, "open", classmethod(lambda cls, s, policy=None: opened(cls, s, policy or FAST))
    )
    sandbox.faults = Faults()
    yield Operator(tmp_path, sandbox, monkeypatch)
    sandbox.faults = Faults()


def one_line_error(result: Result) -> str:
    """The error an operator sees: its last line (never wrapped: a log keeps it whole)."""
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    assert lines, f"no message at all: {result.output}"
    return lines[-1]


# configuration ------------------------------------------------------------------------------
def test_a_typo_in_a_key_is_named(op: Operator) -> None:
    before = op.sandbox.requests
    config = op.config(op.config().read_text().replace("lag_seconds", "lag_secnds"))
    answer = op.arsync("sync", "-c", str(config), expect=2)
    assert "sync.lag_secnds" in one_line_error(answer)
    config = op.config(op.config().read_text() + "page_sise = 10\n")  # in [invoiced]
    answer = op.arsync("sync", "-c", str(config), expect=2)
    assert "invoiced.page_sise" in one_line_error(answer)
    assert op.sandbox.requests == before  # nothing was asked of the system


def test_a_wrong_type_is_named(op: Operator) -> None:
    config = op.config(op.config().read_text().replace("lag_seconds = 0", 'lag_seconds = "1m"'))
    answer = op.arsync("status", "-c", str(config), expect=2)
    assert "sync.lag_seconds" in one_line_error(answer)
    config = op.config(op.config().read_text() + "page_size = 5000\n")
    answer = op.arsync("sync", "-c", str(config), expect=2)
    assert "invoiced.page_size" in one_line_error(answer)


def test_a_missing_secret_names_its_environment_variable(op: Operator) -> None:
    op.monkeypatch.delenv("ARSYNC_INVOICED__API_KEY")
    answer = op.arsync("sync", "-c", str(op.config()), expect=2)
    line = one_line_error(answer)
    assert "invoiced.api_key" in line and "ARSYNC_INVOICED__API_KEY" in line


def test_a_secret_in_the_file_works_but_is_warned_about_without_its_value(op: Operator) -> None:
    op.monkeypatch.delenv("ARSYNC_INVOICED__API_KEY")
    config = op.config(op.config().read_text() + f'api_key = "{SECRET}"\n')
    answer = op.arsync("sync", "-c", str(config), expect=0)
    assert "invoiced.api_key" in answer.stderr and "ARSYNC_INVOICED__API_KEY" in answer.stderr
    assert op.rows(Invoice) == len(op.sandbox.remote_ids("invoices"))


def test_a_missing_or_broken_config_file(op: Operator) -> None:
    answer = op.arsync("status", "-c", str(op.home / "nope.toml"), expect=2)
    assert "nope.toml" in one_line_error(answer)
    op.monkeypatch.setenv("ARSYNC_CONFIG", str(op.home / "gone.toml"))
    assert "gone.toml" in one_line_error(op.arsync("status", expect=2))
    broken = op.config("[invoiced\nbase_url = 1\n", name="broken.toml")
    assert "not valid TOML" in one_line_error(op.arsync("status", "-c", str(broken), expect=2))


def test_an_environment_variable_with_a_wrong_value_is_named(op: Operator) -> None:
    op.monkeypatch.setenv("ARSYNC_SYNC__LAG_SECONDS", "soon")
    answer = op.arsync("status", "-c", str(op.config()), expect=2)
    assert "sync.lag_seconds" in one_line_error(answer)


# reaching things ----------------------------------------------------------------------------
def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_endpoint_fails_in_one_line_and_shows_in_status(op: Operator) -> None:
    config = op.config(
        op.config().read_text().replace(op.sandbox.base_url, f"http://127.0.0.1:{_closed_port()}")
    )
    answer = op.arsync("sync", "-c", str(config), expect=1)
    assert one_line_error(answer).startswith("invoiced: cannot connect to http://127.0.0.1:")
    status = op.arsync("status", "-c", str(config), expect=0)
    assert "failed" in status.stdout and "invoiced" in status.stdout


def test_a_wrong_credential_stops_that_system_and_never_shows_the_key(op: Operator) -> None:
    op.monkeypatch.setenv("ARSYNC_INVOICED__API_KEY", SECRET + "x")  # the old key, say
    answer = op.arsync("sync", "-c", str(op.config()), expect=1)
    error = answer.stderr.lower()
    assert "invoiced" in error and ("401" in error or "credential" in error or "key" in error)
    assert SECRET + "x" not in answer.output
    assert op.rows(Invoice) == 0
    assert "check invoiced.api_key" in one_line_error(answer)  # what to fix, by its key


@pytest.mark.parametrize(
    ("url", "code", "reason"),
    [
        ("postgresql://arsync:" + SECRET + "@127.0.0.1:{port}/ar", 1, "refused"),
        ("postgresql://arsync@127.0.0.1:{port}/ar?password=" + SECRET, 1, "refused"),
        ("sqlite:////proc/no-such-dir/arsync.db", 1, "no such file"),
        ("mysql://arsync@localhost/ar", 2, "mysqldb"),  # no driver installed
        ("not a url", 2, "url"),
    ],
)
def test_a_database_that_cannot_be_opened_is_one_line_without_its_password(
    op: Operator, url: str, code: int, reason: str
) -> None:
    config = op.config(f'database_url = "{url.format(port=_closed_port())}"\n')
    answer = op.arsync("status", "-c", str(config), expect=code)
    line = one_line_error(answer)
    assert line.startswith("database error: database_url") and reason in line.lower()


def test_an_unknown_system_is_refused(op: Operator) -> None:
    answer = op.arsync("sync", "-c", str(op.config()), "--system", "xero", expect=2)
    assert "xero" in answer.output
    answer = op.arsync("sync", "-c", str(op.config()), "--system", "quickbooks", expect=2)
    assert "quickbooks" in one_line_error(answer) and "not configured" in answer.output


def test_sync_with_no_system_configured_says_so(op: Operator) -> None:
    op.monkeypatch.delenv("ARSYNC_INVOICED__API_KEY")  # an env secret alone configures one
    config = op.config(f'database_url = "sqlite:///{op.db}"\n')
    answer = op.arsync("sync", "-c", str(config), expect=2)
    assert "no system" in one_line_error(answer).lower()


# running daily ------------------------------------------------------------------------------
def test_an_interrupted_run_is_completed_by_the_next(op: Operator) -> None:
    config = op.config()
    op.sandbox.faults = Faults(fail_next=1000)  # the system goes down mid-run
    op.arsync("sync", "-c", str(config), expect=1)
    op.sandbox.faults = Faults()
    op.arsync("sync", "-c", str(config), expect=0)
    assert op.rows(Invoice) == len(op.sandbox.remote_ids("invoices"))
    refs = op.rows(ExternalRef)
    op.arsync("sync", "-c", str(config), expect=0)  # again: nothing new
    assert op.rows(ExternalRef) == refs
    status = op.arsync("status", "-c", str(config), expect=0)
    assert "failed" in status.stdout and "ok" in status.stdout


def test_two_syncs_at_once_the_second_waits_its_turn(op: Operator) -> None:
    from canonical.store import Store

    config = op.config()
    op.arsync("status", "-c", str(config), expect=0)  # creates the database
    store = Store.open(f"sqlite:///{op.db}")
    try:
        with lease(store, "default", SYNC_LEASE) as held:
            answer = op.arsync("sync", "-c", str(config), expect=75)
            assert "another sync is running" in answer.output and held.holder in answer.output
    finally:
        store.dispose()
    assert op.arsync("sync", "-c", str(config), expect=0)


# exports ------------------------------------------------------------------------------------
@pytest.fixture
def synced(op: Operator) -> Path:
    config = op.config()
    op.arsync("sync", "-c", str(config), expect=0)
    return config


def test_csv_export_is_safe_in_a_spreadsheet_and_round_trips(op: Operator, synced: Path) -> None:
    extra = op.home / "customers.json"
    extra.write_text(
        json.dumps([{"customer_id": "X1", "name": NEWLINE_NAME, "currency": "EUR"}]),
        encoding="utf-8",
    )
    op.arsync("import", "customers", str(extra), "-c", str(synced), expect=0)
    answer = op.arsync("export", "customers", "-f", "csv", "-c", str(synced), expect=0)
    rows = list(csv.DictReader(io.StringIO(answer.stdout)))
    names = {row["name"] for row in rows}
    for risky in (FORMULA_NAME, PLUS_NAME, MINUS_NAME, AT_NAME):
        assert risky not in names and "'" + risky in names  # shown as text, never run
    assert {QUOTED_NAME, UNICODE_NAME, NEWLINE_NAME} <= names  # commas, quotes, newlines intact
    assert all(not row["name"].startswith(("=", "+", "-", "@")) for row in rows)


def test_json_export_keeps_values_exactly(op: Operator, synced: Path) -> None:
    answer = op.arsync("export", "customers", "-c", str(synced), expect=0)
    names = {row["name"] for row in json.loads(answer.stdout)}
    assert {
        FORMULA_NAME,
        QUOTED_NAME,
        UNICODE_NAME,
        PLUS_NAME,
    } <= names  # JSON is data: no escaping


def test_jpy_and_kwd_amounts_keep_their_minor_units(op: Operator, synced: Path) -> None:
    answer = op.arsync("export", "invoices", "-c", str(synced), expect=0)
    rows = json.loads(answer.stdout, parse_float=Decimal)
    totals = {row["currency"]: row["total"] for row in rows if row["currency"] in ("JPY", "KWD")}
    assert totals == {"JPY": "123456", "KWD": "1234.567"}
    answer = op.arsync("export", "invoices", "-f", "csv", "-c", str(synced), expect=0)
    csv_totals = {
        row["currency"]: row["total"]
        for row in csv.DictReader(io.StringIO(answer.stdout))
        if row["currency"] in ("JPY", "KWD")
    }
    assert csv_totals == totals


def test_export_to_a_file_in_a_missing_directory(op: Operator, synced: Path) -> None:
    target = op.home / "exports" / "2024-05" / "customers.csv"
    answer = op.arsync(
        "export", "customers", "-f", "csv", "-o", str(target), "-c", str(synced), expect=0
    )
    assert target.is_file() and str(target) in answer.stderr
    assert "10 customers written" in answer.stderr
    assert len(list(csv.DictReader(target.open(encoding="utf-8", newline="")))) == 10


def test_export_through_a_link_rewrites_its_target_keeping_its_mode(
    op: Operator, synced: Path
) -> None:
    real = op.home / "data" / "ar.csv"
    real.parent.mkdir()
    real.write_text("old\n")
    real.chmod(0o640)
    link = op.home / "latest.csv"
    link.symlink_to(real)
    op.arsync("export", "customers", "-f", "csv", "-o", str(link), "-c", str(synced), expect=0)
    assert link.is_symlink() and link.resolve() == real
    assert (real.stat().st_mode & 0o777) == 0o640
    assert len(list(csv.DictReader(real.open(encoding="utf-8", newline="")))) == 10
    assert not list(real.parent.glob("*.partial"))


def test_export_to_a_path_that_cannot_be_written(op: Operator, synced: Path) -> None:
    blocker = op.home / "a-file"
    blocker.write_text("x")
    answer = op.arsync(
        "export", "customers", "-o", str(blocker / "out.json"), "-c", str(synced), expect=1
    )
    assert "a-file" in one_line_error(answer)


def test_an_empty_store_exports_a_header_and_an_empty_list(op: Operator) -> None:
    config = op.config()
    answer = op.arsync("export", "invoices", "-f", "csv", "-c", str(config), expect=0)
    header = answer.stdout.splitlines()[0]
    assert "number" in header and "refs" in header and "total" in header
    assert json.loads(op.arsync("export", "payments", "-c", str(config), expect=0).stdout) == []
    status = op.arsync("status", "-c", str(config), expect=0)
    assert "bookmarks" in status.stdout


# other commands -----------------------------------------------------------------------------
def test_report_reconcile_push_and_resolve_on_a_fresh_install(op: Operator, synced: Path) -> None:
    op.arsync("reconcile", "-c", str(synced), expect=0)
    answer = op.arsync("push", "--dry-run", "-c", str(synced), expect=0)
    assert "dry run" in answer.output
    out = op.home / "reports" / "today.json"
    op.arsync("report", "-f", "json", "-o", str(out), "-c", str(synced), expect=0)
    assert json.loads(out.read_text())["totals"]
    answer = op.arsync("resolve", "no-such-decision", "--by", "person:ana", "-c", str(synced))
    assert answer.exit_code == 1 and "no-such-decision" in one_line_error(answer)


def test_help_texts_say_what_the_commands_do(op: Operator) -> None:
    top = op.arsync("--help", expect=0).output
    for command in ("sync", "export", "status", "reconcile", "report", "resolve", "push", "serve"):
        assert command in top
    sync_help = op.arsync("sync", "--help", expect=0).output
    assert "--full" in sync_help and "--system" in sync_help and "75" in sync_help
    export_help = op.arsync("export", "--help", expect=0).output
    assert "csv" in export_help and "json" in export_help
    push_help = op.arsync("push", "--help", expect=0).output
    assert "--dry-run" in push_help and "1" in push_help


def test_serve_on_a_port_in_use_says_so_and_exits_non_zero(op: Operator) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        answer = op.arsync("serve", "-c", str(op.config()), "--port", str(port))
    assert answer.exit_code not in (0, None)
    assert "address already in use" in answer.output and str(port) in answer.output


def test_a_database_failing_mid_command_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The console script: a database error while a command runs (the disk gone, a lock
    held past its timeout) is one line and exit 1, never a traceback."""
    import sqlite3
    import sys

    from sqlalchemy.exc import OperationalError

    import sync.status
    from sync.cli import script

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise OperationalError("SELECT 1", {}, sqlite3.OperationalError("disk I/O error"))

    monkeypatch.setenv("ARSYNC_DATABASE_URL", f"sqlite:///{tmp_path / 'arsync.db'}")
    monkeypatch.delenv("ARSYNC_CONFIG", raising=False)
    monkeypatch.setattr(sync.status, "print_status", broken)
    monkeypatch.setattr(sys, "argv", ["arsync", "status"])
    with pytest.raises(SystemExit) as exited:
        script()
    assert exited.value.code == 1
    shown = capsys.readouterr().err.strip()
    assert shown == "database error: disk I/O error"
