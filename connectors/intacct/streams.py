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

AR adjustments (ARADJUSTMENT) are credit memos or debit memos, told apart only by sign
(Intacct's create docs: a positive amount makes a debit memo, a negative one a credit memo;
the ``Reversal`` entry of a document carries the opposite sign). A debit memo raises what
the customer owes, so it is a receivable: the invoices stream reads ARINVOICE and then the
debit-memo ARADJUSTMENTs, the credit-memo stream the others. The split is made in the
readByQuery ``query`` (so no record of the other kind crosses the wire), on the
base-currency ``TOTALENTERED`` (always sent, same sign as ``TRX_TOTALENTERED``), with
documented operators only (``< > <= >= = not in``, ``AND``), two queries a stream (the
documents, and the Reversal entries with the opposite sign): the four conditions are exact
complements, so every adjustment is read by exactly one stream.

A stream reading two objects yields all pages of the first, then all pages of the second.
That never skips data: the stream is not ``ordered``, so the runtime moves its bookmark
only after the whole stream, to the newest stamp seen (less a second) but never past the
run's start minus the lag. A record of the first object changed while the second is being
read is stamped after the run started, hence after the bookmark, and is read next time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from connectors.base import Page, RawRecord, Stream
from connectors.intacct.client import IntacctClient
from connectors.intacct.xmlwire import Payload, parse_timestamp, render_timestamp

AUDIT_OBJECT = "AUDITHISTORY"
DETAIL_OBJECT = "ARPYMTDETAIL"
DETAILS_KEY = "ARPYMTDETAILS"  # where a payment's applications are put in its payload


# The sign tells a debit memo from a credit memo; a Reversal entry carries the opposite sign
# of the document it reverses. Each condition is a plain AND chain (the documented
# readByQuery syntax), so a stream reads the two kinds of entry as two sources.
DEBIT_MEMOS = "TOTALENTERED > 0 AND STATE NOT IN ('Reversal')"
DEBIT_MEMO_REVERSALS = "TOTALENTERED < 0 AND STATE = 'Reversal'"
CREDIT_MEMOS = "TOTALENTERED <= 0 AND STATE NOT IN ('Reversal')"
CREDIT_MEMO_REVERSALS = "TOTALENTERED >= 0 AND STATE = 'Reversal'"


@dataclass(frozen=True)
class Source:
    """One object a stream reads, with the condition that picks the stream's records of it
    (readByQuery syntax; empty for all) and its OBJECTTYPE in AUDITHISTORY."""

    object_type: str
    audit_type: str
    condition: str = ""


class IntacctStream(Stream):
    """Intacct objects read incrementally on ``WHENMODIFIED``, one after the other."""

    ordered: ClassVar[bool] = False
    id_field: ClassVar[str] = "RECORDNO"
    sources: ClassVar[tuple[Source, ...]]

    def __init__(self, client: IntacctClient) -> None:
        self.client = client

    def _stamp(self, since: datetime) -> str:
        return render_timestamp(since.replace(microsecond=0), self.client.config.zone)

    def query(self, since: datetime | None, condition: str = "") -> str:
        parts = [f"WHENMODIFIED >= '{self._stamp(since)}'"] if since is not None else []
        if condition:
            parts.append(condition)  # an AND chain: no grouping needed
        return " AND ".join(parts)

    def pages(self, since: datetime | None, until: datetime) -> Iterator[Page]:
        for source in self.sources:
            query = self.query(since, source.condition)
            for rows in self.client.read_by_query(source.object_type, query):
                yield Page([self.raw(row, source.object_type) for row in self.enrich(rows)])
        if since is not None:
            yield from self.deletes(since)

    def enrich(self, rows: list[Payload]) -> list[Payload]:
        return rows

    def raw(self, row: Payload, object_type: str | None = None) -> RawRecord:
        return RawRecord(
            stream=self.name,
            object_type=object_type or self.object_type,
            remote_id=str(row.get(self.id_field, "")),
            payload=row,
            modified_at=parse_timestamp(row.get("WHENMODIFIED"), self.client.config.zone),
        )

    def deletes(self, since: datetime) -> Iterator[Page]:
        """Deleted keys of every source object, from one AUDITHISTORY query.

        The audit trail does not say whether a deleted adjustment was a credit or a debit
        memo, so both adjustment streams see its key; the runtime ignores the delete of a
        key the stream never stored.
        """
        zone = self.client.config.zone
        objects = {source.audit_type: source.object_type for source in self.sources}
        quoted = [f"'{audit_type}'" for audit_type in objects]
        which = (
            f"OBJECTTYPE = {quoted[0]}"
            if len(quoted) == 1
            else f"OBJECTTYPE IN ({', '.join(quoted)})"
        )
        query = f"{which} AND ACCESSMODE = 'D' AND ACCESSTIME >= '{self._stamp(since)}'"
        for rows in self.client.read_by_query(AUDIT_OBJECT, query):
            yield Page(
                [
                    RawRecord(
                        stream=self.name,
                        object_type=objects.get(str(row.get("OBJECTTYPE", ""))) or self.object_type,
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
    sources = (Source("CUSTOMER", "customer"),)


class InvoiceStream(IntacctStream):
    """AR invoices, then debit memos (ARADJUSTMENT with a debit's sign): both are owed."""

    name = "invoices"
    object_type = "ARINVOICE"
    sources = (
        Source("ARINVOICE", "arinvoice"),
        Source("ARADJUSTMENT", "aradjustment", DEBIT_MEMOS),
        Source("ARADJUSTMENT", "aradjustment", DEBIT_MEMO_REVERSALS),
    )


class CreditMemoStream(IntacctStream):
    """AR adjustments with a credit's sign (debit memos are read by the invoices stream)."""

    name = "credit_memos"
    object_type = "ARADJUSTMENT"
    sources = (
        Source("ARADJUSTMENT", "aradjustment", CREDIT_MEMOS),
        Source("ARADJUSTMENT", "aradjustment", CREDIT_MEMO_REVERSALS),
    )


class PaymentStream(IntacctStream):
    """Payments with their applications, read per page in one ARPYMTDETAIL query.

    A detail names its payment in ``PAYMENTKEY`` (the ARPYMT's RECORDNO), as Intacct's
    ARPYMTDETAIL object defines it.
    """

    name = "payments"
    object_type = "ARPYMT"
    sources = (Source("ARPYMT", "arpayment"),)

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


STREAM_TYPES: dict[str, type[IntacctStream]] = {
    stream.name: stream
    for stream in (CustomerStream, InvoiceStream, CreditMemoStream, PaymentStream)
}
