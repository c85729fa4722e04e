"""Every error Salesforce reports for a record reaches the report, with the fields it names.

A SaveResult's ``errors`` is a list (REST API guide, sObject Collections: ``{"id", "success",
"errors": [{"statusCode", "message", "fields"}]}``): an org with two validation rules on the
invoice object fails a record on both at once. Reading only the first makes finance ops fix
one rule, wait for the next push, and only then learn about the second.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
import responses

from connectors.errors import ErrorKind
from connectors.salesforce.writes import InvoiceStatus
from tests.connectors.salesforce.test_write_wire import COLLECTIONS, INSTANCE, TOKEN_URL, connector


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.post(TOKEN_URL, json={"access_token": "00D!t", "instance_url": INSTANCE})
        yield rsps


def test_a_record_failing_two_validation_rules_reports_both_and_their_fields(
    mock: responses.RequestsMock,
) -> None:
    errors = [
        {
            "statusCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
            "message": "Balance cannot be negative",
            "fields": ["Balance__c"],
        },
        {
            "statusCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
            "message": "A paid invoice needs a paid date",
            "fields": ["Paid_Date__c"],
        },
    ]
    mock.patch(COLLECTIONS, json=[{"success": False, "errors": errors}])
    [bad] = connector().write_invoice_statuses([InvoiceStatus("a01Y", "paid", Decimal("0.00"))])
    assert not bad.success and bad.code == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    assert bad.kind is ErrorKind.DATA
    assert bad.message is not None
    assert "Balance cannot be negative" in bad.message
    assert "A paid invoice needs a paid date" in bad.message
    assert bad.fields == ("Balance__c", "Paid_Date__c")


def test_one_error_reads_as_before(mock: responses.RequestsMock) -> None:
    error = {"statusCode": "UNABLE_TO_LOCK_ROW", "message": "unable to obtain exclusive access"}
    mock.patch(COLLECTIONS, json=[{"success": False, "errors": [error]}])
    [bad] = connector().write_invoice_statuses([InvoiceStatus("a01Z", "open", Decimal("5.00"))])
    assert (bad.code, bad.message, bad.fields, bad.kind) == (
        "UNABLE_TO_LOCK_ROW",
        "unable to obtain exclusive access",
        (),
        ErrorKind.RETRY,
    )
