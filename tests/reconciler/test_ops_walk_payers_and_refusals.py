"""A finance-ops walkthrough: a bank's placeholder payer name taught as a customer's, the
refusals of ``--dismiss`` on applied cash and of a second ``--reverse``, a duplicate filed
under no customer, and a run summary whose head counts did not add up with a return in it.

1. Confirming one payment from ``UNKNOWN REMITTER LTD`` (a bank's text for an originator not
   given) taught that name for the customer: the next reconcile made every other payment so
   named that customer's. A placeholder names no one: it is never learned, and never
   identifies a customer (as a learned name, or a customer's own name).
2. ``--dismiss`` on applied cash pointed at ``--reverse``; applied cash is taken back with
   ``arsync resolve ID --by person:NAME --undo REASON``.
3. A second ``--reverse`` said only "not an open reversal exception (superseded, ...)".
4. A duplicate of a known customer's payment was saved with no customer.
5. ``N remittances: a applied, s suggested, e exceptions``: a return decided in the run was
   among the exceptions, not among the remittances.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from canonical.keys import name_key
from canonical.models import PayerAlias
from canonical.store import Store
from reconciler import reconcile
from reconciler.confirm import ConfirmError, confirm
from reconciler.dismiss import dismiss
from reconciler.engine import ReconcileSummary
from reconciler.references import is_placeholder_name
from reconciler.report import build_report
from reconciler.reverse import reverse
from tests.reconciler.test_reverse import ALL, paid, returned  # noqa: F401  (the fixture)
from tests.support.receivables import Book, decision

PLACEHOLDER = "UNKNOWN REMITTER LTD"


def _aliases(store: Store) -> dict[tuple[str, str], str]:
    with store.session() as s:
        return {(a.kind, a.value): a.customer_id for a in s.execute(select(PayerAlias)).scalars()}


@pytest.mark.parametrize(
    "name",
    [
        "UNKNOWN REMITTER LTD",
        "UNKNOWN",
        "NOTPROVIDED",
        "NOT PROVIDED",
        "Originator name not provided",
        "N/A",
        "NONE",
        "UNAVAILABLE",
        "NAME NOT AVAILABLE",
        "UNDISCLOSED",
        "NO NAME",
        "Unknown Payer",
        "UNKNOWN ORIGINATOR",
        "NONREF",
    ],
)
def test_bank_placeholders_are_placeholder_names(name: str) -> None:
    assert is_placeholder_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "Unknown Worlds Entertainment Inc",
        "Granite Textiles Ltd",
        "Nonesuch Records",
        "No Name Brewing Co",  # a real company naming itself so: more than the words
        "Anonymous Content LLC",
        "NA Logistics Inc",
        "",
        None,
    ],
)
def test_real_names_are_no_placeholders(name: str | None) -> None:
    assert not is_placeholder_name(name)


def test_a_placeholder_name_confirmed_once_names_no_customer(store: Store, book: Book) -> None:
    granite = book.customer("Granite Textiles Ltd")
    book.invoice(granite, "INV-01621", "46.10")
    book.invoice(granite, "INV-01622", "300.00")
    first = book.pay("46.10", payer=PLACEHOLDER, text="ref 99887766")
    other = book.pay("300.00", payer=PLACEHOLDER, text="ref 55443322")
    reconcile(store)
    assert decision(store, other).exception_kind == "unidentified_payer"
    confirm(store, decision(store, first).id, by="person:ana", invoice_numbers=["INV-01621"])
    assert ("name", name_key(PLACEHOLDER)) not in _aliases(store)
    reconcile(store)
    d = decision(store, other)
    assert (d.status, d.exception_kind, d.customer_id) == (
        "exception",
        "unidentified_payer",
        None,
    ), d.evidence
    assert "customer_from" not in d.evidence


def test_a_placeholder_payer_keeps_its_iban_learnable(store: Store, book: Book) -> None:
    """The bank gave the account but no name: the account still names the customer."""
    granite = book.customer("Granite Textiles Ltd")
    book.invoice(granite, "INV-01621", "46.10")
    first = book.pay("46.10", payer="NOTPROVIDED", iban="GB33BUKB20201555555555", text="x")
    reconcile(store)
    confirm(store, decision(store, first).id, by="person:ana", invoice_numbers=["INV-01621"])
    learned = _aliases(store)
    assert learned == {("iban", "GB33BUKB20201555555555"): granite}


def test_a_legitimate_name_is_still_learned(store: Store, book: Book) -> None:
    granite = book.customer("Granite Textiles Ltd")
    book.invoice(granite, "INV-01621", "46.10")
    book.invoice(granite, "INV-01622", "300.00")
    first = book.pay("46.10", payer="GTX HOLDINGS", text="ref 1")
    other = book.pay("300.00", payer="GTX HOLDINGS", text="ref 2")
    reconcile(store)
    confirm(store, decision(store, first).id, by="person:ana", invoice_numbers=["INV-01621"])
    assert _aliases(store) == {("name", "GTX HOLDINGS"): granite}
    reconcile(store)
    assert decision(store, other).customer_id == granite


def test_a_placeholder_learned_before_identifies_no_one(store: Store, book: Book) -> None:
    """A name learned before placeholders were refused is read as naming nobody."""
    granite = book.customer("Granite Textiles Ltd")
    book.invoice(granite, "INV-01622", "300.00")
    with store.session() as s:
        s.add(PayerAlias(kind="name", value=name_key(PLACEHOLDER), customer_id=granite))
    other = book.pay("300.00", payer=PLACEHOLDER, text="ref 2")
    reconcile(store)
    d = decision(store, other)
    assert (d.exception_kind, d.customer_id) == ("unidentified_payer", None), d.evidence


def test_a_customer_kept_under_a_placeholder_name_is_not_the_payer(
    store: Store, book: Book
) -> None:
    """An ERP's catch-all customer ("Unknown Customer") is no payer the bank calls UNKNOWN."""
    catch_all = book.customer("Unknown")
    book.invoice(catch_all, "INV-9001", "75.00")
    cash = book.pay("75.00", payer="UNKNOWN", text="transfer")
    reconcile(store)
    d = decision(store, cash)
    assert (d.exception_kind, d.customer_id) == ("unidentified_payer", None), d.evidence


def test_dismissing_applied_cash_points_to_undo(store: Store, book: Book) -> None:
    wonka = book.customer("Wonka Industries")
    book.invoice(wonka, "3001", "500.00")
    cash = book.pay("500.00", payer="WONKA", text="invoice 3001")
    reconcile(store)
    done = decision(store, cash)
    assert done.status == "auto_applied"
    with pytest.raises(ConfirmError) as refused:
        dismiss(store, done.id, by="person:ana", reason="not ours")
    message = str(refused.value)
    assert f"arsync resolve {done.id} --by person:NAME --undo REASON" in message
    assert "--reverse" not in message


def test_reversing_twice_names_who_reversed_and_what_stands(
    store: Store,
    paid: dict[str, str],  # noqa: F811
) -> None:
    exception = decision(store, paid["back"])
    made = reverse(store, exception.id, by="person:ana")
    with pytest.raises(ConfirmError) as refused:
        reverse(store, exception.id, by="person:bo")
    message = str(refused.value)
    assert f"already reversed by person:ana (decision {made.id})" in message, message
    assert f"decision {made.id} (reversed, by person:ana) stands" in message, message


def test_a_duplicate_of_a_known_customers_payment_is_that_customers(
    store: Store, book: Book
) -> None:
    tyrell = book.customer("Tyrell Corp")
    book.invoice(tyrell, "1201", "30.00")
    book.invoice(tyrell, "1202", "30.00")
    book.pay("30.00", payer="Tyrell Corp", iban="DE02100100100006820101", text="inv 1201")
    reconcile(store)
    copy = book.pay(
        "30.00",
        payer="Tyrell Corp",
        iban="DE02100100100006820101",
        text="inv 1201",
        day=date(2026, 11, 3),
    )
    reconcile(store)
    dup = decision(store, copy)
    assert (dup.exception_kind, dup.customer_id) == ("duplicate_payment", tyrell)
    [row] = build_report(store)["exceptions"]["duplicate_payment"]
    assert row["customer"] == "Tyrell Corp"


def _adds_up(summary: ReconcileSummary) -> None:
    head = re.match(
        r"(\d+) remittances: (\d+) applied, (\d+) suggested, (\d+) exceptions", str(summary)
    )
    assert head, str(summary)
    total, *parts = (int(n) for n in head.groups())
    assert total == sum(parts) == summary.remittances, str(summary)


def test_a_return_decided_in_the_run_is_among_the_remittances_counted(
    store: Store, book: Book
) -> None:
    """Before: ``3 remittances: 1 applied, 0 suggested, 3 exceptions (returned_payment 2,
    unidentified_payer 1)``, and a match rate over a base short of the return."""
    acme = book.customer("Acme Corp")
    book.invoice(acme, "INV-1001", "100.00")
    book.invoice(acme, "INV-1002", "50.00")
    cash = book.pay("100.00", payer="Acme Corp", text="INV-1001")
    returned(store, cash, "100.00")
    book.pay("50.00", payer="Acme Corp", text="INV-1002")
    book.pay("12.00", payer="Nobody Known", text="hello")
    summary = reconcile(store)
    assert summary.exceptions["returned_payment"] == 2 and summary.reversals == 1
    _adds_up(summary)
    assert summary.remittances == 4
    # as the report counts: the return is no payment to match
    assert f"{summary.match_rate}%" == build_report(store)["totals"]["match_rate"]


def test_a_return_of_cash_applied_before_is_counted_in_its_run(store: Store, book: Book) -> None:
    acme = book.customer("Acme Corp")
    book.invoice(acme, "INV-1001", "100.00")
    cash = book.pay("100.00", payer="Acme Corp", text="INV-1001")
    reconcile(store)
    returned(store, cash, "100.00")
    summary = reconcile(store)
    assert (summary.remittances, summary.reversals) == (1, 1)
    _adds_up(summary)
    assert "match rate" not in str(summary)  # no payment to match was decided
