"""The Salesforce connector: the client plus its four streams."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import ClassVar

from canonical.types import zone
from connectors.base import Connector, Stream, TokenStore
from connectors.errors import AuthError
from connectors.http import RetryPolicy
from connectors.salesforce.client import SYSTEM, SalesforceClient
from connectors.salesforce.config import SalesforceConfig
from connectors.salesforce.streams import SalesforceStream, build_streams
from connectors.salesforce.writes import (
    AccountSummary,
    InvoiceStatus,
    SalesforceWriter,
    WriteResult,
)

log = logging.getLogger("arsync.salesforce")


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
        self._facts: dict[str, object] = {}

    def streams(self) -> dict[str, Stream]:
        return dict(self._streams)

    def check(self) -> None:
        """Log in, read the org's limits and its Organization record; AuthError with a
        one-line reason otherwise. The org must be the configured ``org_id`` when one is set;
        its corporate currency (single-currency orgs) and default time zone are what the
        mappings read records in."""
        try:
            self.client.auth.refresh()
            self.client.limits()
            organization = self.client.organization()
        except AuthError as exc:
            raise AuthError(
                SYSTEM, exc.message.splitlines()[0], status=exc.status, code=exc.code
            ) from None
        found = str(organization.get("Id") or "")
        wanted = self.config.org_id
        if wanted and found[:15] != wanted[:15]:
            raise AuthError(
                SYSTEM,
                f"connected to org {found or '(unknown)'}, but salesforce.org_id is {wanted}: "
                "check the credentials and token_url (a sandbox instead of production?)",
            )
        self._facts = org_facts(organization)

    def mapping_facts(self) -> dict[str, object]:
        return dict(self._facts)

    def close(self) -> None:
        self.client.auth.token_session.close()
        self.session.close()

    @property
    def api_usage(self) -> tuple[int, int] | None:
        """(used, allowed) daily API requests from the last ``Sforce-Limit-Info`` header."""
        return self.client.api_usage

    def live_ids(self, stream: str) -> set[str]:
        """Ids of every live record of a stream (each SObject it reads), to reconcile deletes
        older than the delete log."""
        found = self._streams[stream]
        sobjects = (
            [source.sobject for source in found.sources]
            if isinstance(found, SalesforceStream)
            else [found.object_type]
        )
        ids: set[str] = set()
        for sobject in sobjects:
            ids |= self.client.live_ids(sobject)
        return ids

    def missing(self, stream: str, remote_ids: set[str]) -> set[str]:
        """A full read stops at the run's start (``SystemModstamp`` up to ``until``): a record
        changed since is alive though not read, so only ids no longer live are gone."""
        if not remote_ids:
            return set()
        return set(remote_ids) - self.live_ids(stream)

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


def org_facts(organization: dict[str, object]) -> dict[str, object]:
    """Mapping options an Organization record settles: ``currency`` (the corporate currency,
    for records without a currency field) and ``timezone`` (the org's default zone)."""
    facts: dict[str, object] = {}
    code = organization.get("DefaultCurrencyIsoCode")
    if isinstance(code, str) and len(code.strip()) == 3:
        facts["currency"] = code.strip().upper()
    name = organization.get("TimeZoneSidKey")
    if isinstance(name, str) and name:
        try:
            zone(name)
        except ValueError:
            log.warning(
                "salesforce: org time zone %r is not an IANA zone; using org_timezone", name
            )
        else:
            facts["timezone"] = name
    return facts
