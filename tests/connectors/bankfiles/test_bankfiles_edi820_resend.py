"""X12 820 sent again under new control numbers: the trace (TRN02) keys the payment, not the
envelope (ISA13, GS06, ST02), so a retransmission is not stored twice."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlmodel import select

from canonical.models import Remittance
from canonical.store import Store
from connectors.bankfiles import BankFileFormat, RawRemittance, parse_bank_bytes, parse_bank_file
from connectors.bankfiles.records import dedup_key
from mappings.bankfiles.remittance import remittance_from_raw
from sync.ingest import ingest_files

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bankfiles"
# two interchanges: 000000905 (group 905, sets 0001 and 0002) and 000000017 (group 17, set 0101);
# every set has a TRN (INI0000457, GLX88120, UMB-WIRE-20261120-01)
REMITTANCE = FIXTURES / "edi820_remittance.edi"


def _renumbered(text: str) -> str:
    """``text`` as a VAN retransmits it: the same sets under new interchange, group and
    transaction set control numbers (headers and trailers alike)."""
    for old, new in [
        ("*000000905*", "*000000911*"),  # ISA13
        ("IEA*1*000000905~", "IEA*1*000000911~"),
        ("*905*X*", "*911*X*"),  # GS06
        ("GE*2*905~", "GE*2*911~"),
        ("*000000017*", "*000000023*"),
        ("IEA*1*000000017~", "IEA*1*000000023~"),
        ("*17*X*", "*23*X*"),
        ("GE*1*17~", "GE*1*23~"),
        ("820*0001~", "820*7001~"),  # ST02 and SE02
        ("*0001~", "*7001~"),
        ("820*0002~", "820*7002~"),
        ("*0002~", "*7002~"),
        ("820*0101~", "820*7101~"),
        ("*0101~", "*7101~"),
    ]:
        assert old in text, old
        text = text.replace(old, new)
    return text


def _interchange(sets: list[str], control: str = "000000301", sender: str = "PAYERHUB") -> str:
    """One interchange of one group holding ``sets`` (each its segments from BPR on, ``~``
    ended), numbered 0001, 0002, ..."""
    isa = (
        f"ISA*00*{'':10}*00*{'':10}*ZZ*{sender:<15}*ZZ*ACMEWIDGETS    *261120*0930*U*00401"
        f"*{control}*0*P*>~"
    )
    group = int(control)
    body = [isa, f"GS*RA*{sender}*ACMEWIDGETS*20261120*0930*{group}*X*004010~"]
    for n, segments in enumerate(sets, start=1):
        count = segments.count("~") + 2
        body += [f"ST*820*{n:04}~", segments, f"SE*{count}*{n:04}~"]
    body += [f"GE*{len(sets)}*{group}~", f"IEA*1*{control}~"]
    return "\n".join(body) + "\n"


def _payment(trace: str, payer: str, amount: str = "1200.00", trn: str = "1") -> str:
    """An 820 paying invoice INV-3001 by ACH, from ``payer`` with trace ``trace``."""
    return (
        f"BPR*C*{amount}*C*ACH*CCP***********20261120~TRN*{trn}*{trace}~"
        f"N1*PR*{payer}~N1*PE*ACME WIDGETS INC~RMR*IV*INV-3001**{amount}~"
    )


def _stored(store: Store) -> list[Remittance]:
    with store.session() as s:
        return list(s.exec(select(Remittance)).all())


def _records(text: str, name: str = "payments.edi") -> list[RawRemittance]:
    result = parse_bank_bytes(text.encode(), name)
    assert result.errors == [] and result.warnings == []
    return result.records


def _positional(
    isa06: str, isa13: str, gs06: str, st02: str, set_number: int, raw: RawRemittance
) -> str:
    """The key earlier versions gave a set: its interchange's sender and control numbers,
    its position in the file, its trace and amount."""
    trace = raw.bank_reference or ""
    return dedup_key(
        BankFileFormat.EDI_820, isa06, isa13, gs06, st02, set_number, trace, raw.amount
    )


def test_a_resend_under_new_control_numbers_is_the_same_remittance(
    store: Store, tmp_path: Path
) -> None:
    resend = tmp_path / "resend.edi"
    resend.write_text(_renumbered(REMITTANCE.read_text()))
    first = parse_bank_file(REMITTANCE).records
    again = parse_bank_file(resend).records
    assert [r.dedup_key for r in again] == [r.dedup_key for r in first]
    # the envelope is not what names them: their earlier (positional) keys differ
    assert all(a.also_known_as != f.also_known_as for a, f in zip(again, first, strict=True))

    [original] = ingest_files(store, [REMITTANCE]).files
    assert (original.new, original.duplicate) == (3, 0)
    [resent] = ingest_files(store, [resend]).files
    assert (resent.new, resent.duplicate, resent.rejected) == (0, 3, 0)
    assert resent.warnings == []
    assert sorted(r.amount_minor for r in _stored(store)) == [93750, 412300, 1250000]


def test_an_820_stored_under_its_earlier_positional_key_is_recognised(store: Store) -> None:
    records = parse_bank_file(REMITTANCE).records
    places = [
        ("INITECHAP", "000000905", "905", "0001", 1),
        ("INITECHAP", "000000905", "905", "0002", 2),
        ("UMBRELLAFIN", "000000017", "17", "0101", 3),
    ]
    for raw, place in zip(records, places, strict=True):
        assert raw.also_known_as == (_positional(*place, raw),)
    with store.session() as s:
        for raw in records:  # as the version before stored the file
            earlier = remittance_from_raw(raw)
            earlier.source_key = raw.also_known_as[0]
            s.add(earlier)
    [outcome] = ingest_files(store, [REMITTANCE]).files
    assert (outcome.new, outcome.duplicate) == (0, 3)
    assert len(_stored(store)) == 3


def test_two_payments_with_different_traces_in_one_file_stay_two(
    store: Store, tmp_path: Path
) -> None:
    # same payer, amount, date and invoice: only the trace tells them apart
    sets = [_payment("CHK10041", "HOOLI INC"), _payment("CHK10042", "HOOLI INC")]
    text = _interchange(sets)
    first, second = _records(text)
    assert first.dedup_key != second.dedup_key
    path = tmp_path / "two.edi"
    path.write_text(text)
    assert ingest_files(store, [path]).new == 2
    resend = tmp_path / "two-again.edi"  # and resent, they are still those two
    resend.write_text(_interchange(sets, "000000302"))
    [again] = ingest_files(store, [resend]).files
    assert (again.new, again.duplicate) == (0, 2)
    assert len(_stored(store)) == 2


def test_the_same_trace_from_two_payers_is_two_payments(store: Store, tmp_path: Path) -> None:
    hooli, vandelay = tmp_path / "hooli.edi", tmp_path / "vandelay.edi"
    hooli.write_text(_interchange([_payment("000123", "HOOLI INC")], "000000040", "HOOLI"))
    vandelay.write_text(
        _interchange([_payment("000123", "VANDELAY INDUSTRIES")], "000000040", "VANDELAY")
    )
    report = ingest_files(store, [hooli, vandelay])
    assert (report.new, report.duplicate) == (2, 0)
    assert sorted(r.payer_name or "" for r in _stored(store)) == [
        "HOOLI INC",
        "VANDELAY INDUSTRIES",
    ]
    # in one interchange too
    both = [_payment("000123", "HOOLI INC"), _payment("000123", "VANDELAY INDUSTRIES")]
    first, second = _records(_interchange(both))
    assert first.dedup_key != second.dedup_key


def test_the_payer_id_and_trn03_tell_payers_apart() -> None:
    a = _payment("000123", "ACME HOLDINGS").replace("N1*PR*ACME HOLDINGS~", "N1*PR*ACME*FI*111~")
    b = _payment("000123", "ACME HOLDINGS").replace("N1*PR*ACME HOLDINGS~", "N1*PR*ACME*FI*222~")
    c = _payment("000123", "ACME HOLDINGS").replace("TRN*1*000123~", "TRN*1*000123*1111111111~")
    keys = [r.dedup_key for r in _records(_interchange([a, b, c]))]
    assert len(set(keys)) == 3


def test_an_amount_or_a_date_apart_is_another_payment() -> None:
    base = _payment("EFT-77", "HOOLI INC")
    other_amount = _payment("EFT-77", "HOOLI INC", amount="1200.01")
    other_day = base.replace("20261120~", "20261121~")
    records = _records(_interchange([base, other_amount, other_day]))
    assert [r.value_date for r in records] == [date(2026, 11, 20)] * 2 + [date(2026, 11, 21)]
    keys = [r.dedup_key for r in records]
    assert len(set(keys)) == 3
    # while "1200.00" and "1200" are one amount
    again = _records(_interchange([_payment("EFT-77", "HOOLI INC", amount="1200")], "000000302"))
    assert again[0].dedup_key == keys[0]


def test_one_trace_twice_in_a_file_keeps_both_by_position() -> None:
    """A trace two sets of one file share (a payer that numbers no payments) names neither:
    each keeps its positional key, as before."""
    twins = _records(_interchange([_payment("1", "HOOLI INC"), _payment("1", "HOOLI INC")]))
    assert twins[0].dedup_key != twins[1].dedup_key
    assert all(r.also_known_as == () for r in twins)


def test_without_a_trace_of_its_own_the_envelope_and_position_key_the_set() -> None:
    """No TRN, a placeholder trace, or TRN01 2 (the trace of an earlier transaction this one
    refers to): the key stays positional, with no earlier key."""
    no_trn = _payment("X", "HOOLI INC").replace("TRN*1*X~", "")
    placeholder = _payment("NONREF", "HOOLI INC")
    referenced = _payment("CHK10041", "HOOLI INC", trn="2")
    sets = [no_trn, placeholder, referenced]
    first = _records(_interchange(sets))
    again = _records(_interchange(sets, "000000302"))
    assert all(r.also_known_as == () for r in first + again)
    assert not {r.dedup_key for r in first} & {r.dedup_key for r in again}


def test_an_820_in_ctx_addenda_is_keyed_by_the_ach_trace_whatever_its_control_numbers() -> None:
    lines = (FIXTURES / "nacha_ccd_ctx.ach").read_text().splitlines()
    assert lines[11].startswith("705ST*820*0001\\") and "SE*12*0001\\" in lines[14]
    resent = list(lines)
    resent[0] = lines[0][:23] + "2611210930" + lines[0][33:]  # a new file creation time
    resent[11] = lines[11].replace("ST*820*0001", "ST*820*0077")
    resent[14] = lines[14].replace("SE*12*0001", "SE*12*0077")
    ctx = parse_bank_bytes("\n".join(lines).encode(), "a.ach").records[-1]
    again = parse_bank_bytes("\n".join(resent).encode(), "b.ach").records[-1]
    assert (ctx.bank_reference, ctx.amount) == ("091000010000457", Decimal("937.50"))
    assert again.dedup_key == ctx.dedup_key and ctx.also_known_as != ()
