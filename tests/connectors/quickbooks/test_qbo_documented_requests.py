"""What arsync sends to QuickBooks Online, exactly as Intuit documents it, and how it reads
the documented answers.

Sources: the Payment and CreditMemo entity references
(https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/payment,
.../all-entities/creditmemo: PaymentRefNum max 21 characters, PrivateNote and Description
max 4000), the batch reference (.../all-entities/batch: BatchItemRequest ``bId`` /
``operation`` / object, BatchItemResponse with ``Fault``) and Intuit's requestid notes
(https://blogs.intuit.com/2015/04/06/15346/: at most 36 characters on a batch, then at most
10 per ``bId``; a repeated requestid gets the first reply).
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from connectors.errors import (
    ConflictError,
    DataError,
    NotFoundError,
    RateLimitError,
    UncertainWriteError,
)
from connectors.quickbooks import QuickBooksConnector, QuickBooksSandbox
from connectors.quickbooks.jsonwire import dumps
from connectors.quickbooks.writes import (
    CreditMemoCreate,
    PaymentCreate,
    PaymentLine,
    SparseUpdate,
    Write,
    batch_request_id,
    credit_memo_application,
    item_error,
)
from tests.connectors.quickbooks.qbo_helpers import Sleeps, sandbox_connector

KEY = "0123456789abcdef0123456789abcdef"


class Sent(list[requests.PreparedRequest]):
    """Every request a connector's session sent (a response hook)."""

    def __call__(self, response: requests.Response, *_: Any, **__: Any) -> None:
        self.append(response.request)

    def batches(self) -> list[tuple[dict[str, list[str]], dict[str, Any], str]]:
        """(query, decoded body, raw body) of each POST /batch."""
        found = []
        for request in self:
            if request.method == "POST" and urlsplit(request.url or "").path.endswith("/batch"):
                raw = request.body.decode() if isinstance(request.body, bytes) else request.body
                assert isinstance(raw, str)
                query = parse_qs(urlsplit(request.url or "").query)
                found.append((query, json.loads(raw, parse_float=Decimal), raw))
        return found


@pytest.fixture
def sent() -> Sent:
    return Sent()


@pytest.fixture
def connector(sandbox: QuickBooksSandbox, sent: Sent) -> QuickBooksConnector:
    made, _ = sandbox_connector(sandbox)
    made.session.hooks["response"].append(sent)
    return made


def customer_with_open(box: QuickBooksSandbox, count: int) -> list[dict[str, Any]]:
    by_customer: dict[str, list[dict[str, Any]]] = {}
    for invoice in box.records["Invoice"].values():
        if invoice["Balance"] > 0:
            by_customer.setdefault(invoice["CustomerRef"]["value"], []).append(invoice)
    return max(by_customer.values(), key=len)[:count]


# request bodies ------------------------------------------------------------------------------
def test_apply_cash_payment_is_sent_as_documented(
    sandbox: QuickBooksSandbox, connector: QuickBooksConnector, sent: Sent
) -> None:
    first, second = customer_with_open(sandbox, 2)
    customer = first["CustomerRef"]["value"]
    currency = first["CurrencyRef"]["value"]
    owed = Decimal(first["Balance"])
    payment = PaymentCreate(
        key=KEY,
        customer_id=customer,
        total=owed + Decimal("1.50") + Decimal("10.00"),
        lines=(
            PaymentLine("Invoice", first["Id"], owed),
            PaymentLine("Invoice", second["Id"], Decimal("1.50")),
        ),
        currency=currency,
        txn_date=date(2024, 5, 1),
        reference="  WIRE-2024-05-01-REF-000123456789  ",
        memo="remittance from Acme Ltd",
    )
    [result] = connector.write([payment])
    assert result.ok, result.error

    [(query, body, raw)] = sent.batches()
    assert query["minorversion"] == ["75"]
    [request_id] = query["requestid"]
    assert request_id == batch_request_id([payment]) and len(request_id) <= 36
    assert body == {
        "BatchItemRequest": [
            {
                "bId": "b0",
                "operation": "create",
                "Payment": {
                    "CustomerRef": {"value": customer},
                    "TotalAmt": payment.total,
                    "Line": [
                        {
                            "Amount": owed,
                            "LinkedTxn": [{"TxnId": first["Id"], "TxnType": "Invoice"}],
                        },
                        {
                            "Amount": Decimal("1.50"),
                            "LinkedTxn": [{"TxnId": second["Id"], "TxnType": "Invoice"}],
                        },
                    ],
                    "PrivateNote": f"arsync:{KEY} remittance from Acme Ltd",
                    "CurrencyRef": {"value": currency},
                    "TxnDate": "2024-05-01",
                    "PaymentRefNum": "WIRE-2024-05-01-REF-0",  # 21 characters
                },
            }
        ]
    }
    # amounts are JSON numbers, never strings; ids are strings, as in Intuit's samples
    assert f'"TotalAmt":{payment.total}' in raw and '"Amount":1.50' in raw
    assert f'"TxnId":"{first["Id"]}"' in raw
    assert result.record is not None
    assert result.record["UnappliedAmt"] == Decimal("10.00")
    assert result.record["PaymentRefNum"] == "WIRE-2024-05-01-REF-0"


def test_apply_credit_is_a_zero_total_payment_linking_invoice_and_credit_memo(
    sandbox: QuickBooksSandbox, connector: QuickBooksConnector, sent: Sent
) -> None:
    memo = next(m for m in sandbox.records["CreditMemo"].values() if m["RemainingCredit"] > 1)
    customer = memo["CustomerRef"]["value"]
    invoice = next(
        i
        for i in sandbox.records["Invoice"].values()
        if i["CustomerRef"]["value"] == customer and i["Balance"] >= 1
    )
    write = credit_memo_application(
        KEY, customer, invoice["Id"], memo["Id"], Decimal("1.00"), txn_date=date(2024, 5, 2)
    )
    [result] = connector.write([write])
    assert result.ok, result.error
    [(_, body, raw)] = sent.batches()
    assert body["BatchItemRequest"][0]["Payment"] == {
        "CustomerRef": {"value": customer},
        "TotalAmt": Decimal("0.00"),
        "Line": [
            {
                "Amount": Decimal("1.00"),
                "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}],
            },
            {
                "Amount": Decimal("1.00"),
                "LinkedTxn": [{"TxnId": memo["Id"], "TxnType": "CreditMemo"}],
            },
        ],
        "PrivateNote": f"arsync:{KEY}",
        "TxnDate": "2024-05-02",
    }
    assert '"TotalAmt":0.00' in raw


def test_write_off_credit_memo_is_sent_as_documented_and_long_text_is_cut_not_refused(
    sandbox: QuickBooksSandbox, connector: QuickBooksConnector, sent: Sent
) -> None:
    invoice = customer_with_open(sandbox, 1)[0]
    customer = invoice["CustomerRef"]["value"]
    reason = "Deduction " + "x" * 5000
    memo = CreditMemoCreate(KEY, customer, Decimal("3.50"), "21", "USD", date(2024, 5, 3), reason)
    [result] = connector.write([memo])
    assert result.ok, result.error
    [(_, body, _raw)] = sent.batches()
    item = body["BatchItemRequest"][0]
    assert item["operation"] == "create" and item["bId"] == "b0"
    sent_memo = item["CreditMemo"]
    assert sent_memo["CustomerRef"] == {"value": customer}
    assert sent_memo["CurrencyRef"] == {"value": "USD"}
    assert sent_memo["TxnDate"] == "2024-05-03"
    [line] = sent_memo["Line"]
    assert line["Amount"] == Decimal("3.50") and line["DetailType"] == "SalesItemLineDetail"
    assert line["SalesItemLineDetail"] == {
        "ItemRef": {"value": "21"},
        "Qty": 1,
        "UnitPrice": Decimal("3.50"),
    }
    assert len(line["Description"]) == 4000 and line["Description"].startswith("Deduction x")
    assert len(sent_memo["PrivateNote"]) == 4000
    assert sent_memo["PrivateNote"].startswith(f"arsync:{KEY} Deduction x")
    # the key survives the cut: read-before-retry still finds the credit memo
    since = sandbox.now().replace(microsecond=0)
    assert connector.landed([KEY], since) == {KEY: result.remote_id}


def test_a_long_private_note_on_a_payment_keeps_the_key_and_lands(
    sandbox: QuickBooksSandbox, connector: QuickBooksConnector
) -> None:
    invoice = customer_with_open(sandbox, 1)[0]
    payment = PaymentCreate(
        KEY,
        invoice["CustomerRef"]["value"],
        Decimal("1.00"),
        (PaymentLine("Invoice", invoice["Id"], Decimal("1.00")),),
        memo="remittance from " + "Y" * 4100,
    )
    [result] = connector.write([payment])
    assert result.ok, result.error
    assert result.record is not None and len(result.record["PrivateNote"]) == 4000


# what the sandbox refuses, as QBO does ----------------------------------------------------------
def raw_batch(box: QuickBooksSandbox, connector: QuickBooksConnector, body: Any, **params: str):
    token = connector.client.auth.access_token
    return requests.post(
        f"{box.base_url}/v3/company/{box.realm_id}/batch",
        params={"minorversion": "75", **params},
        data=dumps(body),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        timeout=5,
    )


def test_sandbox_refuses_text_longer_than_documented(
    sandbox: QuickBooksSandbox, connector: QuickBooksConnector
) -> None:
    connector.check()
    invoice = customer_with_open(sandbox, 1)[0]
    body = PaymentCreate(
        "k", invoice["CustomerRef"]["value"], Decimal("1.00"), (), reference="R"
    ).body()
    body["PaymentRefNum"] = "R" * 22
    reply = raw_batch(
        sandbox,
        connector,
        {"BatchItemRequest": [{"bId": "b0", "operation": "create", "Payment": body}]},
    )
    [answer] = reply.json()["BatchItemResponse"]
    assert answer["Fault"]["Error"][0]["code"] == "2050"
    assert answer["Fault"]["Error"][0]["element"] == "PaymentRefNum"


def test_sandbox_refuses_requestid_and_bid_beyond_intuits_limits(
    sandbox: QuickBooksSandbox, connector: QuickBooksConnector
) -> None:
    connector.check()
    item = {"operation": "delete", "Payment": {"Id": "0", "SyncToken": "0"}}
    too_long_id = raw_batch(
        sandbox, connector, {"BatchItemRequest": [{"bId": "b0", **item}]}, requestid="r" * 37
    )
    assert too_long_id.status_code == 400
    assert too_long_id.json()["Fault"]["Error"][0]["element"] == "requestid"
    long_bid = raw_batch(
        sandbox, connector, {"BatchItemRequest": [{"bId": "b" * 11, **item}]}, requestid="r1"
    )
    assert long_bid.status_code == 400
    assert long_bid.json()["Fault"]["Error"][0]["element"] == "bId"
    # without a requestid a longer bId is fine
    ok = raw_batch(sandbox, connector, {"BatchItemRequest": [{"bId": "b" * 11, **item}]})
    assert ok.status_code == 200 and ok.json()["BatchItemResponse"][0]["bId"] == "b" * 11


def test_sandbox_refuses_lines_beyond_the_total_and_links_to_unknown_invoices(
    sandbox: QuickBooksSandbox, connector: QuickBooksConnector
) -> None:
    invoice = customer_with_open(sandbox, 1)[0]
    customer = invoice["CustomerRef"]["value"]
    balance = Decimal(invoice["Balance"])
    over_total = PaymentCreate(
        "over-total", customer, Decimal("0.50"), (PaymentLine("Invoice", invoice["Id"], balance),)
    )
    unknown = PaymentCreate(
        "unknown", customer, Decimal("1.00"), (PaymentLine("Invoice", "987654", Decimal("1.00")),)
    )
    missing_total = SparseUpdate("bad", "Payment", "0", "0")  # Payment 0 does not exist
    results = connector.write([over_total, unknown, missing_total])
    assert isinstance(results[0].error, DataError) and "TotalAmt" in str(results[0].error)
    assert isinstance(results[1].error, NotFoundError) and results[1].error.code == "610"
    assert isinstance(results[2].error, NotFoundError)
    assert invoice["Balance"] == balance


# how answers are read -----------------------------------------------------------------------------
DOCUMENTED_BATCH_REPLY: dict[str, Any] = {
    "BatchItemResponse": [
        {
            "Fault": {
                "type": "ValidationFault",
                "Error": [
                    {
                        "Message": "Duplicate Document Number Error",
                        "code": "6140",
                        "Detail": "Duplicate Document Number Error : You must specify a different "
                        "number. This number has already been used. DocNumber=1234 is assigned "
                        "to TxnType=Credit Memo with TxnId=111",
                        "element": "",
                    }
                ],
            },
            "bId": "b0",
        },
        {
            "Fault": {
                "type": "ValidationFault",
                "Error": [
                    {
                        "Message": "Object Not Found",
                        "code": "610",
                        "Detail": "Object Not Found : Something you're trying to use has been "
                        "made inactive.",
                        "element": "",
                    }
                ],
            },
            "bId": "b1",
        },
        {
            "Fault": {
                "type": "ValidationFault",
                "Error": [
                    {
                        "Message": "Stale Object Error",
                        "code": "5010",
                        "Detail": "Stale Object Error : You and root were working on this at the "
                        "same time. root finished before you did, so your work was not saved.",
                        "element": "",
                    }
                ],
            },
            "bId": "b2",
        },
        {"bId": "b3", "Payment": {"Id": "901", "SyncToken": "0", "TotalAmt": 5}},
    ],
    "time": "2016-04-15T09:01:18.141-07:00",
}


def test_documented_batch_faults_are_classified_per_item(connector: QuickBooksConnector) -> None:
    writes: list[Write] = [
        CreditMemoCreate("dup", "1", Decimal("1.00"), "21"),
        PaymentCreate("gone", "1", Decimal("1.00"), (PaymentLine("Invoice", "9", Decimal(1)),)),
        SparseUpdate("stale", "Invoice", "129", "0", {"PrivateNote": "x"}),
        PaymentCreate("fine", "1", Decimal("5.00"), ()),
    ]
    connector.client.post = lambda *a, **k: json.loads(  # type: ignore[method-assign]
        json.dumps(DOCUMENTED_BATCH_REPLY), parse_float=Decimal
    )
    dup, gone, stale, fine = connector.write(writes)
    assert isinstance(dup.error, DataError) and dup.error.code == "6140"
    assert "Duplicate Document Number" in str(dup.error)
    assert isinstance(gone.error, NotFoundError) and gone.error.code == "610"
    assert isinstance(stale.error, ConflictError) and stale.error.code == "5010"
    assert fine.ok and fine.remote_id == "901" and fine.remote_version == "0"
    fault = DOCUMENTED_BATCH_REPLY["BatchItemResponse"][2]["Fault"]
    assert item_error(writes[2], fault).kind == "conflict"


def test_a_retry_after_a_stale_sync_token_is_a_new_request_with_the_same_key(
    sandbox: QuickBooksSandbox, connector: QuickBooksConnector
) -> None:
    invoice_id = sandbox.remote_ids("invoices")[0]
    token = sandbox.records["Invoice"][invoice_id]["SyncToken"]
    sandbox.touch("invoices", invoice_id)
    stale = SparseUpdate("note-1", "Invoice", invoice_id, token, {"PrivateNote": "reconciled"})
    [refused] = connector.write([stale])
    assert isinstance(refused.error, ConflictError)
    fresh_token = str(connector.read("Invoice", invoice_id)["SyncToken"])
    fresh = SparseUpdate(
        "note-1", "Invoice", invoice_id, fresh_token, {"PrivateNote": "reconciled"}
    )
    assert batch_request_id([fresh]) != batch_request_id([stale])
    [done] = connector.write([fresh])  # not answered with the cached stale-token fault
    assert done.ok and done.record is not None and done.record["PrivateNote"] == "reconciled"
    # the very same request again is answered from the first reply, nothing written twice
    writes = sandbox.writes
    [again] = connector.write([fresh])
    assert again.remote_version == done.remote_version and sandbox.writes == writes


def test_a_batch_without_an_answer_is_uncertain_per_item_not_raised(
    sandbox: QuickBooksSandbox, sent: Sent
) -> None:
    connector, _ = sandbox_connector(sandbox, Sleeps())
    connector.session.hooks["response"].append(sent)
    connector.check()
    first, second = customer_with_open(sandbox, 2)
    payments = [
        PaymentCreate(
            f"u-{n}",
            i["CustomerRef"]["value"],
            Decimal("1.00"),
            (PaymentLine("Invoice", i["Id"], Decimal("1.00")),),
        )
        for n, i in enumerate((first, second))
    ]
    sandbox.faults.fail_next = 100  # every attempt answers 503
    results = connector.write(payments)
    sandbox.faults.fail_next = 0
    assert all(isinstance(r.error, UncertainWriteError) for r in results)
    # every attempt carried the same requestid: a resend of this group is answered once
    ids = {q["requestid"][0] for q, _, _ in sent.batches()}
    assert ids == {batch_request_id(payments)}
    assert len(sent.batches()) == connector.session.policy.max_attempts


def test_a_throttled_batch_is_rate_limited_per_item_with_the_documented_wait(
    sandbox: QuickBooksSandbox,
) -> None:
    sleeps = Sleeps()
    connector, _ = sandbox_connector(sandbox, sleeps)
    connector.check()
    invoice = customer_with_open(sandbox, 1)[0]
    payment = PaymentCreate(
        "t-1",
        invoice["CustomerRef"]["value"],
        Decimal("1.00"),
        (PaymentLine("Invoice", invoice["Id"], Decimal("1.00")),),
    )
    sandbox.faults.rate_limit_every = 1  # every request is throttled (Fault 3001, no Retry-After)
    [result] = connector.write([payment])
    sandbox.faults.rate_limit_every = 0
    assert isinstance(result.error, RateLimitError) and result.error.code == "3001"
    assert len(sleeps) == connector.session.policy.max_attempts - 1
    assert payment.key not in str(sandbox.records["Payment"])  # nothing was written
