"""NACHA files as a transmission delivers them: line breaks of CR alone, a blocked file whose
last line lost its trailing blanks, and several files one after the other."""

from __future__ import annotations

from decimal import Decimal

from tests.connectors.bankfiles.test_bankfiles_nacha_probe import (
    _addenda,
    _entry,
    _file,
    _header,
    _parse,
)

TRACE = "021000020000001"


def _credits(company: str, company_id: str, count: int, first_cents: int) -> list[str]:
    """A file of ``count`` CCD credits from ``company``, the first with an RMR addenda."""
    entries = [_entry("22", first_cents, "CUST42", "ACME PARTS", TRACE, True)]
    entries += _addenda(f"RMR*IV*INV1001**{first_cents / 100:.2f}\\", TRACE)
    entries += [
        _entry("22", 1000 + i, f"C{i}", "ACME PARTS", f"0210000200001{i:02d}", False)
        for i in range(count - 1)
    ]
    return _file([(_header(company, company_id, "CCD", "PAYMENT", 1), entries)])


def test_records_ended_by_cr_alone_are_read_as_lines() -> None:
    result = _parse(_credits("ACME CORP", "1234567890", 2, 150000), sep="\r")
    assert result.errors == [] and result.warnings == []
    assert [(r.location, r.amount) for r in result.records] == [
        ("line 3", Decimal("1500.00")),
        ("line 5", Decimal("10.00")),
    ]
    assert [ref.ref for ref in result.records[0].structured_refs] == ["INV1001"]


def test_a_blocked_file_whose_last_line_lost_its_trailing_blanks() -> None:
    """Ten records a line; the last line ends in the file control, its blanks trimmed."""
    records = [r for r in _credits("ACME CORP", "1234567890", 12, 150000) if r != "9" * 94]
    blocks = ["".join(records[i : i + 10]) for i in range(0, len(records), 10)]
    blocks[-1] = blocks[-1].rstrip()
    assert [len(b) for b in blocks] == [940, 619]
    result = _parse(blocks)
    assert result.errors == []
    assert len(result.records) == 12
    assert result.records[0].amount == Decimal("1500.00")
    assert result.records[-1].location == "line 15"
    # the file control (no block padding) states two blocks: ten records a block
    assert result.warnings == []


def test_two_files_in_one_transmission_are_each_checked_on_their_own() -> None:
    first = _credits("ACME CORP", "1234567890", 2, 150000)
    second = _credits("BETA INC", "2234567890", 1, 25000)
    result = _parse(first + second)
    assert result.errors == [] and result.warnings == []
    assert [(r.payer_name, r.amount) for r in result.records] == [
        ("ACME CORP", Decimal("1500.00")),
        ("ACME CORP", Decimal("10.00")),
        ("BETA INC", Decimal("250.00")),
    ]


def test_a_control_of_the_second_file_that_does_not_add_up_is_named() -> None:
    second = _credits("BETA INC", "2234567890", 1, 25000)
    control = next(i for i, r in enumerate(second) if r.startswith("9000001"))
    second[control] = second[control][:31] + f"{0:012d}{99999:012d}" + second[control][55:]
    first = _credits("ACME CORP", "1234567890", 2, 150000)
    result = _parse(first + second)
    assert len(result.records) == 3 and result.errors == []
    (warning,) = result.warnings
    assert warning.location == f"line {len(first) + control + 1}"
    assert "total credit amount 99999 (999.99 USD) does not match" in warning.reason


def test_a_file_cut_short_before_the_next_file_header_is_named() -> None:
    first = [r for r in _credits("ACME CORP", "1234567890", 2, 150000) if r[0] not in "89"]
    second = _credits("BETA INC", "2234567890", 1, 25000)
    result = _parse(first + second)
    assert [r.amount for r in result.records] == [
        Decimal("1500.00"),
        Decimal("10.00"),
        Decimal("250.00"),
    ]
    assert [w.location for w in result.warnings] == [
        "line 2",
        f"the file ending before the file header on line {len(first) + 1}",
    ]
    assert "batch 0000001 has no batch control (8) record" in result.warnings[0].reason
    assert "no file control (9) record" in result.warnings[1].reason


def test_a_file_sent_twice_in_one_transmission_is_read_once() -> None:
    """The same file twice, record for record: each copy passes its own controls, so its
    credits were read twice with nothing said (before files were checked one by one, a block
    count warning was the only sign)."""
    once = _credits("ACME CORP", "1234567890", 2, 150000)
    result = _parse(once + once)
    assert [(r.payer_name, r.amount) for r in result.records] == [
        ("ACME CORP", Decimal("1500.00")),
        ("ACME CORP", Decimal("10.00")),
    ]
    (error,) = result.errors
    assert error.location == f"line {len(once) + 1}"
    assert error.reason.startswith("a copy of the file whose header is on line 1")
    assert result.warnings == []
