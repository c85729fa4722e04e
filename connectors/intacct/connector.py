"""The Sage Intacct connector: the client and its four streams."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from connectors.base import Connector, Stream, TokenStore
from connectors.errors import AuthError
from connectors.http import RetryPolicy
from connectors.intacct.client import IntacctClient
from connectors.intacct.config import IntacctConfig
from connectors.intacct.streams import STREAM_TYPES
from connectors.intacct.writes import IntacctWriter, Write, WriteResult
from connectors.intacct.xmlwire import function


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
            self.client.call([function(self.client.control_id("check"), "getAPISession")])
        except AuthError as exc:
            raise AuthError(
                self.system,
                f"cannot access company {self.config.company_id!r}: {exc.message}",
                status=exc.status,
                code=exc.code,
            ) from None

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
