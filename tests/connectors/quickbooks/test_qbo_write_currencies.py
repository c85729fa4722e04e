"""QuickBooks writes carry amounts at the currency's decimals with ``CurrencyRef``.

``CurrencyRef`` is "the currency in which all amounts on the associated transaction are
expressed" (Intuit, Manage multiple currencies); amounts are JSON numbers.
"""

from __future__ import annotations

from canonical.money import Money
from connectors.quickbooks.jsonwire import dumps
from connectors.quickbooks.writes import PaymentCreate, PaymentLine, credit_memo_application


def test_jpy_payment_is_whole_yen_with_currency_ref() -> None:
    cash = Money.from_minor(15000, "JPY").amount
    write = PaymentCreate("k1", "58", cash, (PaymentLine("Invoice", "140", cash),), "JPY")
    raw = dumps(write.body())
    assert '"TotalAmt":15000,"Line":[{"Amount":15000,' in raw
    assert '"CurrencyRef":{"value":"JPY"}' in raw


def test_zero_total_credit_application_takes_the_amount_decimals() -> None:
    kwd = credit_memo_application("k2", "58", "130", "131", Money.from_minor(3125, "KWD").amount)
    assert '"TotalAmt":0.000,' in dumps(kwd.body())
    jpy = credit_memo_application("k3", "58", "130", "131", Money.from_minor(500, "JPY").amount)
    assert '"TotalAmt":0,' in dumps(jpy.body())
    usd = credit_memo_application("k4", "58", "130", "131", Money.from_minor(100, "USD").amount)
    assert '"TotalAmt":0.00,' in dumps(usd.body())
