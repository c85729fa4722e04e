"""camt.053 / camt.054 as banks produce them, version by version: namespaces (default and
prefixed, or none), ``Sts`` as a code and as ``Sts/Cd``, dates with times and zones, batch
bookings (SIX camt.054: one ``TxDtls`` per QR payment, its amount in ``Amt``, ``TxAmt`` or
``InstdAmt``), debtor names of .02-.07 and .08 on, reversals, charges, cross-currency
credits, several statements and accounts in one file, bad entries among good ones, and the
payer's remittance as ERPs write it (``Strd`` amounts in two currencies, ``Ustrd`` lines a
bank cut at 35 characters).

Each file is built in the test, small and in the layout its bank or guide gives.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from connectors.bankfiles import BankFileFormat, RefKind, parse_bank_bytes
from connectors.bankfiles.records import ParseResult, RawRemittance
from mappings.bankfiles import remittance_from_raw

_MESSAGES = {
    "camt.053": ("BkToCstmrStmt", "Stmt"),
    "camt.054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn"),
}
_OWN_IBAN = "NL91ABNA0417164300"
_QRR = "000000000000020260316004571"  # 27 digits, modulo-10 check digit 1
_RF = "RF83INV2026045"


def _report(
    entries: str, report: str, ident: str = "RPT-1", iban: str = _OWN_IBAN, ccy: str = "EUR"
) -> str:
    return (
        f"<{report}><Id>{ident}</Id><CreDtTm>2026-03-16T18:00:00+01:00</CreDtTm>"
        f"<Acct><Id><IBAN>{iban}</IBAN></Id><Ccy>{ccy}</Ccy></Acct>{entries}</{report}>"
    )


def _document(
    reports: list[str] | str,
    message: str = "camt.053",
    version: str = "08",
    prefix: str | None = None,
) -> bytes:
    """A whole document; ``reports`` are entries of one report, or whole reports (``_report``).
    With ``prefix`` every element is written ``prefix:Name`` and there is no default
    namespace (as Java and .NET serializers write it)."""
    container, report = _MESSAGES[message]
    body = _report(reports, report) if isinstance(reports, str) else "".join(reports)
    status = "<Sts><Cd>BOOK</Cd></Sts>" if int(version) >= 8 else "<Sts>BOOK</Sts>"
    body = body.replace("[[BOOK]]", status)
    namespace = f"urn:iso:std:iso:20022:tech:xsd:{message}.001.{version}"
    xml = (
        f"<Document><{container}><GrpHdr><MsgId>MSG-1</MsgId>"
        f"<CreDtTm>2026-03-16T18:00:00+01:00</CreDtTm></GrpHdr>{body}</{container}></Document>"
    )
    if prefix:
        # every start and end tag (no declaration, no comment) gets the prefix
        xml = xml.replace("</", "\x00").replace("<", f"<{prefix}:")
        xml = xml.replace("\x00", f"</{prefix}:")
        xml = xml.replace(
            f"<{prefix}:Document>", f'<{prefix}:Document xmlns:{prefix}="{namespace}">'
        )
    else:
        xml = xml.replace("<Document>", f'<Document xmlns="{namespace}">', 1)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + xml).encode()


def _entry(
    tx: str | list[str],
    amount: str = "250.00",
    ccy: str = "EUR",
    indicator: str = "CRDT",
    ref: str = "ACSR-0001",
    dates: str = "<Dt>2026-03-16</Dt>",
    extra: str = "",
    details: str = "",
) -> str:
    txs = tx if isinstance(tx, list) else [tx]
    return (
        f'<Ntry><NtryRef>{ref}-N</NtryRef><Amt Ccy="{ccy}">{amount}</Amt>'
        f"<CdtDbtInd>{indicator}</CdtDbtInd>{extra}[[BOOK]]"
        f"<BookgDt>{dates}</BookgDt><ValDt>{dates}</ValDt><AcctSvcrRef>{ref}</AcctSvcrRef>"
        "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly>"
        f"</Domn></BkTxCd><NtryDtls>{details}"
        + "".join(f"<TxDtls>{t}</TxDtls>" for t in txs)
        + "</NtryDtls></Ntry>"
    )


def _parties(name: str, v8: bool = True, iban: str = "DE89370400440532013000") -> str:
    debtor = f"<Pty><Nm>{name}</Nm></Pty>" if v8 else f"<Nm>{name}</Nm>"
    return (
        f"<RltdPties><Dbtr>{debtor}</Dbtr>"
        f"<DbtrAcct><Id><IBAN>{iban}</IBAN></Id></DbtrAcct></RltdPties>"
    )


def _tx(
    remittance: str = "<Ustrd>INV-2026-0045</Ustrd>",
    amount: str = '<Amt Ccy="EUR">250.00</Amt>',
    payer: str = "Acme Handels GmbH",
    v8: bool = True,
    e2e: str = "E2E-4711",
    extra: str = "",
) -> str:
    return (
        f"<Refs><EndToEndId>{e2e}</EndToEndId></Refs>{amount}{extra}"
        f"{_parties(payer, v8)}<RmtInf>{remittance}</RmtInf>"
    )


def _parse(data: bytes, name: str = "bank.xml") -> ParseResult:
    return parse_bank_bytes(data, name)


def _one(result: ParseResult) -> RawRemittance:
    assert result.errors == [], result.errors
    (record,) = result.records
    return record


def _minor(record: RawRemittance) -> tuple[int, str]:
    canonical = remittance_from_raw(record)
    return canonical.amount_minor, canonical.currency


# --- versions, namespaces, status and dates ------------------------------------------------

_VERSIONS = ["02", "04", "06", "08", "10", "11", "12", "13"]


@pytest.mark.parametrize("message", ["camt.053", "camt.054"])
@pytest.mark.parametrize("version", _VERSIONS)
@pytest.mark.parametrize("prefix", [None, "ns2"])
def test_every_version_default_or_prefixed_namespace_reads_the_same(
    message: str, version: str, prefix: str | None
) -> None:
    v8 = int(version) >= 8
    data = _document(_entry(_tx(v8=v8)), message, version, prefix)
    assert (b"<ns2:Ntry>" in data) is bool(prefix)
    result = _parse(data)
    record = _one(result)
    assert result.format is BankFileFormat(message)
    assert (record.amount, record.currency, record.value_date) == (
        Decimal("250.00"),
        "EUR",
        date(2026, 3, 16),
    )
    assert (record.payer_name, record.payer_iban) == (
        "Acme Handels GmbH",
        "DE89370400440532013000",
    )
    assert (record.end_to_end_id, record.bank_reference) == ("E2E-4711", "ACSR-0001")
    assert record.free_text == "INV-2026-0045"


def test_a_document_without_any_namespace() -> None:
    data = _document(_entry(_tx(v8=False)), version="02").replace(
        b' xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"', b""
    )
    assert b"xmlns" not in data
    assert _one(_parse(data)).amount == Decimal("250.00")


@pytest.mark.parametrize(
    "dates",
    [
        "<DtTm>2026-03-16T23:30:00+01:00</DtTm>",
        "<DtTm>2026-03-16T08:15:00Z</DtTm>",
        "<DtTm>2026-03-16T08:15:00.123</DtTm>",
    ],
)
def test_booking_and_value_date_times_give_the_banks_date(dates: str) -> None:
    record = _one(_parse(_document(_entry(_tx(), dates=dates), version="10")))
    assert record.value_date == date(2026, 3, 16)


@pytest.mark.parametrize(
    ("version", "status"),
    [("04", "<Sts>PDNG</Sts>"), ("04", "<Sts>INFO</Sts>"), ("08", "<Sts><Cd>PDNG</Cd></Sts>")],
)
def test_pending_or_information_entries_are_no_cash(version: str, status: str) -> None:
    data = _document(_entry(_tx()).replace("[[BOOK]]", status), "camt.054", version)
    result = _parse(data)
    assert (result.records, result.errors) == ([], [])


# --- batch bookings -------------------------------------------------------------------------


def test_six_camt054_batch_gives_each_transaction_its_own_remittance() -> None:
    """A QR-bill batch credit (SPS camt.054 .08): four payments booked as one entry, each
    stating its amount where its bank puts it: Amt, AmtDtls/TxAmt, AmtDtls/InstdAmt."""
    qrr = (
        "<Strd><CdtrRefInf><Tp><CdOrPrtry><Prtry>QRR</Prtry></CdOrPrtry></Tp>"
        f"<Ref>{_QRR}</Ref></CdtrRefInf></Strd>"
    )
    scor = (
        "<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp>"
        f"<Ref>{_RF}</Ref></CdtrRefInf><AddtlRmtInf>Abo Maerz</AddtlRmtInf></Strd>"
    )
    txs = [
        _tx(
            qrr,
            '<Amt Ccy="CHF">100.5</Amt><CdtDbtInd>CRDT</CdtDbtInd>',
            "Muster AG",
            e2e="NOTPROVIDED",
        ),
        _tx(scor, '<AmtDtls><TxAmt><Amt Ccy="CHF">200.00</Amt></TxAmt></AmtDtls>', "Beta SA"),
        _tx(
            "<Ustrd>Rechnung 2026-0044</Ustrd>",
            '<AmtDtls><InstdAmt><Amt Ccy="CHF">49.50</Amt></InstdAmt></AmtDtls>',
            "Gamma GmbH",
        ),
        _tx(qrr, '<Amt Ccy="CHF">1000.00</Amt>', "Delta AG").replace(
            "</RltdPties>",
            "<UltmtDbtr><Pty><Nm>Delta Holding AG</Nm></Pty></UltmtDbtr></RltdPties>",
        ),
    ]
    batch = '<Btch><NbOfTxs>4</NbOfTxs><TtlAmt Ccy="CHF">1350.00</TtlAmt></Btch>'
    entry = _entry(txs, "1350.00", "CHF", details=batch)
    report = _report(entry, "Ntfctn", iban="CH4431999123000889012", ccy="CHF")
    result = _parse(_document([report], "camt.054"))
    assert result.errors == [] and result.warnings == []
    qr, rf, plain, ultimate = result.records
    assert [_minor(r) for r in result.records] == [
        (10050, "CHF"),
        (20000, "CHF"),
        (4950, "CHF"),
        (100000, "CHF"),
    ]
    assert (qr.payer_name, qr.end_to_end_id) == ("Muster AG", None)
    assert [(s.kind, s.ref) for s in qr.structured_refs] == [(RefKind.OTHER, _QRR)]
    assert [(s.kind, s.ref) for s in rf.structured_refs] == [(RefKind.RF, _RF)]
    assert rf.free_text == "Abo Maerz"
    assert plain.free_text == "Rechnung 2026-0044"
    assert (ultimate.payer_name, ultimate.ultimate_payer_name) == ("Delta AG", "Delta Holding AG")
    assert len({r.dedup_key for r in result.records}) == 4
    assert {r.value_date for r in result.records} == {date(2026, 3, 16)}


def test_a_batch_booked_without_its_transactions_is_one_remittance() -> None:
    """SPS camt.053: the batch's entry with only ``Btch/NbOfTxs``, its payments in camt.054."""
    entry = _entry([], "3000.00", "CHF", details="<Btch><NbOfTxs>12</NbOfTxs></Btch>")
    record = _one(_parse(_document(entry, version="04")))
    assert (record.amount, record.currency, record.bank_reference) == (
        Decimal("3000.00"),
        "CHF",
        "ACSR-0001",
    )


def test_a_debit_transaction_under_a_credit_entry_is_no_receipt() -> None:
    txs = [
        _tx(amount='<Amt Ccy="EUR">300.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>'),
        _tx(amount='<Amt Ccy="EUR">50.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>', payer="Us"),
    ]
    result = _parse(_document(_entry(txs, "250.00")))
    assert [(r.amount, r.payer_name) for r in result.records] == [
        (Decimal("300.00"), "Acme Handels GmbH")
    ]


# --- reversals, charges, currencies -----------------------------------------------------------


def test_a_reversed_credit_is_a_negative_remittance_naming_the_payment() -> None:
    entry = _entry(_tx(), indicator="DBIT", extra="<RvslInd>true</RvslInd>")
    record = _one(_parse(_document(entry)))
    assert (record.amount, record.reverses) == (Decimal("-250.00"), "E2E-4711")


def test_a_reversed_debit_is_no_receipt() -> None:
    result = _parse(_document(_entry(_tx(), extra="<RvslInd>true</RvslInd>")))
    assert (result.records, result.errors) == ([], [])


@pytest.mark.parametrize("included", ["true", "false"])
def test_charges_of_a_single_credit_leave_the_booked_amount(included: str) -> None:
    """Barclays, HSBC: the transaction states the gross and the charges; the entry is what
    reached the account, whether the charges were taken from it or booked apart."""
    charges = (
        '<Chrgs><TtlChrgsAndTaxAmt Ccy="EUR">20.00</TtlChrgsAndTaxAmt><Rcrd>'
        f'<Amt Ccy="EUR">20.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><ChrgInclInd>{included}'
        "</ChrgInclInd></Rcrd></Chrgs>"
    )
    booked = "980.00" if included == "true" else "1000.00"
    tx = _tx(amount='<Amt Ccy="EUR">1000.00</Amt>', extra=charges)
    record = _one(_parse(_document(_entry(tx, booked))))
    assert record.amount == Decimal(booked)


def test_a_credit_instructed_in_dollars_is_the_euros_booked() -> None:
    """J.P. Morgan, Deutsche Bank: InstdAmt in the payer's currency with its exchange."""
    amounts = (
        '<Amt Ccy="EUR">912.34</Amt><AmtDtls><InstdAmt><Amt Ccy="USD">1000.00</Amt>'
        "<CcyXchg><SrcCcy>USD</SrcCcy><TrgtCcy>EUR</TrgtCcy><UnitCcy>USD</UnitCcy>"
        '<XchgRate>0.91234</XchgRate></CcyXchg></InstdAmt><TxAmt><Amt Ccy="EUR">912.34</Amt>'
        "</TxAmt></AmtDtls>"
    )
    record = _one(_parse(_document(_entry(_tx(amount=amounts), "912.34"))))
    assert _minor(record) == (91234, "EUR")


# --- several reports, bad entries -------------------------------------------------------------


def test_several_statements_accounts_and_an_empty_one_with_bad_entries_among_good() -> None:
    good = _report(_entry(_tx(), ref="A1") + _entry(_tx(), "75.10", ref="A2"), "Stmt", "S1")
    empty = _report("", "Stmt", "S2", iban="GB29NWBK60161331926819", ccy="GBP")
    gbp = _report(
        _entry(_tx(), "abc", "GBP", ref="G1")
        + _entry(_tx(), "7.00", "GBP", ref="G2", dates="<Dt>2026-02-30</Dt>")
        + _entry(_tx(), "9.00", "GBX", ref="G3")
        + _entry(_tx(), "12.00", "GBP", ref="G4"),
        "Stmt",
        "S3",
        iban="GB29NWBK60161331926819",
        ccy="GBP",
    )
    result = _parse(_document([good, empty, gbp], version="02"), "multi.xml")
    assert [(r.amount, r.currency, r.bank_reference) for r in result.records] == [
        (Decimal("250.00"), "EUR", "A1"),
        (Decimal("75.10"), "EUR", "A2"),
        (Decimal("12.00"), "GBP", "G4"),
    ]
    where = "/Document/BkToCstmrStmt[1]/Stmt[3]"
    assert [(e.file, e.location) for e in result.errors] == [
        ("multi.xml", f"{where}/Ntry[1]/Amt[1] (line 2), amount"),
        ("multi.xml", f"{where}/Ntry[2]/ValDt[1] (line 2)"),
        ("multi.xml", f"{where}/Ntry[3]/Amt[1] (line 2), Ccy"),
    ]
    assert [e.reason for e in result.errors] == [
        "not an amount: 'abc'",
        "not a date: '2026-02-30'",
        "not an ISO 4217 currency code: 'GBX'",
    ]


def test_one_entry_notified_then_stated_is_one_remittance() -> None:
    notified = _one(_parse(_document(_entry(_tx(v8=False)), "camt.054", "04")))
    stated = _one(_parse(_document(_entry(_tx()), "camt.053", "08")))
    assert notified.dedup_key == stated.dedup_key


# --- the payer's remittance -------------------------------------------------------------------


def _strd(amounts: str, kind: str = "CINV", number: str = "INV-2026-0045") -> str:
    return (
        f"<Strd><RfrdDocInf><Tp><CdOrPrtry><Cd>{kind}</Cd></CdOrPrtry></Tp><Nb>{number}</Nb>"
        f"<RltdDt><Dt>2026-02-01</Dt></RltdDt></RfrdDocInf><RfrdDocAmt>{amounts}</RfrdDocAmt>"
        "</Strd>"
    )


def test_remitted_amount_in_the_credits_currency_stays_beside_a_foreign_amount_due() -> None:
    """An ERP paying a USD invoice from a EUR account: the invoice's amount due in USD, what
    it remits in EUR. The EUR amount says what part of the credit is for the invoice."""
    remittance = _strd(
        '<DuePyblAmt Ccy="USD">1060.00</DuePyblAmt><RmtdAmt Ccy="EUR">980.00</RmtdAmt>'
    )
    result = _parse(_document(_entry(_tx(remittance, '<Amt Ccy="EUR">980.00</Amt>'), "980.00")))
    record = _one(result)
    (ref,) = record.structured_refs
    assert (ref.kind, ref.ref, ref.amount_paid, ref.invoice_amount, ref.document_date) == (
        RefKind.INVOICE,
        "INV-2026-0045",
        Decimal("980.00"),
        None,
        date(2026, 2, 1),
    )
    (warning,) = result.warnings
    assert warning.location.endswith("/RfrdDocAmt[1]/DuePyblAmt[1] (line 2), Ccy")
    assert warning.reason == (
        "an amount in USD, the credit is in EUR: this amount is left out, the rest of the "
        "payer's remittance detail is kept; the 980.00 EUR credit is kept"
    )


def test_a_foreign_discount_leaves_out_the_discount_only() -> None:
    remittance = _strd(
        '<DuePyblAmt Ccy="EUR">1000.00</DuePyblAmt><DscntApldAmt><Tp><Cd>PPD</Cd></Tp>'
        '<Amt Ccy="USD">20.00</Amt></DscntApldAmt><RmtdAmt Ccy="EUR">980.00</RmtdAmt>'
    )
    record = _one(_parse(_document(_entry(_tx(remittance), "980.00"))))
    (ref,) = record.structured_refs
    assert (ref.amount_paid, ref.invoice_amount, ref.discount) == (
        Decimal("980.00"),
        Decimal("1000.00"),
        None,
    )


def test_a_foreign_remitted_amount_is_not_replaced_by_the_credit_note_beside_it() -> None:
    remittance = _strd(
        '<CdtNoteAmt Ccy="EUR">50.00</CdtNoteAmt><RmtdAmt Ccy="USD">980.00</RmtdAmt>'
    )
    record = _one(_parse(_document(_entry(_tx(remittance), "980.00"))))
    assert record.structured_refs[0].amount_paid is None


def test_a_credit_note_in_another_currency_is_named_in_the_text() -> None:
    """A credit note whose amount is left out reads as taken whole: its number goes to the
    free text instead."""
    remittance = _strd('<CdtNoteAmt Ccy="USD">50.00</CdtNoteAmt>', "CREN", "CN-2026-0007")
    record = _one(_parse(_document(_entry(_tx(remittance), "980.00"))))
    assert record.structured_refs == ()
    assert record.free_text == "CN-2026-0007"


def test_line_details_with_one_line_in_another_currency_leave_the_paid_sum_unknown() -> None:
    lines = (
        '<LineDtls><Amt><RmtdAmt Ccy="EUR">600.00</RmtdAmt></Amt></LineDtls>'
        '<LineDtls><Amt><RmtdAmt Ccy="USD">400.00</RmtdAmt></Amt></LineDtls>'
    )
    remittance = f"<Strd><RfrdDocInf><Nb>INV-2026-0050</Nb>{lines}</RfrdDocInf></Strd>"
    result = _parse(_document(_entry(_tx(remittance), "1000.00")))
    assert _one(result).structured_refs[0].amount_paid is None  # never 600.00 of the two
    assert len(result.warnings) == 1


def test_a_reference_the_bank_cut_at_35_characters_is_one_reference_again() -> None:
    """Nordea, Danske, HSBC: the payer's text in Ustrd lines of 35 characters, cut
    mid-reference."""
    first = "Rechnungsnr. RE-2026-0045 und RE-20"
    assert len(first) == 35
    remittance = f"<Ustrd>{first}</Ustrd><Ustrd>26-0046 Kd-Nr 7781</Ustrd>"
    record = _one(_parse(_document(_entry(_tx(remittance)), version="02")))
    assert record.free_text == "Rechnungsnr. RE-2026-0045 und RE-2026-0046 Kd-Nr 7781"


@pytest.mark.parametrize(
    ("lines", "text"),
    [
        # a line shorter than the width: the bank broke it at a blank
        (["INV 2026-", "0046"], "INV 2026- 0046"),
        # cut at the width between words
        (
            ["PAYMENT OF OUR INVOICES AS AGREED W", "ITH THANKS"],
            "PAYMENT OF OUR INVOICES AS AGREED W ITH THANKS",
        ),
        (
            ["PAYMENT FOR INVOICE NUMBER 20260047", " 8 THANKS"],
            "PAYMENT FOR INVOICE NUMBER 20260047 8 THANKS",
        ),
    ],
)
def test_ustrd_lines_not_cut_inside_a_number_stay_apart(lines: list[str], text: str) -> None:
    remittance = "".join(f"<Ustrd>{line}</Ustrd>" for line in lines)
    record = _one(_parse(_document(_entry(_tx(remittance)), version="02")))
    assert record.free_text == " ".join(text.split())
