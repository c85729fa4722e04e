"""Bank files cut short: ingested with warnings, the records read kept; the complete file
sent later adds only what was missing."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from canonical.store import Store
from sync.cli import app
from sync.ingest import ingest_files

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bankfiles"


def _cut(tmp_path: Path, name: str, lines: int, cut_name: str) -> Path:
    """The first ``lines`` lines of a fixture, as a transfer that stopped there leaves it."""
    kept = (FIXTURES / name).read_text().splitlines()[:lines]
    path = tmp_path / cut_name
    path.write_text("\n".join(kept) + "\n")
    return path


def test_a_cut_bai2_and_820_are_kept_with_warnings_then_the_whole_files_add_the_rest(
    store: Store, tmp_path: Path
) -> None:
    bai2 = _cut(tmp_path, "bai2_lockbox_ach.bai", 15, "lockbox-cut.bai")  # inside group 1
    edi = _cut(tmp_path, "edi820_remittance.edi", 30, "remittance-cut.edi")  # after set 0002
    report = ingest_files(store, [bai2, edi])
    assert [(f.new, f.rejected) for f in report.files] == [(6, 0), (2, 0)]
    assert [str(w) for w in report.warnings] == [
        "lockbox-cut.bai: line 3: BAI2 file ends without the 49 account trailer of account "
        "0012345678 (cut short?) (records kept; check the file is complete)",
        "lockbox-cut.bai: line 2: BAI2 file ends without the 98 group trailer of group 1 "
        "(cut short?) (records kept; check the file is complete)",
        "lockbox-cut.bai: file: BAI2 file ends without its 99 file trailer (cut short?) "
        "(records kept; check the file is complete)",
        "remittance-cut.edi: line 2, segment 2 (GS): functional group 905 has no GE trailer: "
        "the file may be cut short (records kept; check the file is complete)",
        "remittance-cut.edi: line 1, segment 1 (ISA): interchange 000000905 has no IEA "
        "trailer: the file may be cut short (records kept; check the file is complete)",
    ]
    assert report.summary() == "2 files: 8 new, 0 duplicate, 0 rejected, 5 warnings"

    whole = ingest_files(
        store, [FIXTURES / "bai2_lockbox_ach.bai", FIXTURES / "edi820_remittance.edi"]
    )
    assert [(f.new, f.duplicate) for f in whole.files] == [(1, 6), (1, 2)]
    assert whole.warnings == [] and whole.errors == []


def test_ingest_command_prints_the_missing_trailers_and_exits_0(tmp_path: Path) -> None:
    config = tmp_path / "arsync.toml"
    config.write_text(f'database_url = "sqlite:///{tmp_path / "cli.db"}"\n')
    cut = _cut(tmp_path, "bai2_lockbox_ach.bai", 17, "lockbox-no-99.bai")  # after group 1's 98
    result = CliRunner().invoke(app, ["ingest", str(cut), "--config", str(config)])
    assert result.exit_code == 0, result.output  # warnings alone: nothing was rejected
    assert "1 file: 6 new, 0 duplicate, 0 rejected, 1 warning" in result.stdout
    stderr = " ".join(result.stderr.split())
    assert (
        "warning: lockbox-no-99.bai: file: BAI2 file ends without its 99 file trailer "
        "(cut short?)" in stderr
    )
