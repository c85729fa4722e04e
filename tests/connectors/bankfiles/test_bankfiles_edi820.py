"""X12 820: delimiters from ISA, one remittance per ST..SE, RMR/ADX details."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from connectors.bankfiles import BankFileFormat, RefKind, parse_bank_bytes, parse_bank_file
from connectors.bankfiles.edi820 import parse_edi820

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bankfiles"


def test_several_transaction_sets_over_two_interchanges() -> None:
    result = parse_bank_file(FIXTURES / "edi820_remittance.edi")
    assert result.format is BankFileFormat.EDI_820
    assert result.errors == []
    initech, globex, umbrella = result.records
    assert initech.amount == Decimal("937.50")
    assert initech.payer_name == "INITECH LLC"
    assert initech.payer_account == "5550001234"  # BPR09
    assert initech.bank_reference == "INI0000457"  # TRN02
    assert initech.value_date == date(2026, 11, 20)  # BPR16
    assert initech.location == "line 3, segment 3 (ST)"
    assert initech.raw.splitlines()[0] == "ST*820*0001~"
    assert initech.raw.splitlines()[-1] == "SE*14*0001~"
    invoice, po, second = initech.structured_refs
    assert invoice.document_date == date(2026, 10, 15)  # DTM*003 after a REF*PO still dates the RMR
    assert (po.kind, po.ref) == (RefKind.PO, "PO-77120")
    assert second.adjustment == Decimal("-12.50")

    refs = globex.structured_refs
    assert [(r.kind, r.ref, r.amount_paid) for r in refs] == [
        (RefKind.INVOICE, "INV-1020", Decimal("2000.00")),
        (RefKind.INVOICE, "INV-1021", Decimal("1500.00")),
        (RefKind.CREDIT_MEMO, "CM-0042", Decimal("-377.00")),
        (RefKind.INVOICE, "INV-1022", Decimal("1000.00")),
    ]
    assert (refs[1].adjustment, refs[1].adjustment_reason) == (Decimal("-50.00"), "CS,04")
    assert sum(r.amount_paid or 0 for r in refs) == globex.amount
    assert globex.free_text == "DEDUCTIONS PER CLAIM 7781"

    assert (umbrella.currency, umbrella.amount) == ("EUR", Decimal("12500.00"))
    assert len({r.dedup_key for r in result.records}) == 3


def test_custom_delimiters_and_no_newlines() -> None:
    text = (FIXTURES / "edi820_remittance.edi").read_text()
    custom = text.replace("\n", "").replace("~", "'").replace("*", "|")
    custom = custom.replace("|>'", "|:'")  # component separator position 104
    result = parse_bank_bytes(custom.encode(), "custom.edi")
    assert result.errors == []
    assert [r.amount for r in result.records] == [
        Decimal("937.50"),
        Decimal("4123.00"),
        Decimal("12500.00"),
    ]
    assert all(r.line == 1 for r in result.records)


def test_debit_and_remittance_only_sets_are_not_cash() -> None:
    text = (
        "ST*820*1~BPR*C*50.00*D*ACH~SE*3*1~"
        "ST*820*2~BPR*I*0*C*NON~RMR*IV*X1**10.00~SE*4*2~"
        "ST*820*3~BPR*P*10.00*C*ACH~SE*3*3~"
        "ST*820*4~BPR*C*10.00*C*CHK~SE*3*4~"
    )
    result = parse_edi820(text, "bare.edi")
    assert result.errors == []
    assert [r.amount for r in result.records] == [Decimal("10.00")]
    # the debit is named (money going out), the advice without cash too; a prenotification
    # is expected
    assert [w.location for w in result.warnings] == [
        "line 1, segment 2 (BPR), BPR03",
        "line 1, segment 4 (ST)",
    ]


def test_an_advice_without_cash_is_not_a_remittance_but_is_reported() -> None:
    text = (  # remittance detail of 57.70 in purchase orders, BPR02 zero
        "ST*820*0001~BPR*I*0.00*C*ZZZ~CUR*VN*USD~N1*PE*Department A*G*656162~"
        "N1*PR*CompanyA.com*PI*2677~ENT*1~RMR*PO*554681037*PI*10.49~RMR*PO*554841872*PI*17.99~"
        "RMR*PO*554719617*PI*8.98~RMR*PO*554648526*PI*20.24~SE*11*0001~"
    )
    result = parse_edi820(text, "advice_only.edi")
    assert result.records == [] and result.errors == []
    (warning,) = result.warnings
    assert (warning.file, warning.location) == ("advice_only.edi", "line 1, segment 1 (ST)")
    assert warning.reason == (
        "transaction set 0001 carries no payment amount (BPR02 0.00): no remittance is made "
        "from it, its remittance detail is not imported"
    )
    assert warning.raw.splitlines()[0] == "ST*820*0001~"
    assert warning.raw.count("RMR*PO*") == 4


def test_a_ref_keeps_its_description_beside_its_reference() -> None:
    text = (
        "ST*820*0001~BPR*C*10000*C*ACH*CTX*01*1234*DA*555*CUSTID0001**01*987*DA*345123*19990101~"
        "TRN*1*1001983525~N1*PR*CUSTOMER NAME~ENT*1~RMR*WY*123456**2000~"
        "REF*D0*RATE AUTHORITY*PER ITEM 12121 RATE SHOULD BE $2000 PER CAR~REF*BM*1001~"
        "REF*VI**/PHON 888-888-8888~REF*PO*PO-4471*OPEN ORDER~SE*11*0001~"
    )
    result = parse_edi820(text, "ref_description.edi")
    assert result.errors == [] and result.warnings == []
    (record,) = result.records
    # REF02 alone, REF03 alone, or both in order; a REF*PO under an RMR is a reference
    assert record.free_text == (
        "D0 RATE AUTHORITY PER ITEM 12121 RATE SHOULD BE $2000 PER CAR BM 1001 "
        "VI /PHON 888-888-8888"
    )
    assert [(r.kind, r.ref) for r in record.structured_refs] == [
        (RefKind.OTHER, "123456"),
        (RefKind.PO, "PO-4471"),
    ]


def test_malformed_sets_are_rejected_by_segment_and_the_good_one_kept() -> None:
    result = parse_bank_file(FIXTURES / "edi820_malformed.edi")
    # a set read to its SE whose count is off is kept, with a warning naming the count
    assert [r.bank_reference for r in result.records] == ["BAD-2", "GOOD-3"]
    reasons = {e.location: e.reason for e in result.errors}
    assert reasons == {
        "line 4, segment 4 (BPR), BPR02": "not an amount: '12O5.00'",
        "line 21, segment 21 (ST)": "transaction set has no SE trailer (truncated file?)",
    }
    # the file ends inside a set: its group and interchange lost their GE and IEA too
    warning, group, interchange = result.warnings
    assert (warning.location, warning.reason) == (
        "line 14, segment 14 (SE), SE01",
        "transaction set SE01 segment count 9 does not match the 6 segments found "
        "(records kept; check the file is complete)",
    )
    assert (group.location, interchange.location) == (
        "line 2, segment 2 (GS)",
        "line 1, segment 1 (ISA)",
    )
    assert group.reason.startswith("functional group 906 has no GE trailer")
    assert interchange.reason.startswith("interchange 000000906 has no IEA trailer")


def test_short_isa_is_one_error() -> None:
    result = parse_edi820("ISA*00*short~ST*820*1~", "short.edi")
    assert result.records == []
    (error,) = result.errors
    assert (error.location, error.reason) == (
        "line 1",
        "the ISA segment is shorter than 106 characters",
    )


def test_payment_date_from_the_header_dtm_when_bpr16_is_left_out() -> None:
    text = (
        "ST*820*0042~BPR*C*310.00*C*ACH*CCP*01*071000013*DA*55001*1445566778~"
        "TRN*1*HF-0042~DTM*097*20261201~DTM*009*20261203~N1*PR*HARBOR FOODS INC~"
        "RMR*IV*INV-7001**310.00~DTM*003*20261101~SE*9*0042~"
    )
    result = parse_edi820(text, "no_bpr16.edi")
    assert result.errors == []
    (record,) = result.records
    assert record.value_date == date(2026, 12, 3)  # process date before creation date
    (ref,) = record.structured_refs
    assert ref.document_date == date(2026, 11, 1)


# edi820_bnsf_split_payment.edi: the public BNSF railroad 820 (an EDIToJSON C# sample) with
# BPR01 U; BPR01 (X12 element 305) decides whether the cash comes with the 820
SPLIT_PAYMENT = (FIXTURES / "edi820_bnsf_split_payment.edi").read_text()


@pytest.mark.parametrize("code", ["U", "X", "N", "Q", "K", "H", "B", "E", "I", "A", "Z"])
def test_an_820_whose_cash_comes_separately_is_advice_only(code: str) -> None:
    """U split payment and remittance, X handling party's option to split them, N check
    issuance notice, Q credit due, K reimbursement to follow, H notification only, ...: the
    cash reaches the bank apart from the 820, which is only matched to it."""
    text = SPLIT_PAYMENT.replace("BPR*U*", f"BPR*{code}*")
    result = parse_edi820(text, f"bpr01_{code}.edi")
    assert result.errors == []
    (record,) = result.records
    assert (record.amount, record.advice_only) == (Decimal("10000"), True)
    assert [r.ref for r in record.structured_refs] == ["123456", "999999", "999787"]


@pytest.mark.parametrize("code", ["C", "D"])
def test_an_820_that_carries_its_payment_is_cash(code: str) -> None:
    """C payment accompanies remittance advice, D make payment only."""
    result = parse_edi820(SPLIT_PAYMENT.replace("BPR*U*", f"BPR*{code}*"), "cash.edi")
    (record,) = result.records
    assert (record.amount, record.advice_only) == (Decimal("10000"), False)


def test_bpr01_x_before_version_003020_means_payment_and_advice() -> None:
    # 002001 to 003010 define X as "make payment and send remittance advice"
    x = SPLIT_PAYMENT.replace("BPR*U*", "BPR*X*")
    (old,) = parse_edi820(x.replace("*X*004010X222~", "*X*003010~"), "old.edi").records
    (new,) = parse_edi820(x.replace("*X*004010X222~", "*X*003020~"), "new.edi").records
    (bare,) = parse_edi820(x[x.index("ST*") : x.index("GE*")], "bare.edi").records
    assert (old.advice_only, new.advice_only, bare.advice_only) == (False, True, True)


def test_an_820_without_a_transaction_handling_code_is_an_error_naming_bpr01() -> None:
    text = SPLIT_PAYMENT.replace("BPR*U*", "BPR**") + SPLIT_PAYMENT.replace(
        "ST*820*000000001~", "ST*820*000000002~"
    ).replace("SE*23*0000000001 ~", "SE*23*000000002~")
    result = parse_edi820(text, "no_bpr01.edi")
    assert [r.bank_reference for r in result.records] == ["1001983525"]  # the good set kept
    (error,) = result.errors
    assert (error.location, error.reason) == (
        "line 1, segment 4 (BPR), BPR01",
        "the transaction handling code is missing: cannot tell whether the payment comes "
        "with this remittance advice or separately",
    )
    assert error.raw.startswith("ST*820*000000001~")
