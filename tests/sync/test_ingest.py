"""Bank-file intake into the store: idempotent, per-record rejection, on both backends."""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from sqlmodel import select
from typer.testing import CliRunner

import sync.ingest as ingest_module
from canonical.models import Decision, Remittance
from canonical.store import Store
from connectors.bankfiles import parse_bank_file
from mappings.bankfiles.remittance import remittance_from_raw
from sync.cli import app
from sync.demo_cash import print_ingested
from sync.ingest import ingest_files

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bankfiles"
GOOD = [
    "bai2_lockbox_ach.bai",
    "camt052_v08_intraday.xml",
    "camt053_v02_statement.xml",
    "camt053_v08_statement.xml",
    "camt054_v04_notification.xml",
    "camt054_v08_structured.xml",
    "nacha_ccd_ctx.ach",
    "edi820_remittance.edi",
]
EXPECTED_NEW = {
    "bai2_lockbox_ach.bai": 7,
    "camt052_v08_intraday.xml": 4,
    "camt053_v02_statement.xml": 5,
    "camt053_v08_statement.xml": 2,
    "camt054_v04_notification.xml": 2,
    "camt054_v08_structured.xml": 2,
    "nacha_ccd_ctx.ach": 3,
    "edi820_remittance.edi": 3,
}


def _remittances(store: Store) -> list[Remittance]:
    with store.session() as s:
        return list(s.exec(select(Remittance)).all())


def test_ingest_every_format_then_reingest_creates_nothing(store: Store) -> None:
    paths = [FIXTURES / name for name in GOOD]
    first = ingest_files(store, paths)
    assert {Path(f.path).name: f.new for f in first.files} == EXPECTED_NEW
    assert first.duplicate == 0 and first.rejected == 0 and first.errors == []
    assert first.warnings == []
    stored = _remittances(store)
    assert len(stored) == sum(EXPECTED_NEW.values())
    assert {r.source for r in stored} == {
        "bai2",
        "camt.052",
        "camt.053",
        "camt.054",
        "nacha",
        "edi820",
    }

    again = ingest_files(store, paths)
    assert again.new == 0
    assert again.duplicate == sum(EXPECTED_NEW.values())
    assert {Path(f.path).name: f.duplicate for f in again.files} == EXPECTED_NEW
    assert len(_remittances(store)) == len(stored)


def test_same_content_under_another_name_is_a_duplicate(store: Store, tmp_path: Path) -> None:
    original = FIXTURES / "camt054_v08_structured.xml"
    copy = tmp_path / "resent-by-bank.xml"
    shutil.copy(original, copy)
    assert ingest_files(store, [original]).new == 2
    report = ingest_files(store, [copy])
    assert (report.new, report.duplicate) == (0, 2)


def test_stored_remittance_carries_refs_raw_and_money(store: Store) -> None:
    ingest_files(store, [FIXTURES / "camt054_v08_structured.xml"], tenant="acme")
    with store.session() as s:
        dupont = s.exec(
            select(Remittance).where(Remittance.payer_name == "Dupont Distribution SAS")
        ).one()
    assert dupont.tenant == "acme"
    assert (dupont.amount_minor, dupont.currency) == (864800, "EUR")
    assert dupont.payer_iban == "FR1420041010050500013M02606"
    assert dupont.end_to_end_id == "DUR-PAYRUN-4410-17"
    assert dupont.source_file == "camt054_v08_structured.xml"
    assert [r["ref"] for r in dupont.structured_refs] == [
        "FA-2026-3101",
        "FA-2026-3102",
        "AV-2026-0077",
    ]
    assert dupont.structured_refs[0]["discount"] == "100.00"
    assert dupont.structured_refs[1]["adjustment"] == "-52.00"
    assert "<TxDtls" in dupont.raw and "FA-2026-3101" in dupont.raw


def test_malformed_records_are_rejected_and_the_rest_committed(store: Store) -> None:
    # a BAI2 credit whose payer-written RMR text is bad is kept (a warning), not rejected
    names = [
        "bai2_malformed_records.bai",
        "camt053_malformed_entries.xml",
        "camt054_truncated.xml",
        "nacha_malformed.ach",
        "edi820_malformed.edi",
        "not_a_bank_file.csv",
    ]
    report = ingest_files(store, [FIXTURES / n for n in names])
    counts = {Path(f.path).name: (f.new, f.rejected) for f in report.files}
    assert counts == {
        "bai2_malformed_records.bai": (2, 2),
        "camt053_malformed_entries.xml": (1, 5),
        "camt054_truncated.xml": (0, 1),
        "nacha_malformed.ach": (1, 3),
        "edi820_malformed.edi": (2, 2),
        "not_a_bank_file.csv": (0, 1),
    }
    assert len(_remittances(store)) == 6
    messages = [str(e) for e in report.errors]
    assert "bai2_malformed_records.bai: line 4: amount must be digits" in messages[0]
    assert any(
        m.startswith("camt054_truncated.xml: line 44: not well-formed XML") for m in messages
    )
    assert any(
        m.startswith("edi820_malformed.edi: line 4, segment 4 (BPR), BPR02: not an amount")
        for m in messages
    )
    assert any(
        m.startswith("nacha_malformed.ach: line 6: record is 96 characters") for m in messages
    )
    assert report.to_dict()["files"][0]["errors"][0] == {
        "file": "bai2_malformed_records.bai",
        "location": "line 4",
        "reason": "amount must be digits (implied decimals): '12A50'",
    }

    again = ingest_files(store, [FIXTURES / n for n in names])
    assert again.new == 0 and again.duplicate == 6 and again.rejected == report.rejected


def test_mapping_failure_rejects_only_that_record(store: Store, tmp_path: Path) -> None:
    text = (FIXTURES / "edi820_remittance.edi").read_text()
    long_trace = "T" * 200
    bad = tmp_path / "long-trace.edi"
    bad.write_text(text.replace("TRN*1*GLX88120*", f"TRN*1*{long_trace}*"))
    report = ingest_files(store, [bad])
    (outcome,) = report.files
    assert (outcome.new, outcome.rejected) == (2, 1)
    (error,) = outcome.errors
    assert error.location == "line 17, segment 17 (ST), bank_reference"
    assert "at most 128" in error.reason


def test_unreadable_path_is_one_error(store: Store, tmp_path: Path) -> None:
    report = ingest_files(store, [tmp_path / "missing.bai"])
    (error,) = report.errors
    assert (error.file, error.location) == ("missing.bai", "file")
    assert "cannot read" in error.reason


def test_tenants_ingest_the_same_file_independently(store: Store) -> None:
    path = FIXTURES / "edi820_remittance.edi"
    ingest_files(store, [path], tenant="acme")
    report = ingest_files(store, [path], tenant="globex")
    assert (report.new, report.duplicate, report.rejected) == (3, 0, 0)
    again = ingest_files(store, [path], tenant="globex")
    assert (again.new, again.duplicate) == (0, 3)


def test_a_concurrent_ingest_of_the_same_file_falls_back_to_per_record(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = FIXTURES / "edi820_remittance.edi"
    ingest_files(store, [path])
    real = ingest_module._existing_keys
    calls = {"n": 0}

    def blind_first_check(session: Any, keys: list[str], tenant: str) -> set[str]:
        calls["n"] += 1
        return set() if calls["n"] == 1 else real(session, keys, tenant)

    # the first existence check misses rows another process committed meanwhile
    monkeypatch.setattr(ingest_module, "_existing_keys", blind_first_check)
    report = ingest_files(store, [path])
    assert (report.new, report.duplicate, report.rejected) == (0, 3, 0)
    assert len(_remittances(store)) == 3


def test_a_later_intraday_report_adds_only_what_is_new(store: Store) -> None:
    morning = ingest_files(store, [FIXTURES / "camt052_v08_intraday.xml"])
    assert (morning.new, morning.duplicate, morning.rejected) == (4, 0, 0)
    # the 14:30 report repeats the day's entries: the one pending at 10:30 (booked since)
    # and the one that arrived meanwhile are new, the rest are the same remittances
    afternoon = ingest_files(store, [FIXTURES / "camt052_v08_intraday_later.xml"])
    assert (afternoon.new, afternoon.duplicate, afternoon.rejected) == (2, 4, 0)
    stored = _remittances(store)
    assert sorted(r.amount_minor for r in stored) == [45000, 73500, 78000, 124950, 387000, 940000]
    assert {r.source for r in stored} == {"camt.052"}


def _tampered_bai2(tmp_path: Path) -> Path:
    text = (FIXTURES / "bai2_lockbox_ach.bai").read_text()
    tampered = tmp_path / "lockbox-tampered.bai"
    tampered.write_text(text.replace("49,27351250,14/", "49,27351000,14/"))
    return tampered


def test_a_control_total_mismatch_is_a_warning_and_the_records_count_as_kept(
    store: Store, tmp_path: Path
) -> None:
    tampered = _tampered_bai2(tmp_path)
    report = ingest_files(store, [tampered])
    (outcome,) = report.files
    assert (outcome.new, outcome.duplicate, outcome.rejected) == (7, 0, 0)
    assert outcome.errors == [] and report.errors == []
    # the altered 49 disagrees with its details and with the group trailer (98) above it
    warning, group = report.warnings
    assert (warning.file, warning.location) == ("lockbox-tampered.bai", "line 16")
    assert "control total 27351000 (273510.00 USD)" in warning.reason
    assert "sum 27351250 (273512.50 USD)" in warning.reason
    assert str(warning).startswith("lockbox-tampered.bai: line 16: account 0012345678 control")
    assert (group.file, group.location) == ("lockbox-tampered.bai", "line 17")
    assert str(group).startswith("lockbox-tampered.bai: line 17: group 1 control total 27351250")
    assert len(_remittances(store)) == 7
    assert report.summary() == "1 file: 7 new, 0 duplicate, 0 rejected, 2 warnings"
    as_dict = report.to_dict()
    assert (as_dict["new"], as_dict["rejected"], as_dict["warnings"]) == (7, 0, 2)
    assert as_dict["files"][0]["errors"] == []
    assert as_dict["files"][0]["warnings"] == [
        {"file": "lockbox-tampered.bai", "location": "line 16", "reason": warning.reason},
        {"file": "lockbox-tampered.bai", "location": "line 17", "reason": group.reason},
    ]

    again = ingest_files(store, [tampered])  # the file is still off; nothing is new
    assert (again.new, again.duplicate, again.rejected, len(again.warnings)) == (0, 7, 0, 2)


def _nacha_without_an_entry(tmp_path: Path) -> Path:
    """The NACHA sample after a transfer lost an entry (line 5) and its addenda (line 6)."""
    lines = (FIXTURES / "nacha_ccd_ctx.ach").read_text().splitlines()
    cut = tmp_path / "ach-lost-entry.ach"
    cut.write_text("\n".join(lines[:4] + lines[6:]) + "\n")
    return cut


def test_a_nacha_batch_control_mismatch_is_a_warning_and_the_records_count_as_kept(
    store: Store, tmp_path: Path
) -> None:
    report = ingest_files(store, [_nacha_without_an_entry(tmp_path)])
    (outcome,) = report.files
    assert (outcome.format, outcome.new, outcome.duplicate, outcome.rejected) == (
        "nacha",
        2,
        0,
        0,
    )
    (warning,) = report.warnings
    assert str(warning).startswith(
        "ach-lost-entry.ach: line 7: batch 0000001 control entry/addenda count 6 does not "
        "match the 4 entry and addenda records in the batch"
    )
    assert "total credit amount 251500 (2515.00 USD)" in warning.reason
    assert "sum 187500 (1875.00 USD) of its credit entries" in warning.reason
    assert len(_remittances(store)) == 2


def _ingest_command(tmp_path: Path, *paths: Path) -> Any:
    config = tmp_path / "arsync.toml"
    config.write_text(f'database_url = "sqlite:///{tmp_path / "cli.db"}"\n')
    return CliRunner().invoke(app, ["ingest", *map(str, paths), "--config", str(config)])


def test_ingest_command_prints_counts_warnings_and_rejections_and_exits_1(
    tmp_path: Path,
) -> None:
    result = _ingest_command(tmp_path, _tampered_bai2(tmp_path), FIXTURES / "not_a_bank_file.csv")
    assert result.exit_code == 1, result.output  # a record (here a whole file) was rejected
    assert "2 files: 7 new, 0 duplicate, 1 rejected, 2 warnings" in result.stdout
    stderr = " ".join(result.stderr.split())
    assert "warning: lockbox-tampered.bai: line 16: account 0012345678 control total" in stderr
    assert "warning: lockbox-tampered.bai: line 17: group 1 control total" in stderr
    assert "rejected: not_a_bank_file.csv: file: not a recognised bank file" in stderr


def test_ingest_command_exits_1_when_one_record_of_a_file_is_rejected(tmp_path: Path) -> None:
    result = _ingest_command(tmp_path, FIXTURES / "nacha_malformed.ach")
    assert result.exit_code == 1, result.output
    assert "1 file: 1 new, 0 duplicate, 3 rejected, 0 warnings" in result.stdout
    assert "rejected: nacha_malformed.ach: line 6: record is 96 characters" in " ".join(
        result.stderr.split()
    )


def test_ingest_command_exits_0_with_warnings_only(tmp_path: Path) -> None:
    result = _ingest_command(tmp_path, _tampered_bai2(tmp_path), _nacha_without_an_entry(tmp_path))
    assert result.exit_code == 0, result.output
    assert "2 files: 9 new, 0 duplicate, 0 rejected, 3 warnings" in result.stdout
    stderr = " ".join(result.stderr.split())
    assert "warning: ach-lost-entry.ach: line 7: batch 0000001 control" in stderr
    assert "rejected" not in stderr
    clean = tmp_path / "clean"
    clean.mkdir()
    again = _ingest_command(clean, FIXTURES / "nacha_ccd_ctx.ach")
    assert again.exit_code == 0, again.output
    assert "1 file: 3 new, 0 duplicate, 0 rejected, 0 warnings" in again.stdout
    assert again.stderr == ""


def test_the_demo_prints_a_line_per_warning(store: Store, tmp_path: Path) -> None:
    tampered = _tampered_bai2(tmp_path)
    report = ingest_files(store, [tampered, FIXTURES / "not_a_bank_file.csv"])
    buffer = io.StringIO()
    console = Console(file=buffer, width=400)
    print_ingested(report, tampered, 7, console)
    lines = buffer.getvalue().splitlines()
    assert lines[0].startswith(
        "ingested lockbox-tampered.bai: 7 payments (not_a_bank_file.csv: file: not a recognised"
    )
    assert [line.split(": ")[:2] for line in lines[1:]] == [
        ["  warning", "lockbox-tampered.bai"],
        ["  warning", "lockbox-tampered.bai"],
    ]
    assert "line 16: account 0012345678 control total 27351000" in lines[1]
    assert "line 17: group 1 control total 27351250" in lines[2]


def test_a_resent_corrected_file_adds_only_what_the_first_one_lacked(
    store: Store, tmp_path: Path
) -> None:
    lines = (FIXTURES / "nacha_ccd_ctx.ach").read_text().splitlines()
    cut_short = tmp_path / "first.ach"  # the first entry and its addenda lost in transit
    cut_short.write_text("\n".join(lines[:2] + lines[4:]) + "\n")
    [first] = ingest_files(store, [cut_short]).files
    assert first.new == 2
    resent = tmp_path / "resent.ach"  # the bank's corrected file: a new creation time
    header = lines[0][:23] + "2611210930" + lines[0][33:]
    resent.write_text("\n".join([header, *lines[1:]]) + "\n")
    [again] = ingest_files(store, [resent]).files
    assert (again.new, again.duplicate) == (1, 2)
    assert sorted(r.amount_minor for r in _remittances(store)) == [64000, 93750, 187500]


def test_a_remittance_stored_under_an_earlier_key_is_not_stored_again(
    store: Store, tmp_path: Path
) -> None:
    path = FIXTURES / "nacha_ccd_ctx.ach"
    [record, *_] = parse_bank_file(path).records
    [earlier] = record.also_known_as
    stored = remittance_from_raw(record)
    stored.source_key = earlier  # as an earlier version of arsync keyed it
    with store.session() as s:
        s.add(stored)
    [outcome] = ingest_files(store, [path]).files
    assert (outcome.new, outcome.duplicate) == (2, 1)


# camt053_v04_postfinance_batch_booking.xml: a PostFinance statement (dvbern/iso20022) booking
# a batch of 8 ES credits as one entry of 620.00 CHF without its transactions (Btch/NbOfTxs
# 8, no TxDtls), which camt054_v04_postfinance_batch_details.xml lists (same AcctSvcrRef)
BATCH_BOOKING = FIXTURES / "camt053_v04_postfinance_batch_booking.xml"
BATCH_DETAILS = FIXTURES / "camt054_v04_postfinance_batch_details.xml"
TRANSACTIONS = [5000, 2000, 10000, 10000, 3000, 5000, 2000, 25000]


@pytest.mark.parametrize("order", ["statement first", "notification first"])
def test_a_batch_entry_is_its_transactions_whichever_file_comes_first(
    store: Store, order: str
) -> None:
    files = [BATCH_BOOKING, BATCH_DETAILS]
    if order == "notification first":
        files.reverse()
    report = ingest_files(store, files)
    assert report.warnings == [] and report.rejected == 0
    stored = _remittances(store)
    assert sorted(r.amount_minor for r in stored) == sorted(TRANSACTIONS)  # 620.00 once
    assert {r.source for r in stored} == {"camt.054"}
    assert (report.new, report.duplicate) == ((9, 0) if order == "statement first" else (8, 1))
    again = ingest_files(store, files)
    assert (again.new, again.duplicate) == (0, 9)


@pytest.mark.parametrize("decided", ["status", "decision sent back"])
def test_a_batch_entry_the_reconciler_decided_keeps_its_place(store: Store, decided: str) -> None:
    ingest_files(store, [BATCH_BOOKING])
    with store.session() as s:
        [entry] = s.exec(select(Remittance)).all()
        if decided == "status":
            entry.status = "exception"  # decided (unidentified payer) before the details came
            s.add(entry)
        else:  # decided, then sent back to be decided again: its decision is still on record
            s.add(
                Decision(
                    source_kind="remittance",
                    source_id=entry.id,
                    status="suggested",
                    rule="test",
                    currency="CHF",
                    superseded=True,
                )
            )
    [outcome] = ingest_files(store, [BATCH_DETAILS]).files
    assert (outcome.new, outcome.duplicate, outcome.rejected) == (0, 8, 0)
    assert [r.amount_minor for r in _remittances(store)] == [62000]
    [warning] = outcome.warnings
    assert warning.location.endswith("/Ntry[1]/NtryDtls[1]/TxDtls[1] (line 76)")
    assert warning.reason == (
        "the 8 transactions of batch entry 20160527007602769947016000000012 (620.00 CHF, "
        "stored from camt053_v04_postfinance_batch_booking.xml as one amount) come after "
        "the reconciler decided it: they are not stored, the entry stays (check it)"
    )


def test_transactions_that_do_not_add_up_to_their_batch_entry_do_not_replace_it(
    store: Store, tmp_path: Path
) -> None:
    ingest_files(store, [BATCH_BOOKING])
    text = BATCH_DETAILS.read_text()
    start = text.index("<TxDtls>", text.index("</TxDtls>"))  # the second transaction left out
    partial = tmp_path / "partial.xml"
    partial.write_text(text[:start] + text[text.index("</TxDtls>", start) + 9 :])
    [outcome] = ingest_files(store, [partial]).files
    assert (outcome.new, outcome.duplicate) == (0, 7)
    assert [r.amount_minor for r in _remittances(store)] == [62000]
    [warning] = outcome.warnings
    assert warning.reason == (
        "the 7 transactions of batch entry 20160527007602769947016000000012 (620.00 CHF, "
        "stored from camt053_v04_postfinance_batch_booking.xml as one amount) add up to "
        "600.00 CHF, not to it: they are not stored, the entry stays (check it)"
    )


# camt053_v08_single_entries.xml books three credits without their details: two of 1250.00
# CHF on one day from two payers (each its own AcctSvcrRef) and one of 480.00 CHF named only
# by the statement's entry counter (NtryRef 3); camt054_v08_single_details.xml details the
# first (same AcctSvcrRef) and notifies another payment of 480.00 CHF whose NtryRef is 3 too
SINGLE_BOOKING = FIXTURES / "camt053_v08_single_entries.xml"
SINGLE_DETAILS = FIXTURES / "camt054_v08_single_details.xml"


@pytest.mark.parametrize("order", ["statement first", "notification first"])
def test_an_entry_booked_without_its_one_transaction_counts_once_whichever_file_comes_first(
    store: Store, order: str
) -> None:
    files = [SINGLE_BOOKING, SINGLE_DETAILS]
    if order == "notification first":
        files.reverse()
    report = ingest_files(store, files)
    assert report.warnings == [] and report.rejected == 0
    stored = _remittances(store)
    # 1250.00 twice (two payers), not three times; 480.00 twice (two payments)
    assert sorted(r.amount_minor for r in stored) == [48000, 48000, 125000, 125000]
    detailed = [r for r in stored if r.bank_reference == "261207CH0A1B2C3D"]
    assert [(r.source, r.payer_name, r.free_text) for r in detailed] == [
        ("camt.054", "Brunner Kaelte AG", "RECHNUNG 30112")
    ]
    other = [r for r in stored if r.bank_reference == "20261207000400123400000002"]
    assert [(r.source, r.amount_minor) for r in other] == [("camt.053", 125000)]
    assert (report.new, report.duplicate) == ((5, 0) if order == "statement first" else (4, 1))
    again = ingest_files(store, files)
    assert (again.new, again.duplicate) == (0, 5)
    assert len(_remittances(store)) == 4


def test_the_details_of_an_entry_the_reconciler_decided_leave_it_in_place(store: Store) -> None:
    ingest_files(store, [SINGLE_BOOKING])
    with store.session() as s:
        entry = s.exec(
            select(Remittance).where(Remittance.bank_reference == "20261207000400123400000001")
        ).one()
        entry.status = "exception"  # decided (unidentified payer) before the details came
        s.add(entry)
    [outcome] = ingest_files(store, [SINGLE_DETAILS]).files
    assert (outcome.new, outcome.duplicate, outcome.rejected) == (1, 1, 0)
    assert sorted(r.amount_minor for r in _remittances(store)) == [48000, 48000, 125000, 125000]
    [warning] = outcome.warnings
    assert warning.location.endswith("/Ntry[1]/NtryDtls[1]/TxDtls[1] (line 41)")
    assert warning.reason == (
        "the transaction of entry 20261207000400123400000001 (1250.00 CHF, stored from "
        "camt053_v08_single_entries.xml as one amount) comes after the reconciler decided "
        "it: it is not stored, the entry stays (check it)"
    )


_NONREF_REPORT = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.052.001.08">
 <BkToCstmrAcctRpt><GrpHdr><MsgId>{report}</MsgId><CreDtTm>{day}T{time}</CreDtTm></GrpHdr>
  <Rpt><Id>{report}</Id><CreDtTm>{day}T{time}</CreDtTm>
   <Acct><Id><IBAN>DE02120300000000202051</IBAN></Id><Ccy>EUR</Ccy></Acct>
{entries}
  </Rpt>
 </BkToCstmrAcctRpt>
</Document>
"""
_NONREF_ENTRY = """   <Ntry><NtryRef>NONREF</NtryRef><Amt Ccy="EUR">{amount}</Amt>
    <CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
    <BookgDt><Dt>{day}</Dt></BookgDt><ValDt><Dt>{day}</Dt></ValDt><AcctSvcrRef>NONREF</AcctSvcrRef>
    <NtryDtls><TxDtls><RmtInf><Ustrd>{text}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"""


def _nonref_report(tmp_path: Path, report: str, day: str, time: str, *entries: str) -> Path:
    path = tmp_path / f"{report}.xml"
    body = "\n".join(
        _NONREF_ENTRY.format(amount=amount, day=day, text=text)
        for amount, text in (entry.split("|") for entry in entries)
    )
    path.write_text(_NONREF_REPORT.format(report=report, day=day, time=time, entries=body))
    return path


def test_intraday_entries_named_nonref_are_one_each_however_often_reported(
    store: Store, tmp_path: Path
) -> None:
    # two payments of 410.00 EUR the bank names only "NONREF", in the 10:00 report of the day
    morning = _nonref_report(
        tmp_path, "IDR-1", "2026-12-04", "10:00:00", "410.00|MIETE DEZ", "410.00|MIETE DEZ"
    )
    assert ingest_files(store, [morning]).new == 2
    # the 14:00 report repeats them and adds a third; the next day's report brings another
    afternoon = _nonref_report(
        tmp_path,
        "IDR-2",
        "2026-12-04",
        "14:00:00",
        "410.00|MIETE DEZ",
        "410.00|MIETE DEZ",
        "410.00|MIETE DEZ",
    )
    next_day = _nonref_report(tmp_path, "IDR-3", "2026-12-05", "10:00:00", "410.00|MIETE DEZ")
    report = ingest_files(store, [afternoon, next_day])
    assert [(f.new, f.duplicate) for f in report.files] == [(1, 2), (1, 0)]
    assert [r.amount_minor for r in _remittances(store)] == [41000] * 4


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("camt053_v08_single_entries.xml", 3),  # an entry named by a counter, two named
        ("bai2_spec_layout.bai", 5),  # no as-of-date modifier: keyed by file and position
        ("nacha_ccd_ctx.ach", 3),
        ("edi820_remittance.edi", 3),
    ],
)
def test_records_keyed_by_position_are_duplicates_under_another_file_name(
    store: Store, tmp_path: Path, name: str, expected: int
) -> None:
    # the position is that in the statement or file the bank made (its id, header or control
    # numbers), not the name the file was saved under
    copy = tmp_path / f"downloaded-again-{name}"
    shutil.copy(FIXTURES / name, copy)
    assert ingest_files(store, [FIXTURES / name]).new == expected
    report = ingest_files(store, [copy])
    assert (report.new, report.duplicate) == (0, expected)


def test_credits_that_are_no_customer_paying_are_warnings_in_bai2_as_in_camt(
    store: Store,
) -> None:
    # a BAI2 ZBA transfer (type code 275) and a camt treasury credit (TREA): both are read,
    # left out and reported the same way; the customer payments beside them are stored
    report = ingest_files(
        store,
        [FIXTURES / "bai2_citi_uk_191.bai", FIXTURES / "camt053_v04_iso_business_sample.xml"],
    )
    assert [(f.new, f.rejected) for f in report.files] == [(1, 0), (1, 0)]
    assert [(w.file, w.location, w.reason.partition(": ")[2]) for w in report.warnings] == [
        ("bai2_citi_uk_191.bai", "line 12", "not a customer paying, left out"),
        (
            "camt053_v04_iso_business_sample.xml",
            report.warnings[1].location,
            "not a customer paying, left out",
        ),
    ]
    assert report.warnings[0].reason.startswith(
        "a credit of 50.00 GBP with type code 275 (ZBA Credit): "
    )
    assert report.warnings[1].reason.startswith("a credit of ")
