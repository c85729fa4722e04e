"""Payments, credit memo applications and sparse updates through the sandbox's /batch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests

from canonical.records import PaymentIn
from connectors.errors import ConflictError, DataError, NotFoundError
from connectors.quickbooks import QuickBooksConnector, QuickBooksSandbox
from connectors.quickbooks.writes import (
    PaymentCreate,
    PaymentDelete,
    PaymentLine,
    PaymentVoid,
    QuickBooksWriter,
    SparseUpdate,
    batch_request_id,
    credit_memo_application,
)
from mappings.base import MappingContext
from mappings.quickbooks import payment as payment_mapping
from tests.connectors.quickbooks.qbo_helpers import sandbox_connector


def open_invoices(box: QuickBooksSandbox, count: int) -> list[dict[str, Any]]:
    """Open invoices of one customer (the one with the most)."""
    by_customer: dict[str, list[dict[str, Any]]] = {}
    for invoice in box.records["Invoice"].values():
        if invoice["Balance"] > 0:
            by_customer.setdefault(invoice["CustomerRef"]["value"], []).append(invoice)
    best = max(by_customer.values(), key=len)
    assert len(best) >= count
    return best[:count]


def cash_payment(
    key: str, invoices: list[dict[str, Any]], extra: Decimal = Decimal(0)
) -> PaymentCreate:
    lines = tuple(PaymentLine("Invoice", i["Id"], Decimal(i["Balance"])) for i in invoices)
    return PaymentCreate(
        key=key,
        customer_id=invoices[0]["CustomerRef"]["value"],
        total=sum((line.amount for line in lines), Decimal(0)) + extra,
        lines=lines,
        reference="CHK-1001",
    )


@pytest.fixture
def connector(sandbox: QuickBooksSandbox) -> QuickBooksConnector:
    made, _ = sandbox_connector(sandbox)
    return made


def test_payment_to_two_invoices_lands_and_reads_back(
    sandbox: QuickBooksSandbox, connector: QuickBooksConnector
) -> None:
    since = datetime.now(UTC)
    first, second = open_invoices(sandbox, 2)
    result = connector.apply_payment(cash_payment("pay-1", [first, second], Decimal("5.00")))
    assert result.ok and result.remote_id and result.remote_version == "0"
    assert first["Balance"] == 0 and second["Balance"] == 0
    assert {"TxnId": result.remote_id, "TxnType": "Payment"} in first["LinkedTxn"]

    until = datetime.now(UTC) + timedelta(seconds=1)
    pulled = [r for p in connector.streams()["payments"].pages(since, until) for r in p.records]
    assert [r.remote_id for r in pulled] == [result.remote_id]
    mapped = payment_mapping.to_canonical(pulled[0], MappingContext(system="quickbooks"))
    assert isinstance(mapped, PaymentIn)
    assert {(a.target, a.target_remote_id) for a in mapped.applied} == {
        ("invoice", first["Id"]),
        ("invoice", second["Id"]),
    }
    assert mapped.unapplied is not None and mapped.unapplied.amount == Decimal("5.00")
    invoices = {
        r.remote_id for p in connector.streams()["invoices"].pages(since, until) for r in p.records
    }
    assert invoices == {first["Id"], second["Id"]}


def test_credit_memo_is_applied_with_a_zero_total_payment(
    sandbox: QuickBooksSandbox, connector: QuickBooksConnector
) -> None:
    memo = next(m for m in sandbox.records["CreditMemo"].values() if m["RemainingCredit"] > 0)
    customer_id = memo["CustomerRef"]["value"]
    invoice = next(
        i
        for i in sandbox.records["Invoice"].values()
        if i["CustomerRef"]["value"] == customer_id and i["Balance"] >= memo["RemainingCredit"]
    )
    amount = Decimal(memo["RemainingCredit"])
    before = Decimal(invoice["Balance"])
    result = connector.apply_payment(
        credit_memo_application("cm-1", customer_id, invoice["Id"], memo["Id"], amount)
    )
    assert result.ok, result.error
    assert result.record is not None and Decimal(result.record["TotalAmt"]) == 0
    assert memo["RemainingCredit"] == 0
    assert invoice["Balance"] == before - amount


def test_same_batch_replayed_is_answered_once_without_a_second_write(
    sandbox: QuickBooksSandbox, connector: QuickBooksConnector
) -> None:
    payment = cash_payment("pay-replay", open_invoices(sandbox, 1))
    first = connector.write([payment])
    payments = len(sandbox.records["Payment"])
    writes = sandbox.writes
    again = connector.write([payment])
    assert again[0].remote_id == first[0].remote_id
    assert len(sandbox.records["Payment"]) == payments
    assert sandbox.writes == writes


def test_lost_reply_is_retried_with_the_same_requestid(
    sandbox: QuickBooksSandbox, connector: QuickBooksConnector
) -> None:
    invoice = open_invoices(sandbox, 1)[0]
    payments = len(sandbox.records["Payment"])
    sandbox.faults.drop_reply_next = 1
    result = connector.apply_payment(cash_payment("pay-dropped", [invoice]))
    assert result.ok
    assert len(sandbox.records["Payment"]) == payments + 1
    assert connector.session.stats.retries == 1
    assert invoice["Balance"] == 0


def test_rate_limits_and_5xx_during_writes_do_not_duplicate(
    sandbox: QuickBooksSandbox, connector: QuickBooksConnector
) -> None:
    connector.check()
    sandbox.faults.fail_next = 2
    sandbox.faults.rate_limit_every = 2
    invoices = open_invoices(sandbox, 3)
    payments = len(sandbox.records["Payment"])
    results = connector.write([cash_payment(f"pay-f{i}", [inv]) for i, inv in enumerate(invoices)])
    assert all(r.ok for r in results)
    assert len(sandbox.records["Payment"]) == payments + 3


def test_more_than_thirty_items_go_in_several_batches(
    sandbox: QuickBooksSandbox, connector: QuickBooksConnector
) -> None:
    invoices = [i for i in sandbox.records["Invoice"].values() if i["Balance"] > 1][:45]
    writes = [
        PaymentCreate(
            key=f"bulk-{n}",
            customer_id=inv["CustomerRef"]["value"],
            total=Decimal("1.00"),
            lines=(PaymentLine("Invoice", inv["Id"], Decimal("1.00")),),
        )
        for n, inv in enumerate(invoices)
    ]
    results = connector.write(writes)
    assert len(results) == 45 and all(r.ok for r in results)
    batch_path = f"POST /v3/company/{sandbox.realm_id}/batch"
    assert connector.session.stats.by_endpoint[batch_path] == 2


def test_sandbox_refuses_a_batch_of_thirty_one(
    sandbox: QuickBooksSandbox, connector: QuickBooksConnector
) -> None:
    token = connector.client.auth.access_token
    items = [
        {"bId": str(n), "operation": "delete", "Payment": {"Id": "0", "SyncToken": "0"}}
        for n in range(31)
    ]
    reply = requests.post(
        f"{sandbox.base_url}/v3/company/{sandbox.realm_id}/batch",
        params={"minorversion": "75"},
        json={"BatchItemRequest": items},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert reply.status_code == 400
    assert "30" in reply.json()["Fault"]["Error"][0]["Detail"]


def test_item_faults_are_per_item_and_classified(
    sandbox: QuickBooksSandbox, connector: QuickBooksConnector
) -> None:
    good, over = open_invoices(sandbox, 2)
    too_much = PaymentCreate(
        key="pay-over",
        customer_id=over["CustomerRef"]["value"],
        total=Decimal(over["Balance"]) + 10,
        lines=(PaymentLine("Invoice", over["Id"], Decimal(over["Balance"]) + 10),),
    )
    missing = PaymentCreate(
        key="pay-missing",
        customer_id=good["CustomerRef"]["value"],
        total=Decimal("1.00"),
        lines=(PaymentLine("Invoice", "999999", Decimal("1.00")),),
    )
    results = connector.write([cash_payment("pay-good", [good]), too_much, missing])
    assert results[0].ok
    assert isinstance(results[1].error, DataError) and "pay-over" in str(results[1].error)
    assert isinstance(results[2].error, NotFoundError)
    assert over["Balance"] > 0


def test_sparse_update_with_stale_sync_token_is_a_conflict_then_succeeds_after_reread(
    sandbox: QuickBooksSandbox, connector: QuickBooksConnector
) -> None:
    invoice_id = sandbox.remote_ids("invoices")[0]
    token = sandbox.records["Invoice"][invoice_id]["SyncToken"]
    sandbox.touch("invoices", invoice_id)
    stale = SparseUpdate("memo-1", "Invoice", invoice_id, token, {"PrivateNote": "reconciled"})
    [result] = connector.write([stale])
    assert isinstance(result.error, ConflictError)
    current = connector.read("Invoice", invoice_id)
    fresh = SparseUpdate(
        "memo-2", "Invoice", invoice_id, str(current["SyncToken"]), {"PrivateNote": "reconciled"}
    )
    [result] = connector.write([fresh])
    assert result.ok and result.record is not None
    assert result.record["PrivateNote"] == "reconciled"
    assert result.remote_version == str(int(current["SyncToken"]) + 1)


def test_deleting_a_payment_gives_the_balance_back(
    sandbox: QuickBooksSandbox, connector: QuickBooksConnector
) -> None:
    invoice = open_invoices(sandbox, 1)[0]
    balance = Decimal(invoice["Balance"])
    [made] = connector.write([cash_payment("pay-del", [invoice])])
    assert made.remote_id and made.remote_version is not None
    [gone] = connector.write([PaymentDelete("pay-del-undo", made.remote_id, made.remote_version)])
    assert gone.ok
    assert invoice["Balance"] == balance
    assert made.remote_id not in sandbox.remote_ids("payments")


def test_landed_finds_payments_by_their_keys(
    sandbox: QuickBooksSandbox, connector: QuickBooksConnector
) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    first, second = open_invoices(sandbox, 2)
    results = connector.write([cash_payment("k-1", [first]), cash_payment("k-2", [second])])
    found = connector.landed(["k-1", "k-2", "k-3"], since)
    assert found == {"k-1": results[0].remote_id, "k-2": results[1].remote_id}


def test_landed_finds_a_payment_voided_since_by_its_key(
    sandbox: QuickBooksSandbox, connector: QuickBooksConnector
) -> None:
    """A payment whose reply was lost and that a person voided before the next push reads
    "Voided - arsync:KEY": it landed, and is never written again over the void."""
    since = datetime.now(UTC) - timedelta(seconds=1)
    [invoice] = open_invoices(sandbox, 1)
    [made] = connector.write([cash_payment("k-void", [invoice])])
    assert made.remote_id and made.remote_version is not None
    voided = connector.writer.void(PaymentVoid("k-void-undo", made.remote_id, made.remote_version))
    assert voided.ok
    assert sandbox.records["Payment"][made.remote_id]["PrivateNote"].startswith("Voided")
    assert connector.landed(["k-void"], since) == {"k-void": made.remote_id}


def test_request_id_depends_on_the_items_and_their_order() -> None:
    a = PaymentCreate("a", "1", Decimal(1), ())
    b = PaymentCreate("b", "1", Decimal(1), ())
    assert batch_request_id([a, b]) == batch_request_id([a, b])
    assert batch_request_id([a, b]) != batch_request_id([b, a])
    with pytest.raises(ValueError, match="idempotency key"):
        QuickBooksWriter(None).write([a, a])  # type: ignore[arg-type]


def test_write_off_creates_a_credit_memo_and_applies_it_once(sandbox: QuickBooksSandbox) -> None:
    connector, _ = sandbox_connector(sandbox, write_off_item_id="21")
    invoice = open_invoices(sandbox, 1)[0]
    before = Decimal(invoice["Balance"])
    memos = len(sandbox.records["CreditMemo"])
    args = ("wo-1", invoice["CustomerRef"]["value"], invoice["Id"], Decimal("3.50"))
    result = connector.write_off(*args, reason="short-pay: bank fee")
    assert result.ok, result.error
    assert invoice["Balance"] == before - Decimal("3.50")
    assert len(sandbox.records["CreditMemo"]) == memos + 1
    memo = max(sandbox.records["CreditMemo"].values(), key=lambda m: int(m["Id"]))
    assert memo["RemainingCredit"] == 0 and memo["Line"][0]["SalesItemLineDetail"]["ItemRef"] == {
        "value": "21"
    }
    again = connector.write_off(*args, reason="short-pay: bank fee")
    assert again.remote_id == result.remote_id
    assert invoice["Balance"] == before - Decimal("3.50")
    assert len(sandbox.records["CreditMemo"]) == memos + 1


def test_write_off_without_a_configured_item_names_the_setting(
    connector: QuickBooksConnector,
) -> None:
    connector.config = connector.config.model_copy(update={"write_off_item_id": None})
    with pytest.raises(ValueError, match=r"quickbooks\.write_off_item_id"):
        connector.write_off("wo-2", "1", "2", Decimal("1.00"))


def test_single_payment_endpoint_honours_requestid(
    sandbox: QuickBooksSandbox, connector: QuickBooksConnector
) -> None:
    invoice = open_invoices(sandbox, 1)[0]
    body = cash_payment("single", [invoice]).body()
    first = connector.client.post("payment", body, request_id="req-single-1")
    again = connector.client.post("payment", body, request_id="req-single-1")
    assert first["Payment"]["Id"] == again["Payment"]["Id"]
    assert invoice["Balance"] == 0
    with pytest.raises(DataError):
        connector.client.post("payment", body, request_id="req-single-2")  # nothing left open
