"""Remittance text as banks and payers write it: a wire's own fields in BAI2 text name no
invoice, a dotted list of labelled numbers is a list, and a percentage or a count after an
invoice number does not continue it."""

from __future__ import annotations

import pytest

from reconciler.references import read_references

# Bank of America's incoming wire as its BAI2 16/88 text prints it (DATE: TIME: ET TRN: SEQ:
# ORIG: ID: SND BK: ID: PMT DET:)
BOFA_WIRE = (
    "WIRE TYPE:WIRE IN DATE:240115 TIME:1022 ET TRN:2024011500123456 SEQ:123456/000123 "
    "ORIG:ACME CORP ID:123456789 SND BK:JPMORGAN CHASE BANK ID:0002 PMT DET:INV 99812 99813"
)


def _read(text: str) -> list[tuple[str, str, bool]]:
    """(kind, first key, labelled) of each primary reading, in order."""
    return [
        (ref.kind, ref.keys[0][0], ref.labelled)
        for ref in read_references(text).refs
        if ref.how in ("written", "rmr")
    ]


def test_the_time_of_a_wire_is_no_invoice_number() -> None:
    reading = read_references(BOFA_WIRE)
    assert _read(BOFA_WIRE) == [("invoice", "99812", True), ("invoice", "99813", True)]
    assert "TIME:1022" in [i["written"] for i in reading.ignored]


def test_the_payment_details_alone_name_the_invoice() -> None:
    # PMT DET holds the payer's words: a bare number there is still read (unlabelled)
    text = (
        "WIRE TYPE:INTL IN DATE:261119 TIME:1255 ET TRN:2026111900418832 "
        "SEQ:2026111900418832/000739 ORIG BK:COMMERZBANK AG ID:COBADEFFXXX PMT DET:8841"
    )
    assert _read(text) == [("invoice", "8841", False)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Wells Fargo: the Fedwire sequence (FED#) and the sender's reference (SRF#)
        (
            "WT FED#06710 FIRST MIDWEST TRUST SRF#0000257242264277 TRN#261119160752 RFB#INV-7701",
            [("invoice", "7701", True)],
        ),
        # CHIPS: sequence number, UID and sending participant
        (
            "CHIPS CREDIT SSN:0012345 UID:123456 SND:0002 ORG:ACME CORP OGB:HSBC BANK USA "
            "BNF:ARSYNC INC OBI:INV 4471 4472",
            [("invoice", "4471", True), ("invoice", "4472", True)],
        ),
        # the originator's account after ORG=/ (Fedwire tag 5000 as banks print it)
        (
            "Fedwire Credit Org=/000123456789 Harborview Logistics Inc Ogb=First Midwest "
            "Trust Bnf=Northwind Traders LLC Obi=INV 7001 7002",
            [("invoice", "7001", True), ("invoice", "7002", True)],
        ),
        # the beneficiary's account after BNF: /
        ("OBI: INV 7781 BNF: /000123456 ARSYNC INC", [("invoice", "7781", True)]),
        # an FX wire's rate
        (
            "WIRE TYPE:FX IN DATE:240115 TIME:0915 ET TRN:2024011500123456 FX RATE:1.0845 "
            "PMT DET:INV 88120",
            [("invoice", "88120", True)],
        ),
    ],
)
def test_a_wires_own_fields_name_no_invoice(
    text: str, expected: list[tuple[str, str, bool]]
) -> None:
    assert _read(text) == expected


def test_the_payers_reference_field_in_a_wire_is_still_read() -> None:
    # YOUR REF / RFB: the payer's own reference, read (without a label) beside the bank's
    assert _read("YOUR REF: 4471 OUR REF: 99887 TIME:1022") == [("invoice", "4471", False)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("INV1001.INV1002.INV1003", ["1001", "1002", "1003"]),
        ("inv1001.inv1002", ["1001", "1002"]),
        ("INV-1001.INV-1002", ["1001", "1002"]),
        ("INV 1001.INV 1002.INV 1003", ["1001", "1002", "1003"]),
        ("PAYMENT FOR INV1001.INV1002.INV1003 TOTAL 3,000.00", ["1001", "1002", "1003"]),
        ("INV1001,INV1002", ["1001", "1002"]),
        ("INV1001;INV1002", ["1001", "1002"]),
    ],
)
def test_labelled_numbers_joined_by_dots_are_a_list(text: str, expected: list[str]) -> None:
    refs = read_references(text).refs
    assert [ref.keys[0][0] for ref in refs] == expected
    assert all(ref.labelled and ref.kind == "invoice" for ref in refs)


def test_credit_memos_joined_by_dots_are_a_list() -> None:
    assert _read("CM55.CM56") == [("credit", "55", True), ("credit", "56", True)]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("INV 1001.1002", "10011002"),  # one number with a dot, or two: as written
        ("INV 2024.0012", "20240012"),  # a year and a sequence
        ("INVOICE NO. 2024.117", "2024117"),
    ],
)
def test_a_dotted_number_without_letters_between_stays_one(text: str, key: str) -> None:
    assert [ref.keys[0][0] for ref in read_references(text).refs] == [key]


def test_an_amount_is_no_invoice_number() -> None:
    reading = read_references("INV 1001 1001.00")
    assert [(r.keys[0][0], r.amount) for r in reading.refs] == [("1001", "1001.00")]


@pytest.mark.parametrize(
    "text",
    ["INV 4471 2% DISC TAKEN", "INV 4471 2 PCT DISC", "INV 4471 10 DAYS LATE"],
)
def test_a_percentage_or_a_count_does_not_continue_the_number(text: str) -> None:
    refs = read_references(text).refs
    assert [(r.keys[0][0], r.how) for r in refs] == [("4471", "written")]


def test_a_number_continued_in_the_next_record_is_still_read_joined() -> None:
    # a BAI2 88 record cut INV 44712 after 4471: the continuation stays a reading
    refs = read_references("PMT DET:INV 4471\n2 THANK YOU").refs
    assert [(r.keys[0][0], r.how) for r in refs] == [("4471", "written"), ("44712", "joined")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "INV# 10045 10046 10047 TOTAL 3,450.00",
            [("invoice", "10045", True), ("invoice", "10046", True), ("invoice", "10047", True)],
        ),
        (
            "Inv 2024-117 & 2024-118",
            [("invoice", "2024117", True), ("invoice", "2024118", True)],
        ),
        ("CHECK 10234 INV 7781", [("invoice", "7781", True)]),
        (
            "Paying 3 invoices: #4412, #4413, #4415",
            [("invoice", "4412", True), ("invoice", "4413", True), ("invoice", "4415", True)],
        ),
        (
            "Facture F2024-0012 et F2024-0013",
            [("invoice", "F20240012", True), ("invoice", "F20240013", True)],
        ),
        ("Rechnung Nr. 2024-1187 vom 12.03.2024", [("invoice", "20241187", True)]),
        ("SO 12345 / INV 67890", [("invoice", "67890", True)]),
        ("ACCT 000123456 INV 9981", [("invoice", "9981", True)]),
        ("REF: 0000045678", [("invoice", "45678", False)]),
        ("Invoice 1001 - partial payment", [("invoice", "1001", True)]),
        ("inv   1001   ,  INV 1002", [("invoice", "1001", True), ("invoice", "1002", True)]),
        ("Inv\t1001\tInv\t1002", [("invoice", "1001", True), ("invoice", "1002", True)]),
        (
            "INVOICES 1001\n1002\n1003",
            [("invoice", "1001", True), ("invoice", "1002", True), ("invoice", "1003", True)],
        ),
    ],
)
def test_what_payers_write_reads_as_a_specialist_reads_it(
    text: str, expected: list[tuple[str, str, bool]]
) -> None:
    assert _read(text) == expected


def test_a_range_and_amounts_beside_the_numbers() -> None:
    refs = read_references("PMT FOR INVS 55012 THRU 55015").refs
    assert [r.keys[0][0] for r in refs if r.how == "range"] == ["55012", "55013", "55014", "55015"]
    reading = read_references("REMITTANCE: INV000123 $1,200.00 INV000124 $800.00 LESS DISC $40.00")
    assert [(r.keys[0][0], r.amount) for r in reading.refs] == [
        ("123", "1200.00"),
        ("124", "800.00"),
    ]
