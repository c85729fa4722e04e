"""Cash applied while no system is configured to write to is applied in arsync only: reconcile
and resolve say so on stderr, and the report's writes section counts the applied decisions
no write is planned for (the money is not invisible when systems are configured later)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from canonical.store import Store
from reconciler.report import build_report, render_html
from reconciler.rules import DEFAULT_RULES
from sync.cli import app
from tests.support.receivables import decision
from tests.sync.outbox.books import Book

QBO = ("quickbooks",)
WARNING = "applied in arsync only: no system is configured to write to"


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    for name in ("ARSYNC_CONFIG", "ARSYNC_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return f"sqlite:///{tmp_path}/a.db"


def _config(tmp_path: Path, db: str, sections: str = "") -> Path:
    path = tmp_path / "arsync.toml"
    path.write_text(f'database_url = "{db}"\n{sections}')
    return path


def _run(*args: str) -> Any:
    answer = CliRunner().invoke(app, list(args), terminal_width=300)
    assert answer.exit_code == 0, answer.output
    return answer


def _book(db: str) -> tuple[Store, Book, str]:
    """Acme (in QuickBooks) owes INV-1001 of 100.00 and INV-1002 of 40.00."""
    store = Store.open(db)
    book = Book(store)
    acme = book.customer("Acme Corp", QBO)
    book.invoice(acme, "INV-1001", "100.00", QBO)
    book.invoice(acme, "INV-1002", "40.00", QBO)
    return store, book, acme


def test_reconcile_with_no_system_configured_says_nothing_will_be_written(
    tmp_path: Path, db: str
) -> None:
    """The demo's database opened with no config: a payment naming INV-1001 is applied."""
    store, book, _ = _book(db)
    book.remittance("Acme Corp", "100.00", "INV-1001")
    config = _config(tmp_path, db)
    answer = _run("reconcile", "-c", str(config))
    assert answer.stdout.startswith("1 remittances: 1 applied")
    assert WARNING in answer.stderr
    assert "nothing will be written" in answer.stderr
    assert "quickbooks" in answer.stderr and "salesforce" in answer.stderr

    report = build_report(store)
    assert report["outbox"]["not_planned"] == 1
    html = render_html(report)
    writes = html[html.index("<h2>Writes to the systems</h2>") : html.index("<h2>Drift")]
    assert "1 applied decision has no write planned to any system" in writes
    store.dispose()


def test_reconcile_with_a_system_configured_warns_of_nothing(tmp_path: Path, db: str) -> None:
    store, book, _ = _book(db)
    book.remittance("Acme Corp", "100.00", "INV-1001")
    config = _config(tmp_path, db, '[quickbooks]\nrealm_id = "1"\n')
    answer = _run("reconcile", "-c", str(config))
    assert WARNING not in answer.stderr
    report = build_report(store)
    assert report["outbox"]["not_planned"] == 0
    html = render_html(report)
    assert "no write planned" not in html
    store.dispose()


def test_resolve_with_no_system_configured_says_nothing_will_be_written(
    tmp_path: Path, db: str
) -> None:
    """Every rule only suggests; a person confirms the suggestion with no system configured."""
    store, book, _ = _book(db)
    rem = book.remittance("Acme Corp", "100.00", "INV-1001")
    rules = tmp_path / "rules.toml"
    rules.write_text(DEFAULT_RULES.read_text().replace("auto = true", "auto = false"))
    config = _config(tmp_path, db)
    _run("reconcile", "-c", str(config), "--rules", str(rules))
    suggested = decision(store, rem)
    assert suggested.status == "suggested"
    answer = _run("resolve", suggested.id, "--by", "person:ana", "-c", str(config))
    assert "INV-1001" in answer.stdout
    assert WARNING in answer.stderr
    assert build_report(store)["outbox"]["not_planned"] == 1
    store.dispose()


def test_configured_later_the_report_still_counts_it_and_undo_then_resolve_plans_its_writes(
    tmp_path: Path, db: str
) -> None:
    """Applied with no config; QuickBooks configured later: the decision stays counted until
    a person takes it back and applies it again, which plans its writes."""
    store, book, _ = _book(db)
    rem = book.remittance("Acme Corp", "100.00", "INV-1001")
    _run("reconcile", "-c", str(_config(tmp_path, db)))
    applied = decision(store, rem)
    config = _config(tmp_path, db, '[quickbooks]\nrealm_id = "1"\n')
    _run("reconcile", "-c", str(config))  # nothing new: the decision is not planned later
    report = build_report(store)
    assert (report["outbox"]["not_planned"], report["outbox"]["not_planned_decisions"]) == (
        1,
        [applied.id],
    )
    undone = _run(
        "resolve", applied.id, "--by", "person:ana", "--undo", "applied offline", "-c", str(config)
    )
    assert WARNING.replace("applied", "undone") not in undone.stderr
    again = decision(store, rem)
    answer = _run(
        "resolve", again.id, "--by", "person:ana", "--invoice", "INV-1001", "-c", str(config)
    )
    assert WARNING not in answer.stderr
    report = build_report(store)
    assert report["outbox"]["not_planned"] == 0
    assert report["outbox"]["counts"] == {"quickbooks": {"pending": 1}}
    store.dispose()


def test_a_reversal_with_no_system_configured_says_nothing_will_be_written(
    tmp_path: Path, db: str
) -> None:
    store, book, _ = _book(db)
    rem = book.remittance("Acme Corp", "100.00", "INV-1001")
    config = _config(tmp_path, db)
    _run("reconcile", "-c", str(config))
    answer = _run(
        "resolve",
        decision(store, rem).id,
        "--by",
        "person:ana",
        "--undo",
        "wrong invoice",
        "-c",
        str(config),
    )
    assert "undone in arsync only: no system is configured to write to" in answer.stderr
    store.dispose()
