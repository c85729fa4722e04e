"""`arsync resolve ID --by NAME --dismiss REASON`: one line saying what was closed; refusals
exit 1 with one line naming why; --dismiss with --invoice or --reverse, or without a reason,
exits 2 and changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import col
from typer.testing import CliRunner

from canonical.models import Decision
from canonical.store import Store
from reconciler import reconcile
from sync.cli import app
from tests.support.receivables import Book, decision


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Store, dict[str, str]]:
    for name in ("ARSYNC_CONFIG", "ARSYNC_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    url = f"sqlite:///{tmp_path}/a.db"
    config = tmp_path / "arsync.toml"
    config.write_text(f'database_url = "{url}"\n')
    store = Store.open(url)
    book = Book(store)
    wonka = book.customer("Wonka Industries")
    book.invoice(wonka, "3001", "500.00")
    cash = book.pay("500.00", payer="WONKA", text="invoice 3001")
    refund = book.pay("1250.00", payer="NORTHWIND SUPPLIES", text="REFUND OVERPMT NW-88123")
    reconcile(store)
    return config, store, {"cash": cash, "refund": refund}


def _run(config: Path, *args: str) -> object:
    return CliRunner().invoke(app, ["resolve", *args, "--config", str(config)], terminal_width=300)


def test_dismiss_prints_one_line_naming_what_was_closed(
    setup: tuple[Path, Store, dict[str, str]],
) -> None:
    config, store, ids = setup
    open_one = decision(store, ids["refund"])
    answer = _run(config, open_one.id, "--by", "person:ana", "--dismiss", "vendor refund")
    assert answer.exit_code == 0, answer.output  # type: ignore[attr-defined]
    made = decision(store, ids["refund"])
    lines = answer.stdout.strip().splitlines()  # type: ignore[attr-defined]
    assert lines == [
        f"dismissed by person:ana: decision {made.id} closes remittance {ids['refund']} "
        f"(1250.00 USD, {open_one.exception_kind}; decision {open_one.id}) with no cash "
        "applied: vendor refund"
    ]
    assert (made.status, made.evidence["reason"]) == ("dismissed", "vendor refund")


@pytest.mark.parametrize(
    "extra, named",
    [
        (["--invoice", "3001"], "--invoice"),
        (["--reverse"], "--reverse"),
    ],
)
def test_dismiss_with_invoice_or_reverse_exits_2(
    setup: tuple[Path, Store, dict[str, str]], extra: list[str], named: str
) -> None:
    config, store, ids = setup
    open_one = decision(store, ids["refund"])
    answer = _run(config, open_one.id, "--by", "person:ana", "--dismiss", "x", *extra)
    assert answer.exit_code == 2  # type: ignore[attr-defined]
    assert f"takes no {named}" in answer.stderr  # type: ignore[attr-defined]
    assert decision(store, ids["refund"]).id == open_one.id


def test_dismiss_without_a_reason_exits_2(setup: tuple[Path, Store, dict[str, str]]) -> None:
    config, store, ids = setup
    open_one = decision(store, ids["refund"])
    answer = _run(config, open_one.id, "--by", "person:ana", "--dismiss", "  ")
    assert answer.exit_code == 2  # type: ignore[attr-defined]
    assert "--dismiss needs a reason" in answer.stderr  # type: ignore[attr-defined]
    assert decision(store, ids["refund"]).id == open_one.id


def test_dismissing_applied_cash_exits_1_naming_why(
    setup: tuple[Path, Store, dict[str, str]],
) -> None:
    config, store, ids = setup
    done = decision(store, ids["cash"])
    answer = _run(config, done.id, "--by", "person:ana", "--dismiss", "not ours")
    assert answer.exit_code == 1  # type: ignore[attr-defined]
    [line] = answer.stderr.strip().splitlines()  # type: ignore[attr-defined]
    assert line.startswith(f"decision {done.id} applied 500.00 USD (auto_applied, by reconciler)")
    with store.session() as s:
        mine = select(col(Decision.id)).where(col(Decision.decided_by) == "person:ana")
        assert s.execute(mine).first() is None


def test_books_changed_meanwhile_is_one_line_saying_to_run_again(
    setup: tuple[Path, Store, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sync or an ingest committing between the person's command reading the books and
    writing makes the batch refuse (nothing written): one line, exit 1, not a traceback."""
    import reconciler.dismiss
    from reconciler.apply import BalancesChanged

    def changed(*_args: object, **_kwargs: object) -> None:
        raise BalancesChanged({"i1": "invoice 3001: read as open owing 500.00 USD, now void"})

    monkeypatch.setattr(reconciler.dismiss, "dismiss", changed)
    config, store, ids = setup
    open_one = decision(store, ids["refund"])
    answer = _run(config, open_one.id, "--by", "person:ana", "--dismiss", "vendor refund")
    assert answer.exit_code == 1, answer.output  # type: ignore[attr-defined]
    line = answer.stderr.strip()  # type: ignore[attr-defined]
    assert "\n" not in line and "Traceback" not in answer.output  # type: ignore[attr-defined]
    assert line.startswith("nothing was written: ") and line.endswith("run the command again")
    assert "invoice 3001: read as open owing 500.00 USD, now void" in line
    assert decision(store, ids["refund"]).id == open_one.id  # nothing decided
