"""The Invoiced connector end to end against its sandbox over real HTTP."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import requests
from pydantic import SecretStr

from connectors.base import MemoryTokenStore, RawRecord
from connectors.errors import AuthError, DataError
from connectors.http import RetryPolicy
from connectors.invoiced import InvoicedConfig, InvoicedConnector, InvoicedSandbox
from connectors.sandbox.world import World
from mappings.base import MappingContext, MappingError
from mappings.invoiced import MAPPERS, customer, invoice, payment

PAGE = 25
CTX = MappingContext(system="invoiced")


@pytest.fixture(scope="module")
def world() -> World:
    return World.generate(seed=5, customers=20, invoices=160)


@pytest.fixture
def sandbox(world: World) -> Iterator[InvoicedSandbox]:
    server = InvoicedSandbox(world=world)
    server.start()
    yield server
    server.stop()


def connect(sandbox: InvoicedSandbox, **changes: object) -> InvoicedConnector:
    config = sandbox.config().model_copy(update={"page_size": PAGE, **changes})
    return InvoicedConnector(
        config, MemoryTokenStore(sandbox.initial_tokens()), policy=RetryPolicy(sleep=lambda _: None)
    )


def pull(conn: InvoicedConnector, stream: str, since: datetime | None) -> list[list[RawRecord]]:
    pages = conn.streams()[stream].pages(since, datetime.now(UTC))
    return [page.records for page in pages]


def test_full_pull_reaches_the_last_page_in_the_fewest_calls(sandbox: InvoicedSandbox) -> None:
    conn = connect(sandbox)
    for stream in ("customers", "invoices", "credit_memos", "payments"):
        before = conn.api_calls
        pages = pull(conn, stream, None)
        ids = [r.remote_id for page in pages for r in page]
        assert sorted(ids) == sorted(sandbox.remote_ids(stream)), stream
        assert len(ids) == len(set(ids))
        assert conn.api_calls - before == max(1, math.ceil(len(ids) / PAGE)), stream
        stamps = [r.modified_at for page in pages for r in page]
        assert stamps == sorted(stamps)  # type: ignore[type-var]
        for page in pages:
            for record in page:
                MAPPERS[stream](record, CTX)  # every record maps


def test_the_world_is_rendered_the_invoiced_way(sandbox: InvoicedSandbox, world: World) -> None:
    conn = connect(sandbox)
    invoices = [invoice.to_canonical(r, CTX) for page in pull(conn, "invoices", None) for r in page]
    first = world.invoices[0]
    mine = next(i for i in invoices if i.links == {"quickbooks": str(first.key)})
    assert mine.number == f"INV-{first.number:05d}"
    assert mine.total.currency == first.currency and mine.total.amount == first.total
    drifted = {
        i.links["quickbooks"]
        for i in invoices
        if i.balance.amount != world.invoices[int(i.links["quickbooks"]) - 1].balance
    }
    assert drifted == {
        str(k) for k in world.drift_invoice_keys if world.invoices[k - 1].status != "void"
    }
    customers = [
        customer.to_canonical(r, CTX) for page in pull(conn, "customers", None) for r in page
    ]
    assert {c.number for c in customers} == {c.number for c in world.customers}
    payments = [payment.to_canonical(r, CTX) for page in pull(conn, "payments", None) for r in page]
    assert any(a.target == "credit_memo" for p in payments for a in p.applied)
    assert sum(len(p.applied) for p in payments) >= len(world.payments)


def test_incremental_returns_exactly_the_changes_deletes_and_voids_included(
    sandbox: InvoicedSandbox,
) -> None:
    conn = connect(sandbox)
    since = sandbox.now() - timedelta(seconds=2)
    assert all(page == [] for page in pull(conn, "invoices", since))
    ids = sandbox.remote_ids("invoices")
    unpaid = next(
        i
        for i in ids
        if sandbox.record("invoices", i)["balance"] == sandbox.record("invoices", i)["total"]
    )
    partly = next(
        i
        for i in ids
        if Decimal(0)
        < sandbox.record("invoices", i)["balance"]
        < sandbox.record("invoices", i)["total"]
    )
    touched = next(i for i in ids if i not in (unpaid, partly))
    sandbox.touch("invoices", touched)
    created = sandbox.create("invoices")
    sandbox.remove("invoices", unpaid)  # nothing paid: deleted
    sandbox.remove("invoices", partly)  # payments applied: voided
    records = [r for page in pull(conn, "invoices", since) for r in page]
    assert sorted((r.remote_id, r.deleted) for r in records) == sorted(
        [(touched, False), (created, False), (unpaid, True), (partly, False)]
    )
    mapped = {r.remote_id: invoice.to_canonical(r, CTX) for r in records}
    assert mapped[unpaid].status == "deleted" and mapped[unpaid].deleted
    assert mapped[partly].status == "void" and not mapped[partly].deleted
    assert unpaid not in sandbox.remote_ids("invoices") and partly in sandbox.remote_ids("invoices")
    for stream in ("customers", "credit_memos", "payments"):
        assert [r for page in pull(conn, stream, since) for r in page] == [], stream


def test_rate_limits_and_server_error_bursts_are_survived(sandbox: InvoicedSandbox) -> None:
    sandbox.faults.rate_limit_every = 3
    sandbox.faults.retry_after = 0
    sandbox.faults.fail_next = 3
    conn = connect(sandbox)
    ids = [r.remote_id for page in pull(conn, "invoices", None) for r in page]
    assert sorted(ids) == sorted(sandbox.remote_ids("invoices"))
    assert conn.session.stats.retries >= 5


def test_bad_api_key_is_an_auth_error_naming_invoiced(sandbox: InvoicedSandbox) -> None:
    conn = connect(sandbox, api_key=SecretStr("sk_test_wrong_key_value"))
    with pytest.raises(AuthError) as caught:
        conn.check()
    assert str(caught.value).startswith("invoiced:")
    assert "sk_test_wrong_key_value" not in str(caught.value)
    assert conn.api_calls == 1
    connect(sandbox).check()


def test_a_malformed_record_still_arrives_and_its_mapping_names_the_field(
    sandbox: InvoicedSandbox,
) -> None:
    bad = sandbox.remote_ids("payments")[3]
    since = sandbox.now() - timedelta(seconds=2)
    sandbox.corrupt("payments", bad)
    records = [r for page in pull(connect(sandbox), "payments", since) for r in page]
    assert [r.remote_id for r in records] == [bad]
    with pytest.raises(MappingError) as caught:
        payment.to_canonical(records[0], CTX)
    assert caught.value.field == "amount"


def test_the_wire_carries_link_total_count_and_invoiced_errors(sandbox: InvoicedSandbox) -> None:
    auth = (sandbox.api_key, "")
    reply = requests.get(
        f"{sandbox.base_url}/invoices", params={"per_page": 7, "page": 2}, auth=auth, timeout=10
    )
    total = len(sandbox.remote_ids("invoices"))
    assert reply.headers["X-Total-Count"] == str(total)
    assert {"self", "first", "previous", "next", "last"} <= set(reply.links)
    assert (
        "page=3" in reply.links["next"]["url"]
        and f"page={math.ceil(total / 7)}" in reply.links["last"]["url"]
    )
    assert (
        "applied_to"
        not in requests.get(f"{sandbox.base_url}/payments", auth=auth, timeout=10).json()[0]
    )
    refused = requests.get(f"{sandbox.base_url}/invoices", auth=("nope", ""), timeout=10)
    assert refused.status_code == 401 and refused.json()["type"] == "authentication_error"
    with pytest.raises(DataError, match="sort"):
        connect(sandbox).client.get("/invoices", {"sort": "balance sideways"})


def test_sandbox_config_accepts_a_page_size_override(sandbox: InvoicedSandbox) -> None:
    config = sandbox.config().model_copy(update={"page_size": 25})
    assert isinstance(config, InvoicedConfig) and config.page_size == 25
    assert config.api_key.get_secret_value() == sandbox.api_key
    assert sandbox.initial_tokens() == {}
