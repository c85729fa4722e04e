"""Where the cascade must not apply cash on its own: references to invoices no longer open or
of another customer, payer names that only contain a customer's name; and where it books a
short pay: never more than an invoice's balance, in the currency's own minor units."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from canonical.models import Adjustment
from canonical.store import Store
from reconciler import reconcile
from reconciler.rules import DEFAULT_RULES, RulesError, load_rules
from tests.support.receivables import Book, applied, balance, decision, ref

pytestmark = pytest.mark.usefixtures("book_loading")


def adjustments(store: Store) -> list[tuple[str, str, str]]:
    with store.session() as s:
        rows = s.execute(select(Adjustment)).scalars().all()
    return sorted((str(a.amount.amount), a.amount.currency, a.reason_code) for a in rows)


# -- references to invoices that are not open ---------------------------------------------------


def test_a_structured_reference_to_an_invoice_not_open_does_not_pay_another_by_amount(
    store: Store, book: Book
) -> None:
    c = book.customer("Acme Corp")
    book.invoice(c, "7082", "250.00")  # 7081, of the same amount, was paid last month
    rid = book.pay("250.00", payer="ACME CORP", refs=[ref("7081", "250.00")])
    reconcile(store)
    d = decision(store, rid)
    assert d.status == "suggested" and applied(store, rid) == {}
    assert d.evidence["labelled_not_found"] == ["7081"]
    assert "7081" in d.evidence["not_applied_because"]
    assert [i["number"] for i in d.candidates[0]["invoices"]] == ["7082"]


def test_nor_a_set_of_other_invoices_of_that_amount(store: Store, book: Book) -> None:
    c = book.customer("Acme Corp")
    book.invoice(c, "7082", "100.00")
    book.invoice(c, "7083", "150.00")
    rid = book.pay("250.00", payer="ACME CORP", refs=[ref("7081", "250.00")])
    reconcile(store)
    assert decision(store, rid).status == "suggested" and applied(store, rid) == {}


def test_a_po_number_that_is_no_invoice_still_lets_the_amount_decide(
    store: Store, book: Book
) -> None:
    c = book.customer("Acme Corp")
    book.invoice(c, "7082", "250.00")
    rid = book.pay("250.00", payer="ACME CORP", refs=[ref("4500012345", kind="po")])
    reconcile(store)
    assert decision(store, rid).status == "auto_applied"
    assert applied(store, rid) == {"7082": "250.00"}


# -- references to another customer's invoices ----------------------------------------------------


def test_a_payer_naming_its_own_paid_invoice_never_pays_anothers_of_that_number(
    store: Store, book: Book
) -> None:
    book.customer("Alpha Inc")  # its 1001 is paid already
    zeta = book.customer("Zeta LLC")
    book.invoice(zeta, "1001", "400.00")
    rid = book.pay("400.00", payer="ALPHA INC", refs=[ref("1001", "400.00")])
    reconcile(store)
    d = decision(store, rid)
    assert d.status == "suggested" and applied(store, rid) == {}
    assert d.evidence["other_customers_invoices"] == [{"ref": "1001", "invoice": "1001"}]


def test_a_mistyped_reference_to_another_customers_invoice_suggests_the_payers_own(
    store: Store, book: Book
) -> None:
    alpha = book.customer("Alpha Inc")
    zeta = book.customer("Zeta LLC")
    book.invoice(alpha, "10451", "1224.50")
    book.invoice(zeta, "10415", "1234.50")
    rid = book.pay("1224.50", payer="ALPHA INC", refs=[ref("10415", "1224.50")])
    reconcile(store)
    d = decision(store, rid)
    assert d.status == "suggested" and applied(store, rid) == {}
    assert [i["number"] for i in d.candidates[0]["invoices"]] == ["10451"]


# -- short pays -----------------------------------------------------------------------------------


def test_a_short_pay_over_several_invoices_is_written_off_on_the_one_that_can_take_it(
    store: Store, book: Book
) -> None:
    c = book.customer("Acme Corp")
    book.invoice(c, "5001", "10000.00")
    book.invoice(c, "5002", "40.00")
    rid = book.pay("9950.00", payer="ACME CORP", text="INV 5001, 5002")
    reconcile(store)
    d = decision(store, rid)
    assert d.status == "auto_applied"
    # before, 5001 took all the cash and a 90.00 write-off on the 50.00 it had left
    assert applied(store, rid) == {"5001": "9910.00", "5002": "40.00"}
    assert adjustments(store) == [("90.00", "USD", "SHORTPAY")]


def test_a_short_pay_larger_than_any_one_invoice_is_written_off_where_unpaid(
    store: Store, book: Book
) -> None:
    c = book.customer("Acme Corp")
    for number in ("5001", "5002", "5003"):
        book.invoice(c, number, "3.00")
    rid = book.pay("4.00", payer="ACME CORP", text="INV 5001 5002 5003")
    reconcile(store)
    assert decision(store, rid).status == "auto_applied"
    written_off = sorted(a for a, _, _ in adjustments(store))
    assert written_off == ["2.00", "3.00"]  # 5.00 short over the two it did not pay in full


def test_short_pay_tolerance_counts_in_the_currencys_own_minor_units(
    store: Store, book: Book
) -> None:
    c = book.customer("Yamada KK")
    book.invoice(c, "8001", "1000", currency="JPY")
    book.invoice(c, "8002", "1000", currency="JPY")
    far = book.pay("600", payer="YAMADA KK", text="INV 8001", currency="JPY")
    near = book.pay("995", payer="YAMADA KK", text="INV 8002", currency="JPY")
    reconcile(store)
    # ¥400 short is 40%: before, it was read as 4.00 and written off under the 5.00 limit
    assert decision(store, far).exception_kind == "short_pay_over_tolerance"
    assert applied(store, far) == {}
    assert decision(store, near).status == "auto_applied"
    assert adjustments(store) == [("5", "JPY", "SHORTPAY")]


# -- payer names ----------------------------------------------------------------------------------


def test_a_payer_whose_name_only_contains_a_customers_is_not_that_customer(
    store: Store, book: Book
) -> None:
    delta = book.customer("Delta")
    book.invoice(delta, "6001", "820.00")
    rid = book.pay("820.00", payer="DELTA AIR LINES INC")
    reconcile(store)
    assert decision(store, rid).status != "auto_applied" and applied(store, rid) == {}


def test_accounts_payable_words_beside_a_customers_name_still_name_it(
    store: Store, book: Book
) -> None:
    acme = book.customer("Acme Corp")
    book.invoice(acme, "6002", "820.00")
    rid = book.pay("820.00", payer="ACME CORP ACCOUNTS PAYABLE DEPT")
    reconcile(store)
    assert decision(store, rid).status == "auto_applied"
    assert applied(store, rid) == {"6002": "820.00"}


# -- deductions the payer states ------------------------------------------------------------------


def test_a_large_deduction_the_payer_states_stays_open_for_a_person(
    store: Store, book: Book
) -> None:
    c = book.customer("Hooli")
    inv = book.invoice(c, "2001", "1000.00")
    rid = book.pay(
        "700.00", payer="HOOLI", refs=[ref("2001", "700.00", adjustment="-300.00", reason="DMG")]
    )
    reconcile(store)
    d = decision(store, rid)
    assert d.status == "auto_applied" and applied(store, rid) == {"2001": "700.00"}
    assert adjustments(store) == []
    assert d.evidence["deductions_left_open"][0]["why"] == "over the short-pay tolerance"
    assert balance(store, inv) == ("300.00", "open")


def test_a_discount_the_terms_do_not_grant_stays_open(store: Store, book: Book) -> None:
    c = book.customer("Hooli")
    book.invoice(c, "2002", "1000.00")  # no terms
    rid = book.pay("800.00", payer="HOOLI", refs=[ref("2002", "800.00", discount="200.00")])
    reconcile(store)
    d = decision(store, rid)
    assert adjustments(store) == []
    assert d.evidence["deductions_left_open"][0]["why"] == (
        "a discount the invoice's terms do not grant on this date"
    )


def test_small_stated_deductions_are_written_off_and_every_one_when_so_configured(
    store: Store, book: Book, tmp_path: Path
) -> None:
    c = book.customer("Hooli")
    book.invoice(c, "2003", "100.00")
    book.invoice(c, "2004", "1000.00")
    small = book.pay("96.00", payer="HOOLI", refs=[ref("2003", "96.00", adjustment="-4.00")])
    reconcile(store)
    assert decision(store, small).status == "auto_applied"
    assert adjustments(store) == [("4.00", "USD", "SHORTPAY")]
    rules = tmp_path / "rules.toml"
    rules.write_text(
        DEFAULT_RULES.read_text().replace(
            'stated_deductions = "within_tolerance"', 'stated_deductions = "always"'
        )
    )
    large = book.pay(
        "700.00", payer="HOOLI", refs=[ref("2004", "700.00", adjustment="-300.00", reason="DMG")]
    )
    reconcile(store, rules_path=rules)
    assert decision(store, large).status == "auto_applied"
    assert ("300.00", "USD", "DMG") in adjustments(store)


def test_an_unknown_stated_deductions_setting_is_refused_naming_the_key(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(DEFAULT_RULES.read_text().replace('"within_tolerance"', '"sometimes"'))
    with pytest.raises(RulesError, match=r"tolerance\.stated_deductions 'sometimes'"):
        load_rules(rules)


def test_a_subset_found_among_the_newest_is_not_unique_when_the_oldest_hold_one_too(
    store: Store, book: Book
) -> None:
    c = book.customer("Acme Corp")
    book.invoice(c, "9001", "100.00", issued=date(2026, 1, 5))
    book.invoice(c, "9002", "250.00", issued=date(2026, 1, 6))
    for n in range(24):  # none of these sums to 350.00
        book.invoice(c, f"93{n:02d}", f"{1000 + 7 * n}.00", issued=date(2026, 5, 1 + n))
    book.invoice(c, "9901", "150.00", issued=date(2026, 9, 1))
    book.invoice(c, "9902", "200.00", issued=date(2026, 9, 2))
    rid = book.pay("350.00", payer="ACME CORP")
    reconcile(store)
    d = decision(store, rid)
    assert d.status == "suggested" and applied(store, rid) == {}
    assert d.evidence["subset_search"]["solutions"] == 2
    assert d.evidence["subset_search"]["open_invoices"] == 28


def test_rules_that_would_mix_currencies_are_refused(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(
        DEFAULT_RULES.read_text().replace("same_currency_only = true", "same_currency_only = false")
    )
    with pytest.raises(RulesError, match=r"tolerance\.same_currency_only must be true"):
        load_rules(rules)
