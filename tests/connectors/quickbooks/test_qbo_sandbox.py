"""The QuickBooks connector end to end over HTTP against its sandbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
from pydantic import SecretStr

from canonical.records import PaymentIn
from connectors.base import MemoryTokenStore
from connectors.errors import AuthError
from connectors.quickbooks import QuickBooksConnector, QuickBooksSandbox
from mappings.base import MappingContext, MappingError
from mappings.quickbooks import MAPPERS
from tests.connectors.quickbooks.qbo_helpers import Sleeps, sandbox_connector

STREAMS = ("customers", "invoices", "credit_memos", "payments")


def pull(
    connector: QuickBooksConnector, stream: str, since: datetime | None, until: datetime
) -> list[tuple[str, bool]]:
    return [
        (r.remote_id, r.deleted)
        for page in connector.streams()[stream].pages(since, until)
        for r in page.records
    ]


def test_full_pull_reaches_the_last_page_at_the_minimum_call_count(
    sandbox: QuickBooksSandbox,
) -> None:
    connector, _ = sandbox_connector(sandbox)
    until = datetime.now(UTC)
    for stream in STREAMS:
        records = pull(connector, stream, None, until)
        live = {rid for rid, deleted in records if not deleted}
        assert live == set(sandbox.remote_ids(stream)), stream
        assert len(records) == len({rid for rid, _ in records}), stream
    total = sum(len(sandbox.records[e]) for e in sandbox.records)
    minimum = sum(len(sandbox.records[e]) // 25 + 1 for e in sandbox.records)
    queries = connector.session.stats.total
    assert total > 600
    assert queries <= minimum * 1.1 + 1


def test_incremental_returns_the_changes_with_one_cdc_call(sandbox: QuickBooksSandbox) -> None:
    connector, _ = sandbox_connector(sandbox)
    first = datetime.now(UTC)
    invoices = sandbox.remote_ids("invoices")
    sandbox.touch("invoices", invoices[0])
    new_invoice = sandbox.create("invoices")
    sandbox.remove("invoices", invoices[1])
    customer = sandbox.remote_ids("customers")[2]
    sandbox.remove("customers", customer)
    new_memo = sandbox.create("credit_memos")
    payment = sandbox.remote_ids("payments")[0]
    sandbox.touch("payments", payment)
    until = datetime.now(UTC) + timedelta(seconds=1)
    before = connector.session.stats.by_endpoint.copy()
    got = {stream: pull(connector, stream, first, until) for stream in STREAMS}
    # a void and a "deleted" customer keep their objects: the mappings read their status
    assert set(got["invoices"]) == {
        (invoices[0], False),
        (new_invoice, False),
        (invoices[1], False),
    }
    assert got["customers"] == [(customer, False)]
    assert got["credit_memos"] == [(new_memo, False)]
    assert got["payments"] == [(payment, False)]
    calls = connector.session.stats.by_endpoint - before
    assert list(calls) == [f"GET /v3/company/{sandbox.realm_id}/cdc"]
    assert sum(calls.values()) == 1


def test_deleted_payment_comes_back_as_a_cdc_delete_and_restores_balances(
    sandbox: QuickBooksSandbox,
) -> None:
    connector, _ = sandbox_connector(sandbox)
    since = datetime.now(UTC)
    payment_id = next(
        pid for pid in sandbox.remote_ids("payments") if sandbox.records["Payment"][pid]["Line"]
    )
    line = sandbox.records["Payment"][payment_id]["Line"][0]
    invoice_id = line["LinkedTxn"][0]["TxnId"]
    balance = sandbox.records["Invoice"][invoice_id]["Balance"]
    sandbox.remove("payments", payment_id)
    until = datetime.now(UTC) + timedelta(seconds=1)
    assert pull(connector, "payments", since, until) == [(payment_id, True)]
    assert (invoice_id, False) in pull(connector, "invoices", since, until)
    assert sandbox.records["Invoice"][invoice_id]["Balance"] == balance + line["Amount"]


def test_cdc_over_its_cap_falls_back_to_paging_the_query(world: object) -> None:
    box = QuickBooksSandbox(world=world, cdc_max_objects=3)  # type: ignore[arg-type]
    with box:
        connector, _ = sandbox_connector(box)
        since = datetime.now(UTC)
        created = {box.create("invoices") for _ in range(5)}
        until = datetime.now(UTC) + timedelta(seconds=1)
        got = pull(connector, "invoices", since, until)
        assert {rid for rid, _ in got} == created
        assert connector.session.stats.by_endpoint[f"POST /v3/company/{box.realm_id}/query"] == 1


def test_old_bookmark_uses_the_query_path(sandbox: QuickBooksSandbox) -> None:
    connector, _ = sandbox_connector(sandbox)
    since = datetime.now(UTC) - timedelta(days=45)
    got = pull(connector, "invoices", since, datetime.now(UTC))
    stamps = [sandbox.stamps["Invoice"][rid] for rid, _ in got]
    assert got and all(stamp >= since.replace(microsecond=0) for stamp in stamps)
    assert stamps == sorted(stamps)
    expected = {rid for rid, s in sandbox.stamps["Invoice"].items() if s >= since}
    assert {rid for rid, _ in got} == expected


def test_rate_limits_and_server_errors_are_survived(sandbox: QuickBooksSandbox) -> None:
    sleeps = Sleeps()
    sandbox.faults.rate_limit_every = 3
    sandbox.faults.retry_after = 0
    sandbox.faults.fail_next = 3
    connector, _ = sandbox_connector(sandbox, sleeps)
    got = pull(connector, "invoices", None, datetime.now(UTC))
    assert {rid for rid, deleted in got if not deleted} == set(sandbox.remote_ids("invoices"))
    assert connector.session.stats.retries >= 4
    assert 0.0 in sleeps


def test_throttle_fault_with_http_200_is_survived(world: object) -> None:
    box = QuickBooksSandbox(world=world, throttle_status=200)  # type: ignore[arg-type]
    box.faults.rate_limit_every = 2
    box.faults.retry_after = 0
    with box:
        connector, _ = sandbox_connector(box)
        got = pull(connector, "customers", None, datetime.now(UTC))
        assert {rid for rid, _ in got} == set(box.remote_ids("customers"))
        assert connector.session.stats.retries >= 1


def test_expired_token_is_refreshed_once_and_the_rotated_token_stored(
    sandbox: QuickBooksSandbox,
) -> None:
    connector, tokens = sandbox_connector(sandbox)
    first_refresh = tokens.get("refresh_token")
    connector.check()
    rotated = tokens.get("refresh_token")
    assert rotated and rotated != first_refresh
    assert first_refresh not in sandbox.refresh_tokens
    sandbox.expire_tokens()
    got = pull(connector, "credit_memos", None, datetime.now(UTC))
    assert {rid for rid, _ in got} == set(sandbox.remote_ids("credit_memos"))
    assert connector.session.stats.refreshes == 1
    assert tokens.get("refresh_token") not in (rotated, first_refresh)
    assert tokens.get("refresh_token") in sandbox.refresh_tokens


def test_bad_client_secret_is_a_one_line_auth_error(sandbox: QuickBooksSandbox) -> None:
    config = sandbox.config().model_copy(update={"client_secret": SecretStr("not-the-secret-xyz")})
    connector = QuickBooksConnector(config, MemoryTokenStore(sandbox.initial_tokens()))
    with pytest.raises(AuthError) as caught:
        connector.check()
    message = str(caught.value)
    assert message.startswith("quickbooks:") and "\n" not in message
    assert "not-the-secret-xyz" not in message and sandbox.client_secret not in message


def test_used_refresh_token_is_rejected(sandbox: QuickBooksSandbox) -> None:
    tokens = sandbox.initial_tokens()
    QuickBooksConnector(sandbox.config(), MemoryTokenStore(tokens)).check()
    again = QuickBooksConnector(sandbox.config(), MemoryTokenStore(tokens))
    with pytest.raises(AuthError, match="invalid_grant"):
        again.check()


def test_malformed_record_still_arrives_and_its_mapping_names_the_field(
    sandbox: QuickBooksSandbox,
) -> None:
    bad_invoice = sandbox.remote_ids("invoices")[4]
    bad_customer = sandbox.remote_ids("customers")[1]
    sandbox.corrupt("invoices", bad_invoice)
    sandbox.corrupt("customers", bad_customer)
    connector, _ = sandbox_connector(sandbox)
    ctx = MappingContext(system="quickbooks")
    for stream, bad, field in (
        ("invoices", bad_invoice, "TotalAmt"),
        ("customers", bad_customer, "DisplayName"),
    ):
        records = [
            r for p in connector.streams()[stream].pages(None, datetime.now(UTC)) for r in p.records
        ]
        broken = next(r for r in records if r.remote_id == bad)
        with pytest.raises(MappingError) as caught:
            MAPPERS[stream](broken, ctx)
        assert caught.value.field == field
        for record in records:
            if record.remote_id != bad:
                MAPPERS[stream](record, ctx)


def test_every_seeded_record_maps(sandbox: QuickBooksSandbox) -> None:
    connector, _ = sandbox_connector(sandbox)
    ctx = MappingContext(system="quickbooks")
    applied_credit = 0
    for stream in STREAMS:
        for page in connector.streams()[stream].pages(None, datetime.now(UTC)):
            for record in page.records:
                mapped = MAPPERS[stream](record, ctx)
                assert mapped.deleted == record.deleted
                if isinstance(mapped, PaymentIn):
                    applied_credit += sum(a.target == "credit_memo" for a in mapped.applied)
    assert applied_credit > 0


def test_wire_contract_minorversion_realm_and_query_errors(sandbox: QuickBooksSandbox) -> None:
    connector, _ = sandbox_connector(sandbox)
    token = connector.client.auth.access_token
    base = f"{sandbox.base_url}/v3/company/{sandbox.realm_id}"
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    no_minor = requests.get(f"{base}/invoice/1", headers=headers, timeout=5)
    assert no_minor.status_code == 400
    assert no_minor.json()["Fault"]["Error"][0]["element"] == "minorversion"
    other = requests.get(
        f"{sandbox.base_url}/v3/company/123/invoice/1?minorversion=75", headers=headers, timeout=5
    )
    assert other.status_code == 403 and other.json()["Fault"]["Error"][0]["code"] == "3100"
    bad_query = requests.get(
        f"{base}/query",
        params={"query": "SELEKT nothing", "minorversion": "75"},
        headers=headers,
        timeout=5,
    )
    assert bad_query.status_code == 400 and bad_query.json()["Fault"]["Error"][0]["code"] == "4000"
    count = requests.get(
        f"{base}/query",
        params={"query": "SELECT COUNT(*) FROM Invoice", "minorversion": "75"},
        headers=headers,
        timeout=5,
    )
    assert count.json()["QueryResponse"]["totalCount"] == len(sandbox.records["Invoice"])
    old = (datetime.now(UTC) - timedelta(days=31)).isoformat()
    cdc = requests.get(
        f"{base}/cdc",
        params={"entities": "Invoice", "changedSince": old, "minorversion": "75"},
        headers=headers,
        timeout=5,
    )
    assert cdc.status_code == 400 and cdc.json()["Fault"]["Error"][0]["element"] == "changedSince"
    unauthenticated = requests.get(f"{base}/invoice/1?minorversion=75", timeout=5)
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["Fault"]["Error"][0]["code"] == "3200"


def test_an_earlier_since_in_the_same_run_fetches_cdc_again(sandbox: QuickBooksSandbox) -> None:
    connector, _ = sandbox_connector(sandbox)
    early = datetime.now(UTC)
    touched = sandbox.remote_ids("credit_memos")[0]
    sandbox.touch("credit_memos", touched)
    late = datetime.now(UTC) + timedelta(seconds=2)
    until = late + timedelta(seconds=1)
    assert pull(connector, "customers", late, until) == []
    assert pull(connector, "invoices", late, until) == []
    assert pull(connector, "credit_memos", early, until) == [(touched, False)]
    cdc = f"GET /v3/company/{sandbox.realm_id}/cdc"
    assert connector.session.stats.by_endpoint[cdc] == 2
