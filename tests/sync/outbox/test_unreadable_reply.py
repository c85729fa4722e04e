"""A write that landed but whose success reply cannot be read (a proxy's page, a body cut in
transit) may have been written: it is looked for, never sent again under another wire key.
Counted as a refusal, it was resent as ``KEY-r1``, which neither QuickBooks nor Invoiced could
tell from a new write: the payment was written twice."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from canonical.enums import CommandStatus
from canonical.store import Store
from connectors.base import MemoryTokenStore
from connectors.http import RetryPolicy
from connectors.invoiced import InvoicedConnector, InvoicedSandbox
from connectors.quickbooks import QuickBooksConnector, QuickBooksSandbox
from connectors.sandbox.world import World
from mappings.invoiced.push import InvoicedPush
from mappings.quickbooks.push import QuickBooksPush
from sync.outbox.worker import push
from sync.settings import PushSettings
from tests.sync.outbox.test_invoiced_write_off import command_row, keyed, open_invoice
from tests.sync.outbox.test_refused_retry import KEY, invoiced_payment, qbo_keyed, qbo_payment

SETTINGS = PushSettings(backoff_seconds=0, max_attempts=5)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(f"sqlite:///{tmp_path / 'arsync.db'}")
    yield s
    s.dispose()


def garble_first(session: requests.Session, path_part: str) -> None:
    """The first POST to ``path_part`` is written by the server; its reply arrives unreadable."""
    done: list[bool] = []

    def hook(response: requests.Response, *_: Any, **__: Any) -> requests.Response:
        request = response.request
        posted = request.method == "POST" and path_part in (request.path_url or "")
        if not done and posted and 200 <= response.status_code < 300:
            done.append(True)
            response._content = b"<html><body>upstream ok</body></html>"
        return response

    session.hooks["response"].append(hook)


def test_an_invoiced_payment_whose_reply_was_unreadable_is_written_once(store: Store) -> None:
    box = InvoicedSandbox(world=World.generate(seed=3, customers=10, invoices=80))
    box.start()
    try:
        connector = InvoicedConnector(
            box.config(), MemoryTokenStore(), policy=RetryPolicy(max_attempts=1)
        )
        command_id = invoiced_payment(store, open_invoice(box))
        garble_first(connector.client.session, "/payments")
        for _ in range(2):
            push(store, {"invoiced": InvoicedPush(connector)}, settings=SETTINGS)
        row = command_row(store, command_id)
        assert row.status == CommandStatus.CONFIRMED
        assert "refusals" not in row.result
        assert box.payments_created == 1 and len(keyed(box, "payments", KEY)) == 1
    finally:
        box.stop()


def test_a_quickbooks_payment_whose_batch_reply_was_unreadable_is_written_once(
    store: Store,
) -> None:
    box = QuickBooksSandbox(world=World.generate(seed=5, customers=8, invoices=40))
    box.start()
    try:
        tokens = MemoryTokenStore(box.initial_tokens())
        policy = RetryPolicy(max_attempts=1, sleep=lambda _: None)
        adapter = QuickBooksPush(QuickBooksConnector(box.config(), tokens, policy=policy))
        command_id, _ = qbo_payment(store, box)
        garble_first(adapter.connector.client.session, "/batch")
        push(store, {"quickbooks": adapter}, settings=SETTINGS)
        assert command_row(store, command_id).status == CommandStatus.SENT  # outcome unknown
        push(store, {"quickbooks": adapter}, settings=SETTINGS)  # looked for, found
        row = command_row(store, command_id)
        assert row.status == CommandStatus.CONFIRMED and "refusals" not in row.result
        assert len(qbo_keyed(box, KEY)) == 1
    finally:
        box.stop()
