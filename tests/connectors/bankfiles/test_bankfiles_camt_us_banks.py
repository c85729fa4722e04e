"""camt.053 / camt.054 as US banks deliver them to a company's AR in place of BAI2: the BAI
type code in ``BkTxCd/Prtry/Cd`` (issuer "BAI" or the bank's name) beside or instead of the
ISO domain, family and sub-family; ACH credits with CCD+ / CTX addenda, Fedwire credits
with IMAD, lockbox deposits of many cheques, returned ACH debits, statuses and date forms.

A credit whose BAI code says it is no customer paying (ZBA, sweeps, concentration, own
transfers, interest, reversals: ``bai_codes.NOT_RECEIPTS``, as in BAI2) is left out with a
warning, whatever ISO code the bank mapped it to."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from xml.sax.saxutils import escape

import pytest

from connectors.bankfiles import RefKind, parse_bank_bytes
from connectors.bankfiles.bai2file import NOT_RECEIPTS as BAI2_NOT_RECEIPTS
from connectors.bankfiles.bai_codes import NOT_RECEIPTS
from connectors.bankfiles.records import ParseResult

_NS = "urn:iso:std:iso:20022:tech:xsd:{message}.001.{version}"
_CONTAINERS = {
    "camt.053": ("BkToCstmrStmt", "Stmt"),
    "camt.054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn"),
}
# every message and version a US bank sends: (message, version)
_FLAVOURS = [("camt.053", "02"), ("camt.053", "08"), ("camt.054", "02"), ("camt.054", "08")]
_ACCOUNT = "483101234567"


def _document(entries: list[str], message: str = "camt.053", version: str = "08") -> bytes:
    """A whole camt document of a US bank's operating account, USD."""
    container, report = _CONTAINERS[message]
    status = "<Sts>{}</Sts>" if version == "02" else "<Sts><Cd>{}</Cd></Sts>"
    body = "".join(entries)
    for code in ("BOOK", "PDNG", "INFO"):
        body = body.replace(f"[[{code}]]", status.format(code))
    balance = (
        '<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="USD">1250000.00</Amt>'
        "<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-03-16</Dt></Dt></Bal>"
        if message == "camt.053"
        else ""
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="{_NS.format(message=message, version=version)}">
 <{container}>
  <GrpHdr><MsgId>CHASUS33-20260316-0001</MsgId><CreDtTm>2026-03-16T23:05:11-05:00</CreDtTm>
  </GrpHdr>
  <{report}>
   <Id>{message}-{version}-20260316</Id>
   <CreDtTm>2026-03-16T23:05:11-05:00</CreDtTm>
   <Acct><Id><Othr><Id>{_ACCOUNT}</Id></Othr></Id><Ccy>USD</Ccy>
    <Svcr><FinInstnId><BICFI>CHASUS33</BICFI></FinInstnId></Svcr></Acct>
   {balance}
   {body}
  </{report}>
 </{container}>
</Document>
""".encode()


def _code(domain: tuple[str, str, str] | None, bai: str | None, issuer: str | None) -> str:
    """A ``BkTxCd``: the ISO domain/family/sub-family and the proprietary (BAI) code."""
    parts = []
    if domain:
        parts.append(
            f"<Domn><Cd>{domain[0]}</Cd><Fmly><Cd>{domain[1]}</Cd>"
            f"<SubFmlyCd>{domain[2]}</SubFmlyCd></Fmly></Domn>"
        )
    if bai:
        issr = f"<Issr>{issuer}</Issr>" if issuer else ""
        parts.append(f"<Prtry><Cd>{bai}</Cd>{issr}</Prtry>")
    return f"<BkTxCd>{''.join(parts)}</BkTxCd>"


def _entry(
    amount: str,
    domain: tuple[str, str, str] | None,
    bai: str | None,
    issuer: str | None = "BAI",
    txs: tuple[str, ...] = ("",),
    indicator: str = "CRDT",
    status: str = "BOOK",
    ref: str = "2026031600001",
    dates: str = "<BookgDt><Dt>2026-03-16</Dt></BookgDt><ValDt><Dt>2026-03-16</Dt></ValDt>",
    tx_code: bool = False,
) -> str:
    """One entry; each of ``txs`` is the inside of a ``TxDtls`` ("" for one without detail).
    With ``tx_code`` the code is stated on each transaction, not the entry."""
    code = _code(domain, bai, issuer)
    details = "".join(
        f"<TxDtls>{code if tx_code else ''}{tx}</TxDtls>" for tx in txs if tx or tx_code
    )
    return f"""
   <Ntry>
    <NtryRef>{ref[-6:]}</NtryRef>
    <Amt Ccy="USD">{amount}</Amt><CdtDbtInd>{indicator}</CdtDbtInd>[[{status}]]
    {dates}
    <AcctSvcrRef>{ref}</AcctSvcrRef>
    {"" if tx_code else code}
    {f"<NtryDtls>{details}</NtryDtls>" if details else ""}
   </Ntry>"""


def _parse(entries: list[str], message: str = "camt.053", version: str = "08") -> ParseResult:
    result = parse_bank_bytes(_document(entries, message, version), "us-bank.xml")
    assert result.errors == []
    return result


def _debtor(name: str, account: str | None = None, ultimate: str | None = None) -> str:
    acct = f"<DbtrAcct><Id><Othr><Id>{account}</Id></Othr></Id></DbtrAcct>" if account else ""
    ult = f"<UltmtDbtr><Nm>{escape(ultimate)}</Nm></UltmtDbtr>" if ultimate else ""
    return f"<RltdPties><Dbtr><Nm>{escape(name)}</Nm></Dbtr>{acct}{ult}</RltdPties>"


# ---------------------------------------------------------------- the shared type-code knowledge


def test_bai2_and_camt_share_one_table_of_non_receipts() -> None:
    assert BAI2_NOT_RECEIPTS is NOT_RECEIPTS
    assert {"275", "277", "201", "145", "354", "347", "252"} <= NOT_RECEIPTS
    # customer cash in BAI2 stays customer cash: wires, ACH, lockbox, book transfers
    assert not {"115", "142", "165", "169", "175", "191", "195", "206", "208", "301"} & NOT_RECEIPTS


# ---------------------------------------------------------------- credits that are no receipt

_NOT_RECEIPTS = [
    # a ZBA credit the bank mapped to a generic book transfer: the BAI code tells
    pytest.param(("PMNT", "RCDT", "BOOK"), "275", "BAI", id="zba-275-as-book-transfer"),
    pytest.param(("CAMT", "ACCB", "ZABA"), "275", "BAI", id="zba-275-iso-zaba"),
    pytest.param(None, "277", "JPMC", id="zba-277-prtry-only-bank-issuer"),
    pytest.param(("PMNT", "RCDT", "OTHR"), "201", "BOFA", id="automatic-transfer-201"),
    pytest.param(("PMNT", "RCDT", "OTHR"), "354", None, id="interest-354-no-issuer"),
    pytest.param(("PMNT", "MCOP", "OTHR"), "347", "BAI2", id="sweep-principal-347"),
    pytest.param(("PMNT", "RCDT", "ACDT"), "145", "BAI", id="ach-concentration-145"),
    pytest.param(("PMNT", "RCDT", "OTHR"), "252", "Wells Fargo", id="debit-reversal-252"),
    pytest.param(("CAMT", "ACCB", "INTR"), None, None, id="iso-intercompany-interest"),
    pytest.param(("CAMT", "ACCB", "SWEP"), None, None, id="iso-sweep"),
    pytest.param(("PMNT", "RCDT", "OTHR"), "BAI 275", "US BANK", id="zba-code-with-prefix"),
]


@pytest.mark.parametrize("flavour", _FLAVOURS, ids=lambda f: f"{f[0]}.{f[1]}")
@pytest.mark.parametrize(("domain", "bai", "issuer"), _NOT_RECEIPTS)
def test_own_account_transfers_and_interest_are_left_out_with_a_warning(
    flavour: tuple[str, str],
    domain: tuple[str, str, str] | None,
    bai: str | None,
    issuer: str | None,
) -> None:
    tx = "<Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>"
    result = _parse([_entry("250000.00", domain, bai, issuer, txs=(tx,))], *flavour)
    assert result.records == []
    (warning,) = result.warnings
    assert "250000.00 USD" in warning.reason and "not a customer paying" in warning.reason
    if bai:
        assert bai.split()[-1] in warning.reason


def test_a_bai_code_on_the_transaction_decides_over_the_entry() -> None:
    tx = _debtor("ACME HOLDINGS TREASURY") + "<AddtlTxInf>ZBA CREDIT FROM 483109999999</AddtlTxInf>"
    entry = _entry("98000.00", ("PMNT", "RCDT", "OTHR"), "275", "BAI", txs=(tx,), tx_code=True)
    result = _parse([entry])
    assert result.records == []
    assert "275" in result.warnings[0].reason and "ZBA" in result.warnings[0].reason


def test_a_three_digit_code_of_another_scheme_outside_the_us_is_not_read_as_bai() -> None:
    doc = _document(
        [_entry("500.00", ("PMNT", "RCDT", "ESCT"), "275", "FEBELFIN", txs=(_debtor("X"),))]
    ).replace(b'Ccy="USD"', b'Ccy="EUR"')
    result = parse_bank_bytes(doc, "eu.xml")
    assert [r.amount for r in result.records] == [Decimal("500.00")]
    assert result.warnings == []


# ---------------------------------------------------------------- customer receipts kept

_RECEIPTS = [
    pytest.param(("PMNT", "RCDT", "DMCT"), "195", "BAI", id="fedwire-195"),
    pytest.param(("PMNT", "RCDT", "XBCT"), "208", "BAI", id="international-wire-208"),
    pytest.param(("PMNT", "RCDT", "BOOK"), "206", "BAI", id="book-transfer-206-as-bai2"),
    pytest.param(("PMNT", "RCDT", "BOOK"), "191", "CITI", id="internal-money-transfer-191"),
    pytest.param(("PMNT", "RCDT", "ESCT"), None, None, id="iso-only-esct"),
    pytest.param(None, "142", "BAI", id="ach-142-prtry-only"),
    pytest.param(("PMNT", "RCDT", "ACDT"), "165", "BAI", id="ach-165"),
    pytest.param(("PMNT", "CNTR", "CDPT"), "301", "BAI", id="cash-deposit-301"),
    pytest.param(("PMNT", "RCHQ", "CCHQ"), "175", "PNC", id="cheque-deposit-175"),
    pytest.param(("PMNT", "LBOX", "LBDP"), "115", "BAI", id="lockbox-115"),
]


@pytest.mark.parametrize("flavour", _FLAVOURS, ids=lambda f: f"{f[0]}.{f[1]}")
@pytest.mark.parametrize(("domain", "bai", "issuer"), _RECEIPTS)
def test_customer_receipts_are_kept(
    flavour: tuple[str, str],
    domain: tuple[str, str, str] | None,
    bai: str | None,
    issuer: str | None,
) -> None:
    tx = _debtor("NORTHWIND TRADERS INC", "000987654321") + (
        "<RmtInf><Ustrd>INV-40021</Ustrd></RmtInf>"
    )
    result = _parse([_entry("12500.00", domain, bai, issuer, txs=(tx,))], *flavour)
    assert result.warnings == []
    (record,) = result.records
    assert (record.amount, record.currency) == (Decimal("12500.00"), "USD")
    assert record.payer_name == "NORTHWIND TRADERS INC"
    assert record.payer_account == "000987654321"
    assert record.free_text == "INV-40021"


# ---------------------------------------------------------------- ACH credits with addenda


def test_ach_ccd_plus_credit_reads_the_rmr_addenda_and_the_trace() -> None:
    tx = (
        "<Refs><EndToEndId>NOTPROVIDED</EndToEndId>"
        "<ClrSysRef>021000021234567</ClrSysRef></Refs>"
        + _debtor("GLOBEX CORP", "1234567890")
        + "<RltdAgts><DbtrAgt><FinInstnId><ClrSysMmbId><MmbId>021000021</MmbId>"
        "</ClrSysMmbId></FinInstnId></DbtrAgt></RltdAgts>"
        "<AddtlTxInf>GLOBEX CORP CCD PAYABLES RMR*IV*INV-77120*PI*4250.00*4300.00*50.00\\"
        "</AddtlTxInf>"
    )
    result = _parse([_entry("4250.00", ("PMNT", "RCDT", "ACDT"), "165", "BAI", txs=(tx,))])
    (ach,) = result.records
    assert ach.payer_name == "GLOBEX CORP" and ach.payer_account == "1234567890"
    (ref,) = ach.structured_refs
    assert (ref.kind, ref.ref, ref.amount_paid, ref.invoice_amount, ref.discount) == (
        RefKind.INVOICE,
        "INV-77120",
        Decimal("4250.00"),
        Decimal("4300.00"),
        Decimal("50.00"),
    )
    assert ach.free_text is not None and "INV-77120" in ach.free_text
    # the ACH trace number names the payment: an 820 advice's TRN finds it
    stated = " ".join(filter(None, (ach.bank_reference, ach.end_to_end_id, ach.free_text)))
    assert "021000021234567" in stated


def test_ach_ctx_credit_reads_the_820_segments_of_its_addenda() -> None:
    lines = [
        "BPR*C*9800.00*C*ACH*CTX*01*011000015*DA*99887766*1041234567**01*021000021*DA*483101"
        "234567*20260316~TRN*1*0000451234*1041234567~N1*PR*INITECH LLC~",
        "RMR*IV*INV-9001*PI*6000.00*6000.00~RMR*IV*INV-9002*PI*3800.00*4000.00*200.00~",
    ]
    tx = (
        "<Refs><ClrSysRef>011000015550001</ClrSysRef></Refs>"
        + _debtor("INITECH LLC")
        + "<RmtInf>"
        + "".join(f"<Ustrd>{escape(line)}</Ustrd>" for line in lines)
        + "</RmtInf>"
    )
    result = _parse(
        [_entry("9800.00", ("PMNT", "RCDT", "ACDT"), "165", "BAI", txs=(tx,))], "camt.054", "02"
    )
    (ctx,) = result.records
    assert [(r.ref, r.amount_paid) for r in ctx.structured_refs] == [
        ("INV-9001", Decimal("6000.00")),
        ("INV-9002", Decimal("3800.00")),
    ]
    assert ctx.structured_refs[1].discount == Decimal("200.00")
    assert ctx.payer_name == "INITECH LLC"


def test_rmr_like_words_are_not_segments() -> None:
    tx = _debtor("RMR GROUP INC") + "<RmtInf><Ustrd>RMR GROUP INC PMT INV 5512</Ustrd></RmtInf>"
    result = _parse([_entry("310.00", ("PMNT", "RCDT", "ACDT"), "165", "BAI", txs=(tx,))])
    (record,) = result.records
    assert record.structured_refs == ()
    assert record.free_text == "RMR GROUP INC PMT INV 5512"


# ---------------------------------------------------------------- Fedwire credit


def test_fedwire_credit_keeps_originator_imad_and_obi() -> None:
    tx = (
        "<Refs><InstrId>SND20260316A0042</InstrId><EndToEndId>NOTPROVIDED</EndToEndId>"
        "<ClrSysRef>20260316MMQFMP9K000123</ClrSysRef></Refs>"
        + _debtor("UMBRELLA PHARMA LLC", "7788990011", ultimate="UMBRELLA HOLDINGS")
        + "<RltdAgts><DbtrAgt><FinInstnId><ClrSysMmbId><MmbId>026009593</MmbId></ClrSysMmbId>"
        "<Nm>BANK OF AMERICA NA</Nm></FinInstnId></DbtrAgt></RltdAgts>"
        "<RmtInf><Ustrd>OBI INV 88123 AND INV 88124</Ustrd></RmtInf>"
    )
    entry = _entry(
        "50210.75",
        ("PMNT", "RCDT", "DMCT"),
        "195",
        "BAI",
        txs=(tx,),
        dates="<BookgDt><DtTm>2026-03-16T14:22:05-05:00</DtTm></BookgDt>"
        "<ValDt><DtTm>2026-03-16T14:22:05-05:00</DtTm></ValDt>",
    )
    (wire,) = _parse([entry], "camt.054", "08").records
    assert wire.payer_name == "UMBRELLA PHARMA LLC"  # the debtor, not its ultimate debtor
    assert wire.payer_account == "7788990011"
    assert wire.value_date == date(2026, 3, 16)
    assert wire.free_text is not None and "INV 88123 AND INV 88124" in wire.free_text
    stated = " ".join(filter(None, (wire.bank_reference, wire.end_to_end_id, wire.free_text)))
    assert "20260316MMQFMP9K000123" in stated  # the IMAD


def test_the_same_wire_in_notification_and_statement_keeps_one_key() -> None:
    tx = "<Refs><ClrSysRef>20260316MMQFMP9K000124</ClrSysRef></Refs>" + _debtor("SOYLENT CO")
    entry = _entry("900.00", ("PMNT", "RCDT", "DMCT"), "195", "BAI", txs=(tx,))
    notified = _parse([entry], "camt.054", "08").records
    stated = _parse([entry], "camt.053", "02").records
    assert [r.dedup_key for r in notified] == [r.dedup_key for r in stated]


# ---------------------------------------------------------------- lockbox


def test_lockbox_deposit_of_many_cheques_is_one_remittance_per_cheque() -> None:
    cheques = [
        ("1001", "4200.00", "HOOLI INC", "INV-501"),
        ("88231", "1300.50", "VANDELAY INDUSTRIES", "INV-502"),
        ("3344", "499.50", "KRAMERICA LLC", "INV-503"),
    ]
    txs = tuple(
        f'<Amt Ccy="USD">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
        f"<Refs><AcctSvcrRef>LBX0077-{n}</AcctSvcrRef><ChqNb>{number}</ChqNb></Refs>"
        + _debtor(payer, f"55500{n}")
        + "<RmtInf><Strd><RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp>"
        f'<Nb>{invoice}</Nb></RfrdDocInf><RfrdDocAmt><RmtdAmt Ccy="USD">{amount}</RmtdAmt>'
        "</RfrdDocAmt></Strd></RmtInf>"
        for n, (number, amount, payer, invoice) in enumerate(cheques)
    )
    entry = _entry("6000.00", ("PMNT", "LBOX", "LBDP"), "115", "BAI", txs=txs)
    result = _parse([entry], "camt.053", "02")
    assert result.warnings == []
    assert [(r.payer_name, r.amount, r.structured_refs[0].ref) for r in result.records] == [
        ("HOOLI INC", Decimal("4200.00"), "INV-501"),
        ("VANDELAY INDUSTRIES", Decimal("1300.50"), "INV-502"),
        ("KRAMERICA LLC", Decimal("499.50"), "INV-503"),
    ]
    assert sum(r.amount for r in result.records) == Decimal("6000.00")
    assert len({r.dedup_key for r in result.records}) == 3


# ---------------------------------------------------------------- debits, returns, statuses


def test_returned_ach_debit_of_ours_is_a_reversal() -> None:
    tx = (
        "<Refs><EndToEndId>COLL-2026-0311-17</EndToEndId><ClrSysRef>021000029990001</ClrSysRef>"
        "</Refs>" + _debtor("INITECH LLC") + "<RtrInf><Rsn><Cd>R01</Cd></Rsn>"
        "<AddtlInf>INSUFFICIENT FUNDS</AddtlInf></RtrInf>"
    )
    entry = _entry("1500.00", ("PMNT", "IDDT", "UPDD"), "557", "BAI", txs=(tx,), indicator="DBIT")
    (returned,) = _parse([entry]).records
    assert returned.amount == Decimal("-1500.00")
    assert returned.reverses == "COLL-2026-0311-17"


def test_deposited_item_returned_by_its_bai_code_is_a_reversal() -> None:
    tx = "<Refs><EndToEndId>NOTPROVIDED</EndToEndId><ChqNb>88231</ChqNb></Refs>"
    entry = _entry(
        "1300.50",
        ("PMNT", "RCHQ", "UPCQ"),
        "555",
        "BAI",
        txs=(tx,),
        indicator="DBIT",
        ref="LBX0077-1",
    )
    (returned,) = _parse([entry], "camt.053", "02").records
    assert returned.amount == Decimal("-1300.50")
    assert returned.reverses == "LBX0077-1"


def test_ach_return_settlement_debit_is_left_out_with_a_warning() -> None:
    entry = _entry("2750.00", ("PMNT", "IDDT", "OTHR"), "468", "BAI", indicator="DBIT")
    result = _parse([entry])
    assert result.records == []
    (warning,) = result.warnings
    assert "468" in warning.reason and "2750.00 USD" in warning.reason


def test_outgoing_payments_are_not_receipts_nor_warnings() -> None:
    entries = [
        _entry("18000.00", ("PMNT", "ICDT", "DMCT"), "495", "BAI", indicator="DBIT", ref="W1"),
        _entry("2200.00", ("PMNT", "ICDT", "BOOK"), "475", "BAI", indicator="DBIT", ref="W2"),
        _entry("120000.00", ("CAMT", "ACCB", "ZABA"), "575", "BAI", indicator="DBIT", ref="W3"),
    ]
    result = _parse(entries, "camt.053", "02")
    assert result.records == [] and result.warnings == []


@pytest.mark.parametrize("version", ["02", "08"])
@pytest.mark.parametrize("status", ["PDNG", "INFO"])
def test_pending_and_information_entries_are_not_cash(version: str, status: str) -> None:
    entries = [
        _entry("700.00", ("PMNT", "RCDT", "DMCT"), "195", "BAI", status=status, ref="P1"),
        _entry("50000.00", ("PMNT", "RCDT", "BOOK"), "275", "BAI", status=status, ref="P2"),
    ]
    result = _parse(entries, "camt.054", version)
    assert result.records == [] and result.warnings == []


def test_booked_entry_with_date_times_keeps_its_value_date() -> None:
    entry = _entry(
        "640.00",
        None,
        "142",
        "BAI",
        txs=(_debtor("ACME WIDGETS"),),
        dates="<BookgDt><DtTm>2026-03-17T01:02:03</DtTm></BookgDt>"
        "<ValDt><Dt>2026-03-16</Dt></ValDt>",
    )
    (record,) = _parse([entry], "camt.053", "08").records
    assert record.value_date == date(2026, 3, 16)


def test_statement_mixing_receipts_and_own_transfers() -> None:
    entries = [
        _entry("1000.00", ("PMNT", "RCDT", "DMCT"), "195", "BAI", txs=(_debtor("A CO"),), ref="M1"),
        _entry("7500.00", ("PMNT", "RCDT", "BOOK"), "275", "BAI", ref="M2"),
        _entry("3.12", ("PMNT", "RCDT", "OTHR"), "354", "BAI", ref="M3"),
        _entry("250.00", None, "142", "BAI", txs=(_debtor("B CO"),), ref="M4"),
    ]
    result = _parse(entries, "camt.053", "08")
    assert [r.payer_name for r in result.records] == ["A CO", "B CO"]
    assert len(result.warnings) == 2
    assert "275 (ZBA Credit)" in result.warnings[0].reason
    assert "354 (Interest Credit)" in result.warnings[1].reason
