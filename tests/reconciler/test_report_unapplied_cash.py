"""The report lists the unapplied cash a collections specialist acts on, per customer: the
remainder of an over-payment or of a payment applied in part, and cash waiting for a person
(no invoice named, payer unknown), with its age, why and the next step; totals per currency
that tie out to the cash totals (an exception's cash is counted once)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import event

from canonical.models import Remittance
from canonical.store import Store
from reconciler import reconcile
from reconciler.confirm import confirm
from reconciler.dismiss import dismiss
from reconciler.report import build_report, render_html, write_report
from reconciler.reverse import reverse
from reconciler.rules import DEFAULT_RULES
from tests.reconciler.test_report_formats_agree import Reported, reported  # noqa: F401  (the fixture)
from tests.support.receivables import Book, decision, ref

NOON_OF_THE_REPORT = datetime(2026, 11, 22, 12, tzinfo=UTC)  # ages count from its day


@pytest.fixture(autouse=True)
def today(monkeypatch: pytest.MonkeyPatch) -> None:
    """The report is made on 22 November 2026."""
    monkeypatch.setattr("reconciler.report.utcnow", lambda: NOON_OF_THE_REPORT)


@dataclass
class Desk:
    report: dict[str, Any]
    ids: dict[str, str]  # remittance ids by what they are


def _return(store: Store, key: str, amount_minor: int, payer: str) -> None:
    """A camt.053 return (AC04 account closed) taking back the payment of source key ``key``."""
    with store.session() as s:
        s.add(
            Remittance(
                source="camt.053",
                source_key=f"return-{key}",
                currency="USD",
                amount_minor=amount_minor,
                value_date=date(2026, 11, 9),
                payer_name=payer,
                free_text="RETURN AC04 ACCOUNT CLOSED",
                reverses=key,
            )
        )


@pytest.fixture
def desk(sqlite_store: Store) -> Desk:
    store = sqlite_store
    book = Book(store)
    ids: dict[str, str] = {}
    wayne = book.customer("Wayne Enterprises")
    book.invoice(wayne, "5001", "100.00")
    ids["over"] = book.pay("120.00", payer="WAYNE ENTERPRISES", refs=[ref("5001", "100.00")])
    acme = book.customer("Acme Corp")
    book.invoice(acme, "7001", "60.00")
    book.invoice(acme, "7002", "900.00")
    ids["partial"] = book.pay("100.00", payer="Someone at Acme", day=date(2026, 11, 10))
    ids["unknown"] = book.pay("55.00", payer="Unknown Payer Ltd", day=date(2026, 10, 3))
    globex = book.customer("Globex")
    book.invoice(globex, "8001", "10.00")
    ids["over_exception"] = book.pay("500.00", payer="Globex")
    book.customer("Initech")
    ids["no_invoice"] = book.pay("80.00", payer="Initech")
    stark = book.customer("Stark Industries")
    book.invoice(stark, "4001", "200.00")
    ids["applied"] = book.pay("200.00", payer="STARK INDUSTRIES", refs=[ref("4001", "200.00")])
    ids["dismissed"] = book.pay("75.00", payer="NORTHWIND SUPPLIES")
    ids["returned"] = book.pay("45.00", payer="Umbrella Stray Ltd")
    returned_key = f"k{book.n}"
    harbor = book.customer("Harbor Foods GmbH")
    book.invoice(harbor, "1001", "900.00")
    ids["reversed"] = book.pay("1000.00", payer="Harbor Foods GmbH", refs=[ref("1001", "900.00")])
    reversed_key = f"k{book.n}"
    ids["eur"] = book.pay("30.00", payer="Fremde Zahlung GmbH", currency="EUR")
    nippon = book.customer("Nippon Trading KK")
    book.invoice(nippon, "JP-9001", "150000", currency="JPY")
    ids["jpy"] = book.pay(
        "150500", payer="NIPPON TRADING KK", refs=[ref("JP-9001", "150000")], currency="JPY"
    )
    reconcile(store)
    assert decision(store, ids["over"]).status == "auto_applied"
    assert decision(store, ids["over_exception"]).exception_kind == "over_payment"
    assert decision(store, ids["no_invoice"]).exception_kind == "no_matching_invoice"
    confirm(store, decision(store, ids["partial"]).id, by="person:ana", invoice_numbers=["7001"])
    dismiss(
        store,
        decision(store, ids["dismissed"]).id,
        by="person:ana",
        reason="vendor refund, not a customer payment",
    )
    _return(store, returned_key, -4500, "Umbrella Stray Ltd")
    _return(store, reversed_key, -100000, "Harbor Foods GmbH")
    reconcile(store)
    return Desk(build_report(store), ids)


def _items(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        item["remittance_id"]: {**item, "customer": group["customer"]}
        for group in report["unapplied_cash"]["customers"]
        for item in group["items"]
    }


def test_each_unapplied_amount_is_listed_with_why_its_age_and_next_step(desk: Desk) -> None:
    items = _items(desk.report)
    rows = {r["id"]: r for r in desk.report["remittances"]}
    ids = desk.ids

    over = items[ids["over"]]
    assert over["customer"] == "Wayne Enterprises"
    assert (over["amount"], over["unapplied"]) == (
        {"amount": "120.00", "currency": "USD"},
        {"amount": "20.00", "currency": "USD"},
    )
    assert (over["reason"], over["status"], over["in_exceptions"]) == (
        "over_payment",
        "auto_applied",
        False,
    )
    assert "over-payment of invoice 5001 by 20.00 USD" in over["why"]
    assert (over["value_date"], over["age_days"], over["payer"]) == (
        "2026-11-02",
        20,
        "WAYNE ENTERPRISES",
    )
    # an applied payment's remainder is no open decision: no command applies it
    assert over["resolve"] is None
    assert "refund" in over["next"] and "on account" in over["next"]

    partial = items[ids["partial"]]
    assert partial["customer"] == "Acme Corp"
    assert partial["unapplied"] == {"amount": "40.00", "currency": "USD"}
    assert (partial["reason"], partial["age_days"]) == ("partial", 12)
    assert "person:ana" in partial["why"] and "7001" in partial["why"]
    assert partial["resolve"] is None and "refund" in partial["next"]

    unknown = items[ids["unknown"]]
    assert unknown["customer"] is None
    assert (unknown["reason"], unknown["exception_kind"], unknown["age_days"]) == (
        "customer_unknown",
        "unidentified_payer",
        50,
    )
    assert unknown["unapplied"] == {"amount": "55.00", "currency": "USD"}
    assert unknown["in_exceptions"] is True
    assert unknown["resolve"] == rows[ids["unknown"]]["resolve"]
    assert unknown["resolve"].startswith(f"arsync resolve {unknown['decision_id']} --by ")

    exc = items[ids["over_exception"]]
    assert (exc["customer"], exc["reason"], exc["in_exceptions"]) == (
        "Globex",
        "over_payment",
        True,
    )
    assert exc["unapplied"] == {"amount": "500.00", "currency": "USD"}
    assert exc["resolve"] == f"arsync resolve {exc['decision_id']} --by person:NAME"
    assert "10.00" in exc["next"] and "490.00" in exc["next"]

    none_named = items[ids["no_invoice"]]
    assert (none_named["customer"], none_named["reason"]) == ("Initech", "no_invoice_named")
    assert "--invoice NUMBER" in none_named["resolve"]

    eur = items[ids["eur"]]
    assert eur["unapplied"] == {"amount": "30.00", "currency": "EUR"}
    jpy = items[ids["jpy"]]
    assert jpy["unapplied"] == {"amount": "500", "currency": "JPY"}  # yen have no minor digits
    assert jpy["reason"] == "over_payment"


def test_applied_dismissed_returned_and_reversed_cash_is_not_listed(desk: Desk) -> None:
    items = _items(desk.report)
    # the bank took back the stray 45.00 (unapplied) and Harbor's 1000.00 (100.00 of it
    # unapplied): its return nets that cash to nothing while a person looks
    for what in ("applied", "dismissed", "returned", "reversed"):
        assert desk.ids[what] not in items, what
    # cash going back out is never listed either
    rows = {r["id"]: r for r in desk.report["remittances"]}
    assert all(Decimal(rows[i]["amount"]["amount"]) > 0 for i in items)
    assert len(items) == len(set(items))


def test_a_payment_a_person_reversed_is_not_listed(sqlite_store: Store, desk: Desk) -> None:
    returns = desk.report["exceptions"]["returned_payment"]
    [back] = [r for r in returns if r["payer"] == "Harbor Foods GmbH"]
    reverse(sqlite_store, back["decision_id"], by="person:ana")
    report = build_report(sqlite_store)
    rows = {r["id"]: r for r in report["remittances"]}
    assert rows[desk.ids["reversed"]]["status"] == "reversed"
    items = _items(report)
    assert desk.ids["reversed"] not in items and back["id"] not in items
    usd = report["unapplied_cash"]["totals"]["USD"]
    assert usd == desk.report["unapplied_cash"]["totals"]["USD"]
    assert usd["unapplied"] == report["totals"]["cash"]["USD"]["unapplied"]


def test_totals_are_per_currency_and_count_an_exception_s_cash_once(desk: Desk) -> None:
    section = desk.report["unapplied_cash"]
    totals = section["totals"]
    assert set(totals) == {"USD", "EUR", "JPY"}
    assert totals["USD"] == {
        "unapplied": {"amount": "695.00", "currency": "USD"},
        "in_exceptions": {"amount": "635.00", "currency": "USD"},
    }
    assert totals["EUR"]["unapplied"] == {"amount": "30.00", "currency": "EUR"}
    assert totals["JPY"]["unapplied"] == {"amount": "500", "currency": "JPY"}
    # the same cash as totals.cash.unapplied, every currency apart
    for cur, t in desk.report["totals"]["cash"].items():
        assert totals[cur]["unapplied"] == t["unapplied"], cur
    # each customer's totals, per currency, add up to the section's
    summed: dict[str, Decimal] = {}
    for group in section["customers"]:
        for cur, amount in group["totals"].items():
            assert amount["currency"] == cur
            summed[cur] = summed.get(cur, Decimal(0)) + Decimal(amount["amount"])
        listed = sum(
            (Decimal(i["unapplied"]["amount"]) for i in group["items"]),
            Decimal(0),
        )
        assert listed == sum((Decimal(a["amount"]) for a in group["totals"].values()), Decimal(0))
    assert summed == {cur: Decimal(t["unapplied"]["amount"]) for cur, t in totals.items()}


def test_the_html_lists_it_per_customer(desk: Desk) -> None:
    html = render_html(desk.report)
    section = html.split("<h2>Unapplied cash to act on</h2>")[1].split("<h2>")[0]
    assert "Wayne Enterprises" in section and "Customer not known" in section
    assert "$20.00" in section and "€30.00" in section and "¥500" in section
    assert "over payment" in section and "customer unknown" in section
    items = _items(desk.report)
    for item in items.values():
        assert item["remittance_id"] in section
        if item["resolve"]:
            assert f"<code>{item['resolve']}</code>" in section
    assert "$695.00" in section  # the USD total
    assert "NORTHWIND" not in section and "Umbrella" not in section


def test_the_csv_and_xlsx_say_why_how_old_and_what_next(desk: Desk, tmp_path: Path) -> None:
    items = _items(desk.report)
    with write_report(desk.report, "csv", tmp_path / "r.csv").open(encoding="utf-8") as handle:
        lines = list(csv.DictReader(handle))
    seen = {line["remittance_id"]: line for line in lines if line["remittance_id"]}
    for rid, item in items.items():
        assert seen[rid]["unapplied_reason"] == item["reason"]
        assert seen[rid]["age_days"] == str(item["age_days"])
        assert seen[rid]["next_step"] == item["next"]
    assert seen[desk.ids["applied"]]["unapplied_reason"] == ""

    sheet = load_workbook(write_report(desk.report, "xlsx", tmp_path / "r.xlsx"))["Remittances"]
    header = [c.value for c in sheet[1]]
    rows = {
        r[header.index("Remittance id")]: dict(zip(header, r, strict=True))
        for r in sheet.iter_rows(min_row=2, values_only=True)
    }
    for rid, item in items.items():
        assert rows[rid]["Unapplied reason"] == item["reason"]
        assert rows[rid]["Age (days)"] == item["age_days"]
        assert rows[rid]["Next step"] == item["next"]


def _statements(store: Store, payments: int) -> int:
    """How many SQL statements the report runs over a book of ``payments`` unapplied ones."""
    book = Book(store)
    customer = book.customer("Massive Dynamic")
    for n in range(payments):
        book.invoice(customer, f"90{n:03d}", "10.00")
        book.pay("15.00", payer="MASSIVE DYNAMIC", refs=[ref(f"90{n:03d}", "10.00")])
        book.pay("7.00", payer=f"Stranger {n}")
    reconcile(store)
    count = 0

    def counted(*_: Any) -> None:
        nonlocal count
        count += 1

    event.listen(store.engine, "before_cursor_execute", counted)
    try:
        report = build_report(store)
    finally:
        event.remove(store.engine, "before_cursor_execute", counted)
    assert len(_items(report)) == 2 * payments
    return count


def test_a_large_book_costs_no_query_per_remittance(tmp_path: Path) -> None:
    small = Store.open(f"sqlite:///{tmp_path / 'small.db'}")
    large = Store.open(f"sqlite:///{tmp_path / 'large.db'}")
    try:
        assert _statements(small, 3) == _statements(large, 60)
    finally:
        small.dispose()
        large.dispose()


def test_a_suggested_over_payment_says_what_confirming_applies_and_leaves(
    sqlite_store: Store, tmp_path: Path
) -> None:
    """Structured references only suggest here: 120.00 for 5001 (100.00) waits for a person;
    confirmed as suggested, 20.00 is left as an over-payment; cash not reconciled yet is
    listed too, so the section is all of the unapplied cash."""
    rules = tmp_path / "rules.toml"
    rules.write_text(
        DEFAULT_RULES.read_text().replace(
            "auto = true\nmin_confidence = 95", "auto = false\nmin_confidence = 95", 1
        )
    )
    book = Book(sqlite_store)
    book.invoice(book.customer("Wayne Enterprises"), "5001", "100.00")
    over = book.pay("120.00", payer="WAYNE ENTERPRISES", refs=[ref("5001", "100.00")])
    reconcile(sqlite_store, rules_path=rules)
    late = book.pay("12.34", payer="LATE PAYER LTD", day=date(2026, 11, 21))
    report = build_report(sqlite_store)
    item = _items(report)[over]
    assert (item["status"], item["reason"]) == ("suggested", "over_payment")
    assert item["unapplied"]["amount"] == "120.00" and not item["in_exceptions"]
    assert item["resolve"] == f"arsync resolve {item['decision_id']} --by person:NAME"
    assert "apply 100.00 USD" in item["next"] and "20.00 USD left" in item["next"]
    waiting = _items(report)[late]
    assert (waiting["reason"], waiting["age_days"], waiting["decision_id"]) == (
        "not_reconciled",
        1,
        None,
    )
    assert "arsync reconcile" in waiting["next"]
    assert report["unapplied_cash"]["totals"]["USD"]["unapplied"] == {
        "amount": "132.34",
        "currency": "USD",
    }

    confirm(sqlite_store, item["decision_id"], by="person:ana")
    item = _items(build_report(sqlite_store))[over]
    assert (item["status"], item["reason"]) == ("auto_applied", "over_payment")
    assert item["unapplied"]["amount"] == "20.00" and item["resolve"] is None
    assert "person:ana applied 100.00 USD to 5001" in item["why"]


def test_it_ties_out_to_the_cash_totals_on_a_mixed_book(reported: Reported) -> None:  # noqa: F811
    """The formats' book (suggestions, a short pay, a direct debit and its return, JPY, EUR):
    every currency's unapplied cash is listed once, and nothing listed goes out or is closed."""
    report = reported.report
    totals = report["unapplied_cash"]["totals"]
    for cur, t in report["totals"]["cash"].items():
        shown = totals.get(cur, {}).get("unapplied", {"amount": str(Decimal(0)), "currency": cur})
        assert Decimal(shown["amount"]) == Decimal(t["unapplied"]["amount"]), cur
    rows = {r["id"]: r for r in report["remittances"]}
    for rid, item in _items(report).items():
        assert rows[rid]["status"] not in ("dismissed", "reversed")
        assert Decimal(item["unapplied"]["amount"]) > 0
        assert item["unapplied"]["currency"] == rows[rid]["amount"]["currency"]
