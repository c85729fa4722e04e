"""Intacct's answer when the company's concurrent-job slots are taken: "There are too many
operations running for this company" (the third request is held 30 s, then refused; seen in
integrators' support pages). It is the concurrency entitlement, so the read waits and is sent
again: never a stop of the connector as if its credentials were wrong, never a failed run."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests
import responses

from connectors.base import MemoryTokenStore
from connectors.errors import ErrorKind
from connectors.http import RetryPolicy
from connectors.intacct import IntacctConfig, IntacctConnector
from connectors.intacct.client import ENDPOINT_KEY, SESSION_KEY
from connectors.intacct.errors import ERROR_TABLE

API = "https://gw.example.test/ia/xml/api/xmlgw.phtml"
BUSY = "There are too many operations running for this company (200024)."
OK_CONTROL = "<control><status>success</status><senderid>arsync</senderid></control>"
OK_AUTH = "<authentication><status>success</status><userid>api</userid></authentication>"


def error(errorno: str, text: str) -> str:
    return (
        f"<errormessage><error><errorno>{errorno}</errorno><description>{text}</description>"
        "<description2></description2><correction></correction></error></errormessage>"
    )


def busy(level: str) -> str:
    if level == "control":
        return (
            "<response><control><status>failure</status><senderid>arsync</senderid>"
            f"<controlid>c-1</controlid></control>{error('XL03000001', BUSY)}</response>"
        )
    return (
        f"<response>{OK_CONTROL}<operation>{OK_AUTH}<result><status>failure</status>"
        f"<function>readByQuery</function><controlid>read-1</controlid>"
        f"{error('XL03000001', BUSY)}</result></operation></response>"
    )


def rows_reply(*keys: str) -> str:
    body = "".join(
        f"<ARPYMT><RECORDNO>{k}</RECORDNO><WHENMODIFIED>05/01/2024 10:00:00</WHENMODIFIED></ARPYMT>"
        for k in keys
    )
    return (
        f"<response>{OK_CONTROL}<operation>{OK_AUTH}<result><status>success</status>"
        f'<function>readByQuery</function><data listtype="arpymt" count="{len(keys)}" '
        f'totalcount="{len(keys)}" numremaining="0" resultId="">{body}</data></result>'
        "</operation></response>"
    )


def response_of(body: str) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response._content = body.encode()
    response.request = requests.Request("POST", API, data=b"<sessionid>s</sessionid>").prepare()
    return response


@pytest.mark.parametrize("level", ["control", "result"])
def test_too_many_operations_is_a_rate_limit_at_either_level(level: str) -> None:
    found = ERROR_TABLE.classify(response_of(busy(level)))
    assert found is not None
    assert found.kind is ErrorKind.RATE_LIMITED, found
    assert "too many operations running" in found.message


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def test_a_busy_company_delays_the_payment_read_and_loses_nothing(
    mock: responses.RequestsMock,
) -> None:
    config = IntacctConfig(
        sender_id="arsync",
        sender_password="s",  # type: ignore[arg-type]
        company_id="ACME",
        user_id="api",
        user_password="u",  # type: ignore[arg-type]
        endpoint_url="https://gw.example.test/ia/xml/xmlgw.phtml",
    )
    tokens = MemoryTokenStore({SESSION_KEY: "S-1", ENDPOINT_KEY: API})
    conn = IntacctConnector(config, tokens, policy=RetryPolicy(sleep=lambda _: None))
    mock.post(API, body=busy("result"))
    mock.post(API, body=busy("control"))
    mock.post(API, body=rows_reply("7001", "7002"))  # the payments
    mock.post(API, body=rows_reply())  # their applications (none)
    stream = conn.streams()["payments"]
    pages = list(stream.pages(None, datetime.now(UTC)))
    assert [r.remote_id for page in pages for r in page.records] == ["7001", "7002"]
    assert conn.session.stats.retries == 2
