"""camt.053 / camt.054 in several versions: same fields whatever the namespace."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from connectors.bankfiles import BankFileFormat, RefKind, parse_bank_bytes, parse_bank_file

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bankfiles"


def test_camt053_v02_statement() -> None:
    result = parse_bank_file(FIXTURES / "camt053_v02_statement.xml")
    assert result.format is BankFileFormat.CAMT_053
    assert result.errors == []
    # five credit transactions; the DBIT bank charge is not a remittance
    assert [r.amount for r in result.records] == [
        Decimal("2380.00"),
        Decimal("980.00"),
        Decimal("750.00"),
        Decimal("750.00"),
        Decimal("420.00"),
    ]
    ustrd, strd, batch_a, batch_b, bare = result.records
    assert ustrd.payer_name == "Brandt Maschinenbau AG"
    assert ustrd.payer_iban == "DE89370400440532013000"  # spaces removed
    assert ustrd.end_to_end_id == "E2E-BR-2026-4471"
    assert ustrd.bank_reference == "2026111900123456"
    assert ustrd.free_text == "RECHNUNG INV-2001 UND INV-2002 KUNDENNR 40017"
    assert ustrd.location.startswith(
        "/Document/BkToCstmrStmt[1]/Stmt[1]/Ntry[1]/NtryDtls[1]/TxDtls[1]"
    )
    assert ustrd.raw.lstrip().startswith("<TxDtls") and "E2E-BR-2026-4471" in ustrd.raw

    assert strd.end_to_end_id is None  # NOTPROVIDED
    assert strd.payer_name == "Kessler & Soehne KG"
    (ref,) = strd.structured_refs
    assert ref.kind is RefKind.INVOICE and ref.ref == "INV-2010"
    assert (ref.amount_paid, ref.invoice_amount, ref.discount) == (
        Decimal("980.00"),
        Decimal("1000.00"),
        Decimal("20.00"),  # DscntApldAmt as a plain amount (old versions)
    )
    assert ref.document_date == date(2026, 10, 20)

    assert (batch_a.end_to_end_id, batch_b.end_to_end_id) == ("LF-88120", "LF-88121")
    assert batch_a.dedup_key != batch_b.dedup_key
    assert bare.location.endswith("Ntry[5] (line 216)")
    assert bare.value_date == date(2026, 11, 20)  # ValDt wins over BookgDt
    assert bare.free_text == "GUTSCHRIFT OSTERMANN GMBH INV-2030"


def test_camt053_v08_party_choice_other_account_rf_and_reversal() -> None:
    result = parse_bank_file(FIXTURES / "camt053_v08_statement.xml")
    assert result.errors == []
    rf_payment, other = result.records  # the reversal entry is not a remittance
    assert rf_payment.payer_name == "Alpenblick Hotels SA"  # Dbtr/Pty/Nm
    assert rf_payment.currency == "CHF"
    assert rf_payment.bank_reference == "ZKB-7781200311-1"  # TxDtls ref over the entry's
    (rf,) = rf_payment.structured_refs
    assert (rf.kind, rf.ref) == (RefKind.RF, "RF18539007547034")
    assert other.payer_account == "30-38151-7" and other.payer_iban is None
    assert other.free_text == "Rg. 2026-0415 / Kd. 10044"


def test_camt054_v04_notification() -> None:
    result = parse_bank_file(FIXTURES / "camt054_v04_notification.xml")
    assert result.format is BankFileFormat.CAMT_054
    first, second = result.records
    assert first.payer_name == "Van den Berg Logistiek B.V."
    assert first.free_text == "/INV/ 7001 7002 7003"
    assert first.amount == Decimal("15000.00")
    (ref,) = second.structured_refs
    assert (ref.ref, ref.amount_paid) == ("7010", Decimal("2495.00"))


@pytest.mark.parametrize("status", ["PDNG", "FUTR", "INFO"])
def test_camt054_entry_not_booked_yet_is_not_cash(status: str) -> None:
    # the booked entry comes later (a notification or the statement): both would pay twice
    data = (FIXTURES / "camt054_v04_notification.xml").read_bytes()
    last = data.rindex(b"<Sts>BOOK</Sts>")
    pending = data[:last] + f"<Sts>{status}</Sts>".encode() + data[last + 15 :]
    result = parse_bank_bytes(pending, "pending.xml")
    assert result.errors == []
    assert [r.amount for r in result.records] == [Decimal("15000.00")]


def test_camt054_v08_structured_remittance() -> None:
    result = parse_bank_file(FIXTURES / "camt054_v08_structured.xml")
    assert result.errors == []
    several, shared = result.records
    assert several.payer_name == "Dupont Distribution SAS"
    assert several.free_text == "REGLEMENT FACTURES NOV"
    discounted, adjusted, credit_note = several.structured_refs
    assert discounted.discount == Decimal("100.00")  # DscntApldAmt/Amt (newer versions)
    assert discounted.amount_paid == Decimal("4900.00")
    assert (adjusted.adjustment, adjusted.adjustment_reason) == (Decimal("-52.00"), "DAMG")
    assert credit_note.kind is RefKind.CREDIT_MEMO
    assert credit_note.amount_paid == Decimal("-200.00")
    paid = sum((r.amount_paid or Decimal(0)) for r in several.structured_refs)
    assert paid == several.amount

    # two documents share one RfrdDocAmt: no amount is pinned on either; RF kept
    assert [(r.kind, r.ref, r.amount_paid) for r in shared.structured_refs] == [
        (RefKind.INVOICE, "FA-2026-3120", None),
        (RefKind.INVOICE, "FA-2026-3121", None),
        (RefKind.RF, "RF09FA20263120", None),
    ]


def test_malformed_entries_name_the_element_and_keep_the_rest() -> None:
    result = parse_bank_file(FIXTURES / "camt053_malformed_entries.xml")
    assert [r.bank_reference for r in result.records] == ["GOOD-3"]
    reasons = {e.location: e.reason for e in result.errors}
    assert reasons == {
        "/Document/BkToCstmrStmt[1]/Stmt[1]/Ntry[1]/Amt[1] (line 17), amount": (
            "not an amount: '12,50'"
        ),
        "/Document/BkToCstmrStmt[1]/Stmt[1]/Ntry[2]/NtryDtls[1]/TxDtls[1]/AmtDtls[1]/TxAmt[1]"
        "/Amt[1] (line 41), Ccy": "not an ISO 4217 currency code: None",
        "/Document/BkToCstmrStmt[1]/Stmt[1]/Ntry[2]/NtryDtls[1]/TxDtls[2]/AmtDtls[1]/TxAmt[1]"
        "/Amt[1] (line 56)": "amount must not be negative: -5.00",
        "/Document/BkToCstmrStmt[1]/Stmt[1]/Ntry[4] (line 91): CdtDbtInd": (
            "must be CRDT or DBIT, got 'nothing'"
        ),
        "/Document/BkToCstmrStmt[1]/Stmt[1]/Ntry[5]/ValDt[1] (line 103)": (
            "not a date: '2026-11-31'"
        ),
    }


def test_truncated_xml_is_one_error_with_its_line() -> None:
    result = parse_bank_file(FIXTURES / "camt054_truncated.xml")
    assert result.records == []
    (error,) = result.errors
    assert error.file == "camt054_truncated.xml"
    assert error.location == "line 44"
    assert "not well-formed XML" in error.reason


@pytest.mark.parametrize("version", ["02", "04", "06", "08", "10", "12", "14"])
def test_any_version_and_prefixed_namespaces(version: str) -> None:
    doc = f"""<?xml version="1.0"?>
<c:Document xmlns:c="urn:iso:std:iso:20022:tech:xsd:camt.054.001.{version}">
 <c:BkToCstmrDbtCdtNtfctn><c:GrpHdr><c:MsgId>M</c:MsgId></c:GrpHdr>
  <c:Ntfctn><c:Id>N1</c:Id><c:Acct><c:Id><c:IBAN>NL91ABNA0417164300</c:IBAN></c:Id></c:Acct>
   <c:Ntry><c:Amt Ccy="EUR">10.00</c:Amt><c:CdtDbtInd>CRDT</c:CdtDbtInd>
    <c:ValDt><c:DtTm>2026-11-19T10:00:00</c:DtTm></c:ValDt>
    <c:NtryDtls><c:TxDtls><c:RltdPties><c:Dbtr><c:Pty><c:Nm>Payer</c:Nm></c:Pty></c:Dbtr>
    </c:RltdPties><c:RmtInf><c:Strd><c:RfrdDocInf><c:Nb>INV-9</c:Nb>
    <c:RltdDt><c:Tp><c:Cd>INDA</c:Cd></c:Tp><c:Dt>2026-11-01</c:Dt></c:RltdDt></c:RfrdDocInf>
    </c:Strd></c:RmtInf></c:TxDtls></c:NtryDtls></c:Ntry></c:Ntfctn>
 </c:BkToCstmrDbtCdtNtfctn></c:Document>"""
    result = parse_bank_bytes(doc.encode(), f"v{version}.xml")
    assert result.errors == []
    (record,) = result.records
    assert (record.payer_name, record.value_date) == ("Payer", date(2026, 11, 19))
    (ref,) = record.structured_refs
    assert (ref.kind, ref.ref, ref.document_date) == (RefKind.INVOICE, "INV-9", date(2026, 11, 1))


def test_external_entities_are_not_expanded(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    doc = f"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret}">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"><BkToCstmrDbtCdtNtfctn>
<Ntfctn><Ntry><Amt Ccy="EUR">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><NtryDtls><TxDtls>
<RmtInf><Ustrd>&x;</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry></Ntfctn>
</BkToCstmrDbtCdtNtfctn></Document>"""
    result = parse_bank_bytes(doc.encode(), "xxe.xml")
    assert all("TOP-SECRET" not in (r.free_text or "") for r in result.records)


_STATEMENT = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}">
 <BkToCstmrStmt><GrpHdr><MsgId>STM-2026-12-04</MsgId></GrpHdr>
  <Stmt><Id>STM-2026-12-04-1</Id>
   <Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>
{entries}
  </Stmt>
 </BkToCstmrStmt>
</Document>
"""


def _statement(entries: str, version: str = "08") -> bytes:
    return _STATEMENT.format(version=version, entries=entries).encode()


def test_single_transaction_entries_are_booked_for_the_entry_amount() -> None:
    entries = """
   <Ntry><Amt Ccy="EUR">812.40</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
    <BookgDt><Dt>2026-12-04</Dt></BookgDt><AcctSvcrRef>BK-1</AcctSvcrRef>
    <NtryDtls><TxDtls><Amt Ccy="EUR">0</Amt><CdtDbtInd>CRDT</CdtDbtInd>
     <RmtInf><Ustrd>INV 30071</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
   <Ntry><Amt Ccy="EUR">920.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
    <BookgDt><DtTm>2026-12-04T16:20:00+01:00</DtTm></BookgDt><AcctSvcrRef>BK-2</AcctSvcrRef>
    <NtryDtls><TxDtls>
     <AmtDtls><InstdAmt><Amt Ccy="USD">1000.00</Amt></InstdAmt></AmtDtls>
     <RmtInf><Ustrd>INV 30072</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"""
    result = parse_bank_bytes(_statement(entries), "single_tx.xml")
    assert result.errors == []
    zero_amt, foreign = result.records
    assert (zero_amt.amount, zero_amt.currency) == (Decimal("812.40"), "EUR")
    assert (foreign.amount, foreign.currency) == (Decimal("920.00"), "EUR")
    assert foreign.value_date == date(2026, 12, 4)


def test_batch_entries_returns_and_reversals() -> None:
    entries = """
   <Ntry><Amt Ccy="EUR">1500.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
    <ValDt><Dt>2026-12-04</Dt></ValDt><AcctSvcrRef>BATCH-7</AcctSvcrRef>
    <NtryDtls><Btch><NbOfTxs>2</NbOfTxs></Btch>
     <TxDtls><Refs><EndToEndId>E2E-A</EndToEndId></Refs>
      <AmtDtls><TxAmt><Amt Ccy="EUR">1000.00</Amt></TxAmt></AmtDtls>
      <RmtInf><Strd><RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp><Nb>R-501</Nb>
       </RfrdDocInf><RfrdDocAmt><DuePyblAmt Ccy="EUR">1000.00</DuePyblAmt>
       <RmtdAmt Ccy="EUR">1000.00</RmtdAmt></RfrdDocAmt></Strd></RmtInf></TxDtls>
     <TxDtls><Refs><EndToEndId>E2E-B</EndToEndId></Refs>
      <AmtDtls><TxAmt><Amt Ccy="EUR">500.00</Amt></TxAmt></AmtDtls>
      <RmtInf><Strd><CdtrRefInf><Ref>RF18 5390 0754 7034</Ref></CdtrRefInf></Strd></RmtInf>
     </TxDtls></NtryDtls></Ntry>
   <Ntry><Amt Ccy="EUR">230.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
    <ValDt><Dt>2026-12-04</Dt></ValDt><AcctSvcrRef>RET-1</AcctSvcrRef>
    <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>RRTN</SubFmlyCd></Fmly></Domn>
    </BkTxCd>
    <NtryDtls><TxDtls><Refs><EndToEndId>OUR-PAYOUT-9</EndToEndId></Refs></TxDtls></NtryDtls>
   </Ntry>
   <Ntry><Amt Ccy="EUR">75.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
    <ValDt><Dt>2026-12-04</Dt></ValDt><AcctSvcrRef>RET-2</AcctSvcrRef>
    <NtryDtls><TxDtls><Refs><EndToEndId>OUR-PAYOUT-10</EndToEndId></Refs>
     <RtrInf><Rsn><Cd>AC04</Cd></Rsn></RtrInf></TxDtls></NtryDtls></Ntry>
   <Ntry><Amt Ccy="EUR">64.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><RvslInd>true</RvslInd>
    <Sts>BOOK</Sts><ValDt><Dt>2026-12-04</Dt></ValDt><AcctSvcrRef>RVSL-1</AcctSvcrRef></Ntry>
   <Ntry><Amt Ccy="EUR">19.99</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>
    <ValDt><Dt>2026-12-04</Dt></ValDt><AcctSvcrRef>FEE-1</AcctSvcrRef></Ntry>"""
    result = parse_bank_bytes(_statement(entries, "02"), "batch.xml")
    assert result.errors == []
    assert [(r.end_to_end_id, r.amount) for r in result.records] == [
        ("E2E-A", Decimal("1000.00")),
        ("E2E-B", Decimal("500.00")),
        (None, Decimal("-64.00")),  # RVSL-1: the bank took a credit back (no details given)
    ]
    assert (result.records[2].reverses, result.records[2].bank_reference) == ("unknown", "RVSL-1")
    (invoice,) = result.records[0].structured_refs
    assert (invoice.kind, invoice.ref, invoice.amount_paid, invoice.invoice_amount) == (
        RefKind.INVOICE,
        "R-501",
        Decimal("1000.00"),
        Decimal("1000.00"),
    )
    (rf,) = result.records[1].structured_refs
    assert (rf.kind, rf.ref) == (RefKind.RF, "RF18539007547034")


RETURNED_DIRECT_DEBIT = """
   <Ntry><Amt Ccy="EUR">1000.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>
    <ValDt><Dt>2026-12-09</Dt></ValDt><AcctSvcrRef>RTN-31</AcctSvcrRef>
    <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>IDDT</Cd><SubFmlyCd>UPDD</SubFmlyCd></Fmly></Domn>
    </BkTxCd>
    <NtryDtls><TxDtls><Refs><EndToEndId>E2E-A</EndToEndId><MndtId>MD-77</MndtId></Refs>
     <RltdPties><Dbtr><Nm>Harbor Foods GmbH</Nm></Dbtr></RltdPties>
     <RtrInf><Rsn><Cd>AM04</Cd></Rsn></RtrInf></TxDtls></NtryDtls></Ntry>"""


def test_a_returned_direct_debit_takes_back_the_collection_it_names() -> None:
    result = parse_bank_bytes(_statement(RETURNED_DIRECT_DEBIT), "returns.xml")
    assert result.errors == []
    [returned] = result.records
    assert (returned.amount, returned.reverses) == (Decimal("-1000.00"), "E2E-A")
    assert returned.payer_name == "Harbor Foods GmbH"
    assert returned.free_text == "RETURN AM04 OF E2E-A"
    assert returned.structured_refs == ()


# camt.052 ------------------------------------------------------------------------------------


def test_camt052_intraday_report_takes_only_booked_credits() -> None:
    result = parse_bank_file(FIXTURES / "camt052_v08_intraday.xml")
    assert result.format is BankFileFormat.CAMT_052
    assert result.errors == [] and result.warnings == []
    # seven entries: pending (PDNG), information-only (INFO), future (FUTR) and the debit
    # are not cash; the booked batch gives one remittance per transaction
    assert [(r.bank_reference, r.amount) for r in result.records] == [
        ("BYLA2026120300118", Decimal("3870.00")),
        ("BYLA2026120300131", Decimal("1249.50")),
        ("BYLA2026120300163-1", Decimal("735.00")),
        ("BYLA2026120300163-2", Decimal("450.00")),
    ]
    assert all(r.format is BankFileFormat.CAMT_052 for r in result.records)
    assert all(r.currency == "EUR" for r in result.records)
    assert "9400.00" not in {str(r.amount) for r in result.records}  # pending

    transfer, structured, batch_a, batch_b = result.records
    assert transfer.payer_name == "Huber Handels GmbH"
    assert transfer.payer_iban == "AT611904300234573201"
    assert transfer.end_to_end_id == "HUB-RE-30112-30113"
    assert transfer.value_date == date(2026, 12, 3)
    assert transfer.free_text == "RE 30112 UND 30113 KD-NR 40071 ABZGL. 2 PROZENT SKONTO"
    assert transfer.location.startswith(
        "/Document/BkToCstmrAcctRpt[1]/Rpt[1]/Ntry[1]/NtryDtls[1]/TxDtls[1]"
    )
    assert transfer.raw.lstrip().startswith("<TxDtls") and "HUB-RE-30112-30113" in transfer.raw

    assert structured.payer_iban == "BE68539007547034"
    invoice, rf = structured.structured_refs
    assert (invoice.kind, invoice.ref, invoice.amount_paid, invoice.invoice_amount) == (
        RefKind.INVOICE,
        "30117",
        Decimal("1249.50"),
        Decimal("1249.50"),
    )
    assert invoice.document_date == date(2026, 11, 5)
    assert (rf.kind, rf.ref) == (RefKind.RF, "RF44INV30117")

    assert (batch_a.payer_name, batch_b.payer_name) == (
        "Bergmann Werkzeuge KG",
        "Schulte Metallbau GmbH",
    )
    assert len({r.dedup_key for r in result.records}) == 4


def test_camt052_later_report_of_the_day_repeats_entries_under_the_same_keys() -> None:
    morning = parse_bank_file(FIXTURES / "camt052_v08_intraday.xml")
    afternoon = parse_bank_file(FIXTURES / "camt052_v08_intraday_later.xml")
    assert afternoon.errors == []
    keys = {r.bank_reference: r.dedup_key for r in afternoon.records}
    # the entries already reported at 10:30 keep their keys in the 14:30 report
    assert {r.bank_reference: r.dedup_key for r in morning.records}.items() <= keys.items()
    # the transfer pending at 10:30 is booked now, and a new credit has arrived
    seen = {r.dedup_key for r in morning.records}
    new = [r for r in afternoon.records if r.dedup_key not in seen]
    assert [(r.payer_name, r.amount) for r in new] == [
        ("Whitfield Engineering Ltd", Decimal("9400.00")),
        ("Van den Berg Logistiek B.V.", Decimal("780.00")),
    ]
    assert new[1].end_to_end_id is None  # NOTPROVIDED


def test_camt052_entry_without_a_bank_reference_is_keyed_by_its_report() -> None:
    report = _REPORT.format(
        version="08",
        report_id="IDR-1",
        entries=_report_entry("<Sts><Cd>BOOK</Cd></Sts>", amount="61.00", reference=""),
    )
    again = report.replace("IDR-1", "IDR-2")
    (first,) = parse_bank_bytes(report.encode(), "r1.xml").records
    (second,) = parse_bank_bytes(again.encode(), "r2.xml").records
    # nothing tells that these are the same entry: they stay two remittances
    assert first.dedup_key != second.dedup_key


_REPORT = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.052.001.{version}">
 <BkToCstmrAcctRpt><GrpHdr><MsgId>IDR-MSG</MsgId><CreDtTm>2026-12-04T11:00:00</CreDtTm></GrpHdr>
  <Rpt><Id>{report_id}</Id><CreDtTm>2026-12-04T11:00:00</CreDtTm>
   <Acct><Id><IBAN>DE02120300000000202051</IBAN></Id><Ccy>EUR</Ccy></Acct>
{entries}
  </Rpt>
 </BkToCstmrAcctRpt>
</Document>
"""


def _report_entry(status: str, amount: str, reference: str, indicator: str = "CRDT") -> str:
    ref = f"<AcctSvcrRef>{reference}</AcctSvcrRef>" if reference else ""
    return f"""   <Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{indicator}</CdtDbtInd>{status}
    <ValDt><Dt>2026-12-04</Dt></ValDt>{ref}
    <NtryDtls><TxDtls><RmtInf><Ustrd>INV {reference or amount}</Ustrd></RmtInf></TxDtls>
    </NtryDtls></Ntry>"""


@pytest.mark.parametrize(
    "version", ["02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13"]
)
def test_camt052_any_version_status_as_code_or_choice(version: str) -> None:
    def status(code: str) -> str:  # a plain code up to .07, a choice (Sts/Cd) from .08 on
        return f"<Sts>{code}</Sts>" if int(version) < 8 else f"<Sts><Cd>{code}</Cd></Sts>"

    entries = "\n".join(
        [
            _report_entry(status("BOOK"), "100.00", "R-BOOK"),
            _report_entry(status("PDNG"), "200.00", "R-PDNG"),
            _report_entry(status("INFO"), "300.00", "R-INFO"),
            _report_entry(status("FUTR"), "400.00", "R-FUTR"),
            _report_entry(status("BOOK"), "500.00", "R-DEBIT", indicator="DBIT"),
        ]
    )
    data = _REPORT.format(version=version, report_id="IDR-1", entries=entries).encode()
    result = parse_bank_bytes(data, f"camt052_v{version}.xml")
    assert result.format is BankFileFormat.CAMT_052
    assert result.errors == []
    (booked,) = result.records
    assert (booked.bank_reference, booked.amount, booked.free_text) == (
        "R-BOOK",
        Decimal("100.00"),
        "INV R-BOOK",
    )


def test_camt052_entry_whose_status_cannot_be_read_is_an_error_and_the_rest_kept() -> None:
    entries = "\n".join(
        [
            _report_entry("<Sts><Cd>BOOK</Cd></Sts>", "10.00", "R-1"),
            _report_entry("<Sts><Cd>BOKD</Cd></Sts>", "20.00", "R-2"),
            _report_entry("", "30.00", "R-3"),
            _report_entry("<Sts><Prtry>GEBUCHT</Prtry></Sts>", "40.00", "R-4"),
            _report_entry("", "50.00", "R-5", indicator="DBIT"),  # a debit: no matter
        ]
    )
    data = _REPORT.format(version="08", report_id="IDR-1", entries=entries).encode()
    result = parse_bank_bytes(data, "statuses.xml")
    assert [r.bank_reference for r in result.records] == ["R-1"]
    reasons = {e.location: e.reason for e in result.errors}
    assert reasons == {
        "/Document/BkToCstmrAcctRpt[1]/Rpt[1]/Ntry[2]/Sts[1] (line 10)": (
            "unknown entry status 'BOKD' (expected BOOK, PDNG, INFO or FUTR)"
        ),
        "/Document/BkToCstmrAcctRpt[1]/Rpt[1]/Ntry[3] (line 14): Sts": (
            "the entry has no status (Sts): cannot tell whether it is booked"
        ),
        "/Document/BkToCstmrAcctRpt[1]/Rpt[1]/Ntry[4]/Sts[1] (line 18)": (
            "proprietary entry status 'GEBUCHT': cannot tell whether it is booked"
        ),
    }
    assert [e.raw.count("<Ustrd>INV R-") for e in result.errors] == [1, 1, 1]
    assert all(e.file == "statuses.xml" for e in result.errors)


def test_keys_stored_before_are_still_recognised() -> None:
    # a key already stored must still be known, or a re-sent file would be ingested again
    statement = parse_bank_file(FIXTURES / "camt053_v08_statement.xml").records
    notification = parse_bank_file(FIXTURES / "camt054_v04_notification.xml").records
    assert "camt.053:2ea33395d7417301d31ba6152cd75b12849f23f817f2264d" in (
        statement[0].also_known_as
    )
    assert "camt.054:306a2bc996030e2c75863da0c6e1bb1759a2154f6df42edb" in (
        notification[0].also_known_as
    )


def test_an_entry_the_bank_names_keeps_its_key_in_every_report_of_the_day() -> None:
    entry = """
   <Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
    <BookgDt><Dt>2026-12-04</Dt></BookgDt><ValDt><Dt>2026-12-04</Dt></ValDt>
    <AcctSvcrRef>{ref}</AcctSvcrRef>
    <NtryDtls><TxDtls><RmtInf><Ustrd>INV 5501</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"""
    named = entry.format(amount="410.00", ref="20261204-0042")
    intraday = _REPORT.format(version="08", report_id="IDR-3", entries=named).encode()
    statement = _statement(named).replace(b"DE89370400440532013000", b"DE02120300000000202051")
    [early] = parse_bank_bytes(intraday, "1030.xml").records
    [booked] = parse_bank_bytes(statement, "eod.xml").records
    assert early.dedup_key == booked.dedup_key
    # "NONREF" names nothing: two such credits of one amount stay two remittances
    unnamed = entry.format(amount="410.00", ref="NONREF")
    first, second = parse_bank_bytes(_statement(unnamed + unnamed), "eod2.xml").records
    assert first.dedup_key != second.dedup_key


def test_a_statement_summary_that_does_not_add_up_is_a_warning() -> None:
    entries = """
   <Ntry><Amt Ccy="EUR">100.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
    <ValDt><Dt>2026-12-04</Dt></ValDt><AcctSvcrRef>S-1</AcctSvcrRef></Ntry>
   <Ntry><Amt Ccy="EUR">25.50</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
    <ValDt><Dt>2026-12-04</Dt></ValDt><AcctSvcrRef>S-2</AcctSvcrRef></Ntry>"""
    summary = """<TxsSummry><TtlNtries><NbOfNtries>2</NbOfNtries><Sum>125.50</Sum></TtlNtries>
    <TtlCdtNtries><NbOfNtries>{credits}</NbOfNtries><Sum>{credit_sum}</Sum></TtlCdtNtries>
    <TtlDbtNtries><NbOfNtries>1</NbOfNtries><Sum>25.50</Sum></TtlDbtNtries></TxsSummry>"""
    good = summary.format(credits=1, credit_sum="100.00") + entries
    result = parse_bank_bytes(_statement(good), "good.xml")
    assert result.warnings == [] and len(result.records) == 1
    bad = summary.format(credits=2, credit_sum="180.00") + entries  # a credit lost
    result = parse_bank_bytes(_statement(bad), "bad.xml")
    [warning] = result.warnings
    assert len(result.records) == 1 and warning.location.endswith("/Stmt[1]/TxsSummry")
    assert "TtlCdtNtries/NbOfNtries 2 does not match the 1 entries" in warning.reason
    assert "TtlCdtNtries/Sum 180.00 does not match their sum 100.00" in warning.reason


def test_one_transaction_details_the_entry_a_statement_booked_without_it() -> None:
    """camt053_v08_single_entries.xml books credits without their details; the camt.054
    details the first: its transaction names that entry (``details_of``) and the entry knows
    the transaction's key, tied by the entry's AcctSvcrRef. A credit of the same amount on
    the same day from another payer, and entries named only by a counter (NtryRef), are not
    tied to anything."""
    booked = parse_bank_file(FIXTURES / "camt053_v08_single_entries.xml").records
    detailed = parse_bank_file(FIXTURES / "camt054_v08_single_details.xml").records
    first, second, counted = booked
    transaction, other = detailed
    assert transaction.details_of == first.dedup_key
    assert transaction.dedup_key in first.also_known_as
    assert second.dedup_key not in {transaction.details_of, transaction.dedup_key}
    assert transaction.dedup_key not in second.also_known_as
    assert (counted.amount, other.amount) == (Decimal("480.00"), Decimal("480.00"))
    assert other.details_of is None and counted.dedup_key != other.dedup_key
    assert not {other.dedup_key, *other.also_known_as} & {counted.dedup_key, *counted.also_known_as}
    # a statement listing the entry with its one transaction: the notification's key
    with_details = (
        (FIXTURES / "camt054_v08_single_details.xml")
        .read_bytes()
        .replace(b"BkToCstmrDbtCdtNtfctn", b"BkToCstmrStmt")
        .replace(b"Ntfctn>", b"Stmt>")
        .replace(b"camt.054.001.08", b"camt.053.001.08")
    )
    statement = parse_bank_bytes(with_details, "eod.xml")
    assert statement.format is BankFileFormat.CAMT_053
    assert statement.records[0].dedup_key == transaction.dedup_key


def test_camt052_entries_named_nonref_are_told_apart_and_known_again_later_that_day() -> None:
    def report(report_id: str, day: str, *amounts: str) -> bytes:
        entries = "".join(
            _report_entry("<Sts><Cd>BOOK</Cd></Sts>", amount, "NONREF").replace("2026-12-04", day)
            for amount in amounts
        )
        return _REPORT.format(version="08", report_id=report_id, entries=entries).encode()

    morning = parse_bank_bytes(report("IDR-1", "2026-12-04", "410.00", "410.00"), "1000.xml")
    later = parse_bank_bytes(report("IDR-2", "2026-12-04", "410.00", "410.00", "410.00"), "b")
    tomorrow = parse_bank_bytes(report("IDR-3", "2026-12-05", "410.00"), "1000-next.xml")
    first, second = (r.dedup_key for r in morning.records)
    assert first != second  # two payments of one amount in one report stay two
    assert [r.dedup_key for r in later.records][:2] == [first, second]  # repeated: the same
    assert later.records[2].dedup_key not in {first, second}
    assert tomorrow.records[0].dedup_key not in {first, second}  # another day's payment
    # what earlier versions stored the first under is still known (and only for the first)
    assert len(morning.records[0].also_known_as) == 1 and morning.records[1].also_known_as == ()
