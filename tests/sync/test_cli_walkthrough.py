"""What a newcomer meets on the command line: a rules file that is missing or wrong is one
line `rules error: FILE: ...` and exit 2 (for `reconcile --rules` and a config's
`[reconciler] rules_path` in `run`), never a traceback; `report -o` to a place that cannot be
written is one line and exit 1, the old file kept whole; `resolve --by ana` is a wrong option
(exit 2); a person's `resolve --invoice` says what it applied and what is left unapplied."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from canonical.store import Store
from reconciler import reconcile
from reconciler.rules import DEFAULT_RULES
from sync.cli import app
from tests.support.receivables import Book, decision


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("ARSYNC_CONFIG", "ARSYNC_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "arsync.toml"
    path.write_text(f'database_url = "sqlite:///{tmp_path}/a.db"\n')
    return path


def _run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), terminal_width=300)


def _one_line(answer: Any) -> str:
    lines = answer.stderr.strip().splitlines()
    assert len(lines) == 1, answer.stderr
    assert "Traceback" not in answer.output
    return str(lines[0])


def _rules(tmp_path: Path, old: str, new: str) -> Path:
    text = DEFAULT_RULES.read_text()
    assert old in text
    path = tmp_path / "my-rules.toml"
    path.write_text(text.replace(old, new, 1))
    return path


def test_reconcile_with_a_missing_rules_file_is_one_line_exit_2(config: Path) -> None:
    answer = _run("reconcile", "--rules", "nope.toml", "--config", str(config))
    assert answer.exit_code == 2, answer.output
    assert _one_line(answer) == "rules error: nope.toml: cannot read: No such file or directory"


@pytest.mark.parametrize(
    "old, new, said",
    [
        ("[tolerance]", "[tolerance", "not valid TOML"),
        ('kind = "oldest_first"', 'kind = "oldest"', "rule 'oldest_first': kind 'oldest'"),
        ('short_pay_abs = "5.00"', 'short_pay_abs = "five"', "tolerance.short_pay_abs 'five'"),
        (
            "min_confidence = 95",
            'min_confidence = "high"',
            "rule 'structured_reference': min_confidence 'high'",
        ),
        ('policy = "reference_then_oldest"', 'policy = "newest"', "credit_memos.policy 'newest'"),
        ("short_pay_abs = ", "short_pay_absolute = ", "'tolerance.short_pay_absolute'"),
        ("discount_grace_days = 3 ", "discount_grace_days = 1.5 ", "discount_grace_days 1.5"),
    ],
)
def test_reconcile_with_a_wrong_rules_file_is_one_line_exit_2(
    config: Path, tmp_path: Path, old: str, new: str, said: str
) -> None:
    rules = _rules(tmp_path, old, new)
    answer = _run("reconcile", "--rules", str(rules), "--config", str(config))
    assert answer.exit_code == 2, answer.output
    line = _one_line(answer)
    assert line.startswith(f"rules error: {rules}: ") and said in line, line


def test_run_with_a_missing_rules_path_in_the_config_is_one_line_exit_2(config: Path) -> None:
    config.write_text(config.read_text() + '\n[reconciler]\nrules_path = "nope.toml"\n')
    answer = _run("run", "--config", str(config))
    assert answer.exit_code == 2, answer.output
    assert _one_line(answer) == "rules error: nope.toml: cannot read: No such file or directory"
    assert "sync" not in answer.stdout  # refused before anything ran


def test_report_to_a_directory_is_one_line_exit_1(config: Path, tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    answer = _run("report", "-o", str(folder), "--config", str(config))
    assert answer.exit_code == 1, answer.output
    assert _one_line(answer) == f"report error: cannot write {folder}: Is a directory"


def test_report_under_a_folder_that_cannot_be_made_is_one_line_exit_1(
    config: Path, tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    target = tmp_path / "notes.txt" / "r.json"
    answer = _run("report", "-f", "json", "-o", str(target), "--config", str(config))
    assert answer.exit_code == 1, answer.output
    assert _one_line(answer).startswith(f"report error: cannot write {target}: ")


def test_a_report_that_fails_partway_leaves_the_old_file_whole(
    config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import reconciler.report

    target = tmp_path / "r.csv"
    target.write_text("yesterday's report\n")

    def disk_full(report: Any, path: Path) -> None:
        path.write_text("section,half a ro")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(reconciler.report, "_write_csv", disk_full)
    answer = _run("report", "-f", "csv", "-o", str(target), "--config", str(config))
    assert answer.exit_code == 1, answer.output
    assert _one_line(answer) == f"report error: cannot write {target}: No space left on device"
    assert target.read_text() == "yesterday's report\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("r.")) == ["r.csv"]


def test_a_report_written_replaces_the_old_one(config: Path, tmp_path: Path) -> None:
    target = tmp_path / "out" / "r.json"
    answer = _run("report", "-f", "json", "-o", str(target), "--config", str(config))
    assert answer.exit_code == 0, answer.output
    assert target.read_text(encoding="utf-8").startswith("{")
    assert [p.name for p in target.parent.iterdir()] == ["r.json"]


@pytest.fixture
def suggested(config: Path, tmp_path: Path) -> tuple[Store, str]:
    """Cash from Wonka naming no invoice, more than its one open invoice: for a person."""
    store = Store.open(f"sqlite:///{tmp_path}/a.db")
    book = Book(store)
    book.invoice(book.customer("Wonka Industries"), "3001", "500.00")
    cash = book.pay("620.00", payer="WONKA INDUSTRIES")
    reconcile(store)
    return store, cash


def test_resolve_by_a_name_that_is_no_person_is_a_wrong_option(
    config: Path, suggested: tuple[Store, str]
) -> None:
    store, cash = suggested
    open_one = decision(store, cash)
    answer = _run("resolve", open_one.id, "--by", "ana", "--invoice", "3001", "-c", str(config))
    assert answer.exit_code == 2, answer.output
    assert "as person:NAME" in _one_line(answer)
    assert decision(store, cash).id == open_one.id  # nothing decided


def test_resolve_with_invoices_says_what_is_applied_and_left_unapplied(
    config: Path, suggested: tuple[Store, str]
) -> None:
    store, cash = suggested
    open_one = decision(store, cash)
    assert open_one.status != "auto_applied"
    answer = _run(
        "resolve", open_one.id, "--by", "person:ana", "--invoice", "3001", "-c", str(config)
    )
    assert answer.exit_code == 0, answer.output
    made = decision(store, cash)
    assert (made.applied_minor, made.unapplied_minor) == (50000, 12000)
    assert answer.stdout.strip().splitlines() == [
        f"applied by person:ana: decision {made.id} applies 500.00 USD of remittance {cash} "
        "(620.00 USD) to invoice 3001 of Wonka Industries; 120.00 USD left unapplied"
    ]
