"""A payer paying for another party (camt's ultimate debtor, SEPA ABWA+): a shared-service
centre or a parent pays, the customer is the party it names. The party's name identifies the
customer; the payer's IBAN and name are learned as naming no one."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from canonical.models import PayerAlias, Remittance
from canonical.money import Money
from canonical.store import Store
from connectors.bankfiles import parse_bank_bytes
from mappings.bankfiles.remittance import remittance_from_raw
from reconciler import reconcile
from tests.support.receivables import Book, applied, decision

SSC_IBAN = "DE89370400440532013000"


def pay_for(store: Store, key: str, amount: str, ultimate: str | None, text: str = "") -> str:
    with store.session() as s:
        r = Remittance(
            source="camt.053",
            source_key=key,
            currency="EUR",
            amount_minor=Money(amount, "EUR").minor,
            payer_name="Konzern Shared Services GmbH",
            payer_iban=SSC_IBAN,
            ultimate_payer_name=ultimate,
            free_text=text or None,
        )
        s.add(r)
    return r.id


def aliases(store: Store) -> dict[tuple[str, str], str]:
    with store.session() as s:
        return {(a.kind, a.value): a.customer_id for a in s.execute(select(PayerAlias)).scalars()}


def test_the_party_paid_for_is_the_customer(store: Store, book: Book) -> None:
    north = book.customer("Nordwerk Maschinenbau GmbH")
    book.customer("Suedwerk Anlagen AG")
    book.invoice(north, "RE-7001", "1250.00", currency="EUR")
    paid = pay_for(store, "k1", "1250.00", "Nordwerk Maschinenbau GmbH")  # no reference
    reconcile(store)
    d = decision(store, paid)
    assert d.status == "auto_applied", d.evidence
    assert d.customer_id == north
    assert d.evidence["customer_from"].startswith("ultimate payer's")
    assert d.evidence["ultimate_payer_name"] == "Nordwerk Maschinenbau GmbH"
    assert applied(store, paid) == {"RE-7001": "1250.00"}


def test_the_payer_that_paid_for_another_names_no_one_and_the_party_is_learned(
    store: Store, book: Book
) -> None:
    north = book.customer("Nordwerk Maschinenbau GmbH")
    south = book.customer("Suedwerk Anlagen AG")
    book.invoice(north, "RE-7001", "1250.00", currency="EUR")
    book.invoice(south, "RE-7002", "1250.00", currency="EUR")
    first = pay_for(store, "k1", "1250.00", "Nordwerk Maschinenbau GmbH", "RE-7001")
    reconcile(store)
    assert applied(store, first) == {"RE-7001": "1250.00"}
    learned = aliases(store)
    assert learned[("iban", SSC_IBAN)] == ""  # shared: it pays for several customers
    assert learned[("name", "NORDWERK MASCHINENBAU")] == north
    assert ("name", "KONZERN SHARED SERVICES") in learned
    assert learned[("name", "KONZERN SHARED SERVICES")] == ""
    # the same centre pays the same amount for the other customer: its IBAN does not send
    # the cash to the first one's open items
    second = pay_for(store, "k2", "1250.00", "Suedwerk Anlagen AG")
    reconcile(store)
    assert decision(store, second).customer_id == south
    assert applied(store, second) == {"RE-7002": "1250.00"}


def test_without_a_party_the_payer_stays_unidentified(store: Store, book: Book) -> None:
    north = book.customer("Nordwerk Maschinenbau GmbH")
    book.invoice(north, "RE-7101", "1250.00", currency="EUR")
    alone = pay_for(store, "k3", "1250.00", None)
    reconcile(store)
    assert decision(store, alone).status != "auto_applied"


CAMT = b"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
 <BkToCstmrStmt>
  <GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-12-01T08:00:00</CreDtTm></GrpHdr>
  <Stmt>
   <Id>S1</Id><CreDtTm>2026-12-01T08:00:00</CreDtTm>
   <Acct><Id><IBAN>DE02120300000000202051</IBAN></Id><Ccy>EUR</Ccy></Acct>
   <Ntry>
    <Amt Ccy="EUR">1250.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
    <BookgDt><Dt>2026-12-01</Dt></BookgDt><ValDt><Dt>2026-12-01</Dt></ValDt>
    <AcctSvcrRef>BANKREF-1</AcctSvcrRef>
    <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn>
    </BkTxCd>
    <NtryDtls><TxDtls>
     <Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
     <RltdPties>
      <Dbtr><Pty><Nm>Konzern Shared Services GmbH</Nm></Pty></Dbtr>
      <DbtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></DbtrAcct>
      <UltmtDbtr><Pty><Nm>Nordwerk Maschinenbau GmbH</Nm></Pty></UltmtDbtr>
     </RltdPties>
     <RmtInf><Ustrd>Zahlung Dezember</Ustrd></RmtInf>
    </TxDtls></NtryDtls>
   </Ntry>
  </Stmt>
 </BkToCstmrStmt>
</Document>
"""


def test_camt_carries_the_ultimate_debtor_into_the_store() -> None:
    [raw] = parse_bank_bytes(CAMT, "ssc.xml").records
    assert raw.payer_name == "Konzern Shared Services GmbH"
    assert raw.ultimate_payer_name == "Nordwerk Maschinenbau GmbH"
    stored = remittance_from_raw(raw)
    assert stored.ultimate_payer_name == "Nordwerk Maschinenbau GmbH"
    assert stored.payer_iban == SSC_IBAN


def test_a_shared_service_centre_in_a_bank_file_pays_the_party_it_names(
    store: Store, book: Book
) -> None:
    north = book.customer("Nordwerk Maschinenbau GmbH")
    book.customer("Konzern Holding AG")
    book.invoice(north, "RE-7201", "1250.00", currency="EUR")
    [raw] = parse_bank_bytes(CAMT, "ssc.xml").records
    with store.session() as s:
        s.add(remittance_from_raw(raw))
    reconcile(store)
    with store.session() as s:
        [rid] = s.execute(select(col(Remittance.id))).scalars().all()
    assert applied(store, rid) == {"RE-7201": "1250.00"}
