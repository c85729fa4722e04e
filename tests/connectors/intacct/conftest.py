"""An Intacct sandbox over real HTTP, seeded with a small world, for the writes' tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.intacct import IntacctSandbox
from connectors.sandbox.world import World


@pytest.fixture
def sandbox() -> Iterator[IntacctSandbox]:
    box = IntacctSandbox(world=World.generate(13, customers=20, invoices=120))
    box.start()
    yield box
    box.stop()
