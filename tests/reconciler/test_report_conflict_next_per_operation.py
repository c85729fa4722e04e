"""A write in conflict says what cancelling it leaves, per operation: a void's cancel leaves
the payment standing in that one system (arsync and the others reversed it), an apply's
leaves the cash applied in arsync and the others but not there."""

from __future__ import annotations

from canonical.enums import CommandStatus
from canonical.models import OutboxCommand
from canonical.store import Store
from reconciler.report import build_report


def _conflict(store: Store, operation: str, system: str = "quickbooks") -> str:
    with store.session() as s:
        command = OutboxCommand(
            system=system,
            operation=operation,
            canonical_type="remittance",
            canonical_id=f"r-{operation}",
            idempotency_key=f"k-{operation}",
            status=CommandStatus.CONFLICT,
            decision_id="0d" * 16,
            last_error=f"{system}: payment 812 changed there since it was last read",
        )
        s.add(command)
        return command.id


def _next(store: Store) -> dict[str, str]:
    return {w["operation"]: w["next"] for w in build_report(store)["outbox"]["needs_attention"]}


def test_a_void_in_conflict_says_cancelling_leaves_the_payment_standing_there(
    sqlite_store: Store,
) -> None:
    cid = _conflict(sqlite_store, "void_cash")
    text = _next(sqlite_store)["void_cash"]
    assert f"`arsync outbox cancel {cid}`" in text
    assert "cash stays applied" not in text
    assert "payment stays in quickbooks" in text and "void it in quickbooks by hand" in text


def test_an_apply_in_conflict_says_the_cash_stays_applied_elsewhere_not_there(
    sqlite_store: Store,
) -> None:
    _conflict(sqlite_store, "apply_cash")
    _conflict(sqlite_store, "write_off")
    _conflict(sqlite_store, "invoice_state", system="salesforce")
    nexts = _next(sqlite_store)
    assert (
        "the cash stays applied in arsync and the other systems, not in quickbooks"
        in (nexts["apply_cash"])
    )
    assert "write-off" in nexts["write_off"] and "not in quickbooks" in nexts["write_off"]
    assert "salesforce shows" in nexts["invoice_state"]
    assert "cash stays applied" not in nexts["invoice_state"]
