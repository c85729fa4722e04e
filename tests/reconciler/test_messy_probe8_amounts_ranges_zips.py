"""Probe 8: remittance text where the payer writes the amount before each invoice number
(``$1,250.00 INV 1001, $300.00 INV 1002``), a range with ``~`` or the East Asian wave dash
(``10231~10234``, ``10231〜10234``), a range written with spaces that the bank's field length
cut (``INV 10231 - 3`` at 140 characters), and an invoice number after words that look like a
city and a state's code (``PAID IN 47111``: no zip code in Indiana)."""

from __future__ import annotations

import pytest

from canonical.store import Store
from reconciler import reconcile
from reconciler.references import read_references
from tests.reconciler.test_messy_text_probe3 import AUTO, EXCEPTION, SUGGESTED, Case, check_case
from tests.support.receivables import Book, applied, balance, decision

pytestmark = pytest.mark.usefixtures("book_loading")


def _inv(*rows: str, amount: str = "100.00") -> list[tuple[str, ...]]:
    return [("A", number, amount) for number in rows]


CASES = [
    # -- the amount written before each invoice number ----------------------------------------
    Case(
        "amount_before_each",
        "$1,250.00 INV 1001, $300.00 INV 1002",
        "1550.00",
        _inv("1001", "1002", amount="1250.00"),
        AUTO,
        {"1001": "1250.00", "1002": "300.00"},
    ),
    Case(
        "amount_before_each_small_first",
        "$300.00 INV 1001, $1,250.00 INV 1002",
        "1550.00",
        _inv("1001", "1002", amount="1250.00"),
        AUTO,
        {"1001": "300.00", "1002": "1250.00"},
    ),
    Case(
        "amount_before_each_euro",
        "1.250,00 EUR RE 1001 / 300,00 EUR RE 1002",
        "1550.00",
        [("A", "1001", "1250.00", "EUR"), ("A", "1002", "1250.00", "EUR")],
        AUTO,
        {"1001": "1250.00", "1002": "300.00"},
        currency="EUR",
    ),
    Case(
        "amount_before_each_then_total",
        "$1,250.00 FOR INV 1001 $300.00 FOR INV 1002 TOTAL $1,550.00",
        "1550.00",
        _inv("1001", "1002", amount="1250.00"),
        AUTO,
        {"1001": "1250.00", "1002": "300.00"},
    ),
    Case(
        "total_first_then_amount_after_each",
        "PAID $1,550.00 INV 1001 $1,250.00 INV 1002 $300.00",
        "1550.00",
        _inv("1001", "1002", amount="1250.00"),
        AUTO,
        {"1001": "1250.00", "1002": "300.00"},
    ),
    # -- ~ and the wave dash between two numbers: a range ------------------------------------
    Case(
        "tilde_range",
        "INV 10231~10234",
        "400.00",
        _inv("10231", "10232", "10233", "10234", "10235"),
        AUTO,
        {"10231": "100.00", "10232": "100.00", "10233": "100.00", "10234": "100.00"},
    ),
    Case(
        "wave_dash_range",
        "請求書 10231〜10234 お支払い",
        "400.00",
        _inv("10231", "10232", "10233", "10234", "10235"),
        AUTO,
        {"10231": "100.00", "10232": "100.00", "10233": "100.00", "10234": "100.00"},
    ),
    Case(
        "fullwidth_tilde_range_short_end",
        "INV 10231\uff5e34",  # the full-width tilde
        "400.00",
        _inv("10231", "10232", "10233", "10234", "10235"),
        AUTO,
        {"10231": "100.00", "10232": "100.00", "10233": "100.00", "10234": "100.00"},
    ),
    Case(
        "tilde_range_paid_short",
        "INV 10231~10234",
        "200.00",
        _inv("10231", "10232", "10233", "10234", "10235"),
        EXCEPTION,
        kind="short_pay_over_tolerance",
    ),
    # -- PAID IN 47111: no city, no state, no zip code --------------------------------------
    Case(
        "paid_in_not_a_zip",
        "PAID IN 47111",
        "100.00",
        [("A", "47111", "150.00"), ("A", "47200", "100.00")],
        EXCEPTION,
        kind="short_pay_over_tolerance",
    ),
    Case(
        "payment_ok_not_a_zip",
        "PAYMENT OK 47111",
        "150.00",
        [("A", "47111", "150.00"), ("A", "47200", "150.00")],
        AUTO,
        {"47111": "150.00"},
    ),
    Case(
        "street_city_state_zip",
        "ACME CORP 12 MAIN ST FORT WAYNE IN 46802",
        "100.00",
        [("A", "46802", "150.00"), ("A", "47200", "100.00")],
        AUTO,
        {"47200": "100.00"},
    ),
    Case(
        "city_state_zip_then_invoice",
        "FORT WAYNE IN 46802 INV 47111",
        "100.00",
        _inv("46802", "47111"),
        AUTO,
        {"47111": "100.00"},
    ),
]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_messy_remittance_text_probe8(store: Store, book: Book, case: Case) -> None:
    check_case(store, book, case)


def test_amounts_written_before_the_numbers_are_read_as_theirs() -> None:
    """Each invoice number takes the amount before it, not the next number's."""
    refs = read_references("$1,250.00 INV 1001, $300.00 INV 1002").refs
    assert [(r.keys[0][0], r.amount) for r in refs] == [("1001", "1250.00"), ("1002", "300.00")]


def test_an_amount_before_one_number_alone_is_not_read_as_its_own() -> None:
    """TOTAL 750.00 INV 1001 INV 1002: one amount before a list is no amount per invoice."""
    refs = read_references("TOTAL 750.00 INV 1001 INV 1002").refs
    assert [r.amount for r in refs] == [None, None]


FILLER = "PAYMENT FOR GOODS DELIVERED " * 6


@pytest.mark.parametrize("tail", [" INV 10231 - 3", " INV 10231 TO 3", " INV 10231 ~ 3"])
def test_a_spaced_range_cut_at_the_field_length_is_not_applied(
    store: Store, book: Book, tail: str
) -> None:
    """1000.00 for 10231 - 10234 written with spaces and cut at 140 characters inside its
    last number: 10231 - 3 is not applied as if the payer had ended there."""
    acme = book.customer("Acme Corp")
    ids = {f"1023{n}": book.invoice(acme, f"1023{n}", f"{n}00.00") for n in range(1, 5)}
    text = FILLER[: 140 - len(tail)] + tail
    assert len(text) == 140
    rid = book.pay("1000.00", payer="ACME CORP", text=text)
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.rule) == (SUGGESTED, "invoice_number_in_text")
    assert applied(store, rid) == {}
    assert d.evidence["text_cut_in_list"] == [tail.strip()]
    assert "cut short" in d.evidence["not_applied_because"]
    assert balance(store, ids["10233"]) == ("300.00", "open")
