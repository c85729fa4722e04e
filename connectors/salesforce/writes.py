"""Writing to Salesforce: sObject Collections (200 records a call) with per-record results.

* Updates by Id (``PATCH /composite/sobjects``) set absolute values (status, balance, paid
  date, AR summary), so re-sending one after a lost reply is harmless.
* Upserts by an External ID field (``PATCH /composite/sobjects/{X}/{Field}``) make creates
  idempotent: the key is fixed before the first attempt and matches on every replay.
* A call the org refuses as a whole (HTTP 400 ``[{"message", "errorCode", "fields"}]`` such
  as ``JSON_PARSER_ERROR``, or a 5xx that outlasted the retries) fails every record of that
  call with the error's classification, so the caller records it per write; credential and
  configuration failures (``INVALID_SESSION_ID`` after one refresh, ``REQUEST_LIMIT_EXCEEDED``,
  ``INVALID_FIELD``) are raised as :class:`~connectors.errors.AuthError` and stop the push.
* Conflicts: Salesforce honours ``If-Unmodified-Since`` on single-record PATCH (412 when the
  record changed). :meth:`SalesforceWriter.update_record` uses it; batched updates with
  expected versions first read ``LastModifiedDate`` for the batch in one query and hold back
  the records changed since (reported as conflicts) before sending the rest.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from email.utils import format_datetime
from typing import Any

from connectors.errors import ApiError, AuthError, ErrorKind, PartialAuthError
from connectors.salesforce.client import SalesforceClient, dumps_exact
from connectors.salesforce.soql import quote
from connectors.salesforce.streams import parse_sf_datetime
from mappings.salesforce.schema import SalesforceSchema

_ITEM_KINDS: dict[str, ErrorKind] = {
    "UNABLE_TO_LOCK_ROW": ErrorKind.RETRY,
    "ALL_OR_NONE_OPERATION_ROLLED_BACK": ErrorKind.RETRY,  # another record failed the batch
    "SERVER_UNAVAILABLE": ErrorKind.RETRY,
    "PRECONDITION_FAILED": ErrorKind.CONFLICT,
    "ENTITY_IS_DELETED": ErrorKind.NOT_FOUND,
    "INVALID_ID_FIELD": ErrorKind.NOT_FOUND,
    "INVALID_CROSS_REFERENCE_KEY": ErrorKind.NOT_FOUND,
    "INVALID_FIELD": ErrorKind.AUTH,
    "INVALID_FIELD_FOR_INSERT_UPDATE": ErrorKind.AUTH,
    "INVALID_TYPE": ErrorKind.AUTH,
    "INSUFFICIENT_ACCESS_OR_READONLY": ErrorKind.AUTH,
    "STORAGE_LIMIT_EXCEEDED": ErrorKind.AUTH,  # the org is full, not this record
}


@dataclass(frozen=True)
class WriteResult:
    """What happened to one record of a write: Salesforce's SaveResult, classified."""

    key: str  # the record Id, or the external id value of an upsert
    record_id: str | None
    success: bool
    created: bool = False
    code: str | None = None
    message: str | None = None
    fields: tuple[str, ...] = ()
    error_kind: ErrorKind | None = None  # set when the whole call failed, as classified

    @property
    def kind(self) -> ErrorKind | None:
        """How to treat a failure (retry, conflict, not found, config, data)."""
        if self.success:
            return None
        if self.error_kind is not None:
            return self.error_kind
        return _ITEM_KINDS.get(self.code or "", ErrorKind.DATA)


@dataclass(frozen=True)
class InvoiceStatus:
    """An invoice's state as arsync decided it. ``status`` is canonical (open/paid/void)."""

    record_id: str
    status: str
    balance: Decimal
    paid_date: date | None = None
    expected_version: str | None = None  # the LastModifiedDate the decision was based on


@dataclass(frozen=True)
class AccountSummary:
    """An Account's receivables summary, written to the configured AR fields."""

    record_id: str
    open_balance: Decimal
    overdue_balance: Decimal
    oldest_overdue_days: int
    aging_bucket: str
    credit_hold: bool
    expected_version: str | None = None


@dataclass
class _Batch:
    records: list[dict[str, Any]] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)


class SalesforceWriter:
    """Batched, idempotent writes for one org, in the configured objects' field names."""

    def __init__(self, client: SalesforceClient, schema: SalesforceSchema) -> None:
        self.client = client
        self.schema = schema

    @property
    def batch_size(self) -> int:
        return self.client.config.write_batch_size

    # generic -----------------------------------------------------------------------------
    def update(
        self,
        sobject: str,
        records: Sequence[Mapping[str, Any]],
        *,
        expected_versions: Mapping[str, str] | None = None,
        all_or_none: bool = False,
    ) -> list[WriteResult]:
        """Update records by ``Id``; one call per 200 (plus one read per 200 when versions
        are given). Results come back in the order of ``records``. An auth failure stops the
        loop: it is raised as a :class:`~connectors.errors.PartialAuthError` carrying the
        results of the calls answered before it (Salesforce refuses a call with a 401/403, or
        a whole-call error, before saving any record)."""
        results: dict[int, WriteResult] = {}
        indexed = list(enumerate(records))
        for chunk in _chunks(indexed, self.batch_size):
            try:
                results.update(self._update(sobject, chunk, expected_versions, all_or_none))
            except AuthError as exc:
                raise PartialAuthError(exc, [results[i] for i in range(chunk[0][0])]) from exc
        return [results[i] for i in range(len(records))]

    def _update(
        self,
        sobject: str,
        chunk: list[tuple[int, Mapping[str, Any]]],
        expected_versions: Mapping[str, str] | None,
        all_or_none: bool,
    ) -> dict[int, WriteResult]:
        """One call of :meth:`update`: index in ``records`` -> result."""
        results: dict[int, WriteResult] = {}
        sendable = chunk
        if expected_versions:
            stale = self._changed_since(sobject, [r for _, r in chunk], expected_versions)
            for index, record in chunk:
                record_id = str(record["Id"])
                if record_id in stale:
                    results[index] = WriteResult(
                        key=record_id,
                        record_id=record_id,
                        success=False,
                        code="PRECONDITION_FAILED",
                        message=f"{sobject} {record_id} was modified at {stale[record_id]} "
                        f"after the version the decision read "
                        f"({expected_versions.get(record_id)})",
                    )
            sendable = [(i, r) for i, r in chunk if str(r["Id"]) not in stale]
        if not sendable:
            return results
        body = [{"attributes": {"type": sobject}, **r} for _, r in sendable]
        try:
            saved = self.client.collection(
                "PATCH", "composite/sobjects", body, all_or_none=all_or_none
            )
        except AuthError:
            raise
        except ApiError as exc:
            for index, record in sendable:
                results[index] = _call_failed(str(record["Id"]), str(record["Id"]), exc)
            return results
        for (index, record), item in zip(sendable, saved, strict=True):
            results[index] = _result(str(record["Id"]), item)
        return results

    def upsert(
        self,
        sobject: str,
        external_id_field: str,
        records: Sequence[Mapping[str, Any]],
        *,
        all_or_none: bool = False,
    ) -> list[WriteResult]:
        """Create-or-update by an External ID field: replaying the same records is a no-op."""
        out: list[WriteResult] = []
        for chunk in _chunks(list(records), self.batch_size):
            body = [{"attributes": {"type": sobject}, **r} for r in chunk]
            try:
                saved = self.client.collection(
                    "PATCH",
                    f"composite/sobjects/{sobject}/{external_id_field}",
                    body,
                    all_or_none=all_or_none,
                )
            except AuthError as exc:
                raise PartialAuthError(exc, out) from exc
            except ApiError as exc:
                out.extend(_call_failed(str(r.get(external_id_field)), None, exc) for r in chunk)
                continue
            for record, item in zip(chunk, saved, strict=True):
                out.append(_result(str(record.get(external_id_field)), item))
        return out

    def update_record(
        self,
        sobject: str,
        record_id: str,
        values: Mapping[str, Any],
        *,
        if_unmodified_since: datetime | None = None,
    ) -> None:
        """One record via sObject Rows; a record changed after the given time raises
        :class:`~connectors.errors.ConflictError` (HTTP 412)."""
        headers = {}
        if if_unmodified_since is not None:
            headers["If-Unmodified-Since"] = format_datetime(if_unmodified_since, usegmt=True)
        self.client.sf.restful(
            f"sobjects/{sobject}/{record_id}",
            method="PATCH",
            data=dumps_exact(dict(values)),
            headers=headers,
        )

    # receivables -------------------------------------------------------------------------
    def invoice_statuses(
        self, updates: Sequence[InvoiceStatus], *, all_or_none: bool = False
    ) -> list[WriteResult]:
        """Write status, balance and paid date of invoices (fields per the schema: the balance
        to ``push_balance`` where set, never to a calculated one, the status only when
        ``push_status``)."""
        spec = self.schema.invoice
        records = []
        balance_field = spec.pushed_balance()  # None: the org calculates it, never written
        for update in updates:
            values: dict[str, Any] = {"Id": update.record_id}
            if balance_field:
                values[balance_field] = update.balance
            if spec.status and spec.push_status:
                values[spec.status] = wire_status(spec.status_map, update.status)
            if spec.paid_date:
                values[spec.paid_date] = update.paid_date
            records.append(values)
        versions = {u.record_id: u.expected_version for u in updates if u.expected_version}
        return self.update(
            spec.sobject, records, expected_versions=versions or None, all_or_none=all_or_none
        )

    def account_summaries(
        self, updates: Sequence[AccountSummary], *, all_or_none: bool = False
    ) -> list[WriteResult]:
        """Write the AR summary fields of Accounts (only the fields the schema configures)."""
        spec = self.schema.account
        records = []
        for update in updates:
            values: dict[str, Any] = {"Id": update.record_id}
            for attr in (
                "open_balance",
                "overdue_balance",
                "oldest_overdue_days",
                "aging_bucket",
                "credit_hold",
            ):
                name = spec.field(attr)
                if name:
                    values[name] = getattr(update, attr)
            records.append(values)
        versions = {u.record_id: u.expected_version for u in updates if u.expected_version}
        return self.update(
            spec.sobject, records, expected_versions=versions or None, all_or_none=all_or_none
        )

    # helpers -----------------------------------------------------------------------------
    def _changed_since(
        self,
        sobject: str,
        records: Sequence[Mapping[str, Any]],
        expected: Mapping[str, str],
    ) -> dict[str, str]:
        """Ids (-> current LastModifiedDate) of records modified after their expected one."""
        ids = [str(r["Id"]) for r in records if str(r["Id"]) in expected]
        if not ids:
            return {}
        soql = (
            f"SELECT Id, LastModifiedDate FROM {sobject} "
            f"WHERE Id IN ({', '.join(quote(i) for i in ids)})"
        )
        current: dict[str, str] = {}
        for page in self.client.query_pages(soql):
            for row in page:
                current[str(row["Id"])] = str(row["LastModifiedDate"])
        stale: dict[str, str] = {}
        for record_id in ids:
            now = parse_sf_datetime(current.get(record_id))
            then = parse_sf_datetime(expected[record_id])
            if now is not None and then is not None and now > then:
                stale[record_id] = current[record_id]
        return stale


def wire_status(status_map: Mapping[str, str], canonical: str) -> str:
    """The picklist value for a canonical status: the first configured one that maps to it;
    ``paid`` falls back to the ``open`` value where the org derives paid from the balance."""
    for wire, value in status_map.items():
        if value == canonical:
            return wire
    if canonical == "paid":
        return wire_status(status_map, "open")
    raise ValueError(f"no picklist value is configured for status {canonical!r}")


def _result(key: str, item: Mapping[str, Any]) -> WriteResult:
    """One SaveResult, classified by its first error's code; the message and fields cover
    every error of the record (two validation rules can refuse it at once)."""
    errors = [e for e in item.get("errors") or [] if isinstance(e, Mapping)]
    first = errors[0] if errors else {}
    message = first.get("message")
    fields = list(dict.fromkeys(str(f) for e in errors for f in e.get("fields") or ()))
    for extra in errors[1:]:
        named = ", ".join(str(f) for f in extra.get("fields") or ())
        text = f"{extra.get('statusCode')}: {extra.get('message')}"
        message = f"{message}; {text}" + (f" (fields: {named})" if named else "")
    return WriteResult(
        key=key,
        record_id=str(item["id"]) if item.get("id") else None,
        success=bool(item.get("success")),
        created=bool(item.get("created", False)),
        code=first.get("statusCode"),
        message=message,
        fields=tuple(fields),
    )


def _call_failed(key: str, record_id: str | None, exc: ApiError) -> WriteResult:
    """A record of a call that failed as a whole: the call's error, as classified."""
    return WriteResult(
        key=key,
        record_id=record_id,
        success=False,
        code=exc.code,
        message=exc.message,
        error_kind=exc.kind,
    )


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
