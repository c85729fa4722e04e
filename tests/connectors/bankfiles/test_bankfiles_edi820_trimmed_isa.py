"""X12 820 interchanges whose ISA is not of its fixed length.

X12 gives the ISA fixed-length fields (106 characters in all) so that a reader finds the
delimiters by position. Some payers' software trims the fields' padding blanks
(``ISA*00**00**ZZ*GLOBEXAP*ZZ*ACMEWIDGETS*...``), or pads one a character too long; the
interchange is otherwise well formed, and its sixteen element separators still say where
ISA16 (the component separator) and the segment terminator are.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from connectors.bankfiles import BankFileFormat, parse_bank_bytes
from connectors.bankfiles.edi820 import parse_edi820

D = Decimal

_BODY = [
    "GS*RA*GLOBEXAP*ACMEWIDGETS*20260316*1200*731*X*004010",
    "ST*820*0001",
    "BPR*C*1250.00*C*ACH*CCP*01*021000021*DA*99887766*1234567890**01*071000013*DA*88120456*20260316",
    "TRN*1*GX-8801*1234567890",
    "N1*PR*GLOBEX CORPORATION*91*GX-001",
    "RMR*IV*INV-3001*PI*1250.00*1250.00",
    "SE*6*0001",
    "GE*1*731",
    "IEA*1*000000731",
]


def _file(isa: str, element: str = "*", segment: str = "~", newline: str = "\n") -> bytes:
    body = [s.replace("*", element) for s in _BODY]
    return (isa + segment + newline + "".join(s + segment + newline for s in body)).encode()


def test_an_isa_trimmed_of_its_padding_is_read_by_its_separators() -> None:
    isa = "ISA*00**00**ZZ*GLOBEXAP*ZZ*ACMEWIDGETS*260316*1200*U*00401*000000731*0*P*>"
    result = parse_bank_bytes(_file(isa), "globex_trimmed.edi")
    assert result.format is BankFileFormat.EDI_820
    assert result.errors == [] and result.warnings == []
    (record,) = result.records
    assert (record.amount, record.currency, record.value_date) == (
        D("1250.00"),
        "USD",
        date(2026, 3, 16),
    )
    assert (record.payer_name, record.bank_reference) == ("GLOBEX CORPORATION", "GX-8801")
    assert [(r.ref, r.amount_paid) for r in record.structured_refs] == [("INV-3001", D("1250.00"))]


def test_a_trimmed_isa_with_other_delimiters_and_no_line_breaks() -> None:
    isa = "ISA|00|NA|00|NA|ZZ|GLOBEXAP|ZZ|ACMEWIDGETS|260316|1200|^|00501|000000731|0|P|:"
    result = parse_edi820(_file(isa, "|", "\\", "").decode(), "globex_pipes.edi")
    assert result.errors == [] and result.warnings == []
    (record,) = result.records
    assert (record.amount, record.bank_reference) == (D("1250.00"), "GX-8801")
    assert [r.ref for r in record.structured_refs] == ["INV-3001"]


def test_an_isa_one_character_too_long_is_read_by_its_separators() -> None:
    """ISA06 padded to 16 characters: the fixed positions are off by one."""
    isa = (
        "ISA*00*          *00*          *ZZ*GLOBEXAP        *ZZ*ACMEWIDGETS    *260316*1200*U*"
        "00401*000000731*0*P*>"
    )
    assert len(isa) == 106  # without its terminator: one too many
    result = parse_edi820(_file(isa).decode(), "globex_long.edi")
    assert result.errors == []
    (record,) = result.records
    assert (record.amount, record.payer_name) == (D("1250.00"), "GLOBEX CORPORATION")


def test_an_isa_short_of_its_elements_is_still_one_error() -> None:
    result = parse_edi820("ISA*00**00**ZZ*GLOBEXAP~ST*820*1~", "globex_cut.edi")
    assert result.records == []
    (error,) = result.errors
    assert (error.location, error.reason) == (
        "line 1",
        "the ISA segment is shorter than 106 characters",
    )
