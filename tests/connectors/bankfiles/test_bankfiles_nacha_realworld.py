"""NACHA files as receiving banks deliver them: returns without their 99 addenda, CTX entries
whose 820 states another amount than the entry, and a mixed CCD+/PPD/WEB file read the same
with LF, CRLF, no line breaks and records trimmed of their trailing blanks.

Every record is built field by field at the positions the NACHA Operating Rules give; batch
and file controls add up, so the only warnings are the ones under test.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest

from connectors.bankfiles.nacha import parse_nacha
from tests.support.nacha_records import OUR_ACCOUNT, OUR_ROUTING
from tests.support.nacha_records import record as _rec

ODFI = "06100010"  # the originating bank's routing number (8 digits), as traces start


def _trace(n: int) -> str:
    return f"{ODFI}{n:07d}"


def _header(sec: str, company: str, company_id: str, text: str, n: int) -> str:
    """A batch header, service class 200 (credits and debits), effective date 2026-03-16."""
    return _rec(
        (0, "5200" + company.ljust(16)),
        (40, company_id + sec + text.ljust(10)),
        (63, "260313" + "260316" + "075"),
        (78, "1" + ODFI + f"{n:07d}"),
    )


def _entry(code: str, cents: int, ident: str, name: str, n: int, addenda: int = 0) -> str:
    """A CCD/PPD/WEB entry: 40-54 identification, 55-76 receiver name, 80-94 trace."""
    return _rec(
        (0, "6" + code + OUR_ROUTING),
        (12, OUR_ACCOUNT),
        (29, f"{cents:010d}" + ident.ljust(15)),
        (54, name),
        (78, ("1" if addenda else "0") + _trace(n)),
    )


def _ctx_entry(cents: int, ident: str, n: int, addenda: int) -> str:
    """A CTX entry: 55-58 number of addenda records, 59-74 receiving company name."""
    return _rec(
        (0, "622" + OUR_ROUTING),
        (12, OUR_ACCOUNT),
        (29, f"{cents:010d}" + ident.ljust(15) + f"{addenda:04d}" + "ACME PARTS"),
        (78, "1" + _trace(n)),
    )


def _addenda(text: str, seq: int, n: int) -> str:
    """A 705 addenda: 4-83 payment related information, 84-87 sequence, 88-94 entry seq."""
    return _rec((0, "705" + text), (83, f"{seq:04d}" + _trace(n)[-7:]))


def _ctx(x12: str, cents: int, n: int) -> list[str]:
    """A CTX entry carrying ``x12`` in 80-character pieces, one a 705 addenda."""
    pieces = [x12[i : i + 80] for i in range(0, len(x12), 80)]
    addenda = [_addenda(piece, i, n) for i, piece in enumerate(pieces, start=1)]
    return [_ctx_entry(cents, "VEND-4410", n, len(addenda)), *addenda]


def _file(batches: list[tuple[str, list[str]]]) -> str:
    """A file header, the batches each with its control, a file control and 9s padding."""
    lines = [
        _rec(
            (0, "101 " + OUR_ROUTING + " " + ODFI + "42603160815A094101"),
            (40, "FIRST LAKE BANK"),
            (63, "ACME PARTS"),
        )
    ]
    total = [0, 0, 0, 0]
    for number, (header, records) in enumerate(batches, start=1):
        entries = [r for r in records if r[0] == "6"]
        figures = [
            len(records),
            sum(int(r[3:11]) for r in entries),
            sum(int(r[29:39]) for r in entries if r[2] not in "01234"),
            sum(int(r[29:39]) for r in entries if r[2] in "01234"),
        ]
        total = [a + b for a, b in zip(total, figures, strict=True)]
        count, entry_hash, debits, credits = figures
        control = _rec(
            (0, "8200" + f"{count:06d}{entry_hash % 10**10:010d}{debits:012d}{credits:012d}"),
            (44, header[40:50]),
            (79, ODFI + f"{number:07d}"),
        )
        lines += [header, *records, control]
    blocks = -(-(len(lines) + 1) // 10)
    count, entry_hash, debits, credits = total
    lines.append(
        _rec(
            (
                0,
                f"9{len(batches):06d}{blocks:06d}{count:08d}{entry_hash % 10**10:010d}"
                f"{debits:012d}{credits:012d}",
            )
        )
    )
    lines += ["9" * 94] * (-len(lines) % 10)
    return "\n".join(lines) + "\n"


def _returns_batch() -> tuple[str, list[str]]:
    """Returns the receiving side's bank sent without their 99 addenda (addenda indicator 0),
    beside a CCD credit."""
    return (
        _header("CCD", "GLOBEX CORP", "1234567890", "PAYMENT", 1),
        [
            _entry("26", 12500, "GLX-DD-0042", "GLOBEX CORP", 11),  # our debit coming back
            _entry("21", 4000, "REFUND-77", "GLOBEX CORP", 12),  # a credit we sent, back
            _entry("26", 0, "GLX-DD-0043", "GLOBEX CORP", 13),  # 0.00: a NOC without its 98
            _entry("22", 90000, "GLX-AP-9001", "ACME PARTS", 14),
        ],
    )


def test_a_return_of_our_debit_without_its_99_addenda_takes_the_cash_back_with_a_warning() -> None:
    result = parse_nacha(_file([_returns_batch()]), "returns.ach")
    assert result.errors == []
    returned, credit = result.records
    assert (returned.amount, returned.reverses) == (Decimal("-125.00"), "unknown")
    assert returned.bank_reference == _trace(11)
    assert (credit.amount, credit.bank_reference) == (Decimal("900.00"), _trace(14))
    warning = next(w for w in result.warnings if w.location == "line 3")
    assert _trace(11) in warning.reason and "without its return (99) addenda" in warning.reason
    assert "taken back" in warning.reason


def test_a_return_of_our_credit_or_a_zero_return_without_addenda_is_named_not_dropped() -> None:
    result = parse_nacha(_file([_returns_batch()]), "returns.ach")
    by_line = {w.location: w.reason for w in result.warnings}
    assert set(by_line) == {"line 3", "line 4", "line 5"}
    assert (
        _trace(12) in by_line["line 4"] and "not a customer paying, left out" in by_line["line 4"]
    )
    assert "40.00 USD" in by_line["line 4"]
    assert _trace(13) in by_line["line 5"] and "it moves no money, left out" in by_line["line 5"]
    assert [r.bank_reference for r in result.records] == [_trace(11), _trace(14)]


def _walmart_820(bpr02: str, paid: tuple[str, str]) -> str:
    """An 820 as a retailer's AP system puts it in CTX addenda ('\\' ends each segment)."""
    first, second = paid
    return (
        "ISA*00*          *00*          *01*0071464860     *ZZ*ACMEPARTS      "
        "*260313*0815*U*00401*000004410*0*P*>\\"
        "GS*RA*0071464860*ACMEPARTS*20260313*0815*4410*X*004010\\"
        "ST*820*0001\\"
        f"BPR*C*{bpr02}*C*ACH*CTX*01*061000104*DA*44556677*1710415188**01*071000013*DA*"
        f"{OUR_ACCOUNT}*20260316\\"
        "TRN*1*0004410778*1710415188\\"
        "N1*PR*WAL-MART STORES INC\\"
        "N1*PE*ACME PARTS*92*VEND-4410\\"
        "ENT*1\\"
        f"RMR*IV*INV-20771*PO*{first}*1200.00*24.00\\"
        "DTM*003*20260210\\"
        f"RMR*IV*INV-20790*PO*{second}*1100.00\\"
        "SE*9*0001\\GE*1*4410\\IEA*1*000004410\\"
    )


def test_a_ctx_whose_820_states_another_payment_amount_is_kept_at_the_entry_amount() -> None:
    # the bank credited 2276.00, the 820 in the addenda says the payment is 2300.00
    x12 = _walmart_820("2300.00", ("1176.00", "1100.00"))
    batch = (
        _header("CTX", "WAL-MART STORES", "1710415188", "EDI PYMNTS", 1),
        _ctx(x12, 227600, 21),
    )
    result = parse_nacha(_file([batch]), "ctx.ach")
    assert result.errors == []
    (record,) = result.records
    assert record.amount == Decimal("2276.00")  # the entry's amount is the cash
    assert record.payer_name == "WAL-MART STORES INC"
    assert [(r.ref, r.amount_paid) for r in record.structured_refs] == [
        ("INV-20771", Decimal("1176.00")),
        ("INV-20790", Decimal("1100.00")),
    ]
    # the BPR starts in the third 80-character piece: line 6, the entry being on line 3
    (bpr02, rmr_sum) = result.warnings
    assert bpr02.location == "line 6 (addenda), segment 4 (BPR), BPR02"
    assert _trace(21) in bpr02.reason
    assert "2300.00 USD" in bpr02.reason and "2276.00 USD credited" in bpr02.reason
    assert rmr_sum.location == bpr02.location and "RMR04" in rmr_sum.reason


def test_a_ctx_whose_amounts_paid_do_not_add_up_to_its_payment_is_a_warning() -> None:
    x12 = _walmart_820("2276.00", ("1176.00", "1000.00"))  # 2176.00 of documents paid
    batch = (
        _header("CTX", "WAL-MART STORES", "1710415188", "EDI PYMNTS", 1),
        _ctx(x12, 227600, 22),
    )
    result = parse_nacha(_file([batch]), "ctx.ach")
    assert result.errors == [] and [r.amount for r in result.records] == [Decimal("2276.00")]
    (warning,) = result.warnings
    assert _trace(22) in warning.reason and "2176.00 USD" in warning.reason
    assert "2276.00 USD (BPR02)" in warning.reason


def test_a_ctx_whose_820_agrees_with_its_entry_is_silent() -> None:
    x12 = _walmart_820("2276.00", ("1176.00", "1100.00"))
    batch = (
        _header("CTX", "WAL-MART STORES", "1710415188", "EDI PYMNTS", 1),
        _ctx(x12, 227600, 23),
    )
    result = parse_nacha(_file([batch]), "ctx.ach")
    assert result.errors == [] and result.warnings == []
    (record,) = result.records
    assert (record.amount, record.bank_reference) == (Decimal("2276.00"), _trace(23))
    assert record.structured_refs[0].document_date == date(2026, 2, 10)
    assert record.structured_refs[0].discount == Decimal("24.00")


def _mixed_file() -> str:
    """CCD+ (an RMR with '\\' ending it), a debit and prenotes in one service class 200
    batch, a PPD and a WEB credit."""
    ccd = (
        _header("CCD", "GLOBEX CORP", "1234567890", "PAYMENT", 1),
        [
            _entry("22", 123456, "CUST-881", "ACME PARTS", 31, 1),
            _addenda("RMR*IV*INV-501*PI*1234.56*1300.00*65.44\\", 1, 31),
            _entry("27", 9999, "FEE-MAR", "ACME PARTS", 32),  # a debit of our account
            _entry("23", 0, "NEWVENDOR", "ACME PARTS", 33),  # prenotes move no money
            _entry("28", 0, "NEWVENDOR", "ACME PARTS", 34),
        ],
    )
    ppd = (
        _header("PPD", "JOHN Q PUBLIC", "9999999999", "BILLPAY", 2),
        [_entry("22", 2500, "ACCT-1009", "JOHN PUBLIC", 35)],
    )
    web = (
        _header("WEB", "PAYPLATFORM INC", "1555555555", "WEBPMT", 3),
        [_entry("22", 4200, "ORDER-77", "JANE ROE", 36, 1), _addenda("INV 9001", 1, 36)],
    )
    return _file([ccd, ppd, web])


@pytest.mark.parametrize(
    "transform",
    [
        lambda text: text,
        lambda text: text.replace("\n", "\r\n"),
        lambda text: text.replace("\n", ""),
        lambda text: "\r\n".join(line.rstrip() for line in text.split("\n")),
    ],
    ids=["lf", "crlf", "unbroken", "trimmed"],
)
def test_a_mixed_file_reads_alike_however_its_lines_end(transform: Callable[[str], str]) -> None:
    result = parse_nacha(transform(_mixed_file()), "mixed.ach")
    assert result.errors == [] and result.warnings == []
    assert [(r.amount, r.payer_name, r.end_to_end_id, r.value_date) for r in result.records] == [
        (Decimal("1234.56"), "GLOBEX CORP", "CUST-881", date(2026, 3, 16)),
        (Decimal("25.00"), "JOHN Q PUBLIC", "ACCT-1009", date(2026, 3, 16)),
        (Decimal("42.00"), "PAYPLATFORM INC", "ORDER-77", date(2026, 3, 16)),
    ]
    (ref,) = result.records[0].structured_refs
    assert (ref.ref, ref.amount_paid, ref.invoice_amount, ref.discount) == (
        "INV-501",
        Decimal("1234.56"),
        Decimal("1300.00"),
        Decimal("65.44"),
    )
