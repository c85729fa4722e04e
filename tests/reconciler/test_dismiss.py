"""A person closes what needs no cash movement (``resolve --dismiss REASON``): a bank credit that
is no customer paying, a checked duplicate, an advice that was wrong, a rejected suggestion.
Nothing is applied, written or learned; a later reconcile never reopens it; the report lists it
apart, out of the exceptions, the cash received and the match rate."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlmodel import col

from canonical.models import Application, Decision, OutboxCommand, PayerAlias, Remittance
from canonical.money import Money
from canonical.store import Store
from reconciler import reconcile
from reconciler.cascade import AUTO, EXCEPTION, SUGGESTED
from reconciler.confirm import ConfirmError, confirm
from reconciler.dismiss import dismiss
from reconciler.report import build_report, write_report
from reconciler.reverse import reverse
from reconciler.rules import DEFAULT_RULES
from sync.outbox.plan import OutboxPlanner
from tests.reconciler.test_advice_after_cash import _advice, _applied_on_7101, _cash, _initech
from tests.reconciler.test_report_formats_agree import exact, html_row, sheet_rows
from tests.reconciler.test_reverse import ALL, paid  # noqa: F401  (the fixture)
from tests.support.receivables import Book, applied, balance, decision, ref

REFUND = "vendor refund from Northwind Supplies, not a customer payment"


def _status(store: Store, remittance_id: str) -> str:
    with store.session() as s:
        row = s.get(Remittance, remittance_id)
        assert row is not None
        return row.status


def _vendor_refund(book: Book) -> str:
    """A credit from a supplier refunding an overpaid bill: it names an invoice of theirs."""
    return book.pay("1250.00", payer="NORTHWIND SUPPLIES", text="REFUND OVERPMT INV NW-88123")


def test_a_vendor_refund_is_closed_with_nothing_applied_written_or_learned(
    store: Store, book: Book
) -> None:
    cash = _vendor_refund(book)
    planner = OutboxPlanner("default", list(ALL))
    reconcile(store, sink=planner)
    open_one = decision(store, cash)
    assert open_one.status == EXCEPTION
    made = dismiss(store, open_one.id, by="person:ana", reason=f"  {REFUND}\n", sink=planner)
    assert (made.status, made.rule, made.decided_by) == (
        "dismissed",
        "dismissed_by_person",
        "person:ana",
    )
    assert made.evidence["reason"] == REFUND  # one line, as stored and shown
    assert made.evidence["dismissed"] == open_one.id
    assert made.evidence["dismissed_status"] == EXCEPTION
    assert made.evidence["exception_kind"] == open_one.exception_kind
    assert (made.amount_minor, made.applied_minor, made.currency) == (125000, 0, "USD")
    assert decision(store, cash).id == made.id
    assert _status(store, cash) == "dismissed"
    with store.session() as s:
        assert s.get(Decision, open_one.id).superseded  # type: ignore[union-attr]
        assert list(s.execute(select(Application)).scalars()) == []
        assert list(s.execute(select(OutboxCommand)).scalars()) == []
        assert list(s.execute(select(PayerAlias)).scalars()) == []


def test_a_dismissed_credit_is_never_reopened_when_what_it_names_arrives(
    store: Store, book: Book
) -> None:
    """The supplier later becomes a customer with an invoice of the number the refund names:
    the reconcile that would decide the credit again leaves the person's dismissal alone."""
    cash = _vendor_refund(book)
    reconcile(store)
    made = dismiss(store, decision(store, cash).id, by="person:ana", reason=REFUND)
    northwind = book.customer("Northwind Supplies")
    invoice = book.invoice(northwind, "NW-88123", "1250.00")
    summary = reconcile(store)
    assert summary.late == 0 and summary.remittances == 0
    assert decision(store, cash).id == made.id
    assert applied(store, cash) == {}
    assert balance(store, invoice) == ("1250.00", "open")
    with store.session() as s:
        assert list(s.execute(select(PayerAlias)).scalars()) == []


def test_a_checked_duplicate_is_dismissed_and_reported_apart(store: Store, book: Book) -> None:
    """The same payment twice: the copy is dismissed; the report lists it under dismissed,
    never among exceptions, received cash or the match rate."""
    tyrell = book.customer("Tyrell Corp")
    book.invoice(tyrell, "1201", "30.00")
    book.invoice(tyrell, "1202", "30.00")
    first = book.pay("30.00", payer="Tyrell Corp", iban="DE02100100100006820101", text="inv 1201")
    reconcile(store)
    copy = book.pay(
        "30.00",
        payer="Tyrell Corp",
        iban="DE02100100100006820101",
        text="inv 1201",
        day=date(2026, 11, 3),
    )
    reconcile(store)
    dup = decision(store, copy)
    assert (dup.status, dup.exception_kind) == (EXCEPTION, "duplicate_payment")
    before = build_report(store)
    assert before["totals"]["match_rate"] == "50.0%"
    made = dismiss(store, dup.id, by="person:ana", reason="same ACH credit listed twice")
    report = build_report(store)
    assert report["exceptions"]["duplicate_payment"] == []
    assert report["totals"]["exceptions"] == 0 and report["totals"]["dismissed"] == 1
    assert report["totals"]["match_rate"] == "100.0%"  # 1 applied of 1 receivable decided
    cash = report["totals"]["cash"]["USD"]
    assert cash["received"] == {"amount": "30.00", "currency": "USD"}
    assert cash["applied"] == {"amount": "30.00", "currency": "USD"}
    assert cash["unapplied"] == {"amount": "0.00", "currency": "USD"}
    assert cash["dismissed"] == {"amount": "30.00", "currency": "USD"}
    [listed] = report["dismissed"]
    assert listed["decision_id"] == made.id and listed["remittance_id"] == copy
    assert listed["dismissed_decision"] == dup.id
    assert (listed["decided_by"], listed["reason"]) == (
        "person:ana",
        "same ACH credit listed twice",
    )
    assert listed["was"] == "duplicate_payment" and listed["payer"] == "Tyrell Corp"
    assert listed["amount"] == {"amount": "30.00", "currency": "USD"}
    assert listed["decided_at"].startswith(made.created_at.isoformat()[:16])
    row = next(r for r in report["remittances"] if r["id"] == copy)
    assert (row["status"], row["resolve"], row["applications"]) == ("dismissed", None, [])
    assert applied(store, first) == {"1201": "30.00"}


def test_an_advice_a_person_says_was_wrong_leaves_the_applied_cash_in_place(
    store: Store, book: Book
) -> None:
    ids = _initech(book)
    cash = _cash(store, "640.00", "INITECH LLC")
    first = _applied_on_7101(store, cash)
    advice = _advice(store, "640.00", "INITECH LLC", [ref("7102", "400.00"), ref("7103", "240.00")])
    reconcile(store)
    wrong = decision(store, advice)
    made = dismiss(store, wrong.id, by="person:ana", reason="payer confirmed 7101; advice wrong")
    assert made.evidence["exception_kind"] == "advice_contradicts_applied"
    assert decision(store, cash).id == first.id
    assert applied(store, cash) == {"7101": "640.00"}
    assert balance(store, ids["7102"]) == ("400.00", "open")
    assert reconcile(store).remittances == 0
    assert decision(store, advice).id == made.id
    report = build_report(store)
    assert report["exceptions"]["advice_contradicts_applied"] == []
    assert [d["decision_id"] for d in report["dismissed"]] == [made.id]
    usd = report["totals"]["cash"]["USD"]
    # the advice brought no cash: the 640.00 is received and applied once, none dismissed
    assert (usd["received"]["amount"], usd["dismissed"]["amount"]) == ("640.00", "0.00")
    with pytest.raises(ConfirmError, match="dismissed"):
        reverse(store, made.id, by="person:ana")


def test_a_suggestion_may_be_dismissed_with_a_reason(store: Store, book: Book) -> None:
    """Oldest-first is a suggestion only; the person says it is no payment of theirs."""
    aperture = book.customer("Aperture Science")
    book.invoice(aperture, "8001", "50.00")
    book.invoice(aperture, "8002", "50.00", issued=date(2026, 10, 15))
    cash = book.pay("50.00", payer="Aperture Science")
    reconcile(store)
    suggestion = decision(store, cash)
    assert suggestion.status == SUGGESTED
    with pytest.raises(ConfirmError, match="say why"):
        dismiss(store, suggestion.id, by="person:ana", reason=" \n ")
    made = dismiss(store, suggestion.id, by="person:ana", reason="grant refund, not a payment")
    assert made.evidence["dismissed_status"] == SUGGESTED
    assert applied(store, cash) == {}


def test_applied_cash_and_superseded_decisions_are_refused(store: Store, book: Book) -> None:
    wonka = book.customer("Wonka Industries")
    book.invoice(wonka, "3001", "500.00")
    cash = book.pay("500.00", payer="WONKA", text="invoice 3001")
    refund = _vendor_refund(book)
    reconcile(store)
    done = decision(store, cash)
    assert done.status == AUTO
    with pytest.raises(ConfirmError, match=rf"decision {done.id} applied 500.00 USD"):
        dismiss(store, done.id, by="person:ana", reason="not ours")
    open_one = decision(store, refund)
    made = dismiss(store, open_one.id, by="person:ana", reason=REFUND)
    with pytest.raises(ConfirmError, match=rf"superseded: decision {made.id} \(dismissed"):
        dismiss(store, open_one.id, by="person:bob", reason="again")
    with pytest.raises(ConfirmError, match="not an open suggestion or exception"):
        dismiss(store, made.id, by="person:bob", reason="again")
    with store.session() as s:
        assert (
            s.execute(
                select(col(Decision.id)).where(col(Decision.decided_by) == "person:bob")
            ).first()
            is None
        )


def test_a_return_whose_payment_still_pays_invoices_is_reversed_not_dismissed(
    store: Store,
    paid: dict[str, str],  # noqa: F811
) -> None:
    back = decision(store, paid["back"])
    with pytest.raises(ConfirmError, match="--reverse"):
        dismiss(store, back.id, by="person:ana", reason="bank error")
    assert balance(store, paid["i1"]) == ("0.00", "paid")


def test_every_report_format_lists_the_dismissal_apart(
    store: Store, book: Book, tmp_path: Path
) -> None:
    cash = _vendor_refund(book)
    reconcile(store)
    made = dismiss(store, decision(store, cash).id, by="person:ana", reason=REFUND)
    report = build_report(store)
    with write_report(report, "csv", tmp_path / "r.csv").open(encoding="utf-8") as handle:
        [row] = list(csv.DictReader(handle))
    assert (row["status"], row["decided_by"], row["reason"]) == ("dismissed", "person:ana", REFUND)
    assert (row["amount"], row["unapplied"], row["resolve"]) == ("1250.00", "0.00", "")
    workbook = load_workbook(write_report(report, "xlsx", tmp_path / "r.xlsx"))
    assert workbook["Exceptions"].max_row == 1  # the header only
    sheet = workbook["Dismissed"]
    header = [c.value for c in sheet[1]]
    [cells] = [dict(zip(header, (c.value for c in r), strict=True)) for r in sheet.iter_rows(2)]
    assert (cells["By"], cells["Reason"], cells["Payer"]) == (
        "person:ana",
        REFUND,
        "NORTHWIND SUPPLIES",
    )
    assert (cells["Amount"], cells["Currency"], cells["Decision"]) == (
        Decimal("1250"),
        "USD",
        made.id,
    )
    totals = workbook["Totals"]
    named = dict(zip([c.value for c in totals[1]], [c.value for c in totals[2]], strict=True))
    assert (named["Received"], named["Dismissed"]) == (0, Decimal("1250"))
    html = write_report(report, "html", tmp_path / "r.html").read_text(encoding="utf-8")
    section = html.split("<h2>Dismissed (1)</h2>")[1].split("<h2>")[0]
    assert REFUND in section and "person:ana" in section and "1,250.00" in section
    assert REFUND not in html.split("<h2>Exceptions by kind</h2>")[1].split("<h2>Suggestions")[0]


def test_a_dismissed_payment_is_never_applied_by_resolve(store: Store, book: Book) -> None:
    """A checked duplicate, dismissed, then ``resolve <the dismissal> --invoice 1202``: its
    cash would pay an invoice twice. Refused, naming who dismissed it and why."""
    tyrell = book.customer("Tyrell Corp")
    book.invoice(tyrell, "1201", "30.00")
    other = book.invoice(tyrell, "1202", "30.00")
    book.pay("30.00", payer="Tyrell Corp", iban="DE02100100100006820101", text="inv 1201")
    reconcile(store)
    copy = book.pay(
        "30.00",
        payer="Tyrell Corp",
        iban="DE02100100100006820101",
        text="inv 1201",
        day=date(2026, 11, 3),
    )
    reconcile(store)
    made = dismiss(store, decision(store, copy).id, by="person:ana", reason="listed twice")
    for named in (["1202"], None):
        with pytest.raises(ConfirmError) as refused:
            confirm(store, made.id, by="person:bob", invoice_numbers=named)
        assert str(refused.value) == (
            f"decision {made.id} was dismissed by person:ana (listed twice): closed with no "
            "cash; nothing to apply"
        )
    assert decision(store, copy).id == made.id
    assert _status(store, copy) == "dismissed"
    assert applied(store, copy) == {}
    assert balance(store, other) == ("30.00", "open")
    assert build_report(store)["totals"]["dismissed"] == 1


def test_a_dismissed_credit_memo_suggestion_is_never_applied_by_resolve(
    store: Store, book: Book, tmp_path: Path
) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(
        DEFAULT_RULES.read_text().replace(
            'policy = "reference_then_oldest"', 'policy = "suggest"', 1
        )
    )
    acme = book.customer("Acme Corp")
    invoice = book.invoice(acme, "5001", "30.00")
    memo = book.credit(acme, "CM-9", "50.00")
    reconcile(store, rules_path=rules)
    with store.session() as s:
        [suggested] = s.execute(
            select(Decision).where(
                col(Decision.source_id) == memo, col(Decision.superseded).is_(False)
            )
        ).scalars()
    assert suggested.status == SUGGESTED
    made = dismiss(store, suggested.id, by="person:ana", reason="memo disputed by sales")
    with pytest.raises(
        ConfirmError,
        match=rf"decision {made.id} was dismissed by person:ana "
        r"\(memo disputed by sales\): closed with no cash; nothing to apply",
    ):
        confirm(store, made.id, by="person:bob", invoice_numbers=["5001"])
    assert balance(store, invoice) == ("30.00", "open")
    with store.session() as s:
        assert list(s.execute(select(Application)).scalars()) == []


def test_dismissed_rows_leave_nothing_unapplied_and_rows_add_up_in_every_format(
    store: Store, book: Book, tmp_path: Path
) -> None:
    """A dismissed advice (no cash) and a dismissed vendor refund show 0.00 unapplied; each
    format's rows add up to the totals' unapplied (the 20.00 a payer paid too much)."""
    _initech(book)
    cash = _cash(store, "640.00", "INITECH LLC")
    _applied_on_7101(store, cash)
    advice = _advice(store, "640.00", "INITECH LLC", [ref("7102", "400.00"), ref("7103", "240.00")])
    wayne = book.customer("Wayne Enterprises")
    book.invoice(wayne, "9001", "100.00")
    book.pay("120.00", payer="WAYNE ENTERPRISES", text="inv 9001")
    refund = _vendor_refund(book)
    reconcile(store)
    for item in (advice, refund):
        dismiss(store, decision(store, item).id, by="person:ana", reason="not cash of ours")
    report = build_report(store)
    total = report["totals"]["cash"]["USD"]["unapplied"]
    assert total == {"amount": "20.00", "currency": "USD"}
    rows = {r["id"]: r for r in report["remittances"]}
    for item in (advice, refund):
        assert rows[item]["unapplied"] == {"amount": "0.00", "currency": "USD"}
    assert sum(Decimal(r["unapplied"]["amount"]) for r in rows.values()) == Decimal("20.00")

    with write_report(report, "csv", tmp_path / "r.csv").open(encoding="utf-8") as handle:
        lines = list(csv.DictReader(handle))
    first = {line["remittance_id"]: line for line in reversed(lines)}  # each one's first line
    assert {first[i]["unapplied"] for i in (advice, refund)} == {"0.00"}
    assert sum(Decimal(line["unapplied"]) for line in first.values()) == Decimal("20.00")

    _, cells, _ = sheet_rows(write_report(report, "xlsx", tmp_path / "r.xlsx"), "Remittances")
    unapplied = {c["Remittance id"].value: exact(c["Unapplied"], "USD") for c in cells}
    assert unapplied[advice] == unapplied[refund] == "0.00 USD"
    assert sum(Decimal(v.split()[0]) for v in unapplied.values()) == Decimal("20.00")

    html = write_report(report, "html", tmp_path / "r.html").read_text(encoding="utf-8")
    for item in (advice, refund):
        row = html_row(
            html,
            "<h2>All remittances</h2>",
            "<h2>Credit memos</h2>",
            f"<code>{rows[item]['decision_id']}</code>",
        )
        zero = Money("0.00", "USD").format()
        assert f'<td class="num">{zero}</td><td>dismissed_by_person (100)' in row
