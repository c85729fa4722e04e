"""Review of the camt batch reading (a1c2215) and of zoned dates (9f99c8c): what the reader
stored before keeps its records and keys, so that a file read again stores nothing twice.

- A credit batch is one remittance of its booked amount only where none of its transactions
  states an amount (or states 0) and each is a customer paying; any other batch's
  transactions stand alone as before (one without an amount is an error).
- Charges included written ``1`` are taken from a gross batch now; the key made of the
  amount before them (what earlier versions stored) stays among the earlier keys.
- The booking date is keyed without its time zone: one entry dated ``2024-01-01`` in one
  report and ``2024-01-01+01:00`` (or a camt.052 ``DtTm``) in another is one.

The files are the reviewer's probes, in the layout of camt.053.001.02 / camt.054.001.02
statements (genkgo/camt test data); keys of earlier versions were read from their code once
(``a1c2215^`` and ``9f99c8c^``; ``a1c2215`` for a zoned date).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import select

import connectors.bankfiles.camt as camt_module
from canonical.models import Remittance
from canonical.store import Store
from connectors.bankfiles import parse_bank_bytes
from connectors.bankfiles.records import RawRemittance
from mappings.bankfiles import remittance_from_raw
from sync.ingest import ingest_files

_GROSS_ZERO_FIRST = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
<BkToCstmrStmt><GrpHdr><MsgId>053-MSG-1</MsgId><CreDtTm>2024-03-07T18:00:00</CreDtTm>
</GrpHdr>
<Stmt><Id>053-REP-1</Id><CreDtTm>2024-03-07T18:00:00</CreDtTm>
<Acct><Id><IBAN>NL77ABNA0574908765</IBAN></Id><Ccy>EUR</Ccy></Acct>
<Ntry><AcctSvcrRef>2024030700123</AcctSvcrRef><Amt Ccy="EUR">190.00</Amt>
<CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2024-03-07</Dt></BookgDt><ValDt>
<Dt>2024-03-07</Dt></ValDt><BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd>
<SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
<NtryDtls><Btch><NbOfTxs>3</NbOfTxs></Btch>
<TxDtls><Refs><EndToEndId>E2E-0</EndToEndId></Refs><AmtDtls><TxAmt><Amt Ccy="EUR">0.00</Amt>
</TxAmt></AmtDtls><RltdPties><Dbtr><Nm>Zeta BV</Nm></Dbtr><DbtrAcct><Id>
<IBAN>NL91ABNA0417164300</IBAN></Id></DbtrAcct></RltdPties><RmtInf><Strd><RfrdDocInf><Tp>
<CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp><Nb>INV-0</Nb></RfrdDocInf></Strd></RmtInf>
</TxDtls>
<TxDtls><Refs><EndToEndId>E2E-1</EndToEndId></Refs><AmtDtls><TxAmt>
<Amt Ccy="EUR">100.00</Amt></TxAmt></AmtDtls><Chrgs><Rcrd><Amt Ccy="EUR">5.00</Amt>
<CdtDbtInd>DBIT</CdtDbtInd><ChrgInclInd>true</ChrgInclInd></Rcrd></Chrgs><RltdPties><Dbtr>
<Nm>Alpha BV</Nm></Dbtr><DbtrAcct><Id><IBAN>NL91ABNA0417164300</IBAN></Id></DbtrAcct>
</RltdPties><RmtInf><Strd><RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp>
<Nb>INV-1</Nb></RfrdDocInf></Strd></RmtInf></TxDtls>
<TxDtls><Refs><EndToEndId>E2E-2</EndToEndId></Refs><AmtDtls><TxAmt>
<Amt Ccy="EUR">100.00</Amt></TxAmt></AmtDtls><Chrgs><Rcrd><Amt Ccy="EUR">5.00</Amt>
<CdtDbtInd>DBIT</CdtDbtInd><ChrgInclInd>true</ChrgInclInd></Rcrd></Chrgs><RltdPties><Dbtr>
<Nm>Beta BV</Nm></Dbtr><DbtrAcct><Id><IBAN>NL91ABNA0417164300</IBAN></Id></DbtrAcct>
</RltdPties><RmtInf><Strd><RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp>
<Nb>INV-2</Nb></RfrdDocInf></Strd></RmtInf></TxDtls>
</NtryDtls></Ntry>
</Stmt></BkToCstmrStmt></Document>
"""

_CHARGES_1_NONREF = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
<BkToCstmrStmt><GrpHdr><MsgId>053-MSG-1</MsgId><CreDtTm>2024-03-07T18:00:00</CreDtTm>
</GrpHdr>
<Stmt><Id>053-REP-1</Id><CreDtTm>2024-03-07T18:00:00</CreDtTm>
<Acct><Id><IBAN>NL77ABNA0574908765</IBAN></Id><Ccy>EUR</Ccy></Acct>
<Ntry><AcctSvcrRef>NONREF</AcctSvcrRef><Amt Ccy="EUR">190.00</Amt>
<CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2024-03-07</Dt></BookgDt><ValDt>
<Dt>2024-03-07</Dt></ValDt><BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd>
<SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
<NtryDtls><Btch><NbOfTxs>2</NbOfTxs></Btch>
<TxDtls><Refs><EndToEndId>E2E-1</EndToEndId></Refs><AmtDtls><TxAmt>
<Amt Ccy="EUR">100.00</Amt></TxAmt></AmtDtls><Chrgs><Rcrd><Amt Ccy="EUR">5.00</Amt>
<CdtDbtInd>DBIT</CdtDbtInd><ChrgInclInd>1</ChrgInclInd></Rcrd></Chrgs><RltdPties><Dbtr>
<Nm>Alpha BV</Nm></Dbtr><DbtrAcct><Id><IBAN>NL91ABNA0417164300</IBAN></Id></DbtrAcct>
</RltdPties><RmtInf><Strd><RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp>
<Nb>INV-1</Nb></RfrdDocInf></Strd></RmtInf></TxDtls>
<TxDtls><Refs><EndToEndId>E2E-2</EndToEndId></Refs><AmtDtls><TxAmt>
<Amt Ccy="EUR">100.00</Amt></TxAmt></AmtDtls><Chrgs><Rcrd><Amt Ccy="EUR">5.00</Amt>
<CdtDbtInd>DBIT</CdtDbtInd><ChrgInclInd>1</ChrgInclInd></Rcrd></Chrgs><RltdPties><Dbtr>
<Nm>Beta BV</Nm></Dbtr><DbtrAcct><Id><IBAN>NL91ABNA0417164300</IBAN></Id></DbtrAcct>
</RltdPties><RmtInf><Strd><RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp>
<Nb>INV-2</Nb></RfrdDocInf></Strd></RmtInf></TxDtls>
</NtryDtls></Ntry>
</Stmt></BkToCstmrStmt></Document>
"""

_NOTIFICATION_SOME = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02">
<BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>054-MSG-1</MsgId>
<CreDtTm>2024-03-07T18:00:00</CreDtTm></GrpHdr>
<Ntfctn><Id>054-REP-1</Id><CreDtTm>2024-03-07T18:00:00</CreDtTm>
<Acct><Id><IBAN>NL77ABNA0574908765</IBAN></Id><Ccy>EUR</Ccy></Acct>
<Ntry><AcctSvcrRef>2024030700123</AcctSvcrRef><Amt Ccy="EUR">1500.00</Amt>
<CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2024-03-07</Dt></BookgDt><ValDt>
<Dt>2024-03-07</Dt></ValDt><BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd>
<SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
<NtryDtls><Btch><NbOfTxs>3</NbOfTxs></Btch>
<TxDtls><Refs><EndToEndId>E2E-1</EndToEndId></Refs><RltdPties><Dbtr><Nm>Alpha BV</Nm></Dbtr>
<DbtrAcct><Id><IBAN>NL91ABNA0417164300</IBAN></Id></DbtrAcct></RltdPties><RmtInf><Strd>
<RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp><Nb>INV-1</Nb></RfrdDocInf></Strd>
</RmtInf></TxDtls>
<TxDtls><Refs><EndToEndId>E2E-2</EndToEndId></Refs><AmtDtls><TxAmt>
<Amt Ccy="EUR">400.00</Amt></TxAmt></AmtDtls><RltdPties><Dbtr><Nm>Beta BV</Nm></Dbtr>
<DbtrAcct><Id><IBAN>NL91ABNA0417164300</IBAN></Id></DbtrAcct></RltdPties><RmtInf><Strd>
<RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp><Nb>INV-2</Nb></RfrdDocInf></Strd>
</RmtInf></TxDtls>
<TxDtls><Refs><EndToEndId>E2E-3</EndToEndId></Refs><RltdPties><Dbtr><Nm>Gamma BV</Nm></Dbtr>
<DbtrAcct><Id><IBAN>NL91ABNA0417164300</IBAN></Id></DbtrAcct></RltdPties><RmtInf><Strd>
<RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp><Nb>INV-3</Nb></RfrdDocInf></Strd>
</RmtInf></TxDtls>
</NtryDtls></Ntry>
</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>
"""

_NOTIFICATION_NONE = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02">
<BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>054-MSG-1</MsgId>
<CreDtTm>2024-03-07T18:00:00</CreDtTm></GrpHdr>
<Ntfctn><Id>054-REP-1</Id><CreDtTm>2024-03-07T18:00:00</CreDtTm>
<Acct><Id><IBAN>NL77ABNA0574908765</IBAN></Id><Ccy>EUR</Ccy></Acct>
<Ntry><AcctSvcrRef>2024030700123</AcctSvcrRef><Amt Ccy="EUR">1500.00</Amt>
<CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2024-03-07</Dt></BookgDt><ValDt>
<Dt>2024-03-07</Dt></ValDt><BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd>
<SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
<NtryDtls><Btch><NbOfTxs>3</NbOfTxs></Btch>
<TxDtls><Refs><EndToEndId>E2E-1</EndToEndId></Refs><RltdPties><Dbtr><Nm>Alpha BV</Nm></Dbtr>
<DbtrAcct><Id><IBAN>NL91ABNA0417164300</IBAN></Id></DbtrAcct></RltdPties><RmtInf><Strd>
<RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp><Nb>INV-1</Nb></RfrdDocInf></Strd>
</RmtInf></TxDtls>
<TxDtls><Refs><EndToEndId>E2E-2</EndToEndId></Refs><RltdPties><Dbtr><Nm>Beta BV</Nm></Dbtr>
<DbtrAcct><Id><IBAN>NL91ABNA0417164300</IBAN></Id></DbtrAcct></RltdPties><RmtInf><Strd>
<RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp><Nb>INV-2</Nb></RfrdDocInf></Strd>
</RmtInf></TxDtls>
<TxDtls><Refs><EndToEndId>E2E-3</EndToEndId></Refs><RltdPties><Dbtr><Nm>Gamma BV</Nm></Dbtr>
<DbtrAcct><Id><IBAN>NL91ABNA0417164300</IBAN></Id></DbtrAcct></RltdPties><RmtInf><Strd>
<RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp><Nb>INV-3</Nb></RfrdDocInf></Strd>
</RmtInf></TxDtls>
</NtryDtls></Ntry>
</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>
"""

_STATEMENT_FULL = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
<BkToCstmrStmt><GrpHdr><MsgId>053-MSG-1</MsgId><CreDtTm>2024-03-07T18:00:00</CreDtTm>
</GrpHdr>
<Stmt><Id>053-REP-1</Id><CreDtTm>2024-03-07T18:00:00</CreDtTm>
<Acct><Id><IBAN>NL77ABNA0574908765</IBAN></Id><Ccy>EUR</Ccy></Acct>
<Ntry><AcctSvcrRef>2024030700123</AcctSvcrRef><Amt Ccy="EUR">1500.00</Amt>
<CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2024-03-07</Dt></BookgDt><ValDt>
<Dt>2024-03-07</Dt></ValDt><BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd>
<SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
<NtryDtls><Btch><NbOfTxs>3</NbOfTxs></Btch>
<TxDtls><Refs><EndToEndId>E2E-1</EndToEndId></Refs><AmtDtls><TxAmt>
<Amt Ccy="EUR">500.00</Amt></TxAmt></AmtDtls><RltdPties><Dbtr><Nm>Alpha BV</Nm></Dbtr>
<DbtrAcct><Id><IBAN>NL91ABNA0417164300</IBAN></Id></DbtrAcct></RltdPties><RmtInf><Strd>
<RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp><Nb>INV-1</Nb></RfrdDocInf></Strd>
</RmtInf></TxDtls>
<TxDtls><Refs><EndToEndId>E2E-2</EndToEndId></Refs><AmtDtls><TxAmt>
<Amt Ccy="EUR">400.00</Amt></TxAmt></AmtDtls><RltdPties><Dbtr><Nm>Beta BV</Nm></Dbtr>
<DbtrAcct><Id><IBAN>NL91ABNA0417164300</IBAN></Id></DbtrAcct></RltdPties><RmtInf><Strd>
<RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp><Nb>INV-2</Nb></RfrdDocInf></Strd>
</RmtInf></TxDtls>
<TxDtls><Refs><EndToEndId>E2E-3</EndToEndId></Refs><AmtDtls><TxAmt>
<Amt Ccy="EUR">600.00</Amt></TxAmt></AmtDtls><RltdPties><Dbtr><Nm>Gamma BV</Nm></Dbtr>
<DbtrAcct><Id><IBAN>NL91ABNA0417164300</IBAN></Id></DbtrAcct></RltdPties><RmtInf><Strd>
<RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp><Nb>INV-3</Nb></RfrdDocInf></Strd>
</RmtInf></TxDtls>
</NtryDtls></Ntry>
</Stmt></BkToCstmrStmt></Document>
"""

_BATCH_ONE_E2E = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
<BkToCstmrStmt><GrpHdr><MsgId>053-MSG-1</MsgId><CreDtTm>2024-03-07T18:00:00</CreDtTm>
</GrpHdr>
<Stmt><Id>053-REP-1</Id><CreDtTm>2024-03-07T18:00:00</CreDtTm>
<Acct><Id><IBAN>NL77ABNA0574908765</IBAN></Id><Ccy>EUR</Ccy></Acct>
<Ntry><AcctSvcrRef>2024030700123</AcctSvcrRef><Amt Ccy="EUR">1500.00</Amt>
<CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2024-03-07</Dt></BookgDt><ValDt>
<Dt>2024-03-07</Dt></ValDt><BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd>
<SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
<NtryDtls><Btch><NbOfTxs>3</NbOfTxs></Btch>
<TxDtls><Refs><EndToEndId>E2E-1</EndToEndId></Refs><RltdPties><Dbtr><Nm>Alpha BV</Nm></Dbtr>
<DbtrAcct><Id><IBAN>NL91ABNA0417164300</IBAN></Id></DbtrAcct></RltdPties><RmtInf><Strd>
<RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp><Nb>INV-1</Nb></RfrdDocInf></Strd>
</RmtInf></TxDtls>
<TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs><RltdPties><Dbtr><Nm>Beta BV</Nm>
</Dbtr><DbtrAcct><Id><IBAN>NL20INGB0001234567</IBAN></Id></DbtrAcct></RltdPties><RmtInf>
<Strd><RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp><Nb>INV-2</Nb></RfrdDocInf>
</Strd></RmtInf></TxDtls>
<TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs><RltdPties><Dbtr><Nm>Gamma BV</Nm>
</Dbtr><DbtrAcct><Id><IBAN>NL02RABO0123456789</IBAN></Id></DbtrAcct></RltdPties><RmtInf>
<Strd><RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp><Nb>INV-3</Nb></RfrdDocInf>
</Strd></RmtInf></TxDtls>
</NtryDtls></Ntry>
</Stmt></BkToCstmrStmt></Document>
"""

_RETURN_OF_E2E_1 = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
<BkToCstmrStmt><GrpHdr><MsgId>053-MSG-1</MsgId><CreDtTm>2024-03-07T18:00:00</CreDtTm>
</GrpHdr>
<Stmt><Id>053-REP-1</Id><CreDtTm>2024-03-07T18:00:00</CreDtTm>
<Acct><Id><IBAN>NL77ABNA0574908765</IBAN></Id><Ccy>EUR</Ccy></Acct>
<Ntry><AcctSvcrRef>2024030800999</AcctSvcrRef><Amt Ccy="EUR">500.00</Amt>
<CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2024-03-08</Dt></BookgDt><ValDt>
<Dt>2024-03-08</Dt></ValDt><BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd>
<SubFmlyCd>RRTN</SubFmlyCd></Fmly></Domn></BkTxCd>
<NtryDtls><Btch><NbOfTxs>1</NbOfTxs></Btch>
<TxDtls><Refs><EndToEndId>E2E-1</EndToEndId></Refs><RltdPties><Dbtr><Nm>Alpha BV</Nm></Dbtr>
<DbtrAcct><Id><IBAN>NL91ABNA0417164300</IBAN></Id></DbtrAcct></RltdPties><RmtInf><Strd>
<RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp><Nb>INV-1</Nb></RfrdDocInf></Strd>
</RmtInf><RtrInf><Rsn><Cd>AC04</Cd></Rsn></RtrInf></TxDtls>
</NtryDtls></Ntry>
</Stmt></BkToCstmrStmt></Document>
"""

_OWN_ACCOUNT_IN_BATCH = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
<BkToCstmrStmt><GrpHdr><MsgId>053-MSG-1</MsgId><CreDtTm>2024-03-07T18:00:00</CreDtTm>
</GrpHdr>
<Stmt><Id>053-REP-1</Id><CreDtTm>2024-03-07T18:00:00</CreDtTm>
<Acct><Id><IBAN>NL77ABNA0574908765</IBAN></Id><Ccy>EUR</Ccy></Acct>
<Ntry><AcctSvcrRef>2024030700123</AcctSvcrRef><Amt Ccy="EUR">2500.00</Amt>
<CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2024-03-07</Dt></BookgDt><ValDt>
<Dt>2024-03-07</Dt></ValDt><BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd>
<SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
<NtryDtls><Btch><NbOfTxs>2</NbOfTxs></Btch>
<TxDtls><Refs><EndToEndId>E2E-1</EndToEndId></Refs><RltdPties><Dbtr><Nm>Alpha BV</Nm></Dbtr>
<DbtrAcct><Id><IBAN>NL91ABNA0417164300</IBAN></Id></DbtrAcct></RltdPties><RmtInf><Strd>
<RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp><Nb>INV-1</Nb></RfrdDocInf></Strd>
</RmtInf></TxDtls>
<TxDtls><Refs><EndToEndId>SWEEP-1</EndToEndId></Refs><RltdPties><Dbtr>
<Nm>Our Company BV</Nm></Dbtr><DbtrAcct><Id><IBAN>NL77ABNA0574908765</IBAN></Id></DbtrAcct>
</RltdPties><RmtInf><Strd><RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp>
<Nb>X</Nb></RfrdDocInf></Strd></RmtInf></TxDtls>
</NtryDtls></Ntry>
</Stmt></BkToCstmrStmt></Document>
"""

_INTEREST_IN_BATCH = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
<BkToCstmrStmt><GrpHdr><MsgId>053-MSG-1</MsgId><CreDtTm>2024-03-07T18:00:00</CreDtTm>
</GrpHdr>
<Stmt><Id>053-REP-1</Id><CreDtTm>2024-03-07T18:00:00</CreDtTm>
<Acct><Id><IBAN>NL77ABNA0574908765</IBAN></Id><Ccy>EUR</Ccy></Acct>
<Ntry><AcctSvcrRef>2024030700123</AcctSvcrRef><Amt Ccy="EUR">1012.34</Amt>
<CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2024-03-07</Dt></BookgDt><ValDt>
<Dt>2024-03-07</Dt></ValDt><BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd>
<SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
<NtryDtls><Btch><NbOfTxs>2</NbOfTxs></Btch>
<TxDtls><Refs><EndToEndId>E2E-1</EndToEndId></Refs><RltdPties><Dbtr><Nm>Alpha BV</Nm></Dbtr>
<DbtrAcct><Id><IBAN>NL91ABNA0417164300</IBAN></Id></DbtrAcct></RltdPties><RmtInf><Strd>
<RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp><Nb>INV-1</Nb></RfrdDocInf></Strd>
</RmtInf></TxDtls>
<TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs><BkTxCd><Domn><Cd>ACMT</Cd><Fmly>
<Cd>MCOP</Cd><SubFmlyCd>INTR</SubFmlyCd></Fmly></Domn></BkTxCd><RltdPties><Dbtr>
<Nm>Bank</Nm></Dbtr></RltdPties><RmtInf><Strd><RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd>
</CdOrPrtry></Tp><Nb>X</Nb></RfrdDocInf></Strd></RmtInf></TxDtls>
</NtryDtls></Ntry>
</Stmt></BkToCstmrStmt></Document>
"""

_SOME_STATED_ONE_OWN = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
<BkToCstmrStmt><GrpHdr><MsgId>053-MSG-1</MsgId><CreDtTm>2024-03-07T18:00:00</CreDtTm>
</GrpHdr>
<Stmt><Id>053-REP-1</Id><CreDtTm>2024-03-07T18:00:00</CreDtTm>
<Acct><Id><IBAN>NL77ABNA0574908765</IBAN></Id><Ccy>EUR</Ccy></Acct>
<Ntry><AcctSvcrRef>2024030700123</AcctSvcrRef><Amt Ccy="EUR">1500.00</Amt>
<CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2024-03-07</Dt></BookgDt><ValDt>
<Dt>2024-03-07</Dt></ValDt><BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd>
<SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
<NtryDtls><Btch><NbOfTxs>3</NbOfTxs></Btch>
<TxDtls><Refs><EndToEndId>E2E-1</EndToEndId></Refs><AmtDtls><TxAmt>
<Amt Ccy="EUR">400.00</Amt></TxAmt></AmtDtls><RltdPties><Dbtr><Nm>Alpha BV</Nm></Dbtr>
<DbtrAcct><Id><IBAN>NL91ABNA0417164300</IBAN></Id></DbtrAcct></RltdPties><RmtInf><Strd>
<RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp><Nb>INV-1</Nb></RfrdDocInf></Strd>
</RmtInf></TxDtls>
<TxDtls><Refs><EndToEndId>SWEEP-1</EndToEndId></Refs><RltdPties><Dbtr>
<Nm>Our Company BV</Nm></Dbtr><DbtrAcct><Id><IBAN>NL77ABNA0574908765</IBAN></Id></DbtrAcct>
</RltdPties><RmtInf><Strd><RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp>
<Nb>X</Nb></RfrdDocInf></Strd></RmtInf></TxDtls>
<TxDtls><Refs><EndToEndId>E2E-3</EndToEndId></Refs><RltdPties><Dbtr><Nm>Gamma BV</Nm></Dbtr>
<DbtrAcct><Id><IBAN>NL91ABNA0417164300</IBAN></Id></DbtrAcct></RltdPties><RmtInf><Strd>
<RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp><Nb>INV-3</Nb></RfrdDocInf></Strd>
</RmtInf></TxDtls>
</NtryDtls></Ntry>
</Stmt></BkToCstmrStmt></Document>
"""

_NOTIFICATION_PLAIN_DATE = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02">
  <BkToCstmrDbtCdtNtfctn>
    <GrpHdr><MsgId>MSG-1</MsgId><CreDtTm>2024-01-02T06:00:00+01:00</CreDtTm></GrpHdr>
    <Ntfctn>
      <Id>NTF-1</Id>
      <CreDtTm>2024-01-02T06:00:00+01:00</CreDtTm>
      <Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>
      <Ntry>
        <Amt Ccy="EUR">1500.00</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts>BOOK</Sts>
        <BookgDt><Dt>2024-01-01</Dt></BookgDt>
        <ValDt><Dt>2024-01-01</Dt></ValDt>
        <AcctSvcrRef>2520494</AcctSvcrRef>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly>
</Domn></BkTxCd>
        <NtryDtls><TxDtls>
          <Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
          <RltdPties><Dbtr><Nm>Kunde AG</Nm></Dbtr>
            <DbtrAcct><Id><IBAN>AT026000000001349870</IBAN></Id></DbtrAcct></RltdPties>
          <RmtInf><Ustrd>RECHNUNG 2024-0415</Ustrd></RmtInf>
        </TxDtls></NtryDtls>
      </Ntry>
    </Ntfctn>
  </BkToCstmrDbtCdtNtfctn>
</Document>
"""

_STATEMENT_ZONED_DATE = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>MSG-1</MsgId><CreDtTm>2024-01-02T06:00:00+01:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>STMT-2024-001</Id>
      <CreDtTm>2024-01-02T06:00:00+01:00</CreDtTm>
      <Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>
      <Ntry>
        <Amt Ccy="EUR">1500.00</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts>BOOK</Sts>
        <BookgDt><Dt>2024-01-01+01:00</Dt></BookgDt>
        <ValDt><Dt>2024-01-01+01:00</Dt></ValDt>
        <AcctSvcrRef>2520494</AcctSvcrRef>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly>
</Domn></BkTxCd>
        <NtryDtls><TxDtls>
          <Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
          <RltdPties><Dbtr><Nm>Kunde AG</Nm></Dbtr>
            <DbtrAcct><Id><IBAN>AT026000000001349870</IBAN></Id></DbtrAcct></RltdPties>
          <RmtInf><Ustrd>RECHNUNG 2024-0415</Ustrd></RmtInf>
        </TxDtls></NtryDtls>
      </Ntry>
    </Stmt>
  </BkToCstmrStmt>
</Document>
"""

_REPORT_DATE_TIME = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.052.001.02">
  <BkToCstmrAcctRpt>
    <GrpHdr><MsgId>MSG-1</MsgId><CreDtTm>2024-01-02T06:00:00+01:00</CreDtTm></GrpHdr>
    <Rpt>
      <Id>RPT-1</Id>
      <CreDtTm>2024-01-02T06:00:00+01:00</CreDtTm>
      <Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>
      <Ntry>
        <Amt Ccy="EUR">1500.00</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts>BOOK</Sts>
        <BookgDt><DtTm>2024-01-01T10:12:00+01:00</DtTm></BookgDt>
        <ValDt><Dt>2024-01-01+01:00</Dt></ValDt>
        <AcctSvcrRef>2520494</AcctSvcrRef>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly>
</Domn></BkTxCd>
        <NtryDtls><TxDtls>
          <Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
          <RltdPties><Dbtr><Nm>Kunde AG</Nm></Dbtr>
            <DbtrAcct><Id><IBAN>AT026000000001349870</IBAN></Id></DbtrAcct></RltdPties>
          <RmtInf><Ustrd>RECHNUNG 2024-0415</Ustrd></RmtInf>
        </TxDtls></NtryDtls>
      </Ntry>
    </Rpt>
  </BkToCstmrAcctRpt>
</Document>
"""

_STATEMENT_ZONED_BOOKING = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>MSG-1</MsgId><CreDtTm>2024-01-02T06:00:00+01:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>STMT-2024-001</Id>
      <CreDtTm>2024-01-02T06:00:00+01:00</CreDtTm>
      <Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>
      <Ntry>
        <Amt Ccy="EUR">1500.00</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts>BOOK</Sts>
        <BookgDt><Dt>2024-01-01+01:00</Dt></BookgDt>
        <ValDt><Dt>2024-01-01</Dt></ValDt>
        <AcctSvcrRef>2520495</AcctSvcrRef>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly>
</Domn></BkTxCd>
        <NtryDtls><TxDtls>
          <Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
          <RltdPties><Dbtr><Nm>Kunde AG</Nm></Dbtr>
            <DbtrAcct><Id><IBAN>AT026000000001349870</IBAN></Id></DbtrAcct></RltdPties>
          <RmtInf><Ustrd>RECHNUNG 2024-0415</Ustrd></RmtInf>
        </TxDtls></NtryDtls>
      </Ntry>
    </Stmt>
  </BkToCstmrStmt>
</Document>
"""


def _remittances(store: Store) -> list[Remittance]:
    with store.session() as s:
        return list(s.exec(select(Remittance)).all())


def _stored_before(store: Store, text: str, keys: list[str], minor: list[int]) -> None:
    """The file's records as an earlier version stored them: under its keys and amounts."""
    records = parse_bank_bytes(text.encode(), "before.xml").records
    with store.session() as s:
        for record, key, amount in zip(records, keys, minor, strict=True):
            row = remittance_from_raw(record)
            row.source_key, row.amount_minor = key, amount
            s.add(row)


def _ingest(store: Store, tmp_path: Path, name: str, text: str) -> tuple[int, int, int]:
    path = tmp_path / name
    path.write_text(text)
    [outcome] = ingest_files(store, [path]).files
    return outcome.new, outcome.duplicate, outcome.rejected


def _path_in_entry(location: str) -> str:
    """``/NtryDtls[1]/TxDtls[2]`` of ``.../Ntry[1]/NtryDtls[1]/TxDtls[2] (line 9)``."""
    return location.split("/Ntry[1]", 1)[1].split(" (line", 1)[0]


def _keys(record: RawRemittance) -> set[str]:
    return {record.dedup_key, *record.also_known_as}


# --- a batch stating amounts is read as before ----------------------------------------------

_BEFORE_GROSS_ZERO_FIRST = [
    "camt:4941ad15d31cf54c108acdf14788c3e57e2d52c850b58f9d",
    "camt:41656894db7bb3a39d7a3485a13193e01f4030f55efa025c",
]


def test_a_gross_batch_listing_a_zero_item_keeps_each_payment_and_key(
    sqlite_store: Store, tmp_path: Path
) -> None:
    """Stated 200.00 before 10.00 charges of a 190.00 entry: the 0.00 item made the whole
    entry one remittance under another key, and a re-import stored 190 twice."""
    result = parse_bank_bytes(_GROSS_ZERO_FIRST.encode(), "gross.xml")
    assert (result.errors, result.warnings) == ([], [])
    assert [(r.amount, r.end_to_end_id) for r in result.records] == [
        (Decimal("95.00"), "E2E-1"),
        (Decimal("95.00"), "E2E-2"),
    ]
    assert [r.dedup_key for r in result.records] == _BEFORE_GROSS_ZERO_FIRST
    _stored_before(sqlite_store, _GROSS_ZERO_FIRST, _BEFORE_GROSS_ZERO_FIRST, [9500, 9500])
    assert _ingest(sqlite_store, tmp_path, "gross.xml", _GROSS_ZERO_FIRST) == (0, 2, 0)
    assert sum(r.amount_minor for r in _remittances(sqlite_store)) == 19000


def test_amountless_transactions_beside_a_stated_one_stay_errors() -> None:
    """Stated 400.00 of a 1500.00 batch; the two stating none (the first a sweep from our
    own account) are errors naming them, as before: no remainder is made up."""
    result = parse_bank_bytes(_SOME_STATED_ONE_OWN.encode(), "batch.xml")
    assert [(r.amount, r.end_to_end_id) for r in result.records] == [(Decimal("400.00"), "E2E-1")]
    assert [_path_in_entry(e.location) for e in result.errors] == [
        "/NtryDtls[1]/TxDtls[2]",
        "/NtryDtls[1]/TxDtls[3]",
    ]
    assert all("no amount" in e.reason for e in result.errors)
    assert result.warnings == []


def test_a_notification_stating_some_amounts_then_the_statement_stores_the_batch_once(
    sqlite_store: Store, tmp_path: Path
) -> None:
    """The camt.054 states 400.00 of three; the camt.053 then lists 500 + 400 + 600: 1500
    stored, not 2100 (the two silent ones were one remittance of 1100 the statement's
    transactions did not replace)."""
    assert _ingest(sqlite_store, tmp_path, "n.xml", _NOTIFICATION_SOME) == (1, 0, 2)
    assert _ingest(sqlite_store, tmp_path, "s.xml", _STATEMENT_FULL) == (2, 1, 0)
    stored = sorted(r.amount_minor for r in _remittances(sqlite_store))
    assert stored == [40000, 50000, 60000]


@pytest.mark.parametrize("order", ["notification first", "statement first"])
def test_a_notification_stating_no_amounts_and_the_statement_store_the_batch_once(
    sqlite_store: Store, tmp_path: Path, order: str
) -> None:
    files = [("n.xml", _NOTIFICATION_NONE), ("s.xml", _STATEMENT_FULL)]
    for name, text in files if order == "notification first" else files[::-1]:
        _ingest(sqlite_store, tmp_path, name, text)
    stored = sorted(r.amount_minor for r in _remittances(sqlite_store))
    assert stored == [40000, 50000, 60000]


# --- a batch listed without amounts ---------------------------------------------------------


def test_the_batch_has_an_end_to_end_id_only_where_every_transaction_states_it(
    sqlite_store: Store, tmp_path: Path
) -> None:
    """Only Alpha's bank passed E2E-1 on: the batch took it, and Alpha's 500.00 return then
    named the whole 1500.00 batch as the payment it takes back."""
    (batch,) = parse_bank_bytes(_BATCH_ONE_E2E.encode(), "batch.xml").records
    assert (batch.amount, batch.end_to_end_id) == (Decimal("1500.00"), None)
    assert "E2E-1" in (batch.free_text or "")
    _ingest(sqlite_store, tmp_path, "batch.xml", _BATCH_ONE_E2E)
    _ingest(sqlite_store, tmp_path, "return.xml", _RETURN_OF_E2E_1)
    named = [r for r in _remittances(sqlite_store) if r.end_to_end_id == "E2E-1"]
    assert [(r.amount_minor, r.reverses) for r in named] == [(-50000, "E2E-1")]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("_OWN_ACCOUNT_IN_BATCH", id="sweep from our own account"),
        pytest.param("_INTEREST_IN_BATCH", id="interest by its transaction code"),
    ],
)
def test_a_batch_with_a_transaction_that_is_no_customer_paying_is_not_merged(text: str) -> None:
    """Its cash is not the customer's: each transaction stands alone (errors naming them, as
    before), never 2500.00 on Alpha's invoice."""
    result = parse_bank_bytes(globals()[text].encode(), "batch.xml")
    assert result.records == []
    assert [_path_in_entry(e.location) for e in result.errors] == [
        "/NtryDtls[1]/TxDtls[1]",
        "/NtryDtls[1]/TxDtls[2]",
    ]


def test_a_batch_that_gives_no_remittance_is_an_error_naming_the_entry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Where a transaction of the merged batch reads as no remittance, the booked cash is
    an error naming the entry, never dropped unsaid."""
    read = camt_module._remittance

    def none_for_a_transaction(*args: object, **kwargs: object) -> RawRemittance | None:
        return None if len(args) > 8 else read(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(camt_module, "_remittance", none_for_a_transaction)
    result = parse_bank_bytes(_NOTIFICATION_NONE.encode(), "batch.xml")
    assert result.records == []
    (error,) = result.errors
    assert error.location.endswith("/Ntfctn[1]/Ntry[1] (line 7)")
    assert "3 transactions state no amount" in error.reason


# --- charges included written 1 -------------------------------------------------------------

_BEFORE_CHARGES_1 = {
    "NONREF": [
        "camt.053:2410aeb5a27523435a883705cf9c6f85882f7db866e5d2e1",
        "camt.053:666cea8836697e1c36907edf1ac0e5bce06f71b9e35ab16f",
    ],
    "unnamed": [
        "camt.053:55727c678e6467d546a9a24cd2a8cdf25726a66e267b311a",
        "camt.053:a2b842c99717d3807d6d36f79daccc02b11a769917d1c005",
    ],
    "camt.052 NONREF": [
        "camt-day:6ab182dd865495ef30388b54074b91a083e9884af18b35a2",
        "camt-day:7dbe696dd3e3492e628752325fd4aa1a1810f2b417c2bd41",
    ],
    "named, zoned booking date": [
        "camt:c6d7269330260f4151fd40ae466376453fa97f78d1c231a2",
        "camt:d8039d3f1091a513c1255e5c56aa287c820f843dd31ae9f3",
    ],
}


def _charges_1(shape: str) -> str:
    if shape == "unnamed":
        return _CHARGES_1_NONREF.replace("<AcctSvcrRef>NONREF</AcctSvcrRef>", "")
    if shape == "camt.052 NONREF":
        return (
            _CHARGES_1_NONREF.replace("camt.053.001.02", "camt.052.001.02")
            .replace("BkToCstmrStmt", "BkToCstmrAcctRpt")
            .replace("<Stmt>", "<Rpt>")
            .replace("</Stmt>", "</Rpt>")
        )
    if shape == "named, zoned booking date":
        return _CHARGES_1_NONREF.replace("NONREF", "2024030700123").replace(
            "<BookgDt><Dt>2024-03-07</Dt>", "<BookgDt><Dt>2024-03-07+01:00</Dt>"
        )
    return _CHARGES_1_NONREF


@pytest.mark.parametrize("shape", list(_BEFORE_CHARGES_1))
def test_charges_included_written_1_keep_the_key_of_the_amount_before_them(
    sqlite_store: Store, tmp_path: Path, shape: str
) -> None:
    """100.00 less 5.00 charges each of a 190.00 entry: 95.00 now; earlier versions read
    the ``1`` as false and stored 100.00 under a key of that amount. Read again, the file
    stores nothing (it stored 95.00 twice more: 390 for 190)."""
    text = _charges_1(shape)
    result = parse_bank_bytes(text.encode(), "charges.xml")
    assert [r.amount for r in result.records] == [Decimal("95.00"), Decimal("95.00")]
    before = _BEFORE_CHARGES_1[shape]
    assert [key in _keys(r) for r, key in zip(result.records, before, strict=True)] == [True] * 2
    _stored_before(sqlite_store, text, before, [10000, 10000])
    assert _ingest(sqlite_store, tmp_path, "charges.xml", text) == (0, 2, 0)
    assert sorted(r.amount_minor for r in _remittances(sqlite_store)) == [10000, 10000]


# --- the booking date with a time zone ------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "then"),
    [
        pytest.param(
            "_NOTIFICATION_PLAIN_DATE", "_STATEMENT_ZONED_DATE", id="054 plain, 053 zoned"
        ),
        pytest.param(
            "_STATEMENT_ZONED_DATE", "_NOTIFICATION_PLAIN_DATE", id="053 zoned, 054 plain"
        ),
        pytest.param("_REPORT_DATE_TIME", "_STATEMENT_ZONED_DATE", id="052 DtTm, 053 zoned"),
    ],
)
def test_an_entry_dated_with_and_without_a_time_zone_is_stored_once(
    sqlite_store: Store, tmp_path: Path, first: str, then: str
) -> None:
    assert _ingest(sqlite_store, tmp_path, "first.xml", globals()[first]) == (1, 0, 0)
    assert _ingest(sqlite_store, tmp_path, "then.xml", globals()[then]) == (0, 1, 0)
    assert [r.amount_minor for r in _remittances(sqlite_store)] == [150000]


@pytest.mark.parametrize(
    ("text", "before"),
    [
        # 9f99c8c^ read a zoned booking date beside a plain value date, keyed as written
        ("_STATEMENT_ZONED_BOOKING", "camt:ac324c16ea35079633d6f1d3d660eee8754e40fb58680221"),
        # a1c2215 keyed a zoned date as written
        ("_STATEMENT_ZONED_DATE", "camt:5136e6b6f1ea0f3406fbea1202f11b196ec7123899ce85a2"),
    ],
)
def test_an_entry_stored_under_its_zoned_date_as_written_is_not_stored_again(
    sqlite_store: Store, tmp_path: Path, text: str, before: str
) -> None:
    (record,) = parse_bank_bytes(globals()[text].encode(), "zoned.xml").records
    assert before in record.also_known_as
    _stored_before(sqlite_store, globals()[text], [before], [150000])
    assert _ingest(sqlite_store, tmp_path, "zoned.xml", globals()[text]) == (0, 1, 0)
    assert [r.amount_minor for r in _remittances(sqlite_store)] == [150000]
