"""The Salesforce connector: the client plus its four streams."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from connectors.base import Connector, Stream, TokenStore
from connectors.errors import AuthError
from connectors.http import RetryPolicy
from connectors.salesforce.client import SYSTEM, SalesforceClient
from connectors.salesforce.config import SalesforceConfig
from connectors.salesforce.streams import build_streams
from connectors.salesforce.writes import (
    AccountSummary,
    InvoiceStatus,
    SalesforceWriter,
    WriteResult,
)


class SalesforceConnector(Connector):
    """Reads Accounts, invoices, credit memos and payments from one org."""

    system: ClassVar[str] = SYSTEM

    def __init__(
        self,
        config: SalesforceConfig,
        tokens: TokenStore,
        *,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.config = config
        self.client = SalesforceClient(config, tokens, policy)
        self.session = self.client.session
        self._streams = build_streams(self.client, config.objects)
        self.writer = SalesforceWriter(self.client, config.objects)

    def streams(self) -> dict[str, Stream]:
        return dict(self._streams)

    def check(self) -> None:
        """Log in and read the org's limits; AuthError with a one-line reason otherwise."""
        try:
            self.client.auth.refresh()
            self.client.limits()
        except AuthError as exc:
            raise AuthError(
                SYSTEM, exc.message.splitlines()[0], status=exc.status, code=exc.code
            ) from None

    def close(self) -> None:
        self.client.auth.token_session.close()
        self.session.close()

    @property
    def api_usage(self) -> tuple[int, int] | None:
        """(used, allowed) daily API requests from the last ``Sforce-Limit-Info`` header."""
        return self.client.api_usage

    def live_ids(self, stream: str) -> set[str]:
        """Ids of every live record of a stream, to reconcile deletes older than 15 days."""
        schema = self.config.objects
        sobject = {
            "customers": schema.account.sobject,
            "invoices": schema.invoice.sobject,
            "credit_memos": schema.credit_memo.sobject,
            "payments": schema.payment.sobject,
        }[stream]
        return self.client.live_ids(sobject)

    def write_invoice_statuses(
        self, updates: Sequence[InvoiceStatus], *, all_or_none: bool = False
    ) -> list[WriteResult]:
        """Status, balance and paid date of invoices; 200 per call; one result per update."""
        return self.writer.invoice_statuses(updates, all_or_none=all_or_none)

    def write_account_summaries(
        self, updates: Sequence[AccountSummary], *, all_or_none: bool = False
    ) -> list[WriteResult]:
        """AR summary fields of Accounts; 200 per call; one result per update."""
        return self.writer.account_summaries(updates, all_or_none=all_or_none)
