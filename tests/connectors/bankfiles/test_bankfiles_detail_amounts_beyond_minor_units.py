"""A bank's credit whose payer-written remittance detail states an amount with more decimals
than the credit's currency has: ISO 20022 amounts carry up to five decimals
(``ActiveOrHistoricCurrencyAndAmount``), X12's ``R`` amounts as many as the payer writes (an
invoice amount of 1000.125 EUR, a discount of 20.005 USD from a price with a tenth of a cent).

The store keeps every amount of a remittance in its currency's minor units, so such a detail
amount once rejected the whole remittance at ingest, and the bank's credit with it. The cash
stands: only that amount is left out, with a warning naming the record, the document and the
field; the document and the rest of the payer's detail are kept.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from sqlmodel import col, select

from canonical.models import Remittance
from canonical.store import Store
from connectors.bankfiles import RefKind, parse_bank_bytes
from sync.ingest import ingest_files

_CAMT = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">
<BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>N-77</MsgId><CreDtTm>2026-03-16T18:00:00</CreDtTm></GrpHdr>
<Ntfctn><Id>N-77-1</Id><CreDtTm>2026-03-16T18:00:00</CreDtTm>
<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>
<Ntry><Amt Ccy="EUR">1500.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
<BookgDt><Dt>2026-03-16</Dt></BookgDt><ValDt><Dt>2026-03-17</Dt></ValDt>
<AcctSvcrRef>2026031700112</AcctSvcrRef>
<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
<NtryDtls><TxDtls><Refs><EndToEndId>ACME-E2E-1</EndToEndId></Refs>
<Amt Ccy="EUR">1500.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
<RltdPties><Dbtr><Pty><Nm>Nordwerk GmbH</Nm></Pty></Dbtr>
<DbtrAcct><Id><IBAN>FR1420041010050500013M02606</IBAN></Id></DbtrAcct></RltdPties>
<RmtInf>
<Strd><RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp><Nb>INV-100</Nb>
<RltdDt>2026-02-01</RltdDt></RfrdDocInf>
<RfrdDocAmt><DuePyblAmt Ccy="EUR">1000.125</DuePyblAmt><RmtdAmt Ccy="EUR">1000.00</RmtdAmt>
</RfrdDocAmt></Strd>
<Strd><RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp><Nb>INV-101</Nb></RfrdDocInf>
<RfrdDocAmt><RmtdAmt Ccy="EUR">500.00</RmtdAmt></RfrdDocAmt></Strd>
</RmtInf></TxDtls></NtryDtls></Ntry>
</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>
"""

_ISA = (
    "ISA*00*          *00*          *ZZ*BUYERCO        *ZZ*ACMESUPPLY     *261207*1200*^*00501*"
    "000000101*0*P*>~"
)
_820 = _ISA + (
    "GS*RA*BUYERCO*ACMESUPPLY*20261207*1200*101*X*005010~"
    "ST*820*0001~"
    "BPR*C*1450.75*C*ACH*CCP*01*011000015*DA*1234567*1234567890**01*071000013*DA*88120456*"
    "20261208~"
    "TRN*1*TRACE0001*1234567890~"
    "N1*PR*BIG BUYER INC*FI*987654321~"
    "ENT*1~"
    "RMR*IV*INV-1001*PI*950.00*950.00~"
    "RMR*IV*INV-1002*PI*500.75*520.755*20.005~"
    "SE*8*0001~GE*1*101~IEA*1*000000101~"
)


def test_a_camt_invoice_amount_of_three_decimals_is_left_out_and_the_credit_kept() -> None:
    result = parse_bank_bytes(_CAMT.encode(), "notification.xml")
    assert result.errors == []
    [credit] = result.records
    assert (credit.amount, credit.currency) == (Decimal("1500.00"), "EUR")
    first, second = credit.structured_refs
    assert (first.kind, first.ref, first.amount_paid) == (RefKind.INVOICE, "INV-100", 1000)
    assert first.invoice_amount is None  # 1000.125 EUR is no amount in cents
    assert str(first.document_date) == "2026-02-01"
    assert (second.ref, second.amount_paid) == ("INV-101", Decimal("500.00"))
    [warning] = result.warnings
    assert "TxDtls[1] (line 10), structured reference 1 (INV-100), invoice_amount" in str(warning)
    assert "1000.125 has more decimals than EUR allows" in warning.reason
    assert "the 1500.00 EUR credit is kept" in warning.reason


def test_an_820_invoice_amount_and_discount_of_three_decimals_are_left_out() -> None:
    result = parse_bank_bytes(_820.encode(), "payer.edi")
    assert result.errors == []
    [payment] = result.records
    assert (payment.amount, payment.currency) == (Decimal("1450.75"), "USD")
    first, second = payment.structured_refs
    assert (first.ref, first.amount_paid, first.invoice_amount) == ("INV-1001", 950, 950)
    assert (second.ref, second.amount_paid) == ("INV-1002", Decimal("500.75"))
    assert second.invoice_amount is None and second.discount is None
    reasons = sorted(w.reason.split(":")[0] for w in result.warnings)
    assert reasons == [
        "20.005 has more decimals than USD allows",
        "520.755 has more decimals than USD allows",
    ]
    assert all("structured reference 2 (INV-1002)" in w.location for w in result.warnings)


def test_trailing_zeros_beyond_the_minor_units_are_kept_without_a_warning() -> None:
    text = _820.replace("*520.755*20.005~", "*520.7500*20.000~")
    result = parse_bank_bytes(text.encode(), "payer.edi")
    assert result.warnings == [] and result.errors == []
    second = result.records[0].structured_refs[1]
    assert (second.invoice_amount, second.discount) == (Decimal("520.75"), Decimal("20"))


def test_ingest_stores_the_credits_and_reports_the_left_out_amounts(
    sqlite_store: Store, tmp_path: Path
) -> None:
    paths = []
    for name, text in (("notification.xml", _CAMT), ("payer.edi", _820)):
        path = tmp_path / name
        path.write_text(text)
        paths.append(path)
    report = ingest_files(sqlite_store, paths)
    assert [(f.new, f.rejected, len(f.warnings)) for f in report.files] == [(1, 0, 1), (1, 0, 2)]
    with sqlite_store.session() as session:
        rows = session.exec(select(Remittance).order_by(col(Remittance.amount_minor))).all()
    assert [(r.amount_minor, r.currency) for r in rows] == [(145075, "USD"), (150000, "EUR")]
    assert rows[1].structured_refs[0]["invoice_amount"] is None
    assert rows[1].structured_refs[0]["amount"] == "1000.00"
    assert rows[0].structured_refs[1]["amount"] == "500.75"
    # ingested again: the same keys, nothing new
    again = ingest_files(sqlite_store, paths)
    assert [(f.new, f.duplicate) for f in again.files] == [(0, 1), (0, 1)]
