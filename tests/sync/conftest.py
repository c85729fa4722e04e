"""Fixtures shared by the sync tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.registry import entry
from connectors.sandbox.server import SandboxServer
from connectors.sandbox.world import World


@pytest.fixture
def qbo_sandbox() -> Iterator[SandboxServer]:
    """A small QuickBooks sandbox (20 customers, 120 invoices) on a free loopback port."""
    server = entry("quickbooks").sandbox(world=World.generate(seed=5, customers=20, invoices=120))
    server.start()
    yield server
    server.stop()
