"""Invoiced's documented objects (github.com/Invoiced/api ``data/``: invoice ``object.json``,
``voided.json``, ``pay.json``; values ours) as the push re-reads them after Invoiced refused
a write: an invoice has no ``voided`` attribute (a void shows in ``status``) and a voided or
paid one may still show its old ``balance``. The refreshed view must say what the pull's
mapping says, so the decision is re-validated against the invoice as it is now."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
import responses

from canonical.enums import DocumentStatus
from canonical.money import Money
from connectors.base import MemoryTokenStore, RawRecord
from connectors.errors import DataError
from connectors.http import RetryPolicy
from connectors.invoiced import InvoicedConfig, InvoicedConnector
from connectors.invoiced.jsonwire import loads
from connectors.invoiced.writes import PaymentCreate
from mappings.base import MappingContext
from mappings.invoiced import MAPPERS
from mappings.invoiced.push import InvoicedPush
from sync.outbox.adapter import Command, Unwritable
from sync.outbox.refs import RefIndex, RemoteRef

BASE = "https://api.sandbox.invoiced.example"
INVOICE_ID = "46225"

# shaped like the reference's invoice examples: no ``voided`` key at all
SENT = b"""{"id": 46225, "object": "invoice", "customer": 15444, "currency": "usd",
  "draft": false, "closed": false, "paid": false, "status": "past_due", "number": "INV-0016",
  "date": 1416290400, "due_date": 1417500000, "payment_terms": "NET 14", "subtotal": 55,
  "taxes": [{"id": 20554, "object": "tax", "amount": 3.85, "tax_rate": null}],
  "total": 51.15, "balance": 41.15, "metadata": {}, "created_at": 1415229884,
  "updated_at": 1415229890}"""
VOIDED = SENT.replace(b'"past_due"', b'"voided"').replace(b"41.15", b"51.15")
PAID = SENT.replace(b'"paid": false', b'"paid": true').replace(b'"past_due"', b'"paid"')
BAD_DEBT = SENT.replace(b'"closed": false', b'"closed": true')


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def adapter() -> InvoicedPush:
    config = InvoicedConfig.model_validate({"api_key": "sk_test_probe", "base_url": BASE})
    connector = InvoicedConnector(
        config, MemoryTokenStore(), policy=RetryPolicy(sleep=lambda _: None)
    )
    return InvoicedPush(connector)


def refs() -> RefIndex:
    """As the last pull left it: the invoice open, owing 51.15."""
    index = RefIndex("invoiced")
    index.refs[("customer", "cust")] = RemoteRef("customer", "cust", "15444", None)
    index.refs[("invoice", "inv")] = RemoteRef(
        "invoice",
        "inv",
        INVOICE_ID,
        None,
        {"number": "INV-0016", "balance_minor": "5115", "status": "open"},
    )
    return index


def apply_cash(amount_minor: int) -> Command:
    return Command(
        id="cmd-1",
        system="invoiced",
        operation="apply_cash",
        key="0123456789abcdef0123456789abcdef",
        canonical_type="payment",
        canonical_id="pay",
        payload={
            "customer_id": "cust",
            "currency": "USD",
            "amount_minor": amount_minor,
            "lines": [{"invoice_id": "inv", "amount_minor": amount_minor}],
            "on": "2026-11-02",
        },
        result={},
        attempts=1,
        status="failed",
    )


def pulled(body: bytes) -> Any:
    """What the pull's mapping makes of the same invoice."""
    payload = loads(body)
    record = RawRecord(
        stream="invoices", object_type="invoice", remote_id=INVOICE_ID, payload=payload
    )
    return MAPPERS["invoices"](record, MappingContext(system="invoiced"))


@pytest.mark.parametrize(
    ("body", "status", "balance_minor"),
    [
        (VOIDED, DocumentStatus.VOID, 0),
        (PAID, DocumentStatus.PAID, 0),
        (BAD_DEBT, DocumentStatus.VOID, 0),
        (SENT, DocumentStatus.OPEN, 4115),
    ],
    ids=["voided", "paid-balance-still-shown", "closed-bad-debt", "past-due-part-paid"],
)
def test_refresh_reads_the_invoice_as_the_pull_maps_it(
    mocked: responses.RequestsMock, body: bytes, status: DocumentStatus, balance_minor: int
) -> None:
    mocked.get(f"{BASE}/invoices/{INVOICE_ID}", body=body, content_type="application/json")
    index = refs()
    adapter().refresh(apply_cash(1000), index)
    ref = index.refs[("invoice", "inv")]
    mapped = pulled(body)
    assert mapped.status is status and mapped.balance == Money.from_minor(balance_minor, "USD")
    assert ref.values["status"] == status.value
    assert ref.balance_minor == balance_minor


@pytest.mark.parametrize("body", [VOIDED, PAID, BAD_DEBT], ids=["voided", "paid", "bad-debt"])
def test_cash_for_an_invoice_settled_since_is_a_conflict_after_the_refresh(
    mocked: responses.RequestsMock, body: bytes
) -> None:
    mocked.get(f"{BASE}/invoices/{INVOICE_ID}", body=body, content_type="application/json")
    push, index, command = adapter(), refs(), apply_cash(1000)
    push.refresh(command, index)
    with pytest.raises(Unwritable) as caught:
        push.step(command, index, None)  # type: ignore[arg-type]
    assert caught.value.conflict
    assert "INV-0016" in caught.value.reason


def test_cash_within_what_a_part_paid_invoice_still_owes_is_still_valid(
    mocked: responses.RequestsMock,
) -> None:
    mocked.get(f"{BASE}/invoices/{INVOICE_ID}", body=SENT, content_type="application/json")
    push, index = adapter(), refs()
    push.refresh(apply_cash(4115), index)
    step = push.step(apply_cash(4115), index, None)  # type: ignore[arg-type]
    assert isinstance(step.write, PaymentCreate)
    body = step.write.body("arsync_key")
    assert body["applied_to"] == [{"type": "invoice", "invoice": 46225, "amount": Decimal("41.15")}]
    with pytest.raises(Unwritable):  # 41.16 is more than it owes now
        push.step(apply_cash(4116), index, None)  # type: ignore[arg-type]


def test_a_balance_finer_than_the_currency_fails_the_re_read_naming_invoice_and_field(
    mocked: responses.RequestsMock,
) -> None:
    mocked.get(
        f"{BASE}/invoices/{INVOICE_ID}",
        body=SENT.replace(b"41.15", b"41.155"),
        content_type="application/json",
    )
    index = refs()
    with pytest.raises(DataError) as caught:
        adapter().refresh(apply_cash(1000), index)
    assert f"invoice {INVOICE_ID}" in str(caught.value) and "balance" in str(caught.value)
    assert index.refs[("invoice", "inv")].balance_minor == 5115  # never rounded into the view


def test_json_numbers_in_exponent_form_are_exact_cents() -> None:
    """``1e2`` and ``5.115E1`` are JSON numbers Invoiced may send for 100.00 and 51.15."""
    mapped = pulled(SENT.replace(b"51.15", b"1e2").replace(b"41.15", b"5.115E1"))
    assert mapped.total == Money(Decimal("100.00"), "USD")
    assert mapped.balance == Money(Decimal("51.15"), "USD")
    assert mapped.balance.minor == 5115


# a credit note as the reference shows one, used up and closed since the last pull
CLOSED_NOTE = b"""{"id": 2048, "object": "credit_note", "customer": 15444, "currency": "usd",
  "draft": false, "closed": true, "paid": false, "status": "closed", "number": "CN-0007",
  "date": 1416290400, "total": 51.15, "balance": 51.15, "metadata": {},
  "created_at": 1415229884, "updated_at": 1415229890}"""


def apply_credit(amount_minor: int) -> tuple[Command, RefIndex]:
    """An ``apply_credit`` of credit note CN-0007 (51.15 left as last pulled) to the invoice."""
    index = refs()
    index.refs[("credit_memo", "cm")] = RemoteRef(
        "credit_memo",
        "cm",
        "2048",
        None,
        {"number": "CN-0007", "balance_minor": "5115", "status": "open", "currency": "USD"},
    )
    cash = apply_cash(amount_minor)
    payload = cash.payload | {"credit_memo_id": "cm"}
    return replace(cash, operation="apply_credit", payload=payload), index


def test_a_credit_note_closed_since_is_re_read_and_a_conflict_naming_it(
    mocked: responses.RequestsMock,
) -> None:
    mocked.get(f"{BASE}/invoices/{INVOICE_ID}", body=SENT, content_type="application/json")
    mocked.get(f"{BASE}/credit_notes/2048", body=CLOSED_NOTE, content_type="application/json")
    push = adapter()
    command, index = apply_credit(1000)
    push.refresh(command, index)
    note = index.refs[("credit_memo", "cm")]
    assert note.balance_minor == 0  # closed: nothing left to apply, whatever balance shows
    assert note.values["status"] == DocumentStatus.VOID.value
    with pytest.raises(Unwritable) as caught:
        push.step(command, index, None)  # type: ignore[arg-type]
    assert caught.value.conflict
    assert "CN-0007" in caught.value.reason and "0.00" in caught.value.reason


def test_an_invoice_now_in_another_currency_is_a_conflict_naming_both_currencies(
    mocked: responses.RequestsMock,
) -> None:
    body = SENT.replace(b'"usd"', b'"jpy"').replace(b"51.15", b"8000").replace(b"41.15", b"8000")
    mocked.get(f"{BASE}/invoices/{INVOICE_ID}", body=body, content_type="application/json")
    push, index, command = adapter(), refs(), apply_cash(1000)
    push.refresh(command, index)
    ref = index.refs[("invoice", "inv")]
    assert ref.values["currency"] == "JPY"
    assert ref.balance_minor == 5115  # never read as 8000.00 USD
    with pytest.raises(Unwritable) as caught:
        push.step(command, index, None)  # type: ignore[arg-type]
    reason = caught.value.reason
    assert caught.value.conflict
    assert "INV-0016" in reason and "JPY" in reason and "USD" in reason


def test_a_voided_invoice_without_a_balance_is_still_read_as_void(
    mocked: responses.RequestsMock,
) -> None:
    body = VOIDED.replace(b' "balance": 51.15,', b"")
    assert b"balance" not in body
    mocked.get(f"{BASE}/invoices/{INVOICE_ID}", body=body, content_type="application/json")
    push, index, command = adapter(), refs(), apply_cash(1000)
    push.refresh(command, index)
    ref = index.refs[("invoice", "inv")]
    assert ref.values["status"] == DocumentStatus.VOID.value and ref.balance_minor == 0
    with pytest.raises(Unwritable) as caught:
        push.step(command, index, None)  # type: ignore[arg-type]
    assert caught.value.conflict and "INV-0016" in caught.value.reason
