"""NACHA files as a receiving bank delivers them to the company (the receiver's side).

``nacha_receiver_side.ach`` (written by :func:`receiver_side_file`) holds, each record laid
out as the NACHA Operating Rules put its fields:

* an IAT batch (its own batch header layout: foreign exchange indicator FF, ISO originating
  and destination currency codes CAD) whose credit carries the seven mandatory addenda
  710-716, a 717 remittance addenda and a 718 correspondent bank; a second IAT credit whose
  two 717 addenda are plain text;
* a mixed (service class 200) CCD batch: a CCD+ credit, a prenote (23), a zero-dollar
  remittance entry (24) and a debit of our account (27);
* a WEB credit;
* a COR batch of notifications of change (98 addenda: C05, C03, C01);
* returns (99 addenda) of our own debits (26 R01, 36 R02) and of a credit we sent (21 R03);
* a debit-only (service class 225) REVERSAL batch.

Batch and file controls add up; the file is padded with 9s to a multiple of ten records.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from connectors.bankfiles import BankFileFormat, RefKind, parse_bank_bytes, parse_bank_file
from connectors.bankfiles.records import RawRemittance
from tests.support.nacha_records import OUR_ACCOUNT, OUR_ROUTING
from tests.support.nacha_records import iat_entry as _iat_entry
from tests.support.nacha_records import record as _rec

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bankfiles"
FIXTURE = FIXTURES / "nacha_receiver_side.ach"


def _header(service: str, company: str, company_id: str, sec: str, text: str, n: int) -> str:
    """A domestic batch header (positions 5-20 company name, 41-50 identification)."""
    return _rec(
        (0, "5" + service + company),
        (40, company_id + sec + text),
        (69, "261214"),
        (78, "1" + "04400003" + f"{n:07d}"),
    )


def _iat_header(n: int, currency: str = "CAD") -> str:
    """An IAT batch header: 21-22 FX indicator, 23 FX reference indicator, 24-38 reference,
    39-40 destination country, 41-50 originator id, 51-53 SEC, 54-63 description, 64-66
    originating and 67-69 destination currency, 70-75 effective date, 79 originator status,
    80-87 gateway operator, 88-94 batch number."""
    return _rec(
        (0, "5220"),
        (20, "FF3" + " " * 15 + "US" + "9876543210" + "IAT" + "TRADE PMT "),
        (63, "CAD" + currency + "261214"),
        (78, "1" + "06100010" + f"{n:07d}"),
    )


def _entry(code: str, cents: int, ident: str, name: str, trace: str, addenda: bool) -> str:
    """A CCD/PPD/WEB entry: 40-54 identification, 55-76 receiver name, 80-94 trace."""
    return _rec(
        (0, "6" + code + OUR_ROUTING),
        (12, OUR_ACCOUNT),
        (29, f"{cents:010d}" + ident),
        (54, name),
        (78, ("1" if addenda else "0") + trace),
    )


def _iat_addenda(trace: str, cents: int, remittance: list[str]) -> list[str]:
    seq = trace[-7:]
    records = [
        # 710: transaction type, foreign payment amount (18), foreign trace (22), receiver
        _rec((0, "710BUS" + f"{cents:018d}" + "MHF-2026-000118".ljust(22) + "ACME PARTS")),
        _rec((0, "711MAPLE HARVEST FOODS LTD"), (38, "400 HARBOUR ST")),
        _rec((0, "712TORONTO*ON\\"), (38, "CA*M5J2L6\\")),
        _rec((0, "713ROYAL MAPLE BANK"), (38, "01" + "000300012"), (74, "CA")),
        _rec((0, "714FIRST LAKE BANK"), (38, "01" + OUR_ROUTING), (74, "US")),
        _rec((0, "715ACME-VEND-0042 " + "12 FOUNDRY RD")),
        _rec((0, "716DETROIT*MI\\"), (38, "US*48201\\")),
        *(_rec((0, "717" + text), (83, f"{i:04d}")) for i, text in enumerate(remittance, start=1)),
    ]
    return [r[:87] + seq for r in records]


def _correspondent(trace: str, seq: int) -> str:
    """718: a foreign correspondent bank, its id and branch country; addenda sequence."""
    return _rec(
        (0, "718NORTHBRIDGE CORRESPONDENT BANK"),
        (38, "02" + "NBCOUS33"),
        (74, "US"),
        (83, f"{seq:04d}" + trace[-7:]),
    )


def _addenda(kind: str, text: str, trace: str) -> str:
    return _rec((0, "7" + kind + text), (83, "0001" + trace[-7:]))


def _change(code: str, original: str, corrected: str, trace: str) -> str:
    """798: change code, original trace, original RDFI (28-35), corrected data (36-64)."""
    return _rec((0, "798" + code + original), (27, "04400003" + corrected), (79, trace))


def _return(reason: str, original: str, trace: str) -> str:
    """799: return reason, original trace, date of death, original RDFI, information."""
    return _rec((0, "799" + reason + original + "      04400003"), (79, trace))


def _file(batches: list[tuple[str, list[str]]]) -> str:
    lines = [
        _rec(
            (0, "101 " + OUR_ROUTING + " 0440000362612140815A094101"),
            (40, "FIRST LAKE BANK"),
            (63, "ACME PARTS"),
        )
    ]
    total = [0, 0, 0, 0]  # count, hash, debits, credits
    for header, records in batches:
        entries = [r for r in records if r[0] == "6"]
        figures = [
            len(records),
            sum(int(e[3:11]) for e in entries),
            sum(int(e[29:39]) for e in entries if e[2] in "56789"),
            sum(int(e[29:39]) for e in entries if e[2] in "01234"),
        ]
        lines += [header, *records]
        lines.append(
            _rec(
                (0, "8" + header[1:4] + f"{figures[0]:06d}{figures[1]:010d}"),
                (20, f"{figures[2]:012d}{figures[3]:012d}" + header[40:50]),
                (79, header[79:94]),
            )
        )
        total = [a + b for a, b in zip(total, figures, strict=True)]
    blocks = -(-(len(lines) + 1) // 10)
    lines.append(
        _rec(
            (0, f"9{len(batches):06d}{blocks:06d}{total[0]:08d}{total[1]:010d}"),
            (31, f"{total[2]:012d}{total[3]:012d}"),
        )
    )
    lines += ["9" * 94] * (blocks * 10 - len(lines))
    return "\r\n".join(lines) + "\r\n"


def receiver_side_file() -> str:
    iat1, iat2 = "061000100000001", "061000100000002"
    ccd = ["044000030000011", "044000030000012", "044000030000013", "044000030000014"]
    cor = ["044000030000021", "044000030000022", "044000030000023"]
    ret = ["044000030000031", "044000030000032", "044000030000033"]
    return _file(
        [
            (
                _iat_header(1),
                [
                    _iat_entry(1234567, iat1, 9),
                    *_iat_addenda(iat1, 1234567, ["RMR*IV*INV-7001**12345.67\\"]),
                    _correspondent(iat1, 2),
                    _iat_entry(50000, iat2, 9),
                    *_iat_addenda(
                        iat2, 50000, ["DEPOSIT FOR PURCHASE ORDER", "PO-88-1200 SPRING LINE"]
                    ),
                ],
            ),
            (
                _header("200", "HARBOR FOODS INC", "1445566778", "CCD", "PAYMENT   ", 2),
                [
                    _entry("22", 250000, "HF-AP-7002", "ACME PARTS", ccd[0], True),
                    _addenda("05", "RMR*IV*INV-7002**2500.00\\", ccd[0]),
                    _entry("23", 0, "HF-PRENOTE", "ACME PARTS", ccd[1], False),
                    _entry("24", 0, "HF-AP-7003", "ACME PARTS", ccd[2], True),
                    _addenda("05", "RMR*IV*INV-7003**0.00\\", ccd[2]),
                    _entry("27", 15000, "HF-FEE-1", "ACME PARTS", ccd[3], False),
                ],
            ),
            (
                _header("220", "QUICKPAY NETWORK", "9900011122", "WEB", "P2P PAY   ", 3),
                [
                    _entry(
                        "22",
                        8950,
                        "QP-55107",
                        "ACME PARTS".ljust(22) + "S ",
                        "044000030000041",
                        False,
                    )
                ],
            ),
            (
                _header("200", "ACME PARTS", "1234567890", "COR", "AUTOPAY   ", 4),
                [
                    _entry("26", 0, "CUST-4471", "HARBOR FOODS INC", cor[0], True),
                    _change("C05", "071000019990001", "32", cor[0]),
                    _entry("21", 0, "VEND-0031", "PINE VALLEY COOP", cor[1], True),
                    _change("C03", "071000019990002", "044000037   99887766", cor[1]),
                    _entry("26", 0, "CUST-4480", "RIVERTON MILLS", cor[2], True),
                    _change("C01", "071000019990003", "55500012", cor[2]),
                ],
            ),
            (
                _header("200", "ACME PARTS", "1234567890", "PPD", "AUTOPAY   ", 5),
                [
                    _entry("26", 48000, "CUST-4471", "HARBOR FOODS INC", ret[0], True),
                    _return("R01", "071000019990011", ret[0]),
                    _entry("36", 12500, "CUST-4480", "RIVERTON MILLS", ret[1], True),
                    _return("R02", "071000019990012", ret[1]),
                    _entry("21", 3300, "REFUND-17", "PINE VALLEY COOP", ret[2], True),
                    _return("R03", "071000019990013", ret[2]),
                ],
            ),
            (
                _header("225", "HARBOR FOODS INC", "1445566778", "CCD", "REVERSAL  ", 6),
                [_entry("27", 250000, "HF-AP-6990", "ACME PARTS", "044000030000051", False)],
            ),
        ]
    )


def test_the_fixture_is_the_one_the_builder_writes() -> None:
    assert FIXTURE.read_bytes() == receiver_side_file().encode()
    assert all(len(line) == 94 for line in receiver_side_file().splitlines())


def _by_trace(records: list[RawRemittance]) -> dict[str | None, RawRemittance]:
    return {r.bank_reference: r for r in records}


def test_iat_currency_payer_and_remittance_come_from_its_header_and_addenda() -> None:
    result = parse_bank_file(FIXTURE)
    assert result.format is BankFileFormat.NACHA and result.errors == []
    iat = _by_trace(result.records)["061000100000001"]
    # the amount is in the batch header's ISO destination currency (positions 67-69)
    assert (iat.amount, iat.currency) == (Decimal("12345.67"), "CAD")
    assert iat.payer_name == "MAPLE HARVEST FOODS LTD"  # 711, not the 718 correspondent
    assert iat.payer_account == "9876543210"  # the batch's originator identification
    assert iat.end_to_end_id == "ACME-VEND-0042"  # 715 receiver identification number
    assert [(r.kind, r.ref, r.amount_paid) for r in iat.structured_refs] == [
        (RefKind.INVOICE, "INV-7001", Decimal("12345.67"))
    ]
    assert iat.free_text == "TRADE PMT"
    assert "NORTHBRIDGE" not in (iat.free_text or "") + (iat.payer_name or "")
    assert iat.value_date == date(2026, 12, 14)
    text = _by_trace(result.records)["061000100000002"]
    assert (text.amount, text.currency) == (Decimal("500.00"), "CAD")
    assert text.free_text == "TRADE PMT DEPOSIT FOR PURCHASE ORDER PO-88-1200 SPRING LINE"


def test_only_live_credits_are_cash_prenotes_zero_dollar_and_debits_are_not() -> None:
    records = parse_bank_file(FIXTURE).records
    cash = [(r.bank_reference, r.amount, r.payer_name) for r in records if r.reverses is None]
    assert cash == [
        ("061000100000001", Decimal("12345.67"), "MAPLE HARVEST FOODS LTD"),
        ("061000100000002", Decimal("500.00"), "MAPLE HARVEST FOODS LTD"),
        ("044000030000011", Decimal("2500.00"), "HARBOR FOODS INC"),
        ("044000030000041", Decimal("89.50"), "QUICKPAY NETWORK"),
    ]
    assert {r.currency for r in records if (r.bank_reference or "").startswith("044")} == {"USD"}
    web = _by_trace(records)["044000030000041"]
    assert (web.end_to_end_id, web.free_text) == ("QP-55107", "P2P PAY")


def test_notifications_of_change_move_no_money_and_name_the_change() -> None:
    result = parse_bank_file(FIXTURE)
    assert not [r for r in result.records if r.bank_reference in {"044000030000021"}]
    changes = [w for w in result.warnings if w.reason.startswith("notification of change")]
    assert [(w.location, w.reason) for w in changes] == [
        (
            "line 36",
            "notification of change C05 (incorrect transaction code) of the entry with trace "
            "071000019990001 to HARBOR FOODS INC: corrected data '32'; no money moves, not a "
            "payment (correct the receiver's details)",
        ),
        (
            "line 38",
            "notification of change C03 (incorrect routing number and account number) of the "
            "entry with trace 071000019990002 to PINE VALLEY COOP: corrected data "
            "'044000037 99887766'; no money moves, not a payment (correct the receiver's "
            "details)",
        ),
        (
            "line 40",
            "notification of change C01 (incorrect account number) of the entry with trace "
            "071000019990003 to RIVERTON MILLS: corrected data '55500012'; no money moves, not "
            "a payment (correct the receiver's details)",
        ),
    ]


def test_returns_of_our_debits_take_cash_back_and_a_returned_credit_is_named() -> None:
    result = parse_bank_file(FIXTURE)
    back = [(r.amount, r.reverses, r.payer_name, r.free_text) for r in result.records if r.reverses]
    assert back == [
        (
            Decimal("-480.00"),
            "071000019990011",
            "HARBOR FOODS INC",
            "ACH RETURN R01 OF TRACE 071000019990011",
        ),
        (
            Decimal("-125.00"),
            "071000019990012",
            "RIVERTON MILLS",
            "ACH RETURN R02 OF TRACE 071000019990012",
        ),
        (Decimal("-2500.00"), "HF-AP-6990", "HARBOR FOODS INC", "REVERSAL OF HF-AP-6990"),
    ]
    others = [w for w in result.warnings if not w.reason.startswith("notification of change")]
    assert [(w.location, w.reason) for w in others] == [
        (
            "line 48",
            "a return of a credit we sent, a credit of 33.00 USD returning the entry with trace "
            "071000019990013 (return reason R03): not a customer paying, left out",
        )
    ]


def _variants() -> dict[str, bytes]:
    lines = receiver_side_file().splitlines()
    return {
        "crlf": receiver_side_file().encode(),
        "lf": ("\n".join(lines) + "\n").encode(),
        "flat": "".join(lines).encode(),  # 94-character records without line breaks
        "trailing blanks": "\n".join(line + "   " for line in lines).encode(),
        "stripped blanks": "\n".join(line.rstrip() for line in lines).encode(),
    }


@pytest.mark.parametrize("variant", ["crlf", "lf", "flat", "trailing blanks", "stripped blanks"])
def test_line_endings_and_blanks_do_not_change_what_is_read(variant: str) -> None:
    expected = parse_bank_file(FIXTURE)
    result = parse_bank_bytes(_variants()[variant], "received.ach")
    assert result.errors == []
    assert [(r.dedup_key, r.amount, r.currency, r.payer_name) for r in result.records] == [
        (r.dedup_key, r.amount, r.currency, r.payer_name) for r in expected.records
    ]
    assert [w.reason for w in result.warnings] == [w.reason for w in expected.warnings]


def test_lowercase_codes_are_read_as_upper_case() -> None:
    """Lower-case SEC code, currency, entry description, return reason and change code."""
    lines = receiver_side_file().splitlines()
    text = "\n".join(lines).replace("IATTRADE PMT CADCAD", "iatTRADE PMT cadcad")
    text = text.replace("REVERSAL  ", "reversal  ").replace("798C01", "798c01")
    text = text.replace("799R01", "799r68")  # a dishonored return: nothing taken back again
    result = parse_bank_bytes(text.encode(), "lower.ach")
    assert result.errors == []
    records = _by_trace(result.records)
    assert records["061000100000001"].currency == "CAD"
    assert records["044000030000051"].reverses == "HF-AP-6990"
    assert "044000030000031" not in records
    reasons = [w.reason for w in result.warnings]
    assert any(
        r.startswith("notification of change C01 (incorrect account number)") for r in reasons
    )
    assert any(
        r.startswith("a dishonored return, a debit of 480.00 USD") and "(return reason R68)" in r
        for r in reasons
    )


def test_an_iat_batch_without_a_currency_code_is_read_in_usd_with_a_warning() -> None:
    text = receiver_side_file().replace("IATTRADE PMT CADCAD", "IATTRADE PMT CAD   ")
    result = parse_bank_bytes(text.encode(), "iat.ach")
    assert result.errors == []
    assert _by_trace(result.records)["061000100000001"].currency == "USD"
    [warning] = [w for w in result.warnings if "currency" in w.reason]
    assert warning.location == "line 2, ISO destination currency code (positions 67-69)"
    assert warning.reason == (
        "not an ISO 4217 currency code: '   ': the batch's amounts are read as USD"
    )


def test_blocked_records_and_an_end_of_file_mark_are_read_as_records() -> None:
    """Ten records (940 characters) a line, as blocked files come; a Ctrl-Z at the end."""
    expected = parse_bank_file(FIXTURE)
    lines = receiver_side_file().splitlines()
    blocked = "\r\n".join("".join(lines[i : i + 10]) for i in range(0, len(lines), 10))
    for data in (blocked + "\r\n", receiver_side_file() + "\x1a", "".join(lines) + "\x1a"):
        result = parse_bank_bytes(data.encode(), "blocked.ach")
        assert result.format is BankFileFormat.NACHA and result.errors == []
        assert [r.dedup_key for r in result.records] == [r.dedup_key for r in expected.records]
        assert [w.reason for w in result.warnings] == [w.reason for w in expected.warnings]
