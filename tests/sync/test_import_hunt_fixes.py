"""Import, after a bug hunt: one invoice whatever column names its customer; applied_to
bounded by each invoice's total; whole-number ids from JSON; Accounting-format negatives;
JSON keys in two cases; Excel subtotal lines; a credit memo's mixed signs."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import col

from canonical.models import Application, CreditMemo, ExternalRef, Invoice
from canonical.money import Money
from canonical.store import Store
from sync.importer import Importer, import_file
from tests.support.pull import write as sync_write

CUSTOMERS = "customer_id,name,number,currency\nC1,Acme Corp,A-100,USD\n"


def put(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def invoices(store: Store) -> list[tuple[str, int, int]]:
    with store.session() as s:
        rows = s.execute(select(Invoice)).scalars()
        return sorted((i.number, i.total_minor, i.balance_minor) for i in rows)


def import_refs(store: Store, ctype: str = "invoice") -> list[str]:
    with store.session() as s:
        return sorted(
            s.execute(
                select(col(ExternalRef.remote_id)).where(
                    col(ExternalRef.system) == "import", col(ExternalRef.canonical_type) == ctype
                )
            ).scalars()
        )


def test_an_invoice_named_by_its_customer_name_updates_the_one_keyed_by_customer_id(
    store: Store, tmp_path: Path
) -> None:
    import_file(store, "customers", put(tmp_path, "c.csv", CUSTOMERS))
    day1 = "invoice_number,customer_id,total,balance\nINV-1,C1,100.00,100.00\n"
    assert import_file(store, "invoices", put(tmp_path, "d1.csv", day1)).created == 1
    day2 = "Invoice #,Customer Name,Invoice Amount,Open Balance\nINV-1,Acme Corp,100.00,40.00\n"
    report = import_file(store, "invoices", put(tmp_path, "d2.csv", day2))
    assert (report.created, report.updated, report.errors) == (0, 1, [])
    assert invoices(store) == [("INV-1", 10000, 4000)]
    assert import_refs(store) == ["C1/INV-1"]
    by_number = "invoice_number,customer_number,total,balance\nINV-1,A-100,100.00,40.00\n"
    again = import_file(store, "invoices", put(tmp_path, "d3.csv", by_number))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    assert invoices(store) == [("INV-1", 10000, 4000)]


def test_one_invoice_under_three_customer_columns_in_one_file_is_a_duplicate(
    store: Store, tmp_path: Path
) -> None:
    import_file(store, "customers", put(tmp_path, "c.csv", CUSTOMERS))
    text = (
        "invoice_number,customer_id,customer_number,customer_name,total\n"
        "INV-7,C1,,,250.00\nINV-7,,A-100,,250.00\nINV-7,,,Acme Corp,250.00\n"
    )
    report = import_file(store, "invoices", put(tmp_path, "i.csv", text))
    assert (report.created, report.rejected) == (1, 2)
    assert report.errors == [
        "i.csv: row 3: duplicate key 'C1/INV-7' in the file (first in row 2)",
        "i.csv: row 4: duplicate key 'C1/INV-7' in the file (first in row 2)",
    ]
    assert invoices(store) == [("INV-7", 25000, 25000)]


def test_a_customer_without_an_import_id_keys_its_documents_by_the_first_key_found(
    store: Store, tmp_path: Path
) -> None:
    sync_write(store, "quickbooks", "customers", [("58", {"name": "Globex", "number": "G-9"})])
    by_name = "credit_memo_number,customer_name,currency,total\nCM-1,Globex,USD,30.00\n"
    assert import_file(store, "credit-memos", put(tmp_path, "a.csv", by_name)).created == 1
    by_number = "credit_memo_number,customer_number,currency,total,balance\nCM-1,G-9,USD,30.00,0\n"
    report = import_file(store, "credit-memos", put(tmp_path, "b.csv", by_number))
    assert (report.created, report.updated, report.errors) == (0, 1, [])
    assert import_refs(store, "credit_memo") == ["name:GLOBEX/CM-1"]
    with store.session() as s:
        assert [m.balance_minor for m in s.execute(select(CreditMemo)).scalars()] == [0]


def test_keys_stored_before_the_fix_are_updated_not_duplicated(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before, a document's key was the text naming its customer (``name:ACME/INV-9``
    for a file naming customers by name): such a file imported again updates it."""
    import_file(store, "customers", put(tmp_path, "c.csv", CUSTOMERS))
    with monkeypatch.context() as patched:
        patched.setattr(
            Importer,
            "document_key",
            lambda self, ctype, customer, number, before=None: (
                f"{customer}/{number}",
                customer,
            ),
        )
        old = "invoice_number,customer_name,total\nINV-9,Acme Corp,80.00\n"
        assert import_file(store, "invoices", put(tmp_path, "old.csv", old)).created == 1
    assert import_refs(store) == ["name:ACME/INV-9"]
    paid = "invoice_number,customer_name,total,balance\nINV-9,Acme Corp,80.00,0\n"
    report = import_file(store, "invoices", put(tmp_path, "new.csv", paid))
    assert (report.created, report.updated, report.errors) == (0, 1, [])
    by_id = "invoice_number,customer_id,total,balance\nINV-9,C1,80.00,0\n"
    again = import_file(store, "invoices", put(tmp_path, "id.csv", by_id))
    assert (again.created, again.rejected) == (0, 0)
    assert invoices(store) == [("INV-9", 8000, 0)]
    assert import_refs(store) == ["name:ACME/INV-9"]
    payment = "payment_id,customer_id,amount,applied_to\nP-1,C1,80.00,INV-9:80.00\n"
    assert import_file(store, "payments", put(tmp_path, "p.csv", payment)).errors == []
    with store.session() as s:
        assert [a.amount_minor for a in s.execute(select(Application)).scalars()] == [8000]


def test_applied_to_may_not_exceed_an_invoice_total_and_an_invoice_named_twice_adds_up(
    store: Store, tmp_path: Path
) -> None:
    import_file(store, "customers", put(tmp_path, "c.csv", CUSTOMERS))
    text = "invoice_number,customer_id,total,balance\nINV-1,C1,100.00,0\nINV-2,C1,50.00,50.00\n"
    import_file(store, "invoices", put(tmp_path, "i.csv", text))
    payments = (
        "payment_id,customer_id,amount,applied_to\n"
        "P-1,C1,500.00,INV-1:500.00\n"
        "P-2,C1,100.00,INV-1:60.00;INV-1:40.00\n"
        "P-3,C1,150.00,INV-1:100.00;INV-2:50.00\n"
        "P-4,C1,80.00,INV-2:30.00; INV-2 :30.00\n"
        "P-5,C1,40.00,INV-2:20.00;INV-2:25.00\n"
        "P-6,C1,50.00,INV-2:20.00;INV-2:30.00\n"
    )
    report = import_file(store, "payments", put(tmp_path, "p.csv", payments))
    assert report.errors == [
        "p.csv: row 2: column 'applied_to': applies 500.00 USD to invoice 'INV-1', more than"
        " its total 100.00 USD",
        "p.csv: row 5: column 'applied_to': applies 60.00 USD to invoice 'INV-2', more than"
        " its total 50.00 USD",
        "p.csv: row 6: column 'applied_to': applies 45.00 USD, more than the payment's 40.00 USD",
    ]
    assert report.created == 3  # the total, not the balance (0: already paid), bounds it
    with store.session() as s:
        applied = sorted(a.amount_minor for a in s.execute(select(Application)).scalars())
    # P-2's two shares of INV-1 are one application of 100.00, P-6's of INV-2 one of 50.00
    assert applied == [5000, 5000, 10000, 10000]


def test_a_whole_json_number_is_an_integer_id_and_a_fractional_one_is_refused(
    store: Store, tmp_path: Path
) -> None:
    sync_write(store, "quickbooks", "customers", [("58", {"name": "Acme Corp."})])
    sync_write(
        store,
        "quickbooks",
        "invoices",
        [("130", {"customer": "58", "number": "1001", "total": "100.00", "balance": "60.00"})],
    )
    text = (
        '[{"invoice_number":1001.0,"customer_name":"Acme Corp","currency":"USD",'
        '"total":100.00,"balance":60.00},'
        '{"invoice_number":1002.5,"customer_name":"Acme Corp","currency":"USD","total":1}]'
    )
    report = import_file(store, "invoices", put(tmp_path, "i.json", text))
    assert (report.created, report.updated) == (0, 1)
    assert report.errors == [
        "i.json: row 2: column 'invoice_number': 1002.5 is not a whole number: write the id"
        " or number as text"
    ]
    assert invoices(store) == [("1001", 10000, 6000)]


def test_accounting_format_negatives_are_read(store: Store, tmp_path: Path) -> None:
    import_file(store, "customers", put(tmp_path, "c.csv", CUSTOMERS))
    text = (
        "credit_memo_number,customer_id,total,balance\n"
        'CM-1,C1,"$ (250.00)","$ (250.00)"\nCM-2,C1,"$(250.00)",\nCM-3,C1,"USD (1,000.00)",\n'
        'CM-4,C1,"-$ (5.00)",\n'
    )
    report = import_file(store, "credit-memos", put(tmp_path, "m.csv", text))
    assert report.errors == ["m.csv: row 5: column 'total': not an amount: '-$ (5.00)'"]
    with store.session() as s:
        memos = {m.number: m.total for m in s.execute(select(CreditMemo)).scalars()}
    assert memos == {
        "CM-1": Money("250.00", "USD"),
        "CM-2": Money("250.00", "USD"),
        "CM-3": Money("1000.00", "USD"),
    }


def test_json_keys_differing_only_in_case_are_refused(store: Store, tmp_path: Path) -> None:
    import_file(store, "customers", put(tmp_path, "c.csv", CUSTOMERS))
    text = (
        '[{"invoice_number":"J-1","customer_id":"C1","total":"100.00",'
        '"Balance":"100.00","balance":"40.00"}]'
    )
    report = import_file(store, "invoices", put(tmp_path, "i.json", text))
    assert report.errors == [
        "i.json: row 1: column 'balance': named by two keys ('Balance' and 'balance')"
    ]
    assert invoices(store) == []


def test_excel_subtotal_lines_are_skipped(store: Store, tmp_path: Path) -> None:
    import_file(store, "customers", put(tmp_path, "c.csv", CUSTOMERS + "C2,Globex,,USD\n"))
    text = (
        "Customer Name,Invoice #,Invoice Date,Invoice Amount,Open Balance\n"
        "Acme Corp,S-1,2026-01-05,100.00,100.00\nAcme Corp,S-2,2026-01-06,50.00,50.00\n"
        "Acme Corp Total,,,150.00,150.00\n"
        "Globex,S-3,2026-01-07,70.00,0.00\nGlobex Total,,,70.00,0.00\n"
        "Grand Total,,,220.00,150.00\n"
    )
    report = import_file(store, "invoices", put(tmp_path, "i.csv", text))
    assert (report.created, report.skipped, report.errors) == (3, 3, [])


def test_a_customer_named_total_without_an_invoice_number_is_rejected_not_skipped(
    store: Store, tmp_path: Path
) -> None:
    """Only a line with nothing but its label and sums is a subtotal: a dated row of
    customer "Northwest Total" lacking its number is a record, refused."""
    customers = "customer_id,name,currency\nC1,Northwest Total,USD\n"
    import_file(store, "customers", put(tmp_path, "c.csv", customers))
    text = (
        "Customer Name,Invoice #,Invoice Date,Invoice Amount,Open Balance\n"
        "Northwest Total,N-1,2026-01-05,100.00,100.00\n"
        "Northwest Total,,2026-01-06,500.00,500.00\n"
        "Northwest Total,,,600.00,600.00\n"
    )
    report = import_file(store, "invoices", put(tmp_path, "i.csv", text))
    assert (report.created, report.skipped) == (1, 1)
    assert report.errors == [
        "i.csv: row 3: column 'invoice_number' ('Invoice #'): is required",
    ]


def test_a_credit_memo_negative_total_with_a_positive_balance_names_the_signs(
    store: Store, tmp_path: Path
) -> None:
    import_file(store, "customers", put(tmp_path, "c.csv", CUSTOMERS))
    text = "credit_memo_number,customer_id,total,balance\nCM-5,C1,-250.00,100.00\n"
    report = import_file(store, "credit-memos", put(tmp_path, "m.csv", text))
    assert report.errors == [
        "m.csv: row 2: column 'balance': 100.00 is positive and the total -250.00 negative:"
        " write a credit memo's total and balance with the same sign"
    ]


def test_json_ids_stored_as_1001_0_before_are_updated_not_duplicated(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before, a JSON id written ``1001.0`` was stored as ``"1001.0"``: importing such files
    again updates those records (customers, invoices, credit memos, payments), never adds."""
    customers = '[{"customer_id":1001.0,"name":"Acme Corp","number":2002.0,"currency":"USD"}]'
    day1 = (
        '[{"invoice_number":5001.0,"customer_id":1001.0,"total":"100.00"},'
        '{"invoice_number":5002.0,"customer_number":2002.0,"total":"50.00"}]'
    )
    memos = '[{"credit_memo_number":9001.0,"customer_id":1001.0,"total":"10.00"}]'
    payment = (
        '[{"payment_id":7001.0,"customer_id":1001.0,"amount":"60.00","applied_to":"5001.0:60.00"}]'
    )
    with monkeypatch.context() as patched:
        # as the parent read them: the number's text as is, a document keyed by the text
        # naming its customer
        patched.setattr("sync.importer._whole", lambda number: (str(number), ""))
        patched.setattr(
            Importer,
            "document_key",
            lambda self, ctype, customer, number, before=None: (f"{customer}/{number}", customer),
        )
        import_file(store, "customers", put(tmp_path, "c.json", customers))
        assert import_file(store, "invoices", put(tmp_path, "i1.json", day1)).created == 2
        assert import_file(store, "credit-memos", put(tmp_path, "m.json", memos)).created == 1
        assert import_file(store, "payments", put(tmp_path, "p.json", payment)).created == 1
    assert import_refs(store) == ["1001.0/5001.0", "number:2002.0/5002.0"]
    assert import_refs(store, "payment") == ["7001.0"]

    day2 = day1.replace('"total":"100.00"', '"total":"100.00","balance":"40.00"')
    report = import_file(store, "invoices", put(tmp_path, "i2.json", day2))
    assert (report.created, report.updated, report.errors) == (0, 2, [])
    report = import_file(store, "customers", put(tmp_path, "c2.json", customers))
    assert (report.created, report.updated, report.errors) == (0, 1, [])  # number "2002"
    report = import_file(store, "credit-memos", put(tmp_path, "m2.json", memos))
    assert (report.created, report.updated, report.errors) == (0, 1, [])  # number "9001"
    report = import_file(store, "payments", put(tmp_path, "p2.json", payment))
    assert (report.created, report.unchanged, report.errors) == (0, 1, [])
    more = '[{"payment_id":7002,"customer_id":1001.0,"amount":"40.00","applied_to":"5001:40.00"}]'
    report = import_file(store, "payments", put(tmp_path, "p3.json", more))
    assert (report.created, report.errors) == (1, [])

    assert invoices(store) == [("5001", 10000, 4000), ("5002", 5000, 5000)]
    assert import_refs(store) == ["1001.0/5001.0", "number:2002.0/5002.0"]
    assert import_refs(store, "customer") == ["1001.0", "number:2002.0"]
    assert import_refs(store, "credit_memo") == ["1001.0/9001.0"]
    assert import_refs(store, "payment") == ["7001.0", "7002"]
    with store.session() as s:
        applied = sorted(a.amount_minor for a in s.execute(select(Application)).scalars())
    assert applied == [4000, 6000]
