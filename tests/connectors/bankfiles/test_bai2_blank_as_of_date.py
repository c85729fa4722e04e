"""A 02 group header with a blank as-of date: named in a warning, its credits kept undated,
and each keyed by its file and place (keyed by its looks, the same credit of the next day's
file under a blank date was dropped as a duplicate: cash lost)."""

from __future__ import annotations

from pathlib import Path

from canonical.store import Store
from connectors.bankfiles.reader import parse_bank_bytes
from sync.ingest import ingest_files

HEADER = "01,121000248,NWTRADERS,261120,0600,1,,,2/"
BLANK_DATE = "02,NWTRADERS,121000248,1,,2400,USD,2/"


def _file(group: str, header: str = HEADER) -> str:
    account = ["03,000123456789,USD,/", "16,195,100000,0,,,ORG:BETA LLC/", "49,100000,3/"]
    lines = [header, group, *account, f"98,100000,1,{len(account) + 2}/"]
    lines.append(f"99,100000,1,{len(lines) + 1}/")
    return "\n".join(lines) + "\n"


def test_a_blank_as_of_date_is_named_and_the_credit_kept() -> None:
    result = parse_bank_bytes(_file(BLANK_DATE).encode(), "day1.bai")
    assert [r.value_date for r in result.records] == [None]
    assert result.errors == []
    assert [w.location for w in result.warnings] == ["line 2, as-of date"]


def test_the_next_days_credit_under_a_blank_as_of_date_is_kept(
    tmp_path: Path, sqlite_store: Store
) -> None:
    day1, day2 = tmp_path / "day1.bai", tmp_path / "day2.bai"
    day1.write_text(_file(BLANK_DATE))
    day2.write_text(_file(BLANK_DATE, header="01,121000248,NWTRADERS,261121,0600,2,,,2/"))
    report = ingest_files(sqlite_store, [day1, day2])
    assert [(o.new, o.duplicate) for o in report.files] == [(1, 0), (1, 0)]
