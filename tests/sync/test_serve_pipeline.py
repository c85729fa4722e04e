"""``arsync serve``'s pipeline: one worker of its own, fed by what is due. A request (a
webhook, the schedule) never waits for a cycle, a burst of them during a cycle is one more
cycle, a failing step leaves the others to run and is recorded, and shutdown lets the step
under way end."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

import sync.serve
from canonical.enums import RunStatus
from canonical.lease import LeaseHeld
from connectors.redact import register_secret
from reconciler.rules import RulesError
from sync.engine import RunResult, SyncStopped
from sync.outbox.worker import PushSummary
from sync.runtime import Runtime
from sync.serve import Pipeline, create_app
from sync.settings import load_settings
from sync.webhooks import Intake

WAIT = 5.0  # seconds: an upper bound for what should happen at once


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    rt = Runtime.open(load_settings(None, database_url=f"sqlite:///{tmp_path / 'pipe.db'}"))
    yield rt
    rt.close()


def eventually(check: Callable[[], bool], timeout: float = WAIT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.01)
    return check()


def returns_at_once(request: Callable[[], object], timeout: float = 1.0) -> bool:
    """Whether ``request`` returns within ``timeout`` (run in a thread of its own, so that a
    request that waits for the pipeline fails the test instead of hanging it)."""
    thread = threading.Thread(target=request, daemon=True)
    thread.start()
    thread.join(timeout)
    return not thread.is_alive()


def test_a_burst_of_payments_during_a_long_cycle_never_starves_the_server(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """45 deliveries carrying cash while one reconcile runs: each answered 200 at once, and so
    are /health and the next delivery (before, each parked one of the 40 worker threads on the
    pipeline's lock, and the 41st request hung); afterwards ONE more cycle takes them all."""
    release = threading.Event()
    reconciles: list[float] = []

    def slow_reconcile() -> None:  # a reconcile of a big book in progress
        reconciles.append(time.monotonic())
        if len(reconciles) == 1:
            release.wait(30)

    monkeypatch.setattr(runtime, "reconcile", slow_reconcile)
    monkeypatch.setattr(runtime, "push", lambda: PushSummary(dry_run=False))
    monkeypatch.setattr(
        sync.serve, "receive", lambda *_a, **_k: Intake("stripe", events=1, remittances=["rem"])
    )
    app = create_app(runtime, schedule=False)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    serving = threading.Thread(target=server.run, daemon=True)
    serving.start()
    base = f"http://127.0.0.1:{port}"
    try:
        assert eventually(lambda: server.started)
        answered = 0
        with httpx.Client(base_url=base, timeout=2.0) as client:
            for _ in range(45):
                try:
                    status = client.post("/webhooks/stripe", content=b"{}").status_code
                except httpx.TimeoutException:
                    break
                assert status == 200
                answered += 1
                if answered == 1:  # the first delivery's cycle is under way
                    assert eventually(lambda: len(reconciles) == 1)
            assert answered == 45, f"delivery {answered + 1} got no answer during the cycle"
            try:
                health = client.get("/health").status_code
                another = client.post("/webhooks/stripe", content=b"{}").status_code
            except httpx.TimeoutException:
                pytest.fail("/health or a delivery got no answer: the server's threads starved")
            assert (health, another) == (200, 200)
            assert len(reconciles) == 1  # nothing ran alongside the cycle
        release.set()
        # every delivery's cash reconciled promptly, by one more cycle, not 46
        assert eventually(lambda: len(reconciles) == 2)
        time.sleep(0.2)
        assert len(reconciles) == 2
    finally:
        release.set()
        server.should_exit = True
        serving.join(WAIT)
    assert not app.state.pipeline.worker_alive  # the server's shutdown stopped the worker


def test_requests_during_a_cycle_never_wait_and_merge_with_a_lease_retry(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reconcile skipped for a lease another process holds is due again later; the requests
    that came meanwhile are the same work: one more cycle does both, no chain of retries."""
    monkeypatch.setattr(sync.serve, "LEASE_RETRY_SECONDS", 0.05)
    release = threading.Event()
    calls: list[str] = []
    now = datetime.now(UTC)

    def reconcile() -> None:
        calls.append("reconcile")
        if calls.count("reconcile") == 1:
            release.wait(10)
            raise LeaseHeld("reconcile", "ops-host pid 7", now, now)

    def push() -> PushSummary:
        calls.append("push")
        return PushSummary(dry_run=False)

    monkeypatch.setattr(runtime, "reconcile", reconcile)
    monkeypatch.setattr(runtime, "push", push)
    pipeline = Pipeline(runtime)
    pipeline.reconcile_and_push()
    assert eventually(lambda: calls == ["reconcile"])
    for _ in range(10):  # ten deliveries with cash while the cycle runs
        assert returns_at_once(pipeline.reconcile_and_push), "a request waited for the cycle"
    release.set()
    assert eventually(lambda: len(calls) == 4)
    time.sleep(0.3)  # several retry periods: nothing more is run
    assert calls == ["reconcile", "push", "reconcile", "push"]
    assert pipeline.last_cycle is not None and pipeline.last_cycle.outcome == "ok"
    assert pipeline.stop(WAIT)


def test_push_still_runs_when_reconcile_fails_and_the_failure_is_recorded(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "rk_live_51NotARealKeyButLongEnough"
    register_secret(secret)
    pushed = threading.Event()

    def reconcile() -> None:
        raise RuntimeError(f"rules file unreadable (key {secret})")

    def push() -> PushSummary:
        pushed.set()
        return PushSummary(dry_run=False)

    monkeypatch.setattr(runtime, "reconcile", reconcile)
    monkeypatch.setattr(runtime, "push", push)
    pipeline = Pipeline(runtime)
    pipeline.reconcile_and_push()
    assert pushed.wait(WAIT), "what was already decided was not pushed"
    assert eventually(lambda: pipeline.last_cycle is not None)
    outcome = pipeline.last_cycle
    assert outcome is not None and outcome.outcome == "failed"
    assert outcome.error == "reconcile: rules file unreadable (key ***)"
    assert pipeline.stop(WAIT)


def test_a_sync_raising_or_failing_leaves_reconcile_and_push_to_run(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    syncs: list[list[str] | None] = []

    def sync(systems: list[str] | None = None) -> list[RunResult]:
        syncs.append(systems)
        if len(syncs) == 1:
            raise ConnectionError("quickbooks: connection reset")
        return [RunResult("invoiced", "run1", RunStatus.FAILED, error="invoiced: 401")]

    def push() -> PushSummary:
        calls.append("push")
        return PushSummary(dry_run=False)

    monkeypatch.setattr(runtime, "sync", sync)
    monkeypatch.setattr(runtime, "reconcile", lambda: calls.append("reconcile"))
    monkeypatch.setattr(runtime, "push", push)
    pipeline = Pipeline(runtime)
    pipeline.cycle(["quickbooks"])
    assert eventually(lambda: calls == ["reconcile", "push"])
    assert eventually(lambda: pipeline.last_cycle is not None)
    first = pipeline.last_cycle
    assert first is not None and (first.outcome, first.error) == (
        "failed",
        "sync: quickbooks: connection reset",
    )
    pipeline.cycle()  # every system: invoiced's sync fails (a FAILED result)
    assert eventually(lambda: len(calls) == 4)
    assert eventually(lambda: pipeline.last_cycle is not first)
    second = pipeline.last_cycle
    assert second is not None and (second.outcome, second.error) == (
        "failed",
        "sync invoiced: invoiced: 401",
    )
    assert syncs == [["quickbooks"], None]
    assert pipeline.stop(WAIT)


def test_stopping_lets_the_step_under_way_end_and_starts_nothing_more(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    calls: list[str] = []

    def reconcile() -> None:
        calls.append("reconcile")
        try:
            release.wait(10)
        finally:
            calls.append("reconcile finally")

    def push() -> PushSummary:
        calls.append("push")
        return PushSummary(dry_run=False)

    monkeypatch.setattr(runtime, "reconcile", reconcile)
    monkeypatch.setattr(runtime, "push", push)
    pipeline = Pipeline(runtime)
    pipeline.reconcile_and_push()
    assert eventually(lambda: calls == ["reconcile"])
    stopped: list[bool] = []
    stopping = threading.Thread(target=lambda: stopped.append(pipeline.stop(WAIT)))
    stopping.start()
    stopping.join(0.2)
    assert stopping.is_alive()  # waits for the reconcile under way
    release.set()
    stopping.join(WAIT)
    assert stopped == [True] and not pipeline.worker_alive
    assert calls == ["reconcile", "reconcile finally"]  # push left for the next start
    pipeline.reconcile_and_push()  # stopped: marked, nothing runs
    time.sleep(0.1)
    assert calls == ["reconcile", "reconcile finally"] and not pipeline.worker_alive


def test_stopping_ends_a_sync_under_way_at_its_next_page(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long sync does not hold up the server's shutdown until it has read everything (a
    service manager kills a server that outlasts its stop timeout): it stops between pages,
    and reconcile and push are left for the next start."""
    reading = threading.Event()
    calls: list[str] = []

    def long_sync(*_args: Any, **_kwargs: Any) -> list[RunResult]:
        reading.set()
        while True:  # a page at a time, as the engine reads
            if runtime.stopping.is_set():
                raise SyncStopped("quickbooks invoices: stopped between pages")
            time.sleep(0.01)

    monkeypatch.setattr(runtime, "sync", long_sync)
    monkeypatch.setattr(runtime, "reconcile", lambda: calls.append("reconcile"))
    monkeypatch.setattr(runtime, "push", lambda: calls.append("push"))
    pipeline = Pipeline(runtime)
    pipeline.cycle()
    assert reading.wait(WAIT)
    assert pipeline.stop(WAIT) and not pipeline.worker_alive
    assert pipeline.last_cycle is not None and pipeline.last_cycle.outcome == "interrupted"
    assert calls == []
    pipeline.start()  # a restart reads again
    assert not runtime.stopping.is_set()
    assert pipeline.stop(WAIT)


def test_a_scheduled_app_runs_its_first_cycle_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first scheduled cycle runs when the server starts, not one interval later."""
    from fastapi.testclient import TestClient

    settings = load_settings(
        None,
        database_url=f"sqlite:///{tmp_path / 'first.db'}",
        schedule={"interval_minutes": 60},
    )
    rt = Runtime.open(settings)
    synced: list[list[str] | None] = []

    def sync(systems: list[str] | None = None) -> list[RunResult]:
        synced.append(systems)
        return []

    monkeypatch.setattr(rt, "sync", sync)
    monkeypatch.setattr(rt, "reconcile", lambda: None)
    monkeypatch.setattr(rt, "push", lambda: PushSummary(dry_run=False))
    try:
        with TestClient(create_app(rt)):
            assert eventually(lambda: synced == [None])  # every system, at once
    finally:
        rt.close()


def test_the_app_runs_what_webhooks_marked_only_while_it_is_up(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    ran: list[str] = []
    monkeypatch.setattr(runtime, "reconcile", lambda: ran.append("reconcile"))
    monkeypatch.setattr(runtime, "push", lambda: PushSummary(dry_run=False))
    monkeypatch.setattr(
        sync.serve, "receive", lambda *_a, **_k: Intake("stripe", events=1, remittances=["r"])
    )
    app = create_app(runtime, schedule=False)
    with TestClient(app) as client:
        answer: Any = client.post("/webhooks/stripe", content=b"{}")
        assert answer.status_code == 200 and answer.json()["remittances"] == 1
        assert eventually(lambda: ran == ["reconcile"])
        assert app.state.pipeline.worker_alive
    assert not app.state.pipeline.worker_alive


def test_a_system_whose_sync_another_run_holds_is_synced_again_later(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Runtime.sync shows a system another process is syncing as skipped (it raises no
    LeaseHeld): the pipeline syncs that system again a little later, then reconciles."""
    monkeypatch.setattr(sync.serve, "LEASE_RETRY_SECONDS", 0.05)
    synced: list[list[str] | None] = []

    def sync_systems(systems: list[str] | None = None) -> list[RunResult]:
        synced.append(systems)
        if len(synced) == 1:
            return [
                RunResult("quickbooks", "r1", RunStatus.OK),
                RunResult.held("invoiced", "another sync is running (ops-host pid 7)"),
            ]
        return [RunResult(name, "r2", RunStatus.OK) for name in systems or []]

    monkeypatch.setattr(runtime, "sync", sync_systems)
    monkeypatch.setattr(runtime, "reconcile", lambda: None)
    monkeypatch.setattr(runtime, "push", lambda: PushSummary(dry_run=False))
    pipeline = Pipeline(runtime)
    pipeline.cycle()
    assert eventually(lambda: len(synced) == 2)
    assert synced == [None, ["invoiced"]]
    assert eventually(
        lambda: pipeline.last_cycle is not None and pipeline.last_cycle.outcome == "ok"
    )
    assert pipeline.stop(WAIT)


def test_a_stop_between_two_systems_is_no_full_sync(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stopped after the first system: the cycle is interrupted, not an ok full sync (the
    second system was never read)."""
    synced: list[str] = []

    def sync_one(system: str, **_kwargs: Any) -> RunResult:
        synced.append(system)
        runtime.stopping.set()  # the server is asked to stop while the first system syncs
        return RunResult(system, "run", RunStatus.OK)

    monkeypatch.setattr(runtime, "_sync_one", sync_one)
    real_sync = runtime.sync
    monkeypatch.setattr(
        runtime, "sync", lambda systems=None: real_sync(systems or ["quickbooks", "invoiced"])
    )
    monkeypatch.setattr(runtime, "reconcile", lambda: None)
    monkeypatch.setattr(runtime, "push", lambda: PushSummary(dry_run=False))
    pipeline = Pipeline(runtime)
    pipeline.cycle()
    assert eventually(lambda: pipeline.last_cycle is not None)
    assert pipeline.last_cycle is not None and pipeline.last_cycle.outcome == "interrupted"
    assert synced == ["quickbooks"] and pipeline.full_sync_ended is None
    pipeline.stop(WAIT)


def test_a_wrong_rules_file_is_one_line_in_the_log_not_a_traceback(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A rules file edited wrong while serve runs: each cycle says so in one line (a
    traceback every cycle hid what to fix), push still runs, and the cycle is failed."""
    pushed = threading.Event()

    def reconcile() -> None:
        raise RulesError("rules.toml: rule 'short_pay': short_pay_abs: not an amount: 'five'")

    def push() -> PushSummary:
        pushed.set()
        return PushSummary(dry_run=False)

    monkeypatch.setattr(runtime, "reconcile", reconcile)
    monkeypatch.setattr(runtime, "push", push)
    pipeline = Pipeline(runtime)
    with caplog.at_level("ERROR"):
        pipeline.reconcile_and_push()
        assert pushed.wait(WAIT)
        assert eventually(lambda: pipeline.last_cycle is not None)
    outcome = pipeline.last_cycle
    assert outcome is not None and outcome.outcome == "failed"
    assert outcome.error is not None and outcome.error.startswith("reconcile: rules error: ")
    [record] = [r for r in caplog.records if "rules error" in r.getMessage()]
    assert record.exc_info is None and "short_pay_abs" in record.getMessage()
    assert pipeline.stop(WAIT)
