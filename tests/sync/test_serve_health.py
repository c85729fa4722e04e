"""``/health`` of ``arsync serve``: this tenant's syncs (the last successful and the last
failed, with its error masked), the schedule's state and the last cycle's outcome; 503 when
any of them says the data is not being kept up to date."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from canonical.enums import RunStatus
from canonical.models import SyncRun
from canonical.types import utcnow
from connectors.redact import register_secret
from sync.runtime import Runtime
from sync.serve import create_app
from sync.settings import load_settings

QBO = {"realm_id": "9130", "client_id": "ABcd", "client_secret": "s3cret-client"}
REFRESH = "AB11772900000aBcDeFgHiJkLmNoPqRsTuVwXyZ"


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    settings = load_settings(
        None,
        database_url=f"sqlite:///{tmp_path / 'health.db'}",
        tenant="acme",
        schedule={"interval_minutes": 15},
        quickbooks=QBO,
    )
    rt = Runtime.open(settings)
    # the served app's first cycle syncs at once: these tests give the runs it would record
    rt.sync = lambda *args, **kwargs: []  # type: ignore[method-assign]
    yield rt
    rt.close()


def add_run(
    rt: Runtime,
    minutes_ago: float,
    status: RunStatus,
    *,
    system: str = "quickbooks",
    tenant: str = "acme",
    error: str | None = None,
) -> None:
    at = utcnow() - timedelta(minutes=minutes_ago)
    finished = None if status == RunStatus.RUNNING else at + timedelta(seconds=30)
    with rt.store.session() as s:
        s.add(
            SyncRun(
                tenant=tenant,
                system=system,
                status=status,
                started_at=at,
                finished_at=finished,
                error=error,
            )
        )


def health(client: TestClient) -> tuple[int, dict[str, Any]]:
    answer = client.get("/health")
    return answer.status_code, answer.json()


def test_a_system_failing_for_two_days_is_unhealthy_and_other_tenants_are_not_shown(
    runtime: Runtime,
) -> None:
    register_secret(REFRESH)
    for hour in range(48):
        add_run(
            runtime,
            hour * 60,
            RunStatus.FAILED,
            error=f"quickbooks: auth failed: invalid_grant (refresh_token {REFRESH})",
        )
    add_run(runtime, 1, RunStatus.OK, system="invoiced", tenant="globex")
    with TestClient(create_app(runtime)) as client:
        status, body = health(client)
    assert status == 503 and body["ok"] is False and body["tenant"] == "acme"
    assert body["problems"] == ["quickbooks: no successful sync yet"]
    assert set(body["systems"]) == {"quickbooks"}  # globex's invoiced is not this tenant's
    qbo = body["systems"]["quickbooks"]
    assert qbo["last_ok"] is None
    assert (
        qbo["last_failed"]["error"] == "quickbooks: auth failed: invalid_grant (refresh_token ***)"
    )
    assert REFRESH not in str(body)
    assert body["last_sync"] == {}  # a failed run is no sync


def test_healthy_shows_last_success_and_last_failure_and_the_schedule(runtime: Runtime) -> None:
    add_run(runtime, 40, RunStatus.OK)
    add_run(runtime, 20, RunStatus.PARTIAL)
    add_run(runtime, 5, RunStatus.FAILED, error="quickbooks: 503 Service Unavailable")
    add_run(runtime, 1, RunStatus.RUNNING)  # under way: neither
    add_run(runtime, 1, RunStatus.OK, tenant="globex")
    with TestClient(create_app(runtime)) as client:
        for _ in range(200):  # the first cycle runs at the start
            status, body = health(client)
            if body["last_cycle"] is not None:
                break
            time.sleep(0.05)
    assert status == 200 and body["ok"] is True and body["problems"] == []
    qbo = body["systems"]["quickbooks"]
    assert qbo["last_ok"]["status"] == "partial"
    assert qbo["last_failed"]["error"] == "quickbooks: 503 Service Unavailable"
    assert qbo["last_failed"]["started_at"] > qbo["last_ok"]["started_at"]
    assert body["last_sync"] == {"quickbooks": qbo["last_ok"]["started_at"]}
    scheduler = body["scheduler"]
    assert (scheduler["state"], scheduler["interval_minutes"]) == ("running", 15)
    assert scheduler["next_run"] is not None
    assert body["last_cycle"]["outcome"] == "ok" and body["cycle_running_since"] is None


def test_a_paused_or_stopped_schedule_is_unhealthy(runtime: Runtime) -> None:
    add_run(runtime, 1, RunStatus.OK)
    app = create_app(runtime)
    with TestClient(app) as client:
        assert health(client)[0] == 200
        app.state.scheduler.pause()
        status, body = health(client)
        assert (status, body["scheduler"]["state"]) == (503, "paused")
        assert body["problems"] == ["the schedule is paused: no cycle runs every 15 min"]
        app.state.scheduler.resume()
        app.state.scheduler.pause_job("cycle")
        assert health(client)[1]["scheduler"]["state"] == "paused"
        app.state.scheduler.resume_job("cycle")
        assert health(client)[0] == 200
        app.state.scheduler.shutdown(wait=False)
        status, body = health(client)
        assert (status, body["scheduler"]["state"]) == (503, "stopped")


def test_a_last_success_older_than_three_intervals_is_unhealthy(runtime: Runtime) -> None:
    add_run(runtime, 50, RunStatus.OK)  # 15-minute schedule: 45 minutes is the limit
    add_run(runtime, 2, RunStatus.FAILED, error="quickbooks: timed out")
    with TestClient(create_app(runtime)) as client:
        status, body = health(client)
    assert status == 503 and len(body["problems"]) == 1
    problem = body["problems"][0]
    assert problem.startswith("quickbooks: no successful sync for more than 3 schedule intervals")
    assert body["systems"]["quickbooks"]["last_ok"]["started_at"] in problem


def test_a_failed_cycle_is_unhealthy_and_says_why(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    add_run(runtime, 1, RunStatus.OK)

    def reconcile() -> None:
        raise RuntimeError("reconcile blew up")

    monkeypatch.setattr(runtime, "reconcile", reconcile)
    app = create_app(runtime, schedule=False)
    with TestClient(app) as client:
        app.state.pipeline.reconcile_and_push()
        deadline = time.monotonic() + 5
        while app.state.pipeline.last_cycle is None and time.monotonic() < deadline:
            time.sleep(0.01)
        status, body = health(client)
    assert status == 503
    assert body["last_cycle"]["outcome"] == "failed"
    assert body["last_cycle"]["error"] == "reconcile: reconcile blew up"
    assert body["last_cycle"]["ended_at"] is not None
    assert body["problems"] == ["the last cycle failed: reconcile: reconcile blew up"]
    assert body["scheduler"]["state"] == "off"  # no schedule in this app: not a problem


def test_the_database_down_is_unhealthy_without_its_password(runtime: Runtime) -> None:
    client = TestClient(create_app(runtime, schedule=False))

    def broken() -> Any:
        raise RuntimeError("could not connect to postgresql://arsync:pg-s3cret-pw@db:5432/ar")

    runtime.store.session = broken  # type: ignore[method-assign]
    status, body = health(client)
    assert status == 503 and body["ok"] is False
    assert "pg-s3cret-pw" not in body["database"] and "***" in body["database"]


def test_health_before_the_app_started_says_the_schedule_is_stopped(runtime: Runtime) -> None:
    """Without the app's lifespan (uvicorn --lifespan off, mounted in another app) the
    scheduler never started: /health says so with 503 (it raised a 500 reading the job)."""
    add_run(runtime, 1, RunStatus.OK)
    client = TestClient(create_app(runtime))  # no `with`: the lifespan does not run
    status, body = health(client)
    assert (status, body["scheduler"]["state"]) == (503, "stopped")
    assert "the schedule is stopped: no cycle runs every 15 min" in body["problems"]
