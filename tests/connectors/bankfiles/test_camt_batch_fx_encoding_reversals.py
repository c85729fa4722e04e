"""camt batches and encodings as banks send them:

- A credit batch entry (``Btch/NbOfTxs``, ``TtlAmt``) whose transactions include one that is
  no customer paying and states no direction of its own (an FX deal's proceeds coded
  ``FORX/SPOT/OTHR``, a treasury credit ``TREA``): the bank counts it in the entry's amount,
  so the batch-sum check does too; it is still left out as no remittance.
- A file declaring UTF-8 written in Windows-1252 without any byte 0x80-0x9F: read as
  Windows-1252 (an acute accent 0xB4 and ``½`` stay so), ISO-8859-15 only where its euro
  sign 0xA4 says so.
- A reversed batch (``RvslInd``) whose transactions state no amount: one error naming the
  entry and the field, not one for each transaction (nor nothing for amounts of 0).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectors.bankfiles import BankFileFormat, parse_bank_bytes
from connectors.bankfiles.records import ParseResult

_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


def _statement(version: str, entries: str, declaration: str = _DECLARATION) -> str:
    status = "<Sts><Cd>BOOK</Cd></Sts>" if int(version) >= 8 else "<Sts>BOOK</Sts>"
    return (
        f"{declaration}"
        f'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}">\n'
        " <BkToCstmrStmt>\n"
        "  <GrpHdr><MsgId>STMT20260316-0001</MsgId><CreDtTm>2026-03-16T20:15:00</CreDtTm>"
        "</GrpHdr>\n"
        "  <Stmt>\n"
        "   <Id>20260316-DE89-1</Id><ElctrncSeqNb>51</ElctrncSeqNb>"
        "<CreDtTm>2026-03-16T20:15:00</CreDtTm>\n"
        "   <Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>\n"
        + entries.replace("{STATUS}", status)
        + "  </Stmt>\n </BkToCstmrStmt>\n</Document>\n"
    )


def _code(domain: str, family: str, sub_family: str) -> str:
    return (
        f"<BkTxCd><Domn><Cd>{domain}</Cd><Fmly><Cd>{family}</Cd>"
        f"<SubFmlyCd>{sub_family}</SubFmlyCd></Fmly></Domn></BkTxCd>"
    )


def _entry(amount: str, indicator: str, reference: str, details: str, extra: str = "") -> str:
    return (
        f'   <Ntry><NtryRef>{reference}-N</NtryRef><Amt Ccy="EUR">{amount}</Amt>'
        f"<CdtDbtInd>{indicator}</CdtDbtInd>{extra}{{STATUS}}\n"
        "    <BookgDt><Dt>2026-03-16</Dt></BookgDt><ValDt><Dt>2026-03-16</Dt></ValDt>\n"
        f"    <AcctSvcrRef>{reference}</AcctSvcrRef>{_code('PMNT', 'RCDT', 'ESCT')}\n"
        f"    <NtryDtls>{details}</NtryDtls>\n   </Ntry>\n"
    )


def _batch(count: int, total: str, indicator: str = "CRDT") -> str:
    return (
        f'<Btch><NbOfTxs>{count}</NbOfTxs><TtlAmt Ccy="EUR">{total}</TtlAmt>'
        f"<CdtDbtInd>{indicator}</CdtDbtInd></Btch>\n"
    )


def _tx(e2e: str, amount: str, payer: str = "", text: str = "", extra: str = "") -> str:
    parties = f"<RltdPties><Dbtr><Nm>{payer}</Nm></Dbtr></RltdPties>" if payer else ""
    remittance = f"<RmtInf><Ustrd>{text}</Ustrd></RmtInf>" if text else ""
    return (
        f"     <TxDtls><Refs><EndToEndId>{e2e}</EndToEndId></Refs>{amount}{extra}"
        f"{parties}{remittance}</TxDtls>\n"
    )


def _v02(amount: str) -> str:
    """camt.053.001.02 has no ``Amt`` nor ``CdtDbtInd`` per transaction."""
    return f'<AmtDtls><TxAmt><Amt Ccy="EUR">{amount}</Amt></TxAmt></AmtDtls>'


def _v08(amount: str, indicator: str = "") -> str:
    direction = f"<CdtDbtInd>{indicator}</CdtDbtInd>" if indicator else ""
    return f'<Amt Ccy="EUR">{amount}</Amt>{direction}'


def _parse(text: str | bytes) -> ParseResult:
    data = text.encode() if isinstance(text, str) else text
    return parse_bank_bytes(data, "statement.xml")


# --- a batch's sum counts what the bank counts ------------------------------------------------

_FX_SPOT = _code("FORX", "SPOT", "OTHR")


def test_a_v02_batch_with_fx_proceeds_adds_up_without_a_warning() -> None:
    """Two SEPA credits and an FX spot deal's proceeds booked as one 1200.00 entry of three
    (camt.053.001.02: no transaction states its direction): the FX leg is the entry's credit,
    in the bank's sum; it is left out as no customer paying, the two payments are kept."""
    details = (
        _batch(3, "1200.00")
        + _tx("RE-2026-0101", _v02("500.00"), "Acme GmbH", "RE-2026-0101")
        + _tx("RE-2026-0102", _v02("500.00"), "Beta AG", "RE-2026-0102")
        + _tx("FX-20260316-77", _v02("200.00"), extra=_FX_SPOT)
    )
    result = _parse(_statement("02", _entry("1200.00", "CRDT", "2026031600815", details)))
    assert result.format is BankFileFormat.CAMT_053 and result.errors == []
    assert [(r.amount, r.payer_name) for r in result.records] == [
        (Decimal("500.00"), "Acme GmbH"),
        (Decimal("500.00"), "Beta AG"),
    ]
    [left_out] = result.warnings
    assert left_out.reason == (
        "a credit of 200.00 EUR with bank transaction code FORX/SPOT/OTHR (foreign exchange): "
        "not a customer paying, left out"
    )


def test_a_v08_batch_with_a_treasury_credit_stating_no_direction_adds_up() -> None:
    """camt.053.001.08: the customers' credits state CRDT, the treasury credit (TREA) states
    no direction of its own, so it is the entry's: 750.00 + 250.00 is the booked 1000.00."""
    details = (
        _batch(2, "1000.00")
        + _tx("INV-88107", _v08("750.00", "CRDT"), "Gamma BV", "INV-88107")
        + _tx("NOTPROVIDED", _v08("250.00"), extra=_code("TREA", "0002", "0000"))
    )
    result = _parse(_statement("08", _entry("1000.00", "CRDT", "AAAASESS-FP-0316", details)))
    assert result.errors == []
    assert [r.amount for r in result.records] == [Decimal("750.00")]
    [left_out] = result.warnings
    assert "TREA/0002/0000 (treasury)" in left_out.reason


def test_a_batch_with_fx_proceeds_that_does_not_add_up_names_the_sum_with_them() -> None:
    """The bank's charge of 10.00 taken from the entry: 500.00 + 500.00 + 200.00 is not the
    booked 1190.00; the warning counts all three transactions, as the bank does."""
    details = (
        _batch(3, "1200.00")
        + _tx("RE-2026-0101", _v02("500.00"), "Acme GmbH")
        + _tx("RE-2026-0102", _v02("500.00"), "Beta AG")
        + _tx("FX-20260316-77", _v02("200.00"), extra=_FX_SPOT)
    )
    result = _parse(_statement("02", _entry("1190.00", "CRDT", "2026031600816", details)))
    assert [r.amount for r in result.records] == [Decimal("500.00"), Decimal("500.00")]
    _, batch = result.warnings
    assert batch.reason.startswith(
        "the 3 transactions of this entry add up to 1200.00 EUR, not to its booked 1190.00 EUR"
    )


# --- encodings --------------------------------------------------------------------------------

_ACUTE = "\u00b4"  # written for an apostrophe (O\u00b4Connor)
_NAMED = _entry(
    "118.50",
    "CRDT",
    "2026031600900",
    _tx(
        "NOTPROVIDED",
        "",
        f"O{_ACUTE}Connor Café Ltd",
        "Invoice 4471 ½ of the order",
    ),
)


def test_windows_1252_without_c1_bytes_declared_utf8_is_read_as_windows_1252() -> None:
    """No byte 0x80-0x9F tells Windows-1252 from ISO-8859-15 here: the acute accent (0xB4)
    and ½ (0xBD) are read as written (ISO-8859-15 would make them Ž and œ), and the warning
    says so."""
    result = _parse(_statement("08", _NAMED).encode("cp1252"))
    assert result.errors == []
    [record] = result.records
    assert record.payer_name == f"O{_ACUTE}Connor Café Ltd"
    assert record.free_text is not None and "Invoice 4471 ½ of the order" in record.free_text
    [warning] = result.warnings
    assert warning.reason.startswith(
        "byte 0xB4 is no UTF-8, the encoding the document declares: it is read as WINDOWS-1252"
    )
    assert "no byte 0xA4 says ISO-8859-15" in warning.reason


def test_the_euro_sign_of_iso_8859_15_still_reads_the_file_so() -> None:
    """ABN AMRO writes ISO-8859-15: its euro sign (0xA4) says so, and Š (0xA6) is read so."""
    entry = _NAMED.replace(f"O{_ACUTE}Connor Café", "Šebek Müller").replace("½", "€")
    result = _parse(_statement("02", entry, declaration="").encode("iso-8859-15"))
    [record] = result.records
    assert record.payer_name == "Šebek Müller Ltd"
    assert record.free_text is not None and "Invoice 4471 € of the order" in record.free_text
    [warning] = result.warnings
    assert "ISO-8859-15, its byte 0xA4 taken for the euro sign" in warning.reason


# --- a reversed batch without amounts ---------------------------------------------------------

_REVERSED = "<RvslInd>true</RvslInd>"


def test_a_reversed_batch_whose_transactions_state_no_amount_is_one_error() -> None:
    """A batch of three credits booked in error and reversed as one 1500.00 debit, its
    transactions listed for their references only: one error naming the entry, its bank
    reference and the field, not three."""
    details = (
        _batch(3, "1500.00", "DBIT")
        + _tx("RE-2026-0201", "", "Acme GmbH")
        + _tx("RE-2026-0202", "", "Beta AG")
        + _tx("RE-2026-0203", "", "Gamma BV")
    )
    entry = _entry("1500.00", "DBIT", "2026031699001", details, _REVERSED)
    result = _parse(_statement("08", entry))
    assert result.records == [] and result.warnings == []
    [error] = result.errors
    assert error.location == "/Document/BkToCstmrStmt[1]/Stmt[1]/Ntry[1] (line 8)"
    assert error.reason.startswith(
        "the entry AcctSvcrRef 2026031699001 takes back 1500.00 EUR as a reversal (RvslInd) "
        "of 3 transactions, none of which states its amount (TxDtls/Amt or AmtDtls)"
    )
    assert "RE-2026-0202" in error.raw


def test_a_reversed_v02_batch_stating_amounts_of_0_is_an_error_not_nothing() -> None:
    """camt.053.001.02 with each ``TxAmt`` 0.00: the 600.00 taken back was read as nothing at
    all; it is one error naming the entry."""
    details = (
        _batch(2, "600.00", "DBIT")
        + _tx("RE-2026-0301", _v02("0.00"), "Acme GmbH")
        + _tx("RE-2026-0302", _v02("0.00"), "Beta AG")
    )
    entry = _entry("600.00", "DBIT", "NONREF", details, _REVERSED).replace(
        "<NtryRef>NONREF-N</NtryRef>", "<NtryRef>0316-0042</NtryRef>"
    )
    result = _parse(_statement("02", entry))
    assert result.records == []
    [error] = result.errors
    assert error.reason.startswith(
        "the entry NtryRef 0316-0042 takes back 600.00 EUR as a reversal (RvslInd) of 2 "
        "transactions"
    )


def test_a_reversed_batch_stating_its_amounts_reverses_each_payment() -> None:
    details = (
        _batch(2, "600.00", "DBIT")
        + _tx("RE-2026-0301", _v08("400.00", "DBIT"), "Acme GmbH")
        + _tx("RE-2026-0302", _v08("200.00", "DBIT"), "Beta AG")
    )
    result = _parse(_statement("08", _entry("600.00", "DBIT", "2026031699002", details, _REVERSED)))
    assert result.errors == []
    assert [(r.amount, r.reverses) for r in result.records] == [
        (Decimal("-400.00"), "RE-2026-0301"),
        (Decimal("-200.00"), "RE-2026-0302"),
    ]


def test_a_reversed_batch_missing_one_amount_names_that_transaction() -> None:
    details = (
        _batch(2, "600.00", "DBIT")
        + _tx("RE-2026-0301", _v08("400.00", "DBIT"), "Acme GmbH")
        + _tx("RE-2026-0302", "", "Beta AG")
    )
    result = _parse(_statement("08", _entry("600.00", "DBIT", "2026031699003", details, _REVERSED)))
    assert [r.amount for r in result.records] == [Decimal("-400.00")]
    [error] = result.errors
    assert error.location.startswith(
        "/Document/BkToCstmrStmt[1]/Stmt[1]/Ntry[1]/NtryDtls[1]/TxDtls[2]"
    )


_ESTONIAN = """<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
 <BkToCstmrStmt>
  <GrpHdr><MsgId>STMT-EE-20260316</MsgId><CreDtTm>2026-03-16T20:15:00</CreDtTm></GrpHdr>
  <Stmt>
   <Id>EE382200221020145685-20260316</Id><CreDtTm>2026-03-16T20:15:00</CreDtTm>
   <Acct><Id><IBAN>EE382200221020145685</IBAN></Id><Ccy>EUR</Ccy></Acct>
   <Ntry><Amt Ccy="EUR">845.20</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
    <BookgDt><Dt>2026-03-16</Dt></BookgDt><ValDt><Dt>2026-03-16</Dt></ValDt>
    <AcctSvcrRef>2026031600417</AcctSvcrRef>
    <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
    <NtryDtls><TxDtls><Refs><EndToEndId>ARVE-2026-0318</EndToEndId></Refs>
     <RltdPties><Dbtr><Nm>Žanna Šestakova OÜ</Nm></Dbtr></RltdPties>
     <RmtInf><Ustrd>Arve ARVE-2026-0318, tšekk nr 44</Ustrd></RmtInf>
    </TxDtls></NtryDtls>
   </Ntry>
  </Stmt>
 </BkToCstmrStmt>
</Document>"""


def test_iso_8859_15_letters_in_words_without_a_euro_sign_read_so() -> None:
    """An Estonian statement in ISO-8859-15 with Ž, Š and š but no euro sign: its bytes stand
    in words, so they are its letters (review: Windows-1252 made signs of Ž and Š)."""
    result = _parse(_ESTONIAN.encode("iso-8859-15"))
    [record] = result.records
    assert record.payer_name == "Žanna Šestakova OÜ"
    assert record.free_text is not None and "tšekk nr 44" in record.free_text
    [warning] = result.warnings
    assert "ISO-8859-15, its bytes in words read as its letters" in warning.reason


def test_a_reversed_batch_booking_nothing_is_silent() -> None:
    """A reversal of 0.00 whose transactions state 0.00 took nothing back: no error."""
    entry = (
        '<Ntry><NtryRef>0316-0042</NtryRef><Amt Ccy="EUR">0.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>'
        "<RvslInd>true</RvslInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-03-16</Dt></BookgDt>"
        "<AcctSvcrRef>2026031699001</AcctSvcrRef><BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>IDDT</Cd>"
        "<SubFmlyCd>UPDD</SubFmlyCd></Fmly></Domn></BkTxCd><NtryDtls><Btch><NbOfTxs>2</NbOfTxs>"
        "</Btch>"
        + "".join(
            f"<TxDtls><Refs><EndToEndId>SDD-2026-030{n}</EndToEndId></Refs>"
            '<Amt Ccy="EUR">0.00</Amt><CdtDbtInd>DBIT</CdtDbtInd></TxDtls>'
            for n in (1, 2)
        )
        + "</NtryDtls></Ntry>"
    )
    result = _parse(
        _ESTONIAN.replace(
            _ESTONIAN[_ESTONIAN.index("<Ntry>") : _ESTONIAN.index("</Ntry>") + 7], entry
        ).encode()
    )
    assert (result.records, result.errors, result.warnings) == ([], [], [])


@pytest.mark.parametrize(
    ("name", "encoding"),
    [
        ("Café \u00b4t Hoekje", "cp1252"),
        ("Bouwbedrijf \u00b4s-Hertogenbosch BV", "cp1252"),
        ("O\u00b4Connor Ltd", "cp1252"),
        ("Menge 3½h", "cp1252"),
        ("Žak Novák", "iso-8859-15"),
        ("Œuvre Žilina", "iso-8859-15"),
        ("Slavoj Žižek", "iso-8859-15"),
        ("Toys \u00b4R Us", "cp1252"),
        ("Pieter van \u00b4t Hof", "cp1252"),
    ],
)
def test_apostrophes_of_clipped_words_and_fractions_after_digits_are_windows_1252(
    name: str, encoding: str
) -> None:
    """A Dutch 't or 's written with an acute accent is no Ž, a ½ after a digit no œ (review:
    Café 't Hoekje became Café Žt Hoekje); ISO-8859-15's letters in words still read so."""
    text = _ESTONIAN.replace("Žanna Šestakova OÜ", name).replace("tšekk nr 44", "nr 44")
    [record] = _parse(text.encode(encoding)).records
    assert record.payer_name == name
