"""X12 820: delimiters from ISA, one remittance per ST..SE, RMR/ADX details."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

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
