"""The push process is killed (SIGKILL, a real subprocess) at several points; the next push
completes without a duplicate write in any sandbox and without losing a command."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from canonical.enums import CommandStatus
from canonical.models import OutboxCommand
from canonical.store import Store
from connectors.intacct.writes import KEY_TAG as INTACCT_TAG
from connectors.quickbooks.writes import KEY_TAG
from connectors.sandbox.world import World
from reconciler.rules import DEFAULT_RULES
from sync.sandboxes import SandboxFleet, running_sandboxes
from tests.support.pipeline import decide, open_runtime, plain

pytestmark = pytest.mark.timeout(300)
CHILD = Path(__file__).with_name("crash_child.py")
SYSTEMS = ["quickbooks", "invoiced", "intacct"]
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def fleet() -> Iterator[SandboxFleet]:
    with running_sandboxes(
        World.generate(seed=5, customers=30, invoices=220), systems=tuple(SYSTEMS)
    ) as running:
        yield running


def prepared(fleet: SandboxFleet, tmp_path: Path) -> Path:
    """Decisions made and their commands waiting; returns the child's config file."""
    db = tmp_path / "arsync.db"
    runtime = open_runtime(fleet, db, push={"systems": SYSTEMS, "chunk": 6})
    # every discount the sample's payers state is written off, so each system gets write-offs
    rules = tmp_path / "rules.toml"
    rules.write_text(
        DEFAULT_RULES.read_text().replace(
            'stated_deductions = "within_tolerance"', 'stated_deductions = "always"'
        )
    )
    try:
        decide(runtime, tmp_path, rules)
    finally:
        runtime.close()
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "database_url": f"sqlite:///{db}",
                "sync": {"lag_seconds": 0},
                "push": {"systems": SYSTEMS, "chunk": 6},
                **plain(fleet.settings_overrides()),
            },
            default=str,
        ),
        encoding="utf-8",
    )
    return config


def child(config: Path, point: str, nth: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, str(CHILD), str(config), point, str(nth)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def written_keys(fleet: SandboxFleet) -> Counter[str]:
    """Every idempotency key that became a record, in every sandbox."""
    keys: Counter[str] = Counter()
    qbo: Any = fleet.servers["quickbooks"]
    for entity in ("Payment", "CreditMemo"):
        for record in qbo.records[entity].values():
            note = record.get("PrivateNote") or ""
            if note.startswith(KEY_TAG):
                keys[note[len(KEY_TAG) :].split(" ", 1)[0]] += 1
    invoiced: Any = fleet.servers["invoiced"]
    for stream in ("payments", "credit_memos"):
        for record in invoiced.ledger.records[stream].values():
            key = (record.get("metadata") or {}).get("arsync_key")
            if key:
                keys[key] += 1
    intacct: Any = fleet.servers.get("intacct")
    for obj in ("ARPYMT", "ARADJUSTMENT") if intacct is not None else ():
        for record in intacct.records[obj].values():
            text = record.get("DESCRIPTION") or ""
            if text.startswith(INTACCT_TAG):
                keys[text[len(INTACCT_TAG) :]] += 1
    return keys


def finish_and_check(fleet: SandboxFleet, tmp_path: Path) -> None:
    runtime = open_runtime(fleet, tmp_path / "arsync.db", push={"systems": SYSTEMS, "chunk": 6})
    try:
        summary = runtime.push()
        assert summary.ok
        assert runtime.push().written == 0
    finally:
        runtime.close()
    store = Store.open(f"sqlite:///{tmp_path / 'arsync.db'}")
    try:
        with store.session() as s:
            rows = list(s.execute(select(OutboxCommand)).scalars())
    finally:
        store.dispose()
    statuses = Counter(str(r.status) for r in rows)
    assert statuses[CommandStatus.CONFIRMED] > 0
    left = {CommandStatus.PENDING, CommandStatus.SENT, CommandStatus.FAILED, CommandStatus.DEAD}
    assert not [r for r in rows if r.status in left], statuses  # nothing lost or stuck
    keys = written_keys(fleet)
    assert [k for k, n in keys.items() if n > 1] == []  # nothing written twice
    confirmed = [r for r in rows if r.status == CommandStatus.CONFIRMED]
    for row in confirmed:  # and everything confirmed is really there
        step_keys = set((row.result or {}).get("remote_ids", {}))
        assert step_keys and all(keys[k] == 1 for k in step_keys), row.operation


@pytest.mark.parametrize(
    ("point", "nth"),
    [("before_send", 2), ("after_send", 2), ("after_send", 5)],
    ids=["killed-before-sending", "killed-before-storing-replies", "killed-later"],
)
def test_a_push_killed_at_a_point_recovers_without_duplicates(
    fleet: SandboxFleet, tmp_path: Path, point: str, nth: int
) -> None:
    config = prepared(fleet, tmp_path)
    proc = child(config, point, nth)
    _, stderr = proc.communicate(timeout=240)
    assert proc.returncode == -signal.SIGKILL, stderr.decode()[-2000:]
    finish_and_check(fleet, tmp_path)


def kill_during(
    fleet: SandboxFleet, system: str, method: str, after: int, pid: Callable[[], int]
) -> None:
    """Make the sandbox kill the pusher right after its Nth write landed, before it replies."""
    server = fleet.servers[system]
    ledger = getattr(server, "ledger", server)
    original = getattr(ledger, method)
    calls = 0

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        result = original(*args, **kwargs)
        calls += 1
        if calls == after:
            os.kill(pid(), signal.SIGKILL)
        return result

    setattr(ledger, method, wrapped)


@pytest.mark.parametrize(
    ("system", "method"),
    [("quickbooks", "batch"), ("invoiced", "create_payment"), ("intacct", "write")],
)
def test_a_push_killed_mid_request_recovers_without_duplicates(
    fleet: SandboxFleet, tmp_path: Path, system: str, method: str
) -> None:
    config = prepared(fleet, tmp_path)
    holder: dict[str, int] = {}
    kill_during(fleet, system, method, 8 if system == "intacct" else 2, lambda: holder["pid"])
    proc = child(config, "never", 1)
    holder["pid"] = proc.pid
    _, stderr = proc.communicate(timeout=240)
    assert proc.returncode == -signal.SIGKILL, stderr.decode()[-2000:]
    with Store.open(f"sqlite:///{tmp_path / 'arsync.db'}").session() as s:
        sent = s.execute(
            select(OutboxCommand).where(col(OutboxCommand.status) == CommandStatus.SENT)
        ).first()
    assert sent is not None  # the kill left commands whose fate the pusher did not know
    finish_and_check(fleet, tmp_path)


def test_a_push_killed_right_after_an_invoiced_credit_note_applies_it_once(
    fleet: SandboxFleet, tmp_path: Path
) -> None:
    """Killed the moment Invoiced created a write-off's credit note (step 0), before the reply:
    the next push finds the note by its key, applies it once, and makes no second note."""
    config = prepared(fleet, tmp_path)
    holder: dict[str, int] = {}
    kill_during(fleet, "invoiced", "create_credit_note", 1, lambda: holder["pid"])
    proc = child(config, "never", 1)
    holder["pid"] = proc.pid
    _, stderr = proc.communicate(timeout=240)
    assert proc.returncode == -signal.SIGKILL, stderr.decode()[-2000:]
    invoiced: Any = fleet.servers["invoiced"]
    invoiced.replies.clear()  # Invoiced no longer remembers the key: only metadata can tell
    finish_and_check(fleet, tmp_path)
    notes = {
        r["metadata"]["arsync_key"]: r
        for r in invoiced.ledger.records["credit_memos"].values()
        if (r.get("metadata") or {}).get("arsync_key")
    }
    applied: Counter[int] = Counter()
    for payment in invoiced.ledger.records["payments"].values():
        if (payment.get("metadata") or {}).get("arsync_key"):
            for entry in payment.get("applied_to") or ():
                if entry["type"] == "credit_note":
                    applied[entry["credit_note"]] += 1
    assert notes, "no Invoiced write-off was pushed"
    for key, note in notes.items():
        assert key.endswith(":m")
        assert note["balance"] == 0 and applied[note["id"]] == 1, key
