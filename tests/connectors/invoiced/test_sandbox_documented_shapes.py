"""The Invoiced sandbox serves only what Invoiced documents (github.com/Invoiced/api: the object
attribute lists in ``source/includes`` and the example payloads in ``data``), read over HTTP.

Facts pinned here: invoices and credit notes have no ``voided`` attribute (a void is
``status: "voided"``) and a voided document keeps its balance (``data/invoicing/invoices/
voided.json``, ``data/credit_notes/voided.json``); ``closed`` means written off as bad debt, so
it is false on a paid or voided document (``pay.json``, ``voided.json``); payments do have
``voided``, and a voided payment keeps its amount and balance (``data/payments/void.json``);
a payment created without a ``source`` is ``keyed``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import requests

from canonical.enums import DocumentStatus, PaymentStatus
from connectors.base import RawRecord
from connectors.invoiced import InvoicedSandbox
from connectors.invoiced.jsonwire import dumps, loads
from connectors.sandbox.world import World
from mappings.base import MappingContext
from mappings.invoiced import credit_memo, invoice, payment

CTX = MappingContext(system="invoiced")

CUSTOMER = {
    "id", "object", "name", "number", "email", "autopay", "autopay_delay_days", "payment_terms",
    "payment_source", "attention_to", "address1", "address2", "city", "state", "postal_code",
    "country", "language", "currency", "chase", "chasing_cadence", "next_chase_step", "phone",
    "credit_hold", "credit_limit", "owner", "taxable", "taxes", "tax_id",
    "avalara_entity_use_code", "avalara_exemption_number", "type", "parent_customer", "notes",
    "sign_up_page", "sign_up_url", "statement_pdf_url", "ach_gateway", "cc_gateway",
    "created_at", "updated_at", "metadata",
}  # fmt: skip
INVOICE = {
    "id", "object", "customer", "name", "number", "autopay", "currency", "draft", "closed",
    "paid", "status", "attempt_count", "next_payment_attempt", "subscription", "date",
    "due_date", "payment_terms", "purchase_order", "items", "notes", "subtotal", "discounts",
    "taxes", "total", "balance", "ship_to", "payment_plan", "url", "payment_url", "pdf_url",
    "created_at", "updated_at", "metadata",
}  # fmt: skip
CREDIT_NOTE = {
    "id", "object", "customer", "name", "number", "purchase_order", "currency", "draft",
    "closed", "paid", "status", "date", "items", "notes", "subtotal", "discounts", "taxes",
    "total", "balance", "url", "pdf_url", "created_at", "updated_at", "metadata",
}  # fmt: skip
# the payment list omits metadata; arsync keeps its write keys there (see the report)
PAYMENT = {
    "id", "object", "customer", "date", "currency", "amount", "balance", "matched", "voided",
    "method", "ach_sender_id", "reference", "source", "notes", "charge", "applied_to",
    "pdf_url", "created_at", "updated_at", "metadata",
}  # fmt: skip
APPLICATION = {"amount", "type", "invoice", "estimate", "credit_note", "document_type"}
LINE_ITEM = {
    "id", "object", "catalog_item", "type", "name", "description", "quantity", "unit_cost",
    "amount", "discountable", "discounts", "taxable", "taxes", "plan", "metadata",
}  # fmt: skip
EVENT = {"id", "object", "type", "timestamp", "data"}
ATTRIBUTES = {
    "customer": CUSTOMER,
    "invoice": INVOICE,
    "credit_note": CREDIT_NOTE,
    "payment": PAYMENT,
}
INVOICE_STATUSES = {"draft", "not_sent", "sent", "viewed", "past_due", "pending", "paid", "voided"}
CREDIT_NOTE_STATUSES = {"draft", "open", "paid", "closed", "voided"}
METHODS = {
    "ach", "cash", "check", "credit_card", "eft", "direct_debit", "other", "paypal",
    "wire_transfer",
}  # fmt: skip
EVENT_TYPES = {
    f"{kind}.{action}"
    for kind in ("customer", "invoice", "credit_note", "payment")
    for action in ("created", "updated", "deleted")
} | {"invoice.paid", "invoice.viewed", "credit_note.viewed", "customer.merged"}
AMOUNTS = {
    "invoice": ("subtotal", "total", "balance"),
    "credit_note": ("subtotal", "total", "balance"),
    "payment": ("amount", "balance"),
    "customer": (),
}
TIMESTAMPS = {
    "invoice": ("date", "due_date", "created_at", "updated_at"),
    "credit_note": ("date", "created_at", "updated_at"),
    "payment": ("date", "created_at", "updated_at"),
    "customer": ("created_at", "updated_at"),
}


@pytest.fixture(scope="module")
def world() -> World:
    return World.generate(seed=2, customers=12, invoices=220)


@pytest.fixture
def sandbox(world: World) -> Iterator[InvoicedSandbox]:
    server = InvoicedSandbox(world=world)
    server.start()
    yield server
    server.stop()


def call(
    sandbox: InvoicedSandbox, method: str, path: str, body: Any = None, **params: Any
) -> tuple[int, Any]:
    """One request; the body parsed as Invoiced's JSON (fractions as Decimal)."""
    response = requests.request(
        method,
        sandbox.base_url + path,
        params=params,
        data=dumps(body) if body is not None else None,
        headers={"Content-Type": "application/json"},
        auth=(sandbox.api_key, ""),
        timeout=10,
    )
    return response.status_code, loads(response.content)


def listed(sandbox: InvoicedSandbox, path: str, **params: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    page = 1
    while True:
        status, items = call(sandbox, "GET", path, page=page, per_page=100, **params)
        assert status == 200, items
        out += items
        if len(items) < 100:
            return out
        page += 1


def shape_problems(obj: dict[str, Any], kind: str | None = None) -> list[str]:
    """Every way ``obj`` differs from the documented shape of its object type."""
    kind = kind or obj.get("object")
    assert kind in ATTRIBUTES, obj
    where = f"{kind} {obj.get('id')}"
    problems = [f"{where}: undocumented {k}" for k in sorted(set(obj) - ATTRIBUTES[kind])]
    if obj.get("object") != kind:
        problems.append(f"{where}: object is {obj.get('object')!r}")
    if not isinstance(obj.get("id"), int) or isinstance(obj.get("id"), bool):
        problems.append(f"{where}: id {obj.get('id')!r} is not an integer")
    for name in AMOUNTS[kind]:
        value = obj.get(name)
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            problems.append(f"{where}: {name} {value!r} is not a JSON number")
    for name in TIMESTAMPS[kind]:
        value = obj.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            problems.append(f"{where}: {name} {value!r} is not unix seconds")
        elif value is not None and not 946_684_800 <= value <= 4_102_444_800:
            problems.append(f"{where}: {name} {value} is not unix seconds (2000..2100)")
    currency = obj.get("currency")
    if currency is not None and (currency != str(currency).lower() or len(currency) != 3):
        problems.append(f"{where}: currency {currency!r} is not a lower-case ISO code")
    if kind == "invoice" and obj.get("status") not in INVOICE_STATUSES:
        problems.append(f"{where}: status {obj.get('status')!r}")
    if kind == "credit_note" and obj.get("status") not in CREDIT_NOTE_STATUSES:
        problems.append(f"{where}: status {obj.get('status')!r}")
    if kind in ("invoice", "credit_note"):
        for flag in ("draft", "closed", "paid"):
            if not isinstance(obj.get(flag), bool):
                problems.append(f"{where}: {flag} {obj.get(flag)!r} is not a boolean")
        for index, item in enumerate(obj.get("items") or []):
            extra = sorted(set(item) - LINE_ITEM)
            if extra:
                problems.append(f"{where}: items[{index}] undocumented {extra}")
    if kind == "payment":
        if not isinstance(obj.get("voided"), bool):
            problems.append(f"{where}: voided {obj.get('voided')!r} is not a boolean")
        if obj.get("method") not in METHODS:
            problems.append(f"{where}: method {obj.get('method')!r}")
        for index, entry in enumerate(obj.get("applied_to") or []):
            extra = sorted(set(entry) - APPLICATION)
            if extra:
                problems.append(f"{where}: applied_to[{index}] undocumented {extra}")
    return problems


def open_invoice(sandbox: InvoicedSandbox, at_least: Decimal) -> dict[str, Any]:
    return next(
        i
        for i in listed(sandbox, "/invoices")
        if i["status"] not in ("paid", "voided") and i["balance"] >= at_least
    )


def mapped(obj: dict[str, Any], stream: str) -> Any:
    mapper = {"invoices": invoice, "credit_memos": credit_memo, "payments": payment}[stream]
    record = RawRecord(
        stream=stream,
        object_type=obj["object"],
        remote_id=str(obj["id"]),
        payload=obj,
        modified_at=datetime.now(UTC),
    )
    return mapper.to_canonical(record, CTX)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/customers", {}),
        ("/invoices", {}),
        ("/credit_notes", {}),
        ("/payments", {}),
        ("/payments", {"include": "applied_to"}),
    ],
)
def test_every_listed_object_has_only_documented_attributes_and_types(
    sandbox: InvoicedSandbox, path: str, params: dict[str, str]
) -> None:
    objects = listed(sandbox, path, **params)
    assert objects
    problems = [p for obj in objects for p in shape_problems(obj)]
    assert problems == []
    status, one = call(sandbox, "GET", f"{path}/{objects[-1]['id']}", **params)
    assert status == 200 and shape_problems(one) == []


def test_a_voided_invoice_is_its_status_and_keeps_its_balance(sandbox: InvoicedSandbox) -> None:
    voided = [i for i in listed(sandbox, "/invoices") if i["status"] == "voided"]
    assert voided  # the world voids a few invoices nobody paid
    for record in voided:
        assert "voided" not in record
        assert record["balance"] == record["total"] > 0, record["number"]
        assert (record["paid"], record["closed"]) == (False, False)
        canonical = mapped(record, "invoices")
        assert canonical.status is DocumentStatus.VOID
        assert canonical.balance.amount == Decimal("0.00")


def test_voiding_a_part_paid_invoice_keeps_what_it_still_showed(
    sandbox: InvoicedSandbox,
) -> None:
    target = open_invoice(sandbox, Decimal("20.00"))
    status, paid = call(
        sandbox,
        "POST",
        "/payments",
        {
            "customer": target["customer"],
            "amount": Decimal("10.00"),
            "applied_to": [
                {"type": "invoice", "invoice": target["id"], "amount": Decimal("10.00")}
            ],
        },
    )
    assert status == 201, paid
    owed = target["balance"] - Decimal("10.00")

    sandbox.remove("invoices", str(target["id"]))  # has a payment: Invoiced voids it

    status, after = call(sandbox, "GET", f"/invoices/{target['id']}")
    assert status == 200
    assert shape_problems(after) == []
    assert after["status"] == "voided" and "voided" not in after
    assert after["balance"] == owed
    assert (after["paid"], after["closed"]) == (False, False)
    canonical = mapped(after, "invoices")
    assert canonical.status is DocumentStatus.VOID
    assert canonical.balance.amount == Decimal("0.00")
    _, events = call(sandbox, "GET", "/events", related_to=f"invoice,{target['id']}")
    change = events[0]
    assert change["type"] == "invoice.updated"
    assert change["data"]["previous"]["status"] != "voided"
    assert set(change["data"]["previous"]) <= INVOICE
    assert change["data"]["object"]["balance"] == owed


def test_a_voided_credit_note_is_its_status_and_keeps_its_balance(
    sandbox: InvoicedSandbox,
) -> None:
    target = open_invoice(sandbox, Decimal("30.00"))
    status, note = call(
        sandbox,
        "POST",
        "/credit_notes",
        {
            "customer": target["customer"],
            "currency": target["currency"],
            "items": [{"name": "Short shipment", "quantity": 1, "unit_cost": Decimal("25.00")}],
        },
    )
    assert status == 201, note
    assert shape_problems(note) == []
    assert note["status"] == "open" and note["balance"] == Decimal("25.00")
    status, applied = call(
        sandbox,
        "POST",
        "/payments",
        {
            "customer": target["customer"],
            "amount": 0,
            "applied_to": [
                {
                    "type": "credit_note",
                    "credit_note": note["id"],
                    "document_type": "invoice",
                    "invoice": target["id"],
                    "amount": Decimal("10.00"),
                }
            ],
        },
    )
    assert status == 201, applied

    sandbox.remove("credit_memos", str(note["id"]))

    status, after = call(sandbox, "GET", f"/credit_notes/{note['id']}")
    assert status == 200 and shape_problems(after) == []
    assert after["status"] == "voided" and "voided" not in after
    assert after["balance"] == Decimal("15.00")
    assert (after["paid"], after["closed"]) == (False, False)
    canonical = mapped(after, "credit_memos")
    assert canonical.status is DocumentStatus.VOID
    assert canonical.balance.amount == Decimal("0.00")


def test_a_paid_invoice_is_paid_not_closed(sandbox: InvoicedSandbox) -> None:
    paid = [i for i in listed(sandbox, "/invoices") if i["status"] == "paid"]
    assert paid
    for record in paid:
        assert (record["paid"], record["closed"], record["balance"]) == (True, False, 0)
        assert mapped(record, "invoices").status is DocumentStatus.PAID
    notes = [n for n in listed(sandbox, "/credit_notes") if n["status"] == "paid"]
    assert notes
    for record in notes:
        assert (record["paid"], record["closed"], record["balance"]) == (True, False, 0)


def test_write_replies_and_a_payment_void_have_documented_shapes(
    sandbox: InvoicedSandbox,
) -> None:
    target = open_invoice(sandbox, Decimal("5.00"))
    status, created = call(
        sandbox,
        "POST",
        "/payments",
        {
            "customer": target["customer"],
            "amount": Decimal("7.50"),
            "method": "check",
            "applied_to": [{"type": "invoice", "invoice": target["id"], "amount": Decimal("5.00")}],
            "metadata": {"arsync_key": "k-1"},
        },
    )
    assert status == 201 and shape_problems(created) == []
    assert created["source"] == "keyed"  # the documented default
    assert (created["amount"], created["balance"], created["voided"]) == (
        Decimal("7.50"),
        Decimal("2.50"),
        False,
    )

    status, voided = call(sandbox, "DELETE", f"/payments/{created['id']}")
    assert status == 200 and shape_problems(voided) == []
    assert voided["voided"] is True
    assert (voided["amount"], voided["balance"]) == (Decimal("7.50"), Decimal("2.50"))
    canonical = mapped(voided, "payments")
    assert canonical.status is PaymentStatus.VOID
    assert canonical.unapplied.amount == Decimal("0.00")
    _, back = call(sandbox, "GET", f"/invoices/{target['id']}")
    assert back["balance"] == target["balance"]

    status, note = call(
        sandbox,
        "POST",
        "/credit_notes",
        {
            "customer": target["customer"],
            "name": "Deduction",
            "items": [{"name": "Damaged", "quantity": 1, "unit_cost": Decimal("12.34")}],
            "calculate_taxes": False,
        },
    )
    assert status == 201 and shape_problems(note) == []
    item = note["items"][0]
    assert (item["object"], item["quantity"], item["unit_cost"], item["amount"]) == (
        "line_item",
        1,
        Decimal("12.34"),
        Decimal("12.34"),
    )
    assert note["total"] == note["balance"] == Decimal("12.34")


def test_events_have_documented_envelopes_and_objects(sandbox: InvoicedSandbox) -> None:
    target = open_invoice(sandbox, Decimal("5.00"))
    status, created = call(
        sandbox,
        "POST",
        "/payments",
        {
            "customer": target["customer"],
            "amount": target["balance"],
            "applied_to": [
                {"type": "invoice", "invoice": target["id"], "amount": target["balance"]}
            ],
        },
    )
    assert status == 201
    call(sandbox, "DELETE", f"/payments/{created['id']}")
    sandbox.touch("customers", str(target["customer"]))
    sandbox.remove("payments", str(created["id"]))
    events = listed(sandbox, "/events")
    kinds = {e["type"] for e in events}
    assert {"payment.created", "invoice.paid", "invoice.updated", "payment.updated"} <= kinds
    assert {"customer.updated", "payment.deleted"} <= kinds
    problems: list[str] = []
    for event in events:
        where = f"event {event.get('id')}"
        problems += [f"{where}: undocumented {k}" for k in sorted(set(event) - EVENT)]
        if event["type"] not in EVENT_TYPES:
            problems.append(f"{where}: type {event['type']}")
        if not isinstance(event["timestamp"], int):
            problems.append(f"{where}: timestamp {event['timestamp']!r}")
        data = event["data"]
        problems += [f"{where}: data.{k}" for k in sorted(set(data) - {"object", "previous"})]
        kind = event["type"].split(".", 1)[0]
        obj = dict(data["object"])
        if kind == "invoice":  # the reference's event examples expand the invoice's customer
            customer = obj["customer"]
            problems += shape_problems(customer, "customer")
            assert customer["id"] == sandbox.record("invoices", str(obj["id"]))["customer"]
            obj["customer"] = customer["id"]
        problems += shape_problems(obj, kind)
        extra = sorted(set(data.get("previous") or {}) - ATTRIBUTES[kind])
        if extra:
            problems.append(f"{where}: previous has undocumented {extra}")
    assert problems == []
