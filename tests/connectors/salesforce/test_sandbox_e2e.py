"""The connector against its sandbox over real HTTP, with every object preset."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr

from connectors.base import MemoryTokenStore, RawRecord
from connectors.errors import AuthError
from connectors.http import RetryPolicy
from connectors.salesforce import SalesforceConnector, SalesforceSandbox
from connectors.salesforce.config import AuthFlow
from connectors.sandbox.world import World
from mappings.base import MappingContext, MappingError
from mappings.salesforce import MAPPERS

PAGE = 25
pytestmark = pytest.mark.slow


@pytest.fixture(params=["custom_objects", "revenue_cloud", "salesforce_billing"])
def sandbox(request: pytest.FixtureRequest) -> Iterator[SalesforceSandbox]:
    server = SalesforceSandbox(
        world=World.generate(seed=5, customers=30, invoices=240), preset=request.param
    )
    server.start()
    yield server
    server.stop()


def connect(sandbox: SalesforceSandbox, **changes: object) -> SalesforceConnector:
    config = sandbox.config().model_copy(update={"page_size": PAGE, **changes})
    return SalesforceConnector(
        config, MemoryTokenStore(sandbox.initial_tokens()), policy=RetryPolicy(sleep=lambda _: None)
    )


def pull(
    connector: SalesforceConnector, stream: str, since: datetime | None = None
) -> list[RawRecord]:
    until = datetime.now(UTC) + timedelta(seconds=1)
    return [r for p in connector.streams()[stream].pages(since, until) for r in p.records]


def test_full_pull_reaches_the_end_in_the_fewest_calls(sandbox: SalesforceSandbox) -> None:
    connector = connect(sandbox)
    for stream in ("customers", "invoices", "credit_memos", "payments"):
        before = connector.api_calls
        records = pull(connector, stream)
        assert {r.remote_id for r in records} == set(sandbox.remote_ids(stream))
        stamps = [(r.modified_at, r.remote_id) for r in records]
        assert stamps == sorted(stamps)  # ordered=True holds
        sources = connector.streams()[stream].sources  # type: ignore[attr-defined]
        pages = [max(1, -(-len(sandbox.tables[s.sobject]) // PAGE)) for s in sources]
        assert connector.api_calls - before == sum(pages)


def test_every_pulled_record_maps(sandbox: SalesforceSandbox) -> None:
    connector = connect(sandbox)
    ctx = MappingContext("salesforce", options={"schema": sandbox.schema})
    for stream, mapper in MAPPERS.items():
        for record in pull(connector, stream):
            mapped = mapper(record, ctx)
            assert mapped.remote_id == record.remote_id


def test_incremental_returns_exactly_the_changes(sandbox: SalesforceSandbox) -> None:
    connector = connect(sandbox)
    mark = datetime.now(UTC)
    for stream in ("customers", "invoices", "credit_memos", "payments"):
        ids = sandbox.remote_ids(stream)
        touched, removed = ids[1], ids[2]
        sandbox.touch(stream, touched)
        created = sandbox.create(stream)
        sandbox.remove(stream, removed)
        records = pull(connector, stream, since=mark - timedelta(milliseconds=1))
        assert {r.remote_id: r.deleted for r in records} == {
            touched: False,
            created: False,
            removed: True,
        }, stream
        stamps = [(r.modified_at, r.remote_id) for r in records]
        assert stamps == sorted(stamps)


def test_deleted_record_maps_as_deleted(sandbox: SalesforceSandbox) -> None:
    connector = connect(sandbox)
    mark = datetime.now(UTC) - timedelta(seconds=1)
    victim = sandbox.remote_ids("invoices")[0]
    sandbox.remove("invoices", victim)
    (record,) = pull(connector, "invoices", since=mark)
    mapped: Any = MAPPERS["invoices"](record, MappingContext("salesforce"))
    assert mapped.deleted and mapped.status == "deleted" and mapped.remote_id == victim


def test_rate_limit_and_server_error_bursts_are_survived(sandbox: SalesforceSandbox) -> None:
    sandbox.faults.rate_limit_every = 3
    sandbox.faults.fail_next = 3
    connector = connect(sandbox)
    records = pull(connector, "invoices")
    assert {r.remote_id for r in records} == set(sandbox.remote_ids("invoices"))
    assert connector.session.stats.retries >= 4


def test_expired_session_is_refreshed_once_per_request(sandbox: SalesforceSandbox) -> None:
    connector = connect(sandbox)
    sandbox.faults.expire_tokens_after = 4
    records = pull(connector, "invoices")
    assert len(records) == len(sandbox.remote_ids("invoices"))
    assert connector.session.stats.refreshes >= 2


def test_bad_credentials_raise_auth_error(sandbox: SalesforceSandbox) -> None:
    connector = connect(sandbox, client_secret=SecretStr("wrong-secret-value"))
    with pytest.raises(AuthError) as info:
        connector.check()
    assert "salesforce" in str(info.value) and "wrong-secret-value" not in str(info.value)


def test_malformed_record_still_arrives_and_its_mapping_names_the_field(
    sandbox: SalesforceSandbox,
) -> None:
    bad = sandbox.remote_ids("invoices")[4]
    sandbox.corrupt("invoices", bad)
    connector = connect(sandbox)
    (record,) = [r for r in pull(connector, "invoices") if r.remote_id == bad]
    with pytest.raises(MappingError) as info:
        MAPPERS["invoices"](record, MappingContext("salesforce"))
    assert info.value.field == sandbox.schema.invoice.balance


def test_misconfigured_field_stops_the_connector_naming_it(sandbox: SalesforceSandbox) -> None:
    schema = sandbox.schema.model_dump()
    schema["invoice"]["balance"] = "Outstanding__c"
    connector = connect(sandbox, objects=type(sandbox.schema).model_validate(schema))
    with pytest.raises(AuthError) as info:
        pull(connector, "invoices")
    assert "Outstanding__c" in str(info.value) and info.value.code == "INVALID_FIELD"


def test_daily_api_cap_fails_cleanly_without_spinning(sandbox: SalesforceSandbox) -> None:
    connector = connect(sandbox)
    connector.check()
    sandbox.daily_limit = sandbox.api_calls
    calls = connector.api_calls
    with pytest.raises(AuthError) as info:
        pull(connector, "customers")
    assert info.value.code == "REQUEST_LIMIT_EXCEEDED"
    assert connector.api_calls == calls + 1
    assert connector.api_usage == (sandbox.daily_limit, sandbox.daily_limit)


def test_deletes_older_than_the_log_are_reported(sandbox: SalesforceSandbox) -> None:
    connector = connect(sandbox)
    stream = connector.streams()["invoices"]
    pull(connector, "invoices", since=datetime.now(UTC) - timedelta(days=40))
    assert stream.delete_gap is not None
    assert connector.live_ids("invoices") == set(sandbox.remote_ids("invoices"))


@pytest.mark.parametrize("flow", ["password", "jwt_bearer"])
def test_other_oauth_flows_log_in(flow: AuthFlow) -> None:
    server = SalesforceSandbox(
        world=World.generate(seed=2, customers=5, invoices=20), auth_flow=flow
    )
    with server:
        connector = connect(server)
        connector.check()
        assert len(pull(connector, "customers")) == 5


def test_get_updated_lists_changed_ids(sandbox: SalesforceSandbox) -> None:
    connector = connect(sandbox)
    start = datetime.now(UTC) - timedelta(minutes=1)
    changed = sandbox.remote_ids("invoices")[9]
    sandbox.touch("invoices", changed)
    body = connector.client.updated(
        sandbox.schema.invoice.sobject, start, datetime.now(UTC) + timedelta(seconds=1)
    )
    assert body["ids"] == [changed]
    connector.close()


def test_an_expired_query_cursor_is_resumed_after_the_last_record(
    sandbox: SalesforceSandbox,
) -> None:
    connector = connect(sandbox)
    until = datetime.now(UTC) + timedelta(seconds=1)
    pages = connector.streams()["invoices"].pages(None, until)
    seen = [r.remote_id for r in next(pages).records]
    sandbox.expire_cursors()
    seen += [r.remote_id for p in pages for r in p.records]
    assert len(seen) == len(set(seen)) == len(sandbox.remote_ids("invoices"))
    assert sum(1 for _, path in sandbox.log if path.endswith("/query/")) == 2  # resumed once
