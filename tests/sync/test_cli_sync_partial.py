"""`arsync sync` and `arsync run` with several systems: a system another run holds the lease of
is shown as skipped, never hiding what the others did. A failed system is shown and exits 1
(not 75, "try again later"); only skipped ones exit 75."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

import sync.engine
import sync.runtime
from canonical.enums import RunStatus
from canonical.lease import LeaseHeld
from sync.cli import app
from sync.engine import RunResult
from sync.outbox.worker import PushSummary

REVOKED = "quickbooks: auth failed: refresh token revoked (invalid_grant)"
HOLDER = "serve-host pid 42 in x (abc)"


class _Conn:
    def __init__(self, system: str) -> None:
        self.system = system

    def close(self) -> None:
        pass


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("ARSYNC_CONFIG", "ARSYNC_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ARSYNC_QUICKBOOKS__CLIENT_SECRET", "s3cr3t-value")
    monkeypatch.setenv("ARSYNC_INVOICED__API_KEY", "k3y-value-123")
    path = tmp_path / "arsync.toml"
    path.write_text(
        f'database_url = "sqlite:///{tmp_path}/a.db"\n'
        '[quickbooks]\nrealm_id = "1"\nclient_id = "c"\n'
        '[invoiced]\nbase_url = "http://127.0.0.1:9"\n'
    )
    monkeypatch.setattr(sync.runtime.Runtime, "connector", lambda self, system: _Conn(system))
    monkeypatch.setattr(sync.runtime.Runtime, "reconcile", lambda self, rules_path=None: "done")
    monkeypatch.setattr(
        sync.runtime.Runtime, "push", lambda self, systems=None, **kw: PushSummary(dry_run=False)
    )
    return path


def _engine(monkeypatch: pytest.MonkeyPatch, qbo_fails: bool) -> None:
    """QuickBooks synced (or failed on a revoked token); Invoiced's lease taken meanwhile."""

    def fake_sync(self: object, connector: _Conn, **kw: object) -> RunResult:
        if connector.system == "quickbooks":
            if qbo_fails:
                return RunResult("quickbooks", "r1", RunStatus.FAILED, error=REVOKED)
            return RunResult("quickbooks", "r1", RunStatus.OK)
        now = datetime.now(UTC)
        raise LeaseHeld("sync", HOLDER, now, now)

    monkeypatch.setattr(sync.engine.SyncEngine, "sync", fake_sync)


@pytest.mark.parametrize("command", ["sync", "run"])
def test_a_failed_system_is_shown_and_exits_1_though_another_was_skipped(
    config: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    _engine(monkeypatch, qbo_fails=True)
    answer = CliRunner().invoke(app, [command, "--config", str(config)], terminal_width=200)
    assert answer.exit_code == 1, answer.output
    assert REVOKED in answer.stderr
    assert f"sync skipped: invoiced: another sync is running ({HOLDER}" in answer.stderr
    rows = {line.split()[1]: line.split()[3] for line in answer.stdout.splitlines() if "│" in line}
    assert rows.get("quickbooks") == "failed" and rows.get("invoiced") == "skipped"


@pytest.mark.parametrize("command", ["sync", "run"])
def test_a_skipped_system_alone_exits_75_with_the_others_shown(
    config: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    _engine(monkeypatch, qbo_fails=False)
    answer = CliRunner().invoke(app, [command, "--config", str(config)], terminal_width=200)
    assert answer.exit_code == 75, answer.output
    rows = {line.split()[1]: line.split()[3] for line in answer.stdout.splitlines() if "│" in line}
    assert rows.get("quickbooks") == "ok" and rows.get("invoiced") == "skipped"
