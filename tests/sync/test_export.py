"""Export: canonical fields, amounts as strings, refs per system; CLI status and config errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from canonical.store import Store
from sync.cli import app
from sync.export import write_export
from tests.support.pull import seed_two_systems


def test_json_export_has_amounts_as_strings_and_refs(store: Store) -> None:
    seed_two_systems(store)
    out = io.StringIO()
    assert write_export(store, "invoices", "json", out) == 1
    [row] = json.loads(out.getvalue())
    assert row["total"] == "100.00" and row["balance"] == "100.00" and row["currency"] == "USD"
    assert row["refs"] == [{"system": "quickbooks", "id": "130"}]
    customers = io.StringIO()
    write_export(store, "customers", "json", customers)
    [customer] = json.loads(customers.getvalue())
    assert customer["refs"] == [
        {"system": "invoiced", "id": "c1"},
        {"system": "quickbooks", "id": "58"},
    ]


def test_csv_export(sqlite_store: Store) -> None:
    seed_two_systems(sqlite_store)
    out = io.StringIO()
    write_export(sqlite_store, "customers", "csv", out)
    [row] = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert row["refs"] == "invoiced:c1;quickbooks:58"


def test_cli_export_and_status(
    sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_two_systems(sqlite_store)
    monkeypatch.setenv("ARSYNC_DATABASE_URL", sqlite_store.url)
    runner = CliRunner()
    result = runner.invoke(app, ["export", "invoices", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["number"] == "1001"
    status = runner.invoke(app, ["status"])
    assert status.exit_code == 0 and "bookmarks" in status.stdout


def test_cli_names_a_bad_setting(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[quickbooks]\nrealm = 1\n[bogus]\n")
    result = CliRunner().invoke(app, ["status", "--config", str(config)])
    assert result.exit_code == 2
    assert "config error: bogus" in result.output


def test_cli_report_to_stdout(
    sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_two_systems(sqlite_store)
    monkeypatch.setenv("ARSYNC_DATABASE_URL", sqlite_store.url)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["report", "--format", "json", "-o", "-"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["totals"]["remittances"] == 0
    assert not list(tmp_path.glob("arsync-report.*"))  # nothing written beside
