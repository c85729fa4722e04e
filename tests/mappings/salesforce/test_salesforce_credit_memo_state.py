"""A credit memo's state in Salesforce after arsync applies it or gives its credit back
(``credit_memo_state``), through the outbox into a sandbox org of each preset.

Only the fields a preset lets arsync write are written: the custom objects' ``Balance__c`` and
``Status__c``; nothing in Revenue Cloud (``CreditMemo.Balance`` has no Update in the object
reference and ``Status`` has no applied value) nor in Salesforce Billing (``blng__Balance__c``
is calculated, ``blng__Status__c`` drives the package), unless a writable balance field is
configured (``credit_memo.push_balance``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlmodel import col

from canonical.enums import CommandStatus
from canonical.keys import document_key, name_key
from canonical.models import CreditMemo, Customer, ExternalRef, Invoice, OutboxCommand
from canonical.store import Store
from canonical.types import utcnow
from connectors.base import MemoryTokenStore
from connectors.http import RetryPolicy
from connectors.salesforce import SalesforceConnector, SalesforceSandbox
from connectors.salesforce.writes import WriteResult
from connectors.sandbox.world import World
from mappings.salesforce.push import SalesforcePush
from mappings.salesforce.schema import SalesforceSchema
from reconciler.apply import FlushedBatch
from reconciler.cascade import AUTO
from reconciler.reverse import REVERSED
from reconciler.reverse import RULE as REVERSE_RULE
from sync.outbox.plan import OutboxPlanner
from sync.outbox.worker import push
from sync.settings import PushSettings

pytestmark = pytest.mark.slow

NOW = PushSettings(backoff_seconds=0)
WORLD = World.generate(seed=5, customers=6, invoices=30)


@pytest.fixture
def org(request: pytest.FixtureRequest) -> Iterator[SalesforceSandbox]:
    schema: SalesforceSchema = request.param
    server = SalesforceSandbox(world=WORLD, schema=schema)
    server.start()
    yield server
    server.stop()


def schema(preset: str, **credit_memo: Any) -> SalesforceSchema:
    return SalesforceSchema.model_validate({"preset": preset, "credit_memo": credit_memo})


CUSTOM = schema("custom_objects")
REVENUE = schema("revenue_cloud")
BILLING = schema("salesforce_billing")
BILLING_FIELD = schema("salesforce_billing", push_balance="AR_Balance__c")


class Org:
    """The store's book of one sandbox credit memo, and pushes to the sandbox."""

    def __init__(self, store: Store, server: SalesforceSandbox) -> None:
        self.store = store
        self.server = server
        self.connector = SalesforceConnector(
            server.config(),
            MemoryTokenStore(server.initial_tokens()),
            policy=RetryPolicy(sleep=lambda _: None),
        )
        self.sent: list[tuple[str, list[dict[str, Any]]]] = []
        writer = self.connector.writer
        update = writer.update

        def spy(sobject: str, records: Sequence[Mapping[str, Any]], **kw: Any) -> list[WriteResult]:
            self.sent.append((sobject, [dict(r) for r in records]))
            return update(sobject, records, **kw)

        writer.update = spy  # type: ignore[method-assign]
        spec = server.schema.credit_memo
        self.memo_remote = server.remote_ids("credit_memos")[0]
        account = str(server.row(spec.sobject, self.memo_remote)[spec.account])
        invoice_spec = server.schema.invoice
        invoice_remote = next(
            i
            for i in server.remote_ids("invoices")
            if server.row(invoice_spec.sobject, i)[invoice_spec.account] == account
        )
        with store.session() as s:
            customer = Customer(name="Acme", name_key=name_key("Acme"), currency="USD")
            s.add(customer)
            s.flush()
            invoice = Invoice(
                customer_id=customer.id,
                number="INV-1",
                number_key=document_key("INV-1"),
                currency="USD",
                total_minor=50000,
                balance_minor=50000,
                issue_date=date(2026, 10, 1),
            )
            memo = CreditMemo(
                customer_id=customer.id,
                number="CM-1",
                number_key=document_key("CM-1"),
                currency="USD",
                total_minor=10000,
                balance_minor=10000,
                issue_date=date(2026, 10, 5),
            )
            s.add_all([invoice, memo])
            s.flush()
            self.customer, self.invoice, self.memo = customer.id, invoice.id, memo.id
            values = {"number": "CM-1", "balance_minor": "10000", "status": "open"}
            for ctype, cid, remote, view in (
                ("customer", customer.id, account, {}),
                ("invoice", invoice.id, invoice_remote, {"balance_minor": "50000"}),
                ("credit_memo", memo.id, self.memo_remote, values),
            ):
                s.add(
                    ExternalRef(
                        canonical_type=ctype,
                        canonical_id=cid,
                        system="salesforce",
                        object_type=ctype,
                        remote_id=remote,
                        values=view,
                    )
                )
        self.n = 0

    def row(self) -> dict[str, Any]:
        return self.server.row(self.server.schema.credit_memo.sobject, self.memo_remote)

    def apply(self, amount_minor: int) -> str:
        """The reconciler applies ``amount_minor`` of the memo to the invoice."""
        self.n += 1
        decision = f"d-{self.n}"
        with self.store.session() as s:
            memo = s.get(CreditMemo, self.memo)
            assert memo is not None
            memo.balance_minor -= amount_minor
            s.add(memo)
            OutboxPlanner("default", ["salesforce"])(
                s,
                FlushedBatch(
                    decisions=[
                        {
                            "id": decision,
                            "rule": "credit_memo_oldest",
                            "status": AUTO,
                            "customer_id": self.customer,
                            "currency": "USD",
                            "created_at": utcnow(),
                            "source_kind": "credit_memo",
                            "source_id": self.memo,
                            "amount_minor": amount_minor,
                            "unapplied_minor": 0,
                            "evidence": {},
                        }
                    ],
                    applications=[
                        {
                            "id": f"a-{self.n}",
                            "decision_id": decision,
                            "invoice_id": self.invoice,
                            "amount_minor": amount_minor,
                            "kind": "credit_memo",
                            "source_id": self.memo,
                        }
                    ],
                    adjustments=[],
                ),
            )
        return decision

    def reverse(self, original: str, amount_minor: int) -> None:
        """A person reverses the decision (a payment the memo was netted off came back): the
        memo's credit comes back."""
        self.n += 1
        with self.store.session() as s:
            memo = s.get(CreditMemo, self.memo)
            assert memo is not None
            memo.balance_minor += amount_minor
            s.add(memo)
            OutboxPlanner("default", ["salesforce"])(
                s,
                FlushedBatch(
                    decisions=[
                        {
                            "id": f"d-{self.n}",
                            "rule": REVERSE_RULE,
                            "status": REVERSED,
                            "customer_id": self.customer,
                            "currency": "USD",
                            "created_at": utcnow(),
                            "source_kind": "remittance",
                            "source_id": "r-back",
                            "evidence": {
                                "reverses_decision": original,
                                "event": "person",
                                "applications_reversed": [
                                    {
                                        "invoice_id": self.invoice,
                                        "amount_minor": amount_minor,
                                        "kind": "credit_memo",
                                        "credit_memo_id": self.memo,
                                    }
                                ],
                            },
                        }
                    ],
                    applications=[],
                    adjustments=[],
                ),
            )

    def push(self) -> None:
        summary = push(self.store, {"salesforce": SalesforcePush(self.connector)}, settings=NOW)
        assert summary.ok, summary

    def memo_commands(self) -> list[OutboxCommand]:
        with self.store.session() as s:
            return list(
                s.execute(
                    select(OutboxCommand).where(col(OutboxCommand.operation) == "credit_memo_state")
                ).scalars()
            )

    def memo_writes(self) -> list[dict[str, Any]]:
        sobject = self.server.schema.credit_memo.sobject
        return [r for name, records in self.sent if name == sobject for r in records]


@pytest.mark.parametrize("org", [CUSTOM], indirect=True)
def test_an_applied_credit_memo_is_applied_in_the_custom_object(
    sqlite_store: Store, org: SalesforceSandbox
) -> None:
    book = Org(sqlite_store, org)
    book.apply(10000)
    book.push()
    row = book.row()
    assert row["Balance__c"] == Decimal("0.00") and row["Status__c"] == "Applied"
    (command,) = book.memo_commands()
    assert command.status == CommandStatus.CONFIRMED
    assert book.memo_writes() == [
        {"Id": book.memo_remote, "Balance__c": Decimal("0.00"), "Status__c": "Applied"}
    ]


@pytest.mark.parametrize("org", [CUSTOM], indirect=True)
def test_two_applications_in_one_push_are_one_write_of_the_latest_state(
    sqlite_store: Store, org: SalesforceSandbox
) -> None:
    book = Org(sqlite_store, org)
    book.apply(3000)
    book.apply(2500)
    book.push()
    assert book.memo_writes() == [
        {"Id": book.memo_remote, "Balance__c": Decimal("45.00"), "Status__c": "Open"}
    ]
    assert {c.status for c in book.memo_commands()} == {CommandStatus.CONFIRMED}
    row = book.row()
    assert row["Balance__c"] == Decimal("45.00") and row["Status__c"] == "Open"


@pytest.mark.parametrize("org", [CUSTOM], indirect=True)
def test_a_reversal_gives_the_credit_back_in_salesforce(
    sqlite_store: Store, org: SalesforceSandbox
) -> None:
    book = Org(sqlite_store, org)
    decision = book.apply(10000)
    book.push()
    assert book.row()["Status__c"] == "Applied"
    book.reverse(decision, 10000)
    book.push()
    row = book.row()
    assert row["Balance__c"] == Decimal("100.00") and row["Status__c"] == "Open"


@pytest.mark.parametrize("org", [REVENUE, BILLING], indirect=True)
def test_nothing_is_written_where_the_org_calculates_the_credit_memos_state(
    sqlite_store: Store, org: SalesforceSandbox
) -> None:
    """Writing ``Balance`` / ``blng__Balance__c`` is refused by the org, and setting the status
    would post or change the document: the command is done with no write and no error."""
    book = Org(sqlite_store, org)
    before = book.row()
    book.apply(10000)
    book.push()
    (command,) = book.memo_commands()
    assert command.status == CommandStatus.CONFIRMED and command.last_error is None
    assert book.memo_writes() == []
    assert book.row() == before


@pytest.mark.parametrize("org", [BILLING_FIELD], indirect=True)
def test_a_configured_balance_field_on_the_credit_note_gets_the_balance_only(
    sqlite_store: Store, org: SalesforceSandbox
) -> None:
    book = Org(sqlite_store, org)
    before = book.row()
    book.apply(4000)
    book.push()
    assert book.memo_writes() == [{"Id": book.memo_remote, "AR_Balance__c": Decimal("60.00")}]
    after = book.row()
    assert after["AR_Balance__c"] == Decimal("60.00")
    for untouched in ("blng__Balance__c", "blng__TotalAmount__c", "blng__Status__c"):
        assert after[untouched] == before[untouched]


def test_the_calculated_balance_cannot_be_the_pushed_one() -> None:
    with pytest.raises(ValidationError, match="calculated balance field"):
        schema("salesforce_billing", push_balance="blng__Balance__c")
