"""The line `arsync resolve` prints for a confirmation says what the decision applied, read
from its rows: each invoice the cash (or memo) went to with its amount, each credit memo netted
off, each deduction written off, and what is left unapplied; never an invoice that got none."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col
from typer.testing import CliRunner

from canonical.models import Decision
from canonical.store import Store
from reconciler import reconcile
from reconciler.rules import DEFAULT_RULES
from sync.cli import app
from tests.support.receivables import Book, applied, balance, decision


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("ARSYNC_CONFIG", "ARSYNC_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "arsync.toml"
    path.write_text(f'database_url = "sqlite:///{tmp_path}/a.db"\n')
    return path


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(f"sqlite:///{tmp_path}/a.db")


def _rules(tmp_path: Path, *changes: tuple[str, str]) -> Path:
    text = DEFAULT_RULES.read_text()
    for old, new in changes:
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "rules.toml"
    path.write_text(text)
    return path


SUGGEST_ONLY = ("auto = true", "auto = false")  # every rule only suggests
MEMOS_WAIT = ('policy = "reference_then_oldest"', 'policy = "suggest"')  # memos are not applied


def _resolve(config: Path, decision_id: str, *more: str) -> Any:
    answer = CliRunner().invoke(
        app,
        ["resolve", decision_id, "--by", "person:ana", *more, "-c", str(config)],
        terminal_width=300,
    )
    assert answer.exit_code == 0, answer.output
    return answer


def _line(answer: Any) -> str:
    lines = answer.stdout.strip().splitlines()
    assert len(lines) == 1, answer.stdout
    return str(lines[0])


def _memo_decision(store: Store, memo_id: str) -> Decision:
    with store.session() as s:
        return s.execute(
            select(Decision).where(
                col(Decision.source_id) == memo_id, col(Decision.superseded).is_(False)
            )
        ).scalar_one()


def test_the_line_names_the_credit_memo_netted_and_its_amount(
    config: Path, store: Store, tmp_path: Path
) -> None:
    """900.00 of cash and credit memo CM-1 of 100.00 settle invoice 3001 of 1000.00."""
    rules = _rules(tmp_path, SUGGEST_ONLY, MEMOS_WAIT)
    book = Book(store)
    wonka = book.customer("Wonka Industries")
    invoice = book.invoice(wonka, "3001", "1000.00")
    book.credit(wonka, "CM-1", "100.00")
    cash = book.pay("900.00", payer="WONKA INDUSTRIES")
    reconcile(store, rules_path=rules)
    open_one = decision(store, cash)
    assert open_one.status == "suggested", open_one.status
    answer = _resolve(config, open_one.id)
    made = decision(store, cash)
    assert balance(store, invoice)[0] == "0.00"
    assert _line(answer) == (
        f"applied by person:ana: decision {made.id} applies 900.00 USD of remittance {cash} "
        "(900.00 USD) to invoice 3001 of Wonka Industries; nets credit memo CM-1 (100.00 USD) "
        "on invoice 3001; 0.00 USD left unapplied"
    )


def test_the_line_says_a_memo_suggested_was_not_netted(
    config: Path, store: Store, tmp_path: Path
) -> None:
    """The suggestion nets CM-1, but the memo's own rule applied it to 3001 in the same run:
    the confirmation applies the cash alone, and the line says the memo line was cut."""
    rules = _rules(tmp_path, SUGGEST_ONLY)
    book = Book(store)
    wonka = book.customer("Wonka Industries")
    invoice = book.invoice(wonka, "3001", "1000.00")
    book.credit(wonka, "CM-1", "100.00")
    cash = book.pay("900.00", payer="WONKA INDUSTRIES")
    reconcile(store, rules_path=rules)
    open_one = decision(store, cash)
    assert open_one.status == "suggested", open_one.status
    answer = _resolve(config, open_one.id)
    made = decision(store, cash)
    assert balance(store, invoice)[0] == "0.00"
    assert _line(answer) == (
        f"applied by person:ana: decision {made.id} applies 900.00 USD of remittance {cash} "
        "(900.00 USD) to invoice 3001 of Wonka Industries; changed since suggested: credit memo "
        "CM-1 on 3001 0.00 USD (suggested 100.00 USD); 0.00 USD left unapplied"
    )


def test_the_line_names_only_the_invoices_that_got_cash(config: Path, store: Store) -> None:
    """450.00 with --invoice 3001 --invoice 3002: all of it goes on 3001 (500.00)."""
    book = Book(store)
    wonka = book.customer("Wonka Industries")
    book.invoice(wonka, "3001", "500.00")
    book.invoice(wonka, "3002", "700.00")
    cash = book.pay("450.00", payer="WONKA INDUSTRIES")
    reconcile(store)
    open_one = decision(store, cash)
    assert open_one.status != "auto_applied"
    answer = _resolve(config, open_one.id, "--invoice", "3001", "--invoice", "3002")
    assert applied(store, cash) == {"3001": "450.00"}
    made = decision(store, cash)
    assert _line(answer) == (
        f"applied by person:ana: decision {made.id} applies 450.00 USD of remittance {cash} "
        "(450.00 USD) to invoice 3001 of Wonka Industries; 0.00 USD left unapplied"
    )


def test_the_line_gives_each_invoice_its_amount(config: Path, store: Store) -> None:
    """1300.00 with --invoice 3001 --invoice 3002: 500.00 and 700.00, 100.00 left."""
    book = Book(store)
    wonka = book.customer("Wonka Industries")
    book.invoice(wonka, "3001", "500.00")
    book.invoice(wonka, "3002", "700.00")
    cash = book.pay("1300.00", payer="WONKA INDUSTRIES")
    reconcile(store)
    open_one = decision(store, cash)
    assert open_one.status != "auto_applied"
    answer = _resolve(config, open_one.id, "--invoice", "3001", "--invoice", "3002")
    made = decision(store, cash)
    assert _line(answer) == (
        f"applied by person:ana: decision {made.id} applies 1200.00 USD of remittance {cash} "
        "(1300.00 USD) to invoices of Wonka Industries: 3001 (500.00 USD), 3002 (700.00 USD); "
        "100.00 USD left unapplied"
    )


def test_the_line_of_a_suggested_credit_memo_names_the_invoice(
    config: Path, store: Store, tmp_path: Path
) -> None:
    """A memo's own suggestion (policy `suggest`) confirmed without --invoice."""
    rules = _rules(tmp_path, MEMOS_WAIT)
    book = Book(store)
    wonka = book.customer("Wonka Industries")
    book.invoice(wonka, "3001", "500.00")
    memo = book.credit(wonka, "CM-1", "100.00")
    reconcile(store, rules_path=rules)
    open_one = _memo_decision(store, memo)
    assert open_one.status == "suggested", open_one.status
    answer = _resolve(config, open_one.id)
    made = _memo_decision(store, memo)
    assert made.evidence["confirmed"] == ["3001"]  # the suggestion's numbers, not None
    assert _line(answer) == (
        f"applied by person:ana: decision {made.id} applies 100.00 USD of credit memo CM-1 "
        "(100.00 USD) to invoice 3001 of Wonka Industries; 0.00 USD left unapplied"
    )


def test_the_line_names_a_deduction_written_off(config: Path, store: Store, tmp_path: Path) -> None:
    """996.00 naming invoice 3001 of 1000.00: the suggestion writes off the 4.00 short pay
    (within the default tolerance)."""
    rules = _rules(tmp_path, SUGGEST_ONLY)
    book = Book(store)
    wonka = book.customer("Wonka Industries")
    invoice = book.invoice(wonka, "3001", "1000.00")
    cash = book.pay("996.00", payer="WONKA INDUSTRIES", text="INV 3001")
    reconcile(store, rules_path=rules)
    open_one = decision(store, cash)
    assert open_one.status == "suggested", open_one.status
    answer = _resolve(config, open_one.id)
    made = decision(store, cash)
    assert balance(store, invoice)[0] == "0.00"
    assert _line(answer) == (
        f"applied by person:ana: decision {made.id} applies 996.00 USD of remittance {cash} "
        "(996.00 USD) to invoice 3001 of Wonka Industries; deducts 4.00 USD on invoice 3001 "
        "(SHORTPAY); 0.00 USD left unapplied"
    )


def test_the_line_keeps_the_currency_decimals(config: Path, store: Store) -> None:
    """Yen has no decimals: 90000 JPY over invoices of 50000 and 30000 JPY."""
    book = Book(store)
    wonka = book.customer("Wonka Industries")
    book.invoice(wonka, "3001", "50000", currency="JPY")
    book.invoice(wonka, "3002", "30000", currency="JPY")
    cash = book.pay("90000", payer="WONKA INDUSTRIES", currency="JPY")
    reconcile(store)
    open_one = decision(store, cash)
    assert open_one.status != "auto_applied"
    answer = _resolve(config, open_one.id, "--invoice", "3001", "--invoice", "3002")
    made = decision(store, cash)
    assert _line(answer) == (
        f"applied by person:ana: decision {made.id} applies 80000 JPY of remittance {cash} "
        "(90000 JPY) to invoices of Wonka Industries: 3001 (50000 JPY), 3002 (30000 JPY); "
        "10000 JPY left unapplied"
    )
