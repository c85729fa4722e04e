"""WHENMODIFIED is written and filtered in the API user's time zone, which Intacct shows in
``<sessiontimestamp>2019-06-01T13:02:17-07:00</sessiontimestamp>``. A connector configured
with another zone (``company_timezone`` left at its default UTC for a Pacific company)
filters seven or eight hours too late on every incremental run: those changes are never read.
Intacct does not document the timestamp's zone, so the check warns, naming the setting, and
does not refuse to sync."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import responses

from connectors.base import MemoryTokenStore
from connectors.http import RetryPolicy
from connectors.intacct import IntacctConfig, IntacctConnector
from connectors.intacct.client import ENDPOINT_KEY, SESSION_KEY

API = "https://gw.example.test/ia/xml/api/xmlgw.phtml"


def session_reply(stamp: str) -> str:
    return (
        "<response><control><status>success</status><senderid>arsync</senderid></control>"
        "<operation><authentication><status>success</status><userid>api</userid>"
        f"<companyid>ACME</companyid><sessiontimestamp>{stamp}</sessiontimestamp>"
        "</authentication><result><status>success</status><function>getAPISession</function>"
        f"<data><api><sessionid>S-1</sessionid><endpoint>{API}</endpoint></api></data>"
        "</result></operation></response>"
    )


def connector(zone: str, lag: int = 3600) -> IntacctConnector:
    config = IntacctConfig(
        sender_id="arsync",
        sender_password="s",  # type: ignore[arg-type]
        company_id="ACME",
        user_id="api",
        user_password="u",  # type: ignore[arg-type]
        endpoint_url="https://gw.example.test/ia/xml/xmlgw.phtml",
        company_timezone=zone,
        lag_seconds=lag,
    )
    tokens = MemoryTokenStore({SESSION_KEY: "S-1", ENDPOINT_KEY: API})
    return IntacctConnector(config, tokens, policy=RetryPolicy(sleep=lambda _: None))


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def test_a_zone_hours_off_is_a_warning_naming_the_setting(
    mock: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    mock.post(API, body=session_reply("2019-06-01T13:02:17-07:00"))
    with caplog.at_level(logging.WARNING, logger="arsync.intacct"):
        connector("UTC").check()
    (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    message = warning.getMessage()
    assert "changes may be skipped" in message
    assert "intacct.company_timezone" in message
    assert "UTC-07:00" in message and "'UTC' is UTC+00:00" in message
    assert "7:00:00" in message  # how far off the filters would be


def test_the_right_zone_passes_in_summer_and_winter(
    mock: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    mock.post(API, body=session_reply("2019-06-01T13:02:17-07:00"))
    mock.post(API, body=session_reply("2015-12-06T15:57:08-08:00"))
    conn = connector("America/Los_Angeles")
    with caplog.at_level(logging.INFO, logger="arsync.intacct"):
        conn.check()
        conn.check()
    assert "company_timezone" not in caplog.text


def test_an_hour_inside_the_rewind_is_only_logged(
    mock: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    # a user preference left at standard time in summer: one hour, covered by the 1 h rewind
    mock.post(API, body=session_reply("2019-06-01T12:02:17-08:00"))
    with caplog.at_level(logging.INFO, logger="arsync.intacct"):
        connector("America/Los_Angeles").check()
    assert "within the 3600s rewind" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
