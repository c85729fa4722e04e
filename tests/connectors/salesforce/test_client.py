"""The Salesforce client over mocked HTTP: OAuth flows, paging, limits and the error table."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import parse_qs

import pytest
import responses
from responses import matchers

from connectors.base import MemoryTokenStore
from connectors.errors import AuthError, ConflictError, ErrorKind, TransientError
from connectors.http import RetryPolicy
from connectors.salesforce import SalesforceConfig, SalesforceConnector
from connectors.salesforce.client import SalesforceClient, parse_limit_info

TOKEN_URL = "https://login.example.test/services/oauth2/token"
INSTANCE = "https://acme.my.example.test"
DATA = f"{INSTANCE}/services/data/v62.0"
TOKEN_BODY = {
    "access_token": "00Dxx!token-1",
    "instance_url": INSTANCE,
    "id": f"{INSTANCE}/id/00Dxx/005xx",
    "token_type": "Bearer",
    "issued_at": "1714550400000",
    "signature": "sig",
}
EXPIRED = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


def config(**changes: object) -> SalesforceConfig:
    values: dict[str, object] = {
        "token_url": TOKEN_URL,
        "client_id": "client-id",
        "client_secret": "client-secret-value",
        "page_size": 2,
    }
    values.update(changes)
    return SalesforceConfig.model_validate(values)


def client(
    cfg: SalesforceConfig | None = None, tokens: MemoryTokenStore | None = None
) -> SalesforceClient:
    return SalesforceClient(
        cfg or config(), tokens or MemoryTokenStore(), RetryPolicy(sleep=lambda _: None)
    )


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def token_ok(mock: responses.RequestsMock, token: str = "00Dxx!token-1") -> None:
    mock.post(TOKEN_URL, json={**TOKEN_BODY, "access_token": token})


def test_client_credentials_flow_posts_the_documented_form(mock: responses.RequestsMock) -> None:
    mock.post(
        TOKEN_URL,
        json=TOKEN_BODY,
        match=[
            matchers.urlencoded_params_matcher(
                {
                    "grant_type": "client_credentials",
                    "client_id": "client-id",
                    "client_secret": "client-secret-value",
                }
            )
        ],
    )
    tokens = MemoryTokenStore()
    c = client(tokens=tokens)
    c.auth.refresh()
    assert c.auth.instance_url == INSTANCE
    assert tokens.get("salesforce.access_token") == "00Dxx!token-1"


def test_password_flow_appends_the_security_token(mock: responses.RequestsMock) -> None:
    mock.post(
        TOKEN_URL,
        json=TOKEN_BODY,
        match=[
            matchers.urlencoded_params_matcher(
                {
                    "grant_type": "password",
                    "client_id": "client-id",
                    "client_secret": "client-secret-value",
                    "username": "ops@acme.test",
                    "password": "hunter2TOKEN",
                }
            )
        ],
    )
    cfg = config(
        auth_flow="password", username="ops@acme.test", password="hunter2", security_token="TOKEN"
    )
    client(cfg).auth.refresh()


def test_jwt_bearer_flow_signs_an_assertion(mock: responses.RequestsMock) -> None:
    import jwt
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    mock.post(TOKEN_URL, json=TOKEN_BODY)
    cfg = config(auth_flow="jwt_bearer", username="ops@acme.test", private_key=pem)
    client(cfg).auth.refresh()
    form = parse_qs(str(mock.calls[0].request.body))
    assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    claims = jwt.decode(
        form["assertion"][0], key.public_key(), algorithms=["RS256"], audience=cfg.jwt_audience
    )
    assert claims["iss"] == "client-id" and claims["sub"] == "ops@acme.test"


def test_config_names_missing_credentials_for_the_flow() -> None:
    with pytest.raises(ValueError, match="needs username, password"):
        SalesforceConfig.model_validate(
            {
                "token_url": TOKEN_URL,
                "client_id": "x",
                "client_secret": "y",
                "auth_flow": "password",
            }
        )


def test_rejected_login_is_an_auth_error_without_the_secret(mock: responses.RequestsMock) -> None:
    mock.post(
        TOKEN_URL,
        status=400,
        json={"error": "invalid_client", "error_description": "invalid client credentials"},
    )
    connector = SalesforceConnector(
        config(), MemoryTokenStore(), policy=RetryPolicy(sleep=lambda _: None)
    )
    with pytest.raises(AuthError) as info:
        connector.check()
    message = str(info.value)
    assert "salesforce" in message and "invalid client credentials" in message
    assert "client-secret-value" not in message
    assert "\n" not in message


def test_query_pages_follow_next_records_url_with_the_batch_size(
    mock: responses.RequestsMock,
) -> None:
    token_ok(mock)
    header = matchers.header_matcher({"Sforce-Query-Options": "batchSize=2"})
    mock.get(
        f"{DATA}/query/",
        match=[matchers.query_param_matcher({"q": "SELECT Id FROM Account"}), header],
        body=json.dumps(
            {
                "totalSize": 3,
                "done": False,
                "nextRecordsUrl": "/services/data/v62.0/query/01gXX0000001-2",
                "records": [
                    {"attributes": {"type": "Account"}, "Id": "001A", "Amount": 1.10},
                    {"attributes": {"type": "Account"}, "Id": "001B", "Amount": 2},
                ],
            }
        ),
        headers={"Sforce-Limit-Info": "api-usage=18/5000"},
    )
    mock.get(
        f"{DATA}/query/01gXX0000001-2",
        match=[header],
        json={"totalSize": 3, "done": True, "records": [{"Id": "001C", "Amount": 3}]},
        headers={"Sforce-Limit-Info": "api-usage=19/5000"},
    )
    c = client()
    pages = list(c.query_pages("SELECT Id FROM Account"))
    assert [[r["Id"] for r in p] for p in pages] == [["001A", "001B"], ["001C"]]
    assert pages[0][0]["Amount"] == Decimal("1.10")
    assert c.api_usage == (19, 5000)
    assert mock.calls[1].request.headers["Authorization"] == "Bearer 00Dxx!token-1"


def test_paged_child_subquery_is_completed(mock: responses.RequestsMock) -> None:
    token_ok(mock)
    mock.get(
        f"{DATA}/query/",
        json={
            "totalSize": 1,
            "done": True,
            "records": [
                {
                    "Id": "a03P",
                    "Payment_Applications__r": {
                        "totalSize": 2,
                        "done": False,
                        "nextRecordsUrl": "/services/data/v62.0/query/01gCH-1",
                        "records": [{"Id": "a04A"}],
                    },
                }
            ],
        },
    )
    mock.get(f"{DATA}/query/01gCH-1", json={"done": True, "records": [{"Id": "a04B"}]})
    (page,) = list(client().query_pages("SELECT Id FROM Payment__c"))
    children = page[0]["Payment_Applications__r"]
    assert [r["Id"] for r in children["records"]] == ["a04A", "a04B"] and children["done"]


def test_expired_session_is_refreshed_once_and_resent(mock: responses.RequestsMock) -> None:
    tokens = MemoryTokenStore(
        {"salesforce.access_token": "00Dxx!stale", "salesforce.instance_url": INSTANCE}
    )
    mock.get(f"{DATA}/limits/", status=401, json=EXPIRED)
    token_ok(mock, "00Dxx!fresh")
    mock.get(f"{DATA}/limits/", json={"DailyApiRequests": {"Max": 5000, "Remaining": 4000}})
    c = client(tokens=tokens)
    assert c.limits()["DailyApiRequests"]["Max"] == 5000
    assert mock.calls[0].request.headers["Authorization"] == "Bearer 00Dxx!stale"
    assert mock.calls[2].request.headers["Authorization"] == "Bearer 00Dxx!fresh"
    assert c.session.stats.refreshes == 1
    assert tokens.get("salesforce.access_token") == "00Dxx!fresh"


def test_a_session_rejected_twice_is_an_auth_error(mock: responses.RequestsMock) -> None:
    token_ok(mock)
    mock.get(f"{DATA}/limits/", status=401, json=EXPIRED)
    token_ok(mock)
    mock.get(f"{DATA}/limits/", status=401, json=EXPIRED)
    with pytest.raises(AuthError) as info:
        client().limits()
    assert info.value.code == "INVALID_SESSION_ID"


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (403, "REQUEST_LIMIT_EXCEEDED", ErrorKind.AUTH),
        (400, "INVALID_FIELD", ErrorKind.AUTH),
        (400, "INVALID_TYPE", ErrorKind.AUTH),
        (400, "MALFORMED_QUERY", ErrorKind.AUTH),
        (412, "PRECONDITION_FAILED", ErrorKind.CONFLICT),
        (400, "FIELD_CUSTOM_VALIDATION_EXCEPTION", ErrorKind.DATA),
        (404, "NOT_FOUND", ErrorKind.NOT_FOUND),
    ],
)
def test_error_table_classifies_without_retrying(
    mock: responses.RequestsMock, status: int, code: str, kind: ErrorKind
) -> None:
    token_ok(mock)
    body = [{"message": f"{code} happened", "errorCode": code, "fields": ["Amount__c"]}]
    mock.get(f"{DATA}/limits/", status=status, json=body)
    with pytest.raises(Exception) as info:
        client().limits()
    error = info.value
    assert getattr(error, "kind", None) is kind
    assert getattr(error, "code", None) == code
    assert "Amount__c" in str(error)
    assert len(mock.calls) == 2  # no retry


@pytest.mark.parametrize(
    ("status", "code"),
    [(503, "SERVER_UNAVAILABLE"), (400, "UNABLE_TO_LOCK_ROW"), (500, "UNKNOWN_EXCEPTION")],
)
def test_transient_errors_are_retried(mock: responses.RequestsMock, status: int, code: str) -> None:
    token_ok(mock)
    mock.get(f"{DATA}/limits/", status=status, json=[{"message": "busy", "errorCode": code}])
    mock.get(f"{DATA}/limits/", json={"DailyApiRequests": {"Max": 1, "Remaining": 1}})
    c = client()
    assert c.limits()["DailyApiRequests"]["Max"] == 1
    assert c.session.stats.retries == 1


def test_retries_are_bounded(mock: responses.RequestsMock) -> None:
    token_ok(mock)
    for _ in range(6):
        mock.get(
            f"{DATA}/limits/",
            status=503,
            json=[{"message": "down", "errorCode": "SERVER_UNAVAILABLE"}],
        )
    with pytest.raises(TransientError):
        client().limits()


def test_stale_version_write_is_a_conflict(mock: responses.RequestsMock) -> None:
    token_ok(mock)
    mock.patch(
        f"{DATA}/sobjects/Invoice__c/a01X",
        status=412,
        json=[{"message": "modified since", "errorCode": "PRECONDITION_FAILED"}],
    )
    c = client()
    with pytest.raises(ConflictError):
        c.session.patch(f"{DATA}/sobjects/Invoice__c/a01X", json={"Balance__c": 0})


def test_deleted_sends_iso_window(mock: responses.RequestsMock) -> None:
    token_ok(mock)
    mock.get(
        f"{DATA}/sobjects/Invoice__c/deleted/",
        match=[
            matchers.query_param_matcher(
                {"start": "2024-05-01T10:00:00+00:00", "end": "2024-05-02T00:00:00+00:00"}
            )
        ],
        json={"deletedRecords": [{"id": "a01X", "deletedDate": "2024-05-01T12:00:00.000+0000"}]},
    )
    body = client().deleted(
        "Invoice__c", datetime(2024, 5, 1, 10, tzinfo=UTC), datetime(2024, 5, 2, tzinfo=UTC)
    )
    assert body["deletedRecords"][0]["id"] == "a01X"


def test_limit_info_header_parsing() -> None:
    assert parse_limit_info("api-usage=18/5000") == (18, 5000)
    assert parse_limit_info("api-usage=25/5000; per-app-api-usage=17/250(appName=x)") == (25, 5000)
    assert parse_limit_info(None) is None
