"""A finance-ops walk through `arsync resolve` and `arsync outbox`, as a person types: an
amount or a list given to --invoice is refused (exit 2) before anything is applied, an id of
another kind (a remittance, an outbox command, an invoice) names what it is and the command
to run, a returned payment offered to invoices points at --reverse, a repeated dismissal says
it is done, and `outbox retry` with neither or both of an id and --all-failed is a wrong
option. Each refusal changes nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from canonical.models import Application, Decision, OutboxCommand, Remittance
from canonical.money import Money
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
    tyrell = book.customer("Tyrell Logistics LLC")
    first = book.invoice(tyrell, "1014", "4334.78")
    book.invoice(tyrell, "1135", "9606.32")
    harbor = book.customer("Harborview Energy Ltd")
    book.invoice(harbor, "1019", "3611.77")
    unnamed = book.pay("1000.00", payer="TYRELL LOGISTICS LLC", text="PAYMENT")
    paid = book.pay("3611.77", payer="HARBORVIEW ENERGY LTD", text="INV 1019")
    refund = book.pay("215.40", payer="STAPLES INC", text="REFUND")
    reconcile(store)
    return config, store, {"unnamed": unnamed, "paid": paid, "refund": refund, "1014": first}


def _run(config: Path, *args: str) -> object:
    return CliRunner().invoke(app, [*args, "--config", str(config)], terminal_width=300)


def _counts(store: Store) -> tuple[int, int, int]:
    with store.session() as s:
        return (
            s.execute(select(func.count()).select_from(Decision)).scalar_one(),
            s.execute(select(func.count()).select_from(Application)).scalar_one(),
            s.execute(select(func.count()).select_from(OutboxCommand)).scalar_one(),
        )


AMOUNT = "looks like an amount or several numbers, and no invoice is numbered so"


@pytest.mark.parametrize(
    "typed, said",
    [
        ("$1014", AMOUNT),
        ("1,014.00", AMOUNT),
        ("1.014,00", AMOUNT),
        ("\u20ac1014", AMOUNT),
        ("1014, 1135", AMOUNT),
        ("  ", "--invoice needs an invoice number"),
        # German and Swiss prices, cents only, a sign, brackets, SAP's trailing minus, a
        # French narrow no-break space, a decimal comma: each found invoice 1014 or 10145
        ("1014,-", AMOUNT),
        ("1.014,\u2014", AMOUNT),
        ("1014,00", AMOUNT),
        ("1014,5", AMOUNT),
        ("+1014", AMOUNT),
        ("(1014)", AMOUNT),
        ("1014.00-", AMOUNT),
        ("1\u202f014", AMOUNT),
        # what resolve would read as digits alone, typed with more: a currency word in another
        # script, a full-width comma, a Unicode minus, numbers joined by & or +
        ("1014\u5186", AMOUNT),
        ("1014 \u0440\u0443\u0431", AMOUNT),
        ("1\uff0c014", AMOUNT),
        ("\u22121014", AMOUNT),
        ("1014 & 1135", AMOUNT),
        ("1014+1135", AMOUNT),
        ("1014,--", AMOUNT),
        # an Indian price (no paise), an amount after a document word
        ("1014/-", AMOUNT),
        ("INV 1014.00", AMOUNT),
        ("No. 1.014", AMOUNT),
    ],
)
def test_an_amount_or_a_list_given_as_an_invoice_is_refused_before_anything_is_applied(
    setup: tuple[Path, Store, dict[str, str]], typed: str, said: str
) -> None:
    config, store, ids = setup
    open_one = decision(store, ids["unnamed"])
    before = _counts(store)
    answer = _run(config, "resolve", open_one.id, "--by", "person:ana", "--invoice", typed)
    # `$1014` was read by its digits as invoice 1014 and the cash applied to it
    assert answer.exit_code == 2, answer.output  # type: ignore[attr-defined]
    assert said in answer.stderr  # type: ignore[attr-defined]
    assert _counts(store) == before
    assert balance(store, ids["1014"]) == ("4334.78", "open")
    assert decision(store, ids["unnamed"]).id == open_one.id


def test_a_repeated_resolve_applies_nothing_twice(
    setup: tuple[Path, Store, dict[str, str]],
) -> None:
    config, store, ids = setup
    open_one = decision(store, ids["unnamed"])
    answer = _run(config, "resolve", open_one.id, "--by", "person:ana", "--invoice", "INV 1014")
    assert answer.exit_code == 0, answer.output  # type: ignore[attr-defined]
    assert balance(store, ids["1014"]) == ("3334.78", "open")
    after = _counts(store)
    again = _run(config, "resolve", open_one.id, "--by", "person:ana", "--invoice", "1014")
    assert again.exit_code == 1 and "already resolved" in again.stderr  # type: ignore[attr-defined]
    assert _counts(store) == after  # no second application, no second write


def test_a_remittance_id_names_its_decision_and_the_command_to_run(
    setup: tuple[Path, Store, dict[str, str]],
) -> None:
    config, store, ids = setup
    open_one = decision(store, ids["refund"])
    before = _counts(store)
    answer = _run(
        config, "resolve", ids["refund"], "--by", "person:ana", "--dismiss", "vendor refund"
    )
    said = " ".join(answer.stderr.split())  # type: ignore[attr-defined]
    assert answer.exit_code == 1  # type: ignore[attr-defined]
    assert f"{ids['refund']} is a remittance (STAPLES INC, 215.40 USD), not a decision" in said
    assert f"arsync resolve {open_one.id} --by person:NAME --dismiss REASON" in said
    assert _counts(store) == before


def test_an_id_of_another_kind_says_what_it_is(
    setup: tuple[Path, Store, dict[str, str]],
) -> None:
    config, _, ids = setup
    answer = _run(config, "resolve", ids["1014"], "--by", "person:ana")
    said = " ".join(answer.stderr.split())  # type: ignore[attr-defined]
    assert answer.exit_code == 1  # type: ignore[attr-defined]
    assert f"{ids['1014']} is an invoice (1014), not a decision" in said
    assert "column decision_id" in said
    unknown = _run(config, "resolve", "deadbeef", "--by", "person:ana", "--reverse")
    assert unknown.exit_code == 1  # type: ignore[attr-defined]
    assert "no decision 'deadbeef': take the decision id the report shows" in " ".join(
        unknown.stderr.split()  # type: ignore[attr-defined]
    )


def test_a_decision_id_given_to_outbox_retry_or_cancel_lists_its_commands(
    setup: tuple[Path, Store, dict[str, str]],
) -> None:
    config, store, ids = setup
    applied = decision(store, ids["paid"])
    for verb in ("retry", "cancel"):
        answer = _run(config, "outbox", verb, applied.id)
        said = " ".join(answer.stderr.split())  # type: ignore[attr-defined]
        assert answer.exit_code == 1  # type: ignore[attr-defined]
        assert f"{applied.id} is a decision, not an outbox command" in said


@pytest.mark.parametrize("args", [[], ["x", "--all-failed"]])
def test_outbox_retry_needs_one_of_an_id_or_all_failed(
    setup: tuple[Path, Store, dict[str, str]], args: list[str]
) -> None:
    config, _, _ = setup
    answer = _run(config, "outbox", "retry", *args)
    assert answer.exit_code == 2  # type: ignore[attr-defined]


def test_a_returned_payment_offered_to_invoices_points_at_reverse(
    setup: tuple[Path, Store, dict[str, str]],
) -> None:
    config, store, ids = setup
    with store.session() as s:
        cash = s.get(Remittance, ids["paid"])
        assert cash is not None
        back = Remittance(
            source="bai2",
            source_key="ret-1",
            currency="USD",
            amount_minor=-Money("3611.77", "USD").minor,
            value_date=date(2026, 11, 9),
            free_text="DEPOSITED ITEM RETURNED R01",
            reverses=cash.source_key,
        )
        s.add(back)
    reconcile(store)
    exception = decision(store, back.id)
    assert exception.exception_kind == "returned_payment"
    answer = _run(config, "resolve", exception.id, "--by", "person:ana", "--invoice", "1019")
    said = " ".join(answer.stderr.split())  # type: ignore[attr-defined]
    # it said to reverse the applications "in the systems" by hand, though --reverse does it
    assert answer.exit_code == 1  # type: ignore[attr-defined]
    assert f"arsync resolve {exception.id} --by person:NAME --reverse" in said
    reversed_ = _run(config, "resolve", exception.id, "--by", "person:ana", "--reverse")
    assert reversed_.exit_code == 0, reversed_.output  # type: ignore[attr-defined]
    assert "undoes 1 application of decision" in reversed_.stdout  # type: ignore[attr-defined]
    # dismissed after it was reversed: it said "act on that one" of the reversal
    late = _run(config, "resolve", exception.id, "--by", "person:ana", "--dismiss", "done")
    assert late.exit_code == 1  # type: ignore[attr-defined]
    said = " ".join(late.stderr.split())  # type: ignore[attr-defined]
    assert "reversed already; nothing to do" in said and "act on" not in said


def test_a_repeated_dismissal_says_it_is_done(
    setup: tuple[Path, Store, dict[str, str]],
) -> None:
    config, store, ids = setup
    open_one = decision(store, ids["refund"])
    first = _run(config, "resolve", open_one.id, "--by", "person:ana", "--dismiss", "refund")
    assert first.exit_code == 0, first.output  # type: ignore[attr-defined]
    before = _counts(store)
    again = _run(config, "resolve", open_one.id, "--by", "person:ana", "--dismiss", "refund")
    said = " ".join(again.stderr.split())  # type: ignore[attr-defined]
    # it said "act on that one" of the dismissal, which nothing can act on
    assert again.exit_code == 1  # type: ignore[attr-defined]
    assert "it is dismissed already; nothing to do" in said and "act on" not in said
    assert _counts(store) == before


def test_dismissing_what_a_person_applied_points_at_undo(
    setup: tuple[Path, Store, dict[str, str]],
) -> None:
    config, store, ids = setup
    open_one = decision(store, ids["unnamed"])
    applied = _run(config, "resolve", open_one.id, "--by", "person:ana", "--invoice", "1135")
    assert applied.exit_code == 0, applied.output  # type: ignore[attr-defined]
    standing = decision(store, ids["unnamed"])
    answer = _run(config, "resolve", open_one.id, "--by", "person:ana", "--dismiss", "oops")
    said = " ".join(answer.stderr.split())  # type: ignore[attr-defined]
    assert answer.exit_code == 1  # type: ignore[attr-defined]
    assert f"arsync resolve {standing.id} --by person:NAME --undo REASON" in said


def test_an_invoice_numbered_like_a_list_is_still_found(
    setup: tuple[Path, Store, dict[str, str]],
) -> None:
    config, store, ids = setup
    tyrell = decision(store, ids["unnamed"]).customer_id
    assert tyrell is not None
    spaced = Book(store).invoice(tyrell, "2024 0012", "50.00")
    open_one = decision(store, ids["unnamed"])
    answer = _run(config, "resolve", open_one.id, "--by", "person:ana", "--invoice", "2024 0012")
    assert answer.exit_code == 0, answer.output  # type: ignore[attr-defined]
    assert balance(store, spaced) == ("0.00", "paid")


@pytest.mark.parametrize(
    ("number", "typed"),
    [
        ("10 23", "INV 10 23"),
        # prefixes that are also currency codes were refused as amounts
        ("CAD-1001", "CAD 1001"),
        ("SVC-1001", "svc 1001"),
        ("1001-EUR", "1001 EUR"),
        # a year.sequence number typed in another case or with a space for its separator
        ("INV-2024.01", "inv-2024.01"),
        ("FA-2024.0015", "FA 2024.0015"),
        ("R 2024.001", "R2024.001"),
    ],
)
def test_an_invoice_numbered_like_a_list_is_found_as_payers_write_it(
    setup: tuple[Path, Store, dict[str, str]], number: str, typed: str
) -> None:
    config, store, ids = setup
    tyrell = decision(store, ids["unnamed"]).customer_id
    assert tyrell is not None
    spaced = Book(store).invoice(tyrell, number, "50.00")
    open_one = decision(store, ids["unnamed"])
    answer = _run(config, "resolve", open_one.id, "--by", "person:ana", "--invoice", typed)
    assert answer.exit_code == 0, answer.output  # type: ignore[attr-defined]
    assert balance(store, spaced) == ("0.00", "paid")


def test_a_remittance_id_given_with_invoices_prints_the_command_keeping_them(
    setup: tuple[Path, Store, dict[str, str]],
) -> None:
    """Run as printed without its --invoice, the command put the cash on the top candidate."""
    config, store, ids = setup
    open_one = decision(store, ids["unnamed"])
    answer = _run(config, "resolve", ids["unnamed"], "--by", "person:ana", "--invoice", "1135")
    said = " ".join(answer.stderr.split())  # type: ignore[attr-defined]
    assert answer.exit_code == 1  # type: ignore[attr-defined]
    assert f"arsync resolve {open_one.id} --by person:NAME --invoice 1135" in said


def test_an_interrupted_resolve_applies_nothing_and_can_be_run_again(
    setup: tuple[Path, Store, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from reconciler.apply import Writes

    config, store, ids = setup
    open_one = decision(store, ids["unnamed"])
    before = _counts(store)
    flush = Writes.flush

    def interrupted(self: Writes, session: object, *args: object, **kwargs: object) -> object:
        flush(self, session, *args, **kwargs)  # type: ignore[arg-type]
        raise KeyboardInterrupt  # Ctrl-C once the rows and the writes are made

    monkeypatch.setattr(Writes, "flush", interrupted)
    answer = _run(config, "resolve", open_one.id, "--by", "person:ana", "--invoice", "1014")
    assert answer.exit_code == 130  # type: ignore[attr-defined]
    assert "interrupted" in answer.stderr  # type: ignore[attr-defined]
    assert _counts(store) == before
    assert balance(store, ids["1014"]) == ("4334.78", "open")
    monkeypatch.setattr(Writes, "flush", flush)
    again = _run(config, "resolve", open_one.id, "--by", "person:ana", "--invoice", "1014")
    assert again.exit_code == 0, again.output  # type: ignore[attr-defined]
    assert balance(store, ids["1014"]) == ("3334.78", "open")
