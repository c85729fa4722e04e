"""`arsync resolve ID --by NAME --undo REASON`: one line saying what was taken back and what
comes next; a second undo exits 1 with one line naming the remittance; --undo with another
action, or without a reason, exits 2 and changes nothing; resolving again applies once."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from canonical.store import Store
from reconciler import reconcile
from sync.cli import app
from tests.support.receivables import Book, balance, decision


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
    wrong = book.invoice(wonka, "3001", "500.00")
    right = book.invoice(wonka, "3002", "500.00")
    cash = book.pay("500.00", payer="WONKA", text="invoice 3001")
    reconcile(store)
    assert decision(store, cash).status == "auto_applied"
    return config, store, {"cash": cash, "wrong": wrong, "right": right}


def _run(config: Path, *args: str) -> object:
    return CliRunner().invoke(app, ["resolve", *args, "--config", str(config)], terminal_width=300)


def test_undo_prints_one_line_and_resolving_again_applies_once(
    setup: tuple[Path, Store, dict[str, str]],
) -> None:
    config, store, ids = setup
    applied = decision(store, ids["cash"])
    answer = _run(config, applied.id, "--by", "person:ana", "--undo", "they paid 3002")
    assert answer.exit_code == 0, answer.output  # type: ignore[attr-defined]
    made = decision(store, ids["cash"])
    lines = answer.stdout.strip().splitlines()  # type: ignore[attr-defined]
    assert lines == [
        f"undone by person:ana: decision {made.id} takes back decision {applied.id} "
        f"(1 application reversed; remittance {ids['cash']} needs a decision again): "
        "`arsync push` cancels or voids its writes in each system; settle it with "
        f"arsync resolve {made.id} --by person:NAME --invoice NUMBER"
    ]
    assert (made.status, made.evidence["reason"]) == ("exception", "they paid 3002")
    assert balance(store, ids["wrong"]) == ("500.00", "open")

    again = _run(config, ids["cash"], "--by", "person:ana", "--undo", "they paid 3002")
    assert again.exit_code == 1  # type: ignore[attr-defined]
    [line] = again.stderr.strip().splitlines()  # type: ignore[attr-defined]
    assert line.startswith(f"remittance {ids['cash']}: decision {applied.id} was already undone")

    settled = _run(config, made.id, "--by", "person:ana", "--invoice", "3002")
    assert settled.exit_code == 0, settled.output  # type: ignore[attr-defined]
    assert balance(store, ids["right"]) == ("0.00", "paid")
    assert balance(store, ids["wrong"]) == ("500.00", "open")
    replay = _run(config, made.id, "--by", "person:ana", "--invoice", "3002")
    assert replay.exit_code == 1  # type: ignore[attr-defined]
    assert balance(store, ids["right"]) == ("0.00", "paid")


@pytest.mark.parametrize(
    "extra, named",
    [
        (["--invoice", "3002"], "--invoice"),
        (["--reverse"], "--reverse"),
        (["--dismiss", "x"], "--dismiss"),
    ],
)
def test_undo_with_another_action_exits_2(
    setup: tuple[Path, Store, dict[str, str]], extra: list[str], named: str
) -> None:
    config, store, ids = setup
    applied = decision(store, ids["cash"])
    answer = _run(config, applied.id, "--by", "person:ana", "--undo", "x", *extra)
    assert answer.exit_code == 2  # type: ignore[attr-defined]
    assert f"takes no {named}" in answer.stderr  # type: ignore[attr-defined]
    assert decision(store, ids["cash"]).id == applied.id


def test_undo_without_a_reason_exits_2(setup: tuple[Path, Store, dict[str, str]]) -> None:
    config, store, ids = setup
    applied = decision(store, ids["cash"])
    answer = _run(config, applied.id, "--by", "person:ana", "--undo", "  ")
    assert answer.exit_code == 2  # type: ignore[attr-defined]
    assert "--undo needs a reason" in answer.stderr  # type: ignore[attr-defined]
    assert decision(store, ids["cash"]).id == applied.id


def test_undo_by_the_rules_is_a_wrong_option(setup: tuple[Path, Store, dict[str, str]]) -> None:
    config, store, ids = setup
    answer = _run(config, ids["cash"], "--by", "reconciler", "--undo", "wrong")
    assert answer.exit_code == 2  # type: ignore[attr-defined]
    [line] = answer.stderr.strip().splitlines()  # type: ignore[attr-defined]
    assert "person:NAME" in line
    assert decision(store, ids["cash"]).status == "auto_applied"
