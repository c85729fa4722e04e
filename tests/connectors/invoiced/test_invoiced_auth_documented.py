"""Invoiced authentication as documented (developer docs, "Authentication"): HTTP Basic with
the API key as the user name and an empty password; a 401 is a stop naming Invoiced and
what to do, without the key, and is never retried."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests
import responses

from connectors.base import MemoryTokenStore
from connectors.errors import AuthError
from connectors.http import RetryPolicy
from connectors.invoiced import InvoicedConfig, InvoicedConnector, InvoicedSandbox
from connectors.sandbox.world import World

BASE = "https://api.sandbox.invoiced.example"
KEY = "sk_test_abcdef0123456789"


def connector(base: str = BASE, key: str = KEY) -> InvoicedConnector:
    config = InvoicedConfig.model_validate({"api_key": key, "base_url": base})
    return InvoicedConnector(config, MemoryTokenStore(), policy=RetryPolicy(sleep=lambda _: None))


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def test_the_key_is_the_basic_user_name_with_an_empty_password(
    mocked: responses.RequestsMock,
) -> None:
    mocked.get(f"{BASE}/customers", json=[])
    connector().check()
    sent = mocked.calls[0].request.headers["Authorization"]
    assert sent == "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()


def test_a_key_revoked_mid_run_stops_once_naming_invoiced_and_the_fix(
    mocked: responses.RequestsMock,
) -> None:
    mocked.get(
        f"{BASE}/invoices",
        status=401,
        json={"type": "authentication_error", "message": "Invalid API key"},
    )
    made = connector()
    with pytest.raises(AuthError) as caught:
        list(made.streams()["invoices"].pages(None, datetime.now(UTC)))
    assert len(mocked.calls) == 1  # no refresh, no retry
    message = str(caught.value)
    assert message.startswith("invoiced:") and "\n" not in message
    assert "Settings > Developers" in message and KEY not in message


# against the sandbox ---------------------------------------------------------------------


@pytest.fixture
def sandbox() -> Iterator[InvoicedSandbox]:
    server = InvoicedSandbox(world=World.generate(seed=5, customers=5, invoices=10))
    server.start()
    yield server
    server.stop()


def test_sandbox_refuses_the_key_sent_as_the_password(sandbox: InvoicedSandbox) -> None:
    reply = requests.get(f"{sandbox.base_url}/customers", auth=("", sandbox.api_key), timeout=5)
    assert reply.status_code == 401


def test_sandbox_wrong_key_stops_with_the_fix(sandbox: InvoicedSandbox) -> None:
    made = connector(sandbox.base_url, "sk_test_not_the_key_000")
    with pytest.raises(AuthError) as caught:
        made.check()
    message = str(caught.value)
    assert message.startswith("invoiced:") and "invoiced.api_key" in message
    assert "Settings > Developers" in message and "sk_test_not_the_key_000" not in message
    assert made.api_calls == 1
