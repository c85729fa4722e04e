"""The app's access revoked between two requests of one send, against the sandbox: the
writes answered before the auth failure come back with it (a PartialAuthError), the rest were
never sent."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from connectors.errors import AuthError, PartialAuthError
from connectors.quickbooks import QuickBooksConnector, QuickBooksSandbox
from connectors.quickbooks.writes import KEY_TAG, PaymentCreate, PaymentLine, WriteResult
from mappings.quickbooks.push import QuickBooksPush
from sync.outbox.adapter import Step
from tests.connectors.quickbooks.qbo_helpers import sandbox_connector
from tests.connectors.quickbooks.test_qbo_void import void_command
from tests.connectors.quickbooks.test_qbo_writes import cash_payment, open_invoices


def revoke_after_first_post(
    monkeypatch: pytest.MonkeyPatch, connector: QuickBooksConnector, box: QuickBooksSandbox
) -> None:
    """Once the first POST is answered, the app is disconnected: its access token and
    refresh token are refused."""
    original = connector.client.post

    def post(*args: Any, **kwargs: Any) -> Any:
        answer = original(*args, **kwargs)
        box.refresh_tokens.clear()
        box.expire_tokens()
        return answer

    monkeypatch.setattr(connector.client, "post", post)


def one_dollar(key: str, invoice: dict[str, Any]) -> PaymentCreate:
    line = PaymentLine("Invoice", invoice["Id"], Decimal("1.00"))
    return PaymentCreate(key, invoice["CustomerRef"]["value"], Decimal("1.00"), (line,))


def keys_in(box: QuickBooksSandbox) -> list[str]:
    return [
        p["PrivateNote"][len(KEY_TAG) :].split(" ", 1)[0]
        for p in box.records["Payment"].values()
        if str(p.get("PrivateNote") or "").startswith(KEY_TAG)
    ]


def test_the_batches_answered_before_an_auth_failure_come_back_with_it(
    sandbox: QuickBooksSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    connector, _ = sandbox_connector(sandbox)
    [invoice] = open_invoices(sandbox, 1)
    assert invoice["Balance"] >= 31
    writes = [one_dollar(f"p-{n}", invoice) for n in range(31)]  # two /batch requests
    revoke_after_first_post(monkeypatch, connector, sandbox)
    with pytest.raises(PartialAuthError) as stopped:
        connector.write(writes)
    answered: list[WriteResult] = stopped.value.answered
    assert [r.key for r in answered] == [w.key for w in writes[:30]]
    assert all(r.ok and r.remote_id for r in answered)
    assert sorted(keys_in(sandbox)) == sorted(w.key for w in writes[:30])  # the 31st never went
    assert stopped.value.code == "invalid_grant"


def test_a_void_refused_after_the_creates_were_answered_leaves_only_the_void_unsent(
    sandbox: QuickBooksSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    connector, _ = sandbox_connector(sandbox)
    first, second = open_invoices(sandbox, 2)
    [made] = connector.write([cash_payment("pay-old", [first])])
    assert made.remote_id
    adapter = QuickBooksPush(connector)
    command, refs = void_command([first], made.remote_id)
    void = adapter.step(command, refs, None)  # type: ignore[arg-type]
    create = Step(command, "pay-new", cash_payment("pay-new", [second]))
    revoke_after_first_post(monkeypatch, connector, sandbox)
    with pytest.raises(AuthError) as stopped:
        adapter.send([void, create])  # the creates go first, in /batch; then the void
    assert isinstance(stopped.value, PartialAuthError)
    [answer] = stopped.value.answered
    assert answer.step is create and answer.ok
    assert answer.remote_id == sandbox.records["Payment"][answer.remote_id]["Id"]
    assert "pay-new" in keys_in(sandbox)
    assert not str(sandbox.records["Payment"][made.remote_id]["PrivateNote"]).startswith("Voided")
