"""Every command's --help shows its docstring as written: bracketed words (config sections
such as ``[invoiced]``) are text, not markup, and paragraphs are reflowed, not cut at the
source's line ends."""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from sync.cli import app

COMMAND: Any = typer.main.get_command(app)


def _commands() -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for name, command in COMMAND.commands.items():
        found.append((name,))
        if getattr(command, "commands", None):
            found.extend((name, sub) for sub in command.commands)
    return found


@pytest.mark.parametrize("path", _commands(), ids=" ".join)
def test_help_keeps_bracketed_words_of_the_docstring(path: tuple[str, ...]) -> None:
    command = COMMAND
    for name in path:
        command = command.commands[name]
    result = CliRunner().invoke(app, [*path, "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    shown = " ".join(result.output.split())
    for bracketed in re.findall(r"\[[A-Za-z_]+\]", command.help or ""):
        assert bracketed in shown


def test_sync_help_names_the_config_section_and_reflows_its_paragraphs() -> None:
    result = CliRunner().invoke(app, ["sync", "--help"], terminal_width=100)
    assert "e.g. [invoiced], or ARSYNC_INVOICED__*" in " ".join(result.output.split())
    # a paragraph is wrapped to the terminal, not broken where the source's lines end
    assert not any(line.strip() in ("0 every", "the others") for line in result.output.splitlines())
