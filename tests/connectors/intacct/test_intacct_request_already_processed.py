"""A request refused at the control level because its control id was processed before.

Intacct (web-services/error-handling): "If the error occurs at the control level, no
operations are executed." A control-level refusal of a repeated control id therefore says the
request was received before, not what each of its functions did then: a function fails alone
("only the problematic function call fails, other function calls can succeed"). Its wording
is Intacct's for a repeated control id: "A successful transaction has already been recorded
with the control id ...".

* A ``reverse_arpayment`` repeated so is done only when the ARPYMT reads reversed; one that
  still reads posted (its first run was refused, e.g. for a closed period) is uncertain and
  looked at again, never recorded as a reversal that did not happen.
* The refusal is a duplicate, not a credential failure: it never stops the push with "check
  the sender id".
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
import responses

from connectors.errors import ErrorKind, ReplayedFaultError
from connectors.intacct.errors import DUPLICATE_CONTROL, ERROR_TABLE, envelope_errors
from connectors.intacct.writes import PaymentReverse
from tests.connectors.intacct.test_intacct_client import _response
from tests.connectors.intacct.test_wire_documented_probe import API, CONTROL, END, connector

DAY = date(2026, 11, 3)


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


RECORDED = "A successful transaction has already been recorded with the control id {}."
PROCESSED = "The request with control id {} has already been processed."


def control_refused(control_id: str, wording: str = RECORDED) -> str:
    """The request's control id refused at the control level (nothing executed)."""
    said = wording.format(control_id)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<response><control><status>failure</status>'
        f"<senderid>arsync</senderid><controlid>{control_id}</controlid>"
        "<uniqueid>true</uniqueid><dtdversion>3.0</dtdversion></control><errormessage><error>"
        "<errorno>XL03000009</errorno><description></description>"
        f"<description2>{said} Use a new control id, or set uniqueid to false.</description2>"
        "<correction></correction></error>"
        "</errormessage></response>\n"
    )


def payment_state(record_no: str, state: str) -> str:
    return (
        f"{CONTROL}<result><status>success</status><function>readByQuery</function>"
        '<controlid>r</controlid><data listtype="ARPYMT" count="1" totalcount="1" '
        f'numremaining="0" resultId=""><ARPYMT><RECORDNO>{record_no}</RECORDNO>'
        f"<STATE>{state}</STATE></ARPYMT></data></result>{END}"
    )


def test_a_repeated_control_id_at_the_control_level_is_a_duplicate_not_a_credential_failure() -> (
    None
):
    response = _response(control_refused("c1"), sent="<sessionid>x</sessionid>")
    assert DUPLICATE_CONTROL in [code for code, _ in envelope_errors(response)]
    found = ERROR_TABLE.classify(response)
    assert found is not None and found.kind is ErrorKind.CONFLICT


@pytest.mark.parametrize("wording", [RECORDED, PROCESSED])
def test_a_reversal_whose_payment_still_reads_posted_failed_then_and_goes_again_under_a_new_key(
    mock: responses.RequestsMock, wording: str
) -> None:
    mock.post(API, body=control_refused("req", wording))
    mock.post(API, body=payment_state("7001", "Posted"))
    [result] = connector().write([PaymentReverse("v1", "7001", DAY, "payment taken back")])
    assert not result.ok and result.remote_id is None
    # the request ran before and its reversal failed then: sent again under a key (and so a
    # request control id) of its own, never refused as a repeat forever
    assert isinstance(result.error, ReplayedFaultError)
    assert "7001" in str(result.error) and "reversed" in str(result.error)


@pytest.mark.parametrize("wording", [RECORDED, PROCESSED])
def test_a_reversal_whose_payment_reads_reversed_is_done(
    mock: responses.RequestsMock, wording: str
) -> None:
    mock.post(API, body=control_refused("req", wording))
    mock.post(API, body=payment_state("7001", "Reversed"))
    [result] = connector().write([PaymentReverse("v1", "7001", DAY)])
    assert result.ok and result.remote_id == "7001"
