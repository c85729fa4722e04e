"""camt.053 / camt.054 as banks send them, in areas earlier probes left out:

- A batch entry whose transactions state the payer's instructed amount in a foreign currency
  only (``AmtDtls/InstdAmt``, or ``Amt`` in the instructed currency, v04 on), no amount in the
  booked currency: the cash is the entry's booked amount, never the foreign figures.
- A batch entry whose transactions do not add up to its booked amount (the bank's charges taken
  from the entry, ``Ntry/Chrgs``; a transaction the statement leaves out): each transaction is
  kept at its own amount and a warning names the entry and both figures.
- Files in an 8-bit Western European encoding that is not the UTF-8 they declare (or that XML
  without a declaration must be): ABN AMRO and ING Austria wrote ISO-8859-15 so (OCA
  bank-payment #21, "Input is not proper UTF-8"); such a file is read, with a warning.

Each file is built in the test, small and in the layout of the bank's own statements.
"""

from __future__ import annotations

from decimal import Decimal

from connectors.bankfiles import BankFileFormat, parse_bank_bytes
from connectors.bankfiles.records import ParseResult

_CONTAINERS = {
    "053": ("BkToCstmrStmt", "Stmt"),
    "054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn"),
}


def _camt(
    entries: str,
    message: str = "053",
    version: str = "08",
    iban: str = "DE89370400440532013000",
    declaration: str = '<?xml version="1.0" encoding="UTF-8"?>\n',
) -> str:
    container, report = _CONTAINERS[message]
    status = "<Sts><Cd>BOOK</Cd></Sts>" if int(version) >= 8 else "<Sts>BOOK</Sts>"
    return (
        f"{declaration}"
        f'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.{message}.001.{version}">\n'
        f"<{container}><GrpHdr><MsgId>MSG-1</MsgId><CreDtTm>2026-03-16T18:00:00</CreDtTm>"
        f"</GrpHdr>\n<{report}><Id>STMT-2026-03-16</Id>"
        f"<CreDtTm>2026-03-16T18:00:00</CreDtTm>\n"
        f"<Acct><Id><IBAN>{iban}</IBAN></Id><Ccy>EUR</Ccy></Acct>\n"
        f"{entries.replace('[[BOOK]]', status)}\n"
        f"</{report}></{container}></Document>\n"
    )


def _entry(amount: str, details: str, extra: str = "", ref: str = "2026031600471") -> str:
    return (
        f'<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd>[[BOOK]]'
        "<BookgDt><Dt>2026-03-16</Dt></BookgDt><ValDt><Dt>2026-03-16</Dt></ValDt>"
        f"<AcctSvcrRef>{ref}</AcctSvcrRef>"
        "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly>"
        f"</Domn></BkTxCd>{extra}<NtryDtls>{details}</NtryDtls></Ntry>"
    )


def _tx(payer: str, e2e: str, amounts: str, text: str = "") -> str:
    remittance = f"<RmtInf><Ustrd>{text}</Ustrd></RmtInf>" if text else ""
    return (
        f"<TxDtls><Refs><EndToEndId>{e2e}</EndToEndId></Refs>{amounts}"
        f"<RltdPties><Dbtr><Pty><Nm>{payer}</Nm></Pty></Dbtr></RltdPties>{remittance}</TxDtls>"
    )


def _instructed(amount: str, currency: str = "USD") -> str:
    return f'<AmtDtls><InstdAmt><Amt Ccy="{currency}">{amount}</Amt></InstdAmt></AmtDtls>'


def _own(amount: str) -> str:
    return f'<Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd>'


def _parse(text: str | bytes) -> ParseResult:
    data = text.encode() if isinstance(text, str) else text
    return parse_bank_bytes(data, "statement.xml")


# --- transactions stating their amount in the payer's currency only --------------------------


def test_batch_transactions_stating_only_a_foreign_instructed_amount_are_the_booked_entry() -> None:
    """A EUR batch entry of two US customers' wires, each transaction stating only what the
    payer instructed in USD (``AmtDtls/InstdAmt``): what was credited for each is unknown, the
    entry's 900.00 EUR is. One remittance of the booked amount carrying both references, never
    540.00 + 432.00 USD of cash the account never received."""
    details = _tx("Acme Corp", "ACME-INV-1001", _instructed("540.00")) + _tx(
        "Globex Inc", "GLOBEX-INV-1002", _instructed("432.00")
    )
    result = _parse(_camt(_entry("900.00", details), version="02"))
    assert result.errors == []
    assert [(r.amount, r.currency) for r in result.records] == [(Decimal("900.00"), "EUR")]
    [record] = result.records
    assert record.free_text is not None
    assert "ACME-INV-1001" in record.free_text and "GLOBEX-INV-1002" in record.free_text
    assert any("no amount in EUR" in w.reason for w in result.warnings)


def test_batch_transactions_whose_amt_is_in_the_instructed_currency_are_the_booked_entry() -> None:
    """camt.053.001.04 on: a transaction's ``Amt`` is the transaction's amount, which some banks
    give in the instructed currency; with no EUR figure beside it, the entry's booked amount is
    the cash."""
    details = _tx(
        "Acme Corp", "E2E-1", '<Amt Ccy="USD">540.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
    ) + _tx("Globex Inc", "E2E-2", '<Amt Ccy="USD">432.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>')
    result = _parse(_camt(_entry("900.00", details), version="04"))
    assert [(r.amount, r.currency) for r in result.records] == [(Decimal("900.00"), "EUR")]


def test_a_foreign_only_transaction_beside_booked_ones_is_an_error_naming_it() -> None:
    """A batch whose first transaction states its EUR amount and whose second only the payer's
    USD: the first is kept, the second is an error naming it and both currencies (its cash is
    not taken in USD)."""
    details = _tx("Kunde GmbH", "E2E-1", _own("500.00")) + _tx(
        "Acme Corp", "E2E-2", _instructed("432.00")
    )
    result = _parse(_camt(_entry("900.00", details)))
    assert [(r.amount, r.currency, r.payer_name) for r in result.records] == [
        (Decimal("500.00"), "EUR", "Kunde GmbH")
    ]
    [error] = result.errors
    assert "TxDtls[2]" in error.location
    assert "AmtDtls/InstdAmt/Amt USD" in error.reason and "booked in EUR" in error.reason


def test_a_transaction_with_its_booked_amount_beside_the_instructed_one_keeps_it() -> None:
    """The usual shape (Deutsche Bank, Commerzbank): ``InstdAmt`` in USD and ``TxAmt`` in EUR:
    each transaction is credited its EUR amount, no warning."""
    details = _tx(
        "Acme Corp",
        "E2E-1",
        '<AmtDtls><InstdAmt><Amt Ccy="USD">540.00</Amt></InstdAmt>'
        '<TxAmt><Amt Ccy="EUR">500.00</Amt></TxAmt></AmtDtls>',
    ) + _tx(
        "Globex Inc",
        "E2E-2",
        '<AmtDtls><InstdAmt><Amt Ccy="USD">432.00</Amt></InstdAmt>'
        '<TxAmt><Amt Ccy="EUR">400.00</Amt></TxAmt></AmtDtls>',
    )
    result = _parse(_camt(_entry("900.00", details), version="02"))
    assert [(r.amount, r.currency) for r in result.records] == [
        (Decimal("500.00"), "EUR"),
        (Decimal("400.00"), "EUR"),
    ]
    assert result.warnings == [] and result.errors == []


# --- batch entries whose transactions do not add up ----------------------------------------


def test_charges_taken_from_a_batch_entry_are_a_warning_naming_it() -> None:
    """camt.053.001.08: a SEPA batch booked at 990.00 EUR, its two payments of 500.00 each, the
    bank's 10.00 charges taken from the entry (``Ntry/Chrgs``, ``ChrgInclInd`` true). Each
    customer paid 500.00 and is kept so; the warning names the entry and the charges, so the
    10.00 the account never received is explained."""
    charges = (
        '<Chrgs><TtlChrgsAndTaxAmt Ccy="EUR">10.00</TtlChrgsAndTaxAmt><Rcrd>'
        '<Amt Ccy="EUR">10.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><ChrgInclInd>true</ChrgInclInd>'
        "</Rcrd></Chrgs>"
    )
    details = _tx("Alpha GmbH", "E2E-A", _own("500.00"), "RE-2026-0101") + _tx(
        "Beta AG", "E2E-B", _own("500.00"), "RE-2026-0102"
    )
    result = _parse(_camt(_entry("990.00", details, extra=charges)))
    assert [r.amount for r in result.records] == [Decimal("500.00"), Decimal("500.00")]
    [warning] = result.warnings
    assert warning.location.endswith("/Stmt[1]/Ntry[1] (line 6)")
    assert "add up to 1000.00 EUR, not to its booked 990.00 EUR" in warning.reason
    assert "charges of 10.00 EUR" in warning.reason


def test_a_statement_batch_missing_a_transaction_is_a_warning_naming_it() -> None:
    """A camt.053 batch entry of 900.00 EUR that lists two transactions of 300.00: each is kept,
    a warning says 300.00 booked is in none of them."""
    details = _tx("Alpha GmbH", "E2E-A", _own("300.00")) + _tx("Beta AG", "E2E-B", _own("300.00"))
    result = _parse(_camt(_entry("900.00", details)))
    assert [r.amount for r in result.records] == [Decimal("300.00"), Decimal("300.00")]
    [warning] = result.warnings
    assert "add up to 600.00 EUR, not to its booked 900.00 EUR" in warning.reason
    assert "300.00 EUR booked is in none of them" in warning.reason


def test_a_batch_with_the_banks_charge_as_a_debit_transaction_adds_up() -> None:
    """A batch that states the bank's charge as a transaction of its own (DBIT under the CRDT
    entry): the payments less the charge are the booked amount, no warning."""
    charge = '<Amt Ccy="EUR">10.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>'
    details = (
        _tx("Alpha GmbH", "E2E-A", _own("500.00"))
        + _tx("Beta AG", "E2E-B", _own("500.00"))
        + _tx("Bank", "NOTPROVIDED", charge)
    )
    result = _parse(_camt(_entry("990.00", details)))
    assert [r.amount for r in result.records] == [Decimal("500.00"), Decimal("500.00")]
    assert result.warnings == [] and result.errors == []


# --- encodings --------------------------------------------------------------------------------

_GERMAN_CREDIT = _entry(
    "1190.00",
    _tx("Müller Gärtnerei GmbH", "RE-2026-0047", "", "Rechnung RE-2026-0047 Grüße, 1190 €"),
)


def test_iso_8859_15_without_a_declaration_is_read_with_a_warning() -> None:
    """ABN AMRO camt.053.001.02 without an XML declaration, written in ISO-8859-15 (0xA4 the euro
    sign): no longer the whole file refused as not well-formed; the credit is read with its
    payer's name as written, and a warning names the line and the encoding read."""
    data = _camt(_GERMAN_CREDIT, version="02", declaration="").encode("iso-8859-15")
    result = _parse(data)
    assert result.format is BankFileFormat.CAMT_053 and result.errors == []
    [record] = result.records
    assert (record.amount, record.payer_name) == (Decimal("1190.00"), "Müller Gärtnerei GmbH")
    assert record.free_text is not None and "Grüße, 1190 €" in record.free_text
    [warning] = result.warnings
    assert warning.location == "line 5"
    assert "ISO-8859-15" in warning.reason and "0xFC" in warning.reason


def test_windows_1252_declared_as_utf8_is_read_with_a_warning() -> None:
    """A file declaring UTF-8 whose text is Windows-1252 (an en dash, 0x96): read as such, with a
    warning; a BOM before the declaration changes nothing."""
    text = _camt(_GERMAN_CREDIT.replace("Grüße,", "Grüße \u2013"), version="08")
    result = _parse(b"\xef\xbb\xbf" + text.encode("cp1252"))
    assert result.errors == []
    [record] = result.records
    assert record.free_text is not None and "Grüße \u2013 1190 €" in record.free_text
    [warning] = result.warnings
    assert "WINDOWS-1252" in warning.reason and "declares" in warning.reason


def test_a_utf8_file_with_one_latin_1_name_keeps_its_utf8_text() -> None:
    """A UTF-8 file into which one name was pasted in Latin-1: the UTF-8 text stays as it is,
    only the bytes that are no UTF-8 are read as 8-bit text."""
    text = _camt(_GERMAN_CREDIT, version="02")
    data = text.encode().replace("Müller".encode(), "Müller".encode("latin-1"))
    [record] = _parse(data).records
    assert record.payer_name == "Müller Gärtnerei GmbH"
    assert record.free_text is not None and "Grüße, 1190 €" in record.free_text


def test_a_declared_latin_1_file_is_read_as_declared_without_a_warning() -> None:
    """Commerzbank-style ``encoding="ISO-8859-1"``: read as declared, nothing to say."""
    declaration = '<?xml version="1.0" encoding="ISO-8859-1"?>\n'
    credit = _GERMAN_CREDIT.replace(" €", " EUR")
    result = _parse(_camt(credit, version="02", declaration=declaration).encode("latin-1"))
    assert result.warnings == [] and result.errors == []
    assert [r.payer_name for r in result.records] == ["Müller Gärtnerei GmbH"]
