"""Debits that take back a credit counted before are reversals; other debits stay skipped.

NACHA: a reversing entry (NACHA Operating Rules: a batch whose Company Entry Description is
"REVERSAL"; same SEC code, company identification and amount as the erroneous entry, a trace
of its own) and the loan account debit 55 (for reversals only). BAI2: the detail type codes of
the BAI "Cash Management Balance Reporting Specifications Version 2" for returned or reversed
items (423, 552, 555, 557, 558, 561, 566, 694); adjustments and settlement totals stay out.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from canonical.models import Remittance
from canonical.store import Store
from connectors.bankfiles import BankFileFormat, parse_bank_bytes, parse_bank_file
from reconciler import reconcile
from sync.ingest import ingest_files
from tests.support.receivables import Book, applied, decision

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bankfiles"
OUR_BANK = "071000013"
HEADER = "101 071000013 044000036{created}0815A094101"


def _rec(*fields: tuple[int, str]) -> str:
    """A 94-character record from (start column, text) pairs, blanks elsewhere."""
    chars = [" "] * 94
    for start, text in fields:
        chars[start : start + len(text)] = text
    return "".join(chars)


def _batch_header(
    company: str,
    company_id: str,
    description: str,
    number: int,
    sec: str = "CCD",
    effective: str = "261208",
) -> str:
    odfi = "04400003" if company.startswith("HARBOR") else "06100010"
    return _rec(
        (0, "5200"),
        (4, company[:16]),
        (40, company_id),
        (50, sec),
        (53, description),
        (69, effective),
        (78, "1"),
        (79, odfi),
        (87, f"{number:07d}"),
    )


def _entry(code: str, cents: int, ident: str, trace: str, addenda: bool = False) -> str:
    """An entry to our checking account 88120456 at First Lake Bank, for ACME PARTS."""
    return _rec(
        (0, "6" + code + OUR_BANK[:8] + OUR_BANK[8]),
        (12, "88120456"),
        (29, f"{cents:010d}"),
        (39, ident),
        (54, "ACME PARTS"),
        (78, "1" if addenda else "0"),
        (79, trace),
    )


def _addenda(text: str, trace: str) -> str:
    return _rec((0, "705" + text), (83, "0001" + trace[-7:]))


def _return_addenda(reason: str, original_trace: str, trace: str) -> str:
    return _rec((0, "799" + reason + original_trace + "      04400003"), (79, trace))


def _nacha(*batches: tuple[str, list[str]], created: str = "261208") -> str:
    """A file of (batch header, entry and addenda records): batch and file controls that add
    up (counts, entry hashes, debit and credit totals), padded to blocks of ten."""
    lines = [_rec((0, HEADER.format(created=created)), (40, "FIRST LAKE BANK"), (63, "ACME PARTS"))]
    count = hash_sum = debits = credits = 0
    for header, records in batches:
        entries = [r for r in records if r[0] == "6"]
        b_hash = sum(int(r[3:11]) for r in entries)
        b_debit = sum(int(r[29:39]) for r in entries if r[2] in "56789")
        b_credit = sum(int(r[29:39]) for r in entries if r[2] in "01234")
        lines += [header, *records]
        lines.append(
            _rec(
                (0, "8" + header[1:4] + f"{len(records):06d}"),
                (10, f"{b_hash % 10**10:010d}{b_debit:012d}{b_credit:012d}"),
                (44, header[40:50]),
                (79, header[79:94]),
            )
        )
        count, hash_sum = count + len(records), hash_sum + b_hash
        debits, credits = debits + b_debit, credits + b_credit
    blocks = -(-(len(lines) + 1) // 10)
    lines.append(
        _rec(
            (0, f"9{len(batches):06d}{blocks:06d}{count:08d}"),
            (21, f"{hash_sum % 10**10:010d}{debits:012d}{credits:012d}"),
        )
    )
    lines += ["9" * 94] * (blocks * 10 - len(lines))
    return "\n".join(lines) + "\n"


HARBOR = ("HARBOR FOODS INC", "1445566778")


def reversals_file() -> str:
    """``nacha_reversals.ach``: a same-day duplicate and its reversal, reversals of an earlier
    credit and of one without identification, an originator's reversing credit, a debit."""
    return _nacha(
        (
            _batch_header(*HARBOR, "PAYMENT", 1),
            [
                _entry("22", 125000, "HF-AP-20931", "044000030000101", addenda=True),
                _addenda("RMR*IV*INV-2026-0431**1250.00\\", "044000030000101"),
                _entry("22", 64000, "HF-AP-20932", "044000030000102"),
            ],
        ),
        (
            _batch_header(*HARBOR, "REVERSAL", 2),
            [
                # the duplicate sent in error this morning, its addenda carried over
                _entry("27", 125000, "HF-AP-20931", "044000030000201", addenda=True),
                _addenda("RMR*IV*INV-2026-0431**1250.00\\", "044000030000201"),
                # a credit of an earlier file (nacha_reversed_credit.ach)
                _entry("27", 48000, "HF-AP-20877", "044000030000202"),
                # a credit that named no identification
                _entry("27", 7500, "", "044000030000203"),
            ],
        ),
        # an originator gives back what it debited from us in error: cash received
        (
            _batch_header("BRIGHTLINE UTIL", "3998877665", "REVERSAL", 3),
            [_entry("22", 31055, "ACME-0042", "061000100000301")],
        ),
        # an ordinary debit: not our cash
        (
            _batch_header("NORTHSTAR MUTUAL", "2776655443", "PREMIUM", 4),
            [_entry("27", 102000, "POL-55-1177", "061000100000401")],
        ),
    )


def reversed_credit_file() -> str:
    """``nacha_reversed_credit.ach``: the earlier credit a reversal of the file above takes
    back, paying INV-2026-0415."""
    return _nacha(
        (
            _batch_header(*HARBOR, "PAYMENT", 1, effective="261203"),
            [
                _entry("22", 48000, "HF-AP-20877", "044000030000011", addenda=True),
                _addenda("RMR*IV*INV-2026-0415**480.00\\", "044000030000011"),
            ],
        ),
        created="261203",
    )


def test_the_fixtures_are_what_the_builder_writes() -> None:
    assert (FIXTURES / "nacha_reversals.ach").read_text() == reversals_file()
    assert (FIXTURES / "nacha_reversed_credit.ach").read_text() == reversed_credit_file()


def test_nacha_reversing_debits_take_back_the_credits_they_name() -> None:
    result = parse_bank_file(FIXTURES / "nacha_reversals.ach")
    assert result.format is BankFileFormat.NACHA
    assert result.errors == [] and result.warnings == []  # its 8 and 9 records add up
    duplicate, other, same_day, earlier, unnamed, utility = result.records
    assert (duplicate.amount, duplicate.end_to_end_id) == (Decimal("1250.00"), "HF-AP-20931")
    assert (other.amount, other.reverses) == (Decimal("640.00"), None)

    # the reversal of a credit in the same file names that credit by its key
    assert (same_day.line, same_day.amount, same_day.currency) == (8, Decimal("-1250.00"), "USD")
    assert same_day.reverses == duplicate.dedup_key
    assert same_day.free_text == "REVERSAL OF HF-AP-20931"
    assert (same_day.payer_name, same_day.payer_account) == ("HARBOR FOODS INC", "1445566778")
    assert same_day.bank_reference == "044000030000201"  # its own trace, not the original's
    assert same_day.end_to_end_id is None
    assert same_day.structured_refs == ()  # the carried-over RMR is not a new remittance
    assert same_day.value_date == date(2026, 12, 8)
    assert len(same_day.raw.splitlines()) == 2  # the entry and its addenda

    # one of an earlier file: by the identification number it shares with that credit
    assert (earlier.line, earlier.amount) == (10, Decimal("-480.00"))
    assert (earlier.reverses, earlier.free_text) == ("HF-AP-20877", "REVERSAL OF HF-AP-20877")
    assert (unnamed.amount, unnamed.reverses) == (Decimal("-75.00"), "unknown")
    assert unnamed.free_text == "REVERSAL OF unknown"

    # a credit in a REVERSAL batch is cash received; the PREMIUM debit is skipped
    assert (utility.amount, utility.reverses) == (Decimal("310.55"), None)
    assert (utility.payer_name, utility.free_text) == ("BRIGHTLINE UTIL", "REVERSAL")
    assert [r.line for r in result.records] == [3, 5, 8, 10, 11, 14]
    assert len({r.dedup_key for r in result.records}) == 6


def test_a_reversal_that_fits_two_credits_of_its_file_keeps_the_identification() -> None:
    text = _nacha(
        (
            _batch_header(*HARBOR, "PAYMENT", 1),
            [
                _entry("22", 48000, "HF-AP-20877", "044000030000011"),
                _entry("22", 48000, "HF-AP-20877", "044000030000012"),
            ],
        ),
        (
            _batch_header(*HARBOR, "REVERSAL", 2),
            [_entry("27", 48000, "HF-AP-20877", "044000030000021")],
        ),
    )
    result = parse_bank_bytes(text.encode(), "twice.ach")
    assert result.errors == [] and result.warnings == []
    *_, back = result.records
    assert (back.amount, back.reverses) == (Decimal("-480.00"), "HF-AP-20877")


def test_a_reversal_names_only_a_credit_of_the_same_originator_and_amount() -> None:
    text = _nacha(
        (
            _batch_header("GLOBEX CORP", "1234567890", "PAYMENT", 1),
            [_entry("22", 48000, "HF-AP-20877", "044000030000011")],
        ),
        (
            _batch_header(*HARBOR, "PAYMENT", 2),
            [_entry("22", 48001, "HF-AP-20877", "044000030000021")],
        ),
        (
            _batch_header(*HARBOR, "REVERSAL", 3),
            [_entry("27", 48000, "HF-AP-20877", "044000030000031")],
        ),
    )
    result = parse_bank_bytes(text.encode(), "others.ach")
    assert result.errors == [] and result.warnings == []
    *_, back = result.records
    assert (back.amount, back.reverses) == (Decimal("-480.00"), "HF-AP-20877")


def test_a_loan_account_debit_is_a_reversal_whatever_its_batch_says() -> None:
    """Transaction code 55 (automated loan account debit) is for reversals only."""
    text = _nacha(
        (
            _batch_header(*HARBOR, "LOAN PMT", 1),
            [
                _entry("52", 250000, "LN-0099", "044000030000011"),
                _entry("55", 250000, "LN-0099", "044000030000012"),
                _entry("27", 9900, "LN-0099", "044000030000013"),  # a debit: skipped
                _entry("37", 9900, "LN-0099", "044000030000014"),  # a debit: skipped
            ],
        ),
    )
    result = parse_bank_bytes(text.encode(), "loan.ach")
    assert result.errors == [] and result.warnings == []
    credit, back = result.records
    assert (back.amount, back.reverses) == (Decimal("-2500.00"), credit.dedup_key)
    assert back.free_text == "REVERSAL OF LN-0099"


def test_savings_and_general_ledger_reversals_and_prenotes() -> None:
    text = _nacha(
        (
            _batch_header(*HARBOR, "REVERSAL", 1),
            [
                _entry("37", 1000, "SV-1", "044000030000011"),
                _entry("47", 2000, "GL-1", "044000030000012"),
                _entry("28", 0, "PN-1", "044000030000013"),  # a prenote: no amount
                _entry("27", 0, "ZERO", "044000030000014"),  # nothing taken back
            ],
        ),
    )
    result = parse_bank_bytes(text.encode(), "kinds.ach")
    assert result.errors == [] and result.warnings == []
    assert [(r.amount, r.reverses) for r in result.records] == [
        (Decimal("-10.00"), "SV-1"),
        (Decimal("-20.00"), "GL-1"),
    ]


def test_dishonored_and_contested_returns_take_nothing_back_again() -> None:
    """A return (R01) takes the collected cash back; the originator's bank dishonoring it
    (R61-R70) and the receiver's bank contesting that (R71-R77) concern the same return."""
    text = _nacha(
        (
            _batch_header("ACME PARTS", "1445566778", "RETURN", 1, sec="PPD"),
            [
                _entry("26", 48000, "CUST-4471", "071000010000011", addenda=True),
                _return_addenda("R01", "071000019999001", "071000010000011"),
                _entry("26", 48000, "CUST-4471", "071000010000012", addenda=True),
                _return_addenda("R69", "071000019999001", "071000010000012"),
                _entry("26", 48000, "CUST-4471", "071000010000013", addenda=True),
                _return_addenda("R72", "071000019999001", "071000010000013"),
                _entry("26", 48000, "CUST-4471", "071000010000014", addenda=True),
                _return_addenda("R70", "071000019999001", "071000010000014"),
            ],
        ),
    )
    result = parse_bank_bytes(text.encode(), "returns.ach")
    assert result.errors == []
    [returned] = result.records
    assert (returned.amount, returned.reverses) == (Decimal("-480.00"), "071000019999001")
    assert returned.free_text == "ACH RETURN R01 OF TRACE 071000019999001"
    # money moves, so each is named in a warning (left out, as it was)
    assert [(w.location, w.reason.split(",")[0]) for w in result.warnings] == [
        ("line 5", "a dishonored return"),
        ("line 7", "a contested dishonored return"),
        ("line 9", "a dishonored return"),
    ]
    assert "(return reason R69)" in result.warnings[0].reason


def test_bai2_debits_that_take_back_an_item_are_reversals() -> None:
    result = parse_bank_file(FIXTURES / "bai2_reversals.bai")
    assert result.errors == []  # trailers add up
    seen = [(r.line, r.amount, r.reverses, r.free_text) for r in result.records]
    assert seen == [
        (4, Decimal("480.00"), None, "ENTRY DESCR:PAYMENT"),
        (
            5,
            Decimal("-480.00"),
            "HF-AP-20877",
            "ACH REVERSAL DEBIT ENTRY DESCR:REVERSAL",
        ),
        (6, Decimal("-250.00"), "PV-CR-3301", "CREDIT REVERSAL PINE VALLEY COOP"),
        (7, Decimal("-910.00"), "RIT0000000044", "RETURN ITEM CHECK 8812 UNPAID"),
        (8, Decimal("-1500.00"), "LBX0000123401", "DEPOSIT REVERSAL LOCKBOX BATCH 001"),
        (9, Decimal("-330.00"), "AR-COLL-0061", "INDIVIDUAL REJECTED DEBIT AR COLLECTION"),
        (10, Decimal("-120.00"), "EDX-2207", "EDIBANX RETURN ITEM DEBIT EDX 2207"),
    ]
    back = result.records[1]
    assert (back.payer_name, back.payer_account) == ("HARBOR FOODS INC", "1445566778")
    assert back.structured_refs == ()
    # 468 (a settlement total), 554, 695, 568 and 631 (corrections and adjustments) may take
    # back cash counted before, not as one item: each is left out with a warning; 451 and 475
    # (ordinary debits: payments of ours) are left out without one, as camt's debits are
    taken_back = (
        "it may take back cash counted before, though not as one item taken back whole "
        "(check it in the bank's report), left out"
    )
    assert [(w.location, w.reason) for w in result.warnings] == [
        (f"line {line}", f"a debit of {amount} USD with type code {code}: {taken_back}")
        for line, amount, code in [
            (11, "600.00", "468 (ACH Return Item or Adjustment Settlement)"),
            (12, "50.00", "554 (Posting Error Correction Debit)"),
            (13, "25.00", "695 (Deposit Correction Debit)"),
            (14, "10.00", "568 (Return Item Adjustment)"),
            (15, "7.00", "631 (Debit Adjustment)"),
        ]
    ]


def _remittances(store: Store) -> list[Remittance]:
    with store.session() as s:
        return list(s.execute(select(Remittance)).scalars())


def test_a_nacha_reversal_becomes_an_exception_naming_the_payment_it_takes_back(
    store: Store,
) -> None:
    book = Book(store)
    harbor = book.customer("Harbor Foods Inc")
    book.invoice(harbor, "INV-2026-0415", "480.00")
    book.invoice(harbor, "INV-2026-0431", "1250.00")
    ingest_files(store, [FIXTURES / "nacha_reversed_credit.ach"])
    reconcile(store)
    [cash] = _remittances(store)
    assert decision(store, cash.id).status == "auto_applied"
    assert applied(store, cash.id) == {"INV-2026-0415": "480.00"}

    ingest_files(store, [FIXTURES / "nacha_reversals.ach"])
    summary = reconcile(store)
    assert summary.reversals == 3
    by_amount = {r.amount_minor: r for r in _remittances(store)}

    taken = decision(store, by_amount[-48000].id)
    assert (taken.status, taken.exception_kind) == ("exception", "returned_payment")
    assert taken.evidence["reverses"] == "HF-AP-20877"
    assert taken.evidence["event"] == "REVERSAL OF HF-AP-20877"
    assert taken.evidence["original"]["remittance"] == cash.id
    assert taken.evidence["paid"] == [{"invoice": "INV-2026-0415", "amount": "480.00"}]
    assert applied(store, cash.id) == {"INV-2026-0415": "480.00"}  # a person reverses it

    # the same-day duplicate is taken back before it is applied, by its key
    duplicate = by_amount[125000]
    kept = decision(store, duplicate.id)
    assert (kept.rule, kept.exception_kind) == ("taken_back", "returned_payment")
    assert applied(store, duplicate.id) == {}
    same_day = decision(store, by_amount[-125000].id)
    assert same_day.evidence["original"]["remittance"] == duplicate.id

    unknown = decision(store, by_amount[-7500].id)
    assert (unknown.evidence["reverses"], unknown.evidence["original"]) == ("unknown", None)
