"""The QuickBooks Online connector: the client, its four streams, and batched writes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from connectors.base import Connector, Stream, TokenStore
from connectors.errors import AuthError
from connectors.http import RetryPolicy
from connectors.quickbooks.changes import ChangeFeed
from connectors.quickbooks.client import Payload, QuickBooksClient
from connectors.quickbooks.config import QuickBooksConfig
from connectors.quickbooks.streams import (
    CreditMemoStream,
    CustomerStream,
    InvoiceStream,
    PaymentStream,
    QuickBooksStream,
)
from connectors.quickbooks.writes import (
    CreditMemoCreate,
    PaymentCreate,
    QuickBooksWriter,
    Write,
    WriteResult,
    credit_memo_application,
)

MISSING_CHUNK = 100  # ids asked for in one query when confirming what a full read missed


def _quoted(remote_id: str) -> str:
    """An Id as a QBO query literal (QBO Ids are digits; a quote is escaped all the same)."""
    return "'" + remote_id.replace("\\", "\\\\").replace("'", "\\'") + "'"


class QuickBooksConnector(Connector):
    """Reads customers, invoices, credit memos and payments of one QBO company."""

    system = "quickbooks"

    def __init__(
        self, config: QuickBooksConfig, tokens: TokenStore, *, policy: RetryPolicy | None = None
    ) -> None:
        self.config = config
        self.client = QuickBooksClient(config, tokens, policy=policy)
        self.session = self.client.session
        self.changes = ChangeFeed(self.client)
        self.writer = QuickBooksWriter(self.client)
        self._facts: dict[str, object] = {}
        self._streams: dict[str, Stream] = {
            stream.name: stream
            for stream in (
                CustomerStream(self.client, self.changes),
                InvoiceStream(self.client, self.changes),
                CreditMemoStream(self.client, self.changes),
                PaymentStream(self.client, self.changes),
            )
        }

    def streams(self) -> dict[str, Stream]:
        return dict(self._streams)

    def check(self) -> None:
        """Refresh the access token and read the company's Preferences: its home currency is
        the currency of every amount QuickBooks writes without a ``CurrencyRef`` (a company
        without multicurrency)."""
        try:
            preferences = self.client.preferences()
        except AuthError as exc:
            raise AuthError(
                self.system,
                f"cannot access company {self.config.realm_id}: {exc.message}",
                status=exc.status,
                code=exc.code,
            ) from None
        home = ((preferences.get("CurrencyPrefs") or {}).get("HomeCurrency") or {}).get("value")
        if isinstance(home, str) and home.strip():
            self._facts["home_currency"] = home.strip().upper()

    def missing(self, stream: str, remote_ids: set[str]) -> set[str]:
        """Of records a full read did not return, those QuickBooks no longer has: asked by Id
        (``WHERE Id IN (...)``). A full read can pass over a live record (many sharing one
        LastUpdatedTime are paged by position, and an edit moves one past the others), so
        what it did not return is never taken as deleted on its own."""
        if not remote_ids:
            return set()
        found = self._streams[stream]
        assert isinstance(found, QuickBooksStream)
        live: set[str] = set()
        ids = sorted(remote_ids)
        for start in range(0, len(ids), MISSING_CHUNK):
            chunk = ids[start : start + MISSING_CHUNK]
            where = [*found.conditions, "Id IN (" + ", ".join(_quoted(i) for i in chunk) + ")"]
            statement = (
                f"SELECT * FROM {found.object_type} WHERE {' AND '.join(where)} "
                f"MAXRESULTS {MISSING_CHUNK}"
            )
            rows = self.client.query(statement).get(found.object_type) or []
            live.update(str(row.get("Id")) for row in rows if isinstance(row, dict))
        return set(remote_ids) - live

    def mapping_facts(self) -> dict[str, object]:
        return dict(self._facts)

    # writes ---------------------------------------------------------------------------------
    def write(self, writes: Sequence[Write]) -> list[WriteResult]:
        """Send writes through ``/batch``, 30 per request, each request keyed by requestid.

        Results come back in order; an item QBO refused carries its ApiError (ConflictError
        for a stale SyncToken, NotFoundError, DataError) and the other items still land.
        """
        return self.writer.write(writes)

    def apply_payment(self, payment: PaymentCreate) -> WriteResult:
        """Create one Payment (cash and/or credit memos applied to invoices)."""
        return self.writer.write([payment])[0]

    def write_off(
        self,
        key: str,
        customer_id: str,
        invoice_id: str,
        amount: Decimal,
        *,
        reason: str | None = None,
        currency: str | None = None,
        txn_date: date | None = None,
    ) -> WriteResult:
        """Write off part of an invoice: a credit memo on the configured write-off item, then
        a zero-total Payment applying it. Each step has its own key derived from ``key``, so a
        replay finds both already done instead of repeating them.
        """
        item_id = self.config.write_off_item_id
        if not item_id:
            raise ValueError("config error: quickbooks.write_off_item_id is not set")
        memo = CreditMemoCreate(
            f"{key}:memo", customer_id, amount, item_id, currency, txn_date, reason
        )
        [made] = self.writer.write([memo])
        if not made.ok or made.remote_id is None:
            return made
        application = credit_memo_application(
            f"{key}:apply",
            customer_id,
            invoice_id,
            made.remote_id,
            amount,
            currency=currency,
            txn_date=txn_date,
        )
        return self.writer.write([application])[0]

    def landed(self, keys: Sequence[str], since: datetime) -> dict[str, str]:
        """Which payments with these idempotency keys already exist (key -> Payment Id)."""
        return self.writer.landed(keys, since)

    def read(self, entity: str, remote_id: str) -> Payload:
        """The current object (to re-validate after a conflict)."""
        return self.client.read(entity, remote_id)

    @property
    def api_calls(self) -> int:
        """API requests made, token refreshes included."""
        return self.session.stats.total + self.client.auth.session.stats.total

    def close(self) -> None:
        self.client.close()
