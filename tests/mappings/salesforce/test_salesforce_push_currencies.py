"""The Account AR summary is written in one currency: the account's own, else its invoices'.

Salesforce reads an Account's currency fields in the Account's ``CurrencyIsoCode`` in a
multi-currency org (Object Reference, CurrencyType / multi-currency). arsync converts no
currency, so open invoices in another currency make the summary unwritable, never understated.
"""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import pytest

from canonical.keys import document_key, name_key
from canonical.models import Customer, ExternalRef, Invoice
from canonical.store import Store
from canonical.types import utcnow
from mappings.salesforce.push import SalesforcePush, summary_currency
from mappings.salesforce.schema import SalesforceSchema
from sync.outbox.adapter import Command, Unwritable
from sync.outbox.refs import RefIndex

ACCOUNT = "account Acme (001A)"


def test_account_currency_wins() -> None:
    rows = [(1000, date(2026, 1, 1), "EUR")]
    assert summary_currency("eur", rows, ACCOUNT) == "EUR"


def test_the_one_invoice_currency_without_an_account_currency() -> None:
    rows = [(1000, None, "JPY"), (500, None, "JPY")]
    assert summary_currency(None, rows, ACCOUNT) == "JPY"


def test_mixed_invoice_currencies_without_an_account_currency_are_unwritable() -> None:
    with pytest.raises(Unwritable, match=r"account Acme \(001A\) has open invoices in EUR, USD"):
        summary_currency(None, [(1, None, "USD"), (2, None, "EUR")], ACCOUNT)


def test_an_invoice_in_another_currency_than_the_accounts_is_unwritable() -> None:
    with pytest.raises(Unwritable, match=r"account Acme \(001A\) is kept in USD .* in EUR"):
        summary_currency("USD", [(1, None, "USD"), (2, None, "EUR")], ACCOUNT)


def test_the_summary_of_an_account_with_a_foreign_overdue_invoice_is_refused_not_understated(
    store: Store,
) -> None:
    """A USD account with 100.00 USD not yet due and 5,000 EUR 75 days overdue: written in USD
    without the EUR invoice, it would show nothing overdue and the bucket ``current``."""
    today = utcnow().date()
    with store.session() as s:
        acme = Customer(name="Acme", name_key=name_key("Acme"), currency="USD")
        s.add(acme)
        s.flush()
        for number, currency, minor, due in (
            ("INV-USD", "USD", 10000, today + timedelta(days=10)),
            ("INV-EUR", "EUR", 500000, today - timedelta(days=75)),
        ):
            s.add(
                Invoice(
                    customer_id=acme.id,
                    number=number,
                    number_key=document_key(number),
                    currency=currency,
                    total_minor=minor,
                    balance_minor=minor,
                    issue_date=today - timedelta(days=100),
                    due_date=due,
                )
            )
        s.add(
            ExternalRef(
                canonical_type="customer",
                canonical_id=acme.id,
                system="salesforce",
                object_type="Account",
                remote_id="001A",
            )
        )
    schema = SalesforceSchema.model_validate({"preset": "custom_objects"})
    connector = SimpleNamespace(config=SimpleNamespace(objects=schema, write_batch_size=200))
    adapter = SalesforcePush(connector)  # type: ignore[arg-type]
    command = Command(
        id="c1",
        system="salesforce",
        operation="account_summary",
        key="k" * 32,
        canonical_type="customer",
        canonical_id=acme.id,
        payload={"customer_id": acme.id},
        result={},
        attempts=0,
        status="pending",
    )
    with store.session() as s:
        refs = RefIndex.load(s, "default", "salesforce", {("customer", acme.id)})
        with pytest.raises(Unwritable, match=r"account Acme \(001A\) is kept in USD .* in EUR"):
            adapter.step(command, refs, s)
