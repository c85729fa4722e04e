"""GoCardless: who paid. A payment names no customer, only its mandate (``links.mandate``);
the mandate names the customer (``links.customer``: company or given and family name, email)
and the bank account (``links.customer_bank_account``: account holder's name). Without them a
payment whose reference names no invoice cannot be placed with a customer by name.

Responses are shaped as GoCardless documents them (``{"mandates": {...}}``, ...), values ours.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import pytest
import responses
from pydantic import SecretStr

from canonical.store import Store
from connectors.http import RetryPolicy
from connectors.processors.gocardless_events import (
    GoCardlessClient,
    GoCardlessConfig,
    parse_event,
    parse_events,
)
from mappings.processors.remittance import remittance_from_record
from reconciler import reconcile
from tests.support.receivables import Book, decision

BASE = "https://api.gocardless.test"
TOKEN = "gc-live-token-4f1a9c7e2b"
NO_WAIT = RetryPolicy(
    max_attempts=2, base_delay=0.0, max_delay=0.0, timeout=5.0, sleep=lambda _: None
)


def client() -> GoCardlessClient:
    config = GoCardlessConfig(access_token=SecretStr(TOKEN), base_url=BASE)
    return GoCardlessClient(config, policy=NO_WAIT)


def event(ev: str, pm: str, action: str = "confirmed") -> dict[str, Any]:
    return {
        "id": ev,
        "created_at": "2026-11-03T09:13:51.404Z",
        "resource_type": "payments",
        "action": action,
        "links": {"payment": pm},
        "details": {
            "origin": "gocardless",
            "cause": f"payment_{action}",
            "description": "Payment was confirmed as collected.",
        },
        "metadata": {},
    }


def payment(pm: str, amount: int, mandate: str = "MD000AC1", reference: str = "DD-88231") -> Any:
    return {
        "payments": {
            "id": pm,
            "created_at": "2026-10-28T10:02:11.000Z",
            "charge_date": "2026-11-03",
            "amount": amount,
            "description": None,
            "currency": "GBP",
            "status": "confirmed",
            "amount_refunded": 0,
            "reference": reference,  # the merchant's own: names none of our invoices
            "metadata": {},
            "fx": {
                "fx_currency": None,
                "fx_amount": None,
                "exchange_rate": None,
                "estimated_exchange_rate": None,
            },
            "links": {"mandate": mandate, "creditor": "CR000TEST"},
            "retry_if_possible": True,
        }
    }


def mandate(md: str = "MD000AC1", customer: str = "CU000AC1", account: str = "BA000AC1") -> Any:
    return {
        "mandates": {
            "id": md,
            "created_at": "2026-09-01T08:00:00.000Z",
            "reference": "ACMEWIDGETS-Q7Z2",
            "status": "active",
            "scheme": "bacs",
            "next_possible_charge_date": "2026-11-10",
            "payments_require_approval": False,
            "metadata": {},
            "links": {
                "customer_bank_account": account,
                "creditor": "CR000TEST",
                "customer": customer,
            },
        }
    }


def customer(cu: str = "CU000AC1", **names: Any) -> Any:
    fields: dict[str, Any] = {
        "given_name": "Priya",
        "family_name": "Shah",
        "company_name": "Acme Widgets Ltd",
        "email": "accounts@acmewidgets.example",
    }
    fields.update(names)
    return {
        "customers": {
            "id": cu,
            "created_at": "2026-09-01T07:59:00.000Z",
            "address_line1": "27 Acer Road",
            "address_line2": None,
            "address_line3": None,
            "city": "London",
            "region": None,
            "postal_code": "E8 3GX",
            "country_code": "GB",
            "language": "en",
            "phone_number": None,
            "swedish_identity_number": None,
            "danish_identity_number": None,
            "metadata": {},
            **fields,
        }
    }


def bank_account(ba: str = "BA000AC1", cu: str = "CU000AC1", holder: str = "A W LTD") -> Any:
    return {
        "customer_bank_accounts": {
            "id": ba,
            "created_at": "2026-09-01T07:59:30.000Z",
            "account_number_ending": "11",
            "account_holder_name": holder,
            "account_type": None,
            "bank_name": "BARCLAYS BANK PLC",
            "currency": "GBP",
            "country_code": "GB",
            "metadata": {},
            "enabled": True,
            "links": {"customer": cu},
        }
    }


def serve(*answers: tuple[str, Any]) -> None:
    for path, body in answers:
        if isinstance(body, int):
            responses.add(responses.GET, BASE + path, status=body, json={"error": {}})
        else:
            responses.add(responses.GET, BASE + path, json=body)


def reads(path: str) -> int:
    return sum(1 for call in responses.calls if call.request.url == BASE + path)


@responses.activate
def test_an_unreferenced_payment_s_payer_is_identified_by_the_customer_s_company(
    store: Store,
) -> None:
    """A payment whose reference names no invoice: the mandate's customer is Acme Widgets Ltd,
    an arsync customer. The remittance names it (and its GoCardless customer, to learn), so
    the reconciler finds the customer instead of leaving the cash as ``unidentified_payer``."""
    serve(
        ("/payments/PM000AC1", payment("PM000AC1", 48000)),
        ("/mandates/MD000AC1", mandate()),
        ("/customers/CU000AC1", customer()),
    )
    record = parse_event(event("EV000AC1", "PM000AC1"), client())
    assert record is not None
    remittance = remittance_from_record(record)
    assert remittance.payer_name == "Acme Widgets Ltd"
    assert remittance.payer_account == "CU000AC1"
    assert record.payer_email == "accounts@acmewidgets.example"
    assert reads("/customer_bank_accounts/BA000AC1") == 0  # the customer named the payer

    book = Book(store)
    acme = book.customer("Acme Widgets Ltd")
    book.customer("Globex Ltd")
    book.invoice(acme, "INV-5521", "480.00", currency="GBP", issued=date(2026, 10, 1))
    with store.session() as s:
        s.add(remittance)
        remittance_id = remittance.id
    reconcile(store)
    made = decision(store, remittance_id)
    assert made.customer_id == acme
    assert made.exception_kind != "unidentified_payer"


@responses.activate
def test_a_person_paying_is_named_by_given_and_family_name() -> None:
    serve(
        ("/payments/PM000P1", payment("PM000P1", 1500)),
        ("/mandates/MD000AC1", mandate()),
        ("/customers/CU000AC1", customer(company_name=None, email="priya@example.com")),
    )
    record = parse_event(event("EV000P1", "PM000P1"), client())
    assert record is not None
    assert (record.payer_name, record.payer_email) == ("Priya Shah", "priya@example.com")


@responses.activate
def test_a_customer_without_a_name_is_named_by_the_bank_account_holder() -> None:
    serve(
        ("/payments/PM000H1", payment("PM000H1", 1500)),
        ("/mandates/MD000AC1", mandate()),
        ("/customers/CU000AC1", customer(company_name="", given_name=None, family_name=None)),
        ("/customer_bank_accounts/BA000AC1", bank_account()),
    )
    record = parse_event(event("EV000H1", "PM000H1"), client())
    assert record is not None
    assert (record.payer_name, record.payer_account) == ("A W LTD", "CU000AC1")


@responses.activate
def test_a_batch_from_one_mandate_reads_its_mandate_and_customer_once() -> None:
    serve(
        ("/payments/PM000B1", payment("PM000B1", 1000)),
        ("/payments/PM000B2", payment("PM000B2", 2000)),
        ("/payments/PM000B3", payment("PM000B3", 3000)),
        ("/mandates/MD000AC1", mandate()),
        ("/customers/CU000AC1", customer()),
    )
    body = {"events": [event(f"EV000B{n}", f"PM000B{n}") for n in (1, 2, 3)]}
    records = parse_events(body, client())
    assert [r.payer_name for r in records] == ["Acme Widgets Ltd"] * 3
    assert (reads("/mandates/MD000AC1"), reads("/customers/CU000AC1")) == (1, 1)


@responses.activate
def test_taking_cash_back_reads_no_payer() -> None:
    """A chargeback's reversal takes its payer from the payment's remittance: no read."""
    serve(("/payments/PM000C1", payment("PM000C1", 1000)))
    record = parse_event(event("EV000C1", "PM000C1", "charged_back"), client())
    assert record is not None and record.kind == "dispute"
    assert len(responses.calls) == 1


@responses.activate
@pytest.mark.parametrize(
    ("answers", "failing"),
    [
        ((("/mandates/MD000AC1", 404),), "mandate"),
        ((("/mandates/MD000AC1", mandate()), ("/customers/CU000AC1", 404)), "customer"),
        ((("/mandates/MD000AC1", mandate()), ("/customers/CU000AC1", 403)), "customer"),
    ],
)
def test_a_payer_that_cannot_be_read_loses_no_cash(
    answers: tuple[tuple[str, Any], ...], failing: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The remittance is kept without a payer, a warning names the payment; the failed read
    is not tried again for the next payment of the mandate, and no token is logged."""
    serve(
        ("/payments/PM000F1", payment("PM000F1", 1000)),
        ("/payments/PM000F2", payment("PM000F2", 2000)),
        *answers,
    )
    with caplog.at_level(logging.WARNING):
        records = parse_events(
            {"events": [event("EV000F1", "PM000F1"), event("EV000F2", "PM000F2")]}, client()
        )
    assert [r.amount.minor if r.amount else None for r in records] == [1000, 2000]
    assert [(r.payer_name, r.payer_email, r.payer_account) for r in records] == [
        (None, None, None)
    ] * 2
    assert remittance_from_record(records[0]).payer_name is None
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("PM000F1" in m and failing in m for m in warned)
    assert any("PM000F2" in m for m in warned)
    assert TOKEN not in caplog.text
    first_reads = [c.request.url for c in responses.calls]
    assert first_reads.count(BASE + "/mandates/MD000AC1") == 1


@responses.activate
def test_an_error_echoing_the_token_is_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    serve(("/payments/PM000T1", payment("PM000T1", 1000)))
    responses.add(
        responses.GET,
        BASE + "/mandates/MD000AC1",
        status=422,
        body=f'{{"error": {{"message": "bad request Authorization: Bearer {TOKEN}"}}}}',
        content_type="application/json",
    )
    with caplog.at_level(logging.WARNING):
        record = parse_event(event("EV000T1", "PM000T1"), client())
    assert record is not None and record.payer_name is None
    assert "PM000T1" in caplog.text
    assert TOKEN not in caplog.text
