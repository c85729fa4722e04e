"""The XML gateway's answers as Intacct documents them, and what arsync makes of each.

Shapes from developer.intacct.com (web-services/error-handling: control, authentication and
function-level failures, GW-nnnn gateway errors, mid-process failures that give no XML
response) and the response fixtures of Sage Intacct's SDKs (readByQuery ``<data listtype
count totalcount numremaining resultId>``, ``Query Failed`` results, getAPISession's
``endpoint``). A gateway down for maintenance answers HTTP 200 with an HTML page, and a
reply can be cut short: neither is a credential failure nor a parser's crash, but a
transient failure tried again; a write resent then runs nothing twice (``uniqueid``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
import responses

from connectors.base import MemoryTokenStore
from connectors.errors import DataError, ErrorKind, TransientError
from connectors.http import RetryPolicy
from connectors.intacct import IntacctConfig, IntacctConnector
from connectors.intacct.client import ENDPOINT_KEY, SESSION_KEY
from connectors.intacct.errors import ERROR_TABLE, FUNCTION_FAILED, NOT_A_RESPONSE, envelope_errors
from connectors.intacct.writes import KEY_TAG, ArPaymentCreate, PaymentLine
from connectors.intacct.xmlwire import parse
from tests.connectors.intacct.test_intacct_client import _response

GATEWAY = "https://gw.example.test/ia/xml/xmlgw.phtml"
API = "https://na.example.test/ia/xml/api/xmlgw.phtml"
SENDER_SECRET = "sender-secret-value"
USER_SECRET = "user-secret-value"
SESSION = "Ses5ion-Id-Value.."
DAY = date(2026, 11, 2)

CONTROL = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<response><control><status>success</status>'
    "<senderid>arsync</senderid><controlid>c</controlid><uniqueid>true</uniqueid>"
    "<dtdversion>3.0</dtdversion></control><operation><authentication><status>success"
    "</status><userid>api</userid><companyid>ACME</companyid>"
    "<sessiontimestamp>2026-11-02T09:15:00-08:00</sessiontimestamp></authentication>"
)
END = "</operation></response>\n"

MAINTENANCE = (
    "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
    "<title>Sage Intacct | Scheduled maintenance</title></head><body><h1>We&#39;ll be back "
    "soon</h1><p>Sage Intacct is undergoing scheduled maintenance.</p></body></html>"
)


def session_reply(endpoint: str = API) -> str:
    return (
        f"{CONTROL}<result><status>success</status><function>getAPISession</function>"
        f"<controlid>s</controlid><data><api><sessionid>{SESSION}</sessionid>"
        f"<endpoint>{endpoint}</endpoint><locationid></locationid></api></data></result>{END}"
    )


def page(obj: str, rows: list[str], remaining: int, result_id: str = "") -> str:
    body = "".join(f"<{obj}><RECORDNO>{r}</RECORDNO></{obj}>" for r in rows)
    return (
        f"{CONTROL}<result><status>success</status><function>readByQuery</function>"
        f'<controlid>r</controlid><data listtype="{obj}" count="{len(rows)}" '
        f'totalcount="{len(rows) + remaining}" numremaining="{remaining}" '
        f'resultId="{result_id}">{body}</data></result>{END}'
    )


def failed_result(function: str, control_id: str, *errors: tuple[str, str]) -> str:
    listed = "".join(
        f"<error><errorno>{number}</errorno><description></description>"
        f"<description2>{text}</description2><correction></correction></error>"
        for number, text in errors
    )
    return (
        f"<result><status>failure</status><function>{function}</function>"
        f"<controlid>{control_id}</controlid><errormessage>{listed}</errormessage></result>"
    )


def created(control_id: str, record_no: str) -> str:
    return (
        f"<result><status>success</status><function>create</function>"
        f'<controlid>{control_id}</controlid><data listtype="objects" count="1">'
        f"<arpymt><RECORDNO>{record_no}</RECORDNO></arpymt></data></result>"
    )


def already_recorded(control_id: str) -> str:
    return failed_result(
        "create",
        control_id,
        (
            "XL03000009",
            f"A successful transaction has already been recorded with the control id {control_id}",
        ),
    )


def config() -> IntacctConfig:
    return IntacctConfig.model_validate(
        {
            "sender_id": "arsync",
            "sender_password": SENDER_SECRET,
            "company_id": "ACME",
            "user_id": "api",
            "user_password": USER_SECRET,
            "endpoint_url": GATEWAY,
            "page_size": 2,
            "deposit_account": "BOA-CHK",
        }
    )


def connector(*, logged_in: bool = True) -> IntacctConnector:
    stored = {SESSION_KEY: SESSION, ENDPOINT_KEY: API} if logged_in else {}
    return IntacctConnector(
        config(), MemoryTokenStore(stored), policy=RetryPolicy(sleep=lambda _: None)
    )


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def body_of(call: responses.Call) -> str:
    body = call.request.body
    return body.decode() if isinstance(body, bytes) else str(body)


def assert_clear(message: str) -> None:
    assert "\n" not in message
    for secret in (SENDER_SECRET, USER_SECRET, SESSION):
        assert secret not in message


# bodies that are not an Intacct response ----------------------------------------------------


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (MAINTENANCE, "an HTML page ('Sage Intacct | Scheduled maintenance')"),
        (page("ARPYMT", ["1", "2"], 0)[:180], "XML cut short after 180 bytes"),
        ("", "an empty body"),
        ("Service Unavailable", "a body that is not XML"),
    ],
)
def test_a_200_that_is_not_a_response_is_transient(body: str, said: str) -> None:
    response = _response(body)
    [(code, message)] = envelope_errors(response)
    assert code == NOT_A_RESPONSE and said in message
    found = ERROR_TABLE.classify(response)
    assert found is not None and found.kind is ErrorKind.RETRY


def test_whole_responses_with_a_bom_or_trailing_blank_read_as_responses() -> None:
    body = "\ufeff" + page("ARPYMT", ["1"], 0) + "\r\n"
    assert envelope_errors(_response(body)) == ()
    assert ERROR_TABLE.classify(_response(body)) is None


def test_an_html_404_is_not_retried_as_maintenance() -> None:
    found = ERROR_TABLE.classify(_response("<html><title>Not Found</title></html>", status=404))
    assert found is not None and found.kind is ErrorKind.NOT_FOUND
    assert "an HTML page ('Not Found')" in found.message


def test_a_maintenance_page_at_login_is_waited_out_not_a_credential_failure(
    mock: responses.RequestsMock,
) -> None:
    mock.post(GATEWAY, body=MAINTENANCE)
    mock.post(GATEWAY, body=session_reply())
    mock.post(API, body=page("ARPYMT", ["7"], 0))
    made = connector(logged_in=False)
    assert [
        [row["RECORDNO"] for row in rows] for rows in made.client.read_by_query("ARPYMT", "")
    ] == [["7"]]
    assert made.client.auth.tokens.get(ENDPOINT_KEY) == API


def test_a_read_more_cut_short_is_never_asked_again_and_the_read_stops(
    mock: responses.RequestsMock,
) -> None:
    """A readMore moves Intacct's result set on: asked again after its answer was lost, it
    answers the next page and this one is skipped. The read stops instead (the run fails,
    its bookmark where the pages stored so far left it)."""
    mock.post(API, body=page("ARPYMT", ["1", "2"], 1, "7765623332"))
    mock.post(API, body=page("ARPYMT", ["3"], 1, "7765623332")[:200])
    pages = connector().client.read_by_query("ARPYMT", "")
    assert [row["RECORDNO"] for row in next(pages)] == ["1", "2"]
    with pytest.raises(TransientError, match="readMore of ARPYMT: its answer was lost"):
        next(pages)
    assert len(mock.calls) == 2


def test_a_whole_response_with_a_trailing_comment_is_read(
    mock: responses.RequestsMock,
) -> None:
    mock.post(API, body=page("ARPYMT", ["1"], 0) + "\n<!-- served by gw-7 -->\n")
    read = [
        [row["RECORDNO"] for row in rows] for rows in connector().client.read_by_query("ARPYMT", "")
    ]
    assert read == [["1"]]
    assert len(mock.calls) == 1


def test_a_gateway_that_stays_in_maintenance_fails_transiently_naming_the_read(
    mock: responses.RequestsMock,
) -> None:
    for _ in range(RetryPolicy().max_attempts):
        mock.post(API, body=MAINTENANCE)
    with pytest.raises(TransientError) as caught:
        next(connector().client.read_by_query("ARPYMT", ""))
    message = caught.value.message
    assert message.startswith("readByQuery of ARPYMT: the gateway answered HTTP 200")
    assert "Scheduled maintenance" in message
    assert_clear(str(caught.value))


def test_a_whole_looking_reply_that_is_not_well_formed_is_transient(
    mock: responses.RequestsMock,
) -> None:
    # an entity XML does not define, in an otherwise whole success page
    broken = page("ARPYMT", ["1"], 0).replace("<RECORDNO>1", "<RECORDNO>1&nbsp;")
    mock.post(API, body=broken)
    with pytest.raises(TransientError, match="malformed XML"):
        next(connector().client.read_by_query("ARPYMT", ""))


# function-level failures name what was read -------------------------------------------------


def test_a_failed_query_names_the_object_query_and_intacct_description(
    mock: responses.RequestsMock,
) -> None:
    answer = (
        CONTROL
        + failed_result(
            "readByQuery",
            "read-1",
            ("Query Failed", "Object definition ARPYMTDETAIL not found"),
            ("BL01001973", "Invalid field &#039;PAYMENTKEY&#039; &amp; &quot;RECORDKEY&quot;"),
        )
        + END
    )
    mock.post(API, body=answer)
    with pytest.raises(DataError) as caught:
        next(connector().client.read_by_query("ARPYMTDETAIL", "PAYMENTKEY IN (1,2)"))
    message = caught.value.message
    assert message.startswith("readByQuery of ARPYMTDETAIL where PAYMENTKEY IN (1,2): ")
    assert "Query Failed: Object definition ARPYMTDETAIL not found" in message
    assert "BL01001973: Invalid field 'PAYMENTKEY' & \"RECORDKEY\"" in message
    assert caught.value.code == FUNCTION_FAILED
    assert_clear(str(caught.value))


def test_an_expired_result_id_names_the_read_more(mock: responses.RequestsMock) -> None:
    mock.post(API, body=page("ARINVOICE", ["1", "2"], 3, "6543210"))
    expired = failed_result(
        "readMore", "more-1", ("XL03000007", "Attempt to readMore on an invalid resultId 6543210")
    )
    mock.post(API, body=CONTROL + expired + END)
    pages = connector().client.read_by_query("ARINVOICE", "WHENMODIFIED >= '11/01/2026 00:00:00'")
    assert [row["RECORDNO"] for row in next(pages)] == ["1", "2"]
    with pytest.raises(DataError) as caught:
        next(pages)
    assert caught.value.message.startswith(
        "readMore of ARINVOICE where WHENMODIFIED >= '11/01/2026 00:00:00': XL03000007: "
    )


# writes -----------------------------------------------------------------------------------


def payment(key: str, invoice: str, amount: str) -> ArPaymentCreate:
    return ArPaymentCreate(key, "C-100", DAY, (PaymentLine(invoice, Decimal(amount)),), "USD")


def test_a_write_reply_cut_short_is_resent_and_applies_cash_once(
    mock: responses.RequestsMock,
) -> None:
    writes = [payment("k-1", "301", "120.00"), payment("k-2", "302", "80.50")]
    whole = CONTROL + created("k-1", "9001") + created("k-2", "9002") + END
    mock.post(API, body=whole[:260])  # both ran; the reply was cut
    mock.post(API, body=CONTROL + already_recorded("k-1") + already_recorded("k-2") + END)
    found = (
        f"{CONTROL}<result><status>success</status><function>readByQuery</function>"
        '<controlid>r</controlid><data listtype="ARPYMT" count="2" totalcount="2" '
        f'numremaining="0" resultId=""><ARPYMT><RECORDNO>9001</RECORDNO><DESCRIPTION>{KEY_TAG}'
        f"k-1</DESCRIPTION></ARPYMT><ARPYMT><RECORDNO>9002</RECORDNO><DESCRIPTION>{KEY_TAG}k-2"
        f"</DESCRIPTION></ARPYMT></data></result>{END}"
    )
    mock.post(API, body=found)
    results = connector().write(writes)
    assert [(r.key, r.remote_id, r.ok) for r in results] == [
        ("k-1", "9001", True),
        ("k-2", "9002", True),
    ]
    first, second = (parse(body_of(call).encode()) for call in mock.calls[:2])
    for sent in (first, second):  # the resend is the same keyed request
        assert sent.findtext("control/uniqueid") == "true"
        assert [f.get("controlid") for f in sent.iter("function")] == ["k-1", "k-2"]
        assert [d.findtext("TRX_PAYMENTAMOUNT") for d in sent.iter("ARPYMTDETAIL")] == [
            "120.00",
            "80.50",
        ]
    assert first.findtext("control/controlid") == second.findtext("control/controlid")


def test_one_failed_function_among_three_is_charged_to_its_own_write(
    mock: responses.RequestsMock,
) -> None:
    writes = [payment("a-1", "301", "10.00"), payment("a-2", "302", "20.00")]
    writes.append(payment("a-3", "303", "30.00"))
    refused = failed_result(
        "create",
        "a-2",
        ("BL03000018", "Invalid Invoice &#039;302&#039; specified."),
        ("BL01001973", "Could not create ARPYMT record!"),
    )
    mock.post(API, body=CONTROL + created("a-1", "71") + refused + created("a-3", "73") + END)
    ok_1, bad, ok_3 = connector().write(writes)
    assert (ok_1.remote_id, ok_3.remote_id) == ("71", "73")
    assert bad.remote_id is None and isinstance(bad.error, DataError)
    assert bad.error.message == (
        "create a-2: BL03000018: Invalid Invoice '302' specified.; "
        "BL01001973: Could not create ARPYMT record!"
    )
