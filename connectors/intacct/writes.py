"""Writes to Sage Intacct: AR payments, credit adjustments, and applying credits.

* :class:`ArPaymentCreate`: ``create`` of an ``ARPYMT`` whose ``ARPYMTDETAIL`` lines pay
  invoices with cash (``RECORDKEY`` + ``TRX_PAYMENTAMOUNT``) or with a credit adjustment
  (``ADJUSTMENTKEY`` + ``TRX_ADJUSTMENTAMOUNT``).
* :class:`AdjustmentCreate`: ``create`` of an ``ARADJUSTMENT`` (a credit memo) on the
  configured write-off GL account, for a deduction.
* :class:`CreditApply`: legacy ``apply_arpayment`` with the adjustment as ``arpaymentkey``,
  applying an existing credit to invoices. It creates no record that carries the key, so a
  lost reply cannot be looked up: the outbox applies credits through ARPYMT instead.

Several functions go in one request (``write_batch_size``), each ``<function controlid>``
being the write's idempotency key, answered one result each; a failed function fails only
its own write. The request's control id is derived from the ordered keys and sent with
``uniqueid`` true, so a resent request (a retry after a timeout) is refused as a duplicate
instead of applied twice; the records it made are then found by the key each create carries
in its ``DESCRIPTION`` (:meth:`IntacctWriter.landed`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from lxml import etree

from connectors.errors import ERROR_CLASSES, ApiError, ErrorKind, UncertainWriteError
from connectors.intacct.client import IntacctClient
from connectors.intacct.errors import ERROR_TABLE, duplicate_control, error_pairs
from connectors.intacct.xmlwire import Element, render_date, render_timestamp, sub

SYSTEM = "intacct"
KEY_TAG = "arsync:"
CENT = Decimal("0.01")


def _money(value: Decimal) -> str:
    return str(value.quantize(CENT))


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
    """A new AR payment applied to invoices. Intacct's ARPYMT cannot carry an advance, so
    ``amount`` is what the lines apply; unapplied cash stays unapplied in arsync's books."""

    key: str
    customer_id: str
    received_on: date
    lines: tuple[PaymentLine, ...]
    currency: str | None = None
    reference: str | None = None

    function = "create"

    def body(self, config_fields: dict[str, str]) -> Element:
        pymt = etree.Element("ARPYMT")
        for name, value in config_fields.items():
            sub(pymt, name, value)
        sub(pymt, "CUSTOMERID", self.customer_id)
        if self.reference:
            sub(pymt, "DOCNUMBER", self.reference[:45])
        sub(pymt, "DESCRIPTION", f"{KEY_TAG}{self.key}")
        sub(pymt, "RECEIPTDATE", render_date(self.received_on))
        sub(pymt, "PAYMENTDATE", render_date(self.received_on))
        if self.currency:
            sub(pymt, "CURRENCY", self.currency)
        details = sub(pymt, "ARPYMTDETAILS")
        for line in self.lines:
            detail = sub(details, "ARPYMTDETAIL")
            sub(detail, "POSADJKEY" if line.debit_memo else "RECORDKEY", line.invoice_key)
            if line.adjustment_key:
                sub(detail, "ADJUSTMENTKEY", line.adjustment_key)
                sub(detail, "TRX_ADJUSTMENTAMOUNT", _money(line.amount))
            else:
                sub(detail, "TRX_PAYMENTAMOUNT", _money(line.amount))
        return pymt


@dataclass(frozen=True)
class AdjustmentCreate:
    """A credit adjustment (credit memo) for a deduction, on the write-off GL account."""

    key: str
    customer_id: str
    amount: Decimal
    on: date
    reason: str
    currency: str | None = None

    function = "create"

    def body(self, gl_account: str) -> Element:
        adjustment = etree.Element("ARADJUSTMENT")
        sub(adjustment, "CUSTOMERID", self.customer_id)
        sub(adjustment, "WHENCREATED", render_date(self.on))
        sub(adjustment, "DESCRIPTION", f"{KEY_TAG}{self.key}")
        if self.currency:
            sub(adjustment, "CURRENCY", self.currency)
        items = sub(adjustment, "ARADJUSTMENTITEMS")
        line = sub(items, "lineitem")
        sub(line, "GLACCOUNTNO", gl_account)
        sub(line, "AMOUNT", _money(-self.amount))  # negative: a credit to the customer
        sub(line, "MEMO", self.reason[:1000])
        return adjustment


@dataclass(frozen=True)
class CreditApply:
    """An existing credit adjustment applied to invoices (legacy ``apply_arpayment``)."""

    key: str
    adjustment_key: str
    lines: tuple[PaymentLine, ...]
    applied_on: date

    function = "apply_arpayment"

    def body(self) -> Element:
        apply = etree.Element("apply_arpayment")
        sub(apply, "arpaymentkey", self.adjustment_key)
        when = sub(apply, "paymentdate")
        sub(when, "year", f"{self.applied_on.year:04d}")
        sub(when, "month", f"{self.applied_on.month:02d}")
        sub(when, "day", f"{self.applied_on.day:02d}")
        items = sub(apply, "arpaymentitems")
        for line in self.lines:
            item = sub(items, "arpaymentitem")
            sub(item, "invoicekey", line.invoice_key)
            sub(item, "amount", _money(line.amount))
        return apply


Write = ArPaymentCreate | AdjustmentCreate | CreditApply


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
        keys = [w.key for w in writes]
        if len(set(keys)) != len(keys):
            raise ValueError("intacct: each write needs its own idempotency key")
        results: list[WriteResult] = []
        size = self.config.write_batch_size
        for start in range(0, len(writes), size):
            results.extend(self._send(writes[start : start + size]))
        return results

    def _function(self, write: Write) -> Element:
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
            sub(wrapper, "create").append(write.body(self.config.write_off_account))
        else:
            wrapper.append(write.body())
        return wrapper

    def _send(self, group: Sequence[Write]) -> list[WriteResult]:
        functions = [self._function(w) for w in group]
        root = self.client.call(
            functions, control_id=request_control_id(group), unique=True, raise_for_error=False
        )
        if (root.findtext("control/status") or "").strip() == "failure":
            pairs = error_pairs(root)
            if duplicate_control(pairs):
                return self._already_processed(group)
            raise ApiError(SYSTEM, "; ".join(text for _, text in pairs) or "request refused")
        answers = {r.findtext("controlid"): r for r in root.findall("operation/result")}
        out: list[WriteResult] = []
        for write in group:
            result = answers.get(write.key)
            if result is None:
                error = UncertainWriteError(SYSTEM, f"no result for function {write.key}")
                out.append(WriteResult(write.key, error=error))
            elif (result.findtext("status") or "").strip() != "success":
                out.append(WriteResult(write.key, error=_function_error(write, result)))
            else:
                out.append(WriteResult(write.key, remote_id=_record_no(write, result)))
        return out

    def _already_processed(self, group: Sequence[Write]) -> list[WriteResult]:
        """Intacct refused the request as a duplicate: it was processed before. The creates
        are found by their keys; an application cannot be looked up, and was applied."""
        found = self.landed([w.key for w in group if not isinstance(w, CreditApply)], since=None)
        out = []
        for write in group:
            if isinstance(write, CreditApply):
                out.append(WriteResult(write.key, remote_id=write.adjustment_key))
            elif write.key in found:
                out.append(WriteResult(write.key, remote_id=found[write.key]))
            else:
                error = UncertainWriteError(
                    SYSTEM, f"request already processed, but {write.key} was not found"
                )
                out.append(WriteResult(write.key, error=error))
        return out

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
    if isinstance(write, CreditApply):
        return write.adjustment_key
    data = result.find("data")
    if data is None:
        return None
    for record in data:
        if isinstance(record.tag, str):
            value = record.findtext("RECORDNO")
            if value:
                return value.strip()
    return None


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
