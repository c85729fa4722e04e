"""The books behind the Invoiced sandbox: the world rendered as Invoiced objects, events, and
payments that move invoice and credit note balances as Invoiced does.

Rendering: names spelled out (style 1), invoice numbers ``INV-01001``, credit notes
``CN-5001``, amounts in major units, lower-case currencies, unix timestamps, and
``metadata.quickbooks_id`` holding the QuickBooks sandbox's Id of the same record (customers
1..n; invoices, credit memos and payments numbered in one sequence, as QuickBooks does).

Only documented attributes (github.com/Invoiced/api, the object lists and example payloads):
an invoice or credit note has no ``voided`` attribute, a void is its ``status`` and it keeps
the balance it showed; ``closed`` means written off as bad debt, so it is false on a paid or
voided document; payments have ``voided`` and keep amount and balance when voided.
"""

from __future__ import annotations

import copy
import itertools
import secrets
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from connectors.sandbox.world import World, name_variant

Payload = dict[str, Any]
ZERO = Decimal("0.00")
CENT = Decimal("0.01")
STREAMS = ("customers", "invoices", "credit_memos", "payments")
OBJECTS = {
    "customers": "customer",
    "invoices": "invoice",
    "credit_memos": "credit_note",
    "payments": "payment",
}
ID_BASE = {"customers": 0, "invoices": 1_000_000, "credit_memos": 2_000_000, "payments": 3_000_000}
METHODS = {"check": "check", "ach": "ach", "wire": "wire_transfer", "card": "credit_card"}


class Rejected(Exception):
    """A request Invoiced would refuse: ``invalid_request`` naming the parameter."""

    def __init__(self, message: str, param: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.status = status


def timestamp(day: date | datetime | None) -> int | None:
    """A date as Invoiced stamps it (noon UTC), a datetime as its unix time."""
    if day is None:
        return None
    if isinstance(day, datetime):
        return int(day.timestamp())
    return int(datetime(day.year, day.month, day.day, 12, tzinfo=UTC).timestamp())


def _amount(value: Any, param: str, *, positive: bool = False) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise Rejected(f"{param} must be a number", param)
    amount = Decimal(value)
    if not amount.is_finite() or amount < 0 or (positive and amount == 0):
        raise Rejected(f"{param} must be {'greater than' if positive else 'at least'} 0", param)
    if amount != amount.quantize(CENT):
        raise Rejected(f"{param} has more than 2 decimals", param)
    return amount.quantize(CENT)


METADATA_KEYS_MAX = 10  # Invoiced: up to 10 keys per object,
METADATA_KEY_MAX = 40  # each key up to 40 characters,
METADATA_VALUE_MAX = 255  # each value up to 255 characters


def _metadata(value: Any) -> Payload:
    """The ``metadata`` of a create, within Invoiced's documented limits."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Rejected("metadata must be an object", "metadata")
    if len(value) > METADATA_KEYS_MAX:
        raise Rejected(f"metadata can have at most {METADATA_KEYS_MAX} keys", "metadata")
    for key, item in value.items():
        if len(str(key)) > METADATA_KEY_MAX:
            raise Rejected(
                f"metadata keys can be at most {METADATA_KEY_MAX} characters", f"metadata[{key}]"
            )
        if item is not None and len(str(item)) > METADATA_VALUE_MAX:
            raise Rejected(
                f"metadata values can be at most {METADATA_VALUE_MAX} characters",
                f"metadata[{key}]",
            )
    return dict(value)


def is_voided(document: Payload) -> bool:
    """Whether an invoice or credit note is voided: Invoiced shows it only as its status."""
    return document.get("status") == "voided"


def _id(value: Any, param: str) -> int:
    if isinstance(value, bool):
        raise Rejected(f"{param} must be an ID", param)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Rejected(f"{param} must be an ID", param) from None


class InvoicedLedger:
    """Customers, invoices, credit notes, payments and events of one Invoiced account."""

    def __init__(self, world: World, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self.records: dict[str, dict[int, Payload]] = {s: {} for s in STREAMS}
        self.events: list[Payload] = []
        self.changes = 0  # every change emits an event; this counts them (for caches)
        self.credit_balances: dict[int, Decimal] = {}
        self._event_ids = itertools.count(1)
        self._line_ids = itertools.count(1)
        self._seed(world)
        self._ids = {
            s: itertools.count(max(self.records[s], default=ID_BASE[s]) + 1) for s in STREAMS
        }
        self._invoice_numbers = itertools.count(world.next_invoice_number())
        self._memo_numbers = itertools.count(world.next_memo_number())

    # the world, rendered --------------------------------------------------------------------
    def _seed(self, world: World) -> None:
        invoice_id = {i.key: ID_BASE["invoices"] + i.key for i in world.invoices}
        memo_id = {m.key: ID_BASE["credit_memos"] + m.key for m in world.credit_memos}
        qbo_memo_base = len(world.invoices)
        qbo_payment_base = len(world.invoices) + len(world.credit_memos)
        today = self.clock().date()
        for c in world.customers:
            self.records["customers"][c.key] = {
                "id": c.key,
                "object": "customer",
                "name": name_variant(c.name, 1),
                "number": c.number,
                "email": c.email,
                "type": "company",
                "currency": c.currency.lower(),
                "payment_terms": f"NET {c.terms_days}",
                "autopay": False,
                "notes": None,
                "metadata": {"quickbooks_id": str(c.key)},
                "created_at": timestamp(c.modified_at),
                "updated_at": timestamp(c.modified_at),
            }
        for i in world.invoices:
            voided = i.status == "void"
            balance = i.balance
            if i.key in world.drift_invoice_keys and not voided:
                # the AR platform has not caught up with the ERP: a dollar off either way
                balance += Decimal("-1.00") if balance >= 1 else min(Decimal("1.00"), i.total)
            record: Payload = {
                "id": invoice_id[i.key],
                "object": "invoice",
                "customer": i.customer_key,
                "name": "Invoice",
                "number": f"INV-{i.number:05d}",
                "currency": i.currency.lower(),
                "date": timestamp(i.issue_date),
                "due_date": timestamp(i.due_date),
                "payment_terms": f"NET {(i.due_date - i.issue_date).days}",
                "purchase_order": i.po_number,
                "draft": False,
                "subtotal": i.total,
                "total": i.total,
                "balance": balance,
                "status": "voided" if voided else "sent",
                "notes": None,
                "metadata": {"quickbooks_id": str(i.key)},
                "created_at": timestamp(i.modified_at),
                "updated_at": timestamp(i.modified_at),
            }
            self.records["invoices"][record["id"]] = self._settle_invoice(record, today)
        for m in world.credit_memos:
            record = {
                "id": memo_id[m.key],
                "object": "credit_note",
                "customer": m.customer_key,
                "name": "Credit Note",
                "number": f"CN-{m.number}",
                "currency": m.currency.lower(),
                "date": timestamp(m.issue_date),
                "purchase_order": m.reference,
                "draft": False,
                "subtotal": m.total,
                "total": m.total,
                "balance": m.balance,
                "status": "open",
                "notes": None,
                "metadata": {"quickbooks_id": str(qbo_memo_base + m.key)},
                "created_at": timestamp(m.modified_at),
                "updated_at": timestamp(m.modified_at),
            }
            self.records["credit_memos"][record["id"]] = self._settle_note(record)
        for p in world.payments:
            applied: list[Payload] = []
            for a in p.applications:
                if a.credit_memo_key is not None:
                    applied.append(
                        {
                            "type": "credit_note",
                            "credit_note": memo_id[a.credit_memo_key],
                            "document_type": "invoice",
                            "invoice": invoice_id[a.invoice_key],
                            "amount": a.amount,
                        }
                    )
                else:
                    applied.append(
                        {
                            "type": "invoice",
                            "invoice": invoice_id[a.invoice_key],
                            "amount": a.amount,
                        }
                    )
            balance = p.unapplied
            if balance > 0 and p.key % 2 == 0:  # kept as customer credit rather than unapplied
                applied.append({"type": "credit", "amount": balance})
                self.credit_balances[p.customer_key] = (
                    self.credit_balances.get(p.customer_key, ZERO) + balance
                )
                balance = ZERO
            payment_id = ID_BASE["payments"] + p.key
            self.records["payments"][payment_id] = {
                "id": payment_id,
                "object": "payment",
                "customer": p.customer_key,
                "date": timestamp(p.received_on),
                "currency": p.currency.lower(),
                "amount": p.amount,
                "balance": balance,
                "voided": False,
                "method": METHODS.get(p.method, "other"),
                "reference": p.reference,
                "source": "keyed",
                "notes": None,
                "applied_to": applied,
                "metadata": {"quickbooks_id": str(qbo_payment_base + p.key)},
                "created_at": timestamp(p.modified_at),
                "updated_at": timestamp(p.modified_at),
            }

    @staticmethod
    def _settle_invoice(record: Payload, today: date) -> Payload:
        """Derive ``paid`` and ``status`` from balance, void and due date; ``closed`` (written
        off as bad debt) stays false: the sandbox writes nothing off."""
        voided = is_voided(record)
        paid = not voided and record["balance"] == 0
        record["paid"] = paid
        record["closed"] = False
        if voided:
            record["status"] = "voided"
        elif paid:
            record["status"] = "paid"
        elif record.get("due_date") and record["due_date"] < timestamp(today):
            record["status"] = "past_due"
        else:
            record["status"] = "sent"
        return record

    @staticmethod
    def _settle_note(record: Payload) -> Payload:
        voided = is_voided(record)
        paid = not voided and record["balance"] == 0
        record["paid"] = paid
        record["closed"] = False
        record["status"] = "voided" if voided else ("paid" if paid else "open")
        return record

    # events ---------------------------------------------------------------------------------
    def stamp(self) -> int:
        return int(self.clock().timestamp())

    def emit(self, kind: str, obj: Payload, previous: Payload | None = None) -> None:
        """Record an event; an invoice's ``customer`` in it is the customer object, as the
        API reference's event examples show it."""
        data: Payload = {"object": copy.deepcopy(obj)}
        if obj.get("object") == "invoice" and obj.get("customer") in self.records["customers"]:
            data["object"]["customer"] = copy.deepcopy(self.records["customers"][obj["customer"]])
        if previous:
            data["previous"] = previous
        self.changes += 1
        self.events.append(
            {
                "id": next(self._event_ids),
                "object": "event",
                "type": kind,
                "timestamp": self.stamp(),
                "data": data,
            }
        )

    def _changed(self, stream: str, record: Payload, previous: Payload) -> None:
        record["updated_at"] = self.stamp()
        self.emit(f"{OBJECTS[stream]}.updated", record, previous)

    # changes a user makes in the Invoiced UI ---------------------------------------------
    def touch(self, stream: str, remote_id: int) -> None:
        record = self.records[stream][remote_id]
        previous = {"notes": record.get("notes")}
        record["notes"] = f"edited {secrets.token_hex(3)}"
        self._changed(stream, record, previous)

    def create(self, stream: str) -> int:
        new_id = next(self._ids[stream])
        now = self.stamp()
        customer = next(iter(self.records["customers"].values()), None)
        customer_id = customer["id"] if customer else None
        currency = customer["currency"] if customer else "usd"
        record: Payload
        if stream == "customers":
            record = {
                "id": new_id,
                "object": "customer",
                "name": f"Walk-in Customer {new_id}",
                "number": f"CUST-{new_id:05d}",
                "email": None,
                "type": "company",
                "currency": "usd",
                "payment_terms": "NET 30",
                "autopay": False,
                "notes": None,
                "metadata": {},
            }
        elif stream == "invoices":
            total = Decimal("125.00")
            record = self._settle_invoice(
                {
                    "id": new_id,
                    "object": "invoice",
                    "customer": customer_id,
                    "name": "Invoice",
                    "number": f"INV-{next(self._invoice_numbers):05d}",
                    "currency": currency,
                    "date": now,
                    "due_date": now + 30 * 86400,
                    "payment_terms": "NET 30",
                    "purchase_order": None,
                    "draft": False,
                    "subtotal": total,
                    "total": total,
                    "balance": total,
                    "status": "sent",
                    "notes": None,
                    "metadata": {},
                },
                self.clock().date(),
            )
        elif stream == "credit_memos":
            total = Decimal("25.00")
            record = self._settle_note(
                {
                    "id": new_id,
                    "object": "credit_note",
                    "customer": customer_id,
                    "name": "Credit Note",
                    "number": f"CN-{next(self._memo_numbers)}",
                    "currency": currency,
                    "date": now,
                    "purchase_order": None,
                    "draft": False,
                    "subtotal": total,
                    "total": total,
                    "balance": total,
                    "status": "open",
                    "notes": None,
                    "metadata": {},
                }
            )
        else:
            amount = Decimal("50.00")
            record = {
                "id": new_id,
                "object": "payment",
                "customer": customer_id,
                "date": now,
                "currency": currency,
                "amount": amount,
                "balance": amount,
                "voided": False,
                "method": "check",
                "reference": f"{new_id}",
                "source": "keyed",
                "notes": None,
                "applied_to": [],
                "metadata": {},
            }
        record["created_at"] = record["updated_at"] = now
        self.records[stream][new_id] = record
        self.emit(f"{OBJECTS[stream]}.created", record)
        return new_id

    def remove(self, stream: str, remote_id: int) -> None:
        """Delete, as Invoiced does; a document with payments applied is voided instead (its
        ``status``; the balance it showed stays)."""
        record = self.records[stream][remote_id]
        if stream in ("invoices", "credit_memos") and record["balance"] != record["total"]:
            if is_voided(record):
                return
            before = {"status": record["status"], "paid": record["paid"]}
            record["status"] = "voided"
            if stream == "invoices":
                self._settle_invoice(record, self.clock().date())
            else:
                self._settle_note(record)
            self._changed(stream, record, {k: v for k, v in before.items() if record[k] != v})
            return
        if stream == "payments":
            self._give_back(record)
        del self.records[stream][remote_id]
        self.emit(f"{OBJECTS[stream]}.deleted", record)

    def void_payment(self, remote_id: int) -> Payload:
        """Void a payment (``DELETE /payments/:id``): it stays, with ``voided`` true and its
        amount and balance as they were; what it applied is owed on the documents again."""
        record = self.records["payments"].get(remote_id)
        if record is None:
            raise Rejected(f"No such payment: {remote_id}", status=404)
        if record["voided"]:
            raise Rejected(f"payment {remote_id} has already been voided")
        self._give_back(record)
        record["voided"] = True
        self._changed("payments", record, {"voided": False})
        return copy.deepcopy(record)

    def _give_back(self, payment: Payload) -> None:
        """A deleted payment's applications return to the invoices and credit notes."""
        for entry in payment.get("applied_to") or []:
            amount = entry["amount"]
            if entry.get("invoice") in self.records["invoices"] and entry["type"] in (
                "invoice",
                "credit_note",
                "applied_credit",
            ):
                self._move("invoices", entry["invoice"], amount)
            if (
                entry["type"] == "credit_note"
                and entry.get("credit_note") in self.records["credit_memos"]
            ):
                self._move("credit_memos", entry["credit_note"], amount)
            customer = payment.get("customer")
            if entry["type"] == "credit" and customer is not None:
                self.credit_balances[customer] = self.credit_balances.get(customer, ZERO) - amount
            if entry["type"] == "applied_credit" and customer is not None:
                self.credit_balances[customer] = self.credit_balances.get(customer, ZERO) + amount

    def _move(self, stream: str, remote_id: int, delta: Decimal) -> None:
        """Change a document's balance by ``delta`` and record the change."""
        record = self.records[stream][remote_id]
        previous = {"balance": record["balance"], "status": record["status"]}
        was_paid = record["paid"]
        record["balance"] = record["balance"] + delta
        if stream == "invoices":
            self._settle_invoice(record, self.clock().date())
        else:
            self._settle_note(record)
        self._changed(stream, record, previous)
        if stream == "invoices" and record["paid"] and not was_paid:
            self.emit("invoice.paid", record)

    # POST /payments ---------------------------------------------------------------------------
    def create_payment(self, body: Any) -> Payload:
        """Record a payment and apply it; :class:`Rejected`, with nothing changed, if invalid."""
        if not isinstance(body, dict):
            raise Rejected("the request body must be a JSON object")
        customer_id = (
            _id(body["customer"], "customer") if body.get("customer") is not None else None
        )
        if customer_id is not None and customer_id not in self.records["customers"]:
            raise Rejected(f"No such customer: {customer_id}", "customer", 404)
        amount = _amount(body.get("amount", 0), "amount")
        metadata = _metadata(body.get("metadata"))
        entries = body.get("applied_to") or []
        if not isinstance(entries, list):
            raise Rejected("applied_to must be a list", "applied_to")
        invoices = self.records["invoices"]
        notes = self.records["credit_memos"]
        owed = {k: v["balance"] for k, v in invoices.items()}
        left = {k: v["balance"] for k, v in notes.items()}
        credit_change = ZERO  # added to (credit) or drawn from (applied_credit) credit balance
        currency = body.get("currency")
        cash = ZERO
        applied: list[Payload] = []
        moves: list[tuple[str, int, Decimal]] = []

        def document(stream: str, value: Any, param: str) -> Payload:
            nonlocal customer_id, currency
            found = self.records[stream].get(_id(value, param))
            if found is None:
                raise Rejected(f"No such {OBJECTS[stream]}: {value}", param)
            if is_voided(found):
                raise Rejected(f"{found['number']} is voided", param)
            if customer_id is None:
                customer_id = found["customer"]
            elif found["customer"] != customer_id:
                raise Rejected(f"{found['number']} belongs to another customer", param)
            if currency is None:
                currency = found["currency"]
            elif str(currency).lower() != found["currency"]:
                raise Rejected(f"{found['number']} is in {found['currency']}", param)
            return found

        for index, entry in enumerate(entries):
            where = f"applied_to[{index}]"
            if not isinstance(entry, dict):
                raise Rejected(f"{where} must be an object", where)
            kind = entry.get("type")
            value = _amount(entry.get("amount"), f"{where}[amount]", positive=True)
            if kind == "invoice":
                invoice = document("invoices", entry.get("invoice"), f"{where}[invoice]")
                if value > owed[invoice["id"]]:
                    raise Rejected(
                        f"{value} is more than the balance of {invoice['number']}",
                        f"{where}[amount]",
                    )
                owed[invoice["id"]] -= value
                cash += value
                moves.append(("invoices", invoice["id"], -value))
                applied.append({"type": "invoice", "invoice": invoice["id"], "amount": value})
            elif kind == "credit_note":
                if entry.get("document_type", "invoice") != "invoice":
                    raise Rejected("only invoices are supported", f"{where}[document_type]")
                note = document("credit_memos", entry.get("credit_note"), f"{where}[credit_note]")
                invoice = document("invoices", entry.get("invoice"), f"{where}[invoice]")
                if value > left[note["id"]]:
                    raise Rejected(
                        f"{value} is more than the balance of {note['number']}", f"{where}[amount]"
                    )
                if value > owed[invoice["id"]]:
                    raise Rejected(
                        f"{value} is more than the balance of {invoice['number']}",
                        f"{where}[amount]",
                    )
                left[note["id"]] -= value
                owed[invoice["id"]] -= value
                moves += [("credit_memos", note["id"], -value), ("invoices", invoice["id"], -value)]
                applied.append(
                    {
                        "type": "credit_note",
                        "credit_note": note["id"],
                        "document_type": "invoice",
                        "invoice": invoice["id"],
                        "amount": value,
                    }
                )
            elif kind == "applied_credit":
                invoice = document("invoices", entry.get("invoice"), f"{where}[invoice]")
                available = self.credit_balances.get(invoice["customer"], ZERO) + credit_change
                if value > available or value > owed[invoice["id"]]:
                    raise Rejected(
                        "not enough credit balance or invoice balance", f"{where}[amount]"
                    )
                credit_change -= value
                owed[invoice["id"]] -= value
                moves.append(("invoices", invoice["id"], -value))
                applied.append(
                    {
                        "type": "applied_credit",
                        "document_type": "invoice",
                        "invoice": invoice["id"],
                        "amount": value,
                    }
                )
            elif kind in ("credit", "convenience_fee"):
                cash += value
                if kind == "credit":
                    credit_change += value
                applied.append({"type": kind, "amount": value})
            else:
                raise Rejected(f"unknown application type {kind!r}", f"{where}[type]")
        if cash > amount:
            raise Rejected(f"applied {cash} is more than the payment amount {amount}", "applied_to")
        if customer_id is None:
            raise Rejected("customer is required when nothing is applied", "customer")
        currency = str(currency or self.records["customers"][customer_id]["currency"]).lower()
        date_value = body.get("date")
        now = self.stamp()
        payment: Payload = {
            "id": next(self._ids["payments"]),
            "object": "payment",
            "customer": customer_id,
            "date": _id(date_value, "date") if date_value is not None else now,
            "currency": currency,
            "amount": amount,
            "balance": amount - cash,
            "voided": False,
            "method": str(body.get("method") or "other"),
            "reference": body.get("reference"),
            "source": str(body.get("source") or "keyed"),
            "notes": body.get("notes"),
            "applied_to": applied,
            "metadata": metadata,
            "created_at": now,
            "updated_at": now,
        }
        for stream, remote_id, delta in moves:
            self._move(stream, remote_id, delta)
        self.credit_balances[customer_id] = (
            self.credit_balances.get(customer_id, ZERO) + credit_change
        )
        self.records["payments"][payment["id"]] = payment
        self.emit("payment.created", payment)
        return payment

    # POST /credit_notes -----------------------------------------------------------------------
    def _line_item(self, item: Payload, cost: Decimal, quantity: int) -> Payload:
        """A requested item as Invoiced shows a line item (its own id, ``amount`` computed)."""
        return {
            "id": next(self._line_ids),
            "object": "line_item",
            "catalog_item": item.get("catalog_item"),
            "type": item.get("type"),
            "name": item.get("name"),
            "description": item.get("description"),
            "quantity": quantity,
            "unit_cost": cost,
            "amount": cost * quantity,
            "discountable": True,
            "discounts": [],
            "taxable": True,
            "taxes": [],
            "metadata": _metadata(item.get("metadata")),
        }

    def create_credit_note(self, body: Any) -> Payload:
        """Issue a credit note to a customer, with its whole total as balance; it is applied to
        an invoice later by a payment (``applied_to`` type ``credit_note``).

        Invoiced documents no ``invoice`` attribute on credit notes (the backend still takes it
        as a legacy, no longer recommended way to apply the note on creation): the sandbox
        refuses it, so a client relying on it fails here instead of in production. The sandbox
        keeps no tax rates: ``calculate_taxes`` (documented, default true) is only checked to
        be a boolean. :class:`Rejected`, with nothing changed, if invalid."""
        if not isinstance(body, dict):
            raise Rejected("the request body must be a JSON object")
        if "invoice" in body:
            raise Rejected(
                "invoice is not a credit note attribute: apply the credit note to the invoice "
                "with a payment (applied_to type credit_note)",
                "invoice",
            )
        customer_id = _id(body.get("customer"), "customer")
        customer = self.records["customers"].get(customer_id)
        if customer is None:
            raise Rejected(f"No such customer: {customer_id}", "customer", 404)
        metadata = _metadata(body.get("metadata"))
        if not isinstance(body.get("calculate_taxes", True), bool):
            raise Rejected("calculate_taxes must be a boolean", "calculate_taxes")
        items = body.get("items")
        if not isinstance(items, list) or not items:
            raise Rejected("items must be a non-empty list", "items")
        total = ZERO
        lines: list[Payload] = []
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise Rejected(f"items[{index}] must be an object", f"items[{index}]")
            cost = _amount(item.get("unit_cost"), f"items[{index}][unit_cost]", positive=True)
            quantity = item.get("quantity", 1)
            if not isinstance(quantity, int) or quantity < 1:
                raise Rejected("quantity must be a positive integer", f"items[{index}][quantity]")
            total += cost * quantity
            lines.append(self._line_item(item, cost, quantity))
        currency = str(body.get("currency") or customer["currency"]).lower()
        if len(currency) != 3 or not currency.isalpha():
            raise Rejected("currency must be a 3-letter ISO code", "currency")
        now = self.stamp()
        note = self._settle_note(
            {
                "id": next(self._ids["credit_memos"]),
                "object": "credit_note",
                "customer": customer_id,
                "name": str(body.get("name") or "Credit Note"),
                "number": f"CN-{next(self._memo_numbers)}",
                "currency": currency,
                "date": _id(body["date"], "date") if body.get("date") is not None else now,
                "purchase_order": body.get("purchase_order"),
                "draft": False,
                "items": lines,
                "subtotal": total,
                "total": total,
                "balance": total,
                "status": "open",
                "notes": body.get("notes"),
                "metadata": metadata,
                "created_at": now,
                "updated_at": now,
            }
        )
        self.records["credit_memos"][note["id"]] = note
        self.emit("credit_note.created", note)
        return note
