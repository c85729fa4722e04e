"""Writes to Sage Intacct: AR payments, credit adjustments, and applying credits.

* :class:`ArPaymentCreate`: ``create`` of an ``ARPYMT`` whose ``ARPYMTDETAIL`` lines pay
  invoices with cash (``RECORDKEY`` + ``TRX_PAYMENTAMOUNT``) or with a credit adjustment
  (``ADJUSTMENTKEY`` + ``TRX_ADJUSTMENTAMOUNT``); cash received beyond what the lines pay
  goes in ``OVERPAYMENTAMOUNT`` (Intacct keeps it on the payment as an overpayment, a
  credit applied later by ``OVERPAYMENTKEY``), so the payment is the whole deposit.
* :class:`AdjustmentCreate`: ``create_aradjustment`` (the documented way to create an AR
  adjustment; the object API has no ``create`` of ``ARADJUSTMENT``): a credit memo (a
  negative line amount) on the configured write-off GL account, for a deduction. Legacy
  functions are validated against Intacct's DTD, so elements go in the documented order.
* :class:`PaymentReverse`: legacy ``reverse_arpayment`` (``key`` attribute = the ARPYMT's
  RECORDNO, ``datereversed{year, month, day}``, ``description``): reverses a posted AR
  payment, so what it paid is due on the invoices again.
* :class:`CreditApply`: legacy ``apply_arpayment`` with the adjustment as ``arpaymentkey``,
  applying an existing credit to invoices. It creates no record that carries the key, so a
  lost reply cannot be looked up: the outbox applies credits through ARPYMT instead.

Several functions go in one request (``write_batch_size``), each ``<function controlid>``
being the write's idempotency key, answered one result each; a failed function fails only
its own write. Requests go with ``<uniqueid>true</uniqueid>``: Intacct then checks each
*function's* ``controlid`` and refuses one that was already executed and completed ("A
successful transaction has already been recorded with the control id ...") as a failure of
that function, while the others of the request run (the request's own ``<controlid>`` is
not checked for uniqueness). Such an answer means the write is already done: its record is
found by the key each create carries in its ``DESCRIPTION`` (:meth:`IntacctWriter.landed`).
See https://developer.intacct.com/web-services/requests/ (uniqueid, controlid attribute)
and https://developer.intacct.com/web-services/error-handling/.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from lxml import etree

from canonical.money import exact_amount
from connectors.errors import (
    ERROR_CLASSES,
    ApiError,
    AuthError,
    DataError,
    ErrorKind,
    PartialAuthError,
    ReplayedFaultError,
    UncertainWriteError,
    answered_before,
    share_of_failed_call,
)
from connectors.intacct.client import IntacctClient
from connectors.intacct.errors import ERROR_TABLE, duplicate_control, error_pairs
from connectors.intacct.xmlwire import Element, render_date, render_timestamp, sub

SYSTEM = "intacct"
KEY_TAG = "arsync:"
DOCNUMBER_MAX = 45  # ARPYMT reference number (check/transaction number)
MEMO_MAX = 1000
# a function refused because its controlid already ran (uniqueid true); Intacct's wording
# is "A successful transaction has already been recorded with the control id <id>"
_ALREADY_DONE = ("already been recorded", "already been processed", "already processed")


def _money(value: Decimal, currency: str | None) -> str:
    """An amount as Intacct reads it: at its currency's decimals, in plain notation."""
    return f"{exact_amount(value, currency):f}"


@dataclass(frozen=True)
class PaymentLine:
    """Part of a payment: cash applied to one invoice (its RECORDNO), or, with
    ``adjustment_key``, credit from that ARADJUSTMENT applied to it. A debit memo (an
    ARADJUSTMENT the customer owes) is named in ``POSADJKEY`` instead of ``RECORDKEY``."""

    invoice_key: str
    amount: Decimal
    adjustment_key: str | None = None
    debit_memo: bool = False


@dataclass(frozen=True)
class ArPaymentCreate:
    """A new AR payment applied to invoices. ``overpayment`` is the cash received that the
    lines do not apply: it goes in ``OVERPAYMENTAMOUNT``, so the ARPYMT records the whole
    deposit and Intacct holds the rest as the customer's overpayment (ARPYMT creates no
    *advance*, a payment with nothing applied, which is ARADVANCE's; an overpayment beside
    applied lines is the payment's own)."""

    key: str
    customer_id: str
    received_on: date
    lines: tuple[PaymentLine, ...]
    currency: str | None = None
    reference: str | None = None
    overpayment: Decimal = Decimal(0)

    function = "create"

    def body(self, config_fields: dict[str, str]) -> Element:
        """``<ARPYMT>`` in the documented field order (FINANCIALENTITY or
        UNDEPOSITEDACCOUNTNO, PAYMENTMETHOD, CUSTOMERID, DOCNUMBER, DESCRIPTION, RECEIPTDATE,
        PAYMENTDATE, CURRENCY, OVERPAYMENTAMOUNT, ARPYMTDETAILS); CURRENCY is required by
        ``create``."""
        if not self.currency:
            raise ValueError(f"ARPYMT {self.key}: CURRENCY is required")
        if self.overpayment < 0:
            raise ValueError(f"ARPYMT {self.key}: the overpayment cannot be negative")
        if not self.lines:
            raise ValueError(f"ARPYMT {self.key}: ARPYMTDETAILS needs at least one detail")
        pymt = etree.Element("ARPYMT")
        for name, value in config_fields.items():
            sub(pymt, name, value)
        sub(pymt, "CUSTOMERID", self.customer_id)
        reference = _clean(self.reference, DOCNUMBER_MAX)
        if reference:
            sub(pymt, "DOCNUMBER", reference)
        sub(pymt, "DESCRIPTION", f"{KEY_TAG}{self.key}")
        sub(pymt, "RECEIPTDATE", render_date(self.received_on))
        sub(pymt, "PAYMENTDATE", render_date(self.received_on))
        sub(pymt, "CURRENCY", self.currency)
        if self.overpayment > 0:
            sub(pymt, "OVERPAYMENTAMOUNT", _money(self.overpayment, self.currency))
        details = sub(pymt, "ARPYMTDETAILS")
        for line in self.lines:
            detail = sub(details, "ARPYMTDETAIL")
            sub(detail, "POSADJKEY" if line.debit_memo else "RECORDKEY", line.invoice_key)
            if line.adjustment_key:
                sub(detail, "ADJUSTMENTKEY", line.adjustment_key)
                sub(detail, "TRX_ADJUSTMENTAMOUNT", _money(line.amount, self.currency))
            else:
                sub(detail, "TRX_PAYMENTAMOUNT", _money(line.amount, self.currency))
        return pymt


@dataclass(frozen=True)
class AdjustmentCreate:
    """A credit adjustment (credit memo) for a deduction, on the write-off GL account:
    legacy ``create_aradjustment``, whose line ``amount`` is negative for a credit memo."""

    key: str
    customer_id: str
    amount: Decimal
    on: date
    reason: str
    currency: str | None = None

    function = "create_aradjustment"

    def body(self, gl_account: str) -> Element:
        """``create_aradjustment`` in DTD order: customerid, datecreated{year, month, day},
        description, currency, aradjustmentitems/lineitem{glaccountno, amount, memo}."""
        if self.amount <= 0:
            raise ValueError(f"adjustment {self.key}: the amount to credit must be positive")
        adjustment = etree.Element("create_aradjustment")
        sub(adjustment, "customerid", self.customer_id)
        _split_date(sub(adjustment, "datecreated"), self.on)
        sub(adjustment, "description", f"{KEY_TAG}{self.key}")
        if self.currency:
            sub(adjustment, "currency", self.currency)
        items = sub(adjustment, "aradjustmentitems")
        line = sub(items, "lineitem")
        sub(line, "glaccountno", gl_account)
        # negative: a credit to the customer
        sub(line, "amount", _money(-self.amount, self.currency))
        memo = _clean(self.reason, MEMO_MAX)
        if memo:
            sub(line, "memo", memo)
        return adjustment


@dataclass(frozen=True)
class CreditApply:
    """An existing credit adjustment applied to invoices (legacy ``apply_arpayment``)."""

    key: str
    adjustment_key: str
    lines: tuple[PaymentLine, ...]
    applied_on: date
    currency: str | None = None  # the documents' currency: only sets the amounts' decimals

    function = "apply_arpayment"

    def body(self) -> Element:
        apply = etree.Element("apply_arpayment")
        sub(apply, "arpaymentkey", self.adjustment_key)
        _split_date(sub(apply, "paymentdate"), self.applied_on)
        items = sub(apply, "arpaymentitems")
        for line in self.lines:
            item = sub(items, "arpaymentitem")
            sub(item, "invoicekey", line.invoice_key)
            sub(item, "amount", _money(line.amount, self.currency))
        return apply


@dataclass(frozen=True)
class PaymentReverse:
    """Reverse a posted AR payment (legacy ``reverse_arpayment``, as Sage Intacct's SDKs
    write it): the payment stays, reversed, and its applications are undone."""

    key: str
    payment_key: str  # the ARPYMT's RECORDNO
    on: date
    memo: str | None = None

    function = "reverse_arpayment"

    def body(self) -> Element:
        reverse = etree.Element("reverse_arpayment", key=self.payment_key)
        _split_date(sub(reverse, "datereversed"), self.on)
        memo = _clean(self.memo, MEMO_MAX)
        if memo:
            sub(reverse, "description", memo)
        return reverse


REVERSED_STATES = ("Reversed", "Voided")  # an ARPYMT's STATE once reversed


Write = ArPaymentCreate | AdjustmentCreate | CreditApply | PaymentReverse


@dataclass(frozen=True)
class WriteResult:
    key: str
    remote_id: str | None = None
    error: ApiError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def request_control_id(writes: Sequence[Write]) -> str:
    """The control id of one request: the same for the same writes in the same order."""
    return hashlib.sha256("\x1f".join(w.key for w in writes).encode("utf-8")).hexdigest()[:32]


class IntacctWriter:
    """Sends writes several functions per request and reads back each function's result."""

    def __init__(self, client: IntacctClient) -> None:
        self.client = client
        self.config = client.config

    def write(self, writes: Sequence[Write]) -> list[WriteResult]:
        """Send ``writes``, ``write_batch_size`` functions per request; one result per write.

        An auth failure stops the loop: it is raised as a
        :class:`~connectors.errors.PartialAuthError` carrying the results of the requests
        answered before it. Intacct checks the sender and the session before running any
        function, so the request it refused ran nothing."""
        keys = [w.key for w in writes]
        if len(set(keys)) != len(keys):
            raise ValueError("intacct: each write needs its own idempotency key")
        results: list[WriteResult] = []
        size = self.config.write_batch_size
        for start in range(0, len(writes), size):
            try:
                results.extend(self._send(writes[start : start + size]))
            except AuthError as exc:
                # a request answered whose follow-up read was refused carries its results
                raise PartialAuthError(exc, results + answered_before(exc)) from exc
            except ApiError as exc:
                if not results:
                    raise  # nothing answered yet: the whole call shares the failure
                # the requests answered before stay answered; this one and the rest share
                # its failure (uncertain after no reply, refused otherwise)
                results.extend(
                    WriteResult(w.key, error=share_of_failed_call(exc, f"function {w.key}"))
                    for w in writes[start:]
                )
                break
        return results

    def _function(self, write: Write) -> Element:
        """``<function controlid="<key>">`` holding the write; ValueError when it cannot be
        built (a missing setting or value)."""
        wrapper = etree.Element("function", controlid=write.key)
        if isinstance(write, ArPaymentCreate):
            fields: dict[str, str] = {}
            if self.config.deposit_account:
                fields["FINANCIALENTITY"] = self.config.deposit_account
            elif self.config.undeposited_account:
                fields["UNDEPOSITEDACCOUNTNO"] = self.config.undeposited_account
            else:
                raise ValueError(
                    "config error: intacct.deposit_account (or undeposited_account) is not set"
                )
            fields["PAYMENTMETHOD"] = self.config.payment_method
            sub(wrapper, "create").append(write.body(fields))
        elif isinstance(write, AdjustmentCreate):
            if not self.config.write_off_account:
                raise ValueError("config error: intacct.write_off_account is not set")
            wrapper.append(write.body(self.config.write_off_account))
        else:
            wrapper.append(write.body())
        return wrapper

    def _send(self, group: Sequence[Write]) -> list[WriteResult]:
        refused: dict[str, WriteResult] = {}
        functions: list[Element] = []
        sendable: list[Write] = []
        for write in group:
            try:
                functions.append(self._function(write))
            except ValueError as exc:  # nothing to send: this write fails, the others go
                error = DataError(SYSTEM, f"{write.function} {write.key}: {exc}")
                refused[write.key] = WriteResult(write.key, error=error)
                continue
            sendable.append(write)
        try:
            answered = self._call(sendable, functions) if sendable else {}
        except AuthError as exc:
            ran = {r.key: r for r in answered_before(exc)}
            if not ran:
                raise
            raise PartialAuthError(exc, [refused.get(w.key) or ran[w.key] for w in group]) from exc
        return [refused.get(w.key) or answered[w.key] for w in group]

    def _call(self, group: Sequence[Write], functions: Sequence[Element]) -> dict[str, WriteResult]:
        """Send one request; each write's result. An auth failure after Intacct answered (when
        looking for writes it says already ran) is a PartialAuthError with every write's."""
        root = self.client.call(
            functions, control_id=request_control_id(group), unique=True, raise_for_error=False
        )
        if (root.findtext("control/status") or "").strip() == "failure":
            pairs = error_pairs(root)
            if duplicate_control(pairs) or _already_done(pairs):
                # refused at the control level: nothing ran now, and what the first run of
                # this request did is not said function by function
                return {r.key: r for r in self._already_processed(group, whole_request=True)}
            raise ApiError(SYSTEM, "; ".join(text for _, text in pairs) or "request refused")
        answers = {r.findtext("controlid"): r for r in root.findall("operation/result")}
        out: dict[str, WriteResult] = {}
        done: list[Write] = []
        for write in group:
            result = answers.get(write.key)
            if result is None:
                error = UncertainWriteError(SYSTEM, f"no result for function {write.key}")
                out[write.key] = WriteResult(write.key, error=error)
            elif (result.findtext("status") or "").strip() == "success":
                out[write.key] = WriteResult(write.key, remote_id=_record_no(write, result))
            elif _already_done(error_pairs(result)):
                done.append(write)  # ran before (a resend): done, not failed
            else:
                out[write.key] = WriteResult(write.key, error=_function_error(write, result))
        if done:
            try:
                out.update({r.key: r for r in self._already_processed(done)})
            except AuthError as exc:
                out.update({r.key: r for r in answered_before(exc)})
                raise PartialAuthError(exc, [out[w.key] for w in group]) from exc
        return out

    def _already_processed(
        self, group: Sequence[Write], *, whole_request: bool = False
    ) -> list[WriteResult]:
        """Intacct says these functions' control ids already ran to completion: the writes
        are done. The creates are found by their keys; an application cannot be looked up,
        and was applied. When looking for them is refused (an auth failure), they are
        uncertain, and the failure is raised as a PartialAuthError carrying them.

        ``whole_request``: the *request's* control id was refused as already processed (a
        control-level failure, so nothing ran now). That says the request was received
        before, not that each of its functions succeeded then (a function can fail alone), so
        a reversal counts as done only when the payment now reads reversed (its STATE);
        otherwise it stays uncertain and is looked at again before any resend."""
        keys = [w.key for w in group if not isinstance(w, CreditApply | PaymentReverse)]
        reversed_keys: set[str] | None = None
        try:
            found = self.landed(keys, since=None) if keys else {}
            if whole_request:
                reversed_keys = {
                    w.key
                    for w in group
                    if isinstance(w, PaymentReverse)
                    and self.payment_state(w.payment_key) in REVERSED_STATES
                }
        except AuthError as exc:
            missing = f"request already processed; looking for its record failed: {exc.message}"
            unread: set[str] | None = set() if whole_request else None  # none confirmed
            answered = self._processed(group, {}, missing, unread, states_read=False)
            raise PartialAuthError(exc, answered) from exc
        return self._processed(
            group, found, "request already processed, but it was not found", reversed_keys
        )

    @staticmethod
    def _processed(
        group: Sequence[Write],
        found: dict[str, str],
        missing: str,
        reversed_keys: set[str] | None = None,
        *,
        states_read: bool = True,
    ) -> list[WriteResult]:
        """Each write's result. ``reversed_keys``, when given, are the reversals confirmed
        done (None: every reversal is done). Any other reversal failed when the request first
        ran (its payment was read and is not reversed: a replayed fault, sent again under a
        key of its own, so a request id of its own, never refused as a repeat again), or is
        uncertain when the payments could not be read (``states_read`` False)."""
        out = []
        for write in group:
            if isinstance(write, CreditApply):
                out.append(WriteResult(write.key, remote_id=write.adjustment_key))
            elif isinstance(write, PaymentReverse):
                if reversed_keys is None or write.key in reversed_keys:
                    out.append(WriteResult(write.key, remote_id=write.payment_key))
                else:
                    kind = ReplayedFaultError if states_read else UncertainWriteError
                    error = kind(
                        SYSTEM,
                        f"{write.key}: {missing} (ARPYMT {write.payment_key} does not read "
                        "reversed)",
                    )
                    out.append(WriteResult(write.key, error=error))
            elif write.key in found:
                out.append(WriteResult(write.key, remote_id=found[write.key]))
            else:
                error = UncertainWriteError(SYSTEM, f"{write.key}: {missing}")
                out.append(WriteResult(write.key, error=error))
        return out

    def payment_state(self, payment_key: str) -> str | None:
        """The STATE of one ARPYMT, or None when there is no such payment."""
        for rows in self.client.read_by_query(
            "ARPYMT", f"RECORDNO = '{payment_key}'", fields="RECORDNO,STATE"
        ):
            for row in rows:
                if str(row.get("RECORDNO")) == payment_key:
                    return str(row.get("STATE") or "")
        return None

    def landed(self, keys: Sequence[str], since: datetime | None) -> dict[str, str]:
        """Payments and adjustments carrying one of ``keys``: key -> RECORDNO."""
        found: dict[str, str] = {}
        wanted = list(dict.fromkeys(keys))
        for obj in ("ARPYMT", "ARADJUSTMENT"):
            for start in range(0, len(wanted), 100):
                chunk = [k for k in wanted[start : start + 100] if k not in found]
                if not chunk:
                    continue
                listed = ", ".join(f"'{KEY_TAG}{k}'" for k in chunk)
                query = f"DESCRIPTION IN ({listed})"
                if since is not None:
                    stamp = render_timestamp(since, self.config.zone)
                    query += f" AND WHENMODIFIED >= '{stamp}'"
                for rows in self.client.read_by_query(obj, query, fields="RECORDNO,DESCRIPTION"):
                    for row in rows:
                        text = str(row.get("DESCRIPTION") or "")
                        if text.startswith(KEY_TAG):
                            found[text[len(KEY_TAG) :]] = str(row.get("RECORDNO"))
        return found


def _record_no(write: Write, result: Element) -> str | None:
    """The new record's number: ``<key>`` of a legacy create (``create_aradjustment``), or
    ``<data><object><RECORDNO>`` of the generic ``create``."""
    if isinstance(write, CreditApply):
        return write.adjustment_key
    if isinstance(write, PaymentReverse):
        return write.payment_key
    key = (result.findtext("key") or "").strip()
    if key:
        return key
    data = result.find("data")
    if data is None:
        return None
    for record in data:
        if isinstance(record.tag, str):
            value = record.findtext("RECORDNO")
            if value:
                return value.strip()
    return None


def _already_done(pairs: Sequence[tuple[str, str]]) -> bool:
    """Whether errors say the control id was already executed and completed."""
    return any(
        "control" in text.lower() and any(w in text.lower() for w in _ALREADY_DONE)
        for _, text in pairs
    )


def _split_date(holder: Element, day: date) -> None:
    """``<year>yyyy</year><month>mm</month><day>dd</day>`` of the legacy functions."""
    sub(holder, "year", f"{day.year:04d}")
    sub(holder, "month", f"{day.month:02d}")
    sub(holder, "day", f"{day.day:02d}")


def _clean(text: str | None, limit: int) -> str:
    """Free text for an Intacct field: no control characters (XML 1.0 refuses most of
    them), whitespace collapsed, cut to the field's length."""
    if not text:
        return ""
    printable = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(printable.split())[:limit]


def _function_error(write: Write, result: Element) -> ApiError:
    pairs = error_pairs(result)
    codes = [code for code, _ in pairs]
    text = "; ".join(message for _, message in pairs) or "function failed"
    kind = ErrorKind.DATA
    for rule in ERROR_TABLE.rules:
        if rule.code and rule.code in codes:
            kind = rule.kind
            break
    return ERROR_CLASSES[kind](
        SYSTEM, f"{write.function} {write.key}: {text}", kind=kind, code=codes[0] if codes else None
    )
