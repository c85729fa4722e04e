"""QuickBooks Online customers deleted under a taken name, and payment lines whose
``LinkedTxn`` is not the documented list."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from canonical.enums import CustomerStatus
from canonical.records import CustomerIn
from connectors.base import RawRecord
from connectors.quickbooks.client import last_updated
from mappings.base import MappingContext, MappingError
from mappings.quickbooks import MAPPERS

CTX = MappingContext("quickbooks", home_currency="USD")

CUSTOMER = """{
  "Id": "412", "SyncToken": "4", "domain": "QBO", "sparse": false,
  "MetaData": {"CreateTime": "2023-02-11T08:30:00-08:00",
               "LastUpdatedTime": "2024-05-02T14:12:09-07:00"},
  "DisplayName": "Harbor Supply Co (deleted-1)", "CompanyName": "Harbor Supply Co",
  "FullyQualifiedName": "Harbor Supply Co (deleted-1)", "Active": false,
  "PrimaryEmailAddr": {"Address": "ap@harbor.example"}, "Job": false,
  "CurrencyRef": {"value": "CAD", "name": "Canadian Dollar"}, "Balance": 0,
  "BalanceWithJobs": 0
}"""


def raw(stream: str, kind: str, payload: dict[str, Any]) -> RawRecord:
    return RawRecord(stream, kind, str(payload["Id"]), payload, last_updated(payload))


def customer(**changes: Any) -> CustomerIn:
    payload = json.loads(CUSTOMER, parse_float=Decimal) | changes
    result = MAPPERS["customers"](raw("customers", "Customer", payload), CTX)
    assert isinstance(result, CustomerIn)
    return result


@pytest.mark.parametrize("suffix", [" (deleted-1)", " (deleted-12)", " (deleted)"])
def test_customer_deleted_under_a_taken_name_is_deleted_under_its_own(suffix: str) -> None:
    result = customer(DisplayName=f"Harbor Supply Co{suffix}")
    assert result.status is CustomerStatus.DELETED and result.deleted is True
    assert (result.name, result.currency) == ("Harbor Supply Co", "CAD")


def test_an_active_customer_keeps_a_name_that_merely_ends_like_one_deleted() -> None:
    result = customer(DisplayName="Harbor Supply Co (deleted-1)", Active=True)
    assert result.status is CustomerStatus.ACTIVE and result.deleted is False
    assert result.name == "Harbor Supply Co (deleted-1)"
    inactive = customer(DisplayName="Harbor Supply Co (deleted stock)")
    assert inactive.status is CustomerStatus.INACTIVE and inactive.deleted is False


def test_payment_line_linking_one_object_instead_of_a_list_names_the_field() -> None:
    payload = {
        "Id": "881",
        "CustomerRef": {"value": "412"},
        "TotalAmt": "100.00",
        "UnappliedAmt": "0",
        "Line": [{"Amount": "100.00", "LinkedTxn": {"TxnId": "130", "TxnType": "Invoice"}}],
    }
    with pytest.raises(MappingError) as caught:
        MAPPERS["payments"](raw("payments", "Payment", payload), CTX)
    assert caught.value.field == "Line.0.LinkedTxn"
