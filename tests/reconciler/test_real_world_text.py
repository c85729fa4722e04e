"""Remittance text as real bank statements and remittance advices carry it: SWIFT field 70
codes, MT940 :86: subfields and SEPA tags, NACHA addenda, national payment references with
check digits, German / French / Spanish labels, exclusions, customer numbers. Each is read
by :func:`read_references` and, where it matters, reconciled against a small book: never
applied to a wrong invoice, suggested when in doubt."""

from __future__ import annotations

import pytest

from canonical.store import Store
from reconciler import reconcile
from reconciler.references import ogm_reference, qrr_reference, read_references
from tests.support.receivables import Book, applied, decision

pytestmark = pytest.mark.usefixtures("book_loading")


def _read(text: str) -> list[tuple[str, bool, str]]:
    """(first key, labelled, how) of each reference read."""
    return [(r.keys[0][0], r.labelled, r.how) for r in read_references(text).refs]


def _ignored(text: str) -> dict[str, str]:
    return {e["written"]: e["why"] for e in read_references(text).ignored}


# -- reading ---------------------------------------------------------------------------------


def test_a_space_separated_list_after_a_label_is_labelled_too() -> None:
    assert _read("PAYMENT FOR INV 1001 1002 LESS CREDIT CM-55") == [
        ("1001", True, "written"),
        ("1002", True, "written"),
        ("55", True, "written"),
    ]
    assert read_references("PAYMENT FOR INV 1001 1002 LESS CREDIT CM-55").refs[2].kind == "credit"
    assert _read("PMT INV 1001 1002 1003") == [
        (k, True, "written") for k in ("1001", "1002", "1003")
    ]
    assert _read("INV#1001,1002,1003") == [(k, True, "written") for k in ("1001", "1002", "1003")]
    # a number on the next line is no list item: it may continue the one before
    assert _read("INV 1234\n56") == [("1234", True, "written"), ("123456", True, "joined")]


def test_numbers_the_payer_excludes_are_not_read() -> None:
    text = "INVOICES 1001 THRU 1005 EXCEPT 1003"
    assert [k for k, _, how in _read(text) if how == "range"] == ["1001", "1002", "1004", "1005"]
    assert "1003" not in [k for k, _, _ in _read(text)]
    assert _ignored(text) == {"1003": "excluded by the payer"}
    text = "INVOICES 1001 THRU 1005 EXCLUDING 1003, 1004"
    assert [k for k, _, how in _read(text) if how == "range"] == ["1001", "1002", "1005"]
    assert [k for k, _, _ in _read("INV 1001 1002 EXCEPT INV 1002")] == ["1001"]
    # the end of a written-out range is not read a second time
    assert [k for k, _, _ in _read("PAY INV 1001 TO 1003")] == ["1001", "1001", "1002", "1003"]


def test_shorthand_and_a_year_with_its_sequence() -> None:
    assert [k for k, _, _ in _read("1001/02/03")] == ["10010203", "1001", "1002", "1003"]
    assert [k for k, _, _ in _read("INV 1001/02/03")][1:] == ["1001", "1002", "1003"]
    # 2024/118 is invoice 118 of 2024, not invoices 2024 and 2118
    assert _read("Fra. 2024/118") == [("2024118", True, "written"), ("118", True, "sequence")]
    # 123/2024 is invoice 123 of 2024 (Italian fatture), never invoice 2024
    assert _read("Fattura n. 123/2024") == [("1232024", True, "written"), ("123", True, "sequence")]
    assert [k for k, _, _ in _read("INV/2024/0001")] == ["20240001"]
    assert [k for r in read_references("2024-0001").refs for k, _ in r.keys] == [
        "20240001",
        "20241",
    ]


def test_swift_field_70_codes() -> None:
    assert _read("/INV/12345/") == [("12345", True, "written")]
    assert _read("/RFB/12345") == [("12345", False, "written")]  # not "RFB12345"
    assert _read("/URI/INV12345 INV12346") == [
        ("12345", True, "written"),
        ("12346", True, "written"),
    ]
    # /INV/ followed by the invoice date, then the number
    assert _read("/INV/20261001/12345") == [("12345", True, "written")]
    # the ordering customer's own reference is no invoice number
    assert _read("/ROC/98765/INV/12345") == [("12345", True, "written")]
    assert _ignored("/ROC/98765/INV/12345") == {"ROC 98765": "not an invoice number"}
    assert _read("OBI/INV 12345 ORG/ACME CORP") == [("12345", True, "written")]


def test_mt940_field_86_subfields_and_sepa_tags() -> None:
    text = ":86:166?00GUTSCHRIFT?109310?20RE 4711?21KD 10025?3010020030?31123456789?32ACME GMBH"
    assert _read(text) == [("4711", False, "written")]  # not 166, 9310, 10020030 nor 10025
    text = "?20EREF+NOTPROVIDED?21SVWZ+Rechnung 4711?22ABWA+ACME"
    assert _read(text) == [("4711", True, "written")]
    text = "EREF+20261102-0001 MREF+M-1001 CRED+DE98ZZZ09999999999 SVWZ+RE 4711"
    assert _read(text) == [("4711", False, "written")]
    assert {"MREF+M-1001", "CRED+DE98ZZZ09999999999"} <= set(_ignored(text))


def test_nacha_addenda_record_code_is_not_an_invoice_number() -> None:
    refs = read_references("705RMR*IV*1001**500.00\\").refs
    assert [(r.keys[0][0], r.how, r.amount) for r in refs] == [("1001", "rmr", "500.00")]


def test_german_french_and_spanish_invoice_labels() -> None:
    assert _read("RE-Nr. 2024-0815")[0] == ("20240815", True, "written")
    assert _read("Rechnungsnr. 4711 vom 01.10.2026") == [("4711", True, "written")]
    assert _read("Rechnungsnummer 4711") == [("4711", True, "written")]
    assert _read("Fact. n° 2024-118") == [("2024118", True, "written")]
    assert _read("Facture N° FA-2024-0118")[0] == ("FA20240118", True, "written")
    assert _read("Fra. n.º 118") == [("118", True, "written")]
    assert _read("Factura 2024-77")[0] == ("202477", True, "written")


def test_customer_numbers_are_not_invoice_numbers() -> None:
    assert _read("Rechnung Nr. 4711 Kd-Nr. 10025") == [("4711", True, "written")]
    assert _ignored("Kundennr. 100234 Rechnung 4711") == {
        "Kundennr. 100234": "not an invoice number"
    }
    assert _read("Kunden-Nr. 10025 RE 4711") == [("4711", False, "written")]
    assert _read("N° client 55012 Facture 2024118") == [("2024118", True, "written")]
    assert _read("CUSTOMER ACCOUNT 100234 PAYMENT") == []
    assert _read("YOUR REF 1001 OUR REF 99887") == [("1001", False, "written")]


def test_belgian_structured_communication() -> None:
    assert ogm_reference("+++090/9337/55493+++") == "090933755493"
    assert ogm_reference("***090/9337/55493***") == "090933755493"
    assert ogm_reference("+++123/4567/89012+++") is None
    assert _read("+++090/9337/55493+++") == [("90933755493", True, "structured")]
    # bad check digits: none of its groups is read as an invoice number
    assert _read("+++123/4567/89012+++") == []
    assert _ignored("+++123/4567/89012+++") == {
        "+++123/4567/89012+++": "Belgian structured communication, bad check digits"
    }


def test_swiss_qr_reference_and_grouped_national_references() -> None:
    assert qrr_reference("21 00000 00003 13947 14300 09017") == "210000000003139471430009017"
    assert qrr_reference("21 00000 00003 13947 14300 09018") is None
    grouped = "21 00000 00003 13947 14300 09017"
    assert _read(grouped) == [("210000000003139471430009017", True, "structured")]
    assert _read("21 00000 00003 13947 14300 09018") == []  # not 13947, 14300, 9017
    assert _read("Betalingskenmerk 1234 5678 9012 3456") == [
        ("1234567890123456", True, "structured")
    ]
    assert _read("KID 1234 5678 9012 8") == [("1234567890128", True, "structured")]


def test_amounts_dates_and_ocr_next_to_invoice_numbers() -> None:
    refs = read_references("REMIT: INV 1001 $500.00; INV 1002 $250.00").refs
    assert [(r.keys[0][0], r.amount) for r in refs] == [("1001", "500.00"), ("1002", "250.00")]
    refs = read_references("INV 1001 DTD 10/01/2026 1,250.00").refs
    assert [(r.keys[0][0], r.amount) for r in refs] == [("1001", "1250.00")]
    refs = read_references("INV 1001 EUR 1.250,00").refs
    assert [(r.keys[0][0], r.amount) for r in refs] == [("1001", "1250.00")]
    assert read_references("INV l0O5").refs[0].keys == [("L0O5", "as written"), ("1005", "ocr")]
    assert read_references("INV NO 1OO1").refs[0].keys[-1] == ("1001", "ocr")
    assert _read("PO 4500012345 INV 90001234") == [("90001234", True, "written")]


def test_patterns_already_read_right() -> None:
    assert _read("INV-000123") == [("123", True, "written")]
    assert _read("A-1001") == [("A1001", False, "written")]
    assert _read("CHK 10234 INV 9000123") == [("9000123", True, "written")]
    assert _read("INVOICE # 1001; # 1002") == [("1001", True, "written"), ("1002", True, "written")]
    assert _read("RF18 5390 0754 7034") == [("539007547034", True, "rf")]
    assert [(r.keys[0][0], r.kind) for r in read_references("INV 1001 CM 55").refs] == [
        ("1001", "invoice"),
        ("55", "credit"),
    ]


def test_short_invoice_numbers_the_payer_labelled_are_read() -> None:
    # Invoiced numbers a new account's invoices INV-0001, INV-0002 ...
    assert _read("Invoice #INV-00042 and #INV-00043 less credit CM-17") == [
        ("42", True, "written"),
        ("43", True, "written"),
        ("17", True, "written"),
    ]
    assert _read("Invoice 42") == [("42", True, "written")]
    assert _read("RMR*IV*42**100.00\\") == [("42", True, "rmr")]
    # zero-padded in a labelled list; a short one not padded is not
    assert _read("INVOICES 0041, 0042") == [("41", True, "written"), ("42", True, "written")]
    assert _read("INVOICES 41, 42") == [("41", True, "written")]
    assert [k for k, _, how in _read("INV 0041-0043 EXCEPT 0042") if how == "range"] == [
        "41",
        "43",
    ]
    # unlabelled short numbers stay unread: quantities, street numbers
    assert _read("ACME 12 MAIN ST INV 4711") == [("4711", True, "written")]
    assert _read("PMT 2 OF 3 INV 4711") == [("4711", True, "written")]


def test_the_payers_own_numbers_are_not_invoices() -> None:
    for text in (
        "VENDOR NO 1045 INV 1050",
        "SUPPLIER #: 1045 INV 1050",
        "Kreditor-Nr. 1045 Rechnung 1050",
        "klantnummer 1045 factuur 1050",
        "Kundnr 1045 Faktura 1050",
        "CK# 1045 INV 1050",
        "LBX 0456 INV 1050",
        "SO 1045 INV 1050",
        "RMA 1045 INV 1050",
        "REMITTANCE ADVICE #1045 INV 1050",
        "PAYMENT NO 1045 INV 1050",
        "INV 1050 LESS DM 1045",
        "QUESTIONS CALL 800-555-1212 INV 1050",
        "INV 1050 AMT 1500",
        "DESCR DATE=261102 INV 1050",
        "REF*VN*30021~REF*PO*4500012345~INV 1050",
    ):
        assert _read(text) == [("1050", True, "written")], text
    # a list after such a word is more of the same
    assert _read("PO 7781, 7782 INVOICE 7790") == [("7790", True, "written")]
    assert _ignored("PO 7781, 7782 INVOICE 7790")["7782"] == "not an invoice number"
    # an unlabelled payment number stays a guess
    assert _read("PAYMENT 1050") == [("1050", False, "written")]


def test_credit_memo_labels_of_many_languages() -> None:
    for text in (
        "INV 1050 LESS CR 991",
        "INV 1050 LESS CR#991",
        "INV 1050 LESS C/M 991",
        "factuur 1050 minus creditnota 991",
        "Rechnung 1050 abzgl. GS 991",
        "facture 1050 note de crédit 991",
        "factura 1050 menos abono 991",
        "fattura 1050 nota di credito 991",
        "faktura 1050 kreditfaktura 991",
    ):
        refs = read_references(text).refs
        assert [(r.keys[0][0], r.kind) for r in refs] == [("1050", "invoice"), ("991", "credit")]
    # a bank's CR alone is any credit, not a memo
    assert [r.kind for r in read_references("ACH CR 10452").refs] == ["invoice"]


def test_amounts_with_currency_codes_and_signs_are_not_invoice_numbers() -> None:
    refs = read_references("INV 88123 USD1500.00 INV 88124 USD2000.00").refs
    assert [(r.keys[0][0], r.amount) for r in refs] == [("88123", "1500.00"), ("88124", "2000.00")]
    assert _read("INV 88123 1500 USD") == [("88123", True, "written")]
    assert [(r.keys[0][0], r.kind) for r in read_references("INV 88123 EUR 1500.00").refs] == [
        ("88123", "invoice")
    ]
    refs = read_references("INV 88123 2500.00 LESS CM 889 -150.00").refs
    assert [(r.keys[0][0], r.kind, r.amount) for r in refs] == [
        ("88123", "invoice", "2500.00"),
        ("889", "credit", None),
    ]


def test_dates_without_a_year_and_oracle_dates() -> None:
    assert _read("INV 88123 11/02") == [("88123", True, "written")]
    assert _read("INV 88123 DATED 15-OCT-26") == [("88123", True, "written")]
    # after a label it is a list of invoices, not a date
    assert [k for k, _, how in _read("INV 10/11") if how == "part"] == ["10", "11"]


def test_number_words_and_labels_read_as_labels() -> None:
    for text in ("Invoice-No. 4711", "Rechnungs-Nr. 4711", "Inv.-No. 4711", "Invoice Nbr 4711"):
        assert _read(text) == [("4711", True, "written")], text
    assert _read("INVOICE(S) 88123 88124") == [
        ("88123", True, "written"),
        ("88124", True, "written"),
    ]
    assert _read("Fattura n.123") == [("123", True, "written")]
    assert _read("PAGAMENTO FT. 45") == [("45", True, "written")]
    assert _read("laskunumero 4711") == [("4711", True, "written")]


def test_a_range_with_its_end_written_short() -> None:
    assert [k for k, _, how in _read("Invoices 88121-25") if how == "range"] == [
        "88121",
        "88122",
        "88123",
        "88124",
        "88125",
    ]
    # a suffix lower than the number is no range
    assert [how for _, _, how in _read("INV 88123-1")] == ["written"]


def test_a_number_cut_by_a_line_break_after_its_first_digits_is_read_whole() -> None:
    assert _read("PAYMENT FOR INVOICES 88123 88124 88\n125 THANK YOU") == [
        ("88123", True, "written"),
        ("88124", True, "written"),
        ("88125", True, "written"),
    ]
    assert [k for k, _, _ in _read("INVOICES 88123, 8\n8124 AND 88126")] == [
        "88123",
        "88124",
        "88126",
    ]


def test_labels_as_ap_systems_and_lockbox_keying_write_them() -> None:
    for text in (
        "Invoice #: 4711",
        "INV#: 4711",
        "Inv. #: 4711",
        "INVOICE ID: 4711",
        "Inv0ice 4711",
    ):
        assert _read(text) == [("4711", True, "written")], text
    assert _read("INVOICE N0 4711") == [("4711", True, "written")]
    assert [(r.keys[0][0], r.kind) for r in read_references("INV#: 4711 LESS CM#: 991").refs] == [
        ("4711", "invoice"),
        ("991", "credit"),
    ]
    assert _read("Invoice #: 42") == [("42", True, "written")]
    full_width = "".join(chr(0xFEE0 + ord(ch)) for ch in "INV4711")
    assert _read(full_width) == [("4711", True, "written")]


def test_narration_segments_glued_by_slashes() -> None:
    assert _read("IMPS/P2A/428912345678/ACME/INV4711")[-1] == ("4711", True, "written")
    assert _read("ACME/INV10234") == [("10234", True, "written")]
    assert ("4711", True, "written") in _read("UPI/428912345678/INV 4711/acme@okhdfc")
    # an invoice number written with slashes stays one number
    assert _read("INV/2024/00123")[0] == ("202400123", True, "written")


def test_more_of_the_payers_own_numbers() -> None:
    for text in (
        "INV 4711 QTY 120 UNITS",
        "INV 4711 WO 5567",
        "INV 4711 CLAIM 5567",
        "INV 4711 VOUCHER 5567",
        "VCARD 1234 INV 4711",
        "CARD LAST 4 1234 INV 4711",
        "PAYMENT FY 2024-25 INV 4711",
        "PMT REF 556677 INV 4711",
    ):
        assert [k for k, _, _ in _read(text)] == ["4711"], text
    assert _read("DEPOSIT QUOTE 1234") == []
    # a bank's CREDIT is no credit memo
    assert {r.kind for r in read_references("DIRECT CREDIT 123456 ACME INV4711").refs} == {
        "invoice"
    }
    # a code after a labelled number does not inherit the label
    assert _read("INV 4711 PO4500012345")[1][1] is False


def test_list_items_with_amounts_in_parentheses_and_date_shaped_numbers() -> None:
    refs = read_references("Rechnungen 4711 (1.190,00), 4712 (595,00)").refs
    assert [(r.keys[0][0], r.labelled, r.amount) for r in refs] == [
        ("4711", True, "1190.00"),
        ("4712", True, "595.00"),
    ]
    assert [k for k, _, _ in _read("INVOICES 20241001 20241002 20241003")] == [
        "20241001",
        "20241002",
        "20241003",
    ]
    assert _ignored("INV 4711 DATE 20241001") == {"20241001": "a date"}
    # n/yy in an Italian list is an invoice of a year, not a day of a month
    assert ("624", True, "written") in _read("Fatture n. 5/24 e 6/24")
    refs = read_references("/INV/4711 HKD12345,00 4712 HKD500,00").refs
    assert [(r.keys[0][0], r.amount) for r in refs] == [("4711", "12345.00"), ("4712", "500.00")]


def test_inv_code_glued_to_the_word_before_it() -> None:
    assert _read("PAYMENT/INV/12345") == [("12345", True, "written")]
    assert _read("ACH PMT/INV/12345/INV/12346") == [
        ("12345", True, "written"),
        ("12346", True, "written"),
    ]


# -- reconciling -----------------------------------------------------------------------------


def test_an_excluded_invoice_is_never_paid(store: Store, book: Book) -> None:
    c = book.customer("Acme Corp")
    for number in ("1001", "1002", "1003", "1004", "1005"):
        book.invoice(c, number, "100.00")
    rid = book.pay("400.00", payer="ACME CORP", text="INVOICES 1001 THRU 1005 EXCEPT 1003")
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.rule) == ("auto_applied", "invoice_number_in_text")
    assert applied(store, rid) == {
        "1001": "100.00",
        "1002": "100.00",
        "1004": "100.00",
        "1005": "100.00",
    }
    assert {"written": "1003", "why": "excluded by the payer"} in d.evidence["text_ignored"]


def test_a_space_separated_list_with_a_credit_memo_applies_each(store: Store, book: Book) -> None:
    c = book.customer("Acme Corp")
    book.invoice(c, "1001", "500.00")
    book.invoice(c, "1002", "250.00")
    book.invoice(c, "1003", "250.00")
    book.credit(c, "CM-55", "50.00")
    rid = book.pay("700.00", payer="ACME CORP", text="PAYMENT FOR INV 1001 1002 LESS CREDIT CM-55")
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.rule) == ("auto_applied", "invoice_number_in_text")
    # the memo's 50.00 pays alongside the cash (on 1001); 1003 is not named, not paid
    assert applied(store, rid) == {"1001": "450.00", "1002": "250.00"}
    assert d.evidence["credit_memo_refs"] == ["CM-55"]
    assert "1003" not in applied(store, rid)


def test_swift_codes_and_sepa_tags_reconcile_to_the_named_invoice(store: Store, book: Book) -> None:
    c = book.customer("Acme Corp")
    book.invoice(c, "12345", "300.00")
    book.invoice(c, "98765", "300.00")  # the payer's own reference bears this number
    book.invoice(c, "4711", "120.00")
    book.invoice(c, "10025", "120.00")  # the customer number
    wire = book.pay("300.00", payer="ACME CORP", text="/ROC/98765/INV/12345")
    sepa = book.pay(
        "120.00",
        payer="ACME CORP",
        text="EREF+NOTPROVIDED KREF+10025 SVWZ+Rechnung 4711 Kd-Nr. 10025",
    )
    reconcile(store)
    assert applied(store, wire) == {"12345": "300.00"}
    assert decision(store, wire).rule == "invoice_number_in_text"
    assert applied(store, sepa) == {"4711": "120.00"}
    assert decision(store, sepa).rule == "invoice_number_in_text"


def test_a_bad_structured_communication_is_not_read_as_invoice_numbers(
    store: Store, book: Book
) -> None:
    c = book.customer("Acme Corp")
    book.invoice(c, "4567", "80.00")
    book.invoice(c, "89012", "90.00")
    rid = book.pay("80.00", payer="ZZ UNKNOWN BVBA", text="+++123/4567/89012+++")
    reconcile(store)
    d = decision(store, rid)
    assert d.status != "auto_applied" and applied(store, rid) == {}


def test_a_swiss_qr_reference_is_not_split_into_invoice_numbers(store: Store, book: Book) -> None:
    c = book.customer("Acme Corp")
    book.invoice(c, "9017", "50.00")
    book.invoice(c, "13947", "50.00")
    rid = book.pay("50.00", payer="ZZ UNKNOWN AG", text="21 00000 00003 13947 14300 09017")
    reconcile(store)
    assert decision(store, rid).status != "auto_applied"
    assert applied(store, rid) == {}


def test_a_year_and_sequence_invoice_number(store: Store, book: Book) -> None:
    c = book.customer("Empresa SA")
    book.invoice(c, "2024/118", "200.00")
    book.invoice(c, "2118", "200.00")
    book.invoice(c, "2024", "200.00")
    rid = book.pay("200.00", payer="EMPRESA SA", text="PAGO Fra. 2024/118")
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.rule) == ("auto_applied", "invoice_number_in_text")
    assert applied(store, rid) == {"2024/118": "200.00"}


def test_customer_number_only_does_not_pay_the_invoice_of_that_number(
    store: Store, book: Book
) -> None:
    acme = book.customer("Acme GmbH")
    book.invoice(acme, "4711", "120.00")
    other = book.customer("Globex GmbH")
    book.invoice(other, "100234", "120.00")  # bears the number of Acme's customer account
    rid = book.pay("120.00", payer="ACME GMBH", text="Kundennr. 100234 Zahlung")
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.rule) == ("auto_applied", "customer_exact_balance")
    assert applied(store, rid) == {"4711": "120.00"}
    assert {"written": "Kundennr. 100234", "why": "not an invoice number"} in d.evidence[
        "text_ignored"
    ]


def test_per_invoice_amounts_with_thousands_separators(store: Store, book: Book) -> None:
    c = book.customer("Acme Corp")
    book.invoice(c, "1001", "1250.00")
    book.invoice(c, "1002", "2000.00")
    rid = book.pay(
        "2250.00", payer="ACME CORP", text="REMIT: INV 1001 $1,250.00; INV 1002 $1,000.00"
    )
    reconcile(store)
    d = decision(store, rid)
    assert d.status == "auto_applied" and d.evidence["amounts"] == "as stated by the payer"
    assert applied(store, rid) == {"1001": "1250.00", "1002": "1000.00"}


def test_leading_zeros_and_ocr_slips_find_the_invoice(store: Store, book: Book) -> None:
    c = book.customer("Acme Corp")
    book.invoice(c, "123", "40.00")
    book.invoice(c, "1005", "60.00")
    zeros = book.pay("40.00", payer="ACME CORP", text="INV-000123")
    ocr = book.pay("60.00", payer="ACME CORP", text="INV l0O5")
    reconcile(store)
    assert applied(store, zeros) == {"123": "40.00"}
    assert applied(store, ocr) == {"1005": "60.00"}
    assert decision(store, ocr).evidence["matched"][0]["read"] == "ocr"


def test_a_short_labelled_invoice_number_is_paid(store: Store, book: Book) -> None:
    c = book.customer("Acme Corp")
    book.invoice(c, "INV-0042", "120.00")
    book.invoice(c, "INV-0043", "80.00")
    book.invoice(c, "42000", "120.00")
    rid = book.pay("200.00", payer="ACME CORP", text="Invoice #INV-0042 and #INV-0043")
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.rule) == ("auto_applied", "invoice_number_in_text")
    assert applied(store, rid) == {"INV-0042": "120.00", "INV-0043": "80.00"}


def test_a_po_list_is_never_paid_as_invoices(store: Store, book: Book) -> None:
    c = book.customer("Acme Corp")
    book.invoice(c, "7782", "300.00")
    book.invoice(c, "7785", "300.00")
    rid = book.pay("300.00", payer="ACME CORP", text="PO 7781, 7782 INVOICE 7790")
    reconcile(store)
    d = decision(store, rid)
    assert d.status != "auto_applied" and applied(store, rid) == {}


def test_cash_for_an_invoice_not_open_is_not_applied_to_another_by_amount(
    store: Store, book: Book
) -> None:
    c = book.customer("Acme Corp")
    book.invoice(c, "4712", "100.00")  # 4711 was paid already
    rid = book.pay("100.00", payer="ACME CORP", text="INV 4711")
    reconcile(store)
    d = decision(store, rid)
    assert d.status == "suggested" and applied(store, rid) == {}
    assert d.evidence["labelled_not_found"] == ["INV 4711"]
    assert [i["number"] for i in d.candidates[0]["invoices"]] == ["4712"]


def test_an_unlabelled_number_beside_a_named_invoice_not_open_is_not_applied(
    store: Store, book: Book
) -> None:
    c = book.customer("Acme Corp")
    book.invoice(c, "1200", "400.00")
    book.invoice(c, "1300", "400.00")
    rid = book.pay("400.00", payer="ACME CORP", text="ACME CORP 1200 MAIN ST INV 88123")
    reconcile(store)
    d = decision(store, rid)
    assert d.status == "suggested" and applied(store, rid) == {}


def test_a_number_cut_after_two_digits_pays_the_whole_number(store: Store, book: Book) -> None:
    c = book.customer("Acme Corp")
    for number in ("88123", "88124", "88125", "125"):
        book.invoice(c, number, "100.00")
    rid = book.pay("300.00", payer="ACME CORP", text="PAYMENT FOR INVOICES 88123 88124 88\n125")
    reconcile(store)
    assert applied(store, rid) == {"88123": "100.00", "88124": "100.00", "88125": "100.00"}


def test_an_italian_invoice_number_with_its_year(store: Store, book: Book) -> None:
    c = book.customer("Rossi SRL")
    book.invoice(c, "123", "500.00")
    book.invoice(c, "2024", "300.00")
    rid = book.pay("500.00", payer="ROSSI SRL", text="SALDO FATTURA N. 123/2024 DEL 15/10/2024")
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.rule) == ("auto_applied", "invoice_number_in_text")
    assert applied(store, rid) == {"123": "500.00"}


def test_payer_name_variant_with_a_legal_form(store: Store, book: Book) -> None:
    c = book.customer("Acme Corporation Ltd.")
    book.invoice(c, "1001", "100.00")
    book.invoice(c, "1002", "55.00")
    rid = book.pay("100.00", payer="ACME CORP")
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.rule) == ("auto_applied", "customer_exact_balance")
    assert applied(store, rid) == {"1001": "100.00"}


def test_text_padded_with_long_runs_of_spaces_is_read() -> None:
    # fixed-width fields joined (NACHA addenda, BAI2 records) leave long runs of spaces; a
    # run before something that is no number once made the reader backtrack for minutes
    assert _read("INVOICE" + " " * 2000 + "X 1,000.00 2024-10-01") == []
    assert _read("INV 4711" + " " * 2000 + "X 4712") == [
        ("4711", True, "written"),
        ("4712", False, "written"),
    ]
