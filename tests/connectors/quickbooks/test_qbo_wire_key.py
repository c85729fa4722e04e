"""The requestid of a QuickBooks write is made of its wire key: QBO answers a repeated requestid
with its first reply (Intuit, "Request ID update for QuickBooks Online integration", 2015), a
refusal included, so a write retried after a refusal goes with another wire key; its
``PrivateNote`` keeps the write's own key, by which a lost reply is looked for."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from connectors.errors import DataError, UncertainWriteError
from connectors.quickbooks import QuickBooksConnector, QuickBooksSandbox
from connectors.quickbooks.sandbox_ledger import LedgerFault
from connectors.quickbooks.writes import PaymentCreate, PaymentLine, batch_request_id
from tests.connectors.quickbooks.qbo_helpers import COMPANY, TOKEN_URL, sandbox_connector
from tests.connectors.quickbooks.test_qbo_exchange_rate import PREFERENCES, TOKEN, payment
from tests.connectors.quickbooks.test_qbo_writes import cash_payment, open_invoices


def plain(key: str, invoice: str = "130", wire_key: str | None = None) -> PaymentCreate:
    """A payment in the home currency (no currency named: no rate is looked up)."""
    made = PaymentCreate(
        key, "58", Decimal("100.00"), (PaymentLine("Invoice", invoice, Decimal("100.00")),)
    )
    return replace(made, wire_key=wire_key) if wire_key else made


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.post(TOKEN_URL, json=TOKEN)
        yield rsps


def sent(mock: responses.RequestsMock) -> list[tuple[str, list[str]]]:
    """(requestid, PrivateNotes) of each batch sent."""
    out = []
    for call in mock.calls:
        url = call.request.url or ""
        if urlsplit(url).path.endswith("/batch"):
            body = json.loads(call.request.body or b"{}")
            notes = [i["Payment"]["PrivateNote"] for i in body["BatchItemRequest"]]
            out.append((parse_qs(urlsplit(url).query)["requestid"][0], notes))
    return out


def test_the_requestid_follows_the_wire_key_and_the_note_the_key(
    connector: QuickBooksConnector, mock: responses.RequestsMock
) -> None:
    reply = {"BatchItemResponse": [{"bId": "b0", "Payment": {"Id": "9", "SyncToken": "0"}}]}
    mock.post(f"{COMPANY}/batch", json=reply)
    for write in (plain("k1"), plain("k1"), plain("k1", wire_key="k1-r1")):
        [result] = connector.write([write])
        assert result.ok and result.key == "k1"
    (first, n1), (again, n2), (retried, n3) = sent(mock)
    assert first == again == batch_request_id([plain("k1")]) and retried != first
    assert len(retried) <= 36 and n1 == n2 == n3 == ["arsync:k1"]


def test_an_item_the_batch_reply_leaves_out_is_uncertain(
    connector: QuickBooksConnector, mock: responses.RequestsMock
) -> None:
    """QBO ran the batch but said nothing of the item: it may be written, so it is looked for
    before it is sent again (never taken for a refusal, which would re-key it)."""
    reply = {"BatchItemResponse": [{"bId": "b0", "Payment": {"Id": "9", "SyncToken": "0"}}]}
    mock.post(f"{COMPANY}/batch", json=reply)
    answered, missing = connector.write([plain("k1"), plain("k2", "131")])
    assert answered.ok and isinstance(missing.error, UncertainWriteError)
    assert "k2" in str(missing.error)


def test_a_write_without_an_exchange_rate_is_not_sent_and_says_so(
    connector: QuickBooksConnector, mock: responses.RequestsMock
) -> None:
    mock.get(f"{COMPANY}/preferences", json=PREFERENCES)
    not_found = {"Fault": {"Error": [{"Message": "Object Not Found", "code": "610"}]}}
    mock.get(f"{COMPANY}/exchangerate", json=not_found, status=400)
    reply = {"BatchItemResponse": [{"bId": "b1", "Payment": {"Id": "9", "SyncToken": "0"}}]}
    mock.post(f"{COMPANY}/batch", json=reply)
    unpriced, home = connector.write([payment("eur-1", "EUR"), payment("usd-2", "USD")])
    assert isinstance(unpriced.error, DataError) and not unpriced.sent
    assert home.ok and home.sent


def test_a_refused_payment_resent_with_its_key_gets_the_refusal_and_with_a_wire_key_lands(
    sandbox: QuickBooksSandbox,
) -> None:
    connector, _ = sandbox_connector(sandbox)
    invoices = open_invoices(sandbox, 1)
    write = cash_payment("pay-closed", invoices)
    create = sandbox.ledger.create_payment

    def closed(obj: Any) -> Any:
        raise LedgerFault("6210", "Account Period Closed", "the books are closed")

    sandbox.ledger.create_payment = closed  # type: ignore[method-assign]
    [refused] = connector.write([write])
    assert isinstance(refused.error, DataError) and refused.sent
    sandbox.ledger.create_payment = create  # type: ignore[method-assign]
    [again] = connector.write([write])  # the same requestid: the first reply
    assert isinstance(again.error, DataError)
    [landed] = connector.write([replace(write, wire_key="pay-closed-r1")])
    assert landed.ok and landed.record is not None
    assert landed.record["PrivateNote"].startswith("arsync:pay-closed")
    assert sandbox.records["Invoice"][invoices[0]["Id"]]["Balance"] == 0
    assert connector.landed(["pay-closed"], sandbox.now().replace(year=2000)) == {
        "pay-closed": landed.remote_id
    }
