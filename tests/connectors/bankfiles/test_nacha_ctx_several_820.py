"""A CTX whose addenda carry two 820 transaction sets (600.00 + 400.00, the 1000.00 entry):
no payment amount of one set is compared with the entry, and no false warning is given."""

from __future__ import annotations

from connectors.bankfiles.nacha import parse_nacha
from tests.connectors.bankfiles.test_bankfiles_nacha_realworld import _ctx, _file, _header
from tests.support.nacha_records import OUR_ACCOUNT


def _820(bpr: str, rmr: str) -> str:
    return (
        "ST*820*0001\\"
        f"BPR*C*{bpr}*C*ACH*CTX*01*061000104*DA*44556677*1710415188**01*071000013*DA*"
        f"{OUR_ACCOUNT}*20260316\\TRN*1*0004410778*1710415188\\N1*PR*WAL-MART STORES INC\\"
        f"{rmr}SE*5*0001\\"
    )


def test_a_ctx_with_two_820_sets_adding_up_to_the_entry_is_silent() -> None:
    x12 = _820("600.00", "RMR*IV*A*PI*600.00\\") + _820("400.00", "RMR*IV*B*PI*400.00\\")
    header = _header("CTX", "WAL-MART STORES", "1710415188", "EDI PYMNTS", 1)
    result = parse_nacha(_file([(header, _ctx(x12, 100000, 60))]), "ctx.ach")
    assert result.errors == [] and [r.amount for r in result.records] == [1000]
    assert result.warnings == []
