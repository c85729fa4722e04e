"""Processor amounts are integers in the processor's own minor unit of the currency.

Sources: Stripe, "Supported currencies" (docs.stripe.com/currencies): its zero-decimal list,
its three-decimal list, every other currency two-decimal in the API; ISK stays two-decimal in
the API though only whole krónur are charged (support.stripe.com, "Deprecation of fractional
ISK charges and refunds"), and so does UGX ("Special cases": zero-decimal now, two-decimal in
the API for backwards compatibility, the decimal part always 00); HUF and TWD are whole units
only in payouts. Adyen, "Currency codes
and minor units" (docs.adyen.com/development-resources/currency-codes): ISO 4217 decimals except
CLP and ISK (2) and CVE and IDR (0). The store holds ISO 4217 minor units (HUF 2, ISK 0).
"""

from decimal import Decimal
from typing import Any

import pytest

from canonical.money import Money, MoneyError
from connectors.processors.adyen_events import AdyenEventError, parse_item
from connectors.processors.stripe_events import parse_event
from mappings.processors.remittance import remittance_from_record


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
        ("huf", 123450, "1234.50"),  # fillér too: Stripe 2 decimals, ISO 4217 2
        ("cop", 9900000, "99000"),
        ("idr", 15000000, "150000"),
        ("twd", 10000, "100.00"),
        ("ugx", 500000, "5000"),  # two-decimal in Stripe's API: 500 is 5 shillings
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


@pytest.mark.parametrize("currency", ["isk", "ugx"])
def test_a_fraction_the_currency_cannot_hold_is_an_error_never_rounded(currency: str) -> None:
    with pytest.raises(MoneyError):
        parse_event(stripe_payment(currency, 500050))  # 5000.50 krónur or shillings


@pytest.mark.parametrize(
    ("currency", "minor", "money", "stored"),
    [
        # Stripe: HUF two-decimal in the API; ISO 4217 two decimals: 123450 either way
        ("huf", 123450, Money("1234.50", "HUF"), 123450),
        # Stripe: ISK two-decimal in the API (100 = 1 króna); ISO 4217 zero decimals
        ("isk", 500000, Money("5000", "ISK"), 5000),
        # Stripe: UGX two-decimal in the API (100 = 1 shilling); ISO 4217 zero decimals
        ("ugx", 500000, Money("5000", "UGX"), 5000),
    ],
)
def test_stripe_huf_isk_and_ugx_events_become_remittances_in_iso_minor_units(
    currency: str, minor: int, money: Money, stored: int
) -> None:
    record = parse_event(stripe_payment(currency, minor))
    assert record is not None and record.amount == money
    remittance = remittance_from_record(record)
    assert (remittance.currency, remittance.amount_minor) == (money.currency, stored)


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


def test_adyen_idr_notification_is_whole_rupiah_stored_in_iso_minor_units() -> None:
    # Adyen: IDR has 0 decimals (its documented exception); ISO 4217: 2, the store's unit
    record = parse_item(adyen_item("CAPTURE", "CAPT000000000003", 1500000, "IDR", "AUTH03"))
    assert record is not None and record.amount == Money("1500000", "IDR")
    assert str(record.amount.amount) == "1500000.00"
    assert remittance_from_record(record).amount_minor == 150000000


def test_adyen_float_value_is_refused() -> None:
    with pytest.raises(AdyenEventError):
        parse_item(adyen_item("CAPTURE", "CAPT000000000002", Decimal("10.5"), "EUR", "AUTH02"))


def test_adyen_partial_captures_are_each_money_and_auto_capture_is_one_payment() -> None:
    manual = {"auto_capture": False}
    first = parse_item(
        adyen_item("CAPTURE", "CAPT000000000011", 500, "EUR", "AUTH0000000010"), **manual
    )
    second = parse_item(
        adyen_item("CAPTURE", "CAPT000000000012", 700, "EUR", "AUTH0000000010"), **manual
    )
    assert first is not None and second is not None
    assert first.payment_id != second.payment_id  # 12.00 EUR captured, not 5.00
    auth = adyen_item("AUTHORISATION", "AUTH0000000020", 900, "EUR")
    capture = adyen_item("CAPTURE", "CAPT000000000021", 900, "EUR", "AUTH0000000020")
    assert parse_item(auth, **manual) is None  # manual capture: an authorisation moves no money
    a = parse_item(auth)  # automatic capture, Adyen's default
    c = parse_item(capture)
    assert a is not None and c is not None and a.payment_id == c.payment_id


def test_adyen_zero_value_authorisation_stores_a_card_and_moves_no_money() -> None:
    zero = adyen_item("AUTHORISATION", "AUTH0000000030", 0, "EUR")
    assert parse_item(zero, auto_capture=True) is None
