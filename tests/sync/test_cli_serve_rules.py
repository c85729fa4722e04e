"""`arsync serve` checks the rules file before it listens, as `arsync run` does before it
syncs: a missing or wrong one is one line `rules error: FILE: ...` and exit 2."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import sync.serve
from reconciler.rules import DEFAULT_RULES
from sync.cli import app


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("ARSYNC_CONFIG", "ARSYNC_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "arsync.toml"
    path.write_text(f'database_url = "sqlite:///{tmp_path}/a.db"\n')
    return path


@pytest.fixture
def listened(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Where serve would have listened (the server is not started)."""
    calls: list[tuple[str, int]] = []

    def fake_serve(runtime: Any, host: str, port: int) -> None:
        calls.append((host, port))

    monkeypatch.setattr(sync.serve, "serve", fake_serve)
    return calls


def _serve(config: Path) -> Any:
    return CliRunner().invoke(app, ["serve", "--config", str(config)], terminal_width=300)


def test_serve_with_a_missing_rules_file_is_one_line_exit_2(
    config: Path, listened: list[tuple[str, int]]
) -> None:
    config.write_text(config.read_text() + '\n[reconciler]\nrules_path = "nope.toml"\n')
    answer = _serve(config)
    assert answer.exit_code == 2, answer.output
    assert answer.stderr.strip().splitlines() == [
        "rules error: nope.toml: cannot read: No such file or directory"
    ]
    assert listened == []  # refused before it listened


def test_serve_with_a_wrong_rules_file_is_one_line_exit_2(
    config: Path, tmp_path: Path, listened: list[tuple[str, int]]
) -> None:
    rules = tmp_path / "my-rules.toml"
    rules.write_text(DEFAULT_RULES.read_text().replace('kind = "oldest_first"', 'kind = "oldest"'))
    config.write_text(config.read_text() + f'\n[reconciler]\nrules_path = "{rules}"\n')
    answer = _serve(config)
    assert answer.exit_code == 2, answer.output
    (line,) = answer.stderr.strip().splitlines()
    assert line.startswith(f"rules error: {rules}: ") and "kind 'oldest'" in line, line
    assert listened == []


def test_serve_with_good_rules_listens(config: Path, listened: list[tuple[str, int]]) -> None:
    answer = _serve(config)
    assert answer.exit_code == 0, answer.output
    assert listened == [("127.0.0.1", 8080)]
