"""A CTX credit whose 820 the bank also delivers on its own: banks' EDI services translate the
X12 820 a CTX entry carries in its 705 addenda into an 820 file for the receiver (BPR01 ``C``,
the same TRN02 reassociation trace), beside the ACH file of the entry itself. The CTX's
identification number (positions 40-54) is often the payer's vendor number, not the TRN02.

The two are one payment: the entry is the cash, the 820 its advice. The entry once stated
the 820's trace nowhere (its 820 segments are no free text), so ingest stored both as cash
and counted 1500.00 twice. The entry now states ``TRN <trace>`` in its free text, where the
820's trace is looked for, and the 820 becomes its advice in either order of the files.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from canonical.enums import RemittanceStatus
from canonical.models import Remittance
from canonical.store import Store
from connectors.bankfiles.nacha import parse_nacha
from sync.ingest import ingest_files
from tests.connectors.bankfiles.test_bankfiles_nacha_realworld import _ctx, _file, _header
from tests.support.nacha_records import OUR_ACCOUNT, OUR_ROUTING

_ISA = (
    "ISA*00*          *00*          *ZZ*BIGBUYER       *ZZ*ACMEPARTS      *260316*0815*U*00401*"
    "000004410*0*P*>"
)


def _820(terminator: str, trace: str = "0004410778", trn01: str = "1") -> str:
    segments = [
        _ISA,
        "GS*RA*BIGBUYER*ACMEPARTS*20260316*0815*4410*X*004010",
        "ST*820*0001",
        "BPR*C*1500.00*C*ACH*CTX*01*061000104*DA*44556677*1710415188**01*"
        f"{OUR_ROUTING}*DA*{OUR_ACCOUNT}*20260316",
        f"TRN*{trn01}*{trace}*1710415188",
        "N1*PR*BIG BUYER STORES INC",
        "ENT*1",
        "RMR*IV*A-1001*PI*1000.00*1000.00",
        "RMR*IV*A-1002*PI*500.00*510.00*10.00",
        "SE*8*0001",
        "GE*1*4410",
        "IEA*1*000004410",
    ]
    return terminator.join(segments) + terminator


def _ach(x12: str) -> str:
    header = _header("CTX", "BIG BUYER STORES", "1710415188", "EDI PYMNTS", 1)
    return _file([(header, _ctx(x12, 150000, 60))])


def test_the_ctx_entry_states_its_820s_trace() -> None:
    result = parse_nacha(_ach(_820("\\")), "receive.ach")
    assert result.errors == [] and result.warnings == []
    [credit] = result.records
    assert credit.amount == 1500 and credit.end_to_end_id == "VEND-4410"
    assert credit.free_text == "EDI PYMNTS TRN 0004410778"
    assert [r.ref for r in credit.structured_refs] == ["A-1001", "A-1002"]


def test_the_trace_of_another_payment_is_not_stated_as_this_ones() -> None:
    result = parse_nacha(_ach(_820("\\", trn01="2")), "receive.ach")
    assert result.records[0].free_text == "EDI PYMNTS"


def test_a_trace_the_entry_states_already_is_not_repeated() -> None:
    result = parse_nacha(_ach(_820("\\", trace="VEND-4410")), "receive.ach")
    assert result.records[0].free_text == "EDI PYMNTS"


@pytest.mark.parametrize("ach_first", [True, False])
def test_the_ctx_entry_and_the_820_delivered_apart_are_one_payment(
    sqlite_store: Store, tmp_path: Path, ach_first: bool
) -> None:
    ach = tmp_path / "receive.ach"
    ach.write_text(_ach(_820("\\")))
    edi = tmp_path / "ctx820.edi"
    edi.write_text(_820("~\n"))
    order = [ach, edi] if ach_first else [edi, ach]
    report = ingest_files(sqlite_store, order)
    assert [(f.new, f.rejected) for f in report.files] == [(1, 0), (1, 0)]
    with sqlite_store.session() as session:
        rows = {r.source: r for r in session.exec(select(Remittance)).all()}
    assert rows["nacha"].status == RemittanceStatus.NEW  # the cash, once
    assert rows["edi820"].status == RemittanceStatus.ADVICE
    assert rows["nacha"].amount_minor == rows["edi820"].amount_minor == 150000
