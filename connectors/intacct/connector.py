"""The Sage Intacct connector: the client and its four streams."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from connectors.base import Connector, Stream, TokenStore
from connectors.errors import AuthError
from connectors.http import RetryPolicy
from connectors.intacct.client import IntacctClient
from connectors.intacct.config import IntacctConfig
from connectors.intacct.streams import STREAM_TYPES
from connectors.intacct.writes import IntacctWriter, Write, WriteResult
from connectors.intacct.xmlwire import Element, function

log = logging.getLogger("arsync.intacct")


class IntacctConnector(Connector):
    """Reads customers, AR invoices, AR adjustments (credit memos) and AR payments."""

    system = "intacct"

    def __init__(
        self, config: IntacctConfig, tokens: TokenStore, *, policy: RetryPolicy | None = None
    ) -> None:
        self.config = config
        self.client = IntacctClient(config, tokens, policy=policy)
        self.session = self.client.session
        self.writer = IntacctWriter(self.client)
        self._streams: dict[str, Stream] = {
            name: stream(self.client) for name, stream in STREAM_TYPES.items()
        }

    def streams(self) -> dict[str, Stream]:
        return dict(self._streams)

    def check(self) -> None:
        """Open (or reuse) an API session and ask the gateway about it (``getAPISession``
        with the session id: the cheapest authenticated call, and it leaves no result set open).
        """
        try:
            root = self.client.call([function(self.client.control_id("check"), "getAPISession")])
        except AuthError as exc:
            raise AuthError(
                self.system,
                f"cannot access company {self.config.company_id!r}: {exc.message}",
                status=exc.status,
                code=exc.code,
            ) from None
        self._check_zone(root)

    def _check_zone(self, root: Element) -> None:
        """Warn when the session's clock is not in ``company_timezone``.

        ``<authentication><sessiontimestamp>`` (ISO 8601 with an offset) is read as written in
        the API user's time zone, the zone WHENMODIFIED is written and queried in. A configured
        zone off by more than the lag makes every incremental filter skip (or re-read) that many
        hours of changes. Intacct does not document the timestamp's zone, so this warns, naming
        the setting, rather than refusing to sync.
        """
        text = (root.findtext("operation/authentication/sessiontimestamp") or "").strip()
        try:
            stamp = datetime.fromisoformat(text)
        except ValueError:
            return
        if stamp.utcoffset() is None:
            return
        seen = stamp.utcoffset() or timedelta(0)
        configured = stamp.astimezone(self.config.zone).utcoffset() or timedelta(0)
        if seen == configured:
            return
        gap = abs(seen - configured)
        problem = (
            f"company {self.config.company_id!r} answers in UTC{_offset(seen)} (sessiontimestamp "
            f"{text}) but intacct.company_timezone {self.config.company_timezone!r} is "
            f"UTC{_offset(configured)} then: WHENMODIFIED filters would be off by {gap}"
        )
        if gap.total_seconds() > self.config.lag_seconds:
            log.warning(
                "intacct: %s, more than the %ss rewind: changes may be skipped; set "
                "intacct.company_timezone to the API user's time zone (Intacct: My preferences > "
                "Time zone)",
                problem,
                self.config.lag_seconds,
            )
            return
        log.info("intacct: %s (within the %ss rewind)", problem, self.config.lag_seconds)

    def write(self, writes: Sequence[Write]) -> list[WriteResult]:
        """Send writes, ``write_batch_size`` functions per request; one result per write."""
        return self.writer.write(writes)

    def landed(self, keys: Sequence[str], since: datetime | None) -> dict[str, str]:
        """Payments and adjustments already created with these keys: key -> RECORDNO."""
        return self.writer.landed(keys, since)

    @property
    def api_calls(self) -> int:
        """API requests made, logins included."""
        return self.session.stats.total + self.client.auth.session.stats.total

    def close(self) -> None:
        self.client.close()


def _offset(value: timedelta) -> str:
    """``+05:30`` / ``-08:00`` of a UTC offset."""
    minutes = int(value.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{rest:02d}"
