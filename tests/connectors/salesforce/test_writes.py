"""Phase-2 writes: sObject Collections against the sandbox (both presets) and on the wire."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import responses

from connectors.base import MemoryTokenStore
from connectors.errors import AuthError, ConflictError, ErrorKind
from connectors.http import RetryPolicy
from connectors.salesforce import SalesforceConfig, SalesforceConnector, SalesforceSandbox
from connectors.salesforce.writes import AccountSummary, InvoiceStatus, wire_status
from connectors.sandbox.world import World
from mappings.base import MappingContext
from mappings.salesforce import MAPPERS
from mappings.salesforce.schema import DocumentSpec


@pytest.fixture(params=["custom_objects", "revenue_cloud"])
def sandbox(request: pytest.FixtureRequest) -> Iterator[SalesforceSandbox]:
    server = SalesforceSandbox(
        world=World.generate(seed=9, customers=30, invoices=450), preset=request.param
    )
    server.start()
    yield server
    server.stop()


def connect(sandbox: SalesforceSandbox) -> SalesforceConnector:
    return SalesforceConnector(
        sandbox.config(),
        MemoryTokenStore(sandbox.initial_tokens()),
        policy=RetryPolicy(sleep=lambda _: None),
    )


def written(spec: DocumentSpec) -> str:
    """The field push writes an invoice's balance to (Revenue Cloud's Balance is calculated)."""
    return spec.push_balance or spec.balance


def paid(record_id: str, version: str | None = None) -> InvoiceStatus:
    return InvoiceStatus(
        record_id, "paid", Decimal("0.00"), paid_date=date(2024, 6, 1), expected_version=version
    )


def test_invoice_statuses_are_written_200_per_call_and_read_back(
    sandbox: SalesforceSandbox,
) -> None:
    connector = connect(sandbox)
    connector.check()
    ids = sandbox.remote_ids("invoices")
    mark = datetime.now(UTC) - timedelta(seconds=1)
    before = connector.api_calls
    results = connector.write_invoice_statuses([paid(i) for i in ids])
    assert connector.api_calls - before == 3  # 450 records: 200 + 200 + 50
    assert all(r.success for r in results) and [r.key for r in results] == ids

    spec = sandbox.schema.invoice
    balance = written(spec)
    row = sandbox.row(spec.sobject, ids[0])
    assert row[balance] == Decimal("0.00")
    if spec.paid_date:
        assert row[spec.paid_date] == date(2024, 6, 1)
    pages = connector.streams()["invoices"].pages(mark, datetime.now(UTC) + timedelta(seconds=1))
    back = [r for p in pages for r in p.records]
    assert {r.remote_id for r in back} == set(ids)
    if spec.push_balance is None:  # the balance written is the one read: paid
        ctx = MappingContext("salesforce", options={"schema": sandbox.schema})
        assert {MAPPERS["invoices"](r, ctx).status for r in back} == {"paid"}  # type: ignore[attr-defined]

    writes = sandbox.writes
    again = connector.write_invoice_statuses([paid(i) for i in ids])  # a replay
    assert all(r.success for r in again)
    assert sandbox.row(spec.sobject, ids[0])[balance] == Decimal("0.00")
    assert sandbox.writes == writes + 3


def test_a_record_changed_since_the_decision_is_a_conflict_and_the_rest_are_written(
    sandbox: SalesforceSandbox,
) -> None:
    connector = connect(sandbox)
    spec = sandbox.schema.invoice
    ids = sandbox.remote_ids("invoices")[:3]
    versions = {
        i: sandbox.row(spec.sobject, i)["LastModifiedDate"].strftime("%Y-%m-%dT%H:%M:%S.000+0000")
        for i in ids
    }
    sandbox.touch("invoices", ids[1])
    untouched = sandbox.row(spec.sobject, ids[1]).get(written(spec))
    calls = connector.api_calls
    results = connector.write_invoice_statuses([paid(i, versions[i]) for i in ids])
    assert [r.success for r in results] == [True, False, True]
    assert results[1].kind is ErrorKind.CONFLICT and ids[1] in (results[1].message or "")
    assert sandbox.row(spec.sobject, ids[1]).get(written(spec)) == untouched
    assert sandbox.row(spec.sobject, ids[0])[written(spec)] == Decimal("0.00")
    assert connector.api_calls - calls == 2  # one version read + one collection


def test_if_unmodified_since_on_a_single_record(sandbox: SalesforceSandbox) -> None:
    connector = connect(sandbox)
    spec = sandbox.schema.invoice
    record_id = sandbox.remote_ids("invoices")[0]
    seen = sandbox.row(spec.sobject, record_id)["LastModifiedDate"]
    sandbox.touch("invoices", record_id)
    with pytest.raises(ConflictError):
        connector.writer.update_record(
            spec.sobject, record_id, {written(spec): Decimal("1.00")}, if_unmodified_since=seen
        )
    connector.writer.update_record(
        spec.sobject,
        record_id,
        {written(spec): Decimal("1.00")},
        if_unmodified_since=datetime.now(UTC) + timedelta(seconds=1),
    )
    assert sandbox.row(spec.sobject, record_id)[written(spec)] == Decimal("1.00")


def test_account_summaries_go_to_the_configured_fields(sandbox: SalesforceSandbox) -> None:
    connector = connect(sandbox)
    account = sandbox.schema.account
    record_id = sandbox.remote_ids("customers")[0]
    summary = AccountSummary(record_id, Decimal("1500.25"), Decimal("200.00"), 42, "31-60", True)
    (result,) = connector.write_account_summaries([summary])
    assert result.success
    row = sandbox.row(account.sobject, record_id)
    assert row[account.open_balance or ""] == Decimal("1500.25")
    assert row[account.oldest_overdue_days or ""] == 42
    assert row[account.aging_bucket or ""] == "31-60"
    assert row[account.credit_hold or ""] is True


def test_upsert_by_external_id_is_idempotent(sandbox: SalesforceSandbox) -> None:
    connector = connect(sandbox)
    account = sandbox.schema.account
    field = account.external_id or ""
    existing = sandbox.row(account.sobject, sandbox.remote_ids("customers")[0])[field]
    records = [
        {field: existing, account.number or "AccountNumber": "C-00001"},
        {field: "QB-NEW-1", account.name: "NEW ACCOUNT"},
    ]
    first = connector.writer.upsert(account.sobject, field, records)
    assert [(r.success, r.created) for r in first] == [(True, False), (True, True)]
    count = len(sandbox.remote_ids("customers"))
    second = connector.writer.upsert(account.sobject, field, records)
    assert [(r.success, r.created) for r in second] == [(True, False), (True, False)]
    assert len(sandbox.remote_ids("customers")) == count
    assert second[1].record_id == first[1].record_id


def test_all_or_none_rolls_back_the_batch(sandbox: SalesforceSandbox) -> None:
    connector = connect(sandbox)
    spec = sandbox.schema.invoice
    ids = sandbox.remote_ids("invoices")[:2]
    before = sandbox.row(spec.sobject, ids[0]).get(written(spec))
    records: list[dict[str, Any]] = [
        {"Id": ids[0], written(spec): Decimal("0.00")},
        {"Id": ids[1], "CreatedDate": "2020-01-01T00:00:00.000+0000"},  # read-only
    ]
    results = connector.writer.update(spec.sobject, records, all_or_none=True)
    assert [r.code for r in results] == [
        "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "INVALID_FIELD_FOR_INSERT_UPDATE",
    ]
    assert results[0].kind is ErrorKind.RETRY and results[1].kind is ErrorKind.AUTH
    assert results[1].fields == ("CreatedDate",)
    assert sandbox.row(spec.sobject, ids[0]).get(written(spec)) == before


def test_a_lost_reply_is_resent_and_lands_once(sandbox: SalesforceSandbox) -> None:
    connector = connect(sandbox)
    connector.check()
    spec = sandbox.schema.invoice
    record_id = sandbox.remote_ids("invoices")[0]
    sandbox.faults.drop_reply_next = 1
    (result,) = connector.write_invoice_statuses([paid(record_id)])
    assert result.success
    assert connector.session.stats.retries == 1
    assert sandbox.row(spec.sobject, record_id)[written(spec)] == Decimal("0.00")


def test_wire_status_falls_back_to_open_where_paid_is_derived() -> None:
    assert wire_status({"Open": "open", "Paid": "paid"}, "paid") == "Paid"
    assert wire_status({"Posted": "open", "Canceled": "void"}, "paid") == "Posted"
    with pytest.raises(ValueError, match="draft"):
        wire_status({"Posted": "open"}, "draft")


def test_collection_request_is_the_documented_shape() -> None:
    config = SalesforceConfig.model_validate(
        {
            "token_url": "https://login.example.test/services/oauth2/token",
            "client_id": "id",
            "client_secret": "secret",
        }
    )
    connector = SalesforceConnector(
        config, MemoryTokenStore(), policy=RetryPolicy(sleep=lambda _: None)
    )
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        mock.post(
            config.token_url,
            json={"access_token": "00D!t", "instance_url": "https://acme.example.test"},
        )
        mock.patch(
            "https://acme.example.test/services/data/v62.0/composite/sobjects",
            json=[{"id": "a01X", "success": True, "errors": []}],
        )
        (result,) = connector.write_invoice_statuses([paid("a01X")])
        raw_body = mock.calls[1].request.body
    body = json.loads(raw_body or b"", parse_float=Decimal)
    assert result.success and result.record_id == "a01X"
    assert body == {
        "allOrNone": False,
        "records": [
            {
                "attributes": {"type": "Invoice__c"},
                "Id": "a01X",
                "Balance__c": Decimal("0.00"),
                "Status__c": "Paid",
                "Paid_Date__c": "2024-06-01",
            }
        ],
    }
    assert '"Balance__c": 0.00' in str(raw_body)


def test_a_field_the_org_lacks_fails_the_whole_call_as_invalid_field(
    sandbox: SalesforceSandbox,
) -> None:
    connector = connect(sandbox)
    spec = sandbox.schema.invoice
    record_id = sandbox.remote_ids("invoices")[0]
    with pytest.raises(AuthError) as caught:
        connector.writer.update(spec.sobject, [{"Id": record_id, "No_Such_Field__c": 1}])
    assert caught.value.code == "INVALID_FIELD" and "No such column" in str(caught.value)
