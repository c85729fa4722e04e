"""BAI2 files without their trailers (cut short): the records read are kept, with a warning
naming each missing 49, 98 or 99; a file with nothing readable is one clear error."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from bai2.parsers import Bai2FileParser

from connectors.bankfiles import ParseResult, bai2file, parse_bank_bytes, parse_bank_file

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bankfiles"
# group 1 (USD, lines 2-17): account 0012345678 (line 3), details to line 15, 49 on line 16,
# 98 on line 17; group 2 (CAD, lines 18-23): account 0099887766 (line 19); 99 on line 24
_LOCKBOX = (FIXTURES / "bai2_lockbox_ach.bai").read_text().splitlines()
_USD_AMOUNTS = ["4250.00", "1875.00", "937.50", "2500.00", "500.00", "500.00"]
_KEPT = "(records kept; check the file is complete)"
_NO_49 = (
    "line 3",
    f"BAI2 file ends without the 49 account trailer of account 0012345678 (cut short?) {_KEPT}",
)
_NO_98 = ("line 2", f"BAI2 file ends without the 98 group trailer of group 1 (cut short?) {_KEPT}")
_NO_99 = ("file", f"BAI2 file ends without its 99 file trailer (cut short?) {_KEPT}")


def _cut(lines: int, name: str = "cut.bai") -> ParseResult:
    """The lockbox sample as if the transfer stopped after its first ``lines`` lines."""
    return parse_bank_bytes(("\n".join(_LOCKBOX[:lines]) + "\n").encode(), name)


def _amounts(result: ParseResult) -> list[str]:
    return [str(r.amount) for r in result.records]


def _warnings(result: ParseResult) -> list[tuple[str, str]]:
    return [(w.location, w.reason) for w in result.warnings]


def test_a_file_cut_inside_an_account_keeps_the_details_read_and_names_each_trailer() -> None:
    assert _LOCKBOX[14].startswith("16,142,50000") and _LOCKBOX[15] == "49,27351250,14/"
    result = _cut(15)
    assert result.errors == []
    assert _amounts(result) == _USD_AMOUNTS
    assert [r.line for r in result.records] == [4, 6, 9, 11, 14, 15]
    assert _warnings(result) == [_NO_49, _NO_98, _NO_99]
    assert all(w.file == "cut.bai" for w in result.warnings)


def test_records_of_a_cut_file_keep_the_keys_they_have_in_the_whole_file() -> None:
    whole = parse_bank_file(FIXTURES / "bai2_lockbox_ach.bai").records
    cut = _cut(15).records
    # the complete file sent later again holds the same six payments, not six new ones
    assert [r.dedup_key for r in cut] == [r.dedup_key for r in whole[:6]]
    assert [r.raw for r in cut] == [r.raw for r in whole[:6]]


def test_a_file_cut_after_an_account_or_group_trailer_names_only_what_is_missing() -> None:
    after_49 = _cut(16)
    assert after_49.errors == [] and _amounts(after_49) == _USD_AMOUNTS
    assert _warnings(after_49) == [_NO_98, _NO_99]  # the 49 that is there adds up
    after_98 = _cut(17)
    assert after_98.errors == [] and _amounts(after_98) == _USD_AMOUNTS
    assert _warnings(after_98) == [_NO_99]


def test_a_file_cut_after_a_group_header_keeps_the_groups_before_it() -> None:
    assert _LOCKBOX[17].startswith("02,")
    result = _cut(18)
    assert result.errors == [] and _amounts(result) == _USD_AMOUNTS
    assert _warnings(result) == [
        ("line 18", f"BAI2 file ends without the 98 group trailer of group 2 (cut short?) {_KEPT}"),
        _NO_99,
    ]


def test_a_file_cut_in_its_second_group_keeps_its_details_in_their_currency() -> None:
    result = _cut(21)
    assert result.errors == []
    (cad,) = result.records[6:]
    assert (cad.amount, cad.currency, cad.line) == (Decimal("12345.67"), "CAD", 20)
    assert _warnings(result) == [
        (
            "line 19",
            "BAI2 file ends without the 49 account trailer of account 0099887766 (cut short?) "
            + _KEPT,
        ),
        ("line 18", f"BAI2 file ends without the 98 group trailer of group 2 (cut short?) {_KEPT}"),
        _NO_99,
    ]


def test_a_file_that_ends_before_any_account_is_one_clear_error() -> None:
    for lines in (1, 2):
        result = _cut(lines)
        assert result.records == [] and result.warnings == []
        (error,) = result.errors
        assert (error.file, error.location, error.reason) == (
            "cut.bai",
            "line 1",
            "not a readable BAI2 file: it ends before any account (03) in a group (02) "
            "(cut short?)",
        )


# two accounts in one group: the 98 and 99 are the bank's own figures
_TWO_ACCOUNTS = """\
01,121000358,NORTHWINDCO,261207,0600,12,,,2/
02,NORTHWINDCO,121000358,1,261206,2400,USD,2/
03,88120456,USD,010,2500000,,/
16,142,120000,Z,ACH0001,,ORIG CO NAME:HARBOR FOODS INC ENTRY DESCR:PAYMENT/
16,115,330000,0,LBX0042,CHK 1188,LOCKBOX DEPOSIT/
49,2950000,4/
03,88120499,USD,010,800000,,/
16,195,410000,0,FW0077,,INCOMING WIRE/
88,B/O: PINE VALLEY COOP/
16,142,25000,Z,ACH0002,,ORIG CO NAME:SEAFARER LOGISTICS/
49,1235000,5/
98,4185000,2,11/
99,4185000,1,13/
"""


def test_an_account_trailer_lost_inside_the_file_is_named_once() -> None:
    text = _TWO_ACCOUNTS.replace("49,2950000,4/\n", "")
    result = parse_bank_bytes(text.encode(), "lost_49.bai")
    assert result.errors == []
    assert _amounts(result) == ["1200.00", "3300.00", "4100.00", "250.00"]
    # the 98's total and the 99's record count would only repeat the loss: not reported
    assert _warnings(result) == [
        ("line 3", f"account 88120456 has no 49 account trailer {_KEPT}"),
    ]


def test_a_group_trailer_lost_before_the_file_trailer_is_named() -> None:
    text = _TWO_ACCOUNTS.replace("98,4185000,2,11/\n", "")
    result = parse_bank_bytes(text.encode(), "lost_98.bai")
    assert result.errors == [] and len(result.records) == 4
    assert _warnings(result) == [("line 2", f"group 1 has no 98 group trailer {_KEPT}")]


def test_a_figure_of_a_trailer_that_is_there_is_still_checked() -> None:
    text = _TWO_ACCOUNTS.replace("49,1235000,5/", "49,1235001,5/").replace(
        "98,4185000,2,11/\n99,4185000,1,13/\n", ""
    )
    result = parse_bank_bytes(text.encode(), "cut_and_off.bai")
    assert result.errors == [] and len(result.records) == 4
    mismatch, *missing = _warnings(result)
    assert mismatch[0] == "line 11"
    assert mismatch[1].startswith("account 88120499 control total 1235001 (12350.01 USD)")
    assert [location for location, _ in missing] == ["line 2", "file"]


def test_completed_trailers_pass_the_packages_own_integrity_checks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def checked(helper: Any, **_: Any) -> Bai2FileParser:
        return Bai2FileParser(helper, check_integrity=True)

    monkeypatch.setattr(bai2file, "Bai2FileParser", checked)
    # no 03 summaries (arsync hands the package only the account and currency), an 88
    # continuation (joined to its detail); cut inside the second account
    text = """\
01,121000358,NORTHWINDCO,261207,0600,12,,,2/
02,NORTHWINDCO,121000358,1,261206,2400,USD,2/
03,88120456,USD,,,,/
16,142,120000,Z,ACH0001,,ORIG CO NAME:HARBOR FOODS INC ENTRY DESCR:PAYMENT/
16,115,330000,0,LBX0042,CHK 1188,LOCKBOX DEPOSIT/
49,450000,4/
03,88120499,USD,,,,/
16,195,410000,0,FW0077,,INCOMING WIRE/
88,B/O: PINE VALLEY COOP/
16,142,25000,Z,ACH0002,,ORIG CO NAME:SEAFARER LOGISTICS/
"""
    result = parse_bank_bytes(text.encode(), "checked.bai")
    assert result.errors == []  # the package raised nothing: its totals and counts agree
    assert _amounts(result) == ["1200.00", "3300.00", "4100.00", "250.00"]
    assert [location for location, _ in _warnings(result)] == ["line 7", "line 2", "file"]


def test_a_group_header_whose_date_cannot_be_read_is_one_error_naming_its_field() -> None:
    """Its group's details are left out (of no known day); the file's cut is still named."""
    text = "\n".join(_LOCKBOX[:15]).replace(",261119,2400,USD,", ",261399,2400,USD,")
    result = parse_bank_bytes(text.encode(), "bad_date.bai")
    assert result.records == []
    (error,) = result.errors
    assert (error.location, error.reason) == (
        "line 2, as-of date",
        "not a date YYMMDD: '261399': the group's details are left out "
        "(the rest of the file is read)",
    )
    assert _warnings(result) == [_NO_49, _NO_98, _NO_99]


def test_a_well_formed_file_still_gives_no_warning() -> None:
    result = parse_bank_file(FIXTURES / "bai2_lockbox_ach.bai")
    assert result.errors == [] and result.warnings == []
    assert len(result.records) == 7
