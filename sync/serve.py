"""``arsync serve``: webhook endpoints, the report for finance ops, health, and the schedule.

Webhooks answer fast: the request verifies, stores the event (and its remittances), marks
what is due (reconcile and push, a system's sync) and returns 2xx; the pipeline's one worker
thread runs it afterwards, one cycle at a time, merging whatever was marked meanwhile, so a
burst of deliveries never runs the pipeline concurrently nor ties up the server's threads.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_PAUSED, STATE_RUNNING, STATE_STOPPED
from fastapi import Depends, FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from fastapi.security import (
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
)
from pydantic import SecretStr
from sqlalchemy import and_, func, or_, select
from sqlmodel import col

from canonical.enums import RunStatus
from canonical.lease import LeaseHeld
from canonical.models import SyncRun
from canonical.types import as_utc, utcnow
from connectors.errors import ApiError
from connectors.redact import redact_text
from connectors.salesforce import webhooks as sf_hooks
from reconciler.rules import RulesError
from sync.engine import SyncStopped
from sync.runtime import Runtime
from sync.webhooks import Rejected, receive

log = logging.getLogger(__name__)

_bearer = HTTPBearer(auto_error=False)
_basic = HTTPBasic(auto_error=False)
# a browser asks for HTTP Basic credentials: any user name, the report token as password
_ASK = {"WWW-Authenticate": 'Basic realm="arsync report", charset="UTF-8"'}
_PRIVATE = {"Cache-Control": "no-store"}
LEASE_RETRY_SECONDS = 60.0  # a step another process holds is tried again after this
STALE_INTERVALS = 3  # /health: a system's last successful sync older than this many intervals
FIRST_SYNC_INTERVALS = 2  # /health: a system never synced: at the latest this long after start
# at shutdown, how long the step under way has to end (a sync stops at its next page); past
# it the server exits anyway, and the next sync closes the run it left
STOP_WAIT_SECONDS = 30.0
_SCHEDULER_STATES = {STATE_RUNNING: "running", STATE_PAUSED: "paused", STATE_STOPPED: "stopped"}


def report_refusal(
    token: SecretStr | None,
    bearer: HTTPAuthorizationCredentials | None,
    basic: HTTPBasicCredentials | None,
) -> Response | None:
    """None when a request may read the report, else the answer refusing it. The report names
    customers, payers and their money, and the server is reachable by whoever may send it a
    webhook: it is shown only for the configured ``serve.report_token`` (compared in constant
    time), and not at all while none is configured."""
    if token is None:
        return JSONResponse(
            {"error": "the report is not served: set serve.report_token"}, status_code=403
        )
    # a request has one Authorization header: a Bearer token or Basic credentials
    offered = bearer.credentials if bearer else basic.password if basic else None
    if offered is not None and hmac.compare_digest(
        offered.encode(), token.get_secret_value().encode()
    ):
        return None
    return JSONResponse({"error": "the report needs its token"}, status_code=401, headers=_ASK)


@dataclass
class Due:
    """What the pipeline's next cycle must do: sync every system, or the ones named, then
    reconcile and push."""

    sync_all: bool = False
    systems: set[str] = field(default_factory=set)
    reconcile: bool = False

    def __bool__(self) -> bool:
        return self.sync_all or bool(self.systems) or self.reconcile

    def merge(self, other: Due) -> None:
        self.sync_all = self.sync_all or other.sync_all
        self.systems |= other.systems
        self.reconcile = self.reconcile or other.reconcile

    def sync_targets(self) -> list[str] | None:
        """The systems to sync (None: every configured one)."""
        return None if self.sync_all else sorted(self.systems)


@dataclass(frozen=True)
class CycleOutcome:
    """How the pipeline's last cycle ended: ``ok``; ``deferred`` (a step another process
    holds the lease of was skipped and is tried again); ``failed`` (a step raised, a system's
    sync failed or a push could not run in a system; ``error`` says which, secrets masked);
    ``interrupted`` (the server stopping ended its sync between pages)."""

    ended_at: datetime
    outcome: str
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ended_at": self.ended_at.isoformat(),
            "outcome": self.outcome,
            "error": self.error,
        }


def _redacted(exc: BaseException | str) -> str:
    return redact_text(str(exc))[:300]


class Pipeline:
    """Runs the pipeline (sync, reconcile, push) in ONE worker thread of its own, whoever asks
    (webhooks, the schedule). Asking only marks what is due and never waits: work already
    pending is not queued twice, and what several requests marked during a cycle is merged
    into the next one. A step another process holds the lease of (an operator's `arsync run`,
    a cron job) is skipped and marked due again ``LEASE_RETRY_SECONDS`` later, so what a
    webhook announced is never left waiting for the next delivery.

    The worker starts with :meth:`start` (or at the first request when ``start`` is true) and
    :meth:`stop` ends it: a sync under way stops at its next page, another step running
    finishes, and the rest of the cycle is left."""

    def __init__(self, runtime: Runtime, *, start: bool = True) -> None:
        self.runtime = runtime
        self._cond = threading.Condition()
        self._due = Due()
        self._retry = Due()
        self._retry_at: float | None = None  # monotonic time the retry becomes due
        self._autostart = start
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.running_since: datetime | None = None  # the cycle under way, if any
        self.last_cycle: CycleOutcome | None = None
        self.full_sync_ended: datetime | None = None  # the last cycle that synced every system

    # -- asking (never blocks) ----------------------------------------------------------------

    def cycle(self, systems: list[str] | None = None) -> None:
        """Mark due: sync the given systems (or all), then reconcile and push."""
        if systems is None:
            self._ask(Due(sync_all=True, reconcile=True))
        else:
            self._ask(Due(systems=set(systems), reconcile=True))

    def reconcile_and_push(self) -> None:
        """Mark due: reconcile what is new, push what is decided."""
        self._ask(Due(reconcile=True))

    def _ask(self, due: Due) -> None:
        with self._cond:
            self._due.merge(due)
            if self._autostart:
                self._start_locked()
            self._cond.notify_all()

    # -- the worker ----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker (it runs whatever was marked due before)."""
        with self._cond:
            self._autostart = True
            self._stopping = False
            self.runtime.stopping.clear()
            self._start_locked()
            self._cond.notify_all()

    def _start_locked(self) -> None:
        if self._stopping or (self._thread is not None and self._thread.is_alive()):
            return
        self._thread = threading.Thread(target=self._work, name="arsync-pipeline", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> bool:
        """Stop the worker: the step under way ends (its transactions and finally blocks
        with it; a sync at its next page), no other starts. False when it did not end within
        ``timeout``."""
        with self._cond:
            self._stopping = True
            self._autostart = False
            self.runtime.stopping.set()
            thread = self._thread
            self._cond.notify_all()
        if thread is None:
            return True
        if thread.is_alive() and self.running_since is not None:
            log.info("waiting for the running arsync cycle's step to end")
        thread.join(timeout)
        return not thread.is_alive()

    @property
    def worker_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _next(self) -> Due | None:
        """Wait for work; None when stopping."""
        with self._cond:
            while True:
                if self._stopping:
                    return None
                now = time.monotonic()
                if self._retry_at is not None and now >= self._retry_at:
                    self._due.merge(self._retry)
                    self._retry, self._retry_at = Due(), None
                if self._due:  # a retry waiting is the same work: it runs now with it
                    self._due.merge(self._retry)
                    self._retry, self._retry_at = Due(), None
                    due, self._due = self._due, Due()
                    self.running_since = utcnow()
                    return due
                self._cond.wait(None if self._retry_at is None else self._retry_at - now)

    def _work(self) -> None:
        while (due := self._next()) is not None:
            again = Due()
            try:
                outcome = self._run(due, again)
            except Exception as exc:  # never the worker's end: the next cycle goes on
                log.exception("arsync cycle failed")
                outcome = CycleOutcome(utcnow(), "failed", _redacted(exc))
            with self._cond:
                self.last_cycle, self.running_since = outcome, None
                if again:
                    self._retry.merge(again)
                    if self._retry_at is None:
                        self._retry_at = time.monotonic() + LEASE_RETRY_SECONDS

    def _run(self, due: Due, again: Due) -> CycleOutcome:
        """One cycle: each step runs whatever the one before did; a step another process
        holds is marked in ``again``."""
        errors: list[str] = []
        if due.sync_all or due.systems:
            try:
                # a system another process holds comes back skipped (see below), never raised
                results = self.runtime.sync(due.sync_targets())
            except SyncStopped:
                log.info("arsync is stopping: the sync ended between pages")
                return CycleOutcome(utcnow(), "interrupted")
            except Exception as exc:  # reconcile and push still run
                log.exception("arsync sync failed")
                errors.append(f"sync: {_redacted(exc)}")
            else:
                errors += [
                    f"sync {r.system}: {_redacted(r.error or 'failed')}"
                    for r in results
                    if r.status == RunStatus.FAILED
                ]
                held = {r.system for r in results if r.skipped}
                if held:  # another process syncs them now: they are tried again later
                    log.warning(
                        "sync of %s skipped, tried again in %ss",
                        ", ".join(sorted(held)),
                        LEASE_RETRY_SECONDS,
                    )
                    again.merge(Due(systems=held, reconcile=True))
                if due.sync_all:
                    self.full_sync_ended = utcnow()
        if not self._stopping:
            self._reconcile_and_push(again, errors)
        else:
            log.info("arsync is stopping: reconcile and push are left for the next start")
        if errors:
            return CycleOutcome(utcnow(), "failed", "; ".join(errors)[:1000])
        return CycleOutcome(utcnow(), "deferred" if again else "ok")

    def _reconcile_and_push(self, again: Due, errors: list[str]) -> None:
        try:
            self.runtime.reconcile()
        except LeaseHeld as exc:
            log.warning("reconcile skipped, tried again in %ss: %s", LEASE_RETRY_SECONDS, exc)
            again.reconcile = True
        except RulesError as exc:  # a wrong setting, not a crash: one line, no traceback
            log.error("arsync reconcile refused: rules error: %s", exc)
            errors.append(f"reconcile: rules error: {_redacted(exc)}")
        except Exception as exc:  # what is already decided is sent either way
            log.exception("arsync reconcile failed")
            errors.append(f"reconcile: {_redacted(exc)}")
        if self._stopping:
            log.info("arsync is stopping: push is left for the next start")
            return
        try:
            summary = self.runtime.push()
        except Exception as exc:
            log.exception("arsync push failed")
            errors.append(f"push: {_redacted(exc)}")
            return
        for name, result in summary.systems.items():
            if result.busy:  # another push of the system may end before seeing these writes
                log.warning(
                    "push skipped, tried again in %ss: %s: %s",
                    LEASE_RETRY_SECONDS,
                    name,
                    result.busy,
                )
                again.reconcile = True
            elif result.error:
                errors.append(f"push {name}: {_redacted(result.error)}")


def _scheduler_state(scheduler: BackgroundScheduler | None) -> tuple[str, datetime | None]:
    """The schedule's state (``off`` when none is configured) and its next run."""
    if scheduler is None:
        return "off", None
    state = _SCHEDULER_STATES.get(scheduler.state, "stopped")
    if state == "stopped":  # not started (the app's lifespan not run) or shut down
        return state, None
    job = scheduler.get_job("cycle")
    if job is None:
        return "stopped", None
    next_run = getattr(job, "next_run_time", None)
    if next_run is None:  # the job itself paused: it runs nothing
        return "paused", None
    return state, next_run


def _sync_health(runtime: Runtime) -> tuple[dict[str, dict[str, Any]], dict[str, datetime]]:
    """Per system, this tenant's last successful (ok or partial) and last failed sync, and
    when its first recorded sync started. Two queries: the latest (and first) start per
    system and status, then those latest runs themselves."""
    tenant = runtime.settings.tenant
    good = (RunStatus.OK, RunStatus.PARTIAL)
    with runtime.store.session() as session:
        latest = session.execute(
            select(
                col(SyncRun.system),
                col(SyncRun.status),
                func.max(col(SyncRun.started_at)),
                func.min(col(SyncRun.started_at)),
            )
            .where(col(SyncRun.tenant) == tenant)
            .group_by(col(SyncRun.system), col(SyncRun.status))
        ).all()
        wanted: dict[tuple[str, str], datetime] = {}  # (system, "ok"/"failed") -> started_at
        first: dict[str, datetime] = {}
        for system, status, started, earliest in latest:
            if earliest is not None:
                earliest = as_utc(earliest)
                first[system] = min(first.get(system, earliest), earliest)
            kind = "ok" if status in good else "failed" if status == RunStatus.FAILED else None
            if kind is None or started is None:
                continue
            started = as_utc(started)
            if (system, kind) not in wanted or started > wanted[system, kind]:
                wanted[system, kind] = started
        runs = (
            session.execute(
                select(SyncRun).where(
                    col(SyncRun.tenant) == tenant,
                    or_(
                        *(
                            and_(col(SyncRun.system) == system, col(SyncRun.started_at) == at)
                            for (system, _kind), at in wanted.items()
                        )
                    ),
                )
            )
            .scalars()
            .all()
            if wanted
            else []
        )
    systems: dict[str, dict[str, Any]] = {
        name: {"last_ok": None, "last_failed": None}
        for name in [*runtime.settings.configured_systems(), *(k[0] for k in wanted)]
    }
    for run in runs:
        kind = "ok" if run.status in good else "failed" if run.status == RunStatus.FAILED else None
        if kind is None or wanted.get((run.system, kind)) != as_utc(run.started_at):
            continue
        shown: dict[str, Any] = {
            "started_at": as_utc(run.started_at).isoformat(),
            "finished_at": as_utc(run.finished_at).isoformat() if run.finished_at else None,
        }
        if kind == "ok":
            systems[run.system]["last_ok"] = {**shown, "status": str(run.status)}
        else:
            systems[run.system]["last_failed"] = {
                **shown,
                "error": _redacted(run.error) if run.error else None,
            }
    return systems, first


def health_report(
    runtime: Runtime,
    pipeline: Pipeline,
    scheduler: BackgroundScheduler | None,
    started_at: datetime | None,
) -> tuple[int, dict[str, Any]]:
    """The /health answer: its status code (200 or 503) and body; see the endpoint."""
    now = utcnow()
    minutes = runtime.settings.schedule.interval_minutes
    state, next_run = _scheduler_state(scheduler)
    problems: list[str] = []
    body: dict[str, Any] = {
        "ok": True,
        "tenant": runtime.settings.tenant,
        "problems": problems,
        "scheduler": {
            "state": state,
            "interval_minutes": minutes if scheduler is not None else None,
            "next_run": next_run.isoformat() if next_run else None,
        },
        "cycle_running_since": (
            pipeline.running_since.isoformat() if pipeline.running_since else None
        ),
        "last_cycle": pipeline.last_cycle.as_dict() if pipeline.last_cycle else None,
    }
    if scheduler is not None and state != "running":
        problems.append(f"the schedule is {state}: no cycle runs every {minutes} min")
    if started_at is not None and not pipeline.worker_alive:
        problems.append("the pipeline's worker is not running: nothing is synced or reconciled")
    if pipeline.last_cycle is not None and pipeline.last_cycle.outcome == "failed":
        problems.append(f"the last cycle failed: {pipeline.last_cycle.error}")
    try:
        systems, first_run = _sync_health(runtime)
    except Exception as exc:  # the database is down: say so
        problems.append("the database cannot be read")
        body.update(ok=False, database=_redacted(exc))
        return 503, body
    body["systems"] = systems
    body["last_sync"] = {  # kept for monitors reading it: the last successful sync's start
        name: shown["last_ok"]["started_at"] for name, shown in systems.items() if shown["last_ok"]
    }
    if scheduler is not None and minutes:
        interval = timedelta(minutes=minutes)
        for name in runtime.settings.configured_systems():
            last_ok = systems[name]["last_ok"]
            if last_ok is None:
                # tried since the first scheduled sync (this server's, or a run recorded
                # before it started), and never once successfully
                tried = [at for at in (started_at, first_run.get(name)) if at is not None]
                if pipeline.full_sync_ended is not None or (
                    tried and now - min(tried) > FIRST_SYNC_INTERVALS * interval
                ):
                    problems.append(f"{name}: no successful sync yet")
            elif now - datetime.fromisoformat(last_ok["started_at"]) > STALE_INTERVALS * interval:
                problems.append(
                    f"{name}: no successful sync for more than {STALE_INTERVALS} schedule "
                    f"intervals (the last one started {last_ok['started_at']})"
                )
    body["ok"] = not problems
    return (200 if not problems else 503), body


def create_app(runtime: Runtime, *, schedule: bool = True) -> FastAPI:
    """The HTTP app over one runtime. Its pipeline's worker and the schedule run while the
    app does (its lifespan); before that, webhooks only mark what is due."""
    pipeline = Pipeline(runtime, start=False)
    scheduler: BackgroundScheduler | None = None
    minutes = runtime.settings.schedule.interval_minutes
    if schedule and minutes:
        scheduler = BackgroundScheduler(timezone="UTC")
        scheduler.add_job(
            pipeline.cycle,  # marks a whole cycle due; never waits for the worker
            "interval",
            minutes=minutes,
            id="cycle",
            max_instances=1,
            coalesce=True,
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.started_at = utcnow()
        pipeline.start()
        if scheduler is not None:
            scheduler.start()
            pipeline.cycle()  # the first cycle now, not one interval after the start
        try:
            yield
        finally:
            if scheduler is not None and scheduler.running:  # paused counts; stopped is done
                scheduler.shutdown(wait=False)
            # off the event loop: the step under way ends with its transactions and finally
            if not await run_in_threadpool(pipeline.stop, STOP_WAIT_SECONDS):
                log.warning(
                    "the running arsync step did not end within %ss: exiting anyway (the "
                    "next sync closes a run it left open; a push looks for what it sent)",
                    STOP_WAIT_SECONDS,
                )

    app = FastAPI(title="arsync", docs_url=None, redoc_url=None, lifespan=lifespan)
    app.state.pipeline = pipeline
    app.state.scheduler = scheduler
    app.state.started_at = None

    @app.post("/webhooks/{source}")
    async def webhook(source: str, request: Request) -> Response:
        raw = await request.body()  # the exact bytes the sender signed
        try:
            # in a worker thread: the intake reads the database (and GoCardless' API), which
            # would otherwise hold up every other request on the server's one event loop
            intake = await run_in_threadpool(
                receive, runtime.store, runtime.settings, source, raw, request.headers
            )
        except Rejected as exc:
            log.warning("webhook %s rejected: %s", source, exc.reason)
            return JSONResponse({"error": exc.reason}, status_code=exc.status, headers=exc.headers)
        except ApiError as exc:  # a system the intake reads is down: the sender delivers again
            log.warning("webhook %s answered 503, to be delivered again: %s", source, exc)
            # what it did store before the failure (cash it counted) is reconciled now
            pipeline.reconcile_and_push()
            return JSONResponse({"error": str(exc)[:300]}, status_code=503)
        # only marked due (never waits): the pipeline's worker runs it next
        if intake.remittances:
            pipeline.reconcile_and_push()
        if intake.sync_due:
            pipeline.cycle([intake.sync_due])
        if source == "adyen":
            return PlainTextResponse("[accepted]")  # what Adyen expects, or it retries
        if source == "salesforce":  # the SOAP acknowledgement, or the org resends for 24 h
            return Response(sf_hooks.ACK, media_type="text/xml")
        return JSONResponse(
            {
                "received": intake.events,
                "duplicates": intake.duplicates,
                "remittances": len(intake.remittances),
                "failed": intake.failed,
                "ignored": intake.ignored,
            }
        )

    @app.get("/health")
    def health() -> JSONResponse:
        """200 with ``ok: true`` when all is well, else 503 with ``ok: false``. Fields:

        - ``tenant``: the configured tenant; everything below is this tenant's only.
        - ``problems``: why ``ok`` is false, one line each (empty when ok).
        - ``scheduler``: ``state`` (``running``, ``paused``, ``stopped``, or ``off`` when no
          schedule is configured), ``interval_minutes``, ``next_run`` (ISO time or null).
        - ``cycle_running_since``: when the cycle under way started, or null.
        - ``last_cycle``: the last cycle this server ran (``ended_at``, ``outcome``: ``ok``,
          ``deferred`` (a step another process held is tried again a minute later) or
          ``failed``, ``error``: what failed, secrets masked), or null before the first.
        - ``systems``: per system, ``last_ok`` (the last ok or partial sync: ``started_at``,
          ``finished_at``, ``status``) and ``last_failed`` (``started_at``, ``finished_at``,
          ``error``, secrets masked), each null when there is none.
        - ``last_sync``: per system, when its last successful sync started.
        - ``database``: only when the store cannot be read: why (secrets masked).

        Not ok when the schedule is configured but not running, the pipeline's worker is not
        running, the last cycle failed, the store cannot be read, or (with a schedule) a
        configured system's last successful sync started more than 3 intervals ago, or it has
        had none once this server's first scheduled sync ended, nor in the 2 intervals since
        this server started or its first sync recorded."""
        status, body = health_report(runtime, pipeline, scheduler, app.state.started_at)
        return JSONResponse(body, status_code=status)

    token = runtime.settings.serve.report_token

    @app.get("/report", response_class=HTMLResponse)
    def report_html(
        bearer: HTTPAuthorizationCredentials | None = Depends(_bearer),
        basic: HTTPBasicCredentials | None = Depends(_basic),
    ) -> Response:
        from reconciler.report import build_report, render_html

        refused = report_refusal(token, bearer, basic)
        if refused is not None:
            return refused
        html = render_html(build_report(runtime.store, tenant=runtime.settings.tenant))
        return HTMLResponse(html, headers=_PRIVATE)

    @app.get("/report.json")
    def report_json(
        bearer: HTTPAuthorizationCredentials | None = Depends(_bearer),
        basic: HTTPBasicCredentials | None = Depends(_basic),
    ) -> Response:
        from reconciler.report import build_report

        refused = report_refusal(token, bearer, basic)
        if refused is not None:
            return refused
        report: dict[str, Any] = build_report(runtime.store, tenant=runtime.settings.tenant)
        return JSONResponse(jsonable_encoder(report), headers=_PRIVATE)

    return app


def serve(runtime: Runtime, host: str, port: int) -> None:
    import uvicorn

    uvicorn.run(create_app(runtime), host=host, port=port, log_level="info")
