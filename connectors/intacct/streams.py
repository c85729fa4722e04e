"""The four Intacct streams: readByQuery on WHENMODIFIED, deletes from AUDITHISTORY.

Intacct has no change feed with deletes. On incremental runs each stream also reads the
audit trail (``AUDITHISTORY`` rows with ``ACCESSMODE = 'D'`` for its object type since the
bookmark) and yields each deleted key as ``RawRecord(deleted=True)``; a full pull needs no
deletes. Voided (reversed) documents stay records with ``STATE = 'Reversed'``.

Why the audit trail: an id-list reconciliation (``<fields>RECORDNO</fields>`` for the whole
object, diffed against what is stored) needs the store, which a connector does not see, and
costs a full key scan per run; the audit trail costs one small query per stream. A
customer's ``OBJECTKEY`` is its CUSTOMERID (the customer's remote id), a document's its
RECORDNO. Deletes older than the audit trail's retention are not seen; a full re-sync is the
remedy.

Incremental filters are ``WHENMODIFIED >= '<since, company-local, whole seconds>'`` (``>=``
because stamps are whole seconds; re-read boundary records are de-duplicated by the
runtime). ``until`` is not applied: records changed during the run are simply read again
next time. Pages come in RECORDNO order, not modification order, so ``ordered`` is False.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import ClassVar

from connectors.base import Page, RawRecord, Stream
from connectors.intacct.client import IntacctClient
from connectors.intacct.xmlwire import Payload, parse_timestamp, render_timestamp

AUDIT_OBJECT = "AUDITHISTORY"
DETAIL_OBJECT = "ARPYMTDETAIL"
DETAILS_KEY = "ARPYMTDETAILS"  # where a payment's applications are put in its payload


class IntacctStream(Stream):
    """One Intacct object read incrementally on ``WHENMODIFIED``."""

    ordered: ClassVar[bool] = False
    id_field: ClassVar[str] = "RECORDNO"
    audit_type: ClassVar[str]  # OBJECTTYPE in AUDITHISTORY

    def __init__(self, client: IntacctClient) -> None:
        self.client = client

    def query(self, since: datetime | None) -> str:
        if since is None:
            return ""
        stamp = render_timestamp(since.replace(microsecond=0), self.client.config.zone)
        return f"WHENMODIFIED >= '{stamp}'"

    def pages(self, since: datetime | None, until: datetime) -> Iterator[Page]:
        for rows in self.client.read_by_query(self.object_type, self.query(since)):
            yield Page([self.raw(row) for row in self.enrich(rows)])
        if since is not None:
            yield from self.deletes(since)

    def enrich(self, rows: list[Payload]) -> list[Payload]:
        return rows

    def raw(self, row: Payload) -> RawRecord:
        return RawRecord(
            stream=self.name,
            object_type=self.object_type,
            remote_id=str(row.get(self.id_field, "")),
            payload=row,
            modified_at=parse_timestamp(row.get("WHENMODIFIED"), self.client.config.zone),
        )

    def deletes(self, since: datetime) -> Iterator[Page]:
        zone = self.client.config.zone
        stamp = render_timestamp(since.replace(microsecond=0), zone)
        query = f"OBJECTTYPE = '{self.audit_type}' AND ACCESSMODE = 'D' AND ACCESSTIME >= '{stamp}'"
        for rows in self.client.read_by_query(AUDIT_OBJECT, query):
            yield Page(
                [
                    RawRecord(
                        stream=self.name,
                        object_type=self.object_type,
                        remote_id=str(row.get("OBJECTKEY", "")),
                        payload=row,
                        modified_at=parse_timestamp(row.get("ACCESSTIME"), zone),
                        deleted=True,
                    )
                    for row in rows
                    if row.get("OBJECTKEY")
                ]
            )


class CustomerStream(IntacctStream):
    name = "customers"
    object_type = "CUSTOMER"
    id_field = "CUSTOMERID"
    audit_type = "customer"


class InvoiceStream(IntacctStream):
    name = "invoices"
    object_type = "ARINVOICE"
    audit_type = "arinvoice"


class CreditMemoStream(IntacctStream):
    name = "credit_memos"
    object_type = "ARADJUSTMENT"
    audit_type = "aradjustment"


class PaymentStream(IntacctStream):
    """Payments with their applications, read per page in one ARPYMTDETAIL query.

    A detail names its payment in ``PAYMENTKEY`` (the ARPYMT's RECORDNO), as Intacct's
    ARPYMTDETAIL object defines it.
    """

    name = "payments"
    object_type = "ARPYMT"
    audit_type = "arpayment"

    def enrich(self, rows: list[Payload]) -> list[Payload]:
        keys = sorted(
            {
                str(row.get("RECORDNO", ""))
                for row in rows
                if str(row.get("RECORDNO", "")).isdigit()
            },
            key=int,
        )
        details: dict[str, list[Payload]] = {key: [] for key in keys}
        if keys:
            query = f"PAYMENTKEY IN ({','.join(keys)})"
            for page in self.client.read_by_query(DETAIL_OBJECT, query):
                for detail in page:
                    owner = str(detail.get("PAYMENTKEY", ""))
                    if owner in details:
                        details[owner].append(detail)
        return [{**row, DETAILS_KEY: details.get(str(row.get("RECORDNO")), [])} for row in rows]
