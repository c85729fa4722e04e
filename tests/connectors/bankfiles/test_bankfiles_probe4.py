"""Bank files as banks send them, fourth probe: what earlier probes left out.

camt: the .13 namespace with the status as a code, a status stated only as a proprietary
value, a batch transaction stated in the payer's currency with its counter value in the
account's (``AmtDtls/CntrValAmt``), a debit transaction inside a credit batch (``CdtDbtInd``
at ``TxDtls`` level), files as host-to-host transfers leave them (blank lines before the XML
declaration, padding after the document), one camt.054 notifying two accounts in currencies
with 0 and 3 minor digits. BAI2: the end-of-day times 2400 and 9999, accounts in JPY and BHD in
two groups, a DOS end-of-file mark. X12 820: a newline segment terminator in a CRLF file,
a 005010 ISA with a repetition separator, a DOS end-of-file mark.

Each file is built in the test, small, in the layout the standard gives; the docstring of
each test names the rule it follows.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from connectors.bankfiles import RefKind, parse_bank_bytes
from connectors.bankfiles.records import BankFileFormat, ParseResult, RawRemittance

_IBAN = "DE89370400440532013000"

# --- camt builders -------------------------------------------------------------------------


def _camt(
    entries: str,
    message: str = "camt.053",
    version: str = "13",
    iban: str = _IBAN,
    currency: str = "EUR",
) -> str:
    container, report = {
        "camt.053": ("BkToCstmrStmt", "Stmt"),
        "camt.054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn"),
    }[message]
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:{message}.001.{version}">
 <{container}>
  <GrpHdr><MsgId>MSG-P4-1</MsgId><CreDtTm>2026-03-16T18:00:00</CreDtTm></GrpHdr>
  <{report}>
   <Id>P4-STMT-1</Id>
   <CreDtTm>2026-03-16T18:00:00</CreDtTm>
   <Acct><Id><IBAN>{iban}</IBAN></Id><Ccy>{currency}</Ccy></Acct>
{entries}
  </{report}>
 </{container}>
</Document>
"""


def _credit(
    amount: str,
    reference: str,
    status: str = "<Sts><Cd>BOOK</Cd></Sts>",
    currency: str = "EUR",
    details: str = "",
) -> str:
    return f"""   <Ntry>
    <Amt Ccy="{currency}">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd>{status}
    <BookgDt><Dt>2026-03-16</Dt></BookgDt><ValDt><Dt>2026-03-16</Dt></ValDt>
    <AcctSvcrRef>{reference}</AcctSvcrRef>
    <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn>
    </BkTxCd>
    <NtryDtls>{details or _tx("Payer " + reference, "INV " + reference)}</NtryDtls>
   </Ntry>"""


def _tx(payer: str, text: str, amounts: str = "") -> str:
    return f"""<TxDtls>{amounts}<RltdPties><Dbtr><Pty><Nm>{payer}</Nm></Pty></Dbtr></RltdPties>
     <RmtInf><Ustrd>{text}</Ustrd></RmtInf></TxDtls>"""


def _parse(data: bytes, name: str) -> ParseResult:
    return parse_bank_bytes(data, name)


def _one(result: ParseResult) -> RawRemittance:
    assert result.errors == [], result.errors
    (record,) = result.records
    return record


# --- camt ----------------------------------------------------------------------------------


def test_camt053_v13_books_only_entries_whose_status_code_is_book() -> None:
    """camt.053.001.13 states the entry status as a choice (``Sts/Cd``, ExternalEntryStatus1Code):
    the BOOK credit is cash, the PDNG and INFO ones beside it in the same statement are not."""
    entries = "\n".join(
        [
            _credit("1500.00", "BK-1"),
            _credit("700.00", "BK-2", status="<Sts><Cd>PDNG</Cd></Sts>"),
            _credit("90.00", "BK-3", status="<Sts><Cd>INFO</Cd></Sts>"),
        ]
    )
    result = _parse(_camt(entries).encode(), "v13.xml")
    record = _one(result)
    assert result.format is BankFileFormat.CAMT_053
    assert (record.amount, record.currency, record.bank_reference) == (
        Decimal("1500.00"),
        "EUR",
        "BK-1",
    )
    assert (record.payer_name, record.free_text) == ("Payer BK-1", "INV BK-1")


def test_pending_notification_then_booked_statement_is_one_payment() -> None:
    """A camt.054 (v09, ``Sts/Cd``) notifying a credit as pending gives no cash; the statement
    booking it later (same ``AcctSvcrRef``) gives it once, and re-reading both gives the same
    key, never a second payment."""
    pending = _camt(
        _credit("2400.00", "SVC-889", status="<Sts><Cd>PDNG</Cd></Sts>"), "camt.054", "09"
    )
    booked = _camt(_credit("2400.00", "SVC-889"), "camt.053", "09")
    first = _parse(pending.encode(), "ntf.xml")
    assert first.records == [] and first.errors == []
    record = _one(_parse(booked.encode(), "stmt.xml"))
    assert record.amount == Decimal("2400.00")
    again = _one(_parse(booked.encode(), "stmt-again.xml"))
    assert again.dedup_key == record.dedup_key


@pytest.mark.parametrize("message", ["camt.053", "camt.054"])
def test_a_status_stated_only_as_proprietary_is_not_taken_for_booked_cash(message: str) -> None:
    """From .09 on the status is a choice of an ISO code or a proprietary value
    (``Sts/Prtry``). A proprietary status alone does not say the entry is booked: taking a
    pending credit as cash would apply it twice once it books. The entry is an error naming
    ``Sts``; the booked entry beside it is kept."""
    entries = "\n".join(
        [
            _credit("310.00", "PR-1", status="<Sts><Prtry>PENDING</Prtry></Sts>"),
            _credit("420.00", "PR-2"),
        ]
    )
    result = _parse(_camt(entries, message, "10").encode(), "prtry.xml")
    assert [(r.amount, r.bank_reference) for r in result.records] == [(Decimal("420.00"), "PR-2")]
    (error,) = result.errors
    assert "Ntry[1]/Sts[1]" in error.location
    assert "proprietary entry status 'PENDING'" in error.reason


def test_an_unknown_status_code_in_a_statement_is_an_error_naming_sts() -> None:
    """An entry status that is no ExternalEntryStatus1Code (``BOKD``) cannot be told booked:
    an error naming ``Sts`` with the value, the rest of the statement kept."""
    entries = "\n".join(
        [_credit("55.00", "UK-1", status="<Sts>BOKD</Sts>"), _credit("66.00", "UK-2")]
    )
    result = _parse(_camt(entries, version="04").encode(), "bokd.xml")
    assert [r.amount for r in result.records] == [Decimal("66.00")]
    (error,) = result.errors
    assert error.location.startswith("/Document/BkToCstmrStmt[1]/Stmt[1]/Ntry[1]/Sts[1]")
    assert "unknown entry status 'BOKD'" in error.reason


def test_lower_case_status_and_currency_and_blanks_around_the_amount() -> None:
    """Values as some banks' generators write them: ``book``, ``Ccy="eur"``, the amount on
    its own line. Read as BOOK, EUR and 75.10."""
    entry = _credit("\n      75.10\n    ", "LC-1", status="<Sts>book</Sts>").replace(
        'Ccy="EUR"', 'Ccy="eur"'
    )
    record = _one(_parse(_camt(entry, version="02").encode(), "lower.xml"))
    assert (record.amount, record.currency) == (Decimal("75.10"), "EUR")


@pytest.mark.parametrize(
    "before",
    [b"\r\n", b"\n\n  ", b"\xef\xbb\xbf\r\n"],
    ids=["crlf", "blank-lines", "bom-then-crlf"],
)
def test_blank_lines_before_the_xml_declaration(before: bytes) -> None:
    """A host-to-host transfer (or a bank's mainframe export) that leaves a line break before
    ``<?xml ...?>``: the document is still read, as its format was detected."""
    data = before + _camt(_credit("980.00", "HX-1")).encode()
    record = _one(_parse(data, "leading.xml"))
    assert (record.amount, record.bank_reference) == (Decimal("980.00"), "HX-1")


@pytest.mark.parametrize(
    "after",
    [b"\x1a", b"\r\n\x1a", b"\x00\x00\x00\x00", b"\n\n   \n"],
    ids=["ctrl-z", "crlf-ctrl-z", "nul-padding", "blank-lines"],
)
def test_padding_after_the_document(after: bytes) -> None:
    """Padding a transfer leaves after the root element (a DOS end-of-file mark, NUL bytes
    filling the last block, blank lines) is no part of the XML: the statement is read whole."""
    data = _camt(_credit("640.25", "PD-1")).encode() + after
    record = _one(_parse(data, "padded.xml"))
    assert (record.amount, record.bank_reference) == (Decimal("640.25"), "PD-1")


def test_text_after_the_document_is_still_an_error() -> None:
    """Anything but padding after the root (a second document, cut text) is no camt file
    arsync can vouch for: one error with its line, as before."""
    data = _camt(_credit("640.25", "PD-1")).encode() + b"<Document>"
    result = _parse(data, "two.xml")
    assert result.records == []
    (error,) = result.errors
    assert error.reason.startswith("not well-formed XML")


def test_batch_transaction_in_the_payers_currency_is_credited_at_its_counter_value() -> None:
    """camt.053.001.02 (``TxDtls`` without ``Amt``): a batch of two credits booked as one
    EUR entry; the first is a USD payment whose ``AmtDtls`` state the instructed USD amount
    and its counter value in EUR (``CntrValAmt``, with the exchange), the second only its
    ``TxAmt`` in EUR. What reached the account is the EUR counter value."""
    fx = (
        '<AmtDtls><InstdAmt><Amt Ccy="USD">1100.00</Amt></InstdAmt>'
        '<CntrValAmt><Amt Ccy="EUR">1000.00</Amt><CcyXchg><SrcCcy>USD</SrcCcy>'
        "<TrgtCcy>EUR</TrgtCcy><XchgRate>0.909091</XchgRate></CcyXchg></CntrValAmt></AmtDtls>"
    )
    plain = '<AmtDtls><TxAmt><Amt Ccy="EUR">600.00</Amt></TxAmt></AmtDtls>'
    details = (
        "<Btch><NbOfTxs>2</NbOfTxs></Btch>"
        + _tx("Contoso Inc", "INVOICE 4410", fx)
        + _tx("Fabrikam GmbH", "RE 4411", plain)
    )
    entry = _credit("1600.00", "FXB-1", status="<Sts>BOOK</Sts>", details=details)
    result = _parse(_camt(entry, version="02").encode(), "fx.xml")
    assert result.errors == []
    assert [(r.payer_name, r.amount, r.currency) for r in result.records] == [
        ("Contoso Inc", Decimal("1000.00"), "EUR"),
        ("Fabrikam GmbH", Decimal("600.00"), "EUR"),
    ]


def test_a_debit_transaction_inside_a_credit_batch_is_no_receipt() -> None:
    """From version .03 on ``TxDtls`` state their own ``Amt`` and ``CdtDbtInd``: a batch
    booked net (two collections in, one returned out) has a DBIT transaction under its CRDT
    entry. The credits are cash; the debit is not read as a receipt."""
    details = "".join(
        [
            _tx(
                "Northwind",
                "INV 7001",
                '<Amt Ccy="EUR">300.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>',
            ),
            _tx(
                "Tailspin",
                "INV 7002",
                '<Amt Ccy="EUR">200.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>',
            ),
            _tx(
                "Adatum",
                "FEE ADJUSTMENT",
                '<Amt Ccy="EUR">50.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>',
            ),
        ]
    )
    entry = _credit("450.00", "NET-1", details=details)
    result = _parse(_camt(entry, version="08").encode(), "net.xml")
    assert result.errors == []
    assert [(r.payer_name, r.amount) for r in result.records] == [
        ("Northwind", Decimal("300.00")),
        ("Tailspin", Decimal("200.00")),
    ]


def test_one_notification_for_two_accounts_in_jpy_and_bhd() -> None:
    """A camt.054 with one ``Ntfctn`` per account: a JPY account (no minor digits) and a BHD
    account (three). Each credit keeps its own currency and exact amount."""
    jpy = _camt(_credit("150000", "JP-1", currency="JPY"), "camt.054", "08")
    bhd_entry = _credit("12.345", "BH-1", currency="BHD")
    second = f"""  <Ntfctn>
   <Id>P4-NTF-2</Id><CreDtTm>2026-03-16T18:00:00</CreDtTm>
   <Acct><Id><Othr><Id>0012-345678-001</Id></Othr></Id><Ccy>BHD</Ccy></Acct>
{bhd_entry}
  </Ntfctn>
 </BkToCstmrDbtCdtNtfctn>"""
    data = jpy.replace(" </BkToCstmrDbtCdtNtfctn>", second, 1)
    result = _parse(data.encode(), "two-accounts.xml")
    assert result.errors == []
    assert [(r.amount, r.currency, r.bank_reference) for r in result.records] == [
        (Decimal("150000"), "JPY", "JP-1"),
        (Decimal("12.345"), "BHD", "BH-1"),
    ]
    assert result.records[0].dedup_key != result.records[1].dedup_key


# --- BAI2 ----------------------------------------------------------------------------------


def _bai2(
    groups: list[tuple[str, list[tuple[str, str, list[str]]]]],
    header: str = "01,BANKUS33,ACMECORP,260316,2400,1,80,,2/",
    as_of_time: str = "0800",
    eol: str = "\n",
) -> bytes:
    """A BAI2 file: ``groups`` are (group currency, [(account, currency, detail lines)]);
    the trailers add up."""
    lines = [header]
    file_total = 0
    for currency, accounts in groups:
        group = [f"02,ACMECORP,BANKUS33,1,260316,{as_of_time},{currency},2/"]
        group_total = 0
        for number, account_currency, details in accounts:
            total = sum(int(d.split(",")[2]) for d in details if d.startswith("16,"))
            account = [f"03,{number},{account_currency},/", *details]
            account.append(f"49,{total},{len(account) + 1}/")
            group += account
            group_total += total
        group.append(f"98,{group_total},{len(accounts)},{len(group) + 1}/")
        lines += group
        file_total += group_total
    lines.append(f"99,{file_total},{len(groups)},{len(lines) + 1}/")
    return (eol.join(lines) + eol).encode()


def test_bai2_end_of_day_times_2400_and_9999() -> None:
    """BAI2 times are military format, 0000 to 2400 (end of day); the specification asks
    receivers to take 9999 as end of day too, as some processors send it. A file created at
    2400 whose group is as of 9999 is read."""
    data = _bai2(
        [("USD", [("1234567", "", ["16,195,250000,0,FW7788,,ORG=NORTHWIND TRADERS"])])],
        as_of_time="9999",
    )
    result = _parse(data, "eod.bai")
    record = _one(result)
    assert result.warnings == []
    assert (record.amount, record.currency, record.value_date) == (
        Decimal("2500.00"),
        "USD",
        date(2026, 3, 16),
    )
    assert record.payer_name == "NORTHWIND TRADERS"


def test_bai2_accounts_in_yen_and_bahraini_dinar_in_two_groups() -> None:
    """Amounts are implied-decimal in the account's currency (ISO 4217 minor digits): a JPY
    account (0) in a JPY group, then a BHD account (3) in a group of another currency."""
    data = _bai2(
        [
            ("JPY", [("JP-0099", "", ["16,195,1500000,0,TK1,,ORG=SUZUKI SHOJI KK"])]),
            ("USD", [("BH-0042", "BHD", ["16,195,1234567,0,MN1,,ORG=GULF TRADING WLL"])]),
        ]
    )
    result = _parse(data, "jpy-bhd.bai")
    assert result.errors == [] and result.warnings == []
    assert [(r.amount, r.currency, r.payer_name) for r in result.records] == [
        (Decimal("1500000"), "JPY", "SUZUKI SHOJI KK"),
        (Decimal("1234.567"), "BHD", "GULF TRADING WLL"),
    ]


@pytest.mark.parametrize("eol", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_bai2_with_a_dos_end_of_file_mark(eol: str) -> None:
    """A BAI2 file passed through a DOS/Windows transfer ends in Ctrl-Z (0x1A) after its 99:
    no record, no error; the details are read."""
    data = _bai2(
        [("USD", [("1234567", "", ["16,142,98000,0,ACH55,,ORIG CO NAME:TAILSPIN TOYS"])])],
        eol=eol,
    )
    result = _parse(data + b"\x1a", "eof.bai")
    record = _one(result)
    assert result.warnings == []
    assert (record.amount, record.payer_name) == (Decimal("980.00"), "TAILSPIN TOYS")


# --- X12 820 -------------------------------------------------------------------------------


def _isa(terminator: str, repetition: str = "U", version: str = "00401") -> str:
    isa = (
        f"ISA*00*          *00*          *ZZ*CONTOSOAP      *ZZ*ACMEWIDGETS    *260316*0930*"
        f"{repetition}*{version}*000000771*0*P*>{terminator}"
    )
    assert len(isa) == 106 + len(terminator) - 1
    return isa


def _sets(terminator: str, gs_version: str = "004010") -> list[str]:
    return [
        f"GS*RA*CONTOSOAP*ACMEWIDGETS*20260316*0930*771*X*{gs_version}",
        "ST*820*0001",
        "BPR*C*1150.00*C*ACH*CCP*01*091000019*DA*5550001234*1234567890**01*021000021*DA*"
        "0012345678*20260316",
        "TRN*1*CON-20260316-1*1234567890",
        "N1*PR*CONTOSO LTD",
        "ENT*1",
        "RMR*IV*INV-3001**1250.00*1250.00",
        "REF*PO*PO-5501",
        "DTM*003*20260201",
        "RMR*CM*CM-0077**-100.00",
        "SE*10*0001",
        "GE*1*771",
        "IEA*1*000000771",
    ]


def _check_820(result: ParseResult) -> None:
    record = _one(result)
    assert (record.amount, record.currency, record.payer_name) == (
        Decimal("1150.00"),
        "USD",
        "CONTOSO LTD",
    )
    assert [(r.kind, r.ref, r.amount_paid) for r in record.structured_refs] == [
        (RefKind.INVOICE, "INV-3001", Decimal("1250.00")),
        (RefKind.PO, "PO-5501", None),
        (RefKind.CREDIT_MEMO, "CM-0077", Decimal("-100.00")),
    ]
    assert record.structured_refs[0].document_date == date(2026, 2, 1)
    assert record.value_date == date(2026, 3, 16)


def test_820_with_a_newline_segment_terminator_in_a_crlf_file() -> None:
    """An 820 whose ISA names the line break as its segment terminator, written on Windows:
    each segment ends in CR LF, so ISA106 holds CR and every segment starts after a LF."""
    text = _isa("\r") + "\n" + "".join(s + "\r\n" for s in _sets("\r"))
    result = _parse(text.encode(), "crlf.edi")
    _check_820(result)
    assert result.warnings == []


def test_820_005010_with_a_repetition_separator() -> None:
    """005010: ISA11 is the repetition separator (``^``), not the standards identifier ``U``;
    the interchange is read with ``~`` terminators each followed by a line break."""
    text = _isa("~", repetition="^", version="00501") + "\n"
    text += "".join(s + "~\n" for s in _sets("~", gs_version="005010X218"))
    result = _parse(text.encode(), "5010.edi")
    _check_820(result)
    assert result.warnings == []


def test_820_with_a_dos_end_of_file_mark() -> None:
    """An 820 that a DOS/Windows transfer ended with Ctrl-Z (0x1A) after its IEA: no segment,
    no warning, the payment read."""
    text = _isa("~") + "".join(s + "~" for s in _sets("~")) + "\r\n\x1a"
    result = _parse(text.encode(), "eof.edi")
    _check_820(result)
    assert result.warnings == []
