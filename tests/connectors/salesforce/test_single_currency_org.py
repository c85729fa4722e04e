"""A single-currency org, configured from TOML: its objects have no ``CurrencyIsoCode`` (the
field exists only once multicurrency is enabled), so the admin blanks the presets' currency
fields (``currency = ""``; TOML has no null) and every record is in the org's corporate
currency. A blank link field drops that link the same way."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors.base import MemoryTokenStore
from connectors.errors import AuthError
from connectors.http import RetryPolicy
from connectors.salesforce import SalesforceConnector, SalesforceSandbox
from connectors.salesforce.config import SalesforceConfig
from connectors.sandbox.world import World
from mappings.base import MappingContext
from mappings.salesforce import MAPPERS
from mappings.salesforce.schema import SalesforceSchema, load_preset

ADMIN_TOML = """
[salesforce.objects.account]
currency = ""
[salesforce.objects.invoice]
currency = ""
[salesforce.objects.credit_memo]
currency = ""
[salesforce.objects.payment]
currency = ""
"""


def objects_from_toml(text: str) -> dict[str, Any]:
    objects: dict[str, Any] = tomllib.loads(text)["salesforce"]["objects"]
    return objects


def test_a_blank_field_in_the_config_means_the_org_has_none() -> None:
    schema = SalesforceSchema.model_validate(objects_from_toml(ADMIN_TOML))
    assert schema.account.currency is None and schema.invoice.currency is None
    assert schema.credit_memo.currency is None and schema.payment.currency is None
    assert "CurrencyIsoCode" not in schema.invoice.select_fields()
    assert "CurrencyIsoCode" not in schema.account.select_fields()


def test_a_blank_link_field_drops_the_link() -> None:
    schema = SalesforceSchema.model_validate(
        objects_from_toml('[salesforce.objects.invoice.links]\nquickbooks = ""\n')
    )
    assert schema.invoice.links == {}
    assert "QuickBooks_Id__c" in schema.invoice.select_fields()  # still the external id
    assert schema.account.links == {"quickbooks": "QuickBooks_Id__c"}


def test_a_required_field_cannot_be_blanked() -> None:
    with pytest.raises(ValueError, match=r"invoice\.balance"):
        SalesforceSchema.model_validate(
            objects_from_toml('[salesforce.objects.invoice]\nbalance = ""\n')
        )


def test_a_single_currency_org_is_read_in_its_corporate_currency() -> None:
    single = SalesforceSchema.model_validate(objects_from_toml(ADMIN_TOML))
    sandbox = SalesforceSandbox(
        world=World.generate(seed=7, customers=4, invoices=12), schema=single, org_currency="EUR"
    )
    sandbox.start()
    try:
        values = sandbox.config().model_dump()
        values["objects"] = objects_from_toml(ADMIN_TOML)  # as arsync's config file gives it
        values["client_secret"] = sandbox.client_secret
        config = SalesforceConfig.model_validate(values)
        connector = SalesforceConnector(
            config,
            MemoryTokenStore(sandbox.initial_tokens()),
            policy=RetryPolicy(sleep=lambda _: None),
        )
        connector.check()
        ctx = MappingContext(
            "salesforce", options={**config.mapping_options(), **connector.mapping_facts()}
        )
        until = datetime.now(UTC) + timedelta(seconds=1)
        invoices = [
            r for p in connector.streams()["invoices"].pages(None, until) for r in p.records
        ]
        assert len(invoices) == len(sandbox.remote_ids("invoices"))
        mapped: Any = [MAPPERS["invoices"](r, ctx) for r in invoices]
        assert {m.total.currency for m in mapped} == {"EUR"}

        # the presets as shipped name CurrencyIsoCode, which this org does not have
        stock = connector.config.model_copy(update={"objects": load_preset()})
        refused = SalesforceConnector(
            stock, MemoryTokenStore({}), policy=RetryPolicy(sleep=lambda _: None)
        )
        with pytest.raises(AuthError, match="CurrencyIsoCode"):
            list(refused.streams()["invoices"].pages(None, until))
    finally:
        sandbox.stop()


def test_a_field_with_a_default_that_is_needed_cannot_be_blanked() -> None:
    """An account's ``name`` has a default (``Name``) but is needed: blanked, every Account
    was quarantined as "field None: is required but missing"."""
    with pytest.raises(ValueError, match="name"):
        SalesforceSchema.model_validate({"preset": "custom_objects", "account": {"name": ""}})
