"""The Intacct client over mocked HTTP: sessions, endpoint switch, paging, the error table."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests
import responses

from connectors.base import MemoryTokenStore
from connectors.errors import AuthError, DataError, ErrorKind
from connectors.http import RetryPolicy
from connectors.intacct import IntacctConfig, IntacctConnector
from connectors.intacct.client import ENDPOINT_KEY, SESSION_KEY
from connectors.intacct.errors import (
    CONCURRENCY_LIMIT,
    CONTROL_FAILED,
    ERROR_TABLE,
    FUNCTION_FAILED,
    LOGIN_FAILED,
    SESSION_INVALID,
    envelope_errors,
)

GATEWAY = "https://gw.example.test/ia/xml/xmlgw.phtml"
API = "https://gw.example.test/ia/xml/api/xmlgw.phtml"
SENDER_SECRET = "sender-secret-value"
USER_SECRET = "user-secret-value"
OK_CONTROL = "<control><status>success</status><senderid>arsync</senderid></control>"
OK_AUTH = "<authentication><status>success</status><userid>api</userid></authentication>"


def config(**changes: object) -> IntacctConfig:
    values: dict[str, object] = {
        "sender_id": "arsync",
        "sender_password": SENDER_SECRET,
        "company_id": "ACME",
        "user_id": "api",
        "user_password": USER_SECRET,
        "endpoint_url": GATEWAY,
        "page_size": 2,
    }
    values.update(changes)
    return IntacctConfig.model_validate(values)


def envelope(*results: str, auth: str = OK_AUTH) -> str:
    return f"<response>{OK_CONTROL}<operation>{auth}{''.join(results)}</operation></response>"


def session_reply(session_id: str) -> str:
    return envelope(
        "<result><status>success</status><function>getAPISession</function>"
        f"<data><api><sessionid>{session_id}</sessionid><endpoint>{API}</endpoint></api></data>"
        "</result>"
    )


def data_reply(rows: list[str], remaining: int, result_id: str = "") -> str:
    body = "".join(f"<ARINVOICE><RECORDNO>{r}</RECORDNO></ARINVOICE>" for r in rows)
    return envelope(
        "<result><status>success</status><function>readByQuery</function>"
        f'<data listtype="arinvoice" count="{len(rows)}" totalcount="5" '
        f'numremaining="{remaining}" resultId="{result_id}">{body}</data></result>'
    )


def adjustment_reply(rows: list[str]) -> str:
    body = "".join(f"<ARADJUSTMENT><RECORDNO>{r}</RECORDNO></ARADJUSTMENT>" for r in rows)
    return envelope(
        "<result><status>success</status><function>readByQuery</function>"
        f'<data listtype="aradjustment" count="{len(rows)}" totalcount="{len(rows)}" '
        f'numremaining="0" resultId="">{body}</data></result>'
    )


def failure(level: str, errorno: str, text: str) -> str:
    error = (
        f"<errormessage><error><errorno>{errorno}</errorno><description></description>"
        f"<description2>{text}</description2><correction></correction></error></errormessage>"
    )
    if level == "control":
        return f"<response><control><status>failure</status></control>{error}</response>"
    if level == "auth":
        return (
            f"<response>{OK_CONTROL}<operation><authentication><status>failure</status>"
            f"</authentication>{error}</operation></response>"
        )
    return envelope(
        f"<result><status>failure</status><function>readMore</function>{error}</result>"
    )


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def connector(tokens: MemoryTokenStore | None = None, **changes: object) -> IntacctConnector:
    return IntacctConnector(
        config(**changes), tokens or MemoryTokenStore(), policy=RetryPolicy(sleep=lambda _: None)
    )


def body_of(call: responses.Call) -> str:
    body = call.request.body
    return body.decode() if isinstance(body, bytes) else str(body)


def test_login_then_pages_through_the_returned_endpoint(mock: responses.RequestsMock) -> None:
    mock.post(GATEWAY, body=session_reply("S-1"))
    mock.post(API, body=data_reply(["1", "2"], 3, "R1"))
    mock.post(API, body=data_reply(["3", "4"], 1, "R1"))
    mock.post(API, body=data_reply(["5"], 0))
    mock.post(API, body=adjustment_reply([]))  # then the debit memos: none
    mock.post(API, body=adjustment_reply([]))  # and their Reversal entries: none
    tokens = MemoryTokenStore()
    made = connector(tokens)
    stream = made.streams()["invoices"]
    pages = list(stream.pages(None, datetime.now(UTC)))
    assert [[r.remote_id for r in p.records] for p in pages] == [
        ["1", "2"],
        ["3", "4"],
        ["5"],
        [],
        [],
    ]
    login, first, more, last, debit_memos, _reversals = mock.calls
    assert "<object>ARADJUSTMENT</object>" in body_of(debit_memos)
    assert "<login><userid>api</userid><companyid>ACME</companyid>" in body_of(login)
    assert "<function controlid=" in body_of(login) and "<getAPISession" in body_of(login)
    assert login.request.headers["Content-Type"] == "application/xml"
    assert "<sessionid>S-1</sessionid>" in body_of(first)
    assert "<pagesize>2</pagesize>" in body_of(first) and "<object>ARINVOICE</object>" in body_of(
        first
    )
    assert "<readMore><resultId>R1</resultId></readMore>" in body_of(more)
    assert "<sessionid>S-1</sessionid>" in body_of(last)
    assert tokens.values == {SESSION_KEY: "S-1", ENDPOINT_KEY: API}


def test_invalid_session_logs_in_again_and_resends_with_the_new_id(
    mock: responses.RequestsMock,
) -> None:
    tokens = MemoryTokenStore({SESSION_KEY: "S-old", ENDPOINT_KEY: API})
    mock.post(API, body=failure("auth", "XL03000009", "Invalid session"))
    mock.post(GATEWAY, body=session_reply("S-new"))
    mock.post(API, body=session_reply("S-1"))
    made = connector(tokens)
    made.check()
    stale, login, resent = mock.calls
    assert "<sessionid>S-old</sessionid>" in body_of(stale)
    assert "<login>" in body_of(login)
    assert "<sessionid>S-new</sessionid>" in body_of(resent)
    assert made.session.stats.refreshes == 1
    assert tokens.get(SESSION_KEY) == "S-new"


def test_wrong_sender_is_an_auth_error_without_secrets(mock: responses.RequestsMock) -> None:
    mock.post(GATEWAY, body=failure("control", "XL03000006", "Incorrect Intacct XML Partner ID"))
    with pytest.raises(AuthError) as caught:
        connector().check()
    message = str(caught.value)
    assert message.startswith("intacct:") and "ACME" in message and "Partner ID" in message
    assert SENDER_SECRET not in message and USER_SECRET not in message


def test_wrong_login_is_an_auth_error_naming_user_and_company(mock: responses.RequestsMock) -> None:
    mock.post(GATEWAY, body=failure("auth", "XL03000010", "Sign-in information is incorrect"))
    with pytest.raises(AuthError) as caught:
        connector().check()
    assert "'api'" in str(caught.value) and "Sign-in" in str(caught.value)
    assert USER_SECRET not in str(caught.value)


def test_concurrency_limit_and_server_errors_are_retried(mock: responses.RequestsMock) -> None:
    tokens = MemoryTokenStore({SESSION_KEY: "S-1", ENDPOINT_KEY: API})
    mock.post(API, body=failure("control", "XL03000011", "Too many concurrent requests"))
    mock.post(API, status=503, body="unavailable")
    mock.post(API, body=session_reply("S-1"))
    made = connector(tokens)
    made.check()
    assert made.session.stats.retries == 2


def test_function_failure_is_a_data_error(mock: responses.RequestsMock) -> None:
    tokens = MemoryTokenStore({SESSION_KEY: "S-1", ENDPOINT_KEY: API})
    mock.post(API, body=failure("result", "XL03000003", "Invalid query"))
    with pytest.raises(DataError, match="Invalid query"):
        connector(tokens).check()


def _response(
    body: str, status: int = 200, sent: str = "<sessionid>x</sessionid>"
) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body.encode()
    response.request = requests.Request("POST", API, data=sent.encode()).prepare()
    return response


@pytest.mark.parametrize(
    ("body", "sent", "code", "kind"),
    [
        (
            failure("control", "XL03000006", "bad sender"),
            "<login/>",
            CONTROL_FAILED,
            ErrorKind.AUTH,
        ),
        (failure("auth", "XL03000010", "bad login"), "<login/>", LOGIN_FAILED, ErrorKind.AUTH),
        (
            failure("auth", "XL03000009", "Invalid session"),
            "<sessionid>s</sessionid>",
            SESSION_INVALID,
            ErrorKind.REFRESH,
        ),
        (failure("result", "BL01001973", "Query failed"), "", FUNCTION_FAILED, ErrorKind.DATA),
        (
            failure("control", "XL03000011", "exceeded the concurrency limit"),
            "",
            CONCURRENCY_LIMIT,
            ErrorKind.RATE_LIMITED,
        ),
    ],
)
def test_error_table_reads_each_level_of_an_http_200(
    body: str, sent: str, code: str, kind: ErrorKind
) -> None:
    response = _response(body, sent=sent)
    assert code in [c for c, _ in envelope_errors(response)]
    failure_found = ERROR_TABLE.classify(response)
    assert failure_found is not None and failure_found.kind is kind


def test_error_table_passes_success_and_sends_5xx_to_retry() -> None:
    assert ERROR_TABLE.classify(_response(data_reply(["1"], 0))) is None
    found = ERROR_TABLE.classify(_response("<html>down</html>", status=502))
    assert found is not None and found.kind is ErrorKind.RETRY


def test_config_rejects_unknown_zone_and_hides_secrets() -> None:
    with pytest.raises(ValueError, match="time zone"):
        config(company_timezone="Mars/Olympus")
    assert SENDER_SECRET not in repr(config()) and config().lag_seconds == 3600


def audit_reply(keys: list[str]) -> str:
    body = "".join(
        f"<AUDITHISTORY><OBJECTTYPE>arinvoice</OBJECTTYPE><OBJECTKEY>{k}</OBJECTKEY>"
        "<ACCESSMODE>D</ACCESSMODE><ACCESSTIME>03/02/2026 12:30:00</ACCESSTIME></AUDITHISTORY>"
        for k in keys
    )
    return envelope(
        "<result><status>success</status><function>readByQuery</function>"
        f'<data listtype="audithistory" count="{len(keys)}" totalcount="{len(keys)}" '
        f'numremaining="0" resultId="">{body}</data></result>'
    )


DEBIT_MEMOS = "TOTALENTERED &gt; 0 AND STATE NOT IN ('Reversal')"
DEBIT_MEMO_REVERSALS = "TOTALENTERED &lt; 0 AND STATE = 'Reversal'"
CREDIT_MEMOS = "TOTALENTERED &lt;= 0 AND STATE NOT IN ('Reversal')"
CREDIT_MEMO_REVERSALS = "TOTALENTERED &gt;= 0 AND STATE = 'Reversal'"


def test_incremental_filters_in_company_time_and_reads_deletes_from_the_audit_trail(
    mock: responses.RequestsMock,
) -> None:
    tokens = MemoryTokenStore({SESSION_KEY: "S-1", ENDPOINT_KEY: API})
    mock.post(API, body=data_reply(["1"], 0))
    mock.post(API, body=adjustment_reply(["12"]))
    mock.post(API, body=adjustment_reply([]))
    mock.post(API, body=audit_reply(["9"]))
    made = connector(tokens, company_timezone="America/New_York")
    since = datetime(2026, 3, 2, 17, 4, 5, 700000, tzinfo=UTC)
    pages = list(made.streams()["invoices"].pages(since, datetime.now(UTC)))
    records = [r for page in pages for r in page.records]
    changed, debit_memos, reversals, audit = mock.calls
    assert "<query>WHENMODIFIED &gt;= '03/02/2026 12:04:05'</query>" in body_of(changed)
    # then the debit memos only, the sign rule in the query itself: nothing else is sent
    assert "<object>ARADJUSTMENT</object>" in body_of(debit_memos)
    assert f"<query>WHENMODIFIED &gt;= '03/02/2026 12:04:05' AND {DEBIT_MEMOS}</query>" in body_of(
        debit_memos
    )
    assert f"AND {DEBIT_MEMO_REVERSALS}</query>" in body_of(reversals)
    assert (
        "<object>AUDITHISTORY</object>" in body_of(audit)
        and "OBJECTTYPE IN ('arinvoice', 'aradjustment') AND ACCESSMODE = 'D' AND ACCESSTIME "
        "&gt;= '03/02/2026 12:04:05'"
        in body_of(audit)
    )
    assert [(r.remote_id, r.object_type, r.deleted) for r in records] == [
        ("1", "ARINVOICE", False),
        ("12", "ARADJUSTMENT", False),
        ("9", "ARINVOICE", True),  # the audit row's OBJECTTYPE says which object it was
    ]
    assert records[2].modified_at == datetime(2026, 3, 2, 17, 30, tzinfo=UTC)


def test_credit_memo_stream_asks_for_credit_memos_only(mock: responses.RequestsMock) -> None:
    tokens = MemoryTokenStore({SESSION_KEY: "S-1", ENDPOINT_KEY: API})
    mock.post(API, body=adjustment_reply(["4", "6"]))
    mock.post(API, body=adjustment_reply([]))
    pages = list(connector(tokens).streams()["credit_memos"].pages(None, datetime.now(UTC)))
    call, reversals = mock.calls
    assert f"<query>{CREDIT_MEMOS}</query>" in body_of(call)
    assert f"<query>{CREDIT_MEMO_REVERSALS}</query>" in body_of(reversals)
    assert [(r.remote_id, r.object_type) for p in pages for r in p.records] == [
        ("4", "ARADJUSTMENT"),
        ("6", "ARADJUSTMENT"),
    ]


def test_single_object_streams_keep_their_audit_query(mock: responses.RequestsMock) -> None:
    tokens = MemoryTokenStore({SESSION_KEY: "S-1", ENDPOINT_KEY: API})
    mock.post(API, body=adjustment_reply([]))
    mock.post(API, body=adjustment_reply([]))
    mock.post(API, body=audit_reply([]))
    since = datetime(2026, 3, 2, 17, 4, 5, tzinfo=UTC)
    list(connector(tokens).streams()["credit_memos"].pages(since, datetime.now(UTC)))
    changed, _reversals, audit = mock.calls
    assert f"<query>WHENMODIFIED &gt;= '03/02/2026 17:04:05' AND {CREDIT_MEMOS}</query>" in (
        body_of(changed)
    )
    assert "OBJECTTYPE = 'aradjustment' AND ACCESSMODE = 'D'" in body_of(audit)


def test_payment_applications_are_read_for_the_whole_page_in_one_query(
    mock: responses.RequestsMock,
) -> None:
    tokens = MemoryTokenStore({SESSION_KEY: "S-1", ENDPOINT_KEY: API})
    payments = envelope(
        "<result><status>success</status><function>readByQuery</function>"
        '<data listtype="arpymt" count="2" totalcount="2" numremaining="0" resultId="">'
        "<ARPYMT><RECORDNO>31</RECORDNO></ARPYMT><ARPYMT><RECORDNO>32</RECORDNO></ARPYMT>"
        "</data></result>"
    )
    details = envelope(
        "<result><status>success</status><function>readByQuery</function>"
        '<data listtype="arpymtdetail" count="2" totalcount="2" numremaining="0" resultId="">'
        "<ARPYMTDETAIL><PAYMENTKEY>31</PAYMENTKEY><RECORDKEY>7</RECORDKEY></ARPYMTDETAIL>"
        "<ARPYMTDETAIL><PAYMENTKEY>31</PAYMENTKEY><RECORDKEY>8</RECORDKEY></ARPYMTDETAIL>"
        "</data></result>"
    )
    mock.post(API, body=payments)
    mock.post(API, body=details)
    [page] = list(connector(tokens).streams()["payments"].pages(None, datetime.now(UTC)))
    assert "<query>PAYMENTKEY IN (31,32)</query>" in body_of(mock.calls[1])
    by_id = {r.remote_id: r.payload["ARPYMTDETAILS"] for r in page.records}
    assert [d["RECORDKEY"] for d in by_id["31"]] == ["7", "8"] and by_id["32"] == []
