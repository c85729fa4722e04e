"""What arsync sends to Salesforce and how it reads the answers, on the wire.

Shapes from the REST API guide: sObject Collections ``PATCH /composite/sobjects`` (update by
Id) and ``PATCH /composite/sobjects/{SObject}/{ExternalIdField}`` (upsert), body
``{"allOrNone", "records": [{"attributes": {"type"}, ...}]}``, one SaveResult per record
``{"id", "success", "errors": [{"statusCode", "message", "fields"}], "created"}``; a call
refused as a whole answers ``[{"message", "errorCode", "fields"}]``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import responses

from connectors.base import MemoryTokenStore
from connectors.errors import AuthError, ErrorKind
from connectors.http import RetryPolicy
from connectors.salesforce import SalesforceConfig, SalesforceConnector
from connectors.salesforce.writes import AccountSummary, InvoiceStatus

TOKEN_URL = "https://login.example.test/services/oauth2/token"
INSTANCE = "https://acme.example.test"
COLLECTIONS = f"{INSTANCE}/services/data/v62.0/composite/sobjects"


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.post(TOKEN_URL, json={"access_token": "00D!t", "instance_url": INSTANCE})
        yield rsps


def connector() -> SalesforceConnector:
    config = SalesforceConfig.model_validate(
        {"token_url": TOKEN_URL, "client_id": "id", "client_secret": "secret"}
    )
    return SalesforceConnector(
        config, MemoryTokenStore(), policy=RetryPolicy(max_attempts=2, sleep=lambda _: None)
    )


def sent(mock: responses.RequestsMock, index: int = -1) -> Any:
    return json.loads(mock.calls[index].request.body or b"", parse_float=Decimal)


def summary(record_id: str = "001A") -> AccountSummary:
    return AccountSummary(
        record_id,
        open_balance=Decimal("1250.50"),
        overdue_balance=Decimal("200.00"),
        oldest_overdue_days=41,
        aging_bucket="31-60",
        credit_hold=True,
    )


def test_account_summary_body_is_exactly_the_configured_fields(
    mock: responses.RequestsMock,
) -> None:
    mock.patch(COLLECTIONS, json=[{"id": "001A", "success": True, "errors": []}])
    (result,) = connector().write_account_summaries([summary()])
    assert result.success and result.record_id == "001A"
    assert mock.calls[-1].request.method == "PATCH"
    assert sent(mock) == {
        "allOrNone": False,
        "records": [
            {
                "attributes": {"type": "Account"},
                "Id": "001A",
                "AR_Open_Balance__c": Decimal("1250.50"),
                "AR_Overdue_Balance__c": Decimal("200.00"),
                "AR_Oldest_Overdue_Days__c": 41,
                "AR_Aging_Bucket__c": "31-60",
                "Credit_Hold__c": True,
            }
        ],
    }
    raw = str(mock.calls[-1].request.body)
    assert '"AR_Open_Balance__c": 1250.50' in raw  # an exact JSON number, never a float


def test_an_open_invoice_clears_its_paid_date(mock: responses.RequestsMock) -> None:
    mock.patch(COLLECTIONS, json=[{"id": "a01X", "success": True, "errors": []}])
    connector().write_invoice_statuses([InvoiceStatus("a01X", "open", Decimal("75.10"))])
    assert sent(mock)["records"] == [
        {
            "attributes": {"type": "Invoice__c"},
            "Id": "a01X",
            "Balance__c": Decimal("75.10"),
            "Status__c": "Open",
            "Paid_Date__c": None,
        }
    ]


def test_upsert_by_external_id_path_body_and_created_flag(mock: responses.RequestsMock) -> None:
    mock.patch(
        f"{COLLECTIONS}/Invoice__c/QuickBooks_Id__c",
        json=[
            {"id": "a01N", "success": True, "errors": [], "created": True},
            {"id": "a01O", "success": True, "errors": [], "created": False},
        ],
    )
    records = [
        {"QuickBooks_Id__c": "qb-1", "Balance__c": Decimal("10.00")},
        {"QuickBooks_Id__c": "qb-2", "Balance__c": Decimal("0.00")},
    ]
    results = connector().writer.upsert("Invoice__c", "QuickBooks_Id__c", records)
    assert sent(mock) == {
        "allOrNone": False,
        "records": [
            {"attributes": {"type": "Invoice__c"}, **records[0]},
            {"attributes": {"type": "Invoice__c"}, **records[1]},
        ],
    }
    assert [(r.key, r.record_id, r.created) for r in results] == [
        ("qb-1", "a01N", True),
        ("qb-2", "a01O", False),
    ]


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("DUPLICATE_VALUE", ErrorKind.DATA),
        ("ENTITY_IS_DELETED", ErrorKind.NOT_FOUND),
        ("UNABLE_TO_LOCK_ROW", ErrorKind.RETRY),
        ("INVALID_FIELD_FOR_INSERT_UPDATE", ErrorKind.AUTH),
        ("FIELD_CUSTOM_VALIDATION_EXCEPTION", ErrorKind.DATA),
    ],
)
def test_per_record_errors_are_read_and_classified(
    mock: responses.RequestsMock, code: str, kind: ErrorKind
) -> None:
    error = {"statusCode": code, "message": "refused", "fields": ["Balance__c"]}
    mock.patch(
        COLLECTIONS,
        json=[
            {"id": "a01X", "success": True, "errors": []},
            {"success": False, "errors": [error]},
        ],
    )
    ok, bad = connector().write_invoice_statuses(
        [InvoiceStatus("a01X", "open", Decimal("1")), InvoiceStatus("a01Y", "open", Decimal("2"))]
    )
    assert ok.success and ok.kind is None
    assert not bad.success and bad.key == "a01Y" and bad.record_id is None
    assert (bad.code, bad.message, bad.fields, bad.kind) == (code, "refused", ("Balance__c",), kind)


def test_a_call_refused_as_a_whole_fails_each_record_with_its_class(
    mock: responses.RequestsMock,
) -> None:
    body = [{"message": "Unexpected character", "errorCode": "JSON_PARSER_ERROR"}]
    mock.patch(COLLECTIONS, json=body, status=400)
    results = connector().write_invoice_statuses(
        [InvoiceStatus("a01X", "open", Decimal("1")), InvoiceStatus("a01Y", "open", Decimal("2"))]
    )
    assert [(r.key, r.success, r.code, r.kind) for r in results] == [
        ("a01X", False, "JSON_PARSER_ERROR", ErrorKind.DATA),
        ("a01Y", False, "JSON_PARSER_ERROR", ErrorKind.DATA),
    ]


def test_a_server_unavailable_that_outlasts_the_retries_is_a_retry_per_record(
    mock: responses.RequestsMock,
) -> None:
    body = [{"message": "down", "errorCode": "SERVER_UNAVAILABLE"}]
    mock.patch(COLLECTIONS, json=body, status=503)
    mock.patch(COLLECTIONS, json=body, status=503)
    (result,) = connector().write_invoice_statuses([InvoiceStatus("a01X", "open", Decimal("1"))])
    assert not result.success and result.kind is ErrorKind.RETRY


@pytest.mark.parametrize(
    ("status", "code"),
    [(400, "INVALID_FIELD"), (403, "REQUEST_LIMIT_EXCEEDED"), (404, "INVALID_TYPE")],
)
def test_configuration_and_allowance_failures_stop_the_connector(
    mock: responses.RequestsMock, status: int, code: str
) -> None:
    body = [{"message": "No such column 'Balance__c'", "errorCode": code, "fields": []}]
    mock.patch(COLLECTIONS, json=body, status=status)
    with pytest.raises(AuthError) as caught:
        connector().write_invoice_statuses([InvoiceStatus("a01X", "open", Decimal("1"))])
    assert caught.value.code == code


def test_an_expired_session_is_refreshed_once_and_the_write_resent(
    mock: responses.RequestsMock,
) -> None:
    expired = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
    mock.patch(COLLECTIONS, json=expired, status=401)
    mock.post(TOKEN_URL, json={"access_token": "00D!new", "instance_url": INSTANCE})
    mock.patch(COLLECTIONS, json=[{"id": "a01X", "success": True, "errors": []}])
    (result,) = connector().write_invoice_statuses([InvoiceStatus("a01X", "open", Decimal("1"))])
    assert result.success
    assert mock.calls[-1].request.headers["Authorization"] == "Bearer 00D!new"
    assert sent(mock, 1) == sent(mock, -1)  # the same body, sent again
