"""What a finance-ops walkthrough of the report found: writes to check without their command
or next step, drift naming no document, a bank return counted as negative unapplied cash and
as a payment missed, `reconcile` with nothing to do claiming a 0% match rate, and name scores
listed by customer id."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from canonical.enums import CommandStatus
from canonical.models import DriftFinding, OutboxCommand, Payment, Remittance
from canonical.store import Store
from reconciler import reconcile
from reconciler.report import build_report, render_html, write_report
from reconciler.reverse import reverse
from tests.support.receivables import Book, decision, ref

CONFLICT = (
    "invoiced: invoice INV-01068 (1000068) owes 4025.81 in invoiced, the decision applies "
    "4026.81: paid or changed there since"
)


def _sheet(path: Path, title: str) -> list[dict[str, Any]]:
    sheet = load_workbook(path)[title]
    header = [c.value for c in sheet[1]]
    return [
        dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2, values_only=True)
    ]


def _cash(report: dict[str, Any], currency: str = "USD") -> dict[str, Decimal]:
    return {k: Decimal(v["amount"]) for k, v in report["totals"]["cash"][currency].items()}


# 1. writes to check ------------------------------------------------------------------------


def _stuck(store: Store) -> dict[str, str]:
    """A conflict (Invoiced's invoice owes 1.00 less than the decision applies), a dead and a
    failed write; their ids by status."""
    ids = {}
    with store.session() as s:
        for status, error in (
            (CommandStatus.CONFLICT, CONFLICT),
            (CommandStatus.DEAD, "quickbooks: 6000 business validation error"),
            (CommandStatus.FAILED, "intacct: 503 service unavailable"),
        ):
            command = OutboxCommand(
                system={"conflict": "invoiced", "dead": "quickbooks"}.get(status, "intacct"),
                operation="apply_cash",
                canonical_type="remittance",
                canonical_id=f"r-{status}",
                idempotency_key=f"k-{status}",
                status=status,
                decision_id=f"0{status[0]}" * 16,
                attempts=0 if status == CommandStatus.CONFLICT else 3,
                last_error=error,
            )
            s.add(command)
            ids[str(status)] = command.id
    return ids


def test_a_write_to_check_names_its_command_and_what_to_do(
    sqlite_store: Store, tmp_path: Path
) -> None:
    ids = _stuck(sqlite_store)
    report = build_report(sqlite_store)
    items = {w["status"]: w for w in report["outbox"]["needs_attention"]}
    for status, command_id in ids.items():
        assert items[status]["retry"] == f"arsync outbox retry {command_id}"
        assert items[status]["cancel"] == f"arsync outbox cancel {command_id}"
    conflict = items["conflict"]["next"]
    assert "arsync sync --system invoiced" in conflict and "retry" in conflict
    assert "cancel" in conflict
    assert "next `arsync push`" in items["failed"]["next"]

    html = render_html(report)
    section = html.split("<h2>Writes to the systems</h2>")[1].split("<h2>")[0]
    for status, command_id in ids.items():
        assert f"arsync outbox retry {command_id}" in section
        assert items[status]["decision_id"] in section  # whole, never cut
    assert "arsync sync --system invoiced" in section

    rows = {
        r["Command"]: r
        for r in _sheet(write_report(report, "xlsx", tmp_path / "r.xlsx"), "Writes to check")
    }
    for status, command_id in ids.items():
        assert rows[command_id]["Retry with"] == f"arsync outbox retry {command_id}"
        assert rows[command_id]["Cancel with"] == f"arsync outbox cancel {command_id}"
        assert rows[command_id]["Next step"] == items[status]["next"]


# 2. drift --------------------------------------------------------------------------------


def test_drift_names_each_document_and_its_customer(sqlite_store: Store, tmp_path: Path) -> None:
    book = Book(sqlite_store)
    tyrell = book.customer("Tyrell Manufacturing LLC")
    wonka = book.customer("Wonka Industries")
    first = book.invoice(tyrell, "1068", "4026.81")
    second = book.invoice(wonka, "1069", "10.00")
    memo = book.credit(wonka, "CM-7", "21.49")
    with sqlite_store.session() as s:
        payment = Payment(customer_id=tyrell, currency="USD", amount_minor=500, reference="CHK-88")
        s.add(payment)
        for ctype, cid in (
            ("invoice", first),
            ("invoice", second),
            ("credit_memo", memo),
            ("customer", tyrell),
            ("payment", payment.id),
        ):
            s.add(
                DriftFinding(
                    canonical_type=ctype,
                    canonical_id=cid,
                    field="balance",
                    values={"quickbooks": "0.00 USD", "salesforce": "21.49 USD"},
                    system_of_record="quickbooks",
                )
            )
    report = build_report(sqlite_store)
    named = {d["id"]: (d["number"], d["customer"]) for d in report["drift"]}
    assert named == {
        first: ("1068", "Tyrell Manufacturing LLC"),
        second: ("1069", "Wonka Industries"),
        memo: ("CM-7", "Wonka Industries"),
        tyrell: ("Tyrell Manufacturing LLC", "Tyrell Manufacturing LLC"),
        payment.id: ("CHK-88", "Tyrell Manufacturing LLC"),
    }
    section = render_html(report).split("<h2>Drift between systems")[1].split("<h2>")[0]
    for cid, (number, customer) in named.items():
        assert cid in section and number in section and customer in section  # ids whole
    rows = _sheet(write_report(report, "xlsx", tmp_path / "r.xlsx"), "Drift")
    assert {(r["Id"], r["Number"], r["Customer"]) for r in rows} == {
        (cid, number, customer) for cid, (number, customer) in named.items()
    }


# 3. returns --------------------------------------------------------------------------------


def _book_with_a_return(store: Store) -> Book:
    """1000.00 applied to 1001 and returned by its bank (the return open); 400.00 applied to
    1002; 50.00 from a payer nobody knows (unapplied)."""
    book = Book(store)
    harbor = book.customer("Harbor Foods GmbH")
    acme = book.customer("Acme Corp")
    book.invoice(harbor, "1001", "1000.00")
    book.invoice(acme, "1002", "400.00")
    book.pay("1000.00", payer="Harbor Foods GmbH", refs=[ref("1001", "1000.00")])  # key k1
    book.pay("50.00", payer="Nobody Known Ltd")
    book.pay("400.00", payer="Acme Corp", refs=[ref("1002", "400.00")])
    reconcile(store)
    assert build_report(store)["totals"]["match_rate"] == "66.7%"
    with store.session() as s:
        s.add(
            Remittance(
                source="camt.053",
                source_key="return-1",
                currency="USD",
                amount_minor=-100000,
                value_date=date(2026, 11, 5),
                payer_name="Harbor Foods GmbH",
                free_text="RETURN AC04 ACCOUNT CLOSED",
                reverses="k1",
            )
        )
    reconcile(store)
    return book


def test_an_open_return_is_not_negative_unapplied_cash(sqlite_store: Store, tmp_path: Path) -> None:
    _book_with_a_return(sqlite_store)
    report = build_report(sqlite_store)
    cash = _cash(report)
    assert cash["unapplied"] == Decimal("50.00")  # was -950.00
    assert cash["returns_pending"] == Decimal("-1000.00")
    assert cash["received"] == cash["applied"] + cash["unapplied"] + cash["returns_pending"]
    [back] = report["exceptions"]["returned_payment"]
    assert back["unapplied"]["amount"] == "0.00"

    html = render_html(report)
    cash_table = html.split("<h2>Cash</h2>")[1].split("<h2>")[0]
    assert "Returns awaiting a person" in cash_table and "-$1,000.00" in cash_table
    [totals] = _sheet(write_report(report, "xlsx", tmp_path / "r.xlsx"), "Totals")
    assert (totals["Unapplied"], totals["Returns pending"]) == (50, -1000)


def test_a_reversed_return_is_no_longer_pending(sqlite_store: Store) -> None:
    _book_with_a_return(sqlite_store)
    [back] = build_report(sqlite_store)["exceptions"]["returned_payment"]
    reverse(sqlite_store, back["decision_id"], by="person:ana")
    report = build_report(sqlite_store)
    cash = _cash(report)
    assert (cash["unapplied"], cash["returns_pending"]) == (Decimal("50.00"), Decimal(0))
    assert cash["received"] == cash["applied"] + cash["unapplied"] + cash["returns_pending"]
    # the payment taken back and its return came and went: neither matched nor missed
    assert report["totals"]["match_rate"] == "50.0%"


def test_a_return_is_no_payment_to_match(sqlite_store: Store) -> None:
    _book_with_a_return(sqlite_store)
    assert build_report(sqlite_store)["totals"]["match_rate"] == "66.7%"  # was 50.0%


def test_money_going_out_is_not_negative_unapplied_cash(sqlite_store: Store) -> None:
    book = Book(sqlite_store)
    book.invoice(book.customer("Harbor Foods GmbH"), "1001", "1000.00")
    book.pay("1000.00", payer="Harbor Foods GmbH", refs=[ref("1001", "1000.00")])
    book.pay("50.00", payer="Nobody Known Ltd")
    fee = book.pay("-25.00", payer="BANK FEE", text="ACCOUNT FEE NOV")
    reconcile(sqlite_store)
    assert decision(sqlite_store, fee).exception_kind == "not_incoming_cash"
    report = build_report(sqlite_store)
    cash = _cash(report)
    assert (cash["unapplied"], cash["returns_pending"]) == (Decimal("50.00"), Decimal("-25.00"))
    assert cash["received"] == cash["applied"] + cash["unapplied"] + cash["returns_pending"]
    assert report["totals"]["match_rate"] == "50.0%"  # was 33.3%: a fee is no payment


# 4. reconcile with nothing to do -----------------------------------------------------------


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("ARSYNC_CONFIG", "ARSYNC_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "arsync.toml"
    path.write_text(f'database_url = "sqlite:///{tmp_path}/a.db"\n')
    return path


def _reconcile(config: Path) -> str:
    from sync.cli import app

    answer = CliRunner().invoke(app, ["reconcile", "--config", str(config)], terminal_width=300)
    assert answer.exit_code == 0, answer.output
    return str(answer.stdout)


def test_reconcile_with_nothing_new_says_so(config: Path) -> None:
    _reconcile(config)
    text = _reconcile(config)
    assert "nothing new to reconcile" in text and "match rate" not in text


def test_reconcile_of_a_return_alone_claims_no_match_rate(config: Path) -> None:
    store = Store.open(f"sqlite:///{config.parent}/a.db")
    try:
        _book_with_a_return_paid(store)
    finally:
        store.dispose()
    text = _reconcile(config)
    assert "returned_payment 1" in text and "match rate" not in text


def _book_with_a_return_paid(store: Store) -> None:
    book = Book(store)
    book.invoice(book.customer("Harbor Foods GmbH"), "1001", "1000.00")
    book.pay("1000.00", payer="Harbor Foods GmbH", refs=[ref("1001", "1000.00")])
    reconcile(store)
    with store.session() as s:
        s.add(
            Remittance(
                source="camt.053",
                source_key="return-1",
                currency="USD",
                amount_minor=-100000,
                value_date=date(2026, 11, 5),
                reverses="k1",
            )
        )


# 5. name scores ----------------------------------------------------------------------------


def test_name_scores_name_the_customers(sqlite_store: Store) -> None:
    book = Book(sqlite_store)
    book.customer("Atlas Paper Group")
    book.customer("Atlas Paper")
    book.pay("77.00", payer="ATLAS PAPER GRP")
    reconcile(sqlite_store)
    report = build_report(sqlite_store)
    [row] = report["remittances"]
    scores = row["evidence"]["name_scores"]
    assert {s["customer"] for s in scores} >= {"Atlas Paper Group", "Atlas Paper"}
    html = render_html(report)
    shown = html.split("<b>name scores</b>")[1].split("</div>")[0]
    assert "Atlas Paper Group" in shown and scores[0]["customer_id"] not in shown


def test_the_return_of_a_dismissed_payment_is_no_negative_unapplied_cash(store: Store) -> None:
    """A person dismissed 50.00 (not a customer's); the bank returns it: the return waits
    for a person (returns pending); it netted unapplied cash the dismissed payment never
    counted, and unapplied went negative."""
    from reconciler.dismiss import dismiss

    book = Book(store)
    book.invoice(book.customer("Acme Corp"), "1002", "400.00")
    stray = book.pay("50.00", payer="Nobody Known Ltd")
    reconcile(store)
    dismiss(store, decision(store, stray).id, by="person:ana", reason="not ours: returned")
    with store.session() as s:
        s.add(
            Remittance(
                source="camt.053",
                source_key="return-1",
                currency="USD",
                amount_minor=-5000,
                value_date=date(2026, 11, 5),
                payer_name="Nobody Known Ltd",
                free_text="RETURN AC04 ACCOUNT CLOSED",
                reverses=f"k{book.n}",
            )
        )
    reconcile(store)
    cash = build_report(store)["totals"]["cash"]["USD"]
    shown = {k: Decimal(v["amount"]) for k, v in cash.items()}
    assert shown["unapplied"] == Decimal("0.00")
    assert shown["returns_pending"] == Decimal("-50.00")


def test_reconcile_stopped_early_in_its_first_batch_says_so(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run stopped before writing anything (an ingest replaced what it decided) is no
    "nothing new": the reviewer's repro printed that while four remittances waited."""
    from reconciler.engine import ReconcileSummary
    from sync.runtime import Runtime

    def stopped(self: Runtime, rules_path: Path | None = None) -> ReconcileSummary:
        return ReconcileSummary(changed={"r1": "removed (replaced by another record?)"})

    monkeypatch.setattr(Runtime, "reconcile", stopped)
    text = _reconcile(config)
    assert "nothing new to reconcile" not in text and "match rate" not in text
    assert "stopped early: 1 remittances changed" in " ".join(text.split())
