"""The ``arsync`` command line."""

from __future__ import annotations

import io
import logging
import re
import shlex
import signal
import sys
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from canonical.enums import CommandStatus, System

if TYPE_CHECKING:
    # the store, connectors and reconciler are imported by the commands that use them:
    # `arsync --help` (and each command's) loads none of them
    from sync.engine import RunResult
    from sync.outbox.worker import PushSummary
    from sync.pull import PageCounts
    from sync.settings import Settings

app = typer.Typer(
    help="arsync: receivables kept consistent across QuickBooks, Intacct, Invoiced and Salesforce.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
console = Console()
if not console.is_terminal:
    console = Console(width=140)
# soft wrap: an error stays one line however narrow the terminal or a cron log's default width
err = Console(stderr=True, soft_wrap=True)
LEASE_HELD_EXIT = 75  # EX_TEMPFAIL: another run holds the step; try again later

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="TOML config file (default: $ARSYNC_CONFIG)."),
]


class ExportKind(StrEnum):
    customers = "customers"
    invoices = "invoices"
    credit_memos = "credit-memos"
    payments = "payments"
    applications = "applications"


class ImportKind(StrEnum):
    customers = "customers"
    invoices = "invoices"
    credit_memos = "credit-memos"
    payments = "payments"


class DateOrder(StrEnum):
    mdy = "mdy"
    dmy = "dmy"


class ExportFormat(StrEnum):
    json = "json"
    csv = "csv"


class ReportFormat(StrEnum):
    json = "json"
    csv = "csv"
    html = "html"
    xlsx = "xlsx"


def _fail(message: object, code: int) -> typer.Exit:
    """Print one error line on stderr (never read as markup) and give the exit to raise."""
    err.print(escape(str(message)), style="red", highlight=False)
    return typer.Exit(code)


def _settings(config: Path | None) -> Settings:
    from sync.settings import ConfigError, load_settings

    try:
        settings = load_settings(config)
    except ConfigError as exc:
        raise _fail(exc, 2) from None
    for warning in settings.warnings:
        err.print(f"config warning: {escape(warning)}", style="yellow", highlight=False)
    return settings


def _runtime(config: Path | None):
    """The runtime of the settings; a database that cannot be opened is one line naming
    ``database_url`` (its password hidden): exit 2 for a URL or driver that cannot work,
    1 for a database that is not there or not reachable now."""
    from alembic.util import CommandError
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from sync.runtime import Runtime

    settings = _settings(config)
    try:
        return Runtime.open(settings)
    except (ArgumentError, ImportError) as exc:
        raise _fail(_database_error(settings.database_url, exc), 2) from None
    except (SQLAlchemyError, OSError, CommandError) as exc:  # the one line says which
        raise _fail(_database_error(settings.database_url, exc), 1) from None


def _database_error(url: str, exc: BaseException) -> str:
    """One line naming ``database_url`` by its driver, host, port and database (never its
    user's password, nor the query, which may hold ``password=``) and the reason."""
    from sqlalchemy.engine import make_url

    from canonical.store import store_reason
    from connectors.redact import redact_text

    secrets: list[str] = []
    try:
        parsed = make_url(url)
        secrets = [str(v) for v in (parsed.password, *parsed.query.values()) if v]
        shown = parsed.set(query={}).render_as_string(hide_password=True)
    except Exception:  # not a URL at all: shown as given, any credential in it masked
        shown = redact_text(url)
    reason = store_reason(exc)
    if isinstance(exc, ImportError):
        reason = f"its driver is not installed ({reason})"
    reason = redact_text(reason)
    for secret in secrets:
        reason = reason.replace(secret, "***")
    return f"database error: database_url {shown} cannot be opened: {reason}"


SIGTERM_EXIT = 128 + signal.SIGTERM  # what a shell reports for a process a SIGTERM ended


def _end_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(SIGTERM_EXIT)


@contextmanager
def _sigterm_ends_command() -> Iterator[None]:
    """While the block runs, SIGTERM (systemd stopping a unit, a pod evicted, ``timeout``)
    raises SystemExit: the finally blocks run, so the sync's run is recorded as interrupted
    and its lease released (a killed process leaves them to the next run). ``serve`` keeps
    uvicorn's own handling; outside the main thread nothing is changed."""
    try:
        previous = signal.signal(signal.SIGTERM, _end_on_sigterm)
    except ValueError:  # not the main thread: signals are not ours to handle
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def print_runs(results: list[RunResult]) -> None:
    from rich.table import Table

    table = Table(title="sync")
    for column in (
        "system",
        "status",
        "fetched",
        "created",
        "updated",
        "unchanged",
        "deleted",
        "quarantined",
        "linked",
        "API calls",
        "seconds",
    ):
        table.add_column(column, justify="right" if column not in ("system", "status") else "left")
    for result in results:
        total = result.total
        table.add_row(
            result.system,
            str(result.status),
            str(total.fetched),
            str(total.created),
            str(total.updated),
            str(total.unchanged),
            str(total.deleted),
            str(total.quarantined),
            str(total.linked),
            str(result.api_calls),
            f"{result.seconds:.1f}",
        )
    console.print(table)
    for result in results:
        if result.error:  # a wrong setting is shown as read: it names its key
            error = result.error if result.misconfigured else _named(result.system, result.error)
            err.print(f"[red]{escape(error)}[/red]")
        if result.skipped:
            err.print(
                f"[yellow]sync skipped: {escape(_named(result.system, result.skipped))}[/yellow]"
            )


def sync_exit(results: Sequence[RunResult]) -> int:
    """The exit code of a sync's results: 2 a system's section is wrong, 1 a system failed,
    75 a system was skipped (another run holds its lease), else 0."""
    if any(r.misconfigured for r in results):
        return 2
    if any(r.error for r in results):
        return 1
    return LEASE_HELD_EXIT if any(r.skipped for r in results) else 0


def _named(system: str, error: str) -> str:
    """An error with its system's name in front, once (most already start with it)."""
    return error if error.startswith(f"{system}:") else f"{system}: {error}"


def run_with_progress(runtime: Any, systems: Sequence[str] | None, full: bool) -> list[RunResult]:
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task("syncing", total=None)

        def progress(system: str, stream: str, counts: PageCounts) -> None:
            bar.update(task, description=f"{system} {stream}: {counts.fetched} records")

        return runtime.sync(systems, full=full, progress=progress)


@app.command()
def sync(
    config: ConfigOption = None,
    system: Annotated[
        list[System] | None, typer.Option("--system", "-s", help="Only this system.")
    ] = None,
    full: Annotated[bool, typer.Option("--full", help="Ignore bookmarks: full re-sync.")] = False,
) -> None:
    """Pull customers, invoices, credit memos and payments from the configured systems
    (each configured by its section, e.g. [invoiced], or ARSYNC_INVOICED__* variables),
    incrementally from each system's bookmarks.

    A system that fails (unreachable, refused credentials, a wrong setting in its section) is
    named on stderr and the others still sync; the next run carries on from the last committed
    page. Exit codes: 0 every system synced; 1 a system failed; 2 a wrong option or setting (or
    no system configured); 75 another sync holds the lease (the systems it held were not read;
    each is shown as skipped)."""
    runtime = _runtime(config)
    if not system and not runtime.settings.configured_systems():
        runtime.close()
        raise _fail(
            "config error: no system is configured: add a [quickbooks], [intacct], [invoiced] "
            "or [salesforce] section to the config file",
            2,
        )
    try:
        with _sigterm_ends_command():
            results = run_with_progress(runtime, system, full)
    finally:
        runtime.close()
    print_runs(results)
    code = sync_exit(results)
    if code:
        raise typer.Exit(code)


@app.command()
def export(
    kind: Annotated[ExportKind, typer.Argument(help="What to export.")],
    fmt: Annotated[ExportFormat, typer.Option("--format", "-f")] = ExportFormat.json,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="File (default stdout); missing directories are created."
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Export canonical records with their refs in every system.

    Amounts are exact strings in the currency's minor unit (JPY 123456, KWD 1234.567). CSV
    always has its header row, even with no records; a cell that a spreadsheet would run as
    a formula (starting with = + - @) is written with a leading apostrophe. A file is written
    whole or not at all. Exit 1 when the file cannot be written."""
    from sync.export import write_export

    runtime = _runtime(config)
    try:
        if output and str(output) != "-":
            count = _export_to_file(runtime, kind, fmt, output)
            err.print(f"{count} {kind.value} written to {escape(str(output))}", highlight=False)
        else:
            try:
                write_export(
                    runtime.store, kind.value, fmt.value, sys.stdout, runtime.settings.tenant
                )
                sys.stdout.flush()
            except BrokenPipeError:  # `arsync export ... | head`: the reader has had enough
                _quiet_stdout()
    finally:
        runtime.close()


def _export_to_file(runtime: Any, kind: ExportKind, fmt: ExportFormat, output: Path) -> int:
    from sync.export import write_export

    with (
        _whole_file(output, "export") as target,
        target.open("w", encoding="utf-8", newline="") as handle,
    ):
        return write_export(runtime.store, kind.value, fmt.value, handle, runtime.settings.tenant)


@contextmanager
def _whole_file(output: Path, what: str) -> Iterator[Path]:
    """The path to write ``output`` through. A file is written beside its target (a link's
    target, keeping its mode), then renamed over it: a failed write leaves the old file as it
    was. Anything else (a device, a named pipe) is written as it is. A file that cannot be
    written (a directory, a folder that cannot be made) is one line naming it, exit 1."""
    import shutil

    try:
        real = output.resolve() if output.is_symlink() else output
        regular = not real.exists() or real.is_file()
        target = real.with_name(real.name + ".partial") if regular else real
        real.parent.mkdir(parents=True, exist_ok=True)
        try:
            yield target
            if regular:
                if real.exists():
                    shutil.copymode(real, target)
                target.replace(real)
        except BaseException:
            if regular and target.parent.is_dir():
                target.unlink(missing_ok=True)
            raise
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise _fail(f"{what} error: cannot write {output}: {reason}", 1) from None


def _quiet_stdout() -> None:
    """Stdout's reader went away: point it at devnull so exiting flushes nothing into it."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass


@app.command()
def status(config: ConfigOption = None) -> None:
    """Last runs (with each failed run's error), bookmarks and quarantine counts."""
    from sync.status import print_status

    runtime = _runtime(config)
    try:
        print_status(runtime.store, runtime.settings.tenant, console)
    finally:
        runtime.close()


@app.command("import")
def import_(
    kind: Annotated[ImportKind, typer.Argument(help="What the file holds.")],
    path: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="A .csv, .xlsx or .json file.")
    ],
    date_order: Annotated[
        DateOrder | None,
        typer.Option(
            help="How the file's slash dates read: mdy (3/31/2026, US) or dmy (31/3/2026). "
            "Without it a slash date is refused (01/02/2026 is January or February)."
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Load customers, invoices, credit memos or payments from a CSV, Excel (.xlsx) or JSON
    file.

    Exit codes: 0 every row imported, or the export holds none (its header alone: "0 rows:
    nothing to import"); 1 a row was rejected (named with its row and column; the other rows
    are stored) or the file was refused (empty, not the kind's export, broken JSON); 2 a
    wrong setting; 75 a sync holds the lease (nothing was imported)."""
    from canonical.lease import LeaseHeld
    from sync.importer import import_file

    runtime = _runtime(config)
    try:
        report = import_file(
            runtime.store,
            kind.value,
            path,
            tenant=runtime.settings.tenant,
            date_order=date_order.value if date_order else None,
        )
    except LeaseHeld as exc:
        err.print(f"[yellow]import not run: {escape(str(exc))}[/yellow]")
        raise typer.Exit(LEASE_HELD_EXIT) from None
    finally:
        runtime.close()
    console.print(report.summary() if hasattr(report, "summary") else report)
    if getattr(report, "errors", None):
        for error in report.errors[:50]:
            err.print(f"[yellow]{escape(str(error))}[/yellow]")
        raise typer.Exit(1)


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, help="Bank files.")],
    config: ConfigOption = None,
) -> None:
    """Take in remittances from bank files (BAI2, camt.052/053/054, NACHA, EDI 820).

    Exits 1 when any record was rejected (like ``import``); warnings alone exit 0.
    """
    from sync.ingest import ingest_files

    runtime = _runtime(config)
    try:
        report = ingest_files(runtime.store, list(paths), tenant=runtime.settings.tenant)
    finally:
        runtime.close()
    console.print(report.summary())
    for warning in report.warnings[:50]:
        err.print(f"[yellow]warning: {escape(str(warning))}[/yellow]")
    for error in report.errors[:50]:
        err.print(f"[yellow]rejected: {escape(str(error))}[/yellow]")
    if report.rejected:
        raise typer.Exit(1)


@app.command()
def reconcile(
    config: ConfigOption = None,
    rules: Annotated[Path | None, typer.Option("--rules", help="A rules TOML file.")] = None,
) -> None:
    """Match remittances to invoices and apply credit memos; their writes wait in the outbox
    for `arsync push`.

    Exit codes: 0 done; 2 a wrong option or setting; 75 another reconcile holds the lease
    (nothing was decided)."""
    from canonical.lease import LeaseHeld
    from reconciler.rules import RulesError

    runtime = _runtime(config)
    try:
        with _sigterm_ends_command():
            summary = runtime.reconcile(rules)
    except LeaseHeld as exc:
        err.print(f"[yellow]reconcile not run: {escape(str(exc))}[/yellow]")
        raise typer.Exit(LEASE_HELD_EXIT) from None
    except RulesError as exc:  # nothing was decided
        raise _fail(f"rules error: {exc}", 2) from None
    finally:
        runtime.close()
    text = str(summary)
    if not summary.remittances:  # no payment decided: a rate over none is no "0% matched"
        text = text.replace(f"; match rate {summary.match_rate}%", "")
        done = (summary.credit_memos_applied, summary.credit_memos_suggested, summary.reversals)
        stopped = summary.changed or summary.balances_changed  # decided again next run
        if not any(done) and not any(summary.exceptions.values()) and not stopped:
            text = "nothing new to reconcile"
    console.print(text)
    if summary.auto_applied or summary.credit_memos_applied:
        _warn_written_nowhere(runtime.written_nowhere())


def _warn_written_nowhere(warning: str | None) -> None:
    """Say on stderr that what was just decided is in arsync only (no system to write to)."""
    if warning:
        err.print(f"warning: {warning}", style="yellow", markup=False, highlight=False)


# an --invoice value shaped as an amount, or several numbers: digits with grouping or decimal
# separators (any space a locale writes, e.g. the narrow no-break space of French), a sign,
# accounting brackets or a price's trailing dash (1014,- 1014,-- 1014.00-); never a letter
_AMOUNT_SHAPED = re.compile(
    r"^[(+~-]?[\d.,'\u2019\s]*\d[\d.,'\u2019\s]*(?:[.,/]-{1,2}|[.,][\u2013\u2014]|[-)])?$"
)
# a word before a number (INV, No., Nr.): an amount after one is still an amount
_WORD_BEFORE = re.compile(r"^[A-Za-z]+[.-]?\s*#?\s*")
# what an invoice number is written with besides its digits: Latin letters, spaces and the
# separators systems number with; anything else (a currency word in another script, a
# full-width comma, a Unicode minus, &, +) is dropped from the number resolve looks for
_NUMBER_TEXT = re.compile(r"^[A-Za-z0-9 ./#:-]*$")


def _invoice_refusal(value: str) -> str | None:
    """Why ``value`` given to ``--invoice`` is no invoice number as typed (empty, a currency
    symbol, digits with separators or a sign: an amount or several numbers), or ``None``.
    Resolve finds invoices as payers write them (``INV 1014`` finds 1014, see
    :func:`canonical.keys.document_key`): such a value would be found by its digits alone
    (``$1014`` found invoice 1014 and put the cash on it), so it is taken only when an
    invoice is numbered exactly so. So is one whose number resolve would read as digits
    alone though it was typed with more than Latin letters, digits and separators
    (``1014円``, a rouble sign written in Cyrillic letters, ``10 & 23``)."""
    from canonical.keys import document_key

    typed = value.strip()
    if not typed:
        return "--invoice needs an invoice number (repeat it for several)"
    after_word = _WORD_BEFORE.sub("", typed)
    if (
        not any(unicodedata.category(c) == "Sc" for c in typed)
        and (typed.isdigit() or not _AMOUNT_SHAPED.match(typed))
        and (_NUMBER_TEXT.match(typed) or not document_key(typed).isdigit())
        # INV 1014.00, No. 1.014: an amount after the word (INV 10 23 is a number)
        and not (
            after_word != typed
            and any(c in after_word for c in ".,")
            and _AMOUNT_SHAPED.match(after_word)
        )
    ):
        return None
    return (
        f"--invoice {value!r} looks like an amount or several numbers, and no invoice is "
        "numbered so: resolve takes no amount (the cash goes to the invoices named in turn, "
        "each up to what it owes, the rest left unapplied); name each invoice as the system "
        "numbers it, one per --invoice (with its prefix: INV-2024.01, not 2024.01)"
    )


def _not_a_decision(
    session: Any, tenant: str, given: str, *, then: str, remittance_ok: bool = False
) -> str | None:
    """Why ``given`` is no decision of ``tenant`` to resolve, naming what it is (a remittance
    and the decision that stands for it, an outbox command, a document) and what to run;
    ``None`` when it is a decision (or, ``remittance_ok``, a remittance). ``then`` is the
    rest of the resolve command shown (``--reverse``, ``--dismiss REASON``, ...)."""
    from sqlalchemy import select
    from sqlmodel import col

    from canonical.models import (
        CreditMemo,
        Customer,
        Decision,
        Invoice,
        OutboxCommand,
        Payment,
        Remittance,
    )
    from reconciler.cascade import AUTO, EXCEPTION, SUGGESTED

    found = session.get(Decision, given)
    if found is not None and found.tenant == tenant:
        return None
    from_report = (
        "take the decision id the report shows (`arsync report --format csv`, column "
        "decision_id, or its resolve column)"
    )
    remittance = session.get(Remittance, given)
    if remittance is not None and remittance.tenant == tenant:
        if remittance_ok:
            return None
        standing = (
            session.execute(
                select(Decision)
                .where(
                    col(Decision.tenant) == tenant,
                    col(Decision.source_kind) == "remittance",
                    col(Decision.source_id) == given,
                    col(Decision.superseded).is_(False),
                )
                .order_by(col(Decision.created_at).desc())
            )
            .scalars()
            .first()
        )
        amount = remittance.amount
        what = (
            f"{given} is a remittance ({remittance.payer_name or 'payer unknown'}, "
            f"{amount.amount} {amount.currency}), not a decision"
        )
        if standing is None:
            return f"{what}: it has no decision yet; run `arsync reconcile`, then {from_report}"
        kind = f", {standing.exception_kind}" if standing.exception_kind else ""
        what = (
            f"{what}: its decision is {standing.id} ({standing.status}{kind}, by "
            f"{standing.decided_by})"
        )
        if standing.status in (SUGGESTED, EXCEPTION):
            return f"{what}: arsync resolve {standing.id} --by person:NAME{then}"
        if standing.status == AUTO:
            return (
                f"{what}: its cash is applied; if it went to the wrong invoices, take it back "
                f"with arsync resolve {standing.id} --by person:NAME --undo REASON"
            )
        return f"{what}: it is settled; nothing is left to resolve"
    command = session.get(OutboxCommand, given)
    if command is not None and command.tenant == tenant:
        return (
            f"{given} is an outbox command ({command.system} {command.operation}, "
            f"{command.status}) of decision {command.decision_id}, not a decision to resolve: "
            f"`arsync outbox` lists it; `arsync outbox retry {given}` or "
            f"`arsync outbox cancel {given}` acts on it"
        )
    for model, kind in (
        (Invoice, "an invoice"),
        (CreditMemo, "a credit memo"),
        (Payment, "a payment"),
        (Customer, "a customer"),
    ):
        row = session.get(model, given)
        if row is not None and row.tenant == tenant:
            number = getattr(row, "number", None) or getattr(row, "name", None)
            named = f" ({number})" if number else ""
            return f"{given} is {kind}{named}, not a decision: {from_report}"
    return f"no decision {given!r}: {from_report}"


def _not_a_command(session: Any, tenant: str, given: str) -> str | None:
    """Why ``given`` is no outbox command of ``tenant``, naming the commands of a decision
    given instead; ``None`` when it is a command."""
    from sqlalchemy import select
    from sqlmodel import col

    from canonical.models import Decision, OutboxCommand

    command = session.get(OutboxCommand, given)
    if command is not None and command.tenant == tenant:
        return None
    decision = session.get(Decision, given)
    if decision is None or decision.tenant != tenant:
        return f"no outbox command {given!r}: `arsync outbox` lists the commands and their ids"
    rows = session.execute(
        select(OutboxCommand)
        .where(col(OutboxCommand.tenant) == tenant, col(OutboxCommand.decision_id) == given)
        .order_by(col(OutboxCommand.created_at))
    ).scalars()
    listed = ", ".join(f"{r.id} ({r.system} {r.operation}, {r.status})" for r in rows)
    return (
        f"{given} is a decision, not an outbox command: "
        + (f"its commands are {listed}" if listed else "it has no outbox command")
        + "; `arsync outbox` lists those not confirmed"
    )


def _numbered(session: Any, tenant: str, value: str) -> bool:
    """Whether an invoice of ``tenant`` is numbered ``value``: exactly, or, when it names a
    word before the number, as written apart from case and separators (``inv-2024.01`` is
    ``INV-2024.01``; digits alone never: ``10.14`` is no ``1014``)."""
    from sqlalchemy import or_, select
    from sqlmodel import col

    from canonical.keys import document_key, split_prefix
    from canonical.models import Invoice

    typed = value.strip()
    worded = any("A" <= c <= "Z" for c in typed.upper())
    rows = session.execute(
        select(col(Invoice.number)).where(
            col(Invoice.tenant) == tenant,
            or_(col(Invoice.number) == typed, col(Invoice.number_key) == document_key(typed))
            if worded
            else col(Invoice.number) == typed,
        )
    ).scalars()
    return any(n == typed or (worded and split_prefix(n) == split_prefix(typed)) for n in rows)


def _resolve_refusal(
    runtime: Any, decision_id: str, invoices: Sequence[str], *, then: str, undo: bool, plain: bool
) -> tuple[str, int] | None:
    """Why ``arsync resolve`` is refused before anything is decided, with its exit code: an
    ``--invoice`` that is an amount or several numbers (2), an id that is no decision (1), or
    cash a bank took back offered to invoices (1: ``--reverse`` undoes its payment)."""
    from canonical.models import Decision
    from reconciler.cascade import EXCEPTION
    from reconciler.confirm import RETURNED_PAYMENT

    tenant = runtime.settings.tenant
    with runtime.store.session() as session:
        for value in invoices:
            why = _invoice_refusal(value)
            if why and not _numbered(session, tenant, value):
                return why, 2
        why = _not_a_decision(session, tenant, decision_id, then=then, remittance_ok=undo)
        if why:
            return why, 1
        decision = session.get(Decision, decision_id)
        if (
            plain
            and decision is not None
            and decision.exception_kind == RETURNED_PAYMENT
            and decision.status == EXCEPTION
            and not decision.superseded
            and decision.amount_minor < 0
        ):
            back = _money_text(decision.amount_minor, decision.currency)
            return (
                f"decision {decision_id} is a returned payment ({back} taken back by the bank): "
                "it is no cash to apply. Undo the payment it takes back, in arsync and every "
                f"system, with arsync resolve {decision_id} --by person:NAME --reverse"
            ), 1
    return None


def _money_text(minor: int, currency: str) -> str:
    """``minor`` units of ``currency`` as shown: ``-3611.77 USD``."""
    from canonical.money import Money

    amount = Money.from_minor(minor, currency)
    return f"{amount.amount} {amount.currency}"


@app.command()
def resolve(
    decision_id: Annotated[
        str,
        typer.Argument(
            help="The decision to settle (from the report); with --undo, the applied decision "
            "or its remittance."
        ),
    ],
    by: Annotated[str, typer.Option("--by", help="Who decides, e.g. 'person:ana'.")],
    invoice: Annotated[
        list[str] | None, typer.Option("--invoice", help="Invoice number; repeat for several.")
    ] = None,
    reverse: Annotated[
        bool,
        typer.Option(
            "--reverse",
            help="Undo the payment a returned_payment (reversal) exception takes back, or the "
            "applied cash an advice_contradicts_applied exception says went elsewhere.",
        ),
    ] = False,
    dismiss: Annotated[
        str | None,
        typer.Option(
            "--dismiss",
            metavar="REASON",
            help="Close a suggestion or exception that needs no cash movement (a vendor "
            "refund, a loan drawdown, a checked duplicate, an advice that was wrong), saying "
            "why: nothing is applied or written anywhere.",
        ),
    ] = None,
    undo: Annotated[
        str | None,
        typer.Option(
            "--undo",
            metavar="REASON",
            help="Take back an applied decision that put the cash on the wrong invoices (a "
            "rule's, or a person's confirmation), saying why: its applications are undone in "
            "every system and the remittance waits for a person's decision again.",
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Apply a suggested or unmatched remittance (its top candidate, or the invoices named),
    or with --reverse undo the payment a returned payment takes back (or the applied cash a
    later advice contradicts), in every system, or with --dismiss close it with no cash
    movement, or with --undo take back cash applied to the wrong invoices."""
    from canonical.lease import LeaseHeld
    from canonical.money import Money
    from reconciler.apply import BatchChanged
    from reconciler.confirm import ConfirmError, confirm, person
    from reconciler.dismiss import dismiss as dismiss_item
    from reconciler.dismiss import one_line
    from reconciler.reverse import reverse as reverse_payment
    from reconciler.reverse import undo as undo_decision

    verb = (
        "undoes"
        if undo is not None
        else "dismisses"
        if dismiss is not None
        else "reverses"
        if reverse
        else "confirms"
    )
    try:  # a --by that names no person is a wrong option: refused before anything is read
        person(by, verb)
    except ConfirmError as exc:
        raise _fail(exc, 2) from None
    if undo is not None and (invoice or reverse or dismiss is not None):
        other = "--invoice" if invoice else "--reverse" if reverse else "--dismiss"
        raise _fail(f"--undo takes back an applied decision: it takes no {other}", 2)
    if undo is not None and not one_line(undo):
        raise _fail("--undo needs a reason (one line saying why the decision was wrong)", 2)
    if reverse and invoice:
        err.print("[red]--reverse undoes a payment: it takes no --invoice[/red]")
        raise typer.Exit(2)
    if dismiss is not None and (invoice or reverse):
        raise _fail(
            "--dismiss closes the item with no cash movement: it takes no "
            + ("--invoice" if invoice else "--reverse"),
            2,
        )
    if dismiss is not None and not one_line(dismiss):
        raise _fail("--dismiss needs a reason (one line saying why nothing is applied)", 2)
    runtime = _runtime(config)
    try:
        refusal = _resolve_refusal(
            runtime,
            decision_id,
            invoice or [],
            then=" --undo REASON"
            if undo is not None
            else " --dismiss REASON"
            if dismiss is not None
            else " --reverse"
            if reverse
            else "".join(f" --invoice {shlex.quote(v)}" for v in invoice or []),
            undo=undo is not None,
            plain=undo is None and dismiss is None and not reverse,
        )
    except BaseException:
        runtime.close()
        raise
    if refusal is not None:
        runtime.close()
        raise _fail(*refusal)
    try:
        if undo is not None:
            decision = undo_decision(
                runtime.store,
                decision_id,
                by=by,
                reason=undo,
                tenant=runtime.settings.tenant,
                sink=runtime.planner,
            )
        elif dismiss is not None:
            decision = dismiss_item(
                runtime.store,
                decision_id,
                by=by,
                reason=dismiss,
                tenant=runtime.settings.tenant,
                sink=runtime.planner,
            )
        elif reverse:
            decision = reverse_payment(
                runtime.store,
                decision_id,
                by=by,
                tenant=runtime.settings.tenant,
                sink=runtime.planner,
            )
        else:
            decision = confirm(
                runtime.store,
                decision_id,
                by=by,
                invoice_numbers=invoice,
                tenant=runtime.settings.tenant,
                sink=runtime.planner,
            )
            applied_line = _applied_line(runtime.store, decision)
    except (ConfirmError, LeaseHeld) as exc:
        raise _fail(exc, 1) from None
    except BatchChanged as exc:  # a sync or an ingest changed what the decision was made on
        raise _fail(
            f"nothing was written: the books changed meanwhile ({exc.detail}); run the command "
            "again",
            1,
        ) from None
    except KeyboardInterrupt:
        # a decision is made in one transaction: whole, or (mostly) not at all
        raise _fail(
            f"interrupted: decision {decision_id} was resolved whole or not at all; "
            "`arsync report` shows which (running the command again refuses one already "
            "resolved, never applies it twice)",
            130,
        ) from None
    finally:
        runtime.close()
    if dismiss is None:  # a dismissal writes nothing anywhere
        _warn_written_nowhere(
            runtime.written_nowhere(
                "undone" if undo is not None else "reversed" if reverse else "applied"
            )
        )
    if dismiss is not None:
        amount = Money.from_minor(decision.amount_minor, decision.currency)
        was = decision.evidence.get("exception_kind") or decision.evidence.get("dismissed_status")
        console.print(
            f"dismissed by {decision.decided_by}: decision {decision.id} closes "
            f"{decision.source_kind.replace('_', ' ')} {decision.source_id} "
            f"({amount.amount} {amount.currency}, {was}; decision "
            f"{decision.evidence.get('dismissed')}) with no cash applied: "
            f"{decision.evidence.get('reason')}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
        return
    if undo is not None:
        lines = len(decision.evidence.get("applications_reversed") or [])
        console.print(
            f"undone by {decision.decided_by}: decision {decision.id} takes back decision "
            f"{decision.evidence.get('undone')} ({lines} application"
            f"{'' if lines == 1 else 's'} reversed; remittance {decision.source_id} needs a "
            "decision again): `arsync push` cancels or voids its writes in each system; "
            f"settle it with arsync resolve {decision.id} --by person:NAME --invoice NUMBER",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
        return
    if reverse:
        undone = decision.evidence.get("applications_reversed") or []
        console.print(
            f"reversed by {decision.decided_by}: decision {decision.id} undoes "
            f"{len(undone)} application{'' if len(undone) == 1 else 's'} of decision "
            f"{decision.evidence.get('reverses_decision')}"
            "; `arsync push` voids the payment in each system"
        )
        return
    console.print(applied_line, highlight=False, markup=False, soft_wrap=True)


def _applied_line(store: Any, decision: Any) -> str:
    """What a person's decision applied, read from its rows in ``store``: the cash (or memo)
    on each invoice it went to, each credit memo netted off and on which invoice, each
    deduction written off, and what is left unapplied; amounts in their currency's decimals."""
    from sqlalchemy import select
    from sqlmodel import col

    from canonical.models import Adjustment, Application, CreditMemo, Customer, Invoice
    from canonical.money import Money

    def money(minor: int) -> str:  # every row of a decision is in its currency
        amount = Money.from_minor(minor, decision.currency)
        return f"{amount.amount} {amount.currency}"

    with store.session() as session:
        lines = list(
            session.execute(
                select(Application).where(
                    col(Application.tenant) == decision.tenant,
                    col(Application.decision_id) == decision.id,
                )
            ).scalars()
        )
        deductions = list(
            session.execute(
                select(Adjustment).where(
                    col(Adjustment.tenant) == decision.tenant,
                    col(Adjustment.decision_id) == decision.id,
                )
            ).scalars()
        )
        invoice_ids = {a.invoice_id for a in lines} | {d.invoice_id for d in deductions}
        invoices = session.execute(
            select(col(Invoice.id), col(Invoice.number), col(Customer.name))
            .outerjoin(Customer, col(Customer.id) == col(Invoice.customer_id))
            .where(col(Invoice.id).in_(invoice_ids))
        ).all()
        numbers = {row.id: row.number for row in invoices}
        # whose invoices they are: cash put on another customer's account shows at once
        names = sorted({str(row.name) for row in invoices if row.name})
        memo_ids = {a.source_id for a in lines if a.source_id != decision.source_id}
        memos = dict(
            session.execute(
                select(col(CreditMemo.id), col(CreditMemo.number)).where(
                    col(CreditMemo.id).in_(memo_ids)
                )
            ).all()
        )

    def number(invoice_id: str) -> str:
        return str(numbers.get(invoice_id, invoice_id))

    # the decision's own cash (or memo) per invoice, and the credit memos netted beside it
    own: dict[str, int] = {}
    netted: dict[tuple[str, str], int] = {}
    for a in lines:
        if a.source_id == decision.source_id:
            own[number(a.invoice_id)] = own.get(number(a.invoice_id), 0) + a.amount_minor
        else:
            key = (str(memos.get(a.source_id, a.source_id)), number(a.invoice_id))
            netted[key] = netted.get(key, 0) + a.amount_minor
    whose = f" of {' and '.join(names)}" if names else ""
    parts = []
    if len(own) == 1:  # its amount is the one applied, said before
        parts.append(f" to invoice {next(iter(own))}{whose}")
    elif own:
        parts.append(
            f" to invoices{whose}: "
            + ", ".join(f"{n} ({money(m)})" for n, m in sorted(own.items()))
        )
    if netted:
        parts.append(
            f"; nets credit memo{'s' if len(netted) > 1 else ''} "
            + ", ".join(
                f"{memo} ({money(m)}) on invoice {n}" for (memo, n), m in sorted(netted.items())
            )
        )
    if deductions:
        parts.append(
            "; deducts "
            + ", ".join(
                f"{money(d.amount_minor)} on invoice {number(d.invoice_id)} ({d.reason_code})"
                for d in sorted(deductions, key=lambda d: number(d.invoice_id))
            )
        )
    changed = decision.evidence.get("changed_since_suggested") or []
    if changed:  # a line of the suggestion confirmed was cut to the balances now
        parts.append(
            "; changed since suggested: "
            + ", ".join(
                f"{c['line']} {c['applied']} {decision.currency} "
                f"(suggested {c['suggested']} {decision.currency})"
                for c in changed
            )
        )
    source = decision.source_kind.replace("_", " ")
    source += f" {decision.evidence.get('credit_memo') or decision.source_id}"
    return (
        f"applied by {decision.decided_by}: decision {decision.id} applies "
        f"{money(decision.applied_minor)} of {source} ({money(decision.amount_minor)})"
        f"{''.join(parts)}; {money(decision.unapplied_minor)} left unapplied"
    )


def print_push(summary: PushSummary) -> None:
    from rich.table import Table

    table = Table(title="push" + (" (dry run: nothing written)" if summary.dry_run else ""))
    for column in (
        "system",
        "planned" if summary.dry_run else "confirmed",
        "landed unseen",
        "failed",
        "dead",
        "conflicts",
        "waiting",
        "requests",
    ):
        table.add_column(column, justify="left" if column == "system" else "right")
    for result in summary.systems.values():
        table.add_row(
            result.system,
            str(len(result.planned) if summary.dry_run else result.confirmed),
            str(result.landed_unseen),
            str(result.failed),
            str(result.dead),
            str(result.conflicts),
            str(result.waiting),
            str(result.requests),
        )
    console.print(table)
    for result in summary.systems.values():
        if result.error:
            err.print(f"[red]{escape(_named(result.system, result.error))}[/red]")
        if result.busy:
            err.print(
                f"[yellow]push not run: {escape(_named(result.system, result.busy))}[/yellow]"
            )


@app.command()
def push(
    config: ConfigOption = None,
    system: Annotated[
        list[System] | None,
        typer.Option("--system", "-s", help="Only this system; repeatable."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the planned writes; change nothing.")
    ] = False,
) -> None:
    """Send the outbox: every decided write, exactly once, to each system.

    Exit codes: 0 everything due was sent (or, with --dry-run, planned); 1 a write failed (to
    be retried), a system could not be reached, or commands wait for a person (conflict or
    dead, parked by this push or an earlier one: one line on stderr says how many), so a cron
    job notices every time until they are retried or cancelled, or (with --dry-run too)
    commands wait for a system not configured to write to now (one line per system says how
    many; only without --system); 2 a wrong option or setting;
    75 another push of a system holds its lease (it sends them)."""
    from sync.outbox.control import render_plan
    from sync.runtime import misconfigured
    from sync.settings import ConfigError

    runtime = _runtime(config)
    try:
        with _sigterm_ends_command():
            summary = runtime.push(system, dry_run=dry_run)
            attention = _attention(runtime, summary)
            stranded = [] if system else _not_written_to(runtime)
    except (KeyError, ConfigError) as exc:
        raise _fail(exc.args[0] if isinstance(exc, KeyError) else exc, 2) from None
    finally:
        runtime.close()
    if dry_run:
        for line in render_plan(summary):  # one line each, however long: a log is grepped
            console.print(line, markup=False, highlight=False, soft_wrap=True)
    print_push(summary)
    for line in stranded:
        err.print(escape(line), style="yellow", highlight=False)
    if attention:
        err.print(escape(attention), style="yellow", highlight=False)
    if misconfigured(summary):  # a system's wrong section (the others were pushed)
        raise typer.Exit(2)
    if not summary.ok or stranded or (not dry_run and attention):
        raise typer.Exit(1)
    raise typer.Exit(LEASE_HELD_EXIT if _busy(summary) else 0)


def _busy(summary: PushSummary) -> bool:
    """A system skipped: another push of it holds its lease (and sends its commands)."""
    return any(r.busy for r in summary.systems.values())


PARKED = (CommandStatus.CONFLICT, CommandStatus.DEAD)  # sent again only once a person says so


def _attention(runtime: Any, summary: PushSummary) -> str | None:
    """One line when writes of the systems pushed wait for a person (a conflict or a dead
    write, parked by this push or an earlier one) or failed now (the next push retries
    them): every such push exits 1, so a cron job keeps noticing until they are settled."""
    from sync.outbox.control import counts

    held = counts(runtime.store, runtime.settings.tenant)
    parked = {
        status: sum(
            n
            for (system, state), n in held.items()
            if state == status and system in summary.systems
        )
        for status in PARKED
    }
    waiting = sum(parked.values())
    failed = 0 if summary.dry_run else sum(r.failed for r in summary.systems.values())
    said = []
    if waiting:
        kinds = ", ".join(f"{n} {status}" for status, n in parked.items() if n)
        said.append(
            f"{waiting} command{'s wait' if waiting > 1 else ' waits'} for a person ({kinds}): "
            "retry or cancel each"
        )
    if failed:
        said.append(f"{failed} write{'s' if failed > 1 else ''} failed (the next push retries)")
    return f"push: {'; '.join(said)}; `arsync outbox` lists them" if said else None


def _not_written_to(runtime: Any) -> list[str]:
    """One line per system that due commands wait for while it is not configured to write to
    (its section gone, or left out of [push] systems): no push sends them."""
    from sync.outbox.control import counts
    from sync.outbox.worker import DUE

    written = set(runtime.settings.push_systems())
    due = {str(status) for status in DUE}
    stranded: dict[str, int] = {}
    for (system, status), n in counts(runtime.store, runtime.settings.tenant).items():
        if system not in written and status in due:
            stranded[system] = stranded.get(system, 0) + n
    return [
        f"push: {n} command{'s' if n > 1 else ''} for {system} "
        f"wait{'' if n > 1 else 's'}: {system} is not configured to write to (configure it "
        f"and push; `arsync outbox --system {system}` lists them, and `arsync outbox cancel ID` "
        "drops one that should not be written, a void never)"
        for system, n in sorted(stranded.items())
    ]


outbox_app = typer.Typer(
    help="Pending, failed and dead writes; retry or cancel them; plan those never planned."
)
app.add_typer(outbox_app, name="outbox")


@outbox_app.callback(invoke_without_command=True)
def outbox(
    ctx: typer.Context,
    config: ConfigOption = None,
    system: Annotated[System | None, typer.Option("--system", "-s")] = None,
    status: Annotated[
        list[CommandStatus] | None,
        typer.Option("--status", help="Only commands in this status (repeatable)."),
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many rows.")] = 200,
) -> None:
    """List the commands not yet confirmed, with their last error."""
    if ctx.invoked_subcommand is not None:
        return
    from rich.table import Table

    from sync.outbox.control import OPEN, counts, listing

    runtime = _runtime(config)
    try:
        rows = listing(
            runtime.store,
            runtime.settings.tenant,
            statuses=status or OPEN,
            system=system,
            limit=limit,
        )
        totals = counts(runtime.store, runtime.settings.tenant)
    finally:
        runtime.close()
    console.print(
        "outbox: "
        + (", ".join(f"{sys_} {st} {n}" for (sys_, st), n in sorted(totals.items())) or "empty")
    )
    table = Table()
    table.add_column("id", no_wrap=True, min_width=32)
    for column in ("system", "operation", "status", "attempts", "decision", "last error"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            row.id,
            row.system,
            row.operation,
            row.status,
            str(row.attempts),
            row.decision_id or "",
            row.last_error or "",
        )
    if rows:
        console.print(table)


def _command_or_fail(runtime: Any, command_id: str | None) -> None:
    """Refuse (exit 1) an id that is no outbox command, saying what it is."""
    if command_id is None:
        return
    with runtime.store.session() as session:
        why = _not_a_command(session, runtime.settings.tenant, command_id)
    if why:
        raise _fail(why, 1)


@outbox_app.command("retry")
def outbox_retry(
    command_id: Annotated[str | None, typer.Argument(help="The command to retry.")] = None,
    all_failed: Annotated[
        bool, typer.Option("--all-failed", help="Every failed/dead one.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Make a failed, dead or conflicted command due again (same idempotency key)."""
    from sync.outbox.control import OutboxError, retry

    if all_failed == (command_id is not None):
        raise _fail(
            "--all-failed takes no command id"
            if all_failed
            else "name a command id (`arsync outbox` lists them), or say --all-failed",
            2,
        )
    runtime = _runtime(config)
    try:
        _command_or_fail(runtime, command_id)
        n = retry(runtime.store, runtime.settings.tenant, command_id, all_failed=all_failed)
    except OutboxError as exc:
        raise _fail(exc, 1) from None
    finally:
        runtime.close()
    console.print(f"{n} command(s) will be sent by the next push")


@outbox_app.command("cancel")
def outbox_cancel(
    command_id: Annotated[str, typer.Argument(help="The command never to send.")],
    config: ConfigOption = None,
) -> None:
    """Never send a command that has not been confirmed."""
    from sync.outbox.control import OutboxError, cancel

    runtime = _runtime(config)
    try:
        _command_or_fail(runtime, command_id)
        cancel(runtime.store, runtime.settings.tenant, command_id)
    except OutboxError as exc:
        raise _fail(exc, 1) from None
    finally:
        runtime.close()
    console.print(f"command {command_id} cancelled")


@outbox_app.command("plan")
def outbox_plan(
    decision_ids: Annotated[
        list[str] | None,
        typer.Argument(metavar="DECISION_ID", help="Applied decisions to plan the writes of."),
    ] = None,
    all_: Annotated[
        bool,
        typer.Option(
            "--all", help="Every applied decision no write was planned for (as the report)."
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be planned; write nothing.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Plan the writes of cash applied while no system was configured to write to, for the
    systems written to now (same idempotency keys as at decision time; a system that has a
    decision's writes already gets nothing more). Nothing plans them on its own: check first
    that nobody recorded the payment by hand meanwhile (--dry-run shows what would be
    written), then `arsync push` sends them.

    Exit codes: 0 planned (or, with --all, nothing left to plan); 1 nothing could be planned
    for a decision named (unknown, not applied, superseded or undone, or planned already:
    one line on stderr says which and why; the others are still planned); 2 a wrong option
    or no system configured to write to; 75 a reconcile or a person's decision holds the
    lease (nothing was planned)."""
    if all_ == bool(decision_ids):
        raise _fail(
            "--all takes no decision id"
            if all_
            else "name the decisions to plan (from the report), or say --all",
            2,
        )
    from canonical.lease import LeaseHeld
    from sync.outbox.control import render_late_plan
    from sync.settings import ConfigError

    runtime = _runtime(config)
    try:
        plans = runtime.plan_writes(None if all_ else decision_ids, dry_run=dry_run)
    except ConfigError as exc:
        raise _fail(exc, 2) from None
    except LeaseHeld as exc:
        err.print(f"outbox plan not run: {escape(str(exc))}", style="yellow", highlight=False)
        raise typer.Exit(LEASE_HELD_EXIT) from None
    finally:
        runtime.close()
    if all_ and not plans:
        console.print("no applied decision is waiting for its writes to be planned")
        return
    lines, refused = render_late_plan(plans, dry_run=dry_run)
    for line in refused:
        err.print(f"not planned: {line}", style="yellow", markup=False, highlight=False)
    for line in lines:
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    if refused and not all_:
        raise typer.Exit(1)


@app.command()
def run(
    config: ConfigOption = None,
    system: Annotated[
        list[System] | None,
        typer.Option("--system", "-s", help="Only this system; repeatable."),
    ] = None,
) -> None:
    """Sync, then reconcile, then push: one pass of the whole pipeline.

    Exit codes: 0 all done; 1 a sync or a write failed, or commands wait for a person (as
    for push); 2 a wrong option or setting (a rules file included, checked before the sync);
    75 a step (or a system's sync) was skipped because another run holds it (what was decided
    is still pushed)."""
    from canonical.lease import LeaseHeld
    from reconciler.rules import RulesError, load_rules
    from sync.runtime import misconfigured
    from sync.settings import ConfigError

    runtime = _runtime(config)
    try:
        with _sigterm_ends_command():
            # a wrong rules file is a wrong setting: refused before anything is synced
            load_rules(runtime.settings.reconciler.rules_path)
            # each step does what it can; a system another run holds is shown as skipped
            results = run_with_progress(runtime, system, False)
            print_runs(results)
            skipped = any(r.skipped for r in results)
            try:
                console.print(str(runtime.reconcile()))
            except LeaseHeld as exc:  # what is already decided is still pushed
                err.print(f"[yellow]reconcile skipped: {escape(str(exc))}[/yellow]")
                skipped = True
            summary = runtime.push(system)
            attention = _attention(runtime, summary)
    except (KeyError, ConfigError) as exc:
        raise _fail(exc.args[0] if isinstance(exc, KeyError) else exc, 2) from None
    except RulesError as exc:
        raise _fail(f"rules error: {exc}", 2) from None
    finally:
        runtime.close()
    print_push(summary)
    if attention:
        err.print(escape(attention), style="yellow", highlight=False)
    if any(r.misconfigured for r in results) or misconfigured(summary):
        raise typer.Exit(2)
    failed = any(r.error for r in results) or not summary.ok or attention is not None
    raise typer.Exit(1 if failed else LEASE_HELD_EXIT if skipped or _busy(summary) else 0)


@app.command()
def serve(
    config: ConfigOption = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
) -> None:
    """Webhook endpoints (/webhooks/SOURCE), the report (/report), health, the schedule.

    Exit codes: 2 a wrong option or setting (a rules file included, checked before it
    listens)."""
    from reconciler.rules import RulesError, load_rules
    from sync.serve import serve as run_server

    runtime = _runtime(config)
    try:
        try:  # a wrong rules file is a wrong setting: refused before anything listens
            load_rules(runtime.settings.reconciler.rules_path)
        except RulesError as exc:
            raise _fail(f"rules error: {exc}", 2) from None
        run_server(runtime, host, port)
    finally:
        runtime.close()


@app.command()
def report(
    fmt: Annotated[ReportFormat, typer.Option("--format", "-f")] = ReportFormat.html,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="File to write (default arsync-report.FORMAT); - for stdout."
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Write the reconciler report for finance ops.

    A file is written whole or not at all; exit 1 when it cannot be written."""
    import tempfile

    from reconciler.report import build_report, write_report

    runtime = _runtime(config)
    try:
        data = build_report(runtime.store, tenant=runtime.settings.tenant)
    finally:
        runtime.close()
    if output is not None and str(output) == "-":
        with tempfile.TemporaryDirectory() as tmp:
            written = write_report(data, fmt.value, Path(tmp) / f"report.{fmt.value}")
            sys.stdout.buffer.write(written.read_bytes())
            sys.stdout.flush()
        return
    output = output or Path(f"arsync-report.{fmt.value}")
    with _whole_file(output, "report") as target:
        write_report(data, fmt.value, target)
    console.print(f"report written to {output}")


@app.command()
def demo(
    workdir: Annotated[Path, typer.Option(help="Where the demo database and report go.")] = Path(
        "var/demo"
    ),
    invoices: Annotated[int, typer.Option(help="Invoices in the sandbox world.")] = 3000,
    customers: Annotated[int, typer.Option(help="Customers in the sandbox world.")] = 300,
) -> None:
    """Start the four sandboxes, sync them all, reconcile a bank file, and summarise."""
    from sync.demo import run_demo

    code = run_demo(workdir, console=console, customers=customers, invoices=invoices)
    raise typer.Exit(code)


def script() -> None:
    """The ``arsync`` console script. A database that fails while a command runs (gone, full,
    locked past its timeout) ends it with one line and exit 1, as when it cannot be opened;
    ``-v`` logs the traceback too. What the command committed before stays committed."""
    try:
        app()
    except Exception as exc:
        if not _is_database_error(exc):
            raise
        from canonical.store import store_reason
        from connectors.redact import redact_text

        logging.getLogger("arsync").info("database error", exc_info=True)
        err.print(
            escape(f"database error: {redact_text(store_reason(exc))}"),
            style="red",
            highlight=False,
        )
        sys.exit(1)


def _is_database_error(exc: Exception) -> bool:
    """Whether ``exc`` is SQLAlchemy's: a command that never loaded SQLAlchemy (``--help``)
    cannot have raised one, so the check imports nothing."""
    sqlalchemy_exc = sys.modules.get("sqlalchemy.exc")
    return sqlalchemy_exc is not None and isinstance(exc, sqlalchemy_exc.SQLAlchemyError)


if __name__ == "__main__":
    script()
