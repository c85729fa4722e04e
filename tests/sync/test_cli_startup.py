"""`arsync --help` (and each command's) starts fast: importing the CLI, or asking any
command for its help, loads no database layer (SQLAlchemy, SQLModel, Alembic), no HTTP
client, no connector and no reconciler. Each command imports those when it runs. Checked by
the modules loaded in a fresh interpreter, not by timing."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

# top-level packages that took most of the CLI's import time before any argument was parsed
HEAVY = ("sqlalchemy", "sqlmodel", "alembic", "mako", "requests", "reconciler", "connectors")
# our modules that pull those in (or pydantic-settings) when imported
HEAVY_OURS = (
    "canonical.models",
    "canonical.store",
    "canonical.lease",
    "sync.settings",
    "sync.runtime",
    "sync.engine",
    "sync.pull",
    "sync.outbox",
)


def _heavy_loaded(code: str) -> list[str]:
    """The heavy modules loaded once ``code`` has run in a fresh interpreter."""
    probe = code + textwrap.dedent(
        f"""
        import json, sys
        heavy = {HEAVY!r}
        ours = {HEAVY_OURS!r}
        print(json.dumps(sorted(
            m for m in sys.modules
            if m.split(".")[0] in heavy or m in ours or m.startswith(tuple(o + "." for o in ours))
        )))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def test_importing_the_cli_loads_no_heavy_module() -> None:
    assert _heavy_loaded("import sync.cli\n") == []


def test_help_of_the_console_script_and_of_every_command_loads_no_heavy_module() -> None:
    code = textwrap.dedent(
        """
        import contextlib, io, sys
        import typer
        from sync.cli import app, script

        command = typer.main.get_command(app)
        paths = [[]]
        for name, sub in command.commands.items():
            paths.append([name])
            paths.extend([name, inner] for inner in getattr(sub, "commands", None) or {})
        assert len(paths) > 10, paths
        for path in paths:
            sys.argv = ["arsync", *path, "--help"]
            shown = io.StringIO()
            with contextlib.redirect_stdout(shown):
                try:
                    script()
                except SystemExit as exc:
                    assert exc.code in (0, None), (path, exc.code)
            assert "Usage:" in shown.getvalue(), (path, shown.getvalue())
        """
    )
    assert _heavy_loaded(code) == []
