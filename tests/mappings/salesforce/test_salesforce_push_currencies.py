"""The Account AR summary is written in one currency: the account's own, else its invoices'.

Salesforce reads an Account's currency fields in the Account's ``CurrencyIsoCode`` in a
multi-currency org (Object Reference, CurrencyType / multi-currency).
"""

from __future__ import annotations

from datetime import date

import pytest

from mappings.salesforce.push import summary_currency
from sync.outbox.adapter import Unwritable


def test_account_currency_wins() -> None:
    rows = [(1000, date(2026, 1, 1), "USD")]
    assert summary_currency("eur", rows) == "EUR"


def test_the_one_invoice_currency_without_an_account_currency() -> None:
    rows = [(1000, None, "JPY"), (500, None, "JPY")]
    assert summary_currency(None, rows) == "JPY"


def test_mixed_invoice_currencies_without_an_account_currency_are_unwritable() -> None:
    with pytest.raises(Unwritable, match="EUR, USD"):
        summary_currency(None, [(1, None, "USD"), (2, None, "EUR")])
