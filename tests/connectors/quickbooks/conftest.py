"""Fixtures for the QuickBooks connector tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from connectors.base import MemoryTokenStore
from connectors.http import RetryPolicy
from connectors.quickbooks import QuickBooksConfig, QuickBooksConnector, QuickBooksSandbox
from connectors.sandbox.world import World
from tests.connectors.quickbooks.qbo_helpers import API, REALM, TOKEN_URL, Sleeps


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def config() -> QuickBooksConfig:
    return QuickBooksConfig(
        realm_id=REALM,
        client_id="client-abc",
        client_secret=SecretStr("s3cret-value"),
        refresh_token=SecretStr("RT-initial"),
        api_base_url=API,
        token_url=TOKEN_URL,
        per_second=0,
        page_size=2,
    )


@pytest.fixture
def connector(config: QuickBooksConfig, sleeps: Sleeps) -> Iterator[QuickBooksConnector]:
    made = QuickBooksConnector(config, MemoryTokenStore(), policy=RetryPolicy(sleep=sleeps))
    yield made
    made.close()


@pytest.fixture(scope="module")
def world() -> World:
    return World.generate(11, customers=40, invoices=400)


@pytest.fixture
def sandbox(world: World) -> Iterator[QuickBooksSandbox]:
    box = QuickBooksSandbox(world=world)
    box.start()
    yield box
    box.stop()
