"""What check reads of the org itself (``SELECT ... FROM Organization``): the org's id, which
must be the configured one; its corporate currency and default time zone, which the mappings
read records in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.base import MemoryTokenStore
from connectors.errors import AuthError
from connectors.http import RetryPolicy
from connectors.salesforce import SalesforceConnector, SalesforceSandbox
from connectors.salesforce.connector import org_facts
from connectors.sandbox.world import World


@pytest.fixture
def sandbox() -> Iterator[SalesforceSandbox]:
    server = SalesforceSandbox(
        world=World.generate(seed=3, customers=4, invoices=12),
        org_timezone="Asia/Tokyo",
        org_currency="EUR",
    )
    server.start()
    yield server
    server.stop()


def connect(sandbox: SalesforceSandbox, **changes: object) -> SalesforceConnector:
    config = sandbox.config().model_copy(update=changes)
    return SalesforceConnector(
        config, MemoryTokenStore(sandbox.initial_tokens()), policy=RetryPolicy(sleep=lambda _: None)
    )


def test_check_learns_the_org_currency_and_time_zone(sandbox: SalesforceSandbox) -> None:
    connector = connect(sandbox)
    assert connector.mapping_facts() == {}
    connector.check()
    assert connector.mapping_facts() == {"currency": "EUR", "timezone": "Asia/Tokyo"}


def test_an_org_that_does_not_expose_its_currency_still_gives_its_time_zone(
    sandbox: SalesforceSandbox,
) -> None:
    sandbox.columns["Organization"].discard("DefaultCurrencyIsoCode")  # INVALID_FIELD
    connector = connect(sandbox)
    connector.check()
    assert connector.mapping_facts() == {"timezone": "Asia/Tokyo"}


def test_the_configured_org_id_matches_in_15_or_18_characters(sandbox: SalesforceSandbox) -> None:
    connect(sandbox, org_id=sandbox.org_id).check()
    connect(sandbox, org_id=sandbox.org_id[:15]).check()


def test_another_org_than_the_configured_one_is_refused_in_one_line(
    sandbox: SalesforceSandbox,
) -> None:
    connector = connect(sandbox, org_id="00D000000000999")
    with pytest.raises(AuthError) as caught:
        connector.check()
    message = str(caught.value)
    assert "\n" not in message
    assert sandbox.org_id in message and "00D000000000999" in message and "org_id" in message


def test_org_facts_ignore_what_is_no_currency_or_zone() -> None:
    assert org_facts({"DefaultCurrencyIsoCode": "usd", "TimeZoneSidKey": "Europe/Paris"}) == {
        "currency": "USD",
        "timezone": "Europe/Paris",
    }
    assert org_facts({"DefaultCurrencyIsoCode": None, "TimeZoneSidKey": "Mars/Olympus"}) == {}


def test_a_user_who_may_not_read_the_org_keeps_the_configured_values(
    sandbox: SalesforceSandbox,
) -> None:
    del sandbox.tables["Organization"]  # INVALID_TYPE, as for a user without access to it
    connector = connect(sandbox)
    connector.check()
    assert connector.mapping_facts() == {}
