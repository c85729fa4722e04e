"""A daily export that holds no records today (its header with the kind's columns, or an
empty JSON list) is a success, `0 rows: nothing to import`, exit 0; a file that cannot be
the export (empty, no header naming the kind's columns, an .xlsx that is no workbook) is
still refused, exit 1."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from canonical.store import Store
from sync.cli import app
from sync.importer import import_file


def put(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8"))
    return path


def invoke(store: Store, monkeypatch: pytest.MonkeyPatch, kind: str, path: Path) -> tuple[int, str]:
    monkeypatch.setenv("ARSYNC_DATABASE_URL", store.url)
    monkeypatch.delenv("ARSYNC_CONFIG", raising=False)
    result = CliRunner().invoke(app, ["import", kind, str(path)])
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("payments.csv", "payment_id,customer_id,amount,currency,received_on\r\n"),
        ("payments.csv", "\ufeffPayment ID;Customer ID;Amount;Currency\r\n;;;\r\n\r\n"),
        ("payments.csv", "Payments received\r\n2026-03-31\r\nPayment ID,Amount,Customer ID\r\n"),
        ("payments.csv", "Payment ID,Customer ID,Amount\r\n\r\nTotal,,0.00\r\n"),
        ("payments.json", '{"payments": []}'),
        ("payments.json", "[]\n"),
    ],
)
def test_a_quiet_day_export_is_0_rows_and_exit_0(
    sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, content: str
) -> None:
    path = put(tmp_path, name, content)
    report = import_file(sqlite_store, "payments", path)
    assert (report.rows, report.created, report.errors) == (0, 0, [])
    assert report.summary().startswith(f"{path}: 0 rows: nothing to import")
    code, output = invoke(sqlite_store, monkeypatch, "payments", path)
    assert code == 0, output
    assert "0 rows: nothing to import" in output


def test_a_quiet_day_workbook_is_0_rows(
    sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Invoice Number", "Customer ID", "Currency", "Total", "Balance"])
    path = tmp_path / "invoices.xlsx"
    book.save(path)
    assert import_file(sqlite_store, "invoices", path).errors == []
    assert invoke(sqlite_store, monkeypatch, "invoices", path)[0] == 0


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("p.csv", "", "p.csv: the file is empty: nothing to import"),
        ("p.json", "", "p.json: the file is empty: nothing to import"),
        (  # a customers export given as payments
            "p.csv",
            "customer_id,name,currency\r\n",
            "p.csv: no data rows, and no header naming payment_id and amount: "
            "nothing to import (the wrong export?)",
        ),
        (
            "p.csv",
            "Report could not be generated\r\n",
            "p.csv: no data rows, and no header naming payment_id and amount",
        ),
        ("p.xlsx", "payment_id,amount\r\n", "p.xlsx: not an Excel workbook (.xlsx)"),
        ("p.json", '{"error": "unauthorized"}', "p.json: expected a JSON list of objects"),
    ],
)
def test_a_file_that_is_no_export_is_still_refused(
    sqlite_store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    content: str,
    error: str,
) -> None:
    path = put(tmp_path, name, content)
    report = import_file(sqlite_store, "payments", path)
    assert report.rows == 0 and len(report.errors) == 1
    assert report.errors[0].startswith(error), report.errors[0]
    code, output = invoke(sqlite_store, monkeypatch, "payments", path)
    assert code == 1, output
    assert "0 rows: nothing to import" not in output
