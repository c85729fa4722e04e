"""Remittance text in the shapes real bank files carry it: camt ``Ustrd`` / ``AddtlTxInf`` /
``AddtlNtryInf``, BAI2 16/88 text, NACHA 705 addenda and MT940 :86:. The shapes come from
the public test files each case names; names, numbers and IBANs are our own. Precision
first: what is read must be what the payer meant as an invoice (or credit memo) number, and
IBANs, card numbers, phone numbers, dates, account and customer numbers must not be."""

from __future__ import annotations

import pytest

from canonical.store import Store
from reconciler import reconcile
from reconciler.references import iban, read_references
from tests.support.receivables import Book, applied, decision

pytestmark = pytest.mark.usefixtures("book_loading")

# our own IBANs, with valid check digits
DE_IBAN = "DE43 1234 5678 9012 3456 78"
LT_IBAN = "LT71 7300 0101 2345 6789"
NL_IBAN = "NL44RABO0123456789"
NO_IBAN = "NO7086011234567"


def _read(text: str) -> list[tuple[str, bool, str]]:
    """(first key, labelled, how) of each reference read."""
    return [(r.keys[0][0], r.labelled, r.how) for r in read_references(text).refs]


def _ignored(text: str) -> dict[str, str]:
    return {e["written"]: e["why"] for e in read_references(text).ignored}


# -- false readings found in real files, fixed -----------------------------------------------


def test_account_and_lockbox_numbers_written_with_no_are_not_labelled_invoices() -> None:
    # moov-io/bai2 test/testdata/sample2.txt: "LOCK BOX NO.68751"
    assert _read("LOCK BOX NO.40312") == []
    assert _read("ACCOUNT NO.5521 INV 1001") == [("1001", True, "written")]
    assert _read("CUSTOMER NR.5521") == []
    # a Norwegian IBAN starts with NO: no invoice "No." either
    assert _read(f"Payment from {NO_IBAN}") == []


def test_a_code_starting_with_cn_or_cr_is_no_labelled_credit_memo() -> None:
    # Subite-eu/camt-to-coda example-files/CAMT/Other/*.xml Ustrd: "Settlement CNLFHV4126",
    # "Order CNUDTT5513 payment", "Transfer ref CRFYBA5638"
    refs = read_references("Settlement CNQXRT4711").refs
    assert [(r.keys[0][0], r.kind, r.labelled) for r in refs] == [("CNQXRT4711", "invoice", False)]
    assert _read("Order CNWQPZ5120 payment") == []  # an order number
    assert _read("Transfer ref CRZZAB3321") == [("CRZZAB3321", False, "written")]
    # a credit memo number still reads as one
    refs = read_references("INV 1001 LESS CN-55").refs
    assert [(r.keys[0][0], r.kind) for r in refs] == [("1001", "invoice"), ("55", "credit")]


def test_ibans_in_groups_are_not_read_as_invoice_numbers() -> None:
    assert iban(DE_IBAN) == DE_IBAN.replace(" ", "")
    assert iban("DE44 1234 5678 9012 3456 78") is None  # bad check digits
    # viafintech/camt_parser spec/fixtures/052/valid_example.xml Ustrd: "... IBAN: DE.. BIC: .."
    text = f"Zahlung IBAN: {DE_IBAN} BIC: GENODEF1XYZ Rechnung 4711"
    assert _read(text) == [("4711", True, "written")]
    assert _ignored(text)[DE_IBAN] == "an IBAN"
    # grouped, unlabelled, followed by an invoice: not 7300, 101, 2345 nor 6789
    assert _read(f"{LT_IBAN} INV 1001") == [("1001", True, "written")]
    # WoLpH/mt940 mt940_tests/jejik/knab.sta: "FACTUUR 201403110, 201403113 REK: NL..IBAN/NAAM"
    text = f"FACTUUR 201403110, 201403113\nREK: {NL_IBAN}/NAAM: PICQER"
    assert _read(text) == [("201403110", True, "written"), ("201403113", True, "written")]
    # a labelled IBAN is still an IBAN
    assert _read(f"Sąskaita Nr. {LT_IBAN}") == []
    # a bad check digit: left as it was written, one token (never split into groups)
    assert [k for k, _, _ in _read("NL45RABO0123456789")] == ["NL45RABO0123456789"]


def test_masked_card_numbers_are_not_invoice_numbers() -> None:
    # WoLpH/mt940 mt940_tests/self-provided/whitespace.sta: "... VISA 4998 XXXX?22XXXX 1234"
    text = ":86:820?00UMBUCHUNG?109392?20ERSTATTUNG ENTGELT?21FUER VISA 4871 XXXX?22XXXX 3456"
    assert _read(text) == []
    assert _read("Kartenzahlung 4871 78XX XXXX 3456") == []
    assert _read("CARD 487178******3456 INV 1001") == [("1001", True, "written")]
    assert _read("card ending 3456") == []


def test_dates_with_month_names_and_times_are_not_invoice_numbers() -> None:
    # moov-io/ach test/issues/testdata/issue1600/*.txt: "Main Street Branch April 2025 Rent"
    assert _read("Elm Street Branch April 2025 Rent Payment") == []
    # moov-io/bai2 test/testdata/sample5-issue113.txt: "Period: Jul 1, 2023 to Jul 31, 2023"
    assert (
        _read("Interest,Interest For Account: XXXXXXXX-4410, Period: Mar 1, 2025 to Mar 31, 2025")
        == []
    )
    assert _read("HUUR KANTOOR - FEB 2024 factuur 2024-017") == [("2024017", True, "written")]
    assert _read("Betaling 5 Feb 2024 INV 1001") == [("1001", True, "written")]
    # WoLpH/mt940 mt940_tests/jejik/abnamro.sta: "BEA NR:XXX1234 21.05.11/12.54 ..."
    assert _read("BEA   NR:XXX9876   03.02.24/14.25 BAKKERIJ FIL. 55") == [
        ("XXX9876", False, "written")
    ]
    # WoLpH/mt940 mt940_tests/ASNB/*.940.txt: "2020-01-28T14:32:46-000000000000089-NL.."
    assert "2024-03-05T09:12:44" in _ignored("2024-03-05T09:12:44 Transfer")
    # a word that starts like a month is no month
    assert _read("Marketing 2024 INV 1001") == [
        ("2024", False, "written"),
        ("1001", True, "written"),
    ]


def test_phone_tan_serial_and_bank_text_tags_are_not_invoice_numbers() -> None:
    # moov-io/ach test/testdata/nonascii-utf8.ach (CTX X12 in 705): "REF¦VI¦¦/PHON 888-888-8888"
    assert _read("REF¦VI¦¦/PHON 555-201-7788~REF¦7U¦") == []
    # viafintech/camt_parser spec/fixtures/053/valid_example.xml: "... Zahlung   TAN:283044"
    assert _read("Sammelueberweisung 1. Zahlung   TAN:517204") == []
    # OCA/bank-statement-import account_statement_import_camt/test_files: "... CUSNO 90782 .."
    assert _read("#RD PARTY MEDIA CUSNO 40312") == []
    # moov-io/bai2 test/testdata/sample4-*.txt: Goldman Sachs text tags
    text = (
        "Check Paid,To: ACME AND SONS LLC, Check Serial Number: 31877, GS ID: SC2400000011 "
        "CABA: 54321 CHKN: 31877 DACT: 7700123456"
    )
    assert _read(text) == []  # GS ID is an id too


def test_mt940_86_account_number_is_not_cut_into_a_transaction_code() -> None:
    # WoLpH/mt940 mt940_tests/jejik/sns.sta: ":86:0987654321 marechal s" (a counter account);
    # only a 3-digit transaction code is framing, never the head of a longer number
    assert _read(":86:0612345678 jansen p") == [("612345678", False, "written")]
    assert _read(":86:166?00GUTSCHRIFT?109310?20RE 4711") == [("4711", False, "written")]


def test_dutch_structured_86_codes() -> None:
    # WoLpH/mt940 mt940_tests/jejik/rabobank-iban.sta: "/BENM//NAME/../REMI/Reference 2013../ISDT/"
    assert _read(":86:/BENM//NAME/J JANSEN/REMI/Reference 202401234/ISDT/2024-01-02") == [
        ("202401234", False, "written")
    ]
    # creditor id (CSID) and mandate (MARF) are not invoice numbers, nor is the BIC on the list
    text = (
        f":86:/TRTP/SEPA INCASSO/CSID/NL12ZZZ123456780000/NAME/ACME/MARF/987654"
        f"/REMI/Factuur 2024-0042/IBAN/{NL_IBAN}/BIC/RABONL2U"
    )
    assert _read(text) == [("20240042", True, "written"), ("RABONL2U", False, "written")]
    assert {"MREF 987654", "CRED NL12ZZZ123456780000"} <= set(_ignored(text))


def test_a_number_and_its_year_is_not_a_shorthand_list() -> None:
    # 12345/2024 is invoice 12345 of 2024 (12345 alone too), never "12024"
    assert _read("Faktura nr 12345/2024") == [
        ("123452024", True, "written"),
        ("12345", True, "sequence"),
    ]
    assert [k for k, _, _ in _read("INV 1234/35/36")] == ["12343536", "1234", "1235", "1236"]


# -- invoice references that were missed, now read -------------------------------------------


def test_polish_faktura_vat_and_fv() -> None:
    # WoLpH/mt940 mt940_tests/mBank/with_newline_in_tnr.sta:
    # "TYT.: _FAKTURA VAT NR FVD-0000/02/2017"
    assert _read("TYT.: FAKTURA VAT NR FVS-0042/03/2024 ;") == [("FVS0042032024", True, "written")]
    assert _read("Faktura VAT FV/2024/03/118") == [("FV202403118", True, "written")]
    assert _read("FV 2024/118") == [("2024118", True, "written"), ("118", True, "sequence")]
    assert _read("fakt. 12345") == [("12345", True, "written")]


def test_lithuanian_saskaita() -> None:
    # moov-io/iso20022 test/testdata/sepa_payment_naujas_1.xml: "Apmokama saskaita-faktura Nr. 1"
    assert _read("Apmokama sąskaita-faktūra Nr. 2024-17") == [("202417", True, "written")]
    assert _read("Apmokama saskaita-faktura Nr. 2024-17") == [("202417", True, "written")]
    assert _read("Sask. 2024-115") == [("2024115", True, "written")]
    assert _read("Apmokėjimas pagal sąskaitą Nr. 4521") == [("4521", True, "written")]
    # "account" in Lithuanian too: a fee text with only dates in it reads nothing
    assert _read("Mokestis už į kliento sąskaitą pervestų lėšų įskaitymą 2024.04.01") == []


def test_more_labels_and_list_words() -> None:
    assert _read("Rech.Nr. 4711") == [("4711", True, "written")]
    assert _read("Betaling factuur 2024001 en 2024002") == [
        ("2024001", True, "written"),
        ("2024002", True, "written"),
    ]
    assert _read("Faktura 1201 i 1202") == [("1201", True, "written"), ("1202", True, "written")]


# -- real shapes that were already read right ------------------------------------------------


def test_real_shapes_already_read_right() -> None:
    # moov-io/iso20022 test/testdata/*camt.054*.xml Ustrd
    assert _read("Rechnung 3301") == [("3301", True, "written")]
    assert _read("Rg.-Nr. 5512093847") == [("5512093847", True, "written")]
    assert _read("Rg.-Nr. 007") == [("7", True, "written")]  # labelled: short is no guess
    assert _read("Invoices 321 and 654") == [("321", True, "written"), ("654", True, "written")]
    # viafintech/camt_parser spec/fixtures/053/valid_example_v8.xml Ustrd: "INVOICE R77561"
    assert _read("INVOICE R40215") == [("R40215", True, "written")]
    # moov-io/iso20022 test/testdata/FI_camt_054_sample.xml.xml Ustrd: "RFB/557742358"
    assert _read("RFB/402215678") == [("RFB402215678", False, "written")]
    # moov-io/bai2 sample4: an ACH entry description is no invoice label
    assert _read("Entry Description: INVOICES; 240115, SEC: CCD") == [("240115", False, "written")]
    # WoLpH/mt940 mt940_tests/self-provided/details_60-63.sta: German tax direct debit
    text = (
        ":86:105?00Basislastschrift?10931?20EREF+123/456/78901-----L110?22MREF+BYA98765432101"
        "?23CRED+DE99ZZZ00000098765 ?24SVWZ+STEUERNR 123/456/78901?25     KOERPST 3VJ.24"
    )
    reading = read_references(text)
    assert "MREF+BYA98765432101" in {e["written"] for e in reading.ignored}
    assert all(r.labelled is False for r in reading.refs)
    # viafintech/camt_parser spec/fixtures/*: Swiss bank boilerplate with no invoice in it
    assert _read("SAMMELGUTSCHRIFT ESR VERARBEITUNG VOM 27.05.2024 KUNDENNUMMER 01-123456-7") == []
    assert _read("NOTPROVIDED") == []
    assert _read("FACTUURNUMMER 987654321") == [("987654321", True, "written")]


# -- reconciling -----------------------------------------------------------------------------


def test_numbers_inside_an_iban_or_a_card_never_pay_an_invoice(store: Store, book: Book) -> None:
    c = book.customer("Acme Corp")
    book.invoice(c, "1001", "100.00")
    book.invoice(c, "7300", "100.00")  # the bank code of the payer's IBAN
    book.invoice(c, "3456", "100.00")  # the last digits of the card
    by_iban = book.pay("100.00", payer="ACME CORP", text=f"{LT_IBAN} INV 1001")
    # read as written, the card's last digits paid invoice 3456 of this very payer
    by_card = book.pay("100.00", payer="ACME CORP", text="VISA 4871 XXXX XXXX 3456")
    reconcile(store)
    assert applied(store, by_iban) == {"1001": "100.00"}
    assert decision(store, by_iban).rule == "invoice_number_in_text"
    assert decision(store, by_card).status != "auto_applied"
    assert applied(store, by_card) == {}


def test_an_account_no_is_not_an_invoice_label(store: Store, book: Book) -> None:
    acme = book.customer("Acme Corp")
    book.invoice(acme, "1001", "100.00")
    globex = book.customer("Globex Inc")
    book.invoice(globex, "5521", "100.00")  # bears the number of Acme's account with us
    rid = book.pay("100.00", payer="ACME CORP", text="ACCOUNT NO.5521 THANK YOU")
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.rule) == ("auto_applied", "customer_exact_balance")
    assert applied(store, rid) == {"1001": "100.00"}
