"""Writes to QuickBooks Online: payments applied to invoices and credit memos, sparse updates.

Everything goes through ``POST /batch`` (at most 30 ``BatchItemRequest`` items per request),
each request carrying ``?requestid=``: QBO answers a repeated requestid with the first reply
instead of writing again (Intuit: at most 36 characters for a batch, and then at most 10 per
``bId``). The requestid is derived from the ordered wire keys of the items (and the
SyncToken an update or delete is based on), so re-sending the same items in the same groups (as
an outbox replay does) is safe. A write's wire key is its key until QBO refuses an attempt of
it; the retry of a refused write goes with another (``wire_key``), or QBO would answer it with
the refusal again. Each payment also carries its key in ``PrivateNote`` so
:meth:`QuickBooksWriter.landed` can find, before a retry with different grouping, which
payments already exist. A batch whose outcome is unknown (no reply, 5xx after the retries)
comes back as :class:`~connectors.errors.UncertainWriteError` per item, so the outbox reads
before it resends.

A Payment or CreditMemo in a foreign currency goes with ``ExchangeRate`` (home-currency units
per unit of it): QuickBooks' own rate of its date (``GET /exchangerate``) unless the write
carries one. QBO books a foreign-currency transaction created without it at 1.

Field limits (Intuit's Payment and CreditMemo references): ``PaymentRefNum`` 21 characters,
``PrivateNote`` and a line's ``Description`` 4000; longer text is cut, never refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from connectors.errors import (
    ERROR_CLASSES,
    ApiError,
    AuthError,
    ErrorKind,
    PartialAuthError,
    ReplayedFaultError,
    UncertainWriteError,
    share_of_failed_call,
)
from connectors.quickbooks.auth import SYSTEM
from connectors.quickbooks.client import Payload, QuickBooksClient, qbo_timestamp
from connectors.quickbooks.errors import ERROR_TABLE, fault_of, fault_pairs

BATCH_LIMIT = 30
KEY_TAG = "arsync:"
REQUEST_ID_MAX = 36  # a batch's requestid (50 for single-object requests)
BID_MAX = 10  # a BatchItemRequest bId when a requestid is given
PAYMENT_REF_MAX = 21  # Payment.PaymentRefNum
NOTE_MAX = 4000  # PrivateNote, and Line.Description
VOID_NOTE = "Voided"  # what QBO puts before the PrivateNote of a voided transaction


def _cut(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters (QBO refuses longer strings with error 2050)."""
    return text if len(text) <= limit else text[:limit]


def _note(key: str, memo: str | None) -> str:
    """The PrivateNote carrying the idempotency key first, so a cut never loses it."""
    return _cut(f"{KEY_TAG}{key}" + (f" {memo}" if memo else ""), NOTE_MAX)


@dataclass(frozen=True)
class PaymentLine:
    """Part of a payment: cash applied to an invoice, or credit taken from a credit memo."""

    txn_type: Literal["Invoice", "CreditMemo"]
    txn_id: str
    amount: Decimal


@dataclass(frozen=True)
class PaymentCreate:
    """A new Payment. ``total`` is the cash received; zero when only credit is applied."""

    key: str  # the outbox idempotency key, fixed before the first attempt
    customer_id: str
    total: Decimal
    lines: tuple[PaymentLine, ...]
    currency: str | None = None
    txn_date: date | None = None
    reference: str | None = None  # PaymentRefNum: check or wire reference
    memo: str | None = None
    # home-currency units per unit of ``currency``; None: QuickBooks' own rate of the date,
    # looked up by the writer (QBO books a foreign-currency transaction sent without one at 1)
    exchange_rate: Decimal | None = None
    wire_key: str | None = None  # what the requestid is made of, when not ``key``

    entity = "Payment"
    operation = "create"

    def body(self) -> Payload:
        payload: Payload = {
            "CustomerRef": {"value": self.customer_id},
            "TotalAmt": self.total,
            "Line": [
                {
                    "Amount": line.amount,
                    "LinkedTxn": [{"TxnId": line.txn_id, "TxnType": line.txn_type}],
                }
                for line in self.lines
            ],
            "PrivateNote": _note(self.key, self.memo),
        }
        if self.currency:
            payload["CurrencyRef"] = {"value": self.currency}
        if self.exchange_rate is not None:
            payload["ExchangeRate"] = self.exchange_rate
        if self.txn_date:
            payload["TxnDate"] = self.txn_date.isoformat()
        reference = (self.reference or "").strip()
        if reference:
            payload["PaymentRefNum"] = _cut(reference, PAYMENT_REF_MAX)
        return payload


def credit_memo_application(
    key: str,
    customer_id: str,
    invoice_id: str,
    credit_memo_id: str,
    amount: Decimal,
    *,
    currency: str | None = None,
    txn_date: date | None = None,
    wire_key: str | None = None,
) -> PaymentCreate:
    """A credit memo applied to an invoice: QBO's zero-total Payment linking both."""
    return PaymentCreate(
        key=key,
        wire_key=wire_key,
        customer_id=customer_id,
        total=amount * 0,  # zero at the amount's exponent: 0.00 USD, 0 JPY
        lines=(
            PaymentLine("Invoice", invoice_id, amount),
            PaymentLine("CreditMemo", credit_memo_id, amount),
        ),
        currency=currency,
        txn_date=txn_date,
    )


@dataclass(frozen=True)
class CreditMemoCreate:
    """A credit memo for a deduction or write-off, on the configured write-off item."""

    key: str
    customer_id: str
    amount: Decimal
    item_id: str
    currency: str | None = None
    txn_date: date | None = None
    memo: str | None = None  # the reason, shown on the credit memo
    exchange_rate: Decimal | None = None  # as PaymentCreate's
    wire_key: str | None = None  # as PaymentCreate's

    entity = "CreditMemo"
    operation = "create"

    def body(self) -> Payload:
        payload: Payload = {
            "CustomerRef": {"value": self.customer_id},
            "Line": [
                {
                    "Amount": self.amount,
                    "DetailType": "SalesItemLineDetail",
                    "Description": _cut(self.memo or "Write-off", NOTE_MAX),
                    "SalesItemLineDetail": {
                        "ItemRef": {"value": self.item_id},
                        "Qty": 1,
                        "UnitPrice": self.amount,
                    },
                }
            ],
            "PrivateNote": _note(self.key, self.memo),
        }
        if self.currency:
            payload["CurrencyRef"] = {"value": self.currency}
        if self.exchange_rate is not None:
            payload["ExchangeRate"] = self.exchange_rate
        if self.txn_date:
            payload["TxnDate"] = self.txn_date.isoformat()
        return payload


@dataclass(frozen=True)
class SparseUpdate:
    """Change only ``fields`` of an object; refused with 5010 if ``sync_token`` is stale."""

    key: str
    entity: Literal["Customer", "Invoice", "CreditMemo", "Payment"]
    remote_id: str
    sync_token: str
    fields: dict[str, Any] = field(default_factory=dict)
    wire_key: str | None = None  # as PaymentCreate's

    operation = "update"

    def body(self) -> Payload:
        return {**self.fields, "Id": self.remote_id, "SyncToken": self.sync_token, "sparse": True}


@dataclass(frozen=True)
class PaymentDelete:
    """Delete a payment (its applications are given back to the invoices)."""

    key: str
    remote_id: str
    sync_token: str
    wire_key: str | None = None  # as PaymentCreate's

    entity = "Payment"
    operation = "delete"

    def body(self) -> Payload:
        return {"Id": self.remote_id, "SyncToken": self.sync_token}


@dataclass(frozen=True)
class PaymentVoid:
    """Void a payment: Intuit documents it as a sparse update with ``include=void``
    (``POST /payment?operation=update&include=void`` with ``Id``, ``SyncToken`` and
    ``"sparse": true``). QBO keeps the record with its amounts zeroed and "Voided" put before
    its PrivateNote; what the payment applied is owed on the invoices again. Sent on its own
    (not in a batch), keyed by a requestid like every other write."""

    key: str
    remote_id: str
    sync_token: str
    wire_key: str | None = None  # as PaymentCreate's

    entity = "Payment"
    operation = "void"

    def body(self) -> Payload:
        return {"Id": self.remote_id, "SyncToken": self.sync_token, "sparse": True}


def is_voided(payment: Payload) -> bool:
    """A payment QBO has voided: zero total and "Voided" before its PrivateNote."""
    note = payment.get("PrivateNote")
    total = payment.get("TotalAmt")
    return (
        isinstance(note, str)
        and note.startswith(VOID_NOTE)
        and total is not None
        and Decimal(str(total)) == 0
    )


Write = PaymentCreate | CreditMemoCreate | SparseUpdate | PaymentDelete | PaymentVoid


@dataclass(frozen=True)
class WriteResult:
    """The outcome of one write: the object QBO returned, or the error for that item."""

    key: str
    entity: str
    record: Payload | None = None
    error: ApiError | None = None
    sent: bool = True  # False: refused before it was sent (no exchange rate), QBO saw nothing

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def remote_id(self) -> str | None:
        return str(self.record["Id"]) if self.record and "Id" in self.record else None

    @property
    def remote_version(self) -> str | None:
        token = self.record.get("SyncToken") if self.record else None
        return str(token) if token is not None else None


def _request_part(write: Write) -> str:
    """What identifies one item of a batch: its wire key (its key until QBO refused an
    attempt of it: the same requestid would only be answered with the first, refused,
    reply), and for an update or delete the SyncToken it is based on (a retry after a
    stale-token refusal is a new request for the same reason)."""
    key = write.wire_key or write.key
    token = getattr(write, "sync_token", None)
    return key if token is None else f"{key}@{token}"


def batch_request_id(writes: Sequence[Write]) -> str:
    """The requestid of one batch: stable for the same items in the same order."""
    raw = "\x1f".join(_request_part(w) for w in writes)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:REQUEST_ID_MAX]


def chunks(writes: Sequence[Write], size: int = BATCH_LIMIT) -> Iterator[Sequence[Write]]:
    for start in range(0, len(writes), size):
        yield writes[start : start + size]


def item_error(write: Write, fault: Payload) -> ApiError:
    """The ApiError of one batch item's Fault, classified by the QBO error table."""
    pairs = fault_pairs(fault)
    codes = [code for code, _ in pairs]
    kind = next(
        (rule.kind for rule in ERROR_TABLE.rules if rule.matches(400, codes)), ErrorKind.DATA
    )
    if kind is ErrorKind.REFRESH:  # no refresh happens per item: an auth failure, as the layer
        kind = ErrorKind.AUTH
    message = "; ".join(text for _, text in pairs if text) or "batch item failed"
    where = f"{write.entity} {getattr(write, 'remote_id', '') or write.key}".strip()
    if kind is ErrorKind.RETRY:
        # a SystemFault answered for this item says nothing of whether it was saved, and its
        # requestid now replays it: looked for, then sent under a requestid of its own
        return ReplayedFaultError(
            SYSTEM,
            f"{write.operation} {where}: {message}: outcome unknown (looked for before it is "
            "sent again)",
            code=codes[0] if codes else None,
        )
    return ERROR_CLASSES[kind](
        SYSTEM, f"{write.operation} {where}: {message}", kind=kind, code=codes[0] if codes else None
    )


class _PreferencesUnread(ApiError):
    """The company's Preferences could not be read, so whether a write needs a rate is
    unknown; ``cause`` is the read's own error."""

    def __init__(self, cause: ApiError) -> None:
        super().__init__(SYSTEM, f"read Preferences: {cause.message}", kind=cause.kind)
        self.cause = cause


class QuickBooksWriter:
    """Sends writes in batches of 30 with a requestid per batch."""

    def __init__(self, client: QuickBooksClient) -> None:
        self.client = client
        # read at most once per write() call: a company may turn multicurrency on, and
        # QuickBooks' rate of today changes, while a server runs
        self._home: tuple[str | None] | ApiError | None = None
        self._rates: dict[tuple[str, date | None], Decimal] = {}

    def _home_currency(self) -> str | None:
        """The company's home currency when multicurrency is on (None when it is off: then
        every amount is in the home currency and no rate applies). Preferences that cannot
        be read raise :class:`_PreferencesUnread`, once per call."""
        if isinstance(self._home, ApiError):
            raise _PreferencesUnread(self._home)
        if self._home is None:
            try:
                prefs = self.client.preferences().get("CurrencyPrefs") or {}
            except AuthError:
                raise
            except ApiError as exc:
                self._home = exc
                raise _PreferencesUnread(exc) from exc
            home = (prefs.get("HomeCurrency") or {}).get("value")
            on = prefs.get("MultiCurrencyEnabled") in (True, "true")
            self._home = (str(home).strip().upper() if on and home else None,)
        return self._home[0]

    def _priced(self, write: Write) -> Write:
        """``write`` with QuickBooks' exchange rate of its date when it is a create in a
        foreign currency sent without one (QBO would book it at 1)."""
        if not isinstance(write, PaymentCreate | CreditMemoCreate):
            return write
        if write.exchange_rate is not None or not write.currency:
            return write
        currency = write.currency.strip().upper()
        home = self._home_currency()
        if home is None or currency == home:
            return write
        key = (currency, write.txn_date)
        if key not in self._rates:
            self._rates[key] = self.client.exchange_rate(currency, write.txn_date)
        return replace(write, exchange_rate=self._rates[key])

    def _unpriced(self, write: Write, exc: ApiError) -> WriteResult:
        """The result of a write whose exchange rate could not be read: nothing was sent."""
        currency = getattr(write, "currency", None)
        day = getattr(write, "txn_date", None)
        when = day.isoformat() if day else "today"
        unread = isinstance(exc, _PreferencesUnread)
        cause = exc.cause if isinstance(exc, _PreferencesUnread) else exc
        transient = cause.kind in (ErrorKind.RETRY, ErrorKind.RATE_LIMITED)
        kind = cause.kind if transient or unread else ErrorKind.DATA
        what = f"{write.operation} {write.entity} {write.key}"
        message = (
            f"{what}: not sent: the company's Preferences (home currency, multicurrency) could "
            f"not be read ({cause.message})"
            if unread
            else f"{what}: no {currency} exchange rate for {when} from QuickBooks "
            f"({cause.message}); add one in QuickBooks (Settings > Currencies) or check the "
            "currency"
        )
        error = ERROR_CLASSES[kind](
            SYSTEM, message, kind=kind, code=cause.code, retry_after=cause.retry_after
        )
        return WriteResult(write.key, write.entity, error=error, sent=False)

    def write(self, writes: Sequence[Write]) -> list[WriteResult]:
        """Send ``writes`` in order, 30 per request; one result per write, same order.

        An auth failure stops the loop: it is raised as a
        :class:`~connectors.errors.PartialAuthError` carrying the results of the batches
        answered before it (QBO refuses a request with a 401/403 before running any item)."""
        keys = [w.key for w in writes]
        if len(set(keys)) != len(keys):
            raise ValueError("quickbooks: each write needs its own idempotency key")
        results: list[WriteResult] = []
        self._home, self._rates = None, {}
        for group in chunks(writes):
            try:
                results.extend(self._send(group))
            except AuthError as exc:
                raise PartialAuthError(exc, results) from exc
        return results

    def void(self, write: PaymentVoid) -> WriteResult:
        """Void one payment (its own request, ``requestid`` from its key and SyncToken: a
        resend after a lost reply gets the first answer)."""
        try:
            reply = self.client.post(
                "payment",
                write.body(),
                request_id=batch_request_id([write]),
                params={"operation": "update", "include": "void"},
            )
        except AuthError:
            raise
        except ApiError as exc:
            where = f"void Payment {write.remote_id}"
            return WriteResult(write.key, write.entity, error=share_of_failed_call(exc, where))
        fault = fault_of(reply)
        if fault is not None:
            return WriteResult(write.key, write.entity, error=item_error(write, fault))
        record = reply.get(write.entity)
        return WriteResult(
            write.key, write.entity, record=record if isinstance(record, dict) else None
        )

    def _send(self, group: Sequence[Write]) -> list[WriteResult]:
        unsent: dict[int, WriteResult] = {}
        ready: list[tuple[int, Write]] = []
        for index, w in enumerate(group):
            try:
                ready.append((index, self._priced(w)))
            except AuthError:
                raise
            except ApiError as exc:  # this write cannot go; the others do
                unsent[index] = self._unpriced(w, exc)
        if not ready:
            return [unsent[index] for index in range(len(group))]
        items = [
            {"bId": f"b{index}", "operation": w.operation, w.entity: w.body()} for index, w in ready
        ]
        try:
            reply = self.client.post(
                "batch",
                {"BatchItemRequest": items},
                request_id=batch_request_id([w for _, w in ready]),
            )
        except AuthError:
            raise
        except ApiError as exc:
            return [
                unsent.get(index)
                or WriteResult(
                    w.key,
                    w.entity,
                    error=share_of_failed_call(exc, f"{w.operation} {w.entity} {w.key}"),
                )
                for index, w in enumerate(group)
            ]
        answers = {
            str(answer.get("bId")): answer
            for answer in reply.get("BatchItemResponse") or []
            if isinstance(answer, dict)
        }
        results: list[WriteResult] = []
        for index, w in enumerate(group):
            if index in unsent:
                results.append(unsent[index])
                continue
            answer = answers.get(f"b{index}")
            if answer is None:
                # QBO ran the batch and did not say what became of this item: it may be written
                error = UncertainWriteError(
                    SYSTEM, f"batch reply has no answer for {w.entity} {w.key}: outcome unknown"
                )
                results.append(WriteResult(w.key, w.entity, error=error))
                continue
            fault = fault_of(answer)
            if fault is not None:
                results.append(WriteResult(w.key, w.entity, error=item_error(w, fault)))
                continue
            record = answer.get(w.entity)
            results.append(
                WriteResult(w.key, w.entity, record=record if isinstance(record, dict) else None)
            )
        return results

    def landed(self, keys: Sequence[str], since: datetime) -> dict[str, str]:
        """Payments and credit memos created since ``since`` carrying one of ``keys`` in their
        ``PrivateNote``: key -> Id.

        For read-before-retry when a batch's reply was lost and its items are regrouped.
        """
        wanted = set(keys)
        found: dict[str, str] = {}
        condition = (f"MetaData.CreateTime >= '{qbo_timestamp(since)}'",)
        for entity in ("Payment", "CreditMemo"):
            for rows in self.client.query_pages(entity, None, condition):
                for row in rows:
                    note = row.get("PrivateNote")
                    # a payment voided since (by hand too) reads "Voided - arsync:KEY ...": it
                    # landed, and is never written again over the person's void
                    text = note.removeprefix(f"{VOID_NOTE} - ") if isinstance(note, str) else ""
                    if text.startswith(KEY_TAG):
                        key = text[len(KEY_TAG) :].split(" ", 1)[0]
                        if key in wanted:
                            found[key] = str(row.get("Id"))
            if wanted <= found.keys():
                break
        return found
