"""A whole arsync pipeline against running sandboxes: shared by the push end-to-end, crash
and fault tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from connectors.http import RetryPolicy
from connectors.sandbox.bankfiles import write_camt054
from sync.demo_cash import BANK_ACCOUNT, sample_payments
from sync.ingest import ingest_files
from sync.runtime import Runtime
from sync.sandboxes import SandboxFleet
from sync.settings import Settings, load_settings

FAST = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05)


def settings_for(fleet: SandboxFleet, db: Path, **extra: Any) -> Settings:
    return load_settings(
        None,
        database_url=f"sqlite:///{db}",
        sync={"lag_seconds": 0},
        **fleet.settings_overrides(),
        **extra,
    )


def plain(value: Any) -> Any:
    """Settings as plain JSON (secrets revealed: for a child process's config only)."""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def write_toml(fleet: SandboxFleet, db: Path, target: Path, **extra: Any) -> Path:
    """A config file for the CLI pointing at the sandboxes (secrets included: tests only)."""
    config = {
        "database_url": f"sqlite:///{db}",
        "sync": {"lag_seconds": 0},
        **plain(fleet.settings_overrides()),
        **extra,
    }
    target.write_text(_toml(config), encoding="utf-8")
    return target


def _toml(table: dict[str, Any], prefix: str = "") -> str:
    scalars, tables = [], []
    for key, value in table.items():
        if value is None:
            continue
        if isinstance(value, dict):
            tables.append((key, value))
        else:
            scalars.append(f"{json.dumps(key)} = {json.dumps(value, default=str)}")
    out = "\n".join(scalars) + "\n"
    for key, value in tables:
        name = f"{prefix}.{json.dumps(key)}" if prefix else json.dumps(key)
        out += f"\n[{name}]\n" + _toml(value, name)
    return out


def open_runtime(fleet: SandboxFleet, db: Path, **extra: Any) -> Runtime:
    runtime = Runtime.open(settings_for(fleet, db, **extra), policy=FAST)
    for system, tokens in fleet.initial_tokens().items():
        runtime.seed_tokens(system, tokens)
    return runtime


def decide(runtime: Runtime, workdir: Path, rules_path: Path | None = None) -> None:
    """Sync, ingest a bank file paying open invoices, reconcile (the outbox fills up)."""
    results = runtime.sync()
    assert all(r.error is None for r in results), [r.error for r in results]
    bank_file = workdir / "bank.camt054.xml"
    write_camt054(
        bank_file,
        sample_payments(runtime.store),
        account_iban=BANK_ACCOUNT,
        message_id="E2E",
        created=datetime.now(UTC),
    )
    ingest_files(runtime.store, [bank_file])
    runtime.reconcile(rules_path)
