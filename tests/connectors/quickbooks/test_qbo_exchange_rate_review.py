"""From a review of the exchange-rate lookup: Preferences that cannot be read are named as
such (never "no USD exchange rate"), and what Preferences and rates say is read again on each
push, never kept for the life of a server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses

from connectors.errors import ErrorKind
from connectors.http import RetryPolicy
from connectors.quickbooks import QuickBooksConnector
from tests.connectors.quickbooks.qbo_helpers import COMPANY, TOKEN_URL
from tests.connectors.quickbooks.test_qbo_exchange_rate import (
    PREFERENCES,
    TOKEN,
    batch_bodies,
    created,
    eur_rate,
    payment,
)


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.post(TOKEN_URL, json=TOKEN)
        yield rsps


def test_preferences_that_cannot_be_read_are_named_and_stay_retryable(
    connector: QuickBooksConnector, mock: responses.RequestsMock
) -> None:
    prefs = mock.get(f"{COMPANY}/preferences", status=503, json={"Fault": {"Error": []}})
    results = connector.write([payment("usd-1", "USD"), payment("usd-2", "USD")])
    assert [r.ok for r in results] == [False, False]
    for result in results:
        assert result.error is not None
        assert result.error.kind is ErrorKind.RETRY  # the outbox tries again later
        assert "Preferences" in result.error.message
        assert "exchange rate" not in result.error.message
    assert batch_bodies(mock) == []  # nothing was sent
    # read once for the push (with the connector's retries), not again for the second write
    assert prefs.call_count == RetryPolicy().max_attempts


def test_multicurrency_turned_on_while_a_server_runs_is_seen_by_the_next_push(
    connector: QuickBooksConnector, mock: responses.RequestsMock
) -> None:
    off = {
        "Preferences": {
            "Id": "1",
            "SyncToken": "0",
            "CurrencyPrefs": {"MultiCurrencyEnabled": False, "HomeCurrency": {"value": "USD"}},
        }
    }
    mock.get(f"{COMPANY}/preferences", json=off)
    mock.get(f"{COMPANY}/preferences", json=PREFERENCES)
    mock.get(f"{COMPANY}/exchangerate", body=eur_rate())
    mock.post(f"{COMPANY}/batch", json=created("Payment", "910"))
    mock.post(f"{COMPANY}/batch", json=created("Payment", "911"))
    assert connector.write([payment("usd-1", "USD")])[0].ok
    assert connector.write([payment("eur-1", "EUR")])[0].ok
    first, second = (b["BatchItemRequest"][0]["Payment"] for b in batch_bodies(mock))
    assert "ExchangeRate" not in first
    assert str(second["ExchangeRate"]) == "1.0822"
