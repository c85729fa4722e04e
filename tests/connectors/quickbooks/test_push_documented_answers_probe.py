"""arsync's QuickBooks writes against the answers Intuit documents for them.

Sources (facts only): Intuit's error-code pages and "Top QuickBooks Online API errors" (the
``Fault`` envelope, inside HTTP 400 and HTTP 200; 610 "Another user has deleted this
transaction", 6000 business validation, 6190 company status, 6210 account period closed,
2500 invalid reference, 5010 stale object), Intuit's requestid note (a repeated requestid is
answered with the first reply, whatever it was), and the lowercase envelope QuickBooks
sends with its 401 and 403 refusals (``{"fault": {"error": [{"message", "detail", "code"}],
"type"}}``, as logged in several public integrations).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import requests
from sqlalchemy import update
from sqlmodel import col

from canonical.enums import CommandStatus
from canonical.models import ExternalRef, OutboxCommand
from canonical.store import Store
from connectors.errors import ErrorKind
from connectors.quickbooks import QuickBooksSandbox
from connectors.quickbooks.errors import ERROR_TABLE
from connectors.quickbooks.sandbox_ledger import LedgerFault
from connectors.sandbox.server import Faults
from connectors.sandbox.world import World
from sync.outbox.worker import push
from sync.settings import PushSettings
from tests.sync.outbox.test_invoiced_write_off import command_row
from tests.sync.outbox.test_refused_retry import KEY, qbo_adapter, qbo_keyed, qbo_payment

pytestmark = pytest.mark.timeout(120)
SETTINGS = PushSettings(backoff_seconds=0, max_attempts=3)


def response(status: int, body: Any) -> requests.Response:
    made = requests.Response()
    made.status_code = status
    made.headers["Content-Type"] = "application/json;charset=UTF-8"
    made._content = json.dumps(body).encode()
    return made


def fault(code: str, message: str, detail: str, kind: str = "ValidationFault") -> dict:
    error = {"Message": message, "Detail": detail, "code": code, "element": ""}
    return {"Fault": {"Error": [error], "type": kind}, "time": "2024-05-01T10:00:00.000-07:00"}


# the error table over the documented answers -------------------------------------------------
DOCUMENTED = [
    (
        400,
        fault(
            "5010",
            "Stale Object Error",
            "Stale Object Error : You and Ann were working on this at the same time.",
        ),
        ErrorKind.CONFLICT,
    ),
    (
        400,
        fault(
            "610",
            "Object Not Found",
            "Object Not Found : Another user has deleted this transaction.",
        ),
        ErrorKind.NOT_FOUND,
    ),
    (
        400,
        fault(
            "6000",
            "A business validation error has occurred while processing your request",
            "Business Validation Error: You must set a transaction amount.",
        ),
        ErrorKind.DATA,
    ),
    (
        200,
        fault(
            "6000",
            "A business validation error has occurred while processing your request",
            "Business Validation Error: You must set a transaction amount.",
        ),
        ErrorKind.DATA,
    ),
    (
        400,
        fault(
            "6140",
            "Duplicate Document Number Error",
            "Duplicate Document Number Error : You must specify a different number.",
        ),
        ErrorKind.DATA,
    ),
    (
        400,
        fault(
            "6210",
            "Account Period Closed",
            "The account period has closed and the account books cannot be updated through "
            "the QBO Services API.",
        ),
        ErrorKind.DATA,
    ),
    (
        400,
        fault(
            "2500",
            "Invalid Reference Id",
            "Invalid Reference Id : Something you're trying to use has been made inactive.",
        ),
        ErrorKind.DATA,
    ),
    (
        400,
        fault(
            "2020",
            "Required param missing, need to supply the required value",
            "Required parameter Line.LinkedTxn is missing in the request",
        ),
        ErrorKind.DATA,
    ),
    (
        400,
        fault(
            "6190",
            "Invalid Company Status",
            "Subscription period has ended or been canceled, or there was a billing problem",
        ),
        ErrorKind.AUTH,
    ),
    (
        401,
        fault(
            "3200",
            "message=AuthenticationFailed; errorCode=003200; statusCode=401",
            "Token expired",
            "AUTHENTICATION",
        ),
        ErrorKind.REFRESH,
    ),
    (
        429,
        fault(
            "3001",
            "message=ThrottleExceeded; errorCode=003001; statusCode=429",
            "The request limit was reached.",
            "SERVICE",
        ),
        ErrorKind.RATE_LIMITED,
    ),
    (
        500,
        fault(
            "10000",
            "An application error has occurred while processing your request",
            "System Failure Error: An unexpected error occurred",
            "SystemFault",
        ),
        ErrorKind.RETRY,
    ),
    (
        503,
        fault(
            "10000",
            "An application error has occurred while processing your request",
            "System Failure Error",
            "SystemFault",
        ),
        ErrorKind.RETRY,
    ),
]


@pytest.mark.parametrize(("status", "body", "kind"), DOCUMENTED)
def test_each_documented_answer_is_classified(status: int, body: dict, kind: ErrorKind) -> None:
    failure = ERROR_TABLE.classify(response(status, body))
    assert failure is not None and failure.kind is kind
    assert failure.code == body["Fault"]["Error"][0]["code"] or kind is not ErrorKind.DATA
    assert body["Fault"]["Error"][0]["Detail"] in failure.message


LOWERCASE_403 = {
    "fault": {
        "error": [
            {
                "message": "message=ApplicationAuthorizationFailed; errorCode=003100; "
                "statusCode=403",
                "detail": None,
                "code": "3100",
                "element": None,
            }
        ],
        "type": "SERVICE",
    },
    "time": "2024-05-01T10:00:00.000-07:00",
}


def test_the_lowercase_envelope_of_a_403_is_read_with_its_code_and_the_fix() -> None:
    failure = ERROR_TABLE.classify(response(403, LOWERCASE_403))
    assert failure is not None and failure.kind is ErrorKind.AUTH
    assert failure.code == "3100"
    assert "ApplicationAuthorizationFailed" in failure.message
    assert "reconnect arsync" in failure.message


def test_a_lowercase_authorization_failure_is_not_taken_for_an_expired_token() -> None:
    body = {
        "fault": {
            "error": [
                {
                    "message": "message=AuthorizationFailure; errorCode=000120; statusCode=401",
                    "detail": "AuthorizationFailure: -11014-You do not have access to use "
                    "QuickBooks Online Plus.",
                    "code": "120",
                }
            ],
            "type": "AUTHORIZATION",
        }
    }
    failure = ERROR_TABLE.classify(response(401, body))
    assert failure is not None and failure.kind is ErrorKind.AUTH and failure.code == "120"
    assert "an admin of the company must reconnect arsync" in failure.message


# through the outbox, against the sandbox --------------------------------------------------
@pytest.fixture
def qbo() -> Iterator[QuickBooksSandbox]:
    box = QuickBooksSandbox(world=World.generate(seed=5, customers=8, invoices=40))
    box.start()
    yield box
    box.stop()


def test_an_invoice_deleted_in_quickbooks_is_a_conflict_naming_it_and_quickbooks_detail(
    qbo: QuickBooksSandbox, store: Store
) -> None:
    adapter = qbo_adapter(qbo)
    command_id, invoice = qbo_payment(store, qbo)
    del qbo.records["Invoice"][invoice["Id"]]  # another user deleted it after the decision
    push(store, {"quickbooks": adapter}, settings=SETTINGS)
    row = command_row(store, command_id)
    assert row.status == CommandStatus.CONFLICT, (row.status, row.last_error)
    text = row.last_error or ""
    number = invoice.get("DocNumber") or invoice["Id"]
    assert f"invoice {number} ({invoice['Id']}) is deleted in quickbooks" in text
    assert f"QuickBooks answered: create Payment {KEY}: Object Not Found" in text
    assert qbo_keyed(qbo, KEY) == []


def test_an_invoice_answered_610_once_but_still_there_is_no_deleted_conflict(
    qbo: QuickBooksSandbox, store: Store
) -> None:
    """One 610 on the re-read of an invoice QuickBooks still has (a passing answer) is no
    deletion: the query by Id finds it, and re-reading failed is what the command says."""
    adapter = qbo_adapter(qbo)
    command_id, invoice = qbo_payment(store, qbo)
    create = qbo.ledger.create_payment
    creates: list[Any] = []

    def refuse_once(obj: Any) -> Any:
        creates.append(obj)
        if len(creates) == 1:
            raise LedgerFault("6000", "A business validation error has occurred", "temporary")
        return create(obj)

    qbo.ledger.create_payment = refuse_once  # type: ignore[method-assign]
    read = qbo.handle_read
    reads: list[str] = []

    def read_610_once(request: Any, realm: str, name: str, record_id: str) -> Any:
        if name.lower() == "invoice" and not reads:
            reads.append(record_id)
            return qbo.fault(400, "610", "Object Not Found", "Object Not Found")
        return read(request, realm, name, record_id)

    for endpoint, handler in list(qbo._handlers.items()):
        if handler == read:
            qbo._handlers[endpoint] = read_610_once
    push(store, {"quickbooks": adapter}, settings=SETTINGS)
    row = command_row(store, command_id)
    assert reads == [str(invoice["Id"])]
    assert row.status != CommandStatus.CONFLICT, row.last_error
    assert "is deleted" not in (row.last_error or "")
    assert "re-reading failed" in (row.last_error or "")


def test_an_invoice_paid_in_quickbooks_meanwhile_is_a_conflict_with_quickbooks_detail(
    qbo: QuickBooksSandbox, store: Store
) -> None:
    adapter = qbo_adapter(qbo)
    command_id, invoice = qbo_payment(store, qbo)
    qbo.records["Invoice"][invoice["Id"]]["Balance"] = Decimal("0.00")  # paid by hand
    push(store, {"quickbooks": adapter}, settings=SETTINGS)
    row = command_row(store, command_id)
    assert row.status == CommandStatus.CONFLICT, (row.status, row.last_error)
    text = row.last_error or ""
    assert "owes 0.00 in quickbooks, the decision applies 10.00" in text
    assert "QuickBooks answered:" in text and "A business validation error" in text
    assert f"0.00 open on Invoice {invoice['Id']}" in text  # QuickBooks' own Detail
    assert qbo_keyed(qbo, KEY) == []


def test_a_refusal_not_rechecked_is_never_quoted_in_a_later_conflict(
    qbo: QuickBooksSandbox, store: Store
) -> None:
    """A throttled attempt (no re-check) leaves nothing behind for the next conflict."""
    adapter = qbo_adapter(qbo)
    command_id, invoice = qbo_payment(store, qbo)
    qbo.faults = Faults(rate_limit_every=1, retry_after=0)
    push(store, {"quickbooks": adapter}, settings=SETTINGS)
    qbo.faults = Faults()
    assert command_row(store, command_id).status == CommandStatus.FAILED
    qbo.records["Invoice"][invoice["Id"]]["Balance"] = Decimal("0.00")
    with store.session() as s:
        s.execute(
            update(ExternalRef)
            .where(col(ExternalRef.remote_id) == str(invoice["Id"]))
            .values(values={"number": "x", "balance_minor": "0"})
        )
        s.execute(
            update(OutboxCommand)
            .where(col(OutboxCommand.id) == command_id)
            .values(next_attempt_at=None)
        )
    push(store, {"quickbooks": adapter}, settings=SETTINGS)
    row = command_row(store, command_id)
    assert row.status == CommandStatus.CONFLICT, (row.status, row.last_error)
    assert "QuickBooks answered" not in (row.last_error or "")


def test_a_transient_fault_of_one_batch_item_is_retried_and_lands_once(
    qbo: QuickBooksSandbox, store: Store
) -> None:
    """QuickBooks answers the batch (HTTP 200) with a SystemFault for the item, which was not
    saved, and the batch's requestid now replays that answer: looked for, not found, it is
    sent under a requestid of its own and lands once."""
    adapter = qbo_adapter(qbo)
    command_id, invoice = qbo_payment(store, qbo)
    create = qbo.ledger.create_payment
    calls = []

    def once_failing(obj: Any) -> Any:
        calls.append(obj)
        if len(calls) == 1:
            raise SystemFaultOnce()
        return create(obj)

    qbo.ledger.create_payment = once_failing  # type: ignore[method-assign]
    for _ in range(SETTINGS.max_attempts + 1):
        push(store, {"quickbooks": adapter}, settings=SETTINGS)
    row = command_row(store, command_id)
    assert row.status == CommandStatus.CONFIRMED, (row.status, row.last_error)
    [payment] = qbo_keyed(qbo, KEY)
    assert row.remote_id == payment["Id"]
    after = qbo.records["Invoice"][invoice["Id"]]
    assert Decimal(after["Balance"]) == Decimal(invoice["Balance"]) - Decimal("10.00")


def test_a_batch_item_saved_but_answered_with_a_system_fault_is_found_not_sent_again(
    qbo: QuickBooksSandbox, store: Store
) -> None:
    """A SystemFault says nothing of whether the item was saved: the next push looks for it
    (by the key its note carries) before sending it again, and finds it."""
    adapter = qbo_adapter(qbo)
    command_id, invoice = qbo_payment(store, qbo)
    create = qbo.ledger.create_payment
    calls = []

    def saved_then_fault(obj: Any) -> Any:
        calls.append(obj)
        written = create(obj)
        if len(calls) == 1:
            raise SystemFaultOnce()
        return written

    qbo.ledger.create_payment = saved_then_fault  # type: ignore[method-assign]
    push(store, {"quickbooks": adapter}, settings=SETTINGS)
    assert command_row(store, command_id).status == CommandStatus.SENT
    for _ in range(SETTINGS.max_attempts):
        push(store, {"quickbooks": adapter}, settings=SETTINGS)
    row = command_row(store, command_id)
    assert row.status == CommandStatus.CONFIRMED, (row.status, row.last_error)
    [payment] = qbo_keyed(qbo, KEY)
    assert (len(calls), row.remote_id) == (1, payment["Id"])
    after = qbo.records["Invoice"][invoice["Id"]]
    assert Decimal(after["Balance"]) == Decimal(invoice["Balance"]) - Decimal("10.00")


def test_a_batch_item_answered_with_a_system_fault_every_time_is_parked_after_max_attempts(
    qbo: QuickBooksSandbox, store: Store
) -> None:
    """Looked for and resent under a new requestid each time, a write QuickBooks faults on
    every time is parked (not landed) after the attempts allowed, for a person to retry or
    cancel; never sent on every push forever."""
    adapter = qbo_adapter(qbo)
    command_id, _ = qbo_payment(store, qbo)
    calls: list[Any] = []

    def always_failing(obj: Any) -> Any:
        calls.append(obj)
        raise SystemFaultOnce()

    qbo.ledger.create_payment = always_failing  # type: ignore[method-assign]
    for _ in range(SETTINGS.max_attempts + 4):
        push(store, {"quickbooks": adapter}, settings=SETTINGS)
    row = command_row(store, command_id)
    assert row.status == CommandStatus.DEAD, (row.status, row.last_error)
    assert len(calls) == SETTINGS.max_attempts
    assert f"`arsync outbox cancel {command_id}`" in (row.last_error or "")
    assert qbo_keyed(qbo, KEY) == []


class SystemFaultOnce(LedgerFault):
    """QuickBooks' per-item SystemFault (an application error; saved or not, it does not say)."""

    def __init__(self) -> None:
        super().__init__(
            "10000",
            "An application error has occurred while processing your request",
            "System Failure Error: An unexpected error occurred while accessing or saving "
            "your data. Please wait a few minutes and try again.",
        )

    def body(self) -> dict[str, Any]:
        return {**super().body(), "type": "SystemFault"}
