"""A Stripe webhook growing a stored share of a PaymentIntent to the intent's whole cash while a
reconcile decides that share, on both backends.

``invoice_payment.paid`` stores one invoice's share (100.00); ``payment_intent.succeeded``
then names the intent's 300.00, and the stored payment grows to it while it may be decided
again. A reconcile takes no notice of a webhook: whichever of the two writes second sees the
other. The reconcile's batch is not written for a share that grew meanwhile (the next run
decides the 300.00); the webhook grows a share a reconcile decided meanwhile only when that
decision may be taken back (its own suggestion or exception, superseded), and otherwise
leaves the decided 100.00 with a warning, never a 300.00 payment under a 100.00 decision.
The interleavings are made deterministic by running the other side at the point of the race,
on another connection, in the same thread.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

import reconciler.apply as apply_module
import sync.webhooks as webhooks
from canonical.models import Application, Decision, Remittance
from canonical.store import Store
from reconciler.engine import ReconcileSummary, reconcile
from sync.settings import Settings, load_settings
from tests.support.receivables import Book
from tests.sync.test_webhooks import ADYEN_KEY, QBO_VERIFIER, STRIPE_SECRET, deliver_stripe
from tests.sync.test_webhooks import stripe_event as event
from tests.sync.test_webhooks_invoice_share_then_intent import INTENT, share

# the intent's 300.00 without its Stripe Customer: nothing of the stored share is written
# before its cash grows (a payer's account taken first would hold the share's row, on
# PostgreSQL, until the webhook commits)
WHOLE = event("evt_pi", "payment_intent.succeeded", {**INTENT, "customer": None})


@pytest.fixture
def settings() -> Settings:
    hooks = {
        "stripe_secrets": [STRIPE_SECRET],
        "adyen_hmac_key": ADYEN_KEY,
        "quickbooks_verifier": QBO_VERIFIER,
    }
    return load_settings(None, database_url="sqlite://", webhooks=hooks)


def _share_stored(store: Store, settings: Settings, invoice: str = "in_A") -> None:
    deliver_stripe(
        store, settings, event("evt_a", "invoice_payment.paid", share(1, 10000, invoice))
    )


def _stored(store: Store) -> tuple[Remittance, list[Decision], list[int]]:
    with store.session() as s:
        (remittance,) = s.execute(select(Remittance)).scalars().all()
        decisions = list(
            s.execute(select(Decision).where(col(Decision.superseded).is_(False))).scalars()
        )
        applied = [a.amount_minor for a in s.execute(select(Application)).scalars()]
    return remittance, decisions, applied


def test_a_share_grown_while_a_reconcile_decides_it_is_decided_again_for_its_whole_cash(
    store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    book = Book(store)
    book.invoice(book.customer("Acme Corp"), "in_A", "300.00")
    _share_stored(store, settings)
    real = apply_module.Writes.flush
    ran: list[Any] = []

    def flush(self: apply_module.Writes, session: Any) -> None:
        if self.decisions and not ran:
            ran.append(deliver_stripe(store, settings, WHOLE))
        real(self, session)

    monkeypatch.setattr(apply_module.Writes, "flush", flush)

    first = reconcile(store)

    assert ran and first.auto_applied == 0
    [(paid, now)] = first.changed.items()
    assert now == "decided as new of 10000 (minor units), now new of 30000"
    remittance, decisions, applied = _stored(store)
    assert (remittance.id, remittance.amount_minor, decisions, applied) == (paid, 30000, [], [])
    monkeypatch.undo()

    second = reconcile(store)

    assert second.auto_applied == 1
    remittance, [decided], applied = _stored(store)
    assert (remittance.amount_minor, decided.amount_minor, decided.applied_minor) == (
        30000,
        30000,
        30000,
    )
    assert applied == [30000]


def _reconcile_after_the_share_is_read(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> list[ReconcileSummary]:
    """Run a reconcile, to its commit, once the webhook has read the stored share (as new)
    and is about to grow it."""
    real = webhooks.reconsiderable
    ran: list[ReconcileSummary] = []

    def reconsiderable(*args: Any, **kwargs: Any) -> dict[str, str]:
        found = real(*args, **kwargs)
        if not ran:
            ran.append(reconcile(store))
        return found

    monkeypatch.setattr(webhooks, "reconsiderable", reconsiderable)
    return ran


@pytest.mark.postgres
def test_a_share_a_reconcile_applied_after_the_webhook_read_it_is_not_grown_under_it(
    pg_store: Store,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """On PostgreSQL only: on SQLite the webhook's transaction holds the database's write
    lock from its first write, so no reconcile commits inside it."""
    store = pg_store
    book = Book(store)
    book.invoice(book.customer("Acme Corp"), "in_A", "100.00")  # the share pays it: applied
    _share_stored(store, settings)
    ran = _reconcile_after_the_share_is_read(store, monkeypatch)

    with caplog.at_level(logging.WARNING, logger=webhooks.__name__):
        deliver_stripe(store, settings, WHOLE)

    assert ran and ran[0].auto_applied == 1
    remittance, [decided], applied = _stored(store)
    # the applied 100.00 stands: never a 300.00 payment under a 100.00 decision
    assert (remittance.amount_minor, remittance.status) == (10000, "auto_applied")
    assert (decided.amount_minor, decided.applied_minor, applied) == (10000, 10000, [10000])
    assert any(
        "names 30000 of cash, 10000 were stored and are decided" in r.getMessage()
        for r in caplog.records
    )
    monkeypatch.undo()
    assert reconcile(store).remittances == 0  # nothing left undecided


@pytest.mark.postgres
def test_a_share_a_reconcile_left_to_a_person_after_the_webhook_read_it_grows_and_is_decided_again(
    pg_store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = pg_store
    book = Book(store)
    book.customer("Acme Corp")  # in_Z is no invoice arsync knows: the share is an exception
    _share_stored(store, settings, "in_Z")
    ran = _reconcile_after_the_share_is_read(store, monkeypatch)

    deliver_stripe(store, settings, WHOLE)

    assert ran and ran[0].remittances == 1 and ran[0].auto_applied == 0
    remittance, decisions, _ = _stored(store)
    # the reconciler's own exception is taken back: the payment is decided again, grown
    assert (remittance.amount_minor, remittance.status, decisions) == (30000, "new", [])
    monkeypatch.undo()

    again = reconcile(store)

    assert again.remittances == 1
    _, [decided], _ = _stored(store)
    assert decided.amount_minor == 30000
