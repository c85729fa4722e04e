"""BAI2 detail text as US banks write it: ACH, wire, lockbox and instant-payment credits.

Each scenario is a whole file (01 to 99, trailers that add up) built by :func:`_file`; the
values are our own, the layouts those the banks' descriptors use (labels in upper, mixed or
lower case, ``:`` or ``=``, 88 continuations cut anywhere, funds types moving the text).
What must hold: the payer is the originator (never our own company, never a bank), the
trace, IMAD or Fedwire reference names the item where its 16 record has none, the payer's
remittance (free text, RMR segments) stays, and amounts are exact in their currency.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectors.bankfiles.reader import parse_bank_bytes
from connectors.bankfiles.records import ParseResult, RawRemittance, RefKind

_US = "NORTHWIND TRADERS"  # the account holder: never the payer

Detail = list[str]  # a 16 record and its 88 continuations, one physical line each


def _amount(detail: Detail) -> int:
    return int(detail[0].split(",")[2] or 0)


def _file(
    *accounts: tuple[str, str, list[Detail]],
    group_currency: str = "USD",
    record_length: str = "",
    newline: str = "\n",
    pad: str = "",
) -> str:
    """A BAI2 file of one group: (account, currency, details) per account, with trailers
    whose control totals and record counts add up; ``pad`` is put after every line."""
    lines = [
        f"01,021000021,NWTRADERS,261120,0600,1,{record_length},,2/",
        f"02,NWTRADERS,021000021,1,261119,2400,{group_currency},2/",
    ]
    group_total = 0
    for number, currency, details in accounts:
        total = sum(_amount(d) for d in details)
        body = [line for detail in details for line in detail]
        lines += [f"03,{number},{currency},010,0,,/", *body, f"49,{total},{len(body) + 2}/"]
        group_total += total
    lines.append(f"98,{group_total},{len(accounts)},{len(lines)}/")
    lines.append(f"99,{group_total},1,{len(lines) + 1}/")
    return "".join(f"{line}{pad}{newline}" for line in lines)


def _parse(text: str) -> ParseResult:
    result = parse_bank_bytes(text.encode(), "bank.bai")
    assert result.errors == [] and result.warnings == []
    return result


def _one(*lines: str, currency: str = "USD", **kwargs: str) -> RawRemittance:
    """The remittance of one detail (a 16 record and its 88s) in a file of its own."""
    (record,) = _parse(_file(("000000004821", currency, [list(lines)]), **kwargs)).records
    return record


def _payer(record: RawRemittance) -> tuple[str | None, str | None]:
    return record.payer_name, record.payer_account


def _refs(record: RawRemittance) -> list[tuple[RefKind, str, Decimal | None]]:
    return [(r.kind, r.ref, r.amount_paid) for r in record.structured_refs]


# --- ACH: the originator's labels in any case, with ":" or "=" ------------------------------


def test_chase_ach_text_in_mixed_case() -> None:
    """Statements and exports show JPMorgan's ACH text in mixed case: ``Orig CO Name:``."""
    record = _one(
        "16,165,128433,0,,,Orig CO Name:Acme Widgets Inc Orig ID:1234567890 Desc Date:261119 "
        "CO Entry Descr:Payment Sec:CCD Trace#:021000021234567 Eed:261119 Ind ID:INV-5001 "
        "Ind Name:Northwind Traders Trn: 3231234567Tc"
    )
    assert _payer(record) == ("Acme Widgets Inc", "1234567890")
    assert record.bank_reference == "021000021234567"  # the trace, the 16 names none
    assert record.free_text is not None and "Ind ID:INV-5001" in record.free_text
    assert "Orig CO Name" not in record.free_text


def test_ach_text_in_lower_case() -> None:
    record = _one(
        "16,142,250000,0,,,orig co name:globex corp orig id:9876543210 co entry descr:invoices "
        "sec:ccd trace#:091000011234567 ind name:northwind traders"
    )
    assert _payer(record) == ("globex corp", "9876543210")
    assert record.bank_reference == "091000011234567"
    assert "northwind" not in (record.payer_name or "")


def test_ach_text_with_equals_and_commas() -> None:
    """JPMorgan ACCESS exports: ``ORIG CO NAME=<name>,ORIG ID=<id>,DESC DATE=...``."""
    record = _one(
        "16,142,487500,0,ACH0001,,ORIG CO NAME=NIMBUS PAY INC,ORIG ID=0514672353,"
        "DESC DATE=261119,ENTRY DESCR=FW01876519"
    )
    assert _payer(record) == ("NIMBUS PAY INC", "0514672353")
    assert record.bank_reference == "ACH0001"


def test_orig_co_id_co_entry_desc_and_trace_no() -> None:
    """``05=CUST REF=<ref> ORIG CO NAME=<name> ORIG CO ID=<id> CO ENTRY DESC=<descr>
    TRACE NO=<trace>``: ORIG CO ID is the originator's id (no part of its name)."""
    record = _one(
        "16,142,4691845,0,,2452,05=CUST REF=2452 ORIG CO NAME=SOLSTICE SLEEP "
        "ORIG CO ID=9718801005 CO ENTRY DESC=CORP PAY TRACE NO=041000120000123"
    )
    assert _payer(record) == ("SOLSTICE SLEEP", "9718801005")
    assert record.bank_reference == "041000120000123"
    assert "CO ENTRY DESC=CORP PAY" in (record.free_text or "").replace(":", "=")


def test_ind_name_is_us_and_ind_id_stays_text() -> None:
    """PNC, US Bank, Truist, KeyBank and Huntington pass the NACHA fields with the same
    labels: IND NAME is the receiver (us), IND ID the originator's number for us."""
    record = _one(
        "16,165,93750,0,IA00081234,,ORIG CO NAME:INITECH LLC ORIG ID:1876543210 "
        "DESC DATE:261119 CO ENTRY DESCR:AP PAYMENT SEC:CCD TRACE#:071000301234567 "
        "EED:261119 IND ID:CUST 0042 IND NAME:NORTHWIND TRADERS LLC"
    )
    assert _payer(record) == ("INITECH LLC", "1876543210")
    assert record.bank_reference == "IA00081234"
    assert "IND ID:CUST 0042" in (record.free_text or "")
    assert "IND NAME:NORTHWIND TRADERS LLC" in (record.free_text or "")


def test_only_the_receiver_named_is_no_payer() -> None:
    record = _one("16,142,10000,0,ACH0009,,IND NAME:NORTHWIND TRADERS IND ID:INV-5100")
    assert _payer(record) == (None, None)


# --- remittance labels: ADDENDA, ADDL INFO, RMT INFO, REMITTANCE INFO, RMR ------------------


def test_addenda_label_with_rmr_segments() -> None:
    """SVB and KeyBank put the addenda after ``ADDENDA:``: RMR segments are read."""
    record = _one(
        "16,165,155000,0,ACH0010,,ORIG CO NAME:ACME WIDGETS INC ORIG ID:1234567890 "
        "SEC:CCD IND NAME:NORTHWIND TRADERS",
        "88,ADDENDA:RMR*IV*5001*PI*1250.00\\RMR*IV*5002*PI*300.00\\",
    )
    assert _payer(record) == ("ACME WIDGETS INC", "1234567890")
    assert _refs(record) == [
        (RefKind.INVOICE, "5001", Decimal("1250.00")),
        (RefKind.INVOICE, "5002", Decimal("300.00")),
    ]
    assert "RMR" not in (record.free_text or "")


def test_lower_case_rmr_segments_after_addl_info() -> None:
    record = _one(
        "16,165,9950,0,ACH0011,,orig co name:blue heron cafe addl info:rmr*iv*5003*pi*99.50\\"
    )
    assert record.payer_name == "blue heron cafe"
    assert _refs(record) == [(RefKind.INVOICE, "5003", Decimal("99.50"))]


def test_rmt_info_ends_the_payer_name() -> None:
    record = _one("16,142,430000,0,ACH0012,,ORIG CO NAME:ACME WIDGETS RMT INFO:INV 5001 INV 5002")
    assert record.payer_name == "ACME WIDGETS"
    assert "INV 5001 INV 5002" in (record.free_text or "")


def test_remittance_info_ends_the_originator() -> None:
    record = _one(
        "16,195,1875000,0,FW0001,,ORIGINATOR: HARBORVIEW LOGISTICS INC "
        "REMITTANCE INFO: INVOICES 7001 7002"
    )
    assert record.payer_name == "HARBORVIEW LOGISTICS INC"
    assert "INVOICES 7001 7002" in (record.free_text or "")


def test_rmr_label_ends_the_payer_name() -> None:
    record = _one("16,142,60000,0,ACH0013,,ORIG CO NAME:GLOBEX CORP RMR:INV 5010 5011")
    assert record.payer_name == "GLOBEX CORP"
    assert "INV 5010 5011" in (record.free_text or "")


# --- wires ---------------------------------------------------------------------------------


def test_fedwire_tags_in_mixed_case_with_the_originator_account() -> None:
    """``Org=/<account> <name>``: the Fedwire originator's identifier before its name."""
    record = _one(
        "16,195,1862500,0,,,Fedwire Credit Org=/000123456789 Harborview Logistics Inc "
        "Ogb=First Midwest Trust Bnf=Northwind Traders LLC Obi=INV 7001 7002 "
        "Imad=20261119MMQFMP2K000417"
    )
    assert _payer(record) == ("Harborview Logistics Inc", "000123456789")
    assert record.bank_reference == "20261119MMQFMP2K000417"
    assert "INV 7001 7002" in (record.free_text or "")


def test_citi_wire_labels_with_colons() -> None:
    record = _one(
        "16,195,640000,0,,CITI-77,ORG:SUMMIT PEAK SUPPLY CO OGB:FIFTH THIRD BANK "
        "BBI:/CHGS/USD0,00/ OBI:INV 6620 RFB:PAY-77 IMAD:20261119B1Q8154C000391"
    )
    assert _payer(record) == ("SUMMIT PEAK SUPPLY CO", None)
    assert record.bank_reference == "20261119B1Q8154C000391"
    assert record.end_to_end_id == "CITI-77"
    assert "OBI:INV 6620" in (record.free_text or "")


def test_fed_reference_names_the_wire() -> None:
    record = _one(
        "16,195,250000,0,,,INCOMING WIRE ORG:UMBRELLA CORP FED REF:20261119QMGFT003000123 "
        "OBI:INV 8001"
    )
    assert record.payer_name == "UMBRELLA CORP"
    assert record.bank_reference == "20261119QMGFT003000123"


def test_beneficiary_ends_the_originator() -> None:
    """PNC and BMO/Harris name both parties in words: the payer is the originator."""
    record = _one(
        "16,195,300000,0,FW0002,,ORIGINATOR NAME:ACME WIDGETS INC ORIGINATOR ACCT:44556677 "
        "BENEFICIARY NAME:NORTHWIND TRADERS LLC ORIG BANK:FIRST MIDWEST TRUST "
        "OBI:INV 9001"
    )
    assert _payer(record) == ("ACME WIDGETS INC", "44556677")
    record = _one(
        "16,195,300000,0,FW0003,,ORIGINATOR: ACME WIDGETS INC BENEFICIARY: NORTHWIND TRADERS"
    )
    assert record.payer_name == "ACME WIDGETS INC"


def test_the_16_bank_reference_wins_over_the_imad() -> None:
    record = _one(
        "16,195,100000,0,0417309323FF,,ORG=GLOBEX CORP IMAD=20261119MMQFMP2K000417 OBI=INV 1"
    )
    assert record.bank_reference == "0417309323FF"


# --- instant payments and lockbox ----------------------------------------------------------


def test_rtp_credit_names_the_sender() -> None:
    record = _one(
        "16,158,125000,0,,,RTP CREDIT SENDER NAME:ACME WIDGETS INC SENDER ACCT:XXXXXX1234 "
        "MSG ID:M20261119021000021B0000000123 RMT INFO:INV-5001"
    )
    assert _payer(record) == ("ACME WIDGETS INC", "XXXXXX1234")
    assert record.bank_reference == "M20261119021000021B0000000123"
    assert "INV-5001" in (record.free_text or "")


def test_fednow_credit_names_the_debtor_and_its_end_to_end_id() -> None:
    record = _one(
        "16,191,77700,0,FN0001,,FEDNOW CREDIT DEBTOR NAME:GLOBEX CORP DEBTOR ACCT:987001234 "
        "END TO END ID:E2E-5521 RMT INFO:INVOICE 5521"
    )
    assert _payer(record) == ("GLOBEX CORP", "987001234")
    assert record.end_to_end_id == "E2E-5521"
    assert record.bank_reference == "FN0001"


def test_lockbox_deposit_and_items() -> None:
    records = _parse(
        _file(
            (
                "000000004821",
                "USD",
                [
                    ["16,115,1234500,0,LBX7781,,LOCKBOX 7781 DEPOSIT ITEMS 12"],
                    ["16,118,2500,0,LBX7781A,,LOCKBOX ADJUSTMENT CREDIT"],
                ],
            )
        )
    ).records
    assert [(r.amount, r.bank_reference, r.free_text) for r in records] == [
        (Decimal("12345.00"), "LBX7781", "LOCKBOX 7781 DEPOSIT ITEMS 12"),
        (Decimal("25.00"), "LBX7781A", "LOCKBOX ADJUSTMENT CREDIT"),
    ]


# --- 88 continuations ----------------------------------------------------------------------


def test_a_label_cut_mid_word_by_an_88() -> None:
    record = _one(
        "16,142,250000,0,,,ORIG CO NAME:ACME WIDGETS INC ORIG I",
        "88,D:1234567890 CO ENTRY DESCR:PAYMENT SEC:CCD TRA",
        "88,CE#:021000021234567",
    )
    assert _payer(record) == ("ACME WIDGETS INC", "1234567890")
    assert record.bank_reference == "021000021234567"
    assert "CO ENTRY DESCR:PAYMENT" in (record.free_text or "")


def test_a_value_cut_mid_word_at_the_declared_record_length() -> None:
    """The 01 record states 80-character physical records: a full line was cut where the
    length ran out, mid-word, and its 88 carries on the same word."""
    whole = (
        "16,142,250000,0,ACH0021,,ORIG CO NAME:SEAFARER LOGISTICS AND HARBOURVIEW SHIPPERS INC "
        "ORIG ID:1234567890 CO ENTRY DESCR:PAYMENT"
    )
    first, rest = whole[:80], whole[80:]
    assert first.endswith("SHIPPER") and rest.startswith("S INC")  # cut mid-word
    record = _one(first, f"88,{rest}", record_length="80")
    assert _payer(record) == (
        "SEAFARER LOGISTICS AND HARBOURVIEW SHIPPERS INC",
        "1234567890",
    )


def test_a_full_line_padded_with_blanks_ends_a_word() -> None:
    first = "16,142,250000,0,ACH0022,,ORIG CO NAME:ACME WIDGETS INC"
    record = _one(first.ljust(80), "88,ORIG ID:1234567890", record_length="80")
    assert _payer(record) == ("ACME WIDGETS INC", "1234567890")


def test_a_full_line_ending_before_a_label_keeps_the_words_apart() -> None:
    first = "16,142,250000,0,ACH0023,,ORIG CO NAME:ACME WIDGETS "
    first = (first + "X" * 80)[:80]
    record = _one(first, "88,ORIG ID:1234567890", record_length="80")
    assert record.payer_account == "1234567890"


def test_text_continued_after_a_terminated_16() -> None:
    """Banks end every physical record with "/" and carry on the text in the 88s."""
    record = _one(
        "16,142,250000,0,ACH0024,,ORIG CO NAME:ACME WIDGETS INC/",
        "88,ORIG ID:1234567890 SEC:CCD/",
        "88,IND NAME:NORTHWIND TRADERS/",
    )
    assert _payer(record) == ("ACME WIDGETS INC", "1234567890")


def test_slashes_inside_the_text_are_text() -> None:
    record = _one(
        "16,195,99000,0,FW0030,,ORG:PINE VALLEY COOP OBI:INV 5001/5002/5003 BBI:/CHGS/USD0,00/"
    )
    assert record.payer_name == "PINE VALLEY COOP"
    assert "INV 5001/5002/5003" in (record.free_text or "")


# --- funds types move the text --------------------------------------------------------------


@pytest.mark.parametrize(
    "funds",
    ["0", "1", "2", "Z", "S,100000,50000,0", "V,261120,0930", "D,2,0,100000,1,50000"],
    ids=["0", "1", "2", "Z", "S", "V", "D"],
)
def test_funds_types_before_the_text(funds: str) -> None:
    record = _one(f"16,142,150000,{funds},ACH0040,CUST9,ORIG CO NAME:ACME, INC ORIG ID:1234567890")
    assert (record.amount, record.bank_reference, record.end_to_end_id) == (
        Decimal("1500.00"),
        "ACH0040",
        "CUST9",
    )
    assert _payer(record) == ("ACME, INC", "1234567890")


# --- records without text, line ends ---------------------------------------------------------


@pytest.mark.parametrize(
    "line", ["16,142,125000,0,ACH0050,/", "16,142,125000,0,ACH0050/", "16,142,125000,0,ACH0050,,/"]
)
def test_a_16_without_text(line: str) -> None:
    record = _one(line)
    assert (record.amount, record.bank_reference, record.free_text) == (
        Decimal("1250.00"),
        "ACH0050",
        None,
    )


def test_crlf_and_trailing_blanks() -> None:
    text = _file(
        (
            "000000004821",
            "USD",
            [["16,142,250000,0,ACH0060,,ORIG CO NAME:ACME WIDGETS INC ORIG ID:1234567890"]],
        ),
        newline="\r\n",
        pad="   ",
    )
    (record,) = _parse(text).records
    assert _payer(record) == ("ACME WIDGETS INC", "1234567890")
    assert record.amount == Decimal("2500.00")


# --- currencies -------------------------------------------------------------------------------


def test_group_currency_without_minor_units() -> None:
    (record,) = _parse(
        _file(
            ("000000004821", "", [["16,195,125000,0,FW0070,,ORG:TOKYO TRADING KK"]]),
            group_currency="JPY",
        )
    ).records
    assert (record.amount, record.currency) == (Decimal("125000"), "JPY")


def test_accounts_in_other_currencies_than_their_group() -> None:
    records = _parse(
        _file(
            ("000000004821", "EUR", [["16,195,1250050,0,FW0071,,ORG:SEAFARER GMBH"]]),
            ("000000004822", "BHD", [["16,195,1250500,0,FW0072,,ORG:GULF PARTS WLL"]]),
            ("000000004823", "", [["16,142,99,0,ACH0073,,ORIG CO NAME:ACME"]]),
        )
    ).records
    assert [(r.amount, r.currency, r.payer_name) for r in records] == [
        (Decimal("12500.50"), "EUR", "SEAFARER GMBH"),
        (Decimal("1250.500"), "BHD", "GULF PARTS WLL"),
        (Decimal("0.99"), "USD", "ACME"),
    ]
    assert all(isinstance(r.amount, Decimal) for r in records)
