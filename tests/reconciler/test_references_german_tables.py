"""German remittance tables (SAP's Zahlungsavis, Oracle's Austrian advices, e-mailed lists):
read as their English twins are. Each invoice gets the amount paid (Nettobetrag beside a Skonto,
Zahlbetrag, Überweisungsbetrag), not the gross, and the Skonto as its discount; Netto beside a
MwSt column is before tax, no paid amount; a German sentence is no header; an amount written
the German way at a line's end (2.450,00) is not glued to the number on the next line."""

from __future__ import annotations

import pytest

from canonical.store import Store
from reconciler.references import TextRef, read_references
from tests.reconciler.test_messy_text_probe3 import AUTO, Case, check_case
from tests.support.receivables import Book

# SAP's payment advice (F110) in German as a PDF's text comes out: single spaces, a credit
# memo with its minus after the amount, a Summe line
SAP_DE = (
    "Zahlungsavis vom 02.11.2026\n"
    "Ihre Belegnr. Belegdatum Bruttobetrag Skonto Nettobetrag\n"
    "10024 15.10.2026 2.500,00 50,00 2.450,00\n"
    "10031 18.10.2026 1.000,00 0,00 1.000,00\n"
    "7702 20.10.2026 150,00- 0,00 150,00-\n"
    "Summe 3.350,00 50,00 3.300,00\n"
)
# the same advice printed in English: the reading the German one must equal
SAP_EN = (
    "Payment advice note from 02.11.2026\n"
    "Your Invoice Doc. Date Gross Amount Cash Discount Net Amount\n"
    "10024 15.10.2026 2,500.00 50.00 2,450.00\n"
    "10031 18.10.2026 1,000.00 0.00 1,000.00\n"
    "7702 20.10.2026 150.00- 0.00 150.00-\n"
    "Total 3,350.00 50.00 3,300.00\n"
)
# a payables system's advice in columns, ruled, with a Gesamtsumme line
SPACED = (
    "ZAHLUNGSAVIS                          vom 02.11.2026\n"
    "\n"
    "Rechnungsnr.     Rechnungsdatum   Rechnungsbetrag   Skonto    Zahlbetrag\n"
    "---------------  --------------   ---------------   -------   ----------\n"
    "10024            15.10.2026            2.500,00      50,00     2.450,00\n"
    "10031            18.10.2026            1.000,00       0,00     1.000,00\n"
    "                                                              ----------\n"
    "Gesamtsumme                           3.500,00      50,00     3.450,00\n"
)
# SAP numbers its own document (Belegnr.) beside ours (Ihre Belegnr.)
SAP_DOCUMENTS = (
    "Belegnr.     Ihre Belegnr.   Belegdatum   Bruttobetrag   Skonto   Nettobetrag\n"
    "5100012345   10024           15.10.2026   2.500,00       50,00    2.450,00\n"
    "5100012346   10031           18.10.2026   1.000,00       0,00     1.000,00\n"
    "Gesamtsumme                               3.500,00       50,00    3.450,00\n"
)
# a payables mailbox's markdown table
PIPES = (
    "| Belegnummer | Belegdatum | Bruttobetrag | Skontobetrag | Zahlungsbetrag | Währung |\n"
    "|---|---|---|---|---|---|\n"
    "| 10024 | 15.10.2026 | 2.500,00 | 50,00 | 2.450,00 | EUR |\n"
    "| 10031 | 18.10.2026 | 1.000,00 | 0,00 | 1.000,00 | EUR |\n"
)
# a spreadsheet's export: tab separated, a deduction (Abzug) rather than a Skonto
TABS = (
    "Rechnungsnummer\tDatum\tBetrag\tAbzug\tÜberweisungsbetrag\n"
    "10024\t15.10.2026\t2.500,00\t50,00\t2.450,00\n"
    "10031\t18.10.2026\t1.000,00\t0,00\t1.000,00\n"
)
# Oracle Payables' Austrian cheque advice: Ihre Nummer, Anweisungsbetrag
AUSTRIAN = (
    "Datum        Ihre Nummer   Betrag      Skonto   Anweisungsbetrag\n"
    "15.10.2026   10024         2.500,00    50,00    2.450,00\n"
    "18.10.2026   10031         1.000,00     0,00    1.000,00\n"
    "Summe                      3.500,00    50,00    3.450,00\n"
)
PAID = [("10024", "2450.00", "50.00", None), ("10031", "1000.00", None, None)]


def _table(text: str) -> list[tuple[str, str | None, str | None, str | None]]:
    """(number, amount, discount, deduction) of each invoice number read, in order."""
    refs: list[TextRef] = read_references(text).refs
    return [
        (ref.keys[0][0], ref.amount, ref.discount, ref.deduction)
        for ref in refs
        if ref.how == "written" and ref.kind == "invoice"
    ]


def test_sap_zahlungsavis_reads_as_its_english_twin() -> None:
    assert _table(SAP_DE) == _table(SAP_EN) == PAID
    written = [(r.keys[0][0], r.kind) for r in read_references(SAP_DE).refs if r.how == "written"]
    assert written[-1] == ("7702", "credit")  # 150,00- netted, as 150.00- is


@pytest.mark.parametrize(
    "text", [SPACED, PIPES, AUSTRIAN], ids=["spaced_gesamtsumme", "pipes", "austrian_oracle"]
)
def test_german_columns_the_paid_amount_and_the_skonto(text: str) -> None:
    assert _table(text) == PAID


def test_sap_own_document_number_beside_ihre_belegnr() -> None:
    read = {number: row for number, *row in _table(SAP_DOCUMENTS)}
    assert read["10024"] == ["2450.00", "50.00", None]
    assert read["10031"] == ["1000.00", None, None]


def test_abzug_is_a_deduction() -> None:
    assert _table(TABS) == [("10024", "2450.00", None, "50.00"), ("10031", "1000.00", None, None)]


def test_netto_beside_mwst_is_before_tax() -> None:
    # a paid column beside it: that one; none: read as before (the first amount)
    paid = (
        "Rechnungsnr.   Nettobetrag   MwSt     Bruttobetrag   Zahlbetrag\n"
        "10024          2.100,84      399,16   2.500,00       2.500,00\n"
        "10031            840,34      159,66   1.000,00       1.000,00\n"
    )
    assert _table(paid) == [("10024", "2500.00", None, None), ("10031", "1000.00", None, None)]
    unpaid = (
        "Rechnungsnr.   Bruttobetrag   MwSt     Nettobetrag\n"
        "10024          2.500,00       399,16   2.100,84\n"
    )
    assert _table(unpaid) == [("10024", "2500.00", None, None)]
    with_skonto = (
        "Beleg-Nr.   Bruttobetrag   USt-Betrag   Skonto   Nettobetrag\n"
        "10024       2.500,00       399,16       50,00    2.450,00\n"
    )
    assert _table(with_skonto) == [("10024", "2500.00", None, None)]  # net of what? no guess


@pytest.mark.parametrize(
    "text",
    [
        "Rechnungsnummer   Betrag\n10024             2.500,00\n",
        "Rechnung   Brutto     Netto\n10024      2.500,00   2.450,00\n",
        "Rechnungsnr.   Bruttobetrag   Skonto   Zahlbetrag\n"
        "10024          2.500,00       50,00    2.400,00\n",
        "Rechnungsnr.   Bruttobetrag   Skonto %   Zahlbetrag\n"
        "10024          2.500,00       2,00       2.450,00\n",
        # sentences, not headers
        "Wir haben folgende Rechnungen unter Abzug von Skonto bezahlt:\n"
        "10024 2.500,00 50,00 2.450,00\n",
        "Rechnung Betrag Skonto gezahlt siehe Anlage\n10024 2.500,00 50,00 2.450,00\n",
    ],
    ids=[
        "betrag_alone",
        "netto_beside_brutto",
        "figures_disagree",
        "skonto_percent",
        "sentence",
        "sentence_of_column_words",
    ],
)
def test_unclear_or_no_table_is_read_as_before(text: str) -> None:
    assert _table(text) == [("10024", "2500.00", None, None)]


def test_german_amount_at_a_line_end_is_not_glued_to_the_next_number() -> None:
    # read as 2.450 and 0010031: a made-up invoice 2450 and the amounts lost
    text = "Rechnung 10024 Betrag 2.450,00\n10031 Betrag 1.000,00\n"
    refs = read_references(text).refs
    assert [(r.keys[0][0], r.written) for r in refs] == [
        ("10024", "Rechnung 10024"),
        ("10031", "10031"),
    ]


CASES = [
    # the payer kept 25,00 off invoice 10031; read by gross, it was taken off 10024 instead
    Case(
        "short_pay_on_the_row_that_says_so",
        "Rechnungsnr.   Rechnungsbetrag   Zahlbetrag\n"
        "10024          2.500,00          2.500,00\n"
        "10031          1.000,00            975,00\n",
        "3475.00",
        [("A", "10024", "2500.00"), ("A", "10031", "1000.00"), ("A", "10040", "900.00")],
        AUTO,
        {"10024": "2500.00", "10031": "975.00"},
        deduction="0.00",
    ),
    Case(
        "sap_zahlungsavis_skonto_within_terms",
        SPACED,
        "3450.00",
        [
            ("A", "10024", "2500.00", "EUR", "2/10 net 30", "2026-10-28"),
            ("A", "10031", "1000.00", "EUR", "2/10 net 30", "2026-10-28"),
            ("A", "10040", "900.00", "EUR"),
        ],
        AUTO,
        {"10024": "2450.00", "10031": "1000.00"},
        currency="EUR",
        deduction="50.00",
    ),
]


@pytest.mark.usefixtures("book_loading")
@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_german_remittance_tables_reconciled(store: Store, book: Book, case: Case) -> None:
    check_case(store, book, case)


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("ACH CREDIT ACME CORP INV 10024,10025,10\n026 PMT", ["10024", "10025", "10026"]),
        ("RE: INVOICE 10024, 10025,10\n026", ["10024", "10025", "10026"]),
        ("INV 88123, 88124,88\n125 THANK YOU", ["88123", "88124", "88125"]),
        ("Payment for inv 7001,7002,70\n03", ["7001", "7002", "7003"]),
        ("INV 4711,88\n125", ["4711", "88125"]),
        ("Rechnung 10024 Betrag 450,00\n10031 Betrag 1.000,00", ["10024", "10031"]),
    ],
)
def test_a_list_wrapped_after_two_digits_is_rejoined_but_cents_are_not(
    text: str, numbers: list[str]
) -> None:
    assert [r.keys[0][0] for r in read_references(text).refs] == numbers


@pytest.mark.parametrize(
    "text",
    [
        "Zahlungsnummer: 88213 Rechnung 10024",
        "Zahlungs-Nr. 88213 Rechnung 10024",
        "Zahlungsavis Nr. 88213\nRechnung 10024 2.450,00",
        "Avis-Nr: 88213 Re-Nr 10024",
    ],
)
def test_the_payments_own_number_is_no_invoice(text: str) -> None:
    assert [r.keys[0][0] for r in read_references(text).refs] == ["10024"]


def test_a_payment_word_alone_labels_nothing() -> None:
    assert [r.keys[0][0] for r in read_references("Zahlung 10024").refs] == ["10024"]


@pytest.mark.parametrize(
    ("text", "read"),
    [
        # euros written without thousands dots: their cents never start the next number
        (
            "10024 2450,00\n10031 1000,00\n10040 75,00",
            [("10024", "2450.00"), ("10031", "1000.00"), ("10040", "75.00")],
        ),
        (
            "Zahlungsavis\nRechnungsnr. Bruttobetrag\n4711 1250,00\n4712 300,00",
            [("4711", "1250.00"), ("4712", "300.00")],
        ),
        (
            "Rechnungsnr. Zahlbetrag\n10024 2401,00\n10031 980,00",
            [("10024", "2401.00"), ("10031", "980.00")],
        ),
        (
            "15.10.2026 10024 2450,00\n18.10.2026 10031 1000,00",
            [("10024", "2450.00"), ("10031", "1000.00")],
        ),
    ],
)
def test_amounts_without_thousands_dots_keep_their_rows(
    text: str, read: list[tuple[str, str]]
) -> None:
    assert [(r.keys[0][0], r.amount) for r in read_references(text).refs] == read


def test_a_list_number_with_a_dated_suffix_is_rejoined() -> None:
    found = [r.keys[0][0] for r in read_references("Re 10031,10\n032-05-2026").refs]
    assert found[:2] == ["10031", "10032"]
