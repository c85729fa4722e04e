"""A foreign-currency Payment or CreditMemo carries the ``ExchangeRate`` of its date.

Intuit's multicurrency guide: ``ExchangeRate`` is the number of home-currency units one unit of
``CurrencyRef`` is worth; a transaction created through the API without it is booked at 1
(observed by integrators, e.g. WordPress/wordcamp.org#1250, fixed in #1325 by reading
``GET /exchangerate?sourcecurrencycode=..&asofdate=..`` first). A EUR payment of 100.00 in a
USD company would then be worth 100.00 USD instead of ~108, and QBO would post the difference
against the invoice's own rate as a realized exchange gain or loss. So the writer reads
QuickBooks' own rate for the payment's date (as the QBO screen pre-fills it) and sends it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from connectors.errors import DataError
from connectors.quickbooks import QuickBooksConnector, QuickBooksSandbox
from connectors.quickbooks.writes import CreditMemoCreate, PaymentCreate, PaymentLine
from tests.connectors.quickbooks.qbo_helpers import COMPANY, TOKEN_URL, sandbox_connector

DAY = date(2024, 5, 1)
TOKEN = {
    "access_token": "AT-1",
    "refresh_token": "RT-2",
    "token_type": "bearer",
    "expires_in": 3600,
    "x_refresh_token_expires_in": 8726400,
}
PREFERENCES = {
    "Preferences": {
        "Id": "1",
        "SyncToken": "0",
        "CurrencyPrefs": {"MultiCurrencyEnabled": True, "HomeCurrency": {"value": "USD"}},
    },
    "time": "2024-05-01T09:00:00.000-07:00",
}


def eur_rate(rate: str = "1.0822") -> str:
    """Intuit's ExchangeRate entity as ``GET /exchangerate`` answers it."""
    return (
        '{"ExchangeRate": {"SourceCurrencyCode": "EUR", "TargetCurrencyCode": "USD", '
        f'"Rate": {rate}, "AsOfDate": "2024-05-01", "SyncToken": "0", "domain": "QBO", '
        '"sparse": false}, "time": "2024-05-01T09:00:00.000-07:00"}'
    )


def payment(key: str, currency: str, rate: Decimal | None = None) -> PaymentCreate:
    preset: dict[str, Any] = {} if rate is None else {"exchange_rate": rate}
    return PaymentCreate(
        key,
        "58",
        Decimal("100.00"),
        (PaymentLine("Invoice", "130", Decimal("100.00")),),
        currency=currency,
        txn_date=DAY,
        **preset,
    )


def created(entity: str, rid: str, bid: str = "b0") -> dict[str, Any]:
    return {"BatchItemResponse": [{"bId": bid, entity: {"Id": rid, "SyncToken": "0"}}]}


def batch_bodies(mock: responses.RequestsMock) -> list[dict[str, Any]]:
    return [
        json.loads(call.request.body or b"{}")
        for call in mock.calls
        if urlsplit(call.request.url or "").path.endswith("/batch")
    ]


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.post(TOKEN_URL, json=TOKEN)
        yield rsps


def test_a_foreign_currency_payment_carries_quickbooks_rate_of_its_date(
    connector: QuickBooksConnector, mock: responses.RequestsMock
) -> None:
    mock.get(f"{COMPANY}/preferences", json=PREFERENCES)
    rate = mock.get(f"{COMPANY}/exchangerate", body=eur_rate())
    mock.post(f"{COMPANY}/batch", json=created("Payment", "901"))
    [result] = connector.write([payment("eur-1", "EUR")])
    assert result.ok and result.remote_id == "901"
    query = parse_qs(urlsplit(rate.calls[0].request.url).query)
    assert (query["sourcecurrencycode"], query["asofdate"]) == (["EUR"], ["2024-05-01"])
    [body] = batch_bodies(mock)
    sent = body["BatchItemRequest"][0]["Payment"]
    assert sent["CurrencyRef"] == {"value": "EUR"}
    assert Decimal(str(sent["ExchangeRate"])) == Decimal("1.0822")
    raw = mock.calls[-1].request.body
    assert '"ExchangeRate":1.0822' in (raw.decode() if isinstance(raw, bytes) else str(raw))


def test_home_currency_and_preset_rates_need_no_lookup(
    connector: QuickBooksConnector, mock: responses.RequestsMock
) -> None:
    mock.get(f"{COMPANY}/preferences", json=PREFERENCES)
    mock.post(f"{COMPANY}/batch", json=created("Payment", "902"))
    mock.post(f"{COMPANY}/batch", json=created("Payment", "903"))
    home, preset = (
        connector.write([payment("usd-1", "USD")]),
        connector.write([payment("eur-2", "EUR", Decimal("1.1"))]),
    )
    assert home[0].ok and preset[0].ok
    usd, eur = (b["BatchItemRequest"][0]["Payment"] for b in batch_bodies(mock))
    assert "ExchangeRate" not in usd
    assert Decimal(str(eur["ExchangeRate"])) == Decimal("1.1")


def test_a_currency_without_a_rate_fails_only_its_write_naming_it(
    connector: QuickBooksConnector, mock: responses.RequestsMock
) -> None:
    mock.get(f"{COMPANY}/preferences", json=PREFERENCES)
    not_found = {
        "Fault": {
            "Error": [
                {
                    "Message": "Object Not Found",
                    "Detail": "Object Not Found : Something you're trying to use has been made "
                    "inactive. Check the fields with accounts, customers, items, vendors or "
                    "employees.",
                    "code": "610",
                }
            ],
            "type": "ValidationFault",
        }
    }
    mock.get(f"{COMPANY}/exchangerate", json=not_found, status=400)
    mock.post(f"{COMPANY}/batch", json=created("Payment", "904", "b1"))
    missing, home = connector.write([payment("xyz-1", "EUR"), payment("usd-2", "USD")])
    assert home.ok and home.remote_id == "904"
    assert isinstance(missing.error, DataError)
    text = str(missing.error)
    assert "xyz-1" in text and "EUR" in text and "2024-05-01" in text
    [body] = batch_bodies(mock)
    assert [i["Payment"]["PrivateNote"] for i in body["BatchItemRequest"]] == ["arsync:usd-2"]


def test_a_write_off_credit_memo_in_a_foreign_currency_carries_the_rate(
    connector: QuickBooksConnector, mock: responses.RequestsMock
) -> None:
    mock.get(f"{COMPANY}/preferences", json=PREFERENCES)
    mock.get(f"{COMPANY}/exchangerate", body=eur_rate("1.07"))
    mock.post(f"{COMPANY}/batch", json=created("CreditMemo", "905"))
    memo = CreditMemoCreate("wo-1", "58", Decimal("12.50"), "21", "EUR", DAY, "short pay")
    [result] = connector.write([memo])
    assert result.ok
    [body] = batch_bodies(mock)
    assert Decimal(str(body["BatchItemRequest"][0]["CreditMemo"]["ExchangeRate"])) == Decimal(
        "1.07"
    )


def test_the_sandbox_books_a_payment_at_the_rate_sent(sandbox: QuickBooksSandbox) -> None:
    """End to end: a foreign-currency payment lands with QuickBooks' rate, never 1."""
    invoice = next(
        r
        for r in sandbox.records["Invoice"].values()
        if r["CurrencyRef"]["value"] != sandbox.home_currency and Decimal(str(r["Balance"])) >= 10
    )
    currency = invoice["CurrencyRef"]["value"]
    connector, _ = sandbox_connector(sandbox)
    write = PaymentCreate(
        "eur-e2e",
        invoice["CustomerRef"]["value"],
        Decimal("10.00"),
        (PaymentLine("Invoice", invoice["Id"], Decimal("10.00")),),
        currency=currency,
        txn_date=DAY,
    )
    [result] = connector.write([write])
    assert result.ok and result.remote_id
    stored = sandbox.records["Payment"][result.remote_id]
    assert Decimal(str(stored["ExchangeRate"])) == sandbox.exchange_rate(currency, DAY)
    assert Decimal(str(stored["ExchangeRate"])) != 1
