"""``arsync serve``: webhook endpoints, the report for finance ops, health, and the schedule.

Webhooks answer fast: the request verifies, stores the event (and its remittances) and
returns 2xx; reconciling, pushing and syncing happen afterwards in the background, one cycle
at a time, so a burst of deliveries never runs the pipeline concurrently.
"""

from __future__ import annotations

import hmac
import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from fastapi import BackgroundTasks, Depends, FastAPI, Request, Response
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
from sqlalchemy import func, select, text
from sqlmodel import col

from canonical.lease import LeaseHeld
from canonical.models import SyncRun
from connectors.errors import ApiError
from connectors.salesforce import webhooks as sf_hooks
from sync.runtime import Runtime
from sync.webhooks import Rejected, receive

log = logging.getLogger(__name__)

_bearer = HTTPBearer(auto_error=False)
_basic = HTTPBasic(auto_error=False)
# a browser asks for HTTP Basic credentials: any user name, the report token as password
_ASK = {"WWW-Authenticate": 'Basic realm="arsync report", charset="UTF-8"'}
_PRIVATE = {"Cache-Control": "no-store"}
LEASE_RETRY_SECONDS = 60.0  # a step another process holds is tried again after this


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


class Pipeline:
    """Runs the pipeline's steps one at a time, whoever asks (webhooks, schedule). A step
    another process holds the lease of (an operator's `arsync run`, a cron job) is skipped
    and the whole request is tried again ``LEASE_RETRY_SECONDS`` later, so what a webhook
    announced is never left waiting for the next delivery."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.lock = threading.Lock()

    def cycle(self, systems: list[str] | None = None) -> None:
        """Sync (the given systems, or all), reconcile, push."""
        self._guarded(lambda: self._cycle(systems), lambda: self.cycle(systems))

    def reconcile_and_push(self) -> None:
        self._guarded(self._reconcile_and_push, self.reconcile_and_push)

    def _cycle(self, systems: list[str] | None) -> bool:
        synced = self._step("sync", lambda: self.runtime.sync(systems))
        return self._reconcile_and_push() and synced

    def _reconcile_and_push(self) -> bool:
        reconciled = self._step("reconcile", self.runtime.reconcile)
        summary = self.runtime.push()  # what is already decided is sent either way
        busy = [f"{name}: {result.busy}" for name, result in summary.systems.items() if result.busy]
        for line in busy:  # another push of the system may end before seeing this one's writes
            log.warning("push skipped, tried again in %ss: %s", LEASE_RETRY_SECONDS, line)
        return reconciled and not busy

    @staticmethod
    def _step(name: str, work: Callable[[], object]) -> bool:
        """Run one step; False when another process holds its lease."""
        try:
            work()
        except LeaseHeld as exc:
            log.warning("%s skipped, tried again in %ss: %s", name, LEASE_RETRY_SECONDS, exc)
            return False
        return True

    def _guarded(self, work: Callable[[], bool], again: Callable[[], None]) -> None:
        with self.lock:
            try:
                done = work()
            except Exception:  # a failed cycle is logged; the server and the next cycle go on
                log.exception("arsync cycle failed")
                return
        if not done:
            timer = threading.Timer(LEASE_RETRY_SECONDS, again)
            timer.daemon = True
            timer.start()


def create_app(runtime: Runtime, *, schedule: bool = True) -> FastAPI:
    """The HTTP app over one runtime."""
    pipeline = Pipeline(runtime)
    scheduler: BackgroundScheduler | None = None
    minutes = runtime.settings.schedule.interval_minutes
    if schedule and minutes:
        scheduler = BackgroundScheduler(timezone="UTC")
        scheduler.add_job(
            pipeline.cycle,
            "interval",
            minutes=minutes,
            id="cycle",
            max_instances=1,
            coalesce=True,
        )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if scheduler is not None:
            scheduler.start()
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=False)

    app = FastAPI(title="arsync", docs_url=None, redoc_url=None, lifespan=lifespan)
    app.state.pipeline = pipeline
    app.state.scheduler = scheduler

    @app.post("/webhooks/{source}")
    async def webhook(source: str, request: Request, background: BackgroundTasks) -> Response:
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
            background.add_task(pipeline.reconcile_and_push)
            return JSONResponse({"error": str(exc)[:300]}, status_code=503)
        if intake.remittances:
            background.add_task(pipeline.reconcile_and_push)
        if intake.sync_due:
            background.add_task(pipeline.cycle, [intake.sync_due])
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
        try:
            with runtime.store.session() as session:
                session.execute(text("select 1"))
                last = session.execute(
                    select(col(SyncRun.system), func.max(col(SyncRun.started_at))).group_by(
                        col(SyncRun.system)
                    )
                ).all()
        except Exception as exc:  # the database is down: say so
            return JSONResponse({"ok": False, "database": str(exc)[:200]}, status_code=503)
        return JSONResponse(
            {"ok": True, "last_sync": {system: stamp.isoformat() for system, stamp in last}}
        )

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
