"""Broken JSON is one line with its line and column, also for text after the end of the
list and a raw control character inside a string; a break past the part the slow parser
reads says it is not placed, without reading the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

import sync.importer
from canonical.store import Store
from sync.importer import import_file


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (  # two exports pasted together
            '[\n{"customer_id": "C1", "name": "Acme"}\n]\n,{"customer_id": "C2"}',
            "c.json: not valid JSON at line 4, column 1: more text after the end of the JSON",
        ),
        (  # a tab typed into a name: JSON wants \t
            '[\n{"customer_id": "C1", "name": "A\tcme"}]',
            "c.json: not valid JSON at line 2, column 33: invalid character inside string",
        ),
        (
            '{"customers": [\r\n {"customer_id": "C1", "name": "Acme \\q"}]}',
            "c.json: not valid JSON at line 2, column 38: inside a string",
        ),
        (
            '[\n {"customer_id": "C1", "name": "Acme", "active": tru}]',
            "c.json: not valid JSON at line 2, column 50: invalid string in json text",
        ),
    ],
)
def test_broken_json_names_line_and_column(
    sqlite_store: Store, tmp_path: Path, content: str, error: str
) -> None:
    path = tmp_path / "c.json"
    path.write_text(content, encoding="utf-8")
    report = import_file(sqlite_store, "customers", path)
    assert len(report.errors) == 1
    assert report.errors[0].startswith(error), report.errors[0]


def test_a_break_past_the_limit_is_not_placed(
    sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sync.importer, "JSON_PLACE_LIMIT", 1 << 20)
    item = '{"customer_id": "C%d", "name": "Customer %d"}'
    path = tmp_path / "c.json"
    path.write_text("[" + ",\n".join(item % (n, n) for n in range(40_000)) + "]\n,[]")
    report = import_file(sqlite_store, "customers", path)
    assert report.errors == [
        "c.json: not valid JSON: more text after the end of the JSON "
        "(past the first 1 MiB: the line is not counted)"
    ]
    assert report.created == 40_000
