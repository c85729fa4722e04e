"""After the demo, a newcomer goes on with its data: its last lines say how (the database is
the demo's own, not the default var/arsync.db), and the command they give works; the resolve
command it shows stays on one line, to copy and paste."""

from __future__ import annotations

import io
import re
import shlex
import sys
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from sync.cli import app
from sync.demo import run_demo

pytestmark = pytest.mark.timeout(300)


def test_the_demo_ends_saying_how_to_go_on_with_its_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("ARSYNC_CONFIG", "ARSYNC_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [".venv/bin/arsync", "demo"])  # as `make demo` runs it
    out = io.StringIO()
    console = Console(file=out, width=140)  # as the CLI's console when not a terminal
    code = run_demo(Path("var/demo"), console=console, customers=30, invoices=200)
    assert code == 0, out.getvalue()
    lines = out.getvalue().splitlines()

    [returned] = [line for line in lines if line.startswith("returned by the bank:")]
    assert re.search(r"; arsync resolve [0-9a-f]{32} --by person:demo --reverse$", returned)

    told, command = lines[-2:]
    assert "sqlite:///var/demo/arsync.db" in told and "var/arsync.db" in told
    assert command.strip() == (
        "ARSYNC_DATABASE_URL=sqlite:///var/demo/arsync.db .venv/bin/arsync status"
    )
    env, _, verb = shlex.split(command)
    name, url = env.split("=", 1)
    runner = CliRunner()
    shown = runner.invoke(app, [verb], env={name: url}, terminal_width=200)
    assert shown.exit_code == 0, shown.output
    assert "quickbooks" in shown.stdout and "incremental" in shown.stdout  # the demo's runs
    assert not (tmp_path / "var" / "arsync.db").exists()
