"""Intacct authentication as developer.intacct.com documents it: getAPISession's endpoint
is used afterwards; an invalid or timed-out session (authentication block) gets one new
session; a sender the company has not authorized ("Invalid Web Services Authorization",
support FAQ) is a stop naming the fix, never a re-login loop."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses
from pydantic import SecretStr

from connectors.base import MemoryTokenStore
from connectors.errors import AuthError
from connectors.http import RetryPolicy
from connectors.intacct import IntacctConfig, IntacctConnector, IntacctSandbox
from connectors.intacct.client import ENDPOINT_KEY, SESSION_KEY
from connectors.intacct.errors import SENDER_NOT_AUTHORIZED, SENDER_REFUSED
from connectors.intacct.sandbox import API_PATH

GATEWAY = "https://gw.example.test/ia/xml/xmlgw.phtml"
API = "https://na.example.test/ia/xml/api/xmlgw.phtml"
SENDER_SECRET = "sender-secret-value"
USER_SECRET = "user-secret-value"
OK_CONTROL = (
    "<control><status>success</status><senderid>test_sender_id</senderid>"
    "<controlid>c</controlid><uniqueid>false</uniqueid><dtdversion>3.0</dtdversion></control>"
)

# developer.intacct.com/support/faq/ : "Why am I getting an error about an invalid Web
# Services authorization?"
NOT_AUTHORIZED = f"""<response>{OK_CONTROL}<operation>
  <authentication><status>failure</status><userid>api</userid>
    <companyid>ACME</companyid></authentication>
  <errormessage><error><errorno>XL03000006</errorno>
    <description>Invalid Web Services Authorization</description>
    <description2>The sender ID &#039;test_sender_id&#039; is not authorized to make Web
      Services requests to company ID &#039;ACME&#039;.</description2>
    <correction>Contact the company administrator to grant Web Services authorization to
      this sender ID.</correction></error></errormessage>
</operation></response>"""

WRONG_SENDER = """<response><control><status>failure</status><senderid>test_sender_id</senderid>
  <controlid>c</controlid><uniqueid>false</uniqueid><dtdversion>3.0</dtdversion></control>
  <errormessage><error><errorno>XL03000006</errorno><description></description>
    <description2>Incorrect Intacct XML Partner ID or password.</description2>
    <correction></correction></error></errormessage></response>"""


def auth_failure(errorno: str, text: str) -> str:
    return (
        f"<response>{OK_CONTROL}<operation><authentication><status>failure</status>"
        f"</authentication><errormessage><error><errorno>{errorno}</errorno><description>"
        f"</description><description2>{text}</description2><correction></correction></error>"
        "</errormessage></operation></response>"
    )


def session_reply(session_id: str, endpoint: str = API) -> str:
    return (
        f"<response>{OK_CONTROL}<operation><authentication><status>success</status>"
        "</authentication><result><status>success</status><function>getAPISession</function>"
        f"<data><api><sessionid>{session_id}</sessionid><endpoint>{endpoint}</endpoint></api>"
        "</data></result></operation></response>"
    )


def config() -> IntacctConfig:
    return IntacctConfig.model_validate(
        {
            "sender_id": "test_sender_id",
            "sender_password": SENDER_SECRET,
            "company_id": "ACME",
            "user_id": "api",
            "user_password": USER_SECRET,
            "endpoint_url": GATEWAY,
        }
    )


def connector(tokens: MemoryTokenStore | None = None) -> IntacctConnector:
    return IntacctConnector(
        config(), tokens or MemoryTokenStore(), policy=RetryPolicy(sleep=lambda _: None)
    )


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def body_of(call: responses.Call) -> str:
    body = call.request.body
    return body.decode() if isinstance(body, bytes) else str(body)


def assert_clear(message: str) -> None:
    assert message.startswith("intacct:") and "\n" not in message
    assert SENDER_SECRET not in message and USER_SECRET not in message


def test_the_session_endpoint_is_used_after_get_api_session(mock: responses.RequestsMock) -> None:
    tokens = MemoryTokenStore()
    mock.post(GATEWAY, body=session_reply("S-1"))
    mock.post(API, body=session_reply("S-1"))
    connector(tokens).check()
    assert tokens.get(ENDPOINT_KEY) == API and tokens.get(SESSION_KEY) == "S-1"
    assert "<sessionid>S-1</sessionid>" in body_of(mock.calls[1])


def test_a_timed_out_session_with_xl03000006_gets_one_new_session(
    mock: responses.RequestsMock,
) -> None:
    tokens = MemoryTokenStore({SESSION_KEY: "S-old", ENDPOINT_KEY: API})
    mock.post(API, body=auth_failure("XL03000006", "Invalid session"))
    mock.post(GATEWAY, body=session_reply("S-new"))
    mock.post(API, body=session_reply("S-new"))
    made = connector(tokens)
    made.check()
    assert made.session.stats.refreshes == 1
    assert "<sessionid>S-new</sessionid>" in body_of(mock.calls[2])


def test_a_session_refused_again_after_a_new_login_stops(mock: responses.RequestsMock) -> None:
    tokens = MemoryTokenStore({SESSION_KEY: "S-old", ENDPOINT_KEY: API})
    mock.post(API, body=auth_failure("XL03000006", "Invalid session"))
    mock.post(GATEWAY, body=session_reply("S-new"))
    mock.post(API, body=auth_failure("XL03000006", "Invalid session"))
    with pytest.raises(AuthError) as caught:
        connector(tokens).check()
    assert len(mock.calls) == 3
    assert_clear(str(caught.value))


def test_an_unauthorized_sender_on_a_session_call_stops_without_a_new_login(
    mock: responses.RequestsMock,
) -> None:
    tokens = MemoryTokenStore({SESSION_KEY: "S-1", ENDPOINT_KEY: API})
    mock.post(API, body=NOT_AUTHORIZED)
    made = connector(tokens)
    with pytest.raises(AuthError) as caught:
        made.check()
    assert len(mock.calls) == 1 and made.session.stats.refreshes == 0
    assert caught.value.code == SENDER_NOT_AUTHORIZED
    message = str(caught.value)
    assert_clear(message)
    assert "ACME" in message and "Web Services authorizations" in message


def test_an_unauthorized_sender_at_login_names_the_sender_and_the_fix(
    mock: responses.RequestsMock,
) -> None:
    mock.post(GATEWAY, body=NOT_AUTHORIZED)
    with pytest.raises(AuthError) as caught:
        connector().check()
    assert len(mock.calls) == 1
    message = str(caught.value)
    assert_clear(message)
    assert "sender 'test_sender_id'" in message and "'ACME'" in message
    assert "Company > Setup > Configuration > Company > Security" in message


def test_the_error_inside_the_authentication_element_is_read_too(
    mock: responses.RequestsMock,
) -> None:
    nested = NOT_AUTHORIZED.replace("</authentication>", "").replace(
        "</errormessage>", "</errormessage></authentication>"
    )
    tokens = MemoryTokenStore({SESSION_KEY: "S-1", ENDPOINT_KEY: API})
    mock.post(API, body=nested)
    with pytest.raises(AuthError) as caught:
        connector(tokens).check()
    assert caught.value.code == SENDER_NOT_AUTHORIZED and len(mock.calls) == 1


def test_a_wrong_sender_password_names_the_settings(mock: responses.RequestsMock) -> None:
    mock.post(GATEWAY, body=WRONG_SENDER)
    with pytest.raises(AuthError) as caught:
        connector().check()
    assert caught.value.code == SENDER_REFUSED
    message = str(caught.value)
    assert_clear(message)
    assert "intacct.sender_id" in message and "intacct.sender_password" in message


# against the sandbox ---------------------------------------------------------------------


@pytest.fixture
def sandbox() -> Iterator[IntacctSandbox]:
    box = IntacctSandbox()
    box.start()
    yield box
    box.stop()


def test_sandbox_sender_removed_from_the_company_stops_at_once(sandbox: IntacctSandbox) -> None:
    made = IntacctConnector(
        sandbox.config(), MemoryTokenStore(), policy=RetryPolicy(sleep=lambda _: None)
    )
    made.check()  # a session is open
    sandbox.authorized_senders.clear()
    with pytest.raises(AuthError) as caught:
        made.check()
    assert made.session.stats.refreshes == 0
    message = str(caught.value)
    assert message.startswith("intacct:") and "\n" not in message
    assert "Web Services authorizations" in message and sandbox.company_id in message
    assert sandbox.sender_password not in message and sandbox.user_password not in message


def test_sandbox_sender_not_authorized_at_login(sandbox: IntacctSandbox) -> None:
    sandbox.authorized_senders.clear()
    made = IntacctConnector(
        sandbox.config(), MemoryTokenStore(), policy=RetryPolicy(sleep=lambda _: None)
    )
    with pytest.raises(AuthError) as caught:
        made.check()
    assert caught.value.code == SENDER_NOT_AUTHORIZED


def test_sandbox_wrong_sender_password_names_the_settings(sandbox: IntacctSandbox) -> None:
    config = sandbox.config().model_copy(update={"sender_password": SecretStr("nope-nope")})
    made = IntacctConnector(config, MemoryTokenStore(), policy=RetryPolicy(sleep=lambda _: None))
    with pytest.raises(AuthError) as caught:
        made.check()
    assert "intacct.sender_password" in str(caught.value) and "nope-nope" not in str(caught.value)


def test_sandbox_calls_after_login_go_to_the_session_endpoint(sandbox: IntacctSandbox) -> None:
    made = IntacctConnector(
        sandbox.config(), MemoryTokenStore(), policy=RetryPolicy(sleep=lambda _: None)
    )
    made.check()
    assert sandbox.session_paths and set(sandbox.session_paths) == {API_PATH}
