"""Payment networks (Bill.com, AvidXchange, bank bill pay, ...) pay for thousands of customers:
their name, account or IBAN is never learned as a customer's nor identifies one, while a
reference on their payment still names the invoice."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from canonical.models import PayerAlias, Remittance
from canonical.money import Money
from canonical.store import Store
from reconciler import reconcile
from reconciler.apply import paid_through
from reconciler.book import SHARED
from reconciler.confirm import confirm
from tests.support.receivables import Book, applied, balance, decision

pytestmark = pytest.mark.usefixtures("book_loading")

NETWORK_ACCOUNT = "1234567890"  # the network's ACH company id, the same for every customer


def pay(
    store: Store,
    key: str,
    amount: str,
    payer: str,
    text: str | None,
    account: str | None = NETWORK_ACCOUNT,
    day: date = date(2026, 11, 2),
) -> str:
    with store.session() as s:
        r = Remittance(
            source="nacha",
            source_key=key,
            currency="USD",
            amount_minor=Money(amount, "USD").minor,
            value_date=day,
            payer_name=payer,
            payer_account=account,
            free_text=text,
            structured_refs=[],
        )
        s.add(r)
    return r.id


def aliases(store: Store) -> dict[tuple[str, str], str]:
    with store.session() as s:
        return {(a.kind, a.value): a.customer_id for a in s.execute(select(PayerAlias)).scalars()}


@pytest.mark.parametrize(
    ("name", "network"),
    [
        ("BILL.COM", "Bill.com"),
        ("BILL.COM LLC", "Bill.com"),
        ("AVIDXCHANGE INC", "AvidXchange"),
        ("AVIDPAY NETWORK", "AvidXchange"),
        ("PAYMODE-X", "Paymode-X"),
        ("BANK OF AMERICA PAYMODE", "Paymode-X"),
        ("CORPAY SOLUTIONS", "Corpay"),
        ("COMDATA INC", "Corpay"),
        ("NVOICEPAY", "Nvoicepay"),
        ("TIPALTI INC", "Tipalti"),
        ("COUPA PAY", "Coupa Pay"),
        ("VERSAPAY", "Versapay"),
        ("BILLTRUST", "Billtrust"),
        ("PAYONEER INC", "Payoneer"),
        ("PAYPAL", "PayPal"),
        ("VENMO", "Venmo"),
        ("CHECKFREE", "Checkfree (Fiserv)"),
        ("FISERV CHECKFREE", "Checkfree (Fiserv)"),
        ("ONLINE PMT", "bank bill pay"),
        ("CHASE BILL PAY", "bank bill pay"),
    ],
)
def test_a_payment_network_is_recognised_by_its_name(name: str, network: str) -> None:
    assert paid_through(name) == (network, None)


@pytest.mark.parametrize(
    "name", ["ACME CORP", "BILL COMSTOCK LLC", "SQUARE ONE FOODS", "COUPA SOFTWARE", None, ""]
)
def test_a_payer_s_own_name_is_no_network(name: str | None) -> None:
    assert paid_through(name) is None


def test_a_processor_descriptor_names_the_merchant_behind_it() -> None:
    assert paid_through("PAYPAL *ACME TOOLS") == ("PAYPAL", "ACME TOOLS")


def test_a_network_that_paid_one_customer_never_identifies_it_again(
    store: Store, book: Book
) -> None:
    acme, globex = book.customer("Acme Corp"), book.customer("Globex LLC")
    book.invoice(acme, "10023", "1250.00")
    other = book.invoice(acme, "10031", "640.00")
    book.invoice(globex, "20011", "640.00")
    first = pay(store, "k1", "1250.00", "BILL.COM", "INV#10023")
    reconcile(store)
    assert decision(store, first).status == "auto_applied"
    assert applied(store, first) == {"10023": "1250.00"}

    unreferenced = pay(store, "k2", "640.00", "BILL.COM", "VENDOR PAYMENT", day=date(2026, 11, 9))
    reconcile(store)
    d = decision(store, unreferenced)
    assert d.status != "auto_applied" and d.customer_id is None
    assert applied(store, unreferenced) == {}
    assert "customer_from" not in d.evidence
    assert d.evidence["payer_name"] == "BILL.COM"  # what the bank said, for the person
    assert d.evidence["payer_network"]["network"] == "Bill.com"
    assert d.evidence["payer_shared"] == ["account", "name"]
    assert balance(store, other) == ("640.00", "open")
    # the network's account and name are kept as shared: they name nobody
    assert aliases(store) == {("account", NETWORK_ACCOUNT): SHARED, ("name", "BILL COM"): SHARED}

    referenced = pay(store, "k3", "640.00", "BILL.COM", "INV#20011", day=date(2026, 11, 10))
    reconcile(store)
    d = decision(store, referenced)
    assert (d.status, d.customer_id) == ("auto_applied", globex)
    assert applied(store, referenced) == {"20011": "640.00"}
    assert aliases(store) == {("account", NETWORK_ACCOUNT): SHARED, ("name", "BILL COM"): SHARED}


def test_a_network_name_learned_before_names_nobody_now(store: Store, book: Book) -> None:
    """Aliases learned from a network's payment before it was known as one are not used, and
    the next payment through it that a reference places marks them shared."""
    acme, globex = book.customer("Acme Corp"), book.customer("Globex LLC")
    book.invoice(acme, "10031", "640.00")
    book.invoice(globex, "20011", "300.00")
    with store.session() as s:
        s.add(PayerAlias(kind="name", value="AVIDXCHANGE", customer_id=acme))
        s.add(PayerAlias(kind="account", value=NETWORK_ACCOUNT, customer_id=acme))
    guess = pay(store, "k1", "640.00", "AVIDXCHANGE INC", "AVIDPAY 884213")
    referenced = pay(store, "k2", "300.00", "AVIDXCHANGE INC", "AVIDPAY INV 20011")
    reconcile(store)
    d = decision(store, guess)
    assert d.status != "auto_applied" and applied(store, guess) == {}
    assert applied(store, referenced) == {"20011": "300.00"}
    assert aliases(store) == {
        ("account", NETWORK_ACCOUNT): SHARED,
        ("name", "AVIDXCHANGE"): SHARED,
    }


def test_the_account_behind_a_processor_descriptor_is_the_processor_s(
    store: Store, book: Book
) -> None:
    """PAYPAL *ACME names Acme, and that name is learned; PayPal's account pays for every
    merchant, so it is not: PAYPAL *GLOBEX from the same account is Globex's."""
    acme, globex = book.customer("Acme Corp"), book.customer("Globex LLC")
    book.invoice(acme, "1001", "212.50")
    book.invoice(acme, "1002", "90.00")
    book.invoice(globex, "2001", "90.00")
    first = pay(store, "k1", "212.50", "PAYPAL *ACME CORP", "INV 1001")
    reconcile(store)
    assert applied(store, first) == {"1001": "212.50"}
    second = pay(store, "k2", "90.00", "PAYPAL *GLOBEX", None)
    reconcile(store)
    d = decision(store, second)
    assert (d.status, d.customer_id) == ("auto_applied", globex)
    assert applied(store, second) == {"2001": "90.00"}
    assert aliases(store) == {("account", NETWORK_ACCOUNT): SHARED, ("name", "PAYPAL ACME"): acme}


def test_a_person_placing_a_network_payment_teaches_nothing_about_the_payer(
    store: Store, book: Book
) -> None:
    globex = book.customer("Globex LLC")
    book.invoice(globex, "20011", "640.00")
    rid = pay(store, "k1", "640.00", "TIPALTI INC", "VENDOR PAYMENT")
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.exception_kind) == ("exception", "unidentified_payer")
    confirmed = confirm(store, d.id, by="person:ana", invoice_numbers=["20011"])
    assert confirmed.customer_id == globex and applied(store, rid) == {"20011": "640.00"}
    assert aliases(store) == {("account", NETWORK_ACCOUNT): SHARED, ("name", "TIPALTI"): SHARED}
