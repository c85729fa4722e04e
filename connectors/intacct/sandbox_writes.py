"""The Intacct sandbox's write functions: ``create`` of ARPYMT, and the legacy
``create_aradjustment``, ``apply_arpayment`` and ``reverse_arpayment``, moving balances as
Intacct does and stamping WHENMODIFIED.

Each function validates everything before it changes anything; a refusal is a
function-level failure (``BL`` errno) that leaves the company as it was.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from lxml import etree

from connectors.intacct.xmlwire import Element, Payload, sub

if TYPE_CHECKING:
    from connectors.intacct.sandbox import IntacctSandbox

REFUSED = "BL01001973"
ZERO = Decimal("0.00")
# ARPYMT.PAYMENTMETHOD values documented for create (the table; an example also uses Check)
PAYMENT_METHODS = (
    "Printed Check",
    "Check",
    "Cash",
    "EFT",
    "Credit Card",
    "Online Charge Card",
    "Online ACH Debit",
)


class Refused(ValueError):
    """A write Intacct would refuse."""


def _amount(text: str | None, field: str) -> Decimal:
    try:
        value = Decimal((text or "").strip())
    except InvalidOperation:
        raise Refused(f"{field} is not a number: {text!r}") from None
    if not value.is_finite() or value != value.quantize(Decimal("0.01")):
        raise Refused(f"{field} must have at most 2 decimals")
    return value


def _date(body: Element, field: str) -> str:
    text = (body.findtext(field) or "").strip()
    parts = text.split("/")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise Refused(f"{field} must be MM/DD/YYYY, got {text!r}")
    return text


def _rebalance(box: IntacctSandbox, obj: str, key: str, paid_more: Decimal) -> None:
    """Add ``paid_more`` to a document's TOTALPAID (a credit's amounts are negative)."""
    row = box.records[obj][key]
    total = Decimal(row["TRX_TOTALENTERED"])
    sign = Decimal(-1) if total < 0 else Decimal(1)
    paid = Decimal(row["TRX_TOTALPAID"]) + sign * paid_more
    due = total - paid
    row.update(box._amounts("TOTAL", row["CURRENCY"], ENTERED=total, PAID=paid, DUE=due))
    row["STATE"] = box._state(abs(total), abs(due))
    box.bump(obj, key)


def _customer(box: IntacctSandbox, body: Element) -> str:
    customer = (body.findtext("CUSTOMERID") or "").strip()
    if customer not in box.records["CUSTOMER"]:
        raise Refused(f"Invalid Customer {customer!r} specified.")
    return customer


def _open_document(box: IntacctSandbox, obj: str, key: str, customer: str, field: str) -> Payload:
    row = box.records[obj].get(key)
    if row is None:
        raise Refused(f"{field}: no {obj} with key {key!r}")
    if row["CUSTOMERID"] != customer:
        raise Refused(f"{field}: {obj} {key} belongs to another customer")
    if row.get("STATE") == "Reversed":
        raise Refused(f"{field}: {obj} {key} is reversed")
    return row


def create_payment(box: IntacctSandbox, body: Element) -> Element:
    customer = _customer(box, body)
    if not (body.findtext("FINANCIALENTITY") or body.findtext("UNDEPOSITEDACCOUNTNO")):
        raise Refused("FINANCIALENTITY or UNDEPOSITEDACCOUNTNO is required")
    received = _date(body, "RECEIPTDATE")
    paid_on = (body.findtext("PAYMENTDATE") or "").strip() or received
    if (body.findtext("PAYMENTMETHOD") or "").strip() not in PAYMENT_METHODS:
        raise Refused(f"PAYMENTMETHOD must be one of {', '.join(PAYMENT_METHODS)}")
    if not (body.findtext("CURRENCY") or "").strip():
        raise Refused("CURRENCY is required")  # documented as required for create
    details = body.findall("ARPYMTDETAILS/ARPYMTDETAIL")
    if not details:
        raise Refused("ARPYMTDETAILS must hold at least one ARPYMTDETAIL")
    owed: dict[str, Decimal] = {}
    credit_left: dict[str, Decimal] = {}
    lines: list[tuple[str, Decimal, str | None, str]] = []
    currency = (body.findtext("CURRENCY") or "").strip()
    for index, detail in enumerate(details):
        where = f"ARPYMTDETAIL[{index}]"
        # an invoice (RECORDKEY) or a debit memo (POSADJKEY), never both
        debit_memo = (detail.findtext("POSADJKEY") or "").strip()
        key = debit_memo or (detail.findtext("RECORDKEY") or "").strip()
        obj, field = ("ARADJUSTMENT", "POSADJKEY") if debit_memo else ("ARINVOICE", "RECORDKEY")
        if debit_memo and (detail.findtext("RECORDKEY") or "").strip():
            raise Refused(f"{where}: RECORDKEY and POSADJKEY cannot both be given")
        invoice = _open_document(box, obj, key, customer, f"{where}.{field}")
        if debit_memo and Decimal(invoice["TRX_TOTALENTERED"]) <= 0:
            raise Refused(f"{where}.POSADJKEY: {key} is a credit adjustment, not a debit memo")
        currency = currency or invoice["CURRENCY"]
        if invoice["CURRENCY"] != currency:
            raise Refused(f"{where}: invoice {key} is in {invoice['CURRENCY']}, not {currency}")
        credit_key = (detail.findtext("ADJUSTMENTKEY") or "").strip() or None
        field = "TRX_ADJUSTMENTAMOUNT" if credit_key else "TRX_PAYMENTAMOUNT"
        amount = _amount(detail.findtext(field), f"{where}.{field}")
        if amount <= 0:
            raise Refused(f"{where}.{field} must be more than 0")
        if credit_key:
            credit = _open_document(
                box, "ARADJUSTMENT", credit_key, customer, f"{where}.ADJUSTMENTKEY"
            )
            left = credit_left.setdefault(credit_key, -Decimal(credit["TRX_TOTALDUE"]))
            if amount > left:
                raise Refused(f"{where}: {amount} is more than the {left} left on {credit_key}")
            credit_left[credit_key] = left - amount
        due = owed.setdefault(key, Decimal(invoice["TRX_TOTALDUE"]))
        if amount > due:
            raise Refused(f"Payment amount {amount} exceeds the amount due {due} on {key}")
        owed[key] = due - amount
        lines.append((key, amount, credit_key, obj))
    cash = sum((amount for _, amount, credit, _ in lines if credit is None), ZERO)
    # cash received beyond the details: kept on the payment as the customer's overpayment
    over_text = (body.findtext("OVERPAYMENTAMOUNT") or "").strip()
    overpayment = _amount(over_text, "OVERPAYMENTAMOUNT") if over_text else ZERO
    if overpayment < 0:
        raise Refused("OVERPAYMENTAMOUNT cannot be negative")
    record_no = box.take_record_no()
    row: Payload = {
        "RECORDNO": record_no,
        "CUSTOMERID": customer,
        "PAYMENTMETHOD": (body.findtext("PAYMENTMETHOD") or "").strip(),
        "DOCNUMBER": (body.findtext("DOCNUMBER") or "").strip(),
        "DESCRIPTION": (body.findtext("DESCRIPTION") or "").strip(),
        "PAYMENTDATE": paid_on,
        "RECEIPTDATE": received,
        "STATE": "Posted",
        "CURRENCY": currency,
        "BASECURR": "USD",
    }
    row.update(box._amounts("TOTAL", currency, ENTERED=cash + overpayment, PAID=cash))
    for key, amount, credit_key, obj in lines:
        box._detail(
            record_no,
            key,
            currency,
            cash=ZERO if credit_key else amount,
            adjustment_key=credit_key,
            adjustment=amount if credit_key else ZERO,
            when=paid_on,
            debit_memo_key=key if obj == "ARADJUSTMENT" else None,
        )
        _rebalance(box, obj, key, amount)
        if credit_key:
            _rebalance(box, "ARADJUSTMENT", credit_key, amount)
    box.put("ARPYMT", record_no, row, box.stamp_now())
    return _created("arpymt", record_no)


# create_aradjustment's elements in the DTD's order (a legacy function is validated against
# it): https://developer.intacct.com/api/accounts-receivable/ar-adjustments/
ADJUSTMENT_ORDER = (
    "customerid",
    "datecreated",
    "dateposted",
    "batchkey",
    "adjustmentno",
    "action",
    "invoiceno",
    "description",
    "externalid",
    "basecurr",
    "currency",
    "exchratedate",
    "exchratetype",
    "exchrate",
    "nogl",
    "taxsolutionid",
    "aradjustmentitems",
)
LINEITEM_ORDER = (
    "glaccountno",
    "accountlabel",
    "offsetglaccountno",
    "amount",
    "memo",
    "locationid",
    "departmentid",
)


def _in_order(element: Element, order: tuple[str, ...], where: str) -> None:
    """Refuse children out of the DTD's order or unknown to it, as Intacct's parser does."""
    last = -1
    for child in element:
        if not isinstance(child.tag, str):
            continue
        if child.tag not in order:
            raise Refused(f"{where}: element {child.tag} is not allowed here")
        index = order.index(child.tag)
        if index < last:
            raise Refused(f"{where}: element {child.tag} is out of order")
        last = index


def _split_date(body: Element, field: str) -> str:
    y, m, d = ((body.findtext(f"{field}/{p}") or "").strip() for p in ("year", "month", "day"))
    if not (len(y) == 4 and y.isdigit() and m.isdigit() and d.isdigit()):
        raise Refused(f"{field} needs year (yyyy), month and day")
    return f"{int(m):02d}/{int(d):02d}/{int(y):04d}"


def create_adjustment(box: IntacctSandbox, body: Element) -> Element:
    """Legacy ``create_aradjustment``: answers ``<key>`` with the new RECORDNO."""
    _in_order(body, ADJUSTMENT_ORDER, "create_aradjustment")
    customer = (body.findtext("customerid") or "").strip()
    if customer not in box.records["CUSTOMER"]:
        raise Refused(f"Invalid Customer {customer!r} specified.")
    when = _split_date(body, "datecreated")
    items = body.findall("aradjustmentitems/lineitem")
    if not items:
        raise Refused("aradjustmentitems must hold at least one lineitem")
    total = ZERO
    for index, item in enumerate(items):
        where = f"lineitem[{index}]"
        _in_order(item, LINEITEM_ORDER, where)
        if not (item.findtext("glaccountno") or item.findtext("accountlabel") or "").strip():
            raise Refused(f"{where}.glaccountno (or accountlabel) is required")
        total += _amount(item.findtext("amount"), f"{where}.amount")
    if total >= 0:
        raise Refused("a credit adjustment's lines must total less than 0")
    currency = (body.findtext("currency") or "").strip() or box.records["CUSTOMER"][customer][
        "CURRENCY"
    ]
    record_no = box.take_record_no()
    row: Payload = {
        "RECORDNO": record_no,
        "RECORDID": f"ADJ{box._next_memo_number}",
        "CUSTOMERID": customer,
        "DOCNUMBER": (body.findtext("adjustmentno") or "").strip(),
        "DESCRIPTION": (body.findtext("description") or "").strip(),
        "WHENCREATED": when,
        "STATE": "Posted",
        "CURRENCY": currency,
        "BASECURR": "USD",
    }
    row.update(box._amounts("TOTAL", currency, ENTERED=total, PAID=ZERO, DUE=total))
    box._next_memo_number += 1
    box.put("ARADJUSTMENT", record_no, row, box.stamp_now())
    key = etree.Element("key")
    key.text = record_no
    return key


def apply_credit(box: IntacctSandbox, body: Element) -> Element:
    key = (body.findtext("arpaymentkey") or "").strip()
    credit = box.records["ARADJUSTMENT"].get(key)
    if credit is None:
        raise Refused(f"arpaymentkey: no ARADJUSTMENT with key {key!r}")
    customer = credit["CUSTOMERID"]
    left = -Decimal(credit["TRX_TOTALDUE"])
    when = _split_date(body, "paymentdate")
    lines: list[tuple[str, Decimal]] = []
    owed: dict[str, Decimal] = {}
    for index, item in enumerate(body.findall("arpaymentitems/arpaymentitem")):
        invoice_key = (item.findtext("invoicekey") or "").strip()
        invoice = _open_document(
            box, "ARINVOICE", invoice_key, customer, f"arpaymentitem[{index}].invoicekey"
        )
        amount = _amount(item.findtext("amount"), f"arpaymentitem[{index}].amount")
        due = owed.setdefault(invoice_key, Decimal(invoice["TRX_TOTALDUE"]))
        if amount <= 0 or amount > due:
            raise Refused(f"amount {amount} is not between 0 and the {due} due on {invoice_key}")
        owed[invoice_key] = due - amount
        lines.append((invoice_key, amount))
    if not lines:
        raise Refused("arpaymentitems must hold at least one arpaymentitem")
    applied = sum((amount for _, amount in lines), ZERO)
    if applied > left:
        raise Refused(f"applying {applied} is more than the {left} left on adjustment {key}")
    record_no = box.take_record_no()
    row: Payload = {
        "RECORDNO": record_no,
        "CUSTOMERID": customer,
        "PAYMENTMETHOD": "Credit Memo",
        "DOCNUMBER": credit.get("RECORDID", ""),
        "DESCRIPTION": "",
        "PAYMENTDATE": when,
        "RECEIPTDATE": when,
        "STATE": "Posted",
        "CURRENCY": credit["CURRENCY"],
        "BASECURR": "USD",
    }
    row.update(box._amounts("TOTAL", credit["CURRENCY"], ENTERED=ZERO, PAID=ZERO))
    for invoice_key, amount in lines:
        box._detail(
            record_no,
            invoice_key,
            credit["CURRENCY"],
            cash=ZERO,
            adjustment_key=key,
            adjustment=amount,
            when=when,
        )
        _rebalance(box, "ARINVOICE", invoice_key, amount)
    _rebalance(box, "ARADJUSTMENT", key, applied)
    box.put("ARPYMT", record_no, row, box.stamp_now())
    return etree.Element("data", listtype="", count="0")


def reverse_payment(box: IntacctSandbox, body: Element) -> Element:
    """Legacy ``reverse_arpayment``: the payment named by ``key`` stays, STATE Reversed; the
    cash and credit it applied are due and available again. Answers ``<key>``."""
    key = (body.get("key") or "").strip()
    row = box.records["ARPYMT"].get(key)
    if row is None:
        raise Refused(f"key: no ARPYMT with key {key!r}")
    if row.get("STATE") in ("Reversed", "Voided"):
        raise Refused(f"ARPYMT {key} is already reversed")
    _split_date(body, "datereversed")
    for detail in list(box.details.values()):
        credit_key = detail.get("ADJUSTMENTKEY") or ""
        if detail["PAYMENTKEY"] == key and credit_key in box.records["ARADJUSTMENT"]:
            _rebalance(box, "ARADJUSTMENT", credit_key, -Decimal(detail["TRX_ADJUSTMENTAMOUNT"]))
    box._unapply(key)
    row["STATE"] = "Reversed"
    box.bump("ARPYMT", key)
    answer = etree.Element("key")
    answer.text = key
    return answer


def _created(tag: str, record_no: str) -> Element:
    data = etree.Element("data", listtype="objects", count="1")
    sub(sub(data, tag), "RECORDNO", record_no)
    return data
