"""Processor amounts are integers in the processor's own minor unit of the currency."""

from decimal import Decimal
from typing import Any

import pytest

from canonical.money import MoneyError
from connectors.processors.adyen_events import AdyenEventError, parse_item
from connectors.processors.stripe_events import parse_event


def stripe_payment(currency: str, minor: Any) -> dict[str, Any]:
    return {
        "id": "evt_amounts_1",
        "type": "payment_intent.succeeded",
        "created": 1_767_000_000,
        "data": {
            "object": {
                "id": "pi_amounts_1",
                "object": "payment_intent",
                "amount": minor,
                "amount_received": minor,
                "currency": currency,
            }
        },
    }


@pytest.mark.parametrize(
    ("currency", "minor", "amount"),
    [
        ("usd", 123456, "1234.56"),
        ("jpy", 5000, "5000"),  # zero-decimal
        ("krw", 75000, "75000"),
        ("kwd", 12340, "12.340"),  # three-decimal
        ("bhd", 5550, "5.550"),
        ("isk", 500000, "5000"),  # two-decimal in Stripe's API: 100 is 1 krona
        ("huf", 1250000, "12500"),  # two-decimal in Stripe's API
        ("cop", 9900000, "99000"),
        ("idr", 15000000, "150000"),
        ("twd", 10000, "100.00"),
        ("ugx", 5000, "5000"),  # zero-decimal in Stripe's list
    ],
)
def test_stripe_minor_units(currency: str, minor: int, amount: str) -> None:
    record = parse_event(stripe_payment(currency, minor))
    assert record is not None and record.amount is not None
    assert record.amount.amount == Decimal(amount)
    assert record.amount.currency == currency.upper()


@pytest.mark.parametrize("minor", [Decimal("1250.5"), 12.5, True, "12x"])
def test_stripe_amount_that_is_not_an_integer_is_refused(minor: Any) -> None:
    with pytest.raises(MoneyError):
        parse_event(stripe_payment("usd", minor))


def test_a_fraction_the_currency_cannot_hold_is_an_error_never_rounded() -> None:
    with pytest.raises(MoneyError):
        parse_event(stripe_payment("isk", 500050))  # 5000.50 krona


def adyen_item(code: str, psp: str, value: Any, currency: str, original: str = "") -> dict:
    return {
        "pspReference": psp,
        "originalReference": original,
        "merchantAccountCode": "ArsyncTestShop",
        "merchantReference": "INV-7001",
        "amount": {"value": value, "currency": currency},
        "eventCode": code,
        "success": "true",
        "eventDate": "2026-12-01T09:30:00+01:00",
        "additionalData": {},
    }


@pytest.mark.parametrize(
    ("currency", "value", "amount"),
    [
        ("EUR", 1130, "11.30"),
        ("JPY", 158000, "158000"),
        ("KWD", 12345, "12.345"),
        ("ISK", 279000, "2790"),  # Adyen: 2 decimals (ISO 4217: 0)
        ("CLP", 1500000, "15000"),  # Adyen: 2 decimals (ISO 4217: 0)
        ("CVE", 1500, "1500.00"),  # Adyen: 0 decimals (ISO 4217: 2)
        ("IDR", 150000, "150000"),  # Adyen: 0 decimals (ISO 4217: 2)
    ],
)
def test_adyen_minor_units(currency: str, value: int, amount: str) -> None:
    record = parse_item(adyen_item("CAPTURE", "CAPT000000000001", value, currency, "AUTH01"))
    assert record is not None and record.amount is not None
    assert (record.amount.amount, record.amount.currency) == (Decimal(amount), currency)


def test_adyen_float_value_is_refused() -> None:
    with pytest.raises(AdyenEventError):
        parse_item(adyen_item("CAPTURE", "CAPT000000000002", Decimal("10.5"), "EUR", "AUTH02"))


def test_adyen_partial_captures_are_each_money_and_auto_capture_is_one_payment() -> None:
    first = parse_item(adyen_item("CAPTURE", "CAPT000000000011", 500, "EUR", "AUTH0000000010"))
    second = parse_item(adyen_item("CAPTURE", "CAPT000000000012", 700, "EUR", "AUTH0000000010"))
    assert first is not None and second is not None
    assert first.payment_id != second.payment_id  # 12.00 EUR captured, not 5.00
    auth = adyen_item("AUTHORISATION", "AUTH0000000020", 900, "EUR")
    capture = adyen_item("CAPTURE", "CAPT000000000021", 900, "EUR", "AUTH0000000020")
    assert parse_item(auth) is None  # manual capture: an authorisation moves no money
    a = parse_item(auth, auto_capture=True)
    c = parse_item(capture, auto_capture=True)
    assert a is not None and c is not None and a.payment_id == c.payment_id
