"""An import that reads nothing fails, naming the file: an .xlsx that is no workbook, an empty
file, a file without the kind's header, and broken JSON (one line with its line and column);
a header with no rows is a quiet day (0 rows, exit 0: see test_import_quiet_day.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from canonical.store import Store
from sync.cli import app
from sync.importer import import_file, read_rows


def put(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    "content",
    [
        "customer_id,name\nC1,Acme\n",  # a CSV export saved under a workbook's name
        "<html><body><table><tr><td>customer_id</td><td>name</td></tr></table></body></html>",
        "Invoice List\r\nnothing here\r\n",
    ],
)
def test_an_xlsx_that_is_not_a_workbook_is_refused(
    sqlite_store: Store, tmp_path: Path, content: str
) -> None:
    path = put(tmp_path, "x.xlsx", content)
    with pytest.raises(ValueError, match=r"^x\.xlsx: not an Excel workbook \(\.xlsx\)"):
        list(read_rows(path))
    report = import_file(sqlite_store, "customers", path)
    assert report.created == 0
    assert len(report.errors) == 1
    assert report.errors[0].startswith("x.xlsx: not an Excel workbook (.xlsx)")


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("c.csv", "", "c.csv: the file is empty: nothing to import"),
        ("c.json", "", "c.json: the file is empty: nothing to import"),
        ("c.csv", "invoice_number,total\r\n", "c.csv: no data rows, and no header naming"),
        ("c.csv", "nothing here\n\n;\n", "c.csv: no data rows, and no header naming"),
    ],
)
def test_a_file_without_data_rows_fails(
    sqlite_store: Store, tmp_path: Path, name: str, content: str, error: str
) -> None:
    report = import_file(sqlite_store, "customers", put(tmp_path, name, content))
    assert (report.rows, report.created) == (0, 0)
    assert len(report.errors) == 1 and report.errors[0].startswith(error)


def test_the_cli_exits_0_on_a_header_without_rows(
    sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARSYNC_DATABASE_URL", sqlite_store.url)
    monkeypatch.delenv("ARSYNC_CONFIG", raising=False)
    path = put(tmp_path, "invoices.csv", "invoice_number,customer_id,currency,total\n")
    result = CliRunner().invoke(app, ["import", "invoices", str(path)])
    assert result.exit_code == 0
    assert "invoices.csv: 0 rows: nothing to import" in result.output


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (
            '[\n  {"customer_id": "C1", "name": "Acme"},\n  {"customer_id": "C2", "name": "B",}\n]',
            "c.json: not valid JSON at line 3, column 37: invalid object key (must be a string)",
        ),
        (  # saved with a BOM and CRLF line ends; columns count characters, not bytes
            '\ufeff[\r\n {"customer_id": "C1", "name": "Müller" "x"}\r\n]',
            "c.json: not valid JSON at line 2, column 41: ",
        ),
        (  # cut off mid-way: the place is the end of the file
            '[\n  {"customer_id": "C1", "name": "Acme"},\n',
            "c.json: not valid JSON at line 3, column 1: the file ends inside the JSON",
        ),
    ],
)
def test_broken_json_is_one_line_with_line_and_column(
    sqlite_store: Store, tmp_path: Path, content: str, error: str
) -> None:
    path = put(tmp_path, "c.json", content)
    report = import_file(sqlite_store, "customers", path)
    assert len(report.errors) == 1
    message = report.errors[0]
    assert "\n" not in message and "right here" not in message
    assert message.startswith(error), message
