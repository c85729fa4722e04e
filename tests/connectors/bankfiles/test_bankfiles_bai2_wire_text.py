"""Incoming wires' BAI2 detail text in the layouts banks write it (fixtures: our own values
in the layout of descriptors the banks publish, as tests/fixtures/bankfiles/README.md says).

The payer is the originator (B/O, ORIG, ORG), never the beneficiary (BNF: the account
holder) nor the sending bank; the bank's names for the wire (IMAD, TRN) name the item where
the 16 record has no bank reference of its own, without changing its key; and the
originator's text for us (OBI, PMT DET, RFB) stays the free text the reconciler reads.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from connectors.bankfiles.reader import parse_bank_bytes
from connectors.bankfiles.records import ParseResult, RawRemittance

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bankfiles"


def _parse(name: str) -> ParseResult:
    return parse_bank_bytes((FIXTURES / name).read_bytes(), name)


def _one(text: str, bank_reference: str = "") -> RawRemittance:
    """The remittance of one 195 incoming wire whose detail text is ``text``."""
    data = "\n".join(
        (
            "01,021000021,NWTRADERS,261120,0600,1,,,2/",
            "02,NWTRADERS,021000021,1,261119,2400,USD,2/",
            "03,000000004821,USD,010,0,,/",
            f"16,195,100000,0,{bank_reference},,{text}",
            "49,100000,3/",
            "98,100000,1,5/",
            "99,100000,1,7/",
        )
    )
    result = parse_bank_bytes(data.encode(), "one.bai")
    assert result.errors == [] and result.warnings == []
    (record,) = result.records
    return record


def test_jpmorgan_fedwire_credit_names_the_originator_not_the_beneficiary() -> None:
    """JPMorgan's Fedwire credit: ``FEDWIRE CREDIT VIA: <sending bank>/<routing> B/O:
    <originator> REF: CHASE NYC/CTR/BNF=<beneficiary>/AC-<account> RFB= OBI= BBI= IMAD:
    TRN:``. B/O's value ends at REF (it used to run on into the REF and so name the
    beneficiary, the account holder itself, as the payer)."""
    result = _parse("bai2_jpmorgan_fedwire_credit.bai")
    assert result.errors == [] and result.warnings == []  # trailers add up
    first, second = result.records
    assert [(r.amount, r.payer_name, r.payer_account) for r in result.records] == [
        (Decimal("18625.00"), "HARBORVIEW LOGISTICS INC CHICAGO IL 60601-1234", None),
        (Decimal("6400.00"), "SUMMIT PEAK SUPPLY CO DENVER CO 80202", None),
    ]
    assert all("NORTHWIND" not in (r.payer_name or "") for r in result.records)
    # the 16 record's own reference first; without one, the Fedwire IMAD names the wire
    assert first.bank_reference == "0417309323FF"
    assert second.bank_reference == "1119I1B7032R020448"
    # the originator's information and reference for us stay the text (invoice numbers)
    assert first.free_text == (
        "FEDWIRE CREDIT VIA: FIRST MIDWEST TRUST/071000505 REF:CHASE NYC/CTR/BNF=NORTHWIND "
        "TRADERS LLC NEW YORK NY 10017-2001 US/AC-000000004821 RFB:HL-PAY-20931 "
        "OBI:INVOICE INV-5501 AND INV-5502 IMAD:1119MMQFMP2K000417 TRN:0417309323FF"
    )
    assert "RFB:OW00004417220195 BBI:/CHGS/USD0,00/" in (second.free_text or "")
    # a reference read from the text does not re-key the item: without a bank reference on
    # its 16 record it keeps the key of its account, day and looks (as before)
    assert second.dedup_key.startswith("bai2-day:") and first.dedup_key.startswith("bai2-ref:")


def test_bank_of_america_wire_in_reads_orig_its_id_and_the_trn() -> None:
    """Bank of America's wire: ``WIRE TYPE:WIRE IN DATE: TIME: TRN: SEQ: ORIG:<originator>
    ID:<its account> SND BK:<sending bank> ID:<bank id> PMT DET:<details>``. The ID after
    ORIG is the payer's account, the one after SND BK the bank's; a name ending in CO
    before ID is no CO ID label."""
    result = _parse("bai2_bofa_wire_in.bai")
    assert result.errors == [] and result.warnings == []
    first, second = result.records
    assert [(r.payer_name, r.payer_account, r.bank_reference) for r in result.records] == [
        ("HARBORVIEW LOGISTICS INC", "0099887766", "2026111900277191"),  # TRN: no 16 ref
        ("SUMMIT PEAK SUPPLY CO", "5550012345", "904319000555123"),
    ]
    assert first.free_text == (
        "WIRE TYPE:WIRE IN DATE: 261119 TIME:0802 ET TRN:2026111900277191 "
        "SEQ:6031944815JS/100200 SND BK:FIRST MIDWEST TRUST, N.A. ID:0002 "
        "PMT DET:INV-6610 INV-6611"
    )
    assert (second.free_text or "").endswith(
        "SND BK:FIFTH THIRD BANK, NA ID:0031 PMT DET:PAYMENT INVOICE 6620"
    )


def test_bank_of_america_international_wire_names_the_originator_line() -> None:
    """An international wire in the same layout passes the originator on as its SWIFT name
    line (``1/<name>``) and names the originator's bank (ORIG BK) with its own ID."""
    record = _one(
        "WIRE TYPE:INTL IN DATE:261119 TIME:1255 ET TRN:2026111900418832 "
        "SEQ:2026111900418832/000739 ORIG:1/ARDENT AEROSPACE GMBH ID:DE89370400440532013000 "
        "ORIG BK:COMMERZBANK AG ID:COBADEFFXXX PMT DET:INV-8841"
    )
    assert (record.payer_name, record.payer_account) == (
        "ARDENT AEROSPACE GMBH",
        "DE89370400440532013000",
    )
    assert record.bank_reference == "2026111900418832"
    assert (record.free_text or "").endswith(
        "ORIG BK:COMMERZBANK AG ID:COBADEFFXXX PMT DET:INV-8841"
    )


def test_wells_fargo_wire_reads_org_and_the_hash_references() -> None:
    """Wells Fargo's wire: ``WT FED#<sequence> <sending bank> /ORG=<originator> SRF#<sender's
    reference> TRN#<its reference> RFB#<reference for the beneficiary>``."""
    result = _parse("bai2_wells_fargo_wire_in.bai")
    assert result.errors == [] and result.warnings == []
    first, second = result.records
    assert [(r.payer_name, r.payer_account, r.bank_reference) for r in result.records] == [
        ("HARBORVIEW LOGISTICS INC", None, "261119160752"),  # TRN#: no 16 ref
        ("INVEKTA SUMINISTROS SA DE CV", None, "WF1119000042"),
    ]
    assert first.free_text == (
        "WT FED#06710 FIRST MIDWEST TRUST SRF#0000257242264277 TRN#261119160752 RFB#INV-7701"
    )
    assert second.free_text == (
        "WT F50813692676000 SCOTIABANK INVER SRF#F50813692676000 TRN#261119119391 RFB#"
    )


def test_fedwire_party_labels_are_whole_words_and_the_beneficiary_is_never_the_payer() -> None:
    """ORG is the payer; OGB (its bank) and BNF (us) are not; ORGANIZATION, REFERENCE and
    ORIGINAL are words, not the labels ORG, REF and ORIG; a BNF inside a REF value (Chase's
    CTR/BNF=) is part of that value."""
    record = _one(
        "BNF=NORTHWIND TRADERS LLC OGB=FIRST MIDWEST TRUST ORG=GLOBEX CORP "
        "OBI=ORGANIZATION:EAST REFERENCE:INV-9001 ORIGINAL:INV-9002 OMAD: 1119B1Q8154C000391"
    )
    assert (record.payer_name, record.payer_account) == ("GLOBEX CORP", None)
    assert record.bank_reference == "1119B1Q8154C000391"  # the OMAD: no IMAD, no 16 ref
    assert record.free_text == (
        "BNF:NORTHWIND TRADERS LLC OGB:FIRST MIDWEST TRUST "
        "OBI:ORGANIZATION:EAST REFERENCE:INV-9001 ORIGINAL:INV-9002 OMAD:1119B1Q8154C000391"
    )
    # with only the beneficiary and its bank named, there is no payer
    nobody = _one("BNF=NORTHWIND TRADERS LLC BNF BK:JPMORGAN CHASE BANK ID:0002 OBI=INV-9003")
    assert (nobody.payer_name, nobody.payer_account) == (None, None)
    # IMAD before OMAD before the bank's TRN; an ACH trace before any of them
    both = _one("ORG=GLOBEX CORP TRN: 0417309323FF OMAD: 1119B1Q8 IMAD: 1119MMQF YOUR REF: X")
    assert both.bank_reference == "1119MMQF"
    assert (both.free_text or "").endswith("IMAD:1119MMQF YOUR REF:X")
    traced = _one("ORIG CO NAME:GLOBEX CORP TRACE#:021000028611043 TRN: 2048611043TC")
    assert traced.bank_reference == "021000028611043"


def test_ach_labels_beside_the_wire_labels_read_as_before() -> None:
    """JPMorgan's and Bank of America's ACH text still read label by label: ORIG ID and CO ID
    are accounts, IND ID and an ID after DES are text, ORIG CO NAME is no ORIG."""
    (chase,) = _parse("bai2_chase_ach_text.bai").records
    assert (chase.payer_name, chase.payer_account) == ("Square Inc", "9424300002")
    ccd = _parse("bai2_bofa_ach_text.bai").records[0]
    assert (ccd.payer_name, ccd.payer_account) == ("ACME WIDGETS INC", "1234567890")
    assert (ccd.free_text or "").startswith("DES:PAYMENTS ID:0000471193 INDN:")
