"""X12 820 envelopes: GE and IEA trailers checked against their GS group and ISA interchange."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from connectors.bankfiles import parse_bank_bytes, parse_bank_file
from connectors.bankfiles.edi820 import parse_edi820

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bankfiles"
# two interchanges: 000000905 (group 905, sets 0001 and 0002) and 000000017 (group 17, set 0101)
_REMITTANCE = (FIXTURES / "edi820_remittance.edi").read_text()
_AMOUNTS = [Decimal("937.50"), Decimal("4123.00"), Decimal("12500.00")]


def _parse(text: str, name: str = "envelopes.edi") -> tuple[list[Decimal], list[tuple[str, str]]]:
    """(amounts of the records kept, (location, reason) of each warning); no errors allowed."""
    result = parse_bank_bytes(text.encode(), name)
    assert result.errors == []
    return [r.amount for r in result.records], [(w.location, w.reason) for w in result.warnings]


def test_envelopes_that_add_up_give_no_warning() -> None:
    result = parse_bank_file(FIXTURES / "edi820_remittance.edi")
    assert result.errors == [] and result.warnings == []
    # IEA02 000000905 and GE02 905 against ISA13 000000905 and GS06 905: the same numbers
    assert "IEA*1*000000905~" in _REMITTANCE and "GE*2*905~" in _REMITTANCE
    text = _REMITTANCE.replace("IEA*1*000000905~", "IEA*1*905~").replace(
        "GE*2*905~", "GE*2*000905~"
    )
    assert _parse(text) == (_AMOUNTS, [])


def test_a_group_trailer_that_miscounts_its_sets_or_names_another_group() -> None:
    text = _REMITTANCE.replace("GE*2*905~", "GE*3*906~")
    amounts, warnings = _parse(text)
    assert amounts == _AMOUNTS  # every set is kept
    assert warnings == [
        (
            "line 31, segment 31 (GE), GE01",
            "functional group 905 GE01 transaction set count 3 does not match the 2 "
            "transaction sets found (records kept; check the file is complete)",
        ),
        (
            "line 31, segment 31 (GE), GE02",
            "group control number 906 does not match GS06 905 (records kept)",
        ),
    ]
    result = parse_bank_bytes(text.encode(), "envelopes.edi")
    assert all(w.raw == "GE*3*906~" for w in result.warnings)


def test_an_interchange_trailer_that_miscounts_its_groups_or_names_another_interchange() -> None:
    text = _REMITTANCE.replace("IEA*1*000000017~", "IEA*2*000000018~")
    amounts, warnings = _parse(text)
    assert amounts == _AMOUNTS
    assert warnings == [
        (
            "line 45, segment 45 (IEA), IEA01",
            "interchange 000000017 IEA01 functional group count 2 does not match the 1 "
            "functional group found (records kept; check the file is complete)",
        ),
        (
            "line 45, segment 45 (IEA), IEA02",
            "interchange control number 000000018 does not match ISA13 000000017 (records kept)",
        ),
    ]


def test_a_file_cut_after_a_set_keeps_its_sets_and_names_the_missing_ge_and_iea() -> None:
    lines = _REMITTANCE.splitlines()
    assert lines[29] == "SE*14*0002~" and lines[30] == "GE*2*905~"
    amounts, warnings = _parse("\n".join(lines[:30]) + "\n", "cut.edi")
    assert amounts == _AMOUNTS[:2]
    assert warnings == [
        (
            "line 2, segment 2 (GS)",
            "functional group 905 has no GE trailer: the file may be cut short "
            "(records kept; check the file is complete)",
        ),
        (
            "line 1, segment 1 (ISA)",
            "interchange 000000905 has no IEA trailer: the file may be cut short "
            "(records kept; check the file is complete)",
        ),
    ]


def test_a_file_cut_after_its_ge_names_only_the_missing_iea() -> None:
    text = _REMITTANCE.replace("IEA*1*000000017~\n", "")
    amounts, warnings = _parse(text, "no_iea.edi")
    assert amounts == _AMOUNTS
    assert warnings == [
        (
            "line 33, segment 33 (ISA)",
            "interchange 000000017 has no IEA trailer: the file may be cut short "
            "(records kept; check the file is complete)",
        )
    ]


def test_a_ge_or_iea_lost_inside_the_file_is_named_where_the_next_envelope_starts() -> None:
    text = _REMITTANCE.replace("GE*2*905~\nIEA*1*000000905~\n", "")
    amounts, warnings = _parse(text, "lost_trailers.edi")
    assert amounts == _AMOUNTS
    assert warnings == [
        (
            "line 2, segment 2 (GS)",
            "functional group 905 has no GE trailer (records kept; check the file is complete)",
        ),
        (
            "line 1, segment 1 (ISA)",
            "interchange 000000905 has no IEA trailer (records kept; check the file is complete)",
        ),
    ]


def test_a_set_without_se_ends_at_the_ge_and_still_counts_as_one_of_the_group() -> None:
    lines = _REMITTANCE.splitlines()
    assert lines[29] == "SE*14*0002~"
    text = "\n".join(lines[:29] + lines[30:]) + "\n"
    result = parse_bank_bytes(text.encode(), "no_se.edi")
    assert [r.amount for r in result.records] == [_AMOUNTS[0], _AMOUNTS[2]]
    (error,) = result.errors
    assert (error.location, error.reason) == (
        "line 17, segment 17 (ST)",
        "transaction set has no SE trailer (truncated file?)",
    )
    assert error.raw.splitlines()[-1] == "NTE*ADD*DEDUCTIONS PER CLAIM 7781~"  # GE not in it
    assert result.warnings == []  # GE01 2: the group did hold two sets


def test_bare_transaction_sets_have_no_envelope_to_check() -> None:
    text = "ST*820*0042~BPR*C*310.00*C*ACH*CCP~TRN*1*HF-0042~SE*4*0042~"
    result = parse_edi820(text, "bare.edi")
    assert result.errors == [] and result.warnings == []
    assert [r.amount for r in result.records] == [Decimal("310.00")]
