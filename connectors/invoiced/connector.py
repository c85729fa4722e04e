"""The Invoiced connector."""

from __future__ import annotations

from connectors.base import Connector, Stream, TokenStore
from connectors.errors import AuthError
from connectors.http import RetryPolicy
from connectors.invoiced.client import SYSTEM, InvoicedClient
from connectors.invoiced.config import InvoicedConfig
from connectors.invoiced.streams import CreditNotes, Customers, Invoices, Payments


class InvoicedConnector(Connector):
    """Customers, invoices, credit notes and payments of one Invoiced account."""

    system = SYSTEM

    def __init__(
        self, config: InvoicedConfig, tokens: TokenStore, *, policy: RetryPolicy | None = None
    ) -> None:
        self.config = config
        self.client = InvoicedClient(config, policy)
        self.session = self.client.session

    def streams(self) -> dict[str, Stream]:
        return {
            s.name: s
            for s in (
                Customers(self.client),
                Invoices(self.client),
                CreditNotes(self.client),
                Payments(self.client),
            )
        }

    def check(self) -> None:
        try:
            self.client.get("/customers", {"per_page": 1})
        except AuthError as exc:
            raise AuthError(
                SYSTEM, f"the API key was refused ({exc.message})", status=exc.status, code=exc.code
            ) from None
