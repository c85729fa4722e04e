"""The sandbox's write side: payments applied to invoices and credit memos, sparse updates.

Mirrors what QBO does when a Payment lands: each ``Line`` linking an Invoice lowers its
``Balance``, each linking a CreditMemo lowers its ``RemainingCredit``; cash left over is
``UnappliedAmt``. Deleting a payment gives the amounts back, and so does voiding it
(``POST /payment?operation=update&include=void``, a sparse update naming Id and SyncToken):
the record stays with its amounts zeroed, its lines cleared and "Voided" put before its
PrivateNote. Batch requests carry at most 30 ``BatchItemRequest`` items and answer each one
with the object or a Fault.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connectors.quickbooks.sandbox import QuickBooksSandbox

Payload = dict[str, Any]
BATCH_LIMIT = 30
READ_ONLY = frozenset(
    {
        "Id",
        "SyncToken",
        "MetaData",
        "domain",
        "sparse",
        "Balance",
        "TotalAmt",
        "RemainingCredit",
        "UnappliedAmt",
        "LinkedTxn",
        "status",
    }
)
WRITABLE = ("Customer", "Invoice", "CreditMemo", "Payment")
BID_MAX_WITH_REQUEST_ID = 10  # Intuit: a bId has at most 10 characters beside a requestid
# Documented string limits (Payment, CreditMemo): longer values are refused with 2050.
TEXT_LIMITS = {"PaymentRefNum": 21, "PrivateNote": 4000, "DocNumber": 21}
LINE_TEXT_LIMITS = {"Description": 4000}


class LedgerFault(Exception):
    """A write QBO would refuse, with its Fault code and element."""

    def __init__(self, code: str, message: str, detail: str, element: str = "") -> None:
        super().__init__(detail)
        self.code = code
        self.message = message
        self.detail = detail
        self.element = element

    def body(self) -> Payload:
        error: Payload = {"Message": self.message, "Detail": self.detail, "code": self.code}
        if self.element:
            error["element"] = self.element
        return {"Error": [error], "type": "ValidationFault"}


def _amount(value: Any, element: str) -> Decimal:
    try:
        if isinstance(value, bool | float):
            raise InvalidOperation
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise LedgerFault("2090", "Invalid Number", f"{element} is not a number", element) from None
    if not amount.is_finite() or amount < 0:
        raise LedgerFault("2090", "Invalid Number", f"{element} must be 0 or more", element)
    return amount.quantize(Decimal("0.01"))


def _rate(obj: Mapping[str, Any]) -> Decimal:
    """The ExchangeRate a create carries; QBO books one sent without it at 1."""
    value = obj.get("ExchangeRate")
    if value is None:
        return Decimal(1)
    try:
        if isinstance(value, bool | float):
            raise InvalidOperation
        rate = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise LedgerFault(
            "2090", "Invalid Number", "ExchangeRate is not a number", "ExchangeRate"
        ) from None
    if not rate.is_finite() or rate <= 0:
        raise LedgerFault(
            "2090", "Invalid Number", "ExchangeRate must be more than 0", "ExchangeRate"
        )
    return rate


def _check_lengths(obj: Mapping[str, Any]) -> None:
    """Refuse text longer than QBO allows, as QBO does (2050), naming the element."""
    fields = [(name, obj.get(name), limit) for name, limit in TEXT_LIMITS.items()]
    for index, line in enumerate(obj.get("Line") or []):
        if isinstance(line, Mapping):
            fields += [
                (f"Line[{index}].{name}", line.get(name), limit)
                for name, limit in LINE_TEXT_LIMITS.items()
            ]
    for element, value, limit in fields:
        if isinstance(value, str) and len(value) > limit:
            raise LedgerFault(
                "2050",
                "String length specified does not match the supported length",
                f"{element}: Min:0 Max:{limit} supported. Supplied length:{len(value)}",
                element,
            )


def _business(detail: str, element: str = "") -> LedgerFault:
    return LedgerFault(
        "6000",
        "A business validation error has occurred while processing your request",
        detail,
        element,
    )


class Ledger:
    """Applies writes to a :class:`QuickBooksSandbox`'s records (call under its lock)."""

    def __init__(self, sandbox: QuickBooksSandbox) -> None:
        self.sandbox = sandbox

    # requests ------------------------------------------------------------------------------
    def batch(self, body: Any, *, with_request_id: bool = False) -> tuple[int, Payload]:
        items = body.get("BatchItemRequest") if isinstance(body, Mapping) else None
        if not isinstance(items, list) or not items:
            return 400, {"Fault": _business("BatchItemRequest is required").body()}
        if len(items) > BATCH_LIMIT:
            fault = LedgerFault(
                "1060",
                "Batch request exceeded limit",
                f"a batch carries at most {BATCH_LIMIT} items, got {len(items)}",
            )
            return 400, {"Fault": fault.body()}
        bids = [str(item.get("bId", "")) if isinstance(item, Mapping) else "" for item in items]
        for bid in bids:
            if not bid or (with_request_id and len(bid) > BID_MAX_WITH_REQUEST_ID):
                fault = LedgerFault(
                    "2050",
                    "String length specified does not match the supported length",
                    f"bId {bid!r}: required, at most {BID_MAX_WITH_REQUEST_ID} characters "
                    "when requestid is given",
                    "bId",
                )
                return 400, {"Fault": fault.body()}
        if len(set(bids)) != len(bids):
            return 400, {"Fault": _business("each bId must be unique in its batch", "bId").body()}
        answers: list[Payload] = []
        for item in items:
            bid = str(item.get("bId", "")) if isinstance(item, Mapping) else ""
            try:
                entity, record = self._item(item)
                answers.append({"bId": bid, entity: record})
            except LedgerFault as fault:
                answers.append({"bId": bid, "Fault": fault.body()})
        return 200, {"BatchItemResponse": answers}

    def single_payment(self, body: Any) -> tuple[int, Payload]:
        try:
            return 200, {"Payment": self.create_payment(body)}
        except LedgerFault as fault:
            return 400, {"Fault": fault.body()}

    def single_void(self, body: Any) -> tuple[int, Payload]:
        try:
            return 200, {"Payment": self.void_payment(body)}
        except LedgerFault as fault:
            return 400, {"Fault": fault.body()}

    def _item(self, item: Any) -> tuple[str, Payload]:
        if not isinstance(item, Mapping):
            raise _business("each BatchItemRequest must be an object")
        operation = item.get("operation")
        entity = next((name for name in WRITABLE if isinstance(item.get(name), Mapping)), None)
        if entity is None:
            raise _business("the item carries no supported object", "BatchItemRequest")
        obj = item[entity]
        if operation == "create" and entity == "Payment":
            return entity, self.create_payment(obj)
        if operation == "create" and entity == "CreditMemo":
            return entity, self.create_credit_memo(obj)
        if operation == "update":
            return entity, self.update(entity, obj)
        if operation == "delete" and entity == "Payment":
            return entity, self.delete_payment(obj)
        raise _business(f"operation {operation!r} on {entity} is not supported", "operation")

    # operations ----------------------------------------------------------------------------
    def _current(self, entity: str, obj: Mapping[str, Any]) -> Payload:
        record_id = str(obj.get("Id", ""))
        record = self.sandbox.records[entity].get(record_id)
        if record is None:
            raise LedgerFault(
                "610", "Object Not Found", f"{entity} {record_id or '(no Id)'} does not exist", "Id"
            )
        if str(obj.get("SyncToken", "")) != record["SyncToken"]:
            raise LedgerFault(
                "5010",
                "Stale Object Error",
                f"{entity} {record_id}: SyncToken {obj.get('SyncToken')!r} is not the current "
                f"{record['SyncToken']!r}; someone else saved it first",
                "SyncToken",
            )
        return record

    def update(self, entity: str, obj: Mapping[str, Any]) -> Payload:
        """A sparse update: the fields sent replace the stored ones (read-only ones ignored)."""
        record = self._current(entity, obj)
        if obj.get("sparse") is not True:
            raise _business("only sparse updates are supported here", "sparse")
        for key, value in obj.items():
            if key not in READ_ONLY:
                record[key] = value
        return self.sandbox.bump(entity, record["Id"])

    def _customer_of(self, entity: str, obj: Any) -> tuple[str, Payload]:
        """The customer (id, record) a new ``entity`` object names, after checking the object
        (a mapping, no string over QBO's limits); an unknown customer is QBO's 610."""
        if not isinstance(obj, Mapping):
            raise _business(f"{entity} must be an object", entity)
        _check_lengths(obj)
        customer_id = str((obj.get("CustomerRef") or {}).get("value", ""))
        customer = self.sandbox.records["Customer"].get(customer_id)
        if customer is None:
            raise LedgerFault(
                "610",
                "Object Not Found",
                f"Customer {customer_id or '(none)'} does not exist",
                "CustomerRef",
            )
        return customer_id, customer

    def create_payment(self, obj: Any) -> Payload:
        box = self.sandbox
        customer_id, customer = self._customer_of("Payment", obj)
        if "TotalAmt" not in obj:
            raise LedgerFault(
                "2020",
                "Required param missing, need to supply the required value",
                "TotalAmt",
                "TotalAmt",
            )
        total = _amount(obj.get("TotalAmt"), "TotalAmt")
        currency = (obj.get("CurrencyRef") or customer["CurrencyRef"])["value"]
        lines: list[Payload] = []
        charges = credits = Decimal("0.00")
        for index, line in enumerate(obj.get("Line") or []):
            amount = _amount(line.get("Amount"), f"Line[{index}].Amount")
            links = line.get("LinkedTxn") or []
            if len(links) != 1:
                raise _business("each line links exactly one transaction", f"Line[{index}]")
            kind, target_id = links[0].get("TxnType"), str(links[0].get("TxnId", ""))
            entity = {"Invoice": "Invoice", "CreditMemo": "CreditMemo"}.get(str(kind))
            if entity is None:
                raise _business(f"cannot apply a payment to {kind}", f"Line[{index}].LinkedTxn")
            target = box.records[entity].get(target_id)
            if target is None:
                raise LedgerFault(
                    "610",
                    "Object Not Found",
                    f"{entity} {target_id} does not exist",
                    f"Line[{index}].LinkedTxn",
                )
            if target["CustomerRef"]["value"] != customer_id:
                raise _business(
                    f"{entity} {target_id} belongs to another customer", f"Line[{index}]"
                )
            if target["CurrencyRef"]["value"] != currency:
                raise _business(f"{entity} {target_id} is in another currency", f"Line[{index}]")
            open_amount = Decimal(target["Balance"])
            if amount > open_amount:
                raise _business(
                    f"{amount} is more than the {open_amount} open on {entity} {target_id}",
                    f"Line[{index}].Amount",
                )
            if entity == "Invoice":
                charges += amount
            else:
                credits += amount
            lines.append({"Amount": amount, "LinkedTxn": [{"TxnId": target_id, "TxnType": kind}]})
        applied = charges - credits
        if applied < 0 or applied > total:
            raise _business(f"lines apply {applied} but the payment total is {total}", "TotalAmt")
        now = box.now()
        payment_id = box.take_txn_id()
        record: Payload = {
            "Id": payment_id,
            "SyncToken": "0",
            "domain": "QBO",
            "sparse": False,
            "MetaData": {},
            "TxnDate": obj.get("TxnDate") or now.date().isoformat(),
            "CurrencyRef": box.currency_ref(currency),
            "CustomerRef": box.customer_ref(customer_id),
            "Line": lines,
            "TotalAmt": total,
            "ExchangeRate": _rate(obj),
            "UnappliedAmt": total - applied,
            "ProcessPayment": False,
        }
        for key in ("PaymentRefNum", "PrivateNote", "PaymentMethodRef", "DepositToAccountRef"):
            if key in obj:
                record[key] = obj[key]
        box.store("Payment", record, now)
        box.stamp_meta("Payment", payment_id)
        for line in lines:
            self._shift(line, payment_id, -line["Amount"])
        box.recompute_customer_balance(customer_id)
        return record

    def create_credit_memo(self, obj: Any) -> Payload:
        """A credit memo from item lines; its whole total is open credit."""
        box = self.sandbox
        customer_id, customer = self._customer_of("CreditMemo", obj)
        lines: list[Payload] = []
        total = Decimal("0.00")
        for index, line in enumerate(obj.get("Line") or []):
            amount = _amount(line.get("Amount"), f"Line[{index}].Amount")
            detail = line.get("SalesItemLineDetail") or {}
            if not (detail.get("ItemRef") or {}).get("value"):
                raise _business("a credit memo line needs an item", f"Line[{index}].ItemRef")
            lines.append({**line, "Id": str(index + 1), "LineNum": index + 1, "Amount": amount})
            total += amount
        if total <= 0:
            raise _business("a credit memo needs at least one line with an amount", "Line")
        now = box.now()
        currency = (obj.get("CurrencyRef") or customer["CurrencyRef"])["value"]
        record: Payload = {
            "Id": box.take_txn_id(),
            "SyncToken": "0",
            "domain": "QBO",
            "sparse": False,
            "MetaData": {},
            "DocNumber": box.take_memo_number(),
            "TxnDate": obj.get("TxnDate") or now.date().isoformat(),
            "CurrencyRef": box.currency_ref(currency),
            "CustomerRef": box.customer_ref(customer_id),
            "Line": [
                *lines,
                {"Amount": total, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}},
            ],
            "TotalAmt": total,
            "ExchangeRate": _rate(obj),
            "RemainingCredit": total,
            "Balance": total,
        }
        if "PrivateNote" in obj:
            record["PrivateNote"] = obj["PrivateNote"]
        box.store("CreditMemo", record, now)
        box.stamp_meta("CreditMemo", record["Id"])
        box.recompute_customer_balance(customer_id)
        return record

    def delete_payment(self, obj: Mapping[str, Any]) -> Payload:
        record = self._current("Payment", obj)
        self.unapply(record)
        box = self.sandbox
        del box.records["Payment"][record["Id"]]
        box.stamps["Payment"].pop(record["Id"], None)
        box.tombstones["Payment"][record["Id"]] = box.stamp_now()
        return {"Id": record["Id"], "status": "Deleted", "domain": "QBO"}

    def void_payment(self, obj: Any) -> Payload:
        """Void a payment: what it applied is owed again; the record stays, zeroed."""
        if not isinstance(obj, Mapping):
            raise _business("Payment must be an object", "Payment")
        if obj.get("sparse") is not True:
            raise _business("a void is a sparse update: sparse must be true", "sparse")
        record = self._current("Payment", obj)
        self.unapply(record)
        zero = Decimal("0.00")
        record["Line"] = []
        record["TotalAmt"] = record["UnappliedAmt"] = zero
        note = record.get("PrivateNote")
        record["PrivateNote"] = f"Voided - {note}" if note else "Voided"
        return self.sandbox.bump("Payment", record["Id"])

    def unapply(self, payment: Payload) -> None:
        """Give a payment's applied amounts back to its invoices and credit memos."""
        for line in payment.get("Line") or []:
            self._shift(line, payment["Id"], Decimal(line["Amount"]))
        self.sandbox.recompute_customer_balance(payment["CustomerRef"]["value"])

    def _shift(self, line: Payload, payment_id: str, delta: Decimal) -> None:
        box = self.sandbox
        link = line["LinkedTxn"][0]
        entity = "Invoice" if link["TxnType"] == "Invoice" else "CreditMemo"
        target = box.records[entity].get(str(link["TxnId"]))
        if target is None:
            return
        target["Balance"] = Decimal(target["Balance"]) + delta
        if entity == "CreditMemo":
            target["RemainingCredit"] = target["Balance"]
        else:
            back_link = {"TxnId": payment_id, "TxnType": "Payment"}
            links = target.setdefault("LinkedTxn", [])
            if delta < 0 and back_link not in links:
                links.append(back_link)
            elif delta > 0 and back_link in links:
                links.remove(back_link)
        box.bump(entity, target["Id"])
