"""BAI2 files as banks send them, beyond the happy path: headers that end before their optional
fields, header and trailer fields that cannot be read (one finding naming the record's line
and field, the rest of the file read), and a previous-day report laid out as US banks lay it
out (funds type S with the references in an 88, text with commas over several 88s, groups in
currencies of 0 and 3 minor digits). The values are our own; the files add up unless a test
says otherwise."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectors.bankfiles.reader import parse_bank_bytes
from connectors.bankfiles.records import ParseResult, RecordError

_HEADER = "01,121000248,NWTRADERS,261120,0600,1,,,2/"
_GROUP = "02,NWTRADERS,121000248,1,261119,2400,USD,2/"


def _group(header: str, account: str, detail: str, amount: int) -> list[str]:
    return [header, f"03,{account},USD,/", detail, f"49,{amount},3/", f"98,{amount},1,5/"]


def _two_groups(first_header: str, trailer_49: str = "") -> str:
    """Two groups of one credit each (1000.00 from BETA, 2000.00 from GAMMA); the first
    group's 02 is ``first_header`` and its 49 ``trailer_49`` when given."""
    first = _group(first_header, "000123456789", "16,195,100000,0,W1,,ORG:BETA LLC/", 100000)
    if trailer_49:
        first[3] = trailer_49
    second = _group(_GROUP, "000123456780", "16,195,200000,0,W2,,ORG:GAMMA INC/", 200000)
    lines = [_HEADER, *first, *second]
    return "\n".join([*lines, f"99,300000,2,{len(lines) + 1}/"]) + "\n"


def _parse(text: str) -> ParseResult:
    return parse_bank_bytes(text.encode(), "bank.bai")


def _read(result: ParseResult) -> list[tuple[Decimal, str | None]]:
    return [(r.amount, r.payer_name) for r in result.records]


def _findings(findings: list[RecordError]) -> list[tuple[str, str]]:
    return [(f.location, f.reason) for f in findings]


_BOTH = [(Decimal("1000.00"), "BETA LLC"), (Decimal("2000.00"), "GAMMA INC")]


# --- a 02 may end ("/") before its optional fields -------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "02,NWTRADERS,121000248,1,261119,2400,USD/",  # no as-of-date modifier
        "02,NWTRADERS,121000248,1,261119,2400/",  # nor currency (USD)
        "02,NWTRADERS,121000248,1,261119/",  # nor as-of time
    ],
    ids=["no-modifier", "no-currency", "no-time"],
)
def test_a_group_header_ending_before_its_optional_fields_is_read(header: str) -> None:
    result = _parse(_two_groups(header))
    assert result.errors == [] and result.warnings == []
    assert _read(result) == _BOTH
    assert {r.value_date.isoformat() for r in result.records if r.value_date} == {"2026-11-19"}
    assert {r.currency for r in result.records} == {"USD"}


# --- a 02 field that cannot be read: its group alone --------------------------------------------


@pytest.mark.parametrize(
    ("header", "field", "reason"),
    [
        (
            "02,NWTRADERS,121000248,1,261131,2400,USD,2/",
            "as-of date",
            "not a date YYMMDD: '261131'",
        ),
        (
            "02,NWTRADERS,121000248,5,261119,2400,USD,2/",
            "group status",
            "not a BAI2 group status (1 to 4): '5'",
        ),
    ],
    ids=["as-of-date", "group-status"],
)
def test_a_group_header_field_that_cannot_be_read_leaves_out_only_its_group(
    header: str, field: str, reason: str
) -> None:
    result = _parse(_two_groups(header))
    assert _read(result) == [(Decimal("2000.00"), "GAMMA INC")]
    assert _findings(result.errors) == [
        (
            f"line 2, {field}",
            f"{reason}: the group's details are left out (the rest of the file is read)",
        )
    ]
    assert result.errors[0].raw == header
    assert result.warnings == []  # the trailers still add up


@pytest.mark.parametrize(
    ("header", "field", "reason"),
    [
        (
            "02,NWTRADERS,121000248,1,261119,2460,USD,2/",
            "as-of time",
            "not a time HHMM (2400 or 9999: end of day): '2460'",
        ),
        (
            "02,NWTRADERS,121000248,1,261119,2400,USD,0/",
            "as-of-date modifier",
            "not a BAI2 as-of-date modifier (1 to 4): '0'",
        ),
    ],
    ids=["as-of-time", "modifier"],
)
def test_an_as_of_time_or_modifier_that_cannot_be_read_is_a_warning_and_its_group_kept(
    header: str, field: str, reason: str
) -> None:
    result = _parse(_two_groups(header))
    assert result.errors == []
    assert _read(result) == _BOTH
    assert _findings(result.warnings) == [
        (f"line 2, {field}", f"{reason}: read as not stated (the group's details are kept)")
    ]


@pytest.mark.parametrize("time", ["2400", "9999", "0000", ""])
def test_end_of_day_and_unstated_as_of_times_are_read_silently(time: str) -> None:
    result = _parse(_two_groups(f"02,NWTRADERS,121000248,,261119,{time},,/"))
    assert result.errors == [] and result.warnings == []
    assert _read(result) == _BOTH


# --- trailers and the file header ----------------------------------------------------------------


def test_a_trailer_figure_that_is_not_a_number_is_a_warning_and_the_file_kept() -> None:
    result = _parse(_two_groups(_GROUP, trailer_49="49,1000O0,3/"))
    assert result.errors == []
    assert _read(result) == _BOTH
    assert _findings(result.warnings) == [
        (
            "line 5, control total",
            "49 account trailer of account 000123456789 states a figure that is not a number "
            "(control total '1000O0'): it cannot be checked (records kept)",
        )
    ]


def test_a_file_header_that_cannot_be_read_names_its_field() -> None:
    text = _two_groups(_GROUP).replace(",261120,0600,", ",261320,0600,", 1)
    result = _parse(text)
    assert result.records == []
    assert _findings(result.errors) == [
        (
            "line 1",
            "not a readable BAI2 file: its 01 file header cannot be read "
            "(its file creation date ('261320') is not valid)",
        )
    ]


# --- a previous-day report as US banks lay it out ---------------------------------------------


def test_previous_day_report_with_summaries_availability_and_text_over_88s() -> None:
    """Summaries spread over 88s (signed, zero-padded, with item counts), a deposit with funds
    type S whose references come in an 88 and whose text (commas in amounts) runs over
    several, a credit stating only a customer reference with its text in an 88, then groups
    in JPY (0 minor digits, group currency) and KWD (3, the account's), as-of time 9999 and
    blank status; UTF-8 BOM, CRLF line ends and blanks after the last records."""
    lines = [
        "01,043000096,NWTRADERS,261120,0500,1,80,,2/",
        "02,NWTRADERS,043000096,1,261119,2400,,2/",
        "03,000004821000,,015,00000250000000,,,040,-0000000120000,,/",
        "88,100,00000001830000,00002,,400,00000000000000,00000,/",
        "16,301,0000001730000,S,00001730000,00000000000,00000000000/",
        "88,DEP20261119A,,/",
        "88,BRANCH DEPOSIT 0042",
        "88,CASH: 1,200.00 CHECKS: 16,100.00/",
        "16,142,0000000100000,,,INV-7731/",
        "88,BLUE HERON FOODS PAYMENT",
        "49,253540000,9/",
        "98,253540000,1,11/",
        "02,NWTRADERS,043000096,,261119,9999,JPY,2/",
        "03,JP0000777,,/",
        "16,195,1250000,0,FW88001,,ORG:SAKURA TRADING KK OBI:INV 7740, INV 7741",
        "49,1250000,3   ",
        "03,KW0000555,KWD,/",
        "16,208,1234567,0,FW88002,,ORG:GULF PARTS CO",
        "49,1234567,3   ",
        "98,2484567,2,8   ",
        "99,256024567,2,21   ",
    ]
    text = "\ufeff" + "\r\n".join(lines) + "\r\n"
    result = _parse(text)
    assert result.errors == [] and result.warnings == []
    got = [
        (r.line, r.amount, r.currency, r.bank_reference, r.end_to_end_id, r.free_text)
        for r in result.records
    ]
    assert got == [
        (
            5,
            Decimal("17300.00"),
            "USD",
            "DEP20261119A",
            None,
            "BRANCH DEPOSIT 0042 CASH: 1,200.00 CHECKS: 16,100.00",
        ),
        (9, Decimal("1000.00"), "USD", None, "INV-7731", "BLUE HERON FOODS PAYMENT"),
        (15, Decimal("1250000"), "JPY", "FW88001", None, "OBI:INV 7740, INV 7741"),
        (18, Decimal("1234.567"), "KWD", "FW88002", None, None),
    ]
    assert [r.payer_name for r in result.records][2:] == ["SAKURA TRADING KK", "GULF PARTS CO"]
    assert all(isinstance(r.amount, Decimal) for r in result.records)
    assert {r.value_date.isoformat() for r in result.records if r.value_date} == {"2026-11-19"}
