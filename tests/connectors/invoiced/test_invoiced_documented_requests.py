"""What arsync sends to Invoiced, exactly as documented (https://developer.invoiced.com/api/,
source github.com/Invoiced/api: ``POST /payments`` with ``applied_to`` entries, ``POST
/credit_notes``, error bodies ``{"type", "message", "param"}``, metadata limits of 10 keys,
40-character keys and 255-character values), and how the answers are read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
import requests

from connectors.base import MemoryTokenStore
from connectors.errors import DataError, RateLimitError
from connectors.http import RetryPolicy
from connectors.invoiced import InvoicedConnector, InvoicedSandbox
from connectors.invoiced.writes import (
    Application,
    CreditNoteCreate,
    PaymentCreate,
    credit_note_application,
)
from connectors.sandbox.world import World

KEY = "0123456789abcdef0123456789abcdef"
NOON_2024_05_01 = int(datetime(2024, 5, 1, 12, tzinfo=UTC).timestamp())


class Sent(list[requests.PreparedRequest]):
    def __call__(self, response: requests.Response, *_: Any, **__: Any) -> None:
        self.append(response.request)

    def posts(self) -> list[tuple[requests.PreparedRequest, dict[str, Any], str]]:
        found = []
        for request in self:
            if request.method == "POST":
                raw = request.body.decode() if isinstance(request.body, bytes) else request.body
                assert isinstance(raw, str)
                found.append((request, json.loads(raw, parse_float=Decimal), raw))
        return found


@pytest.fixture
def sandbox() -> Iterator[InvoicedSandbox]:
    server = InvoicedSandbox(world=World.generate(seed=9, customers=12, invoices=120))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def sent() -> Sent:
    return Sent()


@pytest.fixture
def conn(sandbox: InvoicedSandbox, sleeps: list[float], sent: Sent) -> InvoicedConnector:
    made = InvoicedConnector(
        sandbox.config(), MemoryTokenStore(), policy=RetryPolicy(sleep=sleeps.append)
    )
    made.session.hooks["response"].append(sent)
    return made


def open_invoice(sandbox: InvoicedSandbox, minimum: Decimal = Decimal("5")) -> dict[str, Any]:
    return next(
        record
        for record in (sandbox.record("invoices", i) for i in sandbox.remote_ids("invoices"))
        if not record["voided"] and record["balance"] >= minimum
    )


def test_apply_cash_payment_body_and_idempotency_key(
    sandbox: InvoicedSandbox, conn: InvoicedConnector, sent: Sent
) -> None:
    invoice = open_invoice(sandbox)
    payment = PaymentCreate(
        key=KEY,
        customer_id=str(invoice["customer"]),
        amount=Decimal("12.50"),
        applications=(Application("invoice", str(invoice["id"]), Decimal("2.5")),),
        currency=invoice["currency"].upper(),
        received_on=date(2024, 5, 1),
        reference="WIRE-778",
        notes="remittance from Acme Ltd",
    )
    sandbox.faults.fail_next = 2  # two 503s: the same key is sent three times
    reply = conn.apply_payment(payment)
    posts = sent.posts()
    assert len(posts) == 3
    assert {request.headers["Idempotency-Key"] for request, _, _ in posts} == {KEY}
    assert {raw for _, _, raw in posts} == {posts[0][2]}  # the same body each time
    request, body, raw = posts[0]
    assert request.url == f"{sandbox.base_url}/payments"
    assert request.headers["Content-Type"] == "application/json"
    assert body == {
        "customer": invoice["customer"],  # an integer id, as documented
        "amount": Decimal("12.50"),
        "applied_to": [{"type": "invoice", "invoice": invoice["id"], "amount": Decimal("2.50")}],
        "metadata": {"arsync_key": KEY},
        "currency": invoice["currency"],  # lower-case ISO code, as Invoiced returns it
        "date": NOON_2024_05_01,  # a unix timestamp, as documented
        "reference": "WIRE-778",
        "notes": "remittance from Acme Ltd",
    }
    assert '"amount":12.50' in raw and '"amount":2.50' in raw  # JSON numbers
    assert reply["balance"] == Decimal("10.00") and sandbox.payments_created == 1


def test_credit_note_application_body(
    sandbox: InvoicedSandbox, conn: InvoicedConnector, sent: Sent
) -> None:
    note = next(
        sandbox.record("credit_memos", i)
        for i in sandbox.remote_ids("credit_memos")
        if sandbox.record("credit_memos", i)["balance"] > 1
    )
    invoice = next(
        sandbox.record("invoices", i)
        for i in sandbox.remote_ids("invoices")
        if sandbox.record("invoices", i)["customer"] == note["customer"]
        and sandbox.record("invoices", i)["balance"] >= 1
        and not sandbox.record("invoices", i)["voided"]
    )
    write = credit_note_application(
        KEY, str(note["customer"]), str(invoice["id"]), str(note["id"]), Decimal("1")
    )
    conn.apply_payment(write)
    [(request, body, _)] = sent.posts()
    assert request.headers["Idempotency-Key"] == KEY
    assert body == {
        "customer": note["customer"],
        "amount": Decimal("0.00"),
        "applied_to": [
            {
                "type": "credit_note",
                "credit_note": note["id"],
                "document_type": "invoice",
                "invoice": invoice["id"],
                "amount": Decimal("1.00"),
            }
        ],
        "metadata": {"arsync_key": KEY},
        "method": "other",
    }


def test_write_off_credit_note_body(
    sandbox: InvoicedSandbox, conn: InvoicedConnector, sent: Sent
) -> None:
    invoice = open_invoice(sandbox)
    note = CreditNoteCreate(
        key=KEY,
        customer_id=str(invoice["customer"]),
        amount=Decimal("3.5"),
        reason="Deduction short-pay",
        currency=invoice["currency"],
        issued_on=date(2024, 5, 1),
    )
    made = conn.writer.create_credit_note(note)
    [(request, body, raw)] = sent.posts()
    assert request.url == f"{sandbox.base_url}/credit_notes"
    assert request.headers["Idempotency-Key"] == KEY
    assert body == {  # documented credit note attributes only: no ``invoice``
        "customer": invoice["customer"],
        "name": "Deduction",
        "items": [{"name": "Deduction short-pay", "quantity": 1, "unit_cost": Decimal("3.50")}],
        "calculate_taxes": False,  # Invoiced's default (true) would tax the write-off
        "metadata": {"arsync_key": KEY},
        "currency": invoice["currency"],
        "date": NOON_2024_05_01,
    }
    assert '"unit_cost":3.50' in raw
    assert made["total"] == Decimal("3.50") and made["balance"] == Decimal("3.50")
    after = sandbox.record("invoices", str(invoice["id"]))
    assert after["balance"] == invoice["balance"]  # created, not applied to anything


# documented error bodies ------------------------------------------------------------------------
def test_an_application_beyond_the_credit_note_balance_is_refused_naming_the_param(
    sandbox: InvoicedSandbox, conn: InvoicedConnector
) -> None:
    note = next(
        sandbox.record("credit_memos", i)
        for i in sandbox.remote_ids("credit_memos")
        if sandbox.record("credit_memos", i)["balance"] > 0
    )
    invoice = next(
        sandbox.record("invoices", i)
        for i in sandbox.remote_ids("invoices")
        if sandbox.record("invoices", i)["customer"] == note["customer"]
        and sandbox.record("invoices", i)["balance"] > note["balance"]
        and not sandbox.record("invoices", i)["voided"]
    )
    too_much = credit_note_application(
        KEY,
        str(note["customer"]),
        str(invoice["id"]),
        str(note["id"]),
        note["balance"] + Decimal("1.00"),
    )
    with pytest.raises(DataError, match=r"param applied_to\[0\]\[amount\]") as refused:
        conn.apply_payment(too_much)
    assert refused.value.status == 400 and refused.value.code == "invalid_request"
    assert sandbox.record("credit_memos", str(note["id"]))["balance"] == note["balance"]


def test_metadata_beyond_the_documented_limits_is_refused(
    sandbox: InvoicedSandbox, conn: InvoicedConnector
) -> None:
    invoice = open_invoice(sandbox)
    payment = PaymentCreate(
        "k" * 256, str(invoice["customer"]), Decimal("1.00"), (), currency=invoice["currency"]
    )
    with pytest.raises(DataError, match=r"metadata\[arsync_key\]"):
        conn.apply_payment(payment)
    assert sandbox.payments_created == 0


def test_429_is_rate_limited_and_retried_with_the_same_key(
    sandbox: InvoicedSandbox, conn: InvoicedConnector, sleeps: list[float], sent: Sent
) -> None:
    invoice = open_invoice(sandbox)
    payment = PaymentCreate(
        KEY,
        str(invoice["customer"]),
        Decimal("1.00"),
        (Application("invoice", str(invoice["id"]), Decimal("1.00")),),
    )
    sandbox.faults.rate_limit_every = 1
    sandbox.faults.retry_after = 2
    with pytest.raises(RateLimitError) as limited:
        conn.apply_payment(payment)
    assert limited.value.code == "rate_limit_error" and limited.value.retry_after == 2
    assert sleeps and set(sleeps) == {2}
    assert {r.headers["Idempotency-Key"] for r, _, _ in sent.posts()} == {KEY}
    sandbox.faults.rate_limit_every = 0
    conn.apply_payment(payment)
    assert sandbox.payments_created == 1


def test_5xx_error_body_is_the_documented_api_type(sandbox: InvoicedSandbox) -> None:
    sandbox.faults.fail_next = 1
    reply = requests.get(f"{sandbox.base_url}/customers", auth=(sandbox.api_key, ""), timeout=5)
    assert reply.status_code == 503
    assert reply.json()["type"] == "api" and reply.json()["message"]


# write-off: a credit note, then a payment applying it (no ``invoice`` on credit notes) -------
def test_a_credit_note_naming_an_invoice_is_refused_as_undocumented(
    sandbox: InvoicedSandbox,
) -> None:
    invoice = open_invoice(sandbox)
    reply = requests.post(
        f"{sandbox.base_url}/credit_notes",
        auth=(sandbox.api_key, ""),
        json={
            "customer": invoice["customer"],
            "invoice": invoice["id"],
            "items": [{"name": "Deduction", "quantity": 1, "unit_cost": 2}],
        },
        timeout=5,
    )
    assert reply.status_code == 400
    assert reply.json()["type"] == "invalid_request" and reply.json()["param"] == "invoice"
    assert sandbox.credit_notes_created == 0
    assert sandbox.record("invoices", str(invoice["id"]))["balance"] == invoice["balance"]


def test_calculate_taxes_on_a_credit_note_must_be_a_boolean(sandbox: InvoicedSandbox) -> None:
    invoice = open_invoice(sandbox)
    reply = requests.post(
        f"{sandbox.base_url}/credit_notes",
        auth=(sandbox.api_key, ""),
        json={
            "customer": invoice["customer"],
            "calculate_taxes": "false",
            "items": [{"name": "Deduction", "quantity": 1, "unit_cost": 2}],
        },
        timeout=5,
    )
    assert reply.status_code == 400 and reply.json()["param"] == "calculate_taxes"
    assert sandbox.credit_notes_created == 0


def test_a_credit_note_is_applied_by_a_payment_never_beyond_the_invoice_balance(
    sandbox: InvoicedSandbox, conn: InvoicedConnector
) -> None:
    invoice = open_invoice(sandbox)
    customer = str(invoice["customer"])
    note = conn.writer.create_credit_note(
        CreditNoteCreate(
            f"{KEY}:m",
            customer,
            invoice["balance"] + Decimal("5.00"),
            "Deduction",
            currency=invoice["currency"],
        )
    )
    assert note["balance"] == invoice["balance"] + Decimal("5.00")
    too_much = credit_note_application(
        f"{KEY}:x", customer, str(invoice["id"]), str(note["id"]), note["balance"]
    )
    with pytest.raises(DataError, match=r"param applied_to\[0\]\[amount\]"):
        conn.apply_payment(too_much)
    assert sandbox.payments_created == 0
    exact = credit_note_application(
        f"{KEY}:a", customer, str(invoice["id"]), str(note["id"]), invoice["balance"]
    )
    conn.apply_payment(exact)
    assert sandbox.record("invoices", str(invoice["id"]))["balance"] == 0
    assert sandbox.record("credit_memos", str(note["id"]))["balance"] == Decimal("5.00")
    # each record is found by the key in its metadata, in its own list
    assert set(conn.writer.landed([f"{KEY}:m"], "/credit_notes")) == {f"{KEY}:m"}
    assert conn.writer.landed([f"{KEY}:m"]) == {}  # not a payment
    assert set(conn.writer.landed([f"{KEY}:a"])) == {f"{KEY}:a"}
