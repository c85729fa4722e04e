"""Bank files as particular banks and markets produce them, in areas earlier probes left out:
Swiss SIX camt.054 / camt.053 (QR-bill QRR references with their modulo-10 check digit, SCOR
creditor references, Swico billing information, batch bookings), Nordic national references
(Finnish viitenumero, Norwegian KID, Swedish Bankgirot OCR), the Belgian structured
communication, returned credit transfers, charges and FX amounts, currencies with 0 and 3
minor digits, camt.053 .10 namespaces, Canadian BAI2 (CAD groups, bank-specific type codes,
text over 88 records) and NACHA returns.

Each file is built in the test, small and in the layout its bank or guide gives; the
docstring of each test names the convention it follows.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from connectors.bankfiles import RefKind, parse_bank_bytes
from connectors.bankfiles.records import ParseResult, RawRemittance
from mappings.bankfiles import remittance_from_raw
from mappings.base import MappingError
from tests.support.nacha_records import OUR_ACCOUNT, OUR_ROUTING
from tests.support.nacha_records import record as _rec

# --- camt builders -------------------------------------------------------------------------

_CONTAINERS = {
    "camt.052": ("BkToCstmrAcctRpt", "Rpt"),
    "camt.053": ("BkToCstmrStmt", "Stmt"),
    "camt.054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn"),
}
_SWISS_IBAN = "CH4431999123000889012"  # a QR-IBAN (IID 31999) of the creditor


def _camt(
    entries: list[str],
    message: str = "camt.054",
    version: str = "04",
    iban: str = _SWISS_IBAN,
    currency: str = "CHF",
    report_id: str = "NTF-20260316-01",
) -> bytes:
    container, report = _CONTAINERS[message]
    body = "".join(entries)
    code_status = int(version) >= 8
    body = body.replace(
        "[[BOOK]]", "<Sts><Cd>BOOK</Cd></Sts>" if code_status else "<Sts>BOOK</Sts>"
    )
    body = body.replace(
        "[[PDNG]]", "<Sts><Cd>PDNG</Cd></Sts>" if code_status else "<Sts>PDNG</Sts>"
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:{message}.001.{version}">
 <{container}>
  <GrpHdr><MsgId>MSG-{report_id}</MsgId><CreDtTm>2026-03-16T18:00:00</CreDtTm></GrpHdr>
  <{report}>
   <Id>{report_id}</Id>
   <CreDtTm>2026-03-16T18:00:00</CreDtTm>
   <Acct><Id><IBAN>{iban}</IBAN></Id><Ccy>{currency}</Ccy></Acct>
   {body}
  </{report}>
 </{container}>
</Document>
""".encode()


def _code(domain: str = "PMNT", family: str = "RCDT", sub: str = "VCOM") -> str:
    return (
        f"<BkTxCd><Domn><Cd>{domain}</Cd><Fmly><Cd>{family}</Cd>"
        f"<SubFmlyCd>{sub}</SubFmlyCd></Fmly></Domn></BkTxCd>"
    )


def _entry(
    amount: str,
    currency: str,
    txs: list[str],
    indicator: str = "CRDT",
    ref: str = "ACSR-0001",
    code: str | None = None,
    booked: str = "2026-03-16",
    extra: str = "",
) -> str:
    details = f"<NtryDtls>{''.join(txs)}</NtryDtls>" if txs else ""
    return (
        f'<Ntry><NtryRef>{ref}</NtryRef><Amt Ccy="{currency}">{amount}</Amt>'
        f"<CdtDbtInd>{indicator}</CdtDbtInd>{extra}[[BOOK]]"
        f"<BookgDt><Dt>{booked}</Dt></BookgDt><ValDt><Dt>{booked}</Dt></ValDt>"
        f"<AcctSvcrRef>{ref}</AcctSvcrRef>{code if code is not None else _code()}"
        f"{details}</Ntry>"
    )


def _tx(
    inner: str = "",
    amount: str | None = None,
    currency: str = "CHF",
    payer: str | None = "Muster AG",
    payer_iban: str | None = "CH5604835012345678009",
    e2e: str = "NOTPROVIDED",
    v08: bool = False,
) -> str:
    own = f'<Amt Ccy="{currency}">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd>' if amount else ""
    parties = ""
    if payer or payer_iban:
        name = ""
        if payer:
            name = (
                f"<Dbtr><Pty><Nm>{payer}</Nm></Pty></Dbtr>"
                if v08
                else f"<Dbtr><Nm>{payer}</Nm></Dbtr>"
            )
        account = f"<DbtrAcct><Id><IBAN>{payer_iban}</IBAN></Id></DbtrAcct>" if payer_iban else ""
        parties = f"<RltdPties>{name}{account}</RltdPties>"
    return f"<TxDtls><Refs><EndToEndId>{e2e}</EndToEndId></Refs>{own}{parties}{inner}</TxDtls>"


def _creditor_ref(
    ref: str, code: str | None = None, proprietary: str | None = None, issuer: str = ""
) -> str:
    kind = f"<Cd>{code}</Cd>" if code else f"<Prtry>{proprietary}</Prtry>" if proprietary else ""
    tp = f"<Tp><CdOrPrtry>{kind}</CdOrPrtry>{issuer}</Tp>" if kind else ""
    return f"<RmtInf><Strd><CdtrRefInf>{tp}<Ref>{ref}</Ref></CdtrRefInf></Strd></RmtInf>"


def _parse(data: bytes, name: str = "bank.xml") -> ParseResult:
    return parse_bank_bytes(data, name)


def _one(result: ParseResult) -> RawRemittance:
    assert result.errors == [], result.errors
    assert len(result.records) == 1, result.records
    return result.records[0]


def _refs(record: RawRemittance) -> list[tuple[RefKind, str]]:
    return [(r.kind, r.ref) for r in record.structured_refs]


def _reasons(result: ParseResult) -> str:
    return " | ".join(w.reason + " @ " + w.location for w in result.warnings)


# --- Swiss SIX: QR-bill references --------------------------------------------------------


def test_six_qrr_reference_written_in_blocks_is_one_compact_reference() -> None:
    """SIX Swiss Payment Standards camt.054 v04: a QR-bill credit states its QR reference
    (``CdtrRefInf/Tp/CdOrPrtry/Prtry`` QRR) of 27 digits; payers' software and some banks
    write it in blocks of five as printed on the bill."""
    tx = _tx(_creditor_ref("21 00000 00003 13947 14300 09017", proprietary="QRR"))
    record = _one(_parse(_camt([_entry("3949.75", "CHF", [tx])])))
    assert (record.amount, record.currency) == (Decimal("3949.75"), "CHF")
    assert _refs(record) == [(RefKind.OTHER, "210000000003139471430009017")]
    assert record.payer_name == "Muster AG"
    assert record.reverses is None and not record.advice_only


def test_six_qrr_reference_with_a_wrong_check_digit_is_kept_with_a_warning() -> None:
    """SIX QR-bill: the 27th digit of a QR reference is a modulo-10 recursive check digit. A
    reference that fails it was mistyped somewhere: the cash is kept, its reference too, and
    the person ingesting hears the reference may not be the creditor's."""
    tx = _tx(_creditor_ref("210000000003139471430009016", proprietary="QRR"))
    result = _parse(_camt([_entry("120.00", "CHF", [tx])]))
    record = _one(result)
    assert record.amount == Decimal("120.00")
    assert _refs(record) == [(RefKind.OTHER, "210000000003139471430009016")]
    assert "check digit" in _reasons(result) and "CdtrRefInf" in _reasons(result)


def test_six_qrr_reference_with_a_valid_check_digit_gives_no_warning() -> None:
    """SIX QR-bill: a QR reference whose modulo-10 recursive check digit holds is silent
    (26 digits of the creditor's numbering and the check digit 5)."""
    tx = _tx(_creditor_ref("000000000000000000001234565", proprietary="QRR"))
    result = _parse(_camt([_entry("77.70", "CHF", [tx])]))
    assert _refs(_one(result)) == [(RefKind.OTHER, "000000000000000000001234565")]
    assert result.warnings == []


def test_six_scor_creditor_reference_is_an_rf_reference() -> None:
    """SIX QR-bill with a creditor reference (``Cd`` SCOR, ISO 11649): the RF reference is
    structured, compact and upper-case, whatever blocks the payer typed."""
    tx = _tx(_creditor_ref("rf18 5390 0754 7034", code="SCOR"))
    record = _one(_parse(_camt([_entry("500.00", "EUR", [tx])], currency="EUR")))
    assert (record.amount, record.currency) == (Decimal("500.00"), "EUR")
    assert _refs(record) == [(RefKind.RF, "RF18539007547034")]


def test_six_swico_billing_information_stays_free_text_beside_the_qr_reference() -> None:
    """Swico syntax (S1) of the QR-bill's billing information, passed on in
    ``Strd/AddtlRmtInf``: ``//S1/10/<invoice no>/11/<invoice date YYMMDD>/20/<customer
    reference>/30/<VAT number>/...``. The QR reference is the structured reference; the
    billing information is free text whole, where the reconciler reads the invoice number
    (as the documented SIX sample pins it)."""
    info = "//S1/10/10201409/11/260301/20/1400.000-53/30/106017086/31/260301/32/7.7/40/0:30"
    inner = (
        "<RmtInf><Strd><CdtrRefInf><Tp><CdOrPrtry><Prtry>QRR</Prtry></CdOrPrtry></Tp>"
        "<Ref>210000000003139471430009017</Ref></CdtrRefInf>"
        f"<AddtlRmtInf>{info}</AddtlRmtInf></Strd></RmtInf>"
    )
    result = _parse(_camt([_entry("1949.75", "CHF", [_tx(inner)])]))
    record = _one(result)
    assert _refs(record) == [(RefKind.OTHER, "210000000003139471430009017")]
    assert record.free_text == info
    assert result.warnings == []


def test_six_unstructured_message_beside_a_qr_reference_is_free_text() -> None:
    """SIX QR-bill: the payer's unstructured message travels in ``Strd/AddtlRmtInf`` beside
    the QR reference; not Swico syntax, it is only free text."""
    inner = (
        "<RmtInf><Strd><CdtrRefInf><Tp><CdOrPrtry><Prtry>QRR</Prtry></CdOrPrtry></Tp>"
        "<Ref>210000000003139471430009017</Ref></CdtrRefInf>"
        "<AddtlRmtInf>Auftrag vom 15.02.2026 Rechnung 4711</AddtlRmtInf></Strd></RmtInf>"
    )
    record = _one(_parse(_camt([_entry("80.00", "CHF", [_tx(inner)])])))
    assert _refs(record) == [(RefKind.OTHER, "210000000003139471430009017")]
    assert record.free_text == "Auftrag vom 15.02.2026 Rechnung 4711"


def test_six_camt054_batch_booking_gives_one_remittance_per_transaction() -> None:
    """SIX camt.054 for a QR-bill batch booking (one ``Ntry`` credited as one sum, ``Btch``
    and one ``TxDtls`` each with its own ``Amt``, payer and QR reference)."""
    refs = ["210000000003139471430009017", "000000000000000000001234565"]
    txs = [
        _tx(_creditor_ref(refs[0], proprietary="QRR"), amount="100.00", payer="Alpha GmbH"),
        _tx(_creditor_ref(refs[1], proprietary="QRR"), amount="250.50", payer="Beta AG"),
        _tx("<RmtInf><Ustrd>Rechnung 2026-118</Ustrd></RmtInf>", amount="49.50", payer="Gamma SA"),
    ]
    batch = "<Btch><NbOfTxs>3</NbOfTxs></Btch>"
    entry = _entry("400.00", "CHF", txs).replace("<NtryDtls>", f"<NtryDtls>{batch}")
    result = _parse(_camt([entry]))
    assert result.errors == [] and result.warnings == []
    assert [(r.amount, r.currency, r.payer_name) for r in result.records] == [
        (Decimal("100.00"), "CHF", "Alpha GmbH"),
        (Decimal("250.50"), "CHF", "Beta AG"),
        (Decimal("49.50"), "CHF", "Gamma SA"),
    ]
    assert _refs(result.records[1]) == [(RefKind.OTHER, refs[1])]
    assert result.records[2].free_text == "Rechnung 2026-118"
    assert len({r.dedup_key for r in result.records}) == 3
    assert len({r.details_of for r in result.records}) == 1


def test_six_batch_transactions_stated_only_as_amtdtls_txamt() -> None:
    """camt.054.001.02 (SIX's older version): a transaction has no ``Amt`` of its own (it
    came in .03) and states what was booked as ``AmtDtls/TxAmt``."""
    txs = [
        _tx(amount=None, payer="Alpha GmbH").replace(
            "<RltdPties>", '<AmtDtls><TxAmt><Amt Ccy="CHF">60.00</Amt></TxAmt></AmtDtls><RltdPties>'
        ),
        _tx(amount=None, payer="Beta AG").replace(
            "<RltdPties>", '<AmtDtls><TxAmt><Amt Ccy="CHF">40.00</Amt></TxAmt></AmtDtls><RltdPties>'
        ),
    ]
    result = _parse(_camt([_entry("100.00", "CHF", txs)], version="02"))
    assert [(r.amount, r.payer_name) for r in result.records] == [
        (Decimal("60.00"), "Alpha GmbH"),
        (Decimal("40.00"), "Beta AG"),
    ]


def test_batch_whose_transactions_do_not_add_up_to_the_entry_keeps_each_transaction() -> None:
    """A batch booking whose transactions do not add up to the entry's amount (one missing
    from the notification): each transaction read is kept at its own amount, none is
    stretched to the entry's. (That the sum falls short is reported at ingest, against the
    entry stored before, see ``tests/sync/test_ingest.py``.)"""
    txs = [_tx(amount="100.00", payer="Alpha GmbH"), _tx(amount="250.00", payer="Beta AG")]
    result = _parse(_camt([_entry("400.00", "CHF", txs)]))
    assert result.errors == []
    assert [(r.amount, r.currency, r.payer_name) for r in result.records] == [
        (Decimal("100.00"), "CHF", "Alpha GmbH"),
        (Decimal("250.00"), "CHF", "Beta AG"),
    ]
    assert len({r.details_of for r in result.records}) == 1


def test_a_batch_transaction_without_a_currency_is_an_error_and_the_rest_kept() -> None:
    """A bank's batch with one transaction whose ``Amt`` lacks ``Ccy``: that transaction is an
    error naming the element and ``Ccy``; the others are read."""
    txs = [
        _tx(amount="100.00", payer="Alpha GmbH"),
        _tx(amount="50.00", payer="Beta AG").replace(' Ccy="CHF"', ""),
    ]
    result = _parse(_camt([_entry("150.00", "CHF", txs)]))
    assert [r.payer_name for r in result.records] == ["Alpha GmbH"]
    assert len(result.errors) == 1
    assert "Ccy" in result.errors[0].location and "TxDtls[2]" in result.errors[0].location


# --- Nordic national references ------------------------------------------------------------


def test_finnish_viitenumero_in_blocks_is_one_compact_reference() -> None:
    """Finnish banks (OP, Nordea FI) camt.054: the national reference (viitenumero, 7-3-1
    check digit) as ``CdtrRefInf`` SCOR, written in blocks of five from the right."""
    tx = _tx(_creditor_ref("12 34561", code="SCOR"), payer="Nordkraft Oy", payer_iban=None)
    record = _one(
        _parse(_camt([_entry("1240.00", "EUR", [tx])], iban="FI2112345600000785", currency="EUR"))
    )
    assert (record.amount, record.currency, record.payer_name) == (
        Decimal("1240.00"),
        "EUR",
        "Nordkraft Oy",
    )
    assert _refs(record) == [(RefKind.OTHER, "1234561")]


def test_finnish_rf_reference_is_structured() -> None:
    """Finnish banks: the international RF form of the viitenumero (RF + check + reference)."""
    tx = _tx(_creditor_ref("RF34 1234 561", code="SCOR"), payer="Nordkraft Oy", v08=True)
    record = _one(
        _parse(
            _camt(
                [_entry("75.00", "EUR", [tx])],
                version="08",
                iban="FI2112345600000785",
                currency="EUR",
            )
        )
    )
    assert _refs(record) == [(RefKind.RF, "RF341234561")]


def test_norwegian_kid_keeps_its_leading_zeros() -> None:
    """DNB / Nordea NO camt.054: the KID (customer identification, Luhn check digit) is
    ``CdtrRefInf/Ref`` under SCOR; its leading zeros are part of it."""
    tx = _tx(
        _creditor_ref("0001234567897", code="SCOR"),
        payer="Fjord Handel AS",
        payer_iban="NO8330001234567",
    )
    record = _one(
        _parse(_camt([_entry("4500.00", "NOK", [tx])], iban="NO9386011117947", currency="NOK"))
    )
    assert (record.amount, record.currency) == (Decimal("4500.00"), "NOK")
    assert _refs(record) == [(RefKind.OTHER, "0001234567897")]


def test_norwegian_payer_paying_from_the_reported_account_is_no_receipt() -> None:
    """Nordea NO: a transfer whose debtor account is the very account reported is a payment
    of ours, not a customer paying."""
    tx = _tx(
        _creditor_ref("0001234567897", code="SCOR"),
        payer="Oss selv AS",
        payer_iban="NO9386011117947",
    )
    result = _parse(_camt([_entry("10.00", "NOK", [tx])], iban="NO9386011117947", currency="NOK"))
    assert result.records == [] and result.errors == []


def test_swedish_bankgirot_ocr_reference_in_a_v08_notification() -> None:
    """Bankgirot (Swedish OCR number, Luhn check digit) in a camt.054.001.08 of SEB or
    Handelsbanken: the OCR is ``CdtrRefInf/Ref`` SCOR, the payer ``Dbtr/Pty/Nm``."""
    tx = _tx(
        _creditor_ref("47112026118", code="SCOR"), payer="Svensk Bygg AB", payer_iban=None, v08=True
    )
    record = _one(
        _parse(
            _camt(
                [_entry("12500.00", "SEK", [tx])],
                version="08",
                iban="SE4550000000058398257466",
                currency="SEK",
            )
        )
    )
    assert (record.amount, record.currency, record.payer_name) == (
        Decimal("12500.00"),
        "SEK",
        "Svensk Bygg AB",
    )
    assert _refs(record) == [(RefKind.OTHER, "47112026118")]


# --- Belgian structured communication -----------------------------------------------------


def test_belgian_structured_communication_is_its_twelve_digits() -> None:
    """Belgian banks (KBC, ING BE, BNP Paribas Fortis): the structured communication (OGM /
    VCS, modulo-97 check) as ``CdtrRefInf`` SCOR issued by BBA, written as printed
    ``+++090/9337/55493+++``; the reference is its twelve digits."""
    tx = _tx(
        _creditor_ref("+++090/9337/55493+++", code="SCOR", issuer="<Issr>BBA</Issr>"),
        payer="Brasserie Dupont SPRL",
        payer_iban="BE68539007547034",
    )
    record = _one(
        _parse(
            _camt(
                [_entry("612.40", "EUR", [tx])],
                message="camt.053",
                version="02",
                iban="BE71096123456769",
                currency="EUR",
            )
        )
    )
    assert _refs(record) == [(RefKind.OTHER, "090933755493")]
    assert record.payer_iban == "BE68539007547034"


def test_belgian_structured_communication_failing_its_check_is_kept_with_a_warning() -> None:
    """Belgian structured communication: its last two digits are the first ten modulo 97 (97
    for 0). One that fails was mistyped: the cash and the reference are kept, with a warning
    naming ``CdtrRefInf/Ref``."""
    tx = _tx(_creditor_ref("+++090/9337/55494+++", code="SCOR"), payer="Brasserie Dupont SPRL")
    result = _parse(
        _camt(
            [_entry("612.40", "EUR", [tx])],
            message="camt.053",
            version="02",
            iban="BE71096123456769",
            currency="EUR",
        )
    )
    record = _one(result)
    assert (record.amount, _refs(record)) == (Decimal("612.40"), [(RefKind.OTHER, "090933755494")])
    (warning,) = result.warnings
    assert "CdtrRefInf[1]/Ref[1]" in warning.location and "modulo-97" in warning.reason


def test_a_qrr_typed_reference_that_is_not_27_digits_is_a_warning() -> None:
    """SIX QR-bill: a QRR reference is always 27 digits; a bank passing on a shorter one
    (leading zeros dropped by the payer's software) is kept as written, with a warning."""
    tx = _tx(_creditor_ref("313947143000901", proprietary="QRR"))
    result = _parse(_camt([_entry("10.00", "CHF", [tx])]))
    assert _refs(_one(result)) == [(RefKind.OTHER, "313947143000901")]
    assert "QR reference" in _reasons(result) and "27 digits" in _reasons(result)


def test_an_untyped_reference_of_words_stays_as_written() -> None:
    """A bank's untyped creditor reference that is words, not a number (``Order 4711 / A``):
    it is not compacted, only numbers printed in blocks are."""
    tx = _tx(_creditor_ref("Order 4711 / A"))
    record = _one(_parse(_camt([_entry("10.00", "EUR", [tx])], currency="EUR")))
    assert _refs(record) == [(RefKind.OTHER, "Order 4711 / A")]


# --- returns, reversals, charges, FX ------------------------------------------------------


def test_returned_outgoing_credit_transfer_is_left_out_with_a_warning() -> None:
    """A SEPA credit transfer of ours returned by the beneficiary's bank (``PMNT/ICDT/RRTN``,
    ``RtrInf`` AC04 account closed), credited back: our own money, not a customer paying.
    Money moved, so it is a warning, as BAI2 warns of its own returned items."""
    inner = "<RtrInf><Rsn><Cd>AC04</Cd></Rsn></RtrInf>"
    tx = _tx(inner, e2e="PAYOUT-2026-0099", payer=None, payer_iban=None)
    result = _parse(
        _camt(
            [_entry("830.00", "EUR", [tx], code=_code("PMNT", "ICDT", "RRTN"))],
            message="camt.053",
            version="08",
            iban="DE89370400440532013000",
            currency="EUR",
        )
    )
    assert result.records == [] and result.errors == []
    assert "830.00 EUR" in _reasons(result) and "return" in _reasons(result).lower()


def test_hsbc_returned_sepa_direct_debit_takes_back_the_collection() -> None:
    """HSBC camt.053.001.02: a SEPA core direct debit of ours returned unpaid (DBIT,
    ``PMNT/IDDT/UPDD``, ``RtrInf/Rsn/Cd`` AM04 insufficient funds): a reversal naming the
    collection's end-to-end id."""
    inner = "<RtrInf><Rsn><Cd>AM04</Cd></Rsn></RtrInf>"
    tx = _tx(
        inner, e2e="DD-2026-0042", payer="Client SARL", payer_iban="FR7630006000011234567890189"
    )
    result = _parse(
        _camt(
            [_entry("250.00", "EUR", [tx], indicator="DBIT", code=_code("PMNT", "IDDT", "UPDD"))],
            message="camt.053",
            version="02",
            iban="GB29NWBK60161331926819",
            currency="EUR",
        )
    )
    record = _one(result)
    assert (record.amount, record.currency) == (Decimal("-250.00"), "EUR")
    assert record.reverses == "DD-2026-0042"
    assert record.free_text is not None and "AM04" in record.free_text
    assert record.structured_refs == ()


def test_deutsche_bank_reversal_of_a_credit_is_a_negative_remittance() -> None:
    """Deutsche Bank camt.053.001.08: the bank reverses a credit booked in error (DBIT with
    ``RvslInd`` true): the cash is gone, a reversal of the credit's end-to-end id."""
    tx = _tx(e2e="E2E-7781", payer="Irrtum GmbH", payer_iban="DE02120300000000202051", v08=True)
    entry = _entry("99.00", "EUR", [tx], indicator="DBIT", extra="<RvslInd>true</RvslInd>")
    record = _one(
        _parse(
            _camt(
                [entry],
                message="camt.053",
                version="08",
                iban="DE89370400440532013000",
                currency="EUR",
            )
        )
    )
    assert (record.amount, record.reverses) == (Decimal("-99.00"), "E2E-7781")


def test_charges_taken_from_a_single_credit_leave_the_entry_amount() -> None:
    """BNP Paribas camt.053.001.08: an incoming SWIFT credit with charges taken (``Chrgs/Rcrd``
    ``ChrgInclInd`` true); the entry states the net booked amount, the transaction the
    instructed one. What reached the account is the entry's amount."""
    inner = (
        '<AmtDtls><InstdAmt><Amt Ccy="EUR">1000.00</Amt></InstdAmt></AmtDtls>'
        '<Chrgs><TtlChrgsAndTaxAmt Ccy="EUR">5.00</TtlChrgsAndTaxAmt>'
        '<Rcrd><Amt Ccy="EUR">5.00</Amt>'
        "<CdtDbtInd>DBIT</CdtDbtInd><ChrgInclInd>true</ChrgInclInd></Rcrd></Chrgs>"
        "<RmtInf><Ustrd>FACTURE F2026-0118</Ustrd></RmtInf>"
    )
    tx = _tx(inner, payer="Client SARL", payer_iban="FR7630006000011234567890189", v08=True)
    record = _one(
        _parse(
            _camt(
                [_entry("995.00", "EUR", [tx])],
                message="camt.053",
                version="08",
                iban="FR1420041010050500013M02606",
                currency="EUR",
            )
        )
    )
    assert (record.amount, record.currency) == (Decimal("995.00"), "EUR")
    assert record.free_text == "FACTURE F2026-0118"


def test_jpmorgan_fx_credit_is_booked_in_the_account_currency() -> None:
    """J.P. Morgan camt.053.001.08: an EUR payment to a USD account; the transaction states
    the instructed EUR amount, the converted USD ``TxAmt`` and the exchange rate."""
    inner = (
        '<AmtDtls><InstdAmt><Amt Ccy="EUR">1000.00</Amt></InstdAmt>'
        '<TxAmt><Amt Ccy="USD">1085.50</Amt><CcyXchg><SrcCcy>EUR</SrcCcy><TrgtCcy>USD</TrgtCcy>'
        "<XchgRate>1.0855</XchgRate></CcyXchg></TxAmt></AmtDtls>"
        "<RmtInf><Ustrd>INV-2026-0311</Ustrd></RmtInf>"
    )
    tx = _tx(
        inner,
        amount="1000.00",
        currency="EUR",
        payer="Euro Kunden GmbH",
        payer_iban="DE02120300000000202051",
        v08=True,
    )
    record = _one(
        _parse(
            _camt(
                [_entry("1085.50", "USD", [tx], code=_code())],
                message="camt.053",
                version="08",
                iban="GB33BUKB20201555555555",
                currency="USD",
            )
        )
    )
    assert (record.amount, record.currency) == (Decimal("1085.50"), "USD")
    assert record.free_text == "INV-2026-0311"


def test_citi_camt053_v10_namespace_with_date_times() -> None:
    """Citi camt.053.001.10: status as ``Sts/Cd``, booking and value dates as ``DtTm`` with a
    zone, the payer under ``Dbtr/Pty``; read as every other version."""
    tx = _tx(
        "<RmtInf><Ustrd>INV 88120</Ustrd></RmtInf>", payer="Globex Corp", payer_iban=None, v08=True
    )
    entry = _entry("15000.00", "USD", [tx]).replace(
        "<BookgDt><Dt>2026-03-16</Dt></BookgDt><ValDt><Dt>2026-03-16</Dt></ValDt>",
        "<BookgDt><DtTm>2026-03-16T09:12:00-05:00</DtTm></BookgDt>"
        "<ValDt><DtTm>2026-03-17T00:00:00-05:00</DtTm></ValDt>",
    )
    record = _one(
        _parse(
            _camt(
                [entry],
                message="camt.053",
                version="10",
                iban="GB33BUKB20201555555555",
                currency="USD",
            )
        )
    )
    assert (record.amount, record.currency, record.value_date) == (
        Decimal("15000.00"),
        "USD",
        date(2026, 3, 17),
    )
    assert record.payer_name == "Globex Corp" and record.free_text == "INV 88120"


def test_two_statements_of_two_currencies_in_one_file() -> None:
    """UBS / Credit Suisse send one camt.053 with a ``Stmt`` per account: CHF and EUR
    accounts, each entry in its own currency."""
    chf = _camt([_entry("10.00", "CHF", [_tx()], ref="A1")], message="camt.053", version="04")
    eur_stmt = (
        _camt(
            [_entry("20.00", "EUR", [_tx()], ref="B1")],
            message="camt.053",
            version="04",
            iban="CH9300762011623852957",
            currency="EUR",
            report_id="S2",
        )
        .decode()
        .split("<Stmt>")[1]
        .split("</Stmt>")[0]
    )
    data = chf.decode().replace("</Stmt>", f"</Stmt><Stmt>{eur_stmt}</Stmt>", 1).encode()
    result = _parse(data)
    assert result.errors == []
    assert [(r.amount, r.currency) for r in result.records] == [
        (Decimal("10.00"), "CHF"),
        (Decimal("20.00"), "EUR"),
    ]


def test_yen_amount_without_minor_units_is_whole_yen() -> None:
    """MUFG / Mizuho camt.053 in JPY (ISO 4217 minor unit 0): ``150000`` is 150,000 yen."""
    record = _one(
        _parse(
            _camt(
                [_entry("150000", "JPY", [_tx()])],
                message="camt.053",
                iban="GB33BUKB20201555555555",
                currency="JPY",
            )
        )
    )
    assert (record.amount, record.currency) == (Decimal("150000"), "JPY")
    assert remittance_from_raw(record).amount_minor == 150000


def test_yen_amount_with_decimals_is_refused_naming_the_amount() -> None:
    """A JPY amount with sen (``1000.50``) cannot be booked: the mapping refuses it naming
    the amount, so the record is quarantined rather than rounded."""
    record = _one(
        _parse(
            _camt(
                [_entry("1000.50", "JPY", [_tx()])],
                message="camt.053",
                iban="GB33BUKB20201555555555",
                currency="JPY",
            )
        )
    )
    with pytest.raises(MappingError, match="amount"):
        remittance_from_raw(record)


def test_kuwaiti_dinar_has_three_minor_digits() -> None:
    """NBK camt.053 in KWD (ISO 4217 minor unit 3): ``1250.125`` is 1,250,125 fils."""
    record = _one(
        _parse(
            _camt(
                [_entry("1250.125", "KWD", [_tx()])],
                message="camt.053",
                iban="KW81CBKU0000000000001234560101",
                currency="KWD",
            )
        )
    )
    assert (record.amount, record.currency) == (Decimal("1250.125"), "KWD")
    assert remittance_from_raw(record).amount_minor == 1250125


def test_pending_camt054_credit_is_no_cash() -> None:
    """Danske Bank camt.054 pre-advice: an entry ``PDNG`` is not cash yet; the booked one is."""
    pending = _entry("300.00", "DKK", [_tx()], ref="P1").replace("[[BOOK]]", "[[PDNG]]")
    booked = _entry("300.00", "DKK", [_tx()], ref="P2")
    result = _parse(_camt([pending, booked], iban="DK5000400440116243", currency="DKK"))
    assert [(r.amount, r.currency) for r in result.records] == [(Decimal("300.00"), "DKK")]


def test_payer_iban_written_in_blocks_is_compact() -> None:
    """Rabobank camt.053: a debtor IBAN written in blocks of four is stored compact."""
    tx = _tx(payer="Tuinbouw BV", payer_iban="NL91 ABNA 0417 1643 00")
    record = _one(
        _parse(
            _camt(
                [_entry("18.15", "EUR", [tx])],
                message="camt.053",
                iban="NL20INGB0001234567",
                currency="EUR",
            )
        )
    )
    assert record.payer_iban == "NL91ABNA0417164300"


# --- BAI2 from Canadian banks -------------------------------------------------------------


def _bai2(accounts: list[tuple[str, str, list[str]]], group_currency: str = "CAD") -> bytes:
    """A BAI2 file of one group: ``accounts`` are (number, currency, detail lines); the
    trailers add up."""
    lines = [
        "01,RBCCANADA,ACMECORP,260316,0700,1,80,,2/",
        f"02,ACMECORP,000300012,1,260316,0700,{group_currency},2/",
    ]
    group_total = 0
    group_records = 2
    for number, currency, details in accounts:
        total = sum(
            int(d.split(",")[2])
            for d in details
            if d.startswith("16,") and d.split(",")[2].isdigit()
        )
        account = [f"03,{number},{currency},/", *details]
        account.append(f"49,{total},{len(account) + 1}/")
        lines += account
        group_total += total
        group_records += len(account)
    lines.append(f"98,{group_total},{len(accounts)},{group_records}/")
    lines.append(f"99,{group_total},1,{len(lines) + 1}/")
    return ("\n".join(lines) + "\n").encode()


def test_rbc_cad_preauthorized_credit_with_text_over_88_records() -> None:
    """RBC BAI2 in CAD: an EFT (preauthorized) credit, type 165, whose payer text runs over
    two 88 continuation records; the amount is in the group's CAD."""
    details = [
        "16,165,1234567,0,ACH0311,,PAY-ACME DISTRIBUTION LTD",
        "88,EFT CREDIT INVOICES 10231",
        "88,AND 10232",
    ]
    result = _parse(_bai2([("1234567", "", details)]), "rbc.bai")
    record = _one(result)
    assert (record.amount, record.currency) == (Decimal("12345.67"), "CAD")
    assert record.free_text is not None
    assert "INVOICES 10231" in record.free_text and "AND 10232" in record.free_text
    assert record.bank_reference == "ACH0311"


def test_td_bank_specific_credit_code_is_a_warning_not_silence() -> None:
    """TD / BMO BAI2: BAI reserves 920-959 for bank-specific credit codes (900-919 status,
    960-999 debits). A credit under such a code may be a customer paying: arsync cannot tell
    what it is, so it is left out with a warning naming the line and the code, never in
    silence; the rest of the file is read."""
    details = ["16,925,500000,0,TD77,,MOBILE DEPOSIT", "16,195,250000,0,WIRE1,,ORG=NORTHWIND INC"]
    result = _parse(_bai2([("5551234", "CAD", details)]), "td.bai")
    assert [(r.amount, r.currency) for r in result.records] == [(Decimal("2500.00"), "CAD")]
    assert result.errors == []
    (warning,) = result.warnings
    assert warning.location == "line 4"
    assert "5000.00 CAD" in warning.reason and "925" in warning.reason


def test_bank_specific_debit_code_is_silent() -> None:
    """BAI2 bank-specific debit codes (960-999) are payments of ours: not cash received and
    not a warning."""
    details = ["16,975,12000,0,FEE1,,SERVICE CHARGE", "16,142,50000,0,ACH2,,ORIG CO NAME:ALPHA"]
    result = _parse(_bai2([("5551234", "CAD", details)]), "bmo.bai")
    assert [r.amount for r in result.records] == [Decimal("500.00")]
    assert result.warnings == [] and result.errors == []


def test_bmo_usd_account_in_a_cad_group() -> None:
    """BMO BAI2: a group in CAD with a USD account (its 03 record states USD): that account's
    details are in USD, the other's in CAD."""
    data = _bai2(
        [
            ("1111111", "", ["16,142,10000,0,A1,,ORIG CO NAME:ALPHA"]),
            ("2222222", "USD", ["16,195,20000,0,W1,,ORG=BETA LLC"]),
        ]
    )
    result = _parse(data, "bmo.bai")
    assert [(r.amount, r.currency) for r in result.records] == [
        (Decimal("100.00"), "CAD"),
        (Decimal("200.00"), "USD"),
    ]


def test_bank_specific_status_code_is_silent() -> None:
    """BAI2 bank-specific status codes (900-919) in a detail record move no money."""
    details = ["16,905,0,0,S1,,FLOAT POSITION", "16,142,50000,0,ACH2,,ORIG CO NAME:ALPHA"]
    result = _parse(_bai2([("5551234", "CAD", details)]), "bmo.bai")
    assert [r.amount for r in result.records] == [Decimal("500.00")]
    assert result.warnings == [] and result.errors == []


def test_bai2_signed_detail_amount_is_an_error_naming_the_line() -> None:
    """BAI2 detail amounts are unsigned (the type code gives the direction); a bank's file
    with ``-150000`` is an error naming its line and the amount, the rest is read."""
    details = ["16,142,-150000,0,X1,,ORIG CO NAME:ALPHA", "16,142,20000,0,X2,,ORIG CO NAME:BETA"]
    result = _parse(_bai2([("1234567", "CAD", details)]), "signed.bai")
    assert [r.amount for r in result.records] == [Decimal("200.00")]
    assert len(result.errors) == 1
    assert result.errors[0].location == "line 4" and "amount" in result.errors[0].reason


def test_bai2_value_dated_funds_give_the_value_date() -> None:
    """BAI2 funds type V (value dated: date and time): the value date is the one stated, not
    the as-of date."""
    result = _parse(
        _bai2([("1234567", "CAD", ["16,195,777700,V,260318,0900,W9,,ORG=GAMMA CORP"])]), "v.bai"
    )
    record = _one(result)
    assert (record.amount, record.value_date) == (Decimal("7777.00"), date(2026, 3, 18))


# --- NACHA returns --------------------------------------------------------------------------


def _nacha(entries: list[str], sec: str = "PPD", description: str = "RETURN") -> bytes:
    header = _rec(
        (0, "5225ACME PARTS      "),
        (40, "1234567890" + sec + description.ljust(10)),
        (69, "260316"),
        (78, "1" + "04400003" + "0000001"),
    )
    six = [e for e in entries if e[0] == "6"]
    debit = sum(int(e[29:39]) for e in six if e[2] in "56789")
    credit = sum(int(e[29:39]) for e in six if e[2] in "01234")
    entry_hash = sum(int(e[3:11]) for e in six) % 10**10
    control = _rec(
        (0, f"8225{len(entries):06d}{entry_hash:010d}"),
        (20, f"{debit:012d}{credit:012d}1234567890"),
        (79, "04400003" + "0000001"),
    )
    lines = [
        _rec(
            (0, "101 " + OUR_ROUTING + " 0440000362603160815A094101"),
            (40, "FIRST LAKE BANK"),
            (63, "ACME PARTS"),
        ),
        header,
        *entries,
        control,
    ]
    blocks = -(-(len(lines) + 1) // 10)
    lines.append(
        _rec(
            (0, f"9000001{blocks:06d}{len(entries):08d}{entry_hash:010d}"),
            (31, f"{debit:012d}{credit:012d}"),
        )
    )
    lines += ["9" * 94] * (blocks * 10 - len(lines))
    return ("\r\n".join(lines) + "\r\n").encode()


def _return_entry(code: str, cents: int, reason: str, original: str, trace: str) -> list[str]:
    entry = _rec(
        (0, "6" + code + OUR_ROUTING),
        (12, OUR_ACCOUNT),
        (29, f"{cents:010d}" + "CUST-0042".ljust(15)),
        (54, "JANE CUSTOMER"),
        (78, "1" + trace),
    )
    addenda = _rec((0, "799" + reason + original + "      " + "07100001"), (79, trace))
    return [entry, addenda]


def test_nacha_r01_return_of_our_debit_takes_the_cash_back() -> None:
    """NACHA return (799 addenda, R01 insufficient funds) of a PPD debit we originated: a
    reversal of the original trace, for the amount returned, in USD."""
    result = _parse(
        _nacha(_return_entry("26", 12550, "R01", "091000010000123", "071000010000001")), "ret.ach"
    )
    record = _one(result)
    assert (record.amount, record.currency) == (Decimal("-125.50"), "USD")
    assert record.reverses == "091000010000123"
    assert record.free_text is not None and "R01" in record.free_text


def test_nacha_return_with_an_unreadable_reason_code_is_a_warning() -> None:
    """A 799 addenda whose return reason is not R and two digits (blank, or the bank's own
    text): the cash is still taken back, and the person ingesting hears the reason is
    unreadable."""
    result = _parse(
        _nacha(_return_entry("26", 5000, "   ", "091000010000124", "071000010000002")), "ret.ach"
    )
    record = _one(result)
    assert (record.amount, record.reverses) == (Decimal("-50.00"), "091000010000124")
    assert "return reason" in _reasons(result)


def test_nacha_iat_return_r85_is_an_ordinary_return() -> None:
    """R80-R85 are the IAT return codes (R85: incorrectly coded outbound international
    payment); not dishonored returns: the debit of ours returned takes the cash back."""
    result = _parse(
        _nacha(_return_entry("26", 9900, "R85", "091000010000125", "071000010000003")), "ret.ach"
    )
    record = _one(result)
    assert (record.amount, record.reverses) == (Decimal("-99.00"), "091000010000125")
    assert result.warnings == []


def test_nacha_dishonored_return_r69_takes_nothing_back() -> None:
    """R69 (field errors): the ODFI dishonors a return; it concerns a return read when it came
    and is a warning, not cash."""
    result = _parse(
        _nacha(_return_entry("26", 9900, "R69", "091000010000126", "071000010000004")), "ret.ach"
    )
    assert result.records == [] and "dishonored" in _reasons(result)
