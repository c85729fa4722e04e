"""Wiring: settings -> store, engine and connectors. The CLI, scheduler and demo use this."""

from __future__ import annotations

import logging
import threading
import traceback
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ValidationError

from canonical.enums import RunStatus
from canonical.lease import LeaseHeld
from canonical.store import Store
from connectors.base import Connector
from connectors.http import RetryPolicy
from connectors.redact import register_secrets_of
from connectors.registry import entry
from sync.engine import Progress, RunResult, SyncEngine, SyncStopped, describe_failure
from sync.outbox.plan import LatePlan, OutboxPlanner
from sync.outbox.worker import SystemPush
from sync.settings import ConfigError, Settings, describe_validation_error

if TYPE_CHECKING:
    from reconciler.engine import ReconcileSummary
    from sync.outbox.worker import CrashPoint, PushSummary
from sync.tokens import StoredTokens

log = logging.getLogger("arsync.sync")


@dataclass
class MisconfiguredPush(SystemPush):
    """A system not pushed because its section is wrong (``error`` names the key): a wrong
    setting, like a sync's ``misconfigured`` result, not a write that failed."""


def misconfigured(summary: PushSummary) -> list[str]:
    """The systems a push left out because their section is wrong (the CLI exits 2)."""
    return [
        name for name, result in summary.systems.items() if isinstance(result, MisconfiguredPush)
    ]


@dataclass
class Runtime:
    """Everything a command needs, built once from the settings."""

    settings: Settings
    store: Store
    policy: RetryPolicy | None = None
    _connectors: dict[str, Connector] = field(default_factory=dict)
    # set: a sync under way stops between pages and no further system is synced
    stopping: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def open(cls, settings: Settings, policy: RetryPolicy | None = None) -> Runtime:
        register_secrets_of(settings)  # webhook signing secrets among them: masked everywhere
        return cls(settings=settings, store=Store.open(settings.database_url), policy=policy)

    @property
    def engine(self) -> SyncEngine:
        return self.engine_for(self.settings.configured_systems())

    def engine_for(self, systems: list[str]) -> SyncEngine:
        """The sync engine with the mapping options of ``systems`` only (another system's
        wrong section is that system's error, not theirs)."""
        return SyncEngine(
            self.store,
            tenant=self.settings.tenant,
            lag=timedelta(seconds=self.settings.sync.lag_seconds),
            home_currency=self.settings.home_currency,
            system_of_record=self.settings.system_of_record,
            mapping_options={system: self.mapping_options(system) for system in systems},
            stopping=self.stopping,
        )

    def mapping_options(self, system: str) -> dict[str, object]:
        """Per-customer setup a system's mappings need (e.g. Salesforce object names)."""
        options = getattr(self.config(system), "mapping_options", None)
        return dict(options()) if callable(options) else {}

    def config(self, system: str) -> BaseModel:
        raw = self.settings.system_config(system)
        if raw is None:
            raise ConfigError(f"config error: {system}: not configured")
        system_entry = entry(system)
        try:
            config = system_entry.parse_config(raw)
        except ValidationError as exc:
            raise ConfigError(
                describe_validation_error(
                    exc, "config error: ", section=system, model=system_entry.config
                )
            ) from None
        if self.settings.sync.page_size and hasattr(config, "page_size"):
            config = config.model_copy(update={"page_size": self.settings.sync.page_size})
        return config

    def connector(self, system: str) -> Connector:
        if system not in self._connectors:
            config = self.config(system)
            tokens = StoredTokens(self.store, system, self.settings.tenant)
            self._connectors[system] = entry(system).build(config, tokens, self.policy)
        return self._connectors[system]

    def seed_tokens(self, system: str, values: dict[str, str]) -> None:
        """Keep initial secrets (e.g. a first refresh token) unless a rotated one is stored."""
        StoredTokens(self.store, system, self.settings.tenant).seed(values)

    def lag_for(self, system: str) -> timedelta:
        config = self.config(system)
        return timedelta(seconds=int(getattr(config, "lag_seconds", 0) or 0))

    def sync(
        self,
        systems: list[str] | None = None,
        *,
        full: bool = False,
        progress: Progress | None = None,
    ) -> list[RunResult]:
        """Sync each system in turn; one system's trouble never stops the others. A system
        whose lease another run holds is a result with status ``skipped`` (its reason in
        ``skipped``); one whose section is wrong, or that stopped on an unexpected error (a
        lease lost after a stall), is ``failed`` with its error in one line naming it. Once
        :attr:`stopping` is set, the system under way stops between pages and no other
        starts (:class:`~sync.engine.SyncStopped` is raised either way)."""
        results = []
        for system in systems or self.settings.configured_systems():
            if self.stopping.is_set():  # the systems left are not synced: say so
                raise SyncStopped(f"stopped before {system} was synced")
            results.append(self._sync_one(system, full=full, progress=progress))
        return results

    def _sync_one(self, system: str, *, full: bool, progress: Progress | None) -> RunResult:
        try:
            return self.engine_for([system]).sync(
                self.connector(system), full=full, progress=progress, lag=self.lag_for(system)
            )
        except LeaseHeld as exc:
            log.warning("%s sync skipped: %s", system, exc)
            return RunResult.held(system, str(exc))
        except ConfigError as exc:
            log.error("%s sync not run: %s", system, exc)
            return RunResult(system, "", RunStatus.FAILED, error=str(exc), misconfigured=True)
        except Exception as exc:  # KeyboardInterrupt and SystemExit still end the command
            error = describe_failure(system, exc)
            log.error("%s", error)
            # where it was raised (frames only: the message may hold what redaction masked)
            log.info("%s", "".join(traceback.format_tb(exc.__traceback__)))
            return RunResult(system, "", RunStatus.FAILED, error=error)

    @property
    def planner(self) -> OutboxPlanner:
        """Turns applied decisions into outbox commands (for reconcile and resolve)."""
        return OutboxPlanner(self.settings.tenant, self.settings.push_systems())

    def written_nowhere(self, done: str = "applied") -> str | None:
        """The warning for a decision recorded while no system is configured to write to
        (its writes are not planned then; cash applied has them planned once a person runs
        ``arsync outbox plan``); None when some system is."""
        if self.settings.push_systems():
            return None
        warning = (
            f"{done} in arsync only: no system is configured to write to "
            f"({self._why_nowhere()}): nothing will be written"
        )
        if done == "applied":
            warning += (
                " until a system is configured and `arsync outbox plan --all` plans the "
                "writes (`--dry-run` first shows them)"
            )
        else:  # the voids of payments written before wait for their systems
            warning += (
                " now; a payment written to a system before is voided there once that system "
                "is written to again (`arsync outbox` lists the voids waiting)"
            )
        return warning

    def _why_nowhere(self) -> str:
        """Why no system is written to: no section, or [push] systems names none of them."""
        if self.settings.configured_systems():
            return "[push] systems names none of the systems configured"
        return "quickbooks/intacct/invoiced/salesforce sections"

    def plan_writes(
        self, decision_ids: list[str] | None = None, *, dry_run: bool = False
    ) -> list[LatePlan]:
        """Plan the writes of applied decisions that have none in a system written to now
        (the named ones, or None: every one the report counts as not planned). Raises
        :class:`ConfigError` when no system is configured to write to."""
        from sync.outbox.control import plan_writes

        systems = self.settings.push_systems()
        if not systems:
            raise ConfigError(
                f"config error: no system is configured to write to ({self._why_nowhere()}): "
                "configure one, then plan the writes"
            )
        return plan_writes(self.store, self.settings.tenant, systems, decision_ids, dry_run=dry_run)

    def reconcile(self, rules_path: Path | None = None) -> ReconcileSummary:
        """Reconcile new remittances and credit memos; their writes go to the outbox."""
        from reconciler import reconcile

        return reconcile(
            self.store,
            tenant=self.settings.tenant,
            rules_path=rules_path or self.settings.reconciler.rules_path,
            sink=self.planner,
        )

    def push(
        self,
        systems: list[str] | None = None,
        *,
        dry_run: bool = False,
        crash: CrashPoint | None = None,
    ) -> PushSummary:
        """Send the outbox's due commands to the given systems (default: every push system).
        One system's trouble never stops the others: a system whose section is wrong is a
        :class:`MisconfiguredPush` with its error in one line naming the key (a setting: the
        CLI exits 2, see :func:`misconfigured`), and the other systems are pushed."""
        from sync.outbox.registry import adapter_for
        from sync.outbox.worker import push

        targets = systems or self.settings.push_systems()
        adapters = {}
        missing: dict[str, str] = {}
        wrong: dict[str, str] = {}  # a system's wrong section: the others are pushed
        for system in targets:
            try:
                adapters[system] = adapter_for(system, self.connector(system))
            except KeyError as exc:
                missing[system] = str(exc.args[0])
            except ConfigError as exc:
                log.error("%s push not run: %s", system, exc)
                wrong[system] = str(exc)
        summary = push(
            self.store,
            adapters,
            tenant=self.settings.tenant,
            settings=self.settings.push,
            dry_run=dry_run,
            crash=crash,
            api_calls=lambda system: self.connector(system).api_calls,
        )
        for system, reason in missing.items():
            summary.systems[system] = SystemPush(system, error=reason)
        for system, reason in wrong.items():
            summary.systems[system] = MisconfiguredPush(system, error=reason)
        return summary

    def close(self) -> None:
        for connector in self._connectors.values():
            connector.close()
        self.store.dispose()
