"""Behaviours found by reading publicly published camt and X12 820 samples.

Every fixture and inline document here holds our own values, written in the layout of a
public sample (the source of each is named beside it and in
tests/fixtures/bankfiles/README.md); the tests pin the exact remittances arsync reads.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from connectors.bankfiles import BankFileFormat, RefKind, detect_format, parse_bank_bytes
from connectors.bankfiles.reader import parse_bank_file

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bankfiles"


# camt ----------------------------------------------------------------------------------------


def test_returned_direct_debits_booked_as_reversals_take_back_their_collections() -> None:
    """A returned collection is a debit the bank marks as the reversal (RvslInd) of the
    credit: it is still a return (negative, naming the collection), not a dropped debit. A
    reversed debit (CRDT + RvslInd) stays out; a reversing debit without return details takes
    back a credit nobody named, for a person to find."""
    result = parse_bank_file(FIXTURES / "camt053_v02_returned_direct_debits.xml")
    assert result.format is BankFileFormat.CAMT_053
    assert result.errors == [] and result.warnings == []
    assert [(r.amount, r.reverses) for r in result.records] == [
        (Decimal("1250.00"), None),  # the collection itself
        (Decimal("-700.00"), "COLL/2026/10/0311"),  # batch of returns: each its own amount
        (Decimal("-112.40"), "COLL/2026/10/0312"),
        (Decimal("-48.15"), "E2E-LSV-2026-0931"),  # PostFinance layout, customer as Dbtr
        (Decimal("-64.00"), "unknown"),  # RVSL-CORR-12: a credit reversed, no details
    ]  # RVSL-OUT-77 (our debit undone) is not read
    collection, first, second, swiss, correction = result.records
    assert correction.free_text == "REVERSAL OF unknown"
    assert correction.bank_reference == "RVSL-CORR-12"
    assert collection.payer_name == "Polder Logistiek BV"
    # ABN AMRO states the return as a transfer back to the customer: its creditor
    assert (first.payer_name, first.payer_iban) == ("Kaasmakerij De Wit", "NL20INGB0001234567")
    assert first.free_text == "RETURN AC06 OF COLL/2026/10/0311 INV-88007"
    assert first.structured_refs == ()
    assert (second.payer_name, second.free_text) == (
        "Bakkerij Jansen",
        "RETURN MD01 OF COLL/2026/10/0312",
    )
    assert (swiss.payer_name, swiss.payer_iban) == ("Sennerei Amstutz", "CH9300762011623852957")
    assert swiss.bank_reference == "TST_205-3300417-2"
    assert swiss.free_text == "RETURN MD06 OF E2E-LSV-2026-0931 Mitteilung 4410"
    assert swiss.value_date == date(2026, 11, 30)
    assert len({r.dedup_key for r in result.records}) == 5


def test_a_batch_booked_as_one_entry_is_known_by_its_transactions_elsewhere() -> None:
    """A PostFinance camt.053 books a batch of 8 credits as one entry without TxDtls
    (Btch/NbOfTxs 8); the camt.054 lists them (dvbern/iso20022, Swiss Payment Standards)."""
    (batch,) = parse_bank_file(FIXTURES / "camt053_v04_postfinance_batch_booking.xml").records
    details = parse_bank_file(FIXTURES / "camt054_v04_postfinance_batch_details.xml").records
    assert (batch.amount, len(details), sum(d.amount for d in details)) == (
        Decimal("620.00"),
        8,
        Decimal("620.00"),
    )
    assert {d.details_of for d in details} == {batch.dedup_key}  # they replace the entry
    assert details[0].dedup_key in batch.also_known_as  # the entry is one stored before
    assert len({d.dedup_key for d in details}) == 8
    assert batch.details_of is None


def test_a_treasury_credit_is_not_a_customer_payment() -> None:
    """ISO 20022's camt.053.001.04 business sample (as in dvbern/iso20022): a customer's
    transfer, and an FX deal's proceeds booked under bank transaction code TREA (left out
    with a warning, as BAI2 leaves out its investment and own-account credits)."""
    result = parse_bank_file(FIXTURES / "camt053_v04_iso_business_sample.xml")
    assert result.errors == []
    (payment,) = result.records
    assert (payment.amount, payment.payer_name) == (Decimal("105678.50"), "MUELLER")
    (warning,) = result.warnings
    assert warning.location == (
        "/Document/BkToCstmrStmt[1]/Stmt[1]/Ntry[3]/NtryDtls[1]/TxDtls[1] (line 146)"
    )
    assert warning.reason == (
        "a credit of 30000 SEK with bank transaction code TREA/0002/0000 (treasury): "
        "not a customer paying, left out"
    )
    assert "AAAASS1085FINPSS" in warning.raw


def test_interest_the_bank_pays_is_not_a_customer_payment() -> None:
    """An interest credit (ACMT/MCOP/INTR) from a Swedbank camt.052 intraday report (the
    entry of TulevaEE/onboarding-service SwedbankBankStatementExtractorIntraDayTest)."""
    result = parse_bank_file(FIXTURES / "camt052_v02_swedbank_interest.xml")
    assert result.records == [] and result.errors == []
    (warning,) = result.warnings
    assert warning.reason == (
        "a credit of 5.25 EUR with bank transaction code ACMT/MCOP/INTR (account "
        "management): not a customer paying, left out"
    )


_STATEMENT = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
 <BkToCstmrStmt><GrpHdr><MsgId>STM-2026-12-04</MsgId></GrpHdr>
  <Stmt><Id>STM-2026-12-04-1</Id>
   <Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>
{entries}
  </Stmt>
 </BkToCstmrStmt>
</Document>
"""


def _coded_credit(ref: str, domain: str, family: str, sub_family: str, where: str) -> str:
    code = (
        f"<BkTxCd><Domn><Cd>{domain}</Cd><Fmly><Cd>{family}</Cd>"
        f"<SubFmlyCd>{sub_family}</SubFmlyCd></Fmly></Domn></BkTxCd>"
    )
    return f"""
   <Ntry><Amt Ccy="EUR">10.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
    <ValDt><Dt>2026-12-04</Dt></ValDt><AcctSvcrRef>{ref}</AcctSvcrRef>
    {code if where == "entry" else ""}
    <NtryDtls><TxDtls>{code if where == "tx" else ""}
     <RmtInf><Ustrd>{ref}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"""


def test_credits_are_kept_or_left_out_by_their_bank_transaction_code() -> None:
    kept = [
        ("RCDT", "PMNT", "RCDT", "ESCT", "entry"),  # a received credit transfer
        ("RRCT", "PMNT", "RRCT", "SDVA", "tx"),  # a received real-time credit transfer
        ("RCHQ", "PMNT", "RCHQ", "CCHQ", "entry"),  # a cheque received
        ("RDDT", "PMNT", "RDDT", "ESDD", "entry"),  # a direct debit credited back
        ("CCRD", "PMNT", "CCRD", "POSD", "entry"),  # a card refund
        ("LBOX", "PMNT", "LBOX", "LBDP", "tx"),  # a lockbox deposit
        ("TRAD", "TRAD", "DCCT", "OTHR", "entry"),  # documentary credit proceeds
        ("XTND", "XTND", "NTAV", "NTAV", "entry"),  # nothing said
    ]
    left_out = [
        ("TREA", "TREA", "0002", "0000", "entry"),
        ("ACMT", "ACMT", "MCOP", "INTR", "entry"),
        ("CAMT", "CAMT", "ACCB", "ZABA", "entry"),  # zero balancing from our other account
        ("LDAS", "LDAS", "FTDP", "RPMT", "entry"),  # a fixed-term deposit paid back
        ("SECU", "SECU", "CUST", "DVCA", "tx"),  # a dividend
        ("FORX", "FORX", "SPOT", "OTHR", "entry"),
        ("DERV", "DERV", "OSWP", "SWFP", "entry"),
        ("PMET", "PMET", "SPOT", "OTHR", "entry"),
        ("CMDT", "CMDT", "SPOT", "OTHR", "entry"),
        ("P-INTR", "PMNT", "MCOP", "INTR", "entry"),  # interest in the payments domain
        ("P-CHRG", "PMNT", "RCDT", "CHRG", "tx"),  # charges refunded
        ("P-COAT", "PMNT", "ICDT", "COAT", "entry"),  # from our own account elsewhere
    ]
    entries = "".join(_coded_credit(*credit) for credit in kept + left_out)
    result = parse_bank_bytes(_STATEMENT.format(entries=entries).encode(), "codes.xml")
    assert result.errors == []
    assert [r.bank_reference for r in result.records] == [ref for ref, *_ in kept]
    assert [w.reason.split(" code ")[1].split(":")[0] for w in result.warnings] == [
        "TREA/0002/0000 (treasury)",
        "ACMT/MCOP/INTR (account management)",
        "CAMT/ACCB/ZABA (cash management)",
        "LDAS/FTDP/RPMT (loans, deposits and syndications)",
        "SECU/CUST/DVCA (securities)",
        "FORX/SPOT/OTHR (foreign exchange)",
        "DERV/OSWP/SWFP (derivatives)",
        "PMET/SPOT/OTHR (precious metals)",
        "CMDT/SPOT/OTHR (commodities)",
        "PMNT/MCOP/INTR (interest)",
        "PMNT/RCDT/CHRG (charges)",
        "PMNT/ICDT/COAT (own account transfer)",
    ]


def test_a_transaction_code_decides_over_its_entry_code_and_returns_are_kept() -> None:
    tx_code = "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd>"
    entry = _coded_credit("MIXED", "TREA", "0002", "0000", "entry").replace(
        "<TxDtls>", f"<TxDtls>{tx_code}</Fmly></Domn></BkTxCd>"
    )
    returned = _coded_credit("BACK", "ACMT", "MCOP", "INTR", "entry").replace(
        "<CdtDbtInd>CRDT</CdtDbtInd>", "<CdtDbtInd>DBIT</CdtDbtInd><RvslInd>true</RvslInd>"
    )
    result = parse_bank_bytes(_STATEMENT.format(entries=entry + returned).encode(), "mix.xml")
    assert result.warnings == []
    assert [(r.bank_reference, r.amount) for r in result.records] == [
        ("MIXED", Decimal("10.00")),
        ("BACK", Decimal("-10.00")),  # a reversal takes back whatever it reverses
    ]


# hbci4j/hbci4java src/test/resources/org/kapott/hbci4java/sepa/test-camt-ruecklastschrift.xml:
# a German returned direct debit with no EndToEndId and the placeholder AcctSvcrRef NONREF
RETURN_WITHOUT_NAME = b"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.052.001.02">
 <BkToCstmrAcctRpt>
  <GrpHdr><MsgId>RPT-20261203</MsgId><CreDtTm>2026-12-03T07:00:00</CreDtTm></GrpHdr>
  <Rpt>
   <Id>RPT-20261203-1</Id>
   <Acct><Id><IBAN>DE02120300000000202051</IBAN></Id></Acct>
   <Ntry>
    <Amt Ccy="EUR">81.50</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>
    <BookgDt><Dt>2026-12-03</Dt></BookgDt><ValDt><Dt>2026-12-03</Dt></ValDt>
    <AcctSvcrRef>NONREF</AcctSvcrRef>
    <BkTxCd/>
    <NtryDtls><TxDtls>
     <Refs><MndtId>MND-2291</MndtId><Prtry><Tp>FIUMSATZ-ID</Tp><Ref>2026-12-03-09-4471</Ref></Prtry>
     </Refs>
     <AmtDtls><InstdAmt><Amt Ccy="EUR">78.50</Amt></InstdAmt></AmtDtls>
     <RltdPties>
      <Dbtr><Nm>Gerda Beispiel</Nm></Dbtr>
      <DbtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></DbtrAcct>
     </RltdPties>
     <RmtInf><Ustrd>RUECKLASTSCHRIFT Konto erloschen</Ustrd></RmtInf>
     <RtrInf><Rsn><Cd>AC04</Cd></Rsn></RtrInf>
    </TxDtls></NtryDtls>
    <AddtlNtryInf>LS RUECKBELASTUNG</AddtlNtryInf>
   </Ntry>
  </Rpt>
 </BkToCstmrAcctRpt>
</Document>"""


def test_a_return_never_names_a_placeholder_as_the_payment_it_takes_back() -> None:
    result = parse_bank_bytes(RETURN_WITHOUT_NAME, "ruecklastschrift.xml")
    assert result.errors == []
    [returned] = result.records
    assert returned.amount == Decimal("-81.50")  # what left the account, charges included
    assert returned.reverses == "unknown"  # not "NONREF"
    assert returned.free_text == "RETURN AC04 OF unknown RUECKLASTSCHRIFT Konto erloschen"
    assert returned.payer_name == "Gerda Beispiel"


# genkgo/camt test/data/camt052.v1.xml: camt.052.001.01 names its message
# BkToCstmrAcctRptV01, identifies accounts by PrtryAcct and puts TxDtls directly in Ntry
CAMT052_V01 = b"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.052.001.01">
 <BkToCstmrAcctRptV01>
  <GrpHdr><MsgId>AAAA-FP-ACCR207</MsgId><CreDtTm>2026-12-02T12:30:00+01:00</CreDtTm></GrpHdr>
  <Rpt>
   <Id>AAAA-FP-ACCR207</Id>
   <CreDtTm>2026-12-02T12:30:00+01:00</CreDtTm>
   <Acct><Id><PrtryAcct><Id>SE4550000000058398257466</Id></PrtryAcct></Id></Acct>
   <Ntry>
    <Amt Ccy="SEK">15250.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
    <BookgDt><DtTm>2026-12-02T10:15:00+01:00</DtTm></BookgDt>
    <ValDt><Dt>2026-12-02</Dt></ValDt>
    <AcctSvcrRef>AAAA-FP-ACCR-207-01</AcctSvcrRef>
    <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>DMCT</SubFmlyCd></Fmly></Domn></BkTxCd>
    <Btch><NbOfTxs>2</NbOfTxs></Btch>
    <TxDtls>
     <Refs><EndToEndId>NORD-11873</EndToEndId></Refs>
     <AmtDtls><TxAmt><Amt Ccy="SEK">12000.00</Amt></TxAmt></AmtDtls>
     <RltdPties>
      <Dbtr><Nm>Fjord Trading AB</Nm></Dbtr>
      <DbtrAcct><Id><PrtryAcct><Id>5555-0100231</Id></PrtryAcct></Id></DbtrAcct>
     </RltdPties>
     <RmtInf><Ustrd>FAKTURA 40117</Ustrd></RmtInf>
    </TxDtls>
    <TxDtls>
     <Refs><EndToEndId>NORD-11874</EndToEndId></Refs>
     <AmtDtls><TxAmt><Amt Ccy="SEK">3250.00</Amt></TxAmt></AmtDtls>
     <RltdPties><Dbtr><Nm>Vastra Bygg AB</Nm></Dbtr></RltdPties>
     <RmtInf><Ustrd>FAKTURA 40121</Ustrd></RmtInf>
    </TxDtls>
   </Ntry>
   <Ntry>
    <Amt Ccy="SEK">200000</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>
    <ValDt><Dt>2026-12-02</Dt></ValDt>
    <AcctSvcrRef>AAAA-FP-ACCR-207-02</AcctSvcrRef>
    <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>DMCT</SubFmlyCd></Fmly></Domn></BkTxCd>
   </Ntry>
  </Rpt>
 </BkToCstmrAcctRptV01>
</Document>"""


def test_camt_001_01_reads_its_suffixed_message_proprietary_accounts_and_entry_txdtls() -> None:
    assert detect_format(CAMT052_V01.replace(b"camt.052.001.01", b"")) is BankFileFormat.CAMT_052
    result = parse_bank_bytes(CAMT052_V01, "camt052_v01.xml")
    assert result.format is BankFileFormat.CAMT_052
    assert result.errors == [] and result.warnings == []
    assert [(r.end_to_end_id, r.amount, r.currency) for r in result.records] == [
        ("NORD-11873", Decimal("12000.00"), "SEK"),
        ("NORD-11874", Decimal("3250.00"), "SEK"),
    ]  # the debit is not a remittance
    first, second = result.records
    assert (first.payer_name, first.payer_account) == ("Fjord Trading AB", "5555-0100231")
    assert first.free_text == "FAKTURA 40117"
    assert first.value_date == date(2026, 12, 2)
    assert first.location.startswith(
        "/Document/BkToCstmrAcctRptV01[1]/Rpt[1]/Ntry[1]/TxDtls[1] (line"
    )
    assert second.payer_name == "Vastra Bygg AB" and second.payer_account is None
    assert first.dedup_key != second.dedup_key


def test_camt_inside_a_business_application_header_envelope() -> None:
    result = parse_bank_file(FIXTURES / "camt053_v07_business_envelope.xml")
    assert result.format is BankFileFormat.CAMT_053
    assert result.errors == [] and result.warnings == []
    [wire] = result.records
    assert (wire.amount, wire.currency, wire.value_date) == (
        Decimal("18450.00"),
        "USD",
        date(2026, 12, 1),
    )
    assert (wire.payer_name, wire.payer_account) == ("Cascade Outfitters Inc", "4410023377")
    assert (wire.bank_reference, wire.end_to_end_id) == ("FW26120100311", "NWT-PAY-55310")
    assert wire.free_text == "INV 20931 INV 20944"
    assert wire.location.startswith(
        "/message/Document/BkToCstmrStmt[1]/Stmt[1]/Ntry[1]/NtryDtls[1]/TxDtls[1] (line"
    )


def test_an_envelope_without_a_camt_document_is_one_error() -> None:
    data = (
        b"<message><AppHdr><MsgDefIdr>camt.053.001.07</MsgDefIdr></AppHdr>"
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.07"/></message>'
    )
    result = parse_bank_bytes(data, "empty.xml")
    assert result.records == []
    assert [(e.location, e.reason[:28]) for e in result.errors] == [
        ("/message (line 1)", "not a camt.052, camt.053 or ")
    ]


# Subite-eu/camt-to-coda example-files/CAMT/Other/account_statement.xml (a Belgian bank):
# every unstructured remittance line is the placeholder NOTPROVIDED
PLACEHOLDER_USTRD = b"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
 <BkToCstmrStmt>
  <GrpHdr><MsgId>BE-STMT-3307</MsgId><CreDtTm>2026-12-04T06:00:00</CreDtTm></GrpHdr>
  <Stmt>
   <Id>BE-STMT-3307-1</Id>
   <Acct><Id><IBAN>BE71096123456769</IBAN></Id></Acct>
   <Ntry>
    <Amt Ccy="EUR">2500.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
    <BookgDt><Dt>2026-12-03</Dt></BookgDt><ValDt><Dt>2026-12-03</Dt></ValDt>
    <NtryDtls><TxDtls>
     <Refs><EndToEndId>E2EQWZ0041773</EndToEndId></Refs>
     <RltdPties><Dbtr><Nm>Meridian NV</Nm></Dbtr>
      <DbtrAcct><Id><IBAN>BE68539007547034</IBAN></Id></DbtrAcct></RltdPties>
     <RmtInf><Ustrd>NOTPROVIDED</Ustrd></RmtInf>
    </TxDtls></NtryDtls>
   </Ntry>
   <Ntry>
    <Amt Ccy="EUR">310.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
    <BookgDt><Dt>2026-12-03</Dt></BookgDt><ValDt><Dt>2026-12-03</Dt></ValDt>
    <NtryDtls><TxDtls>
     <Refs><EndToEndId>E2EQWZ0041790</EndToEndId></Refs>
     <RmtInf><Ustrd>Payment for invoice 2026-0917</Ustrd></RmtInf>
    </TxDtls></NtryDtls>
   </Ntry>
  </Stmt>
 </BkToCstmrStmt>
</Document>"""


def test_a_placeholder_remittance_line_is_no_free_text() -> None:
    result = parse_bank_bytes(PLACEHOLDER_USTRD, "be_statement.xml")
    assert result.errors == []
    assert [(r.amount, r.free_text) for r in result.records] == [
        (Decimal("2500.00"), None),
        (Decimal("310.00"), "Payment for invoice 2026-0917"),
    ]


# moov-io/iso20022 test/testdata/camt.053_P_CH2909000000250094239_1110092698_0_2020112503071366.xml
# (a PostFinance test file): a DBIT entry for an outgoing standing order whose only TxDtls
# says CRDT and names no parties
CRDT_TX_UNDER_DBIT_ENTRY = b"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.04">
 <BkToCstmrStmt>
  <GrpHdr><MsgId>PF-20261130-0001</MsgId><CreDtTm>2026-11-30T02:02:16</CreDtTm></GrpHdr>
  <Stmt>
   <Id>PF-20261130-0001-1</Id>
   <Acct><Id><IBAN>CH5604835012345678009</IBAN></Id></Acct>
   <Ntry>
    <Amt Ccy="CHF">912.35</Amt><CdtDbtInd>DBIT</CdtDbtInd><RvslInd>false</RvslInd>
    <Sts>BOOK</Sts><BookgDt><Dt>2026-11-27</Dt></BookgDt><ValDt><Dt>2026-11-27</Dt></ValDt>
    <AcctSvcrRef>0758103031499101</AcctSvcrRef>
    <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>AUTT</SubFmlyCd></Fmly></Domn></BkTxCd>
    <NtryDtls><TxDtls>
     <Refs><AcctSvcrRef>0758103031499101</AcctSvcrRef></Refs>
     <Amt Ccy="CHF">912.35</Amt><CdtDbtInd>CRDT</CdtDbtInd>
    </TxDtls></NtryDtls>
    <AddtlNtryInf>DAUERAUFTRAG MIETE DEZEMBER</AddtlNtryInf>
   </Ntry>
   <Ntry>
    <Amt Ccy="CHF">1204.60</Amt><CdtDbtInd>CRDT</CdtDbtInd><RvslInd>false</RvslInd>
    <Sts>BOOK</Sts><BookgDt><Dt>2026-11-27</Dt></BookgDt><ValDt><Dt>2026-11-27</Dt></ValDt>
    <AcctSvcrRef>07582000303KQ7PD</AcctSvcrRef>
    <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>VCOM</SubFmlyCd></Fmly></Domn></BkTxCd>
    <NtryDtls><TxDtls>
     <Refs><AcctSvcrRef>07582000303KQ7PD</AcctSvcrRef></Refs>
     <Amt Ccy="CHF">1204.60</Amt><CdtDbtInd>CRDT</CdtDbtInd>
    </TxDtls></NtryDtls>
   </Ntry>
  </Stmt>
 </BkToCstmrStmt>
</Document>"""


def test_a_transaction_saying_crdt_under_a_debit_entry_is_no_receipt() -> None:
    result = parse_bank_bytes(CRDT_TX_UNDER_DBIT_ENTRY, "postfinance.xml")
    assert result.errors == [] and result.warnings == []
    assert [(r.bank_reference, r.amount) for r in result.records] == [
        ("07582000303KQ7PD", Decimal("1204.60")),
    ]  # the 912.35 standing order left the account


# X12 820 -------------------------------------------------------------------------------------

# the CMS health insurance exchange 820 sample (005010X306), as quoted in a public Rust x12
# crate's tests: advice only, the payer named as remitter (N1*RM), no N1*PR
HIX_820 = (
    "ISA*00*          *00*          *ZZ*EXCHANGE0000001*ZZ*CARRIER00000001*261201*0915*^*00501"
    "*000004417*0*P*:~GS*RA*EXCHANGE01*CARRIER01*20261201*0915*4417*X*005010X306~"
    "ST*820*0001*005010X306~BPR*I*480*C*ACH*CCP*******01*021000021*DA*7700112*20261205~"
    "TRN*3*HIX-77310~REF*38*990012~N1*PE*SUMMIT HEALTH PLAN*FI*041122333~"
    "N1*RM*STATE HEALTH EXCHANGE*58*EXCH01~ENT*1~NM1*IL*1*RIVERA*ANA****C1*A10044~"
    "REF*POL*P-300118~RMR*ZZ*APTC**480~DTM*582****RD8*20261201-20261231~"
    "SE*12*0001~GE*1*4417~IEA*1*000004417~"
)


def test_820_remitter_is_the_payer_when_no_payer_is_named() -> None:
    result = parse_bank_bytes(HIX_820.encode(), "hix.edi")
    assert result.format is BankFileFormat.EDI_820
    assert result.errors == [] and result.warnings == []
    [advice] = result.records
    assert (advice.amount, advice.currency, advice.advice_only) == (Decimal("480"), "USD", True)
    assert advice.payer_name == "STATE HEALTH EXCHANGE"
    assert advice.payer_account == "EXCH01"
    assert advice.value_date == date(2026, 12, 5)
    [ref] = advice.structured_refs
    assert (ref.kind, ref.ref, ref.amount_paid) == (RefKind.OTHER, "APTC", Decimal("480"))


def test_820_pr_wins_over_a_remitter_named_first() -> None:
    text = HIX_820.replace("N1*PE*SUMMIT", "N1*PR*CAPITOL EMPLOYER GROUP*FI*530011223~N1*PE*SUMMIT")
    text = text.replace("SE*12*", "SE*13*")
    [advice] = parse_bank_bytes(text.encode(), "hix.edi").records
    assert advice.payer_name == "CAPITOL EMPLOYER GROUP"


# CU-CommunityApps/cu-kfs AchIncomeDelimitedFlatFileSpecificationTest (a bank's ACH income
# file of 820s): backslash segment terminator, ISA11 "&", component separator "?", REF, DTM*097
ACH_INCOME_820 = "\n".join(
    [
        "ISA*00*NV        *00*NV        *ZZ*NV             *ZZ*NV             *261202*0615*&"
        "*00400*000000317*0*P*?\\",
        "GS*RA*NV*NV*20261202*0615*317*X*004020\\",
        "ST*820*0001\\",
        "BPR*C*2904.18*C*ACH*CTX*01*041036004*Z*7731*3041036004**01*021302648*DA*0111000065"
        "*20261202*VEN\\",
        "TRN*1*041036009300221\\",
        "REF*GC*W911NF2610077\\",
        "DTM*097*20261201*101500\\",
        "N1*PE*NORTHWIND UNIVERSITY*93*4B578\\",
        "N1*PR*NATIONAL RESEARCH AGENCY\\",
        "RMR*IV*31*PI*2904.18*2904.18\\",
        "SE*9*0001\\",
        "GE*1*317\\",
        "IEA*1*000000317\\",
    ]
)


def test_820_with_backslash_terminators_from_a_bank_ach_income_file() -> None:
    result = parse_bank_bytes(ACH_INCOME_820.encode(), "achincome.txt")
    assert result.format is BankFileFormat.EDI_820
    assert result.errors == [] and result.warnings == []
    [payment] = result.records
    assert (payment.amount, payment.value_date, payment.line) == (
        Decimal("2904.18"),
        date(2026, 12, 2),
        3,
    )
    assert (payment.payer_name, payment.payer_account) == ("NATIONAL RESEARCH AGENCY", "7731")
    assert payment.bank_reference == "041036009300221"
    assert payment.free_text == "GC W911NF2610077"
    [invoice] = payment.structured_refs
    assert (invoice.kind, invoice.ref, invoice.amount_paid) == (
        RefKind.INVOICE,
        "31",
        Decimal("2904.18"),
    )
