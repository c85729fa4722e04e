"""A payer name holding a control character (an ESC a BAI2 file carries through ingest as
is) is written to the xlsx report without it, where openpyxl refused the whole workbook."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from canonical.store import Store
from reconciler import reconcile
from reconciler.report import build_report, write_report
from sync.cli import app
from sync.ingest import ingest_files

FIXTURE = Path(__file__).parents[1] / "fixtures/bankfiles/bai2_bofa_ach_text.bai"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store.open(f"sqlite:///{tmp_path}/a.db")
    bank = tmp_path / "in.bai"
    text = FIXTURE.read_text()
    assert "BLUE HERON CAFE" in text
    bank.write_text(text.replace("BLUE HERON CAFE", "BLUE HERON\x1bCAFE"))
    ingest_files(store, [bank])
    reconcile(store)
    return store


def test_xlsx_report_drops_control_characters(store: Store, tmp_path: Path) -> None:
    report = build_report(store)
    assert any(r["payer"] == "BLUE HERON\x1bCAFE" for r in report["remittances"])
    path = write_report(report, "xlsx", tmp_path / "r.xlsx")
    sheet = load_workbook(path)["Remittances"]
    header = [c.value for c in sheet[1]]
    payers = [row[header.index("Payer")] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert "BLUE HERONCAFE" in payers, payers


def test_cli_xlsx_report_with_a_control_character_is_written(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("ARSYNC_CONFIG", "ARSYNC_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "arsync.toml"
    config.write_text(f'database_url = "sqlite:///{tmp_path}/a.db"\n')
    answer = CliRunner().invoke(
        app, ["report", "--format", "xlsx", "-o", "r.xlsx", "-c", str(config)]
    )
    assert answer.exception is None or isinstance(answer.exception, SystemExit), repr(
        answer.exception
    )
    assert answer.exit_code == 0, answer.output
    assert (tmp_path / "r.xlsx").stat().st_size > 0
