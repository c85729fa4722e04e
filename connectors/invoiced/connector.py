"""The Invoiced connector: four streams to read, keyed payments to write."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from connectors.base import Connector, Stream, TokenStore
from connectors.errors import AuthError, NotFoundError
from connectors.http import RetryPolicy
from connectors.invoiced.client import SYSTEM, InvoicedClient, Payload
from connectors.invoiced.config import InvoicedConfig
from connectors.invoiced.streams import (
    CreditNotes,
    Customers,
    Invoices,
    Payments,
)
from connectors.invoiced.writes import InvoicedWriter, PaymentCreate, WriteResult

MISSING_ASKED = 100  # records a full read missed that are asked for, one call each, per run
STREAM_PATHS: dict[str, str] = {
    stream.name: stream.path for stream in (Customers, Invoices, CreditNotes, Payments)
}


class InvoicedConnector(Connector):
    """Customers, invoices, credit notes and payments of one Invoiced account.

    The API key never rotates, so ``tokens`` is not used; it is accepted like every connector.
    """

    system = SYSTEM

    def __init__(
        self, config: InvoicedConfig, tokens: TokenStore, *, policy: RetryPolicy | None = None
    ) -> None:
        self.config = config
        self.tokens = tokens
        self.client = InvoicedClient(config, policy)
        self.session = self.client.session
        self.writer = InvoicedWriter(self.client)

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

    def missing(self, stream: str, remote_ids: set[str]) -> set[str]:
        """Of records a full read did not return, those Invoiced no longer has (``GET
        /<objects>/<id>`` answers 404). A list that shifted as a record was deleted and another
        created while it was paged keeps its count, so a live record can be passed over: only
        what Invoiced confirms gone is gone, and at most ``MISSING_ASKED`` are asked a run (the
        others stay until a later full read)."""
        path = STREAM_PATHS[stream]
        gone: set[str] = set()
        for remote_id in sorted(remote_ids)[:MISSING_ASKED]:
            try:
                self.client.get(f"{path}/{quote(remote_id, safe='')}")
            except NotFoundError:
                gone.add(remote_id)
        return gone

    def check(self) -> None:
        """One cheap list call; a refused key raises AuthError naming Invoiced, not the key."""
        try:
            self.client.get("/customers", {"per_page": 1})
        except AuthError as exc:
            raise AuthError(
                SYSTEM,
                f"the API key was refused by {self.config.base_url} ({exc.message}); "
                "check invoiced.api_key",
                status=exc.status,
                code=exc.code,
            ) from None

    def apply_payment(self, payment: PaymentCreate) -> Payload:
        """Create one payment with its ``applied_to`` entries, keyed by ``payment.key``."""
        return self.writer.create_payment(payment)

    def write_payments(self, payments: Sequence[PaymentCreate]) -> list[WriteResult]:
        """Create payments in order, one result each (errors per payment, auth errors raised)."""
        return self.writer.write(payments)

    def landed(self, keys: Sequence[str]) -> dict[str, str]:
        """Which of these idempotency keys already became payments: key -> payment id."""
        return self.writer.landed(keys)
