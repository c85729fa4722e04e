"""Credentials revoked in the middle of a push, over real HTTP against the sandboxes: the
requests answered before the auth failure are recorded with their answers (confirmed, with
their remote ids), the rest wait as never sent, and once the credentials are restored, even
after the system forgot the idempotency keys, every payment is in the system exactly once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from canonical.enums import CommandStatus
from canonical.models import OutboxCommand
from connectors.intacct.client import IntacctClient
from connectors.intacct.writes import KEY_TAG as INTACCT_TAG
from connectors.invoiced.client import InvoicedClient
from connectors.quickbooks.client import QuickBooksClient
from connectors.quickbooks.writes import KEY_TAG as QBO_TAG
from connectors.sandbox.world import World
from sync.runtime import Runtime
from sync.sandboxes import SandboxFleet, running_sandboxes
from sync.settings import load_settings
from tests.support.pipeline import FAST, decide

pytestmark = pytest.mark.timeout(300)
INTACCT_BATCH = 10  # functions per Intacct request, so the round takes several requests


def written(system: str, server: Any) -> dict[str, list[str]]:
    """Idempotency key -> the ids of the payments (or credit memos) carrying it in the
    sandbox."""
    found: dict[str, list[str]] = {}
    if system == "invoiced":
        for stream in ("payments", "credit_memos"):
            for remote_id, record in server.ledger.records[stream].items():
                key = (record.get("metadata") or {}).get("arsync_key")
                if key:
                    found.setdefault(key, []).append(str(remote_id))
        return found
    tag, objects, field = (
        (QBO_TAG, ("Payment", "CreditMemo"), "PrivateNote")
        if system == "quickbooks"
        else (INTACCT_TAG, ("ARPYMT", "ARADJUSTMENT"), "DESCRIPTION")
    )
    for obj in objects:
        for remote_id, record in server.records[obj].items():
            text = record.get(field) or ""
            if text.startswith(tag):
                found.setdefault(text[len(tag) :].split(" ", 1)[0], []).append(str(remote_id))
    return found


def revoke(system: str, server: Any) -> Callable[[], None]:
    """Revoke the connector's credentials in the sandboxes (the API key rotated; the QBO app
    disconnected: tokens and refresh tokens refused; the Intacct user's password changed and
    its session gone); returns what restores them."""
    if system == "invoiced":
        key, server.api_key = server.api_key, "sk_test_" + "0" * 32
        return lambda: setattr(server, "api_key", key)
    if system == "quickbooks":
        refresh = set(server.refresh_tokens)
        server.refresh_tokens.clear()
        server.expire_tokens()
        return lambda: server.refresh_tokens.update(refresh)
    password, server.user_password = server.user_password, "rotated-" + server.user_password
    server.expire_tokens()
    return lambda: setattr(server, "user_password", password)


def forget_keys(system: str, server: Any) -> None:
    """The system no longer remembers the idempotency keys it saw (their window passed)."""
    if system == "intacct":
        server.processed_controls.clear()
    else:
        server.replies.clear()


def revoke_after_first_write(
    monkeypatch: pytest.MonkeyPatch, system: str, server: Any
) -> list[Callable[[], None]]:
    """Once the first write request of the push is answered, the credentials are revoked."""
    restore: list[Callable[[], None]] = []
    client, name = {
        "invoiced": (InvoicedClient, "post"),
        "quickbooks": (QuickBooksClient, "post"),
        "intacct": (IntacctClient, "call"),
    }[system]
    original = getattr(client, name)

    def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
        answer = original(self, *args, **kwargs)
        is_write = system != "intacct" or kwargs.get("unique")  # Intacct reads are calls too
        if is_write and not restore:
            restore.append(revoke(system, server))
        return answer

    monkeypatch.setattr(client, name, wrapped)
    return restore


@pytest.fixture(params=["invoiced", "quickbooks", "intacct"])
def system(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def fleet(system: str) -> Iterator[SandboxFleet]:
    world = World.generate(seed=9, customers=30, invoices=220)
    with running_sandboxes(world, systems=(system,)) as running:
        yield running


def open_runtime(fleet: SandboxFleet, db: Path, system: str) -> Runtime:
    overrides = fleet.settings_overrides()
    if system == "intacct":
        overrides["intacct"]["write_batch_size"] = INTACCT_BATCH
    settings = load_settings(
        None,
        database_url=f"sqlite:///{db}",
        sync={"lag_seconds": 0},
        push={"systems": [system], "chunk": 100},  # every command in one round
        **overrides,
    )
    runtime = Runtime.open(settings, policy=FAST)
    for name, tokens in fleet.initial_tokens().items():
        runtime.seed_tokens(name, tokens)
    return runtime


def rows(runtime: Runtime) -> list[OutboxCommand]:
    with runtime.store.session() as s:
        found = list(s.execute(select(OutboxCommand)).scalars())
        for row in found:
            s.expunge(row)
    return found


def test_credentials_revoked_after_the_first_request_lose_no_answer_and_write_once(
    fleet: SandboxFleet, tmp_path: Path, system: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = fleet.servers[system]
    runtime = open_runtime(fleet, tmp_path / "a.db", system)
    try:
        decide(runtime, tmp_path)
        commands = rows(runtime)
        # one request per payment in Invoiced; two /batch requests (30 + the rest) in QBO
        first_request = {"invoiced": 1, "quickbooks": 30, "intacct": INTACCT_BATCH}[system]
        assert len(commands) > first_request
        assert {c.operation for c in commands} <= {"apply_cash", "apply_credit"}

        restore = revoke_after_first_write(monkeypatch, system, server)
        first = runtime.push()
        assert restore, "the credentials were never revoked"
        assert not first.ok and first.systems[system].error
        assert first.systems[system].confirmed == first_request

        after = rows(runtime)
        statuses = Counter(str(r.status) for r in after)
        assert statuses == {
            CommandStatus.CONFIRMED: first_request,
            CommandStatus.PENDING: len(commands) - first_request,
        }
        landed = written(system, server)
        assert sum(map(len, landed.values())) == first_request  # what the first request wrote
        for row in after:
            if row.status == CommandStatus.CONFIRMED:  # with the remote id of what it wrote
                assert landed[row.idempotency_key] == [row.remote_id]
                assert (row.result or {})["remote_ids"] == {row.idempotency_key: row.remote_id}
            else:  # never sent: waits as it was
                assert row.attempts == 0 and row.idempotency_key not in landed

        restore[0]()
        forget_keys(system, server)  # restored too late for the keys to protect a resend
        second = runtime.push()
        assert second.ok, second.systems[system].error
        assert second.systems[system].confirmed == len(commands) - first_request
        assert runtime.push().written == 0
    finally:
        runtime.close()
    final = rows(runtime)
    assert {r.status for r in final} == {CommandStatus.CONFIRMED}
    # each payment exactly once, and recorded with its id
    assert written(system, server) == {r.idempotency_key: [r.remote_id] for r in final}
