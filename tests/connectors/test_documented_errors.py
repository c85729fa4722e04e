"""Each vendor's documented error responses, through that connector's error table and the HTTP
layer: what is retried (and after how long), refreshed once, stopped, or failed alone.

Bodies follow the shapes the vendors document; the values in them are ours. Sources:

* QuickBooks Online: Intuit "Error codes" and "Fix common QuickBooks Online Accounting API
  errors" (developer.intuit.com/app/developer/qbo/docs/develop/troubleshooting/error-codes,
  .../handling-common-errors): ``{"Fault": {"Error": [{"Message", "Detail", "code",
  "element"}], "type"}, "time"}``, HTTP 200 may carry a Fault; 120 (HTTP 401), 610 (twice:
  inactive reference / "Another user has deleted this transaction."), 5010, 6000, 6140,
  6190, 6240; the .NET SDK's fault types (ValidationFault, SystemFault, AuthenticationFault,
  AuthorizationFault); Intuit's throttling post (HTTP 429, "message=ThrottleExceeded;
  errorCode=003001; statusCode=429").
* Salesforce: REST API Developer Guide, "Status Codes and Error Responses" (errorcodes.htm):
  ``[{"message", "errorCode", "fields"}]``; 401 INVALID_SESSION_ID; 403 "If the error code
  is REQUEST_LIMIT_EXCEEDED, you've exceeded API request limits"; 404 for missing or deleted
  resources; 412; 500; 503. The 403 REQUEST_LIMIT_EXCEEDED texts "TotalRequests Limit
  exceeded." and "ConcurrentPerOrgLongTxn Limit exceeded" (Salesforce Help 000389067).
  sObject Collections SaveResult ``{"id", "success", "errors": [{"statusCode", "message",
  "fields"}]}``.
* Invoiced: API reference, "Errors" (github.com/Invoiced/api, source/index.html.md.erb):
  400/401/403/404/429/500 and ``{"type": "invalid_request" | "api", "message", "param"}``.
* Sage Intacct: "Error handling" (developer.intacct.com/web-services/error-handling/): XML
  validation errors (XL03000003) and gateway errors (GW-nnnn, "429 errors (GW-0010)") as
  control failures; FAQ "invalid Web Services authorization" (XL03000006 in the
  authentication block, verbatim shape).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
import requests
import responses

from connectors.errors import ApiError, ErrorKind
from connectors.http import ApiSession, ErrorTable, RetryPolicy
from connectors.intacct import errors as intacct
from connectors.invoiced.errors import ERROR_TABLE as INVOICED_TABLE
from connectors.invoiced.errors import KEY_REFUSED_FIX
from connectors.quickbooks.errors import ERROR_TABLE as QBO_TABLE
from connectors.quickbooks.errors import FIXES as QBO_FIXES
from connectors.quickbooks.writes import PaymentCreate, PaymentLine, item_error
from connectors.salesforce.errors import SALESFORCE_ERRORS
from connectors.salesforce.writes import _result as salesforce_save_result

URL = "https://vendor.example.test/api"
XML = {"Content-Type": "text/xml"}


class Sleeps:
    def __init__(self) -> None:
        self.slept: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)


class Refreshing(requests.auth.AuthBase):
    """A bearer token that can be refreshed (counts the refreshes)."""

    def __init__(self) -> None:
        self.refreshes = 0

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer token-{self.refreshes}"
        return request

    def refresh(self) -> None:
        self.refreshes += 1


def api(system: str, table: ErrorTable, sleeps: Sleeps, auth: Refreshing | None) -> ApiSession:
    policy = RetryPolicy(max_attempts=3, sleep=sleeps, max_delay=120)
    return ApiSession(system, error_table=table, policy=policy, auth=auth)


class Case:
    """One documented reply and what arsync must do about it."""

    def __init__(
        self,
        name: str,
        status: int,
        body: Any,
        kind: ErrorKind | None,
        code: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        says: str = "",
        retried_after: float | None = None,
        refreshes: int = 0,
    ) -> None:
        self.name, self.status, self.body = name, status, body
        self.kind, self.code, self.headers, self.says = kind, code, headers or {}, says
        self.retried_after, self.refreshes = retried_after, refreshes

    @property
    def retried(self) -> bool:
        return self.kind in (ErrorKind.RETRY, ErrorKind.RATE_LIMITED) or self.refreshes > 0

    def register(self, mock: responses.RequestsMock, success: bytes | str) -> None:
        if isinstance(self.body, (dict, list)):
            body = json.dumps(self.body)
            headers = {"Content-Type": "application/json", **self.headers}
        else:
            body, headers = self.body, {**XML, **self.headers}
        mock.post(URL, status=self.status, body=body, headers=headers)
        if self.retried:
            mock.post(URL, status=200, body=success, headers=headers)


def check(system: str, table: ErrorTable, case: Case, success: bytes | str, data: str) -> None:
    """Send once through the layer; the outcome must be exactly what the case says."""
    sleeps, auth = Sleeps(), Refreshing()
    session = api(system, table, sleeps, auth)
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        case.register(mock, success)
        if case.retried:
            assert session.post(URL, data=data).status_code == 200
            assert session.stats.total == 2
            assert auth.refreshes == case.refreshes
            if case.retried_after is not None:
                assert sleeps.slept == [case.retried_after]
            return
        with pytest.raises(ApiError) as caught:
            session.post(URL, data=data)
    error = caught.value
    assert session.stats.total == 1 and auth.refreshes == 0 and not sleeps.slept
    assert (error.kind, error.code, error.status) == (case.kind, case.code, case.status)
    assert str(error).startswith(f"{system}: ")
    assert case.says in error.message
    assert "token-0" not in str(error)


# QuickBooks Online -------------------------------------------------------------------------


def qbo_fault(code: str, message: str, detail: str, kind: str = "ValidationFault") -> Any:
    error = {"Message": message, "Detail": detail, "code": code, "element": ""}
    return {"Fault": {"Error": [error], "type": kind}, "time": "2024-05-01T09:17:31.892-07:00"}


QBO_CASES = [
    Case(
        "throttled 429",
        429,
        qbo_fault(
            "003001",
            "message=ThrottleExceeded; errorCode=003001; statusCode=429",
            "The request limit was reached.",
            "SERVICE",
        ),
        ErrorKind.RATE_LIMITED,
        headers={"Retry-After": "60"},
        retried_after=60.0,
    ),
    Case(
        "throttle fault inside HTTP 200",
        200,
        qbo_fault("3001", "message=ThrottleExceeded", "The request limit was reached.", "SERVICE"),
        ErrorKind.RATE_LIMITED,
        headers={"Retry-After": "60"},
        retried_after=60.0,
    ),
    Case(
        "expired access token",
        401,
        qbo_fault(
            "3200",
            "message=AuthenticationFailed; errorCode=003200; statusCode=401",
            "Token expired",
            "AUTHENTICATION",
        ),
        ErrorKind.REFRESH,
        refreshes=1,
    ),
    Case(
        "user lost access (120, HTTP 401): no refresh cures it",
        401,
        qbo_fault(
            "120", "Authorization Failure", "-11014-You do not have access.", "AUTHENTICATION"
        ),
        ErrorKind.AUTH,
        "120",
        says=QBO_FIXES["120"],
    ),
    Case(
        "app not authorized for the realm",
        403,
        qbo_fault(
            "3100",
            "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403",
            "",
            "AuthorizationFault",
        ),
        ErrorKind.AUTH,
        "3100",
        says=QBO_FIXES["3100"],
    ),
    Case(
        "stale SyncToken",
        400,
        qbo_fault(
            "5010",
            "Stale Object Error",
            "Stale Object Error : You and Pat were working on this at the same time.",
        ),
        ErrorKind.CONFLICT,
        "5010",
        says="Stale Object Error",
    ),
    Case(
        "deleted transaction",
        400,
        qbo_fault("610", "Object Not Found", "Object Not Found : Another user has deleted this."),
        ErrorKind.NOT_FOUND,
        "610",
        says="Another user has deleted",
    ),
    Case(
        "subscription ended: every write would fail, stop",
        400,
        qbo_fault(
            "6190",
            "Invalid Company Status",
            "Subscription period has ended or canceled or there was a billing problem",
        ),
        ErrorKind.AUTH,
        "6190",
        says="renew the subscription",
    ),
    Case(
        "business validation",
        400,
        qbo_fault("6000", "A business validation error has occurred", "You must set an amount."),
        ErrorKind.DATA,
        "6000",  # QuickBooks' own code, the fault type being ValidationFault
        says="You must set an amount.",
    ),
    Case(
        "duplicate document number",
        400,
        qbo_fault("6140", "Duplicate Document Number Error", "DocNumber=1042 is assigned."),
        ErrorKind.DATA,
        "6140",  # QuickBooks' own code, the fault type being ValidationFault
        says="Duplicate Document Number Error",
    ),
    Case(
        "business validation inside HTTP 200",
        200,
        qbo_fault("6000", "A business validation error has occurred", "Amount is required."),
        ErrorKind.DATA,
        "6000",  # QuickBooks' own code, the fault type being ValidationFault
        says="Amount is required.",
    ),
    Case(
        "internal error",
        500,
        qbo_fault("10000", "An application error has occurred", "Internal error", "SystemFault"),
        ErrorKind.RETRY,
    ),
    Case("service unavailable", 503, "<html>Service Unavailable</html>", ErrorKind.RETRY),
]


@pytest.mark.parametrize("case", QBO_CASES, ids=lambda c: c.name)
def test_quickbooks_documented_errors(case: Case) -> None:
    check("quickbooks", QBO_TABLE, case, json.dumps({"Invoice": {"Id": "1"}}), "{}")


WRITE = PaymentCreate(
    "k-1", "58", Decimal("10.00"), (PaymentLine("Invoice", "130", Decimal("10.00")),)
)


@pytest.mark.parametrize(
    ("fault", "kind", "code"),
    [
        (qbo_fault("5010", "Stale Object Error", "")["Fault"], ErrorKind.CONFLICT, "5010"),
        (qbo_fault("6240", "Duplicate Name Exists Error", "")["Fault"], ErrorKind.DATA, "6240"),
        (qbo_fault("610", "Object Not Found", "")["Fault"], ErrorKind.NOT_FOUND, "610"),
        (
            qbo_fault("3001", "ThrottleExceeded", "", "SERVICE")["Fault"],
            ErrorKind.RATE_LIMITED,
            "3001",
        ),
        (qbo_fault("10000", "Internal", "", "SystemFault")["Fault"], ErrorKind.RETRY, "10000"),
        # no refresh happens per batch item: an expired token there is an auth failure
        (
            qbo_fault("3200", "AuthenticationFailed", "", "AUTHENTICATION")["Fault"],
            ErrorKind.AUTH,
            "3200",
        ),
        (qbo_fault("6190", "Invalid Company Status", "")["Fault"], ErrorKind.AUTH, "6190"),
    ],
    ids=["5010", "6240", "610", "3001", "10000", "3200", "6190"],
)
def test_quickbooks_batch_item_faults(fault: dict[str, Any], kind: ErrorKind, code: str) -> None:
    """A ``BatchItemResponse`` item's Fault fails that item alone, with the vendor's code."""
    error = item_error(WRITE, fault)
    assert (error.kind, error.code) == (kind, code)
    assert str(error).startswith("quickbooks: create Payment k-1: ")


# Salesforce --------------------------------------------------------------------------------


def sf(code: str, message: str, fields: list[str] | None = None) -> list[dict[str, Any]]:
    return [{"message": message, "errorCode": code, "fields": fields or []}]


SF_CASES = [
    Case("expired session", 401, sf("INVALID_SESSION_ID", "Session expired or invalid"),
         ErrorKind.REFRESH, refreshes=1),
    Case("daily allowance spent", 403,
         sf("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
         ErrorKind.AUTH, "REQUEST_LIMIT_EXCEEDED", says="TotalRequests"),
    Case("too many long-running requests", 403,
         sf("REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded"),
         ErrorKind.RATE_LIMITED),
    Case("API disabled", 403,
         sf("API_DISABLED_FOR_ORG", "API is not enabled for this Organization"),
         ErrorKind.AUTH, "API_DISABLED_FOR_ORG"),
    Case("configured field missing", 400,
         sf("INVALID_FIELD", "No such column 'Balance__c' on entity 'Invoice__c'."),
         ErrorKind.AUTH, "INVALID_FIELD", says="Balance__c"),
    Case("malformed query", 400, sf("MALFORMED_QUERY", "unexpected token: FROM"),
         ErrorKind.AUTH, "MALFORMED_QUERY"),
    Case("record locked", 400, sf("UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access"),
         ErrorKind.RETRY),
    Case("query timed out", 400,
         sf("QUERY_TIMEOUT", "Your query request was running for too long."),
         ErrorKind.RETRY),
    Case("org storage full", 400, sf("STORAGE_LIMIT_EXCEEDED", "storage limit exceeded"),
         ErrorKind.AUTH, "STORAGE_LIMIT_EXCEEDED"),
    Case("validation rule", 400,
         sf("FIELD_CUSTOM_VALIDATION_EXCEPTION", "Balance cannot be negative", ["Balance__c"]),
         ErrorKind.DATA, "FIELD_CUSTOM_VALIDATION_EXCEPTION", says="Balance cannot be negative"),
    Case("duplicate value", 400, sf("DUPLICATE_VALUE", "duplicate value found: Key__c"),
         ErrorKind.DATA, "DUPLICATE_VALUE", says="duplicate value found"),
    Case("not found", 404, sf("NOT_FOUND", "The requested resource does not exist"),
         ErrorKind.NOT_FOUND, "NOT_FOUND"),
    Case("deleted", 404, sf("ENTITY_IS_DELETED", "entity is deleted"),
         ErrorKind.NOT_FOUND, "ENTITY_IS_DELETED"),
    Case("changed since", 412, sf("PRECONDITION_FAILED", "The record was modified"),
         ErrorKind.CONFLICT, "PRECONDITION_FAILED"),
    Case("server error", 500, sf("UNKNOWN_EXCEPTION", "An unexpected error occurred"),
         ErrorKind.RETRY),
    Case("server unavailable", 503, sf("SERVER_UNAVAILABLE", "Server unavailable"),
         ErrorKind.RETRY),
]  # fmt: skip


@pytest.mark.parametrize("case", SF_CASES, ids=lambda c: c.name)
def test_salesforce_documented_errors(case: Case) -> None:
    check("salesforce", SALESFORCE_ERRORS, case, json.dumps({"id": "001"}), "{}")


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("DUPLICATE_VALUE", ErrorKind.DATA),
        ("FIELD_CUSTOM_VALIDATION_EXCEPTION", ErrorKind.DATA),
        ("ENTITY_IS_DELETED", ErrorKind.NOT_FOUND),
        ("INVALID_CROSS_REFERENCE_KEY", ErrorKind.NOT_FOUND),
        ("UNABLE_TO_LOCK_ROW", ErrorKind.RETRY),
        ("STORAGE_LIMIT_EXCEEDED", ErrorKind.AUTH),
    ],
)
def test_salesforce_collection_record_errors(code: str, kind: ErrorKind) -> None:
    """sObject Collections: one record's SaveResult fails that record alone, code and text."""
    saved = {
        "id": None,
        "success": False,
        "errors": [{"statusCode": code, "message": f"our text for {code}", "fields": ["X__c"]}],
    }
    result = salesforce_save_result("a0B1", saved)
    assert (result.success, result.kind, result.code) == (False, kind, code)
    assert result.message == f"our text for {code}" and result.fields == ("X__c",)


# Invoiced ----------------------------------------------------------------------------------


def inv(kind: str, message: str, param: str | None = None) -> dict[str, Any]:
    body = {"type": kind, "message": message}
    return body | ({"param": param} if param else {})


INVOICED_CASES = [
    Case("bad parameter", 400, inv("invalid_request", "Amount must be positive", "amount"),
         ErrorKind.DATA, "invalid_request", says="Amount must be positive (param amount)"),
    Case("wrong API key", 401, inv("invalid_request", "Unauthorized"),
         ErrorKind.AUTH, "invalid_request", says=KEY_REFUSED_FIX),
    Case("no permission", 403, inv("invalid_request", "You do not have permission"),
         ErrorKind.AUTH, "invalid_request"),
    Case("no such invoice", 404, inv("invalid_request", "Invoice was not found: 77"),
         ErrorKind.NOT_FOUND, "invalid_request", says="77"),
    Case("too many requests", 429, inv("rate_limit_error", "You're moving too fast!"),
         ErrorKind.RATE_LIMITED, headers={"Retry-After": "3"}, retried_after=3.0),
    Case("problem on their end", 500, inv("api", "There was a problem on our end"),
         ErrorKind.RETRY),
    Case("gateway", 502, "<html>Bad Gateway</html>", ErrorKind.RETRY),
]  # fmt: skip


@pytest.mark.parametrize("case", INVOICED_CASES, ids=lambda c: c.name)
def test_invoiced_documented_errors(case: Case) -> None:
    check("invoiced", INVOICED_TABLE, case, json.dumps({"id": 1}), "{}")


# Sage Intacct ------------------------------------------------------------------------------

SESSION_REQUEST = "<request><operation><authentication><sessionid>S</sessionid>"
LOGIN_REQUEST = "<request><operation><authentication><login><userid>u</userid>"
OK = (
    "<response><control><status>success</status></control><operation><authentication>"
    "<status>success</status></authentication><result><status>success</status>"
    "<function>readByQuery</function><data count='0'/></result></operation></response>"
)


def control_failure(errorno: str, description: str, description2: str = "") -> str:
    return (
        "<response><control><status>failure</status><senderid>ours</senderid>"
        "<controlid>c-1</controlid><uniqueid>false</uniqueid><dtdversion>3.0</dtdversion>"
        f"</control><errormessage><error><errorno>{errorno}</errorno>"
        f"<description>{description}</description><description2>{description2}</description2>"
        "<correction></correction></error></errormessage></response>"
    )


def auth_failure(errorno: str, description: str, description2: str, correction: str) -> str:
    return (
        "<response><control><status>success</status><senderid>ours</senderid></control>"
        "<operation><authentication><status>failure</status><userid>u</userid>"
        "<companyid>c</companyid></authentication><errormessage><error>"
        f"<errorno>{errorno}</errorno><description>{description}</description>"
        f"<description2>{description2}</description2><correction>{correction}</correction>"
        "</error></errormessage></operation></response>"
    )


def function_failure(errorno: str, description2: str) -> str:
    return (
        "<response><control><status>success</status></control><operation><authentication>"
        "<status>success</status></authentication><result><status>failure</status>"
        "<function>create</function><controlid>k-1</controlid><errormessage><error>"
        f"<errorno>{errorno}</errorno><description></description>"
        f"<description2>{description2}</description2><correction></correction></error>"
        "</errormessage></result></operation></response>"
    )


INTACCT_CASES = [
    # "429 errors (GW-0010)": a gateway error is a control failure; retried, not a stop
    Case("gateway rate limit in HTTP 200", 200, control_failure("GW-0010", "Rate limit"),
         ErrorKind.RATE_LIMITED),
    Case("gateway rate limit as HTTP 429", 429, control_failure("GW-0010", "Rate limit"),
         ErrorKind.RATE_LIMITED),
    # the request itself is malformed: nothing ran, every request built alike would fail
    Case("XML validation error", 200,
         control_failure("XL03000003", "", "XML Parse schema error: tag mismatch"),
         ErrorKind.AUTH, intacct.CONTROL_FAILED, says="XML Parse schema error"),
    Case("sender credentials wrong", 200,
         control_failure("XL03000006", "", "Incorrect Intacct XML Partner ID or password."),
         ErrorKind.AUTH, intacct.SENDER_REFUSED, says=intacct.SENDER_REFUSED_FIX),
    Case("sender not authorized (FAQ)", 200,
         auth_failure("XL03000006", "Invalid Web Services Authorization",
                      "The sender ID 'ours' is not authorized to make Web Services requests "
                      "to company ID 'c'.",
                      "Contact the company administrator to grant Web Services authorization "
                      "to this sender ID."),
         ErrorKind.AUTH, intacct.SENDER_NOT_AUTHORIZED, says="Web Services authorizations"),
    Case("bad gateway", 502, "<html>Bad Gateway</html>", ErrorKind.RETRY),
    Case("record refused", 200,
         function_failure("BL34000061", "Another Customer with the given value(s) already exists"),
         ErrorKind.DATA, intacct.FUNCTION_FAILED, says="BL34000061: Another Customer"),
]  # fmt: skip


@pytest.mark.parametrize("case", INTACCT_CASES, ids=lambda c: c.name)
def test_intacct_documented_errors(case: Case) -> None:
    check("intacct", intacct.ERROR_TABLE, case, OK, SESSION_REQUEST)


def test_intacct_expired_session_is_refreshed_once_and_a_wrong_login_stops() -> None:
    """The same authentication failure: with a session id, open a new session once; with a
    login, the credentials are wrong and nothing more is sent."""
    refused = auth_failure("XL03000006", "", "Sign-in information is incorrect", "")
    expired = Case("session", 200, refused, ErrorKind.REFRESH, refreshes=1)
    check("intacct", intacct.ERROR_TABLE, expired, OK, SESSION_REQUEST)
    wrong = Case("login", 200, refused, ErrorKind.AUTH, intacct.LOGIN_FAILED, says="Sign-in")
    check("intacct", intacct.ERROR_TABLE, wrong, OK, LOGIN_REQUEST)
