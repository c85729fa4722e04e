"""NACHA files as a receiving company's bank delivers them: probes of the less common cases.

Every file here is written by :func:`_file` from 94-character records laid out as the NACHA
Operating Rules put their fields, with batch and file controls (counts, entry hashes, debit
and credit totals, block counts) computed from the records, so that a control warning means
what the case is about.
"""

from __future__ import annotations

from decimal import Decimal

from canonical.enums import RemittanceStatus
from connectors.bankfiles import BankFileFormat, RefKind, parse_bank_bytes
from connectors.bankfiles.records import ParseResult
from mappings.bankfiles import remittance_from_raw
from tests.support.nacha_records import OUR_ACCOUNT, OUR_ROUTING
from tests.support.nacha_records import iat_entry as _iat_entry
from tests.support.nacha_records import record as _rec


def _header(company: str, company_id: str, sec: str, text: str, n: int) -> str:
    """A domestic batch header (mixed service class 200)."""
    return _rec(
        (0, "5200" + company.ljust(16)[:16]),
        (40, company_id + sec + text.ljust(10)),
        (69, "261214"),
        (78, "1" + "04400003" + f"{n:07d}"),
    )


def _iat_header(n: int, currency: str, fx: str = "FF", origin: str = "") -> str:
    """An IAT batch header: FX indicator, reference, destination country, originator id, SEC,
    description, originating (FF: the destination's) and destination currency, date."""
    return _rec(
        (0, "5220"),
        (20, fx + "3" + " " * 15 + "US" + "9876543210" + "IAT" + "TRADE PMT "),
        (63, (origin or currency) + currency + "261214"),
        (78, "1" + "06100010" + f"{n:07d}"),
    )


def _entry(code: str, cents: int, ident: str, name: str, trace: str, addenda: bool) -> str:
    """A CCD/PPD/WEB entry: 40-54 identification, 55-76 receiver name, 80-94 trace."""
    return _rec(
        (0, "6" + code + OUR_ROUTING),
        (12, OUR_ACCOUNT),
        (29, f"{cents:010d}" + ident.ljust(15)),
        (54, name),
        (78, ("1" if addenda else "0") + trace),
    )


def _ctx_entry(code: str, cents: int, ident: str, trace: str, count: int) -> str:
    """A CTX entry: 55-58 number of addenda records, 59-74 receiving company name."""
    return _rec(
        (0, "6" + code + OUR_ROUTING),
        (12, OUR_ACCOUNT),
        (29, f"{cents:010d}" + ident.ljust(15) + f"{count:04d}" + "ACME PARTS"),
        (78, "1" + trace),
    )


def _addenda(text: str, trace: str, seq: int = 1) -> list[str]:
    """705 records carrying ``text``, cut at 80 characters as an originator's software does."""
    pieces = [text[i : i + 80] for i in range(0, len(text), 80)] or [""]
    return [
        _rec((0, "705" + piece), (83, f"{seq + i:04d}" + trace[-7:]))
        for i, piece in enumerate(pieces)
    ]


def _iat_addenda(trace: str, foreign_cents: str, remittance: list[str]) -> list[str]:
    """710-716 and 717s; ``foreign_cents`` is the 710's 18-character foreign payment amount."""
    seq = trace[-7:]
    records = [
        _rec((0, "710BUS" + foreign_cents + "MHF-2026-000118".ljust(22) + "ACME PARTS")),
        _rec((0, "711MAPLE HARVEST FOODS LTD"), (38, "400 HARBOUR ST")),
        _rec((0, "712TORONTO*ON\\"), (38, "CA*M5J2L6\\")),
        _rec((0, "713ROYAL MAPLE BANK"), (38, "01" + "000300012"), (74, "CA")),
        _rec((0, "714FIRST LAKE BANK"), (38, "01" + OUR_ROUTING), (74, "US")),
        _rec((0, "715ACME-VEND-0042 " + "12 FOUNDRY RD")),
        _rec((0, "716DETROIT*MI\\"), (38, "US*48201\\")),
        *(_rec((0, "717" + text), (83, f"{i:04d}")) for i, text in enumerate(remittance, start=1)),
    ]
    return [r[:87] + seq for r in records]


def _file(
    batches: list[tuple[str, list[str]]], *, control: bool = True, credit_off_by: int = 0
) -> list[str]:
    """The file's records; batch and file controls add up (``credit_off_by`` spoils the first
    batch control's credit total), padded with 9s to whole blocks of ten."""
    lines = [
        _rec(
            (0, "101 " + OUR_ROUTING + " 0440000362612140815A094101"),
            (40, "FIRST LAKE BANK"),
            (63, "ACME PARTS"),
        )
    ]
    total = [0, 0, 0, 0]
    for i, (header, records) in enumerate(batches):
        entries = [r for r in records if r[0] == "6"]
        figures = [
            len(records),
            sum(int(e[3:11]) for e in entries) % 10**10,
            sum(int(e[29:39]) for e in entries if e[2] in "56789"),
            sum(int(e[29:39]) for e in entries if e[2] in "01234"),
        ]
        stated = [*figures[:3], figures[3] + (credit_off_by if i == 0 else 0)]
        lines += [header, *records]
        lines.append(
            _rec(
                (0, "8" + header[1:4] + f"{stated[0]:06d}{stated[1]:010d}"),
                (20, f"{stated[2]:012d}{stated[3]:012d}" + header[40:50]),
                (79, header[79:94]),
            )
        )
        total = [a + b for a, b in zip(total, stated, strict=True)]
    if not control:
        return lines
    blocks = -(-(len(lines) + 1) // 10)
    lines.append(
        _rec(
            (0, f"9{len(batches):06d}{blocks:06d}{total[0]:08d}{total[1] % 10**10:010d}"),
            (31, f"{total[2]:012d}{total[3]:012d}"),
        )
    )
    return lines + ["9" * 94] * (blocks * 10 - len(lines))


def _parse(lines: list[str], sep: str = "\r\n") -> ParseResult:
    return parse_bank_bytes((sep.join(lines) + sep).encode(), "received.ach")


def _reasons(result: ParseResult) -> list[str]:
    return [w.reason for w in result.warnings]


# --- 1. IAT: the 710 foreign payment amount beside the entry's amount -------------------


def _iat_file(entry_cents: int, foreign: str, fx: str = "FF", origin: str = "") -> list[str]:
    trace = "061000100000001"
    return _file(
        [
            (
                _iat_header(1, "USD", fx, origin),
                [
                    _iat_entry(entry_cents, trace, 8),
                    *_iat_addenda(trace, foreign, ["RMR*IV*INV-7001**1000.00\\"]),
                ],
            )
        ]
    )


def test_iat_foreign_payment_amount_that_agrees_is_silent() -> None:
    result = _parse(_iat_file(100000, f"{100000:018d}"))
    assert result.errors == [] and result.warnings == []
    [iat] = result.records
    assert (iat.amount, iat.currency) == (Decimal("1000.00"), "USD")


def test_iat_foreign_payment_amount_blank_or_zero_is_silent() -> None:
    for foreign in (" " * 18, "0" * 18):
        result = _parse(_iat_file(100000, foreign))
        assert result.errors == [] and result.warnings == []
        assert [r.amount for r in result.records] == [Decimal("1000.00")]


def test_iat_foreign_payment_amount_that_disagrees_is_a_warning_and_the_entry_amount_stands() -> (
    None
):
    result = _parse(_iat_file(98500, f"{100000:018d}"))
    assert result.errors == []
    [iat] = result.records
    assert (iat.amount, iat.currency) == (Decimal("985.00"), "USD")  # what was credited
    [warning] = result.warnings
    assert warning.location == "line 3"
    assert "foreign payment amount" in warning.reason
    assert "1000.00 USD" in warning.reason and "985.00 USD" in warning.reason
    assert "FF" in warning.reason


def test_iat_foreign_payment_amount_across_a_conversion_is_not_compared() -> None:
    """FV: the 710 is the fixed amount originated in CAD; the entry is the USD it became."""
    result = _parse(_iat_file(98500, f"{134700:018d}", fx="FV", origin="CAD"))
    assert result.errors == [] and result.warnings == []
    assert [(r.amount, r.currency) for r in result.records] == [(Decimal("985.00"), "USD")]


def test_iat_foreign_payment_amount_not_digits_is_a_warning() -> None:
    result = _parse(_iat_file(100000, "1000.00".rjust(18)))
    assert [r.amount for r in result.records] == [Decimal("1000.00")]
    [warning] = result.warnings
    assert "foreign payment amount" in warning.reason and "1000.00" in warning.reason


# --- 2. zero-dollar entries carrying remittance -----------------------------------------


def _ccd(entries: list[str]) -> list[str]:
    return _file([(_header("HARBOR FOODS INC", "1445566778", "CCD", "PAYMENT", 1), entries)])


def test_zero_dollar_ctx_with_an_820_is_advice_of_the_cash_it_names() -> None:
    trace = "044000030000011"
    x12 = (
        "ISA*00*          *00*          *ZZ*HARBORFOODS    *ZZ*ACMEPARTS      *261214*0815*U*"
        "00401*000000905*0*P*>\\GS*RA*HARBORFOODS*ACMEPARTS*20261214*0815*905*X*004010\\"
        "ST*820*0001\\BPR*I*1500.00*C*ACH*CCP*01*044000037*DA*1234*1445566778**01*071000013"
        "*DA*88120456*20261215\\TRN*1*HF-EFT-20261215*1445566778\\N1*PR*HARBOR FOODS INC\\"
        "RMR*IV*INV-7101**1000.00\\RMR*IV*INV-7102**500.00\\SE*7*0001\\GE*1*905\\IEA*1*000000905\\"
    )
    addenda = _addenda(x12, trace)
    result = _parse(
        _file(
            [
                (
                    _header("HARBOR FOODS INC", "1445566778", "CTX", "REMIT ONLY", 1),
                    [_ctx_entry("24", 0, "HF-REMIT-77", trace, len(addenda)), *addenda],
                )
            ]
        )
    )
    assert result.errors == [] and result.warnings == []
    [advice] = result.records
    assert advice.advice_only is True and advice.reverses is None
    assert (advice.amount, advice.currency) == (Decimal("1500.00"), "USD")
    assert advice.payer_name == "HARBOR FOODS INC"
    assert advice.bank_reference == "HF-EFT-20261215"  # the trace its cash will name
    assert [(r.kind, r.ref, r.amount_paid) for r in advice.structured_refs] == [
        (RefKind.INVOICE, "INV-7101", Decimal("1000.00")),
        (RefKind.INVOICE, "INV-7102", Decimal("500.00")),
    ]


def test_the_advice_is_stored_as_advice_not_cash() -> None:
    trace = "044000030000012"
    [advice] = _parse(
        _ccd(
            [
                _entry("24", 0, "HF-AP-7003", "ACME PARTS", trace, True),
                *_addenda("RMR*IV*INV-7003**250.00\\", trace),
            ]
        )
    ).records
    remittance = remittance_from_raw(advice)
    assert remittance.status == RemittanceStatus.ADVICE
    assert (remittance.amount_minor, remittance.currency) == (25000, "USD")


def test_zero_dollar_rmr_of_nothing_paid_and_without_amounts_is_not_advice() -> None:
    trace = "044000030000012"
    result = _parse(
        _ccd(
            [
                _entry("24", 0, "HF-AP-7003", "ACME PARTS", trace, True),
                *_addenda("RMR*IV*INV-7003\\", trace),
                _entry("24", 0, "HF-AP-7004", "ACME PARTS", "044000030000013", True),
                *_addenda("RMR*IV*INV-7004**0.00\\", "044000030000013"),
            ]
        )
    )
    assert result.errors == [] and result.records == []
    [warning] = result.warnings  # the one naming an invoice without saying what is paid
    assert "RMR*IV*INV-7003" in warning.reason and "INV-7004" not in warning.reason


def test_zero_dollar_ccd_plus_with_rmr_amounts_is_advice_of_their_sum() -> None:
    trace = "044000030000012"
    result = _parse(
        _ccd(
            [
                _entry("24", 0, "HF-AP-7003", "ACME PARTS", trace, True),
                *_addenda("RMR*IV*INV-7003**250.00\\RMR*IV*INV-7004**125.50\\", trace),
            ]
        )
    )
    assert result.errors == [] and result.warnings == []
    [advice] = result.records
    assert advice.advice_only is True
    assert advice.amount == Decimal("375.50")
    assert advice.payer_name == "HARBOR FOODS INC"
    assert advice.end_to_end_id == "HF-AP-7003"
    assert [r.ref for r in advice.structured_refs] == ["INV-7003", "INV-7004"]


def test_zero_dollar_entry_with_free_text_is_a_warning_naming_the_text() -> None:
    trace = "044000030000013"
    result = _parse(
        _ccd(
            [
                _entry("34", 0, "HF-AP-7005", "ACME PARTS", trace, True),
                *_addenda("PAYMENT FOR INV 7005 FOLLOWS BY WIRE", trace),
            ]
        )
    )
    assert result.errors == [] and result.records == []
    [warning] = result.warnings
    assert warning.location == "line 3"
    assert "PAYMENT FOR INV 7005 FOLLOWS BY WIRE" in warning.reason
    assert "HARBOR FOODS INC" in warning.reason and "zero-dollar" in warning.reason


def test_a_live_credit_code_for_zero_dollars_with_remittance_is_treated_alike() -> None:
    trace = "044000030000014"
    result = _parse(
        _ccd(
            [
                _entry("22", 0, "HF-AP-7006", "ACME PARTS", trace, True),
                *_addenda("RMR*IV*INV-7006**80.00\\", trace),
            ]
        )
    )
    assert result.errors == [] and result.warnings == []
    [advice] = result.records
    assert (advice.advice_only, advice.amount) == (True, Decimal("80.00"))


def test_prenote_with_addenda_text_is_a_warning_naming_it() -> None:
    trace = "044000030000015"
    result = _parse(
        _ccd(
            [
                _entry("23", 0, "HF-PRENOTE", "ACME PARTS", trace, True),
                *_addenda("ACH PAYMENTS TO START 2027-01 FOR VENDOR 4411", trace),
            ]
        )
    )
    assert result.errors == [] and result.records == []
    [warning] = result.warnings
    assert "prenot" in warning.reason and "ACH PAYMENTS TO START 2027-01" in warning.reason


def test_prenote_without_addenda_is_silent() -> None:
    result = _parse(_ccd([_entry("23", 0, "HF-PRENOTE", "ACME PARTS", "044000030000016", False)]))
    assert result.errors == [] and result.warnings == [] and result.records == []


# --- 3. control warnings in the batch's currency ----------------------------------------


def test_batch_control_warning_of_an_iat_batch_names_its_currency() -> None:
    trace = "061000100000001"
    lines = _file(
        [
            (
                _iat_header(1, "CAD"),
                [_iat_entry(100000, trace, 7), *_iat_addenda(trace, f"{100000:018d}", [])],
            )
        ],
        credit_off_by=1,
    )
    result = _parse(lines)
    batch = [r for r in _reasons(result) if r.startswith("batch 0000001 control")]
    assert len(batch) == 1
    assert "100001 (1000.01 CAD)" in batch[0] and "100000 (1000.00 CAD)" in batch[0]
    assert "USD" not in batch[0]
    file_control = [r for r in _reasons(result) if r.startswith("file control")]
    assert file_control == []  # the file control sums what the batch controls state


def test_batch_control_warning_in_a_currency_without_minor_units() -> None:
    trace = "061000100000001"
    lines = _file(
        [
            (
                _iat_header(1, "JPY"),
                [_iat_entry(150000, trace, 7), *_iat_addenda(trace, f"{150000:018d}", [])],
            )
        ],
        credit_off_by=1,
    )
    [warning] = _parse(lines).warnings
    assert "150001 (150001 JPY)" in warning.reason and "USD" not in warning.reason


def test_file_control_of_batches_in_several_currencies_names_no_single_currency() -> None:
    trace = "061000100000001"
    lines = _file(
        [
            (
                _iat_header(1, "CAD"),
                [_iat_entry(100000, trace, 7), *_iat_addenda(trace, f"{100000:018d}", [])],
            ),
            (
                _header("HARBOR FOODS INC", "1445566778", "CCD", "PAYMENT", 2),
                [_entry("22", 5000, "HF-1", "ACME PARTS", "044000030000001", False)],
            ),
        ]
    )
    control = lines.index(next(line for line in lines if line.startswith("9000002")))
    lines[control] = lines[control][:31] + f"{0:012d}{105001:012d}" + lines[control][55:]
    [warning] = _parse(lines).warnings
    assert warning.reason.startswith("file control")
    assert "batches in several currencies" in warning.reason
    assert "CAD" not in warning.reason and "USD" not in warning.reason
    assert "105001" in warning.reason and "105000" in warning.reason


# --- 4. the rest of what receivers get -----------------------------------------------------


def test_ccd_plus_with_several_rmr_segments() -> None:
    trace = "044000030000021"
    result = _parse(
        _ccd(
            [
                _entry("22", 15000, "HF-AP-8001", "ACME PARTS", trace, True),
                *_addenda("RMR*IV*INV-8001**100.00\\RMR*IV*INV-8002**50.00\\", trace),
            ]
        )
    )
    assert result.errors == [] and result.warnings == []
    [cash] = result.records
    assert [(r.ref, r.amount_paid) for r in cash.structured_refs] == [
        ("INV-8001", Decimal("100.00")),
        ("INV-8002", Decimal("50.00")),
    ]


def test_ctx_with_an_820_split_over_many_addenda() -> None:
    trace = "044000030000022"
    rmrs = "".join(f"RMR*IV*INV-9{i:03d}**10.00\\" for i in range(40))
    x12 = (
        "ST*820*0001\\BPR*C*400.00*C*ACH*CTX*01*044000037*DA*1234*1445566778**01*071000013"
        f"*DA*88120456*20261214\\TRN*1*HF-EFT-9*1445566778\\N1*PR*HARBOR FOODS INC\\{rmrs}"
        "SE*45*0001\\"
    )
    addenda = _addenda(x12, trace)
    assert len(addenda) > 10
    result = _parse(
        _file(
            [
                (
                    _header("HARBOR FOODS INC", "1445566778", "CTX", "PAYMENT", 1),
                    [_ctx_entry("22", 40000, "HF-EFT-9", trace, len(addenda)), *addenda],
                )
            ]
        )
    )
    assert result.errors == [] and result.warnings == []
    [cash] = result.records
    assert cash.amount == Decimal("400.00") and len(cash.structured_refs) == 40
    assert cash.structured_refs[-1].ref == "INV-9039"


def test_ppd_plus_and_web_credits() -> None:
    result = _parse(
        _file(
            [
                (
                    _header("JANE Q CUSTOMER", "9000000001", "PPD", "BILL PAY", 1),
                    [
                        _entry("22", 4500, "ACCT-5521", "ACME PARTS", "044000030000031", True),
                        *_addenda("INVOICE INV-5521 THANKS", "044000030000031"),
                    ],
                ),
                (
                    _header("QUICKPAY NETWORK", "9900011122", "WEB", "P2P PAY", 2),
                    [_entry("32", 8950, "QP-55107", "ACME PARTS", "044000030000041", False)],
                ),
            ]
        )
    )
    assert result.errors == [] and result.warnings == []
    ppd, web = result.records
    assert (ppd.amount, ppd.free_text) == (Decimal("45.00"), "BILL PAY INVOICE INV-5521 THANKS")
    assert (web.amount, web.payer_name) == (Decimal("89.50"), "QUICKPAY NETWORK")


def test_returns_and_notifications_of_change() -> None:
    def ret(reason: str, original: str, trace: str) -> str:
        return _rec((0, "799" + reason + original + "      04400003"), (79, trace))

    def noc(code: str, original: str, corrected: str, trace: str) -> str:
        return _rec((0, "798" + code + original), (27, "04400003" + corrected), (79, trace))

    result = _parse(
        _file(
            [
                (
                    _header("ACME PARTS", "1234567890", "PPD", "AUTOPAY", 1),
                    [
                        _entry("26", 48000, "CUST-1", "HARBOR FOODS", "044000030000051", True),
                        ret("R01", "071000019990011", "044000030000051"),
                        _entry("36", 12500, "CUST-2", "RIVERTON", "044000030000052", True),
                        ret("R02", "071000019990012", "044000030000052"),
                    ],
                ),
                (
                    _header("ACME PARTS", "1234567890", "COR", "AUTOPAY", 2),
                    [
                        _entry("26", 0, "CUST-3", "PINE VALLEY", "044000030000053", True),
                        noc("C01", "071000019990013", "55500012", "044000030000053"),
                    ],
                ),
            ]
        )
    )
    assert result.errors == []
    assert [(r.amount, r.reverses) for r in result.records] == [
        (Decimal("-480.00"), "071000019990011"),
        (Decimal("-125.00"), "071000019990012"),
    ]
    [change] = result.warnings
    assert change.reason.startswith("notification of change C01")


def _plain_file() -> list[str]:
    trace = "044000030000061"
    return _ccd(
        [
            _entry("22", 250000, "HF-AP-7002", "ACME PARTS", trace, True),
            *_addenda("RMR*IV*INV-7002**2500.00\\", trace),
        ]
    )


def test_line_endings_blocking_and_padding_do_not_change_what_is_read() -> None:
    lines = _plain_file()
    expected = _parse(lines)
    assert expected.errors == [] and expected.warnings == []
    blocked_padding = [*lines[:-3], "9" * 94 * 3]  # the padding blocked on one line
    variants = {
        "lf": ("\n".join(lines) + "\n").encode(),
        "none": "".join(lines).encode(),
        "crlf no final": "\r\n".join(lines).encode(),
        "blocked": "\r\n".join("".join(lines[i : i + 10]) for i in range(0, 10, 10)).encode(),
        "blocked padding": "\r\n".join(blocked_padding).encode(),
    }
    for name, data in variants.items():
        result = parse_bank_bytes(data, "received.ach")
        assert result.format is BankFileFormat.NACHA, name
        assert (result.errors, result.warnings) == ([], []), name
        assert [r.dedup_key for r in result.records] == [r.dedup_key for r in expected.records], (
            name
        )


def test_lowercase_records() -> None:
    lines = [line.lower() for line in _plain_file()]
    result = _parse(lines)
    assert result.errors == []
    [cash] = result.records
    assert cash.amount == Decimal("2500.00")
    assert [r.ref.upper() for r in cash.structured_refs] == ["INV-7002"]


def test_a_file_with_only_a_header_is_a_warning_not_a_crash() -> None:
    result = _parse(_file([], control=False))
    assert result.records == [] and result.errors == []
    assert any("no file control" in r for r in _reasons(result))


def test_an_empty_file_of_a_day_without_entries_is_silent() -> None:
    result = _parse(_file([]))
    assert (result.records, result.errors, result.warnings) == ([], [], [])
