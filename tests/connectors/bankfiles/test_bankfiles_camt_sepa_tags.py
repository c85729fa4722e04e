"""camt.053 / camt.054 whose remittance text carries tags: the German SEPA
"Verwendungszweck" tags (EREF+, KREF+, MREF+, CRED+, SVWZ+, ABWA+, ABWE+) in ``Ustrd``
lines cut at 35 characters, and the Dutch banks' tagged text (/EREF/, /REMI/USTD//,
/REMI/STRD/CUR/, /ORDP//NAME/, /BENM//NAME/); and the debtor beside its ultimate debtor."""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise
from xml.sax.saxutils import escape

import pytest

from connectors.bankfiles import RefKind, parse_bank_bytes
from connectors.bankfiles.records import RawRemittance

_NS = "urn:iso:std:iso:20022:tech:xsd:{message}.001.{version}"
_CONTAINERS = {
    "camt.053": ("BkToCstmrStmt", "Stmt"),
    "camt.054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn"),
}


def _document(entries: str, message: str = "camt.053", version: str = "02") -> bytes:
    container, report = _CONTAINERS[message]
    status = "<Sts>BOOK</Sts>" if version == "02" else "<Sts><Cd>BOOK</Cd></Sts>"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="{_NS.format(message=message, version=version)}">
 <{container}><GrpHdr><MsgId>DE-2026-12-07</MsgId><CreDtTm>2026-12-08T03:10:00</CreDtTm></GrpHdr>
  <{report}><Id>DE-2026-12-07-1</Id>
   <Acct><Id><IBAN>DE02100100100006820101</IBAN></Id><Ccy>EUR</Ccy></Acct>
{entries.replace("{status}", status)}
  </{report}>
 </{container}>
</Document>
""".encode()


def _entry(tx: str, amount: str = "1190.00", ref: str = "2026120700101", extra: str = "") -> str:
    return f"""
   <Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd>{{status}}
    <BookgDt><Dt>2026-12-07</Dt></BookgDt><ValDt><Dt>2026-12-07</Dt></ValDt>
    <AcctSvcrRef>{ref}</AcctSvcrRef>
    <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn>
     <Prtry><Cd>NTRF+166+000</Cd><Issr>DK</Issr></Prtry></BkTxCd>
    {"<NtryDtls><TxDtls>" + tx + "</TxDtls></NtryDtls>" if tx else ""}
    {extra}
   </Ntry>"""


def _ustrd(*lines: str) -> str:
    return "<RmtInf>" + "".join(f"<Ustrd>{escape(line)}</Ustrd>" for line in lines) + "</RmtInf>"


def _lines(text: str, width: int = 35) -> list[str]:
    """``text`` cut into lines of ``width`` characters, as banks cut the 140 of a Ustrd."""
    return [text[i : i + width] for i in range(0, len(text), width)]


def _debtor(name: str = "Maschinenbau Kramer GmbH", iban: str = "DE75512108001245126199") -> str:
    return (
        f"<RltdPties><Dbtr><Nm>{escape(name)}</Nm></Dbtr>"
        f"<DbtrAcct><Id><IBAN>{iban}</IBAN></Id></DbtrAcct></RltdPties>"
    )


def _one(data: bytes) -> RawRemittance:
    result = parse_bank_bytes(data, "tags.xml")
    assert result.errors == []
    (record,) = result.records
    return record


# --- German SEPA tags ---------------------------------------------------------------------


@pytest.mark.parametrize(("message", "version"), [("camt.053", "02"), ("camt.053", "08")])
def test_sepa_tags_give_the_remittance_text_and_the_end_to_end_reference(
    message: str, version: str
) -> None:
    tagged = "EREF+ZV-2026-12-000417 KREF+K-77123 SVWZ+Rechnung RE-2026-0815 vom 28.11.2026"
    record = _one(_document(_entry(_debtor() + _ustrd(tagged)), message, version))
    assert record.free_text == "Rechnung RE-2026-0815 vom 28.11.2026 ZV-2026-12-000417"
    assert record.end_to_end_id == "ZV-2026-12-000417"
    assert record.payer_name == "Maschinenbau Kramer GmbH"


def test_sepa_tags_cut_into_35_character_lines_mid_word_are_read_whole() -> None:
    tagged = (
        "EREF+E2E20261207KRAMER00417 MREF+KRAMER-M-0042 CRED+DE98ZZZ09999999999 "
        "SVWZ+Rechnung RE-2026-0815 und RE-2026-0816 Kd-Nr 40233"
    )
    lines = _lines(tagged)
    assert any(line[-1].isalnum() and nxt[0].isalnum() for line, nxt in pairwise(lines))
    record = _one(_document(_entry(_debtor() + _ustrd(*lines)), "camt.053", "08"))
    assert (
        record.free_text
        == "Rechnung RE-2026-0815 und RE-2026-0816 Kd-Nr 40233 E2E20261207KRAMER00417"
    )
    assert record.end_to_end_id == "E2E20261207KRAMER00417"


def test_each_tag_on_its_own_line_is_not_glued_to_the_one_before() -> None:
    lines = ("EREF+RG4711", "MREF+M-42", "SVWZ+Rechnung 2026-0901")
    record = _one(_document(_entry(_debtor() + _ustrd(*lines))))
    assert (record.free_text, record.end_to_end_id) == ("Rechnung 2026-0901 RG4711", "RG4711")


def test_a_notprovided_eref_is_ignored() -> None:
    tx = "<Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>" + _debtor()
    tx += _ustrd("EREF+NOTPROVIDED SVWZ+RE 2026-1187 KD-NR 40233")
    record = _one(_document(_entry(tx)))
    assert record.end_to_end_id is None
    assert record.free_text == "RE 2026-1187 KD-NR 40233"


def test_the_eref_in_text_stands_in_for_a_placeholder_end_to_end_id() -> None:
    tx = "<Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>" + _debtor()
    tx += _ustrd("EREF+RE-2026-0815-A SVWZ+Rechnung RE-2026-0815")
    assert _one(_document(_entry(tx))).end_to_end_id == "RE-2026-0815-A"


def test_the_stated_end_to_end_id_wins_over_the_eref_in_text() -> None:
    tx = "<Refs><EndToEndId>PAYRUN-881-17</EndToEndId></Refs>" + _debtor()
    tx += _ustrd("EREF+PAYRUN-881-17 SVWZ+RE 2026-0815")
    record = _one(_document(_entry(tx), "camt.053", "08"))
    assert (record.end_to_end_id, record.free_text) == (
        "PAYRUN-881-17",
        "RE 2026-0815 PAYRUN-881-17",
    )


def test_abwa_names_the_ultimate_payer_when_the_debtor_is_not_named() -> None:
    tx = "<RltdPties><DbtrAcct><Id><IBAN>DE75512108001245126199</IBAN></Id></DbtrAcct>"
    tx += "</RltdPties>"
    tx += _ustrd("SVWZ+RE 2026-0815 ABWA+Kramer Service GmbH ABWE+Acme Vertrieb GmbH")
    record = _one(_document(_entry(tx)))
    assert record.payer_name == "Kramer Service GmbH"  # ABWE+ is the ultimate creditor
    assert record.free_text == "RE 2026-0815"
    assert record.payer_iban == "DE75512108001245126199"


def test_abwa_does_not_replace_a_named_debtor() -> None:
    tx = _debtor("Kramer Shared Services GmbH") + _ustrd("SVWZ+RE 2026-0815 ABWA+Kramer Bau GmbH")
    record = _one(_document(_entry(tx)))
    assert record.payer_name == "Kramer Shared Services GmbH"  # as UltmtDbtr beside a Dbtr


def test_tags_in_the_additional_transaction_text_of_a_camt054() -> None:
    tx = _debtor() + (
        "<AddtlTxInf>EREF+AV-55120 MREF+M-7 CRED+DE98ZZZ09999999999 "
        "SVWZ+Rechnung 2026-0777</AddtlTxInf>"
    )
    record = _one(_document(_entry(tx), "camt.054", "02"))
    assert (record.free_text, record.end_to_end_id) == ("Rechnung 2026-0777 AV-55120", "AV-55120")


def test_tags_in_the_entry_text_of_an_entry_without_transactions() -> None:
    extra = "<AddtlNtryInf>EREF+ZV-9921 SVWZ+RG 2026-0990 Kunde 40233</AddtlNtryInf>"
    record = _one(_document(_entry("", extra=extra), "camt.054", "08"))
    assert (record.free_text, record.end_to_end_id) == (
        "RG 2026-0990 Kunde 40233 ZV-9921",
        "ZV-9921",
    )


def test_a_valid_rf_reference_as_the_whole_remittance_text_is_structured() -> None:
    record = _one(_document(_entry(_debtor() + _ustrd("EREF+X-1 SVWZ+RF18 5390 0754 7034"))))
    assert [(r.kind, r.ref) for r in record.structured_refs] == [(RefKind.RF, "RF18539007547034")]


def test_untagged_text_is_read_as_before() -> None:
    lines = ("RECHNUNG RE-2026-0815 UND RE-2026-", "0816 KUNDENNR 40233 BESTELLUNG 7781")
    record = _one(_document(_entry(_debtor() + _ustrd(*lines))))
    assert record.free_text == " ".join(lines)
    assert record.end_to_end_id is None


def test_a_returned_direct_debit_names_the_collection_by_its_eref() -> None:
    entry = """
   <Ntry><Amt Ccy="EUR">249.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>{status}
    <BookgDt><Dt>2026-12-07</Dt></BookgDt><ValDt><Dt>2026-12-07</Dt></ValDt>
    <AcctSvcrRef>2026120700555</AcctSvcrRef>
    <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RDDT</Cd><SubFmlyCd>UPDD</SubFmlyCd></Fmly></Domn>
     </BkTxCd>
    <NtryDtls><TxDtls>
     <RltdPties><Dbtr><Nm>Baeckerei Sommer</Nm></Dbtr></RltdPties>
     <RmtInf><Ustrd>EREF+SDD-2026-11-00871 MREF+SOMMER-01</Ustrd>
     <Ustrd>CRED+DE98ZZZ09999999999 SVWZ+Beitrag 11/2026 RE-2026-1102</Ustrd></RmtInf>
     <RtrInf><Rsn><Cd>AC04</Cd></Rsn></RtrInf>
    </TxDtls></NtryDtls></Ntry>"""
    record = _one(_document(entry))
    assert record.amount == Decimal("-249.00")
    assert record.reverses == "SDD-2026-11-00871"
    assert record.end_to_end_id == "SDD-2026-11-00871"


# --- Dutch tagged text --------------------------------------------------------------------


def test_dutch_tagged_remittance_line_gives_the_remi_text_and_the_eref() -> None:
    line = "/EREF/KL-2026-9912/REMI/USTD//Factuur 2026-0512 klant 8812/"
    record = _one(_document(_entry(_debtor("Bouwbedrijf Kok B.V.") + _ustrd(line))))
    assert record.free_text == "Factuur 2026-0512 klant 8812 KL-2026-9912"
    assert record.end_to_end_id == "KL-2026-9912"


def test_dutch_structured_remittance_with_an_rf_reference() -> None:
    line = "/EREF/NOTPROVIDED/REMI/STRD/CUR/RF18539007547034/"
    record = _one(
        _document(_entry(_debtor("Bouwbedrijf Kok B.V.") + _ustrd(line)), "camt.053", "08")
    )
    assert [(r.kind, r.ref) for r in record.structured_refs] == [(RefKind.RF, "RF18539007547034")]
    assert record.end_to_end_id is None
    assert record.free_text is None


def test_dutch_structured_reference_with_wrong_check_digits_is_no_rf() -> None:
    line = "/REMI/STRD/CUR/RF19539007547034/"
    record = _one(_document(_entry(_debtor() + _ustrd(line))))
    assert [(r.kind, r.ref) for r in record.structured_refs] == [
        (RefKind.OTHER, "RF19539007547034")
    ]


def test_dutch_payment_reference_of_currence_is_a_structured_reference() -> None:
    line = "/REMI/STRD/CUR/1234567890123456/"
    record = _one(_document(_entry(_debtor() + _ustrd(line))))
    assert [(r.kind, r.ref) for r in record.structured_refs] == [
        (RefKind.OTHER, "1234567890123456")
    ]


def test_dutch_entry_text_structured_rf_and_eref_on_an_entry_without_transactions() -> None:
    extra = (
        "<AddtlNtryInf>/TRTP/SEPA OVERBOEKING/IBAN/NL44RABO0123456789/BIC/RABONL2U/"
        "NAME/Van Dijk Techniek B.V./REMI/STRD/CUR/RF18539007547034/EREF/VDT-77901</AddtlNtryInf>"
    )
    record = _one(_document(_entry("", extra=extra), "camt.054", "08"))
    assert record.payer_name == "Van Dijk Techniek B.V."
    assert [(r.kind, r.ref) for r in record.structured_refs] == [(RefKind.RF, "RF18539007547034")]
    assert record.end_to_end_id == "VDT-77901"


def test_dutch_ordering_party_names_the_payer_and_the_beneficiary_does_not() -> None:
    line = "/BENM//NAME/Acme Widgets B.V./ORDP//NAME/Jansen Bouw/REMI/USTD//Factuur 2026-0433/"
    tx = "<RltdPties><DbtrAcct><Id><IBAN>NL02ABNA0123456789</IBAN></Id></DbtrAcct></RltdPties>"
    record = _one(_document(_entry(tx + _ustrd(line)), "camt.054", "02"))
    assert record.payer_name == "Jansen Bouw"
    assert record.free_text == "Factuur 2026-0433"


# --- debtor and ultimate debtor -----------------------------------------------------------


def test_debtor_stays_the_payer_beside_an_ultimate_debtor() -> None:
    tx = (
        "<RltdPties><Dbtr><Nm>Kramer Group Shared Services GmbH</Nm></Dbtr>"
        "<DbtrAcct><Id><IBAN>DE75512108001245126199</IBAN></Id></DbtrAcct>"
        "<UltmtDbtr><Nm>Kramer Anlagenbau GmbH</Nm></UltmtDbtr></RltdPties>"
    ) + _ustrd("RE 2026-0815")
    record = _one(_document(_entry(tx), "camt.053", "08"))
    assert record.payer_name == "Kramer Group Shared Services GmbH"
    assert record.payer_iban == "DE75512108001245126199"


def test_a_placeholder_debtor_gives_way_to_the_ultimate_debtor() -> None:
    tx = (
        "<RltdPties><Dbtr><Nm>NOTPROVIDED</Nm></Dbtr>"
        "<UltmtDbtr><Nm>Kramer Anlagenbau GmbH</Nm></UltmtDbtr></RltdPties>"
    ) + _ustrd("RE 2026-0815")
    assert _one(_document(_entry(tx), "camt.054", "08")).payer_name == "Kramer Anlagenbau GmbH"
