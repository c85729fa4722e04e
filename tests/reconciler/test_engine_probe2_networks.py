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


def test_a_customer_named_like_a_network_is_no_network_when_the_payer_bears_its_name() -> None:
    holdings = {"PAYPAL HOLDINGS"}  # PayPal Holdings, Inc., a customer
    assert paid_through("PAYPAL HOLDINGS INC") == ("PayPal", None)  # no customer of that name
    assert paid_through("PAYPAL HOLDINGS INC", holdings) is None
    assert paid_through("PAYPAL HOLDINGS INC", {"PAYPAL"}) == ("PayPal", None)
    # a customer named only as the network is (PayPal, Inc.) cannot be told from it
    assert paid_through("PAYPAL INC", {"PAYPAL"}) == ("PayPal", None)
    assert paid_through("BILL.COM LLC", {"BILL COM"}) == ("Bill.com", None)
    # a descriptor names the merchant behind it, whoever the customers are
    assert paid_through("PAYPAL *HOLDINGS", {"PAYPAL HOLDINGS"}) == ("PAYPAL", "HOLDINGS")


def test_a_customer_named_like_a_network_paying_as_itself_is_identified(
    store: Store, book: Book
) -> None:
    """PayPal Holdings, Inc. pays its own invoice from its own bank account: its name, more
    than PayPal's, is that customer's, and it is placed like any payer's; a payment bearing
    PayPal's name alone is still PayPal's, which names nobody."""
    holdings = book.customer("PayPal Holdings, Inc.")
    book.invoice(holdings, "30001", "4200.00")
    own = book.invoice(holdings, "30002", "310.00")
    book.invoice(holdings, "30003", "95.00")
    first = pay(store, "k1", "4200.00", "PAYPAL HOLDINGS INC", "INV 30001", account="555001")
    reconcile(store)
    assert applied(store, first) == {"30001": "4200.00"}
    # its account and name are its own, learned for it (not kept as a network's, shared)
    assert aliases(store) == {
        ("account", "555001"): holdings,
        ("name", "PAYPAL HOLDINGS"): holdings,
    }
    rid = pay(store, "k2", "310.00", "PAYPAL HOLDINGS INC", "MARCH", account="555001")
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.customer_id, d.rule) == ("auto_applied", holdings, "customer_exact_balance")
    assert d.evidence["payer_named_like_network"]["network"] == "PayPal"
    assert "payer_network" not in d.evidence
    assert balance(store, own) == ("0.00", "paid")

    through = pay(store, "k3", "95.00", "PAYPAL", "TRANSFER", day=date(2026, 11, 9))
    reconcile(store)
    d = decision(store, through)
    assert d.status != "auto_applied" and d.customer_id is None
    assert d.evidence["payer_network"]["network"] == "PayPal"
    assert applied(store, through) == {}


def test_a_customer_named_only_as_the_network_is_placed_by_references_only(
    store: Store, book: Book
) -> None:
    paypal = book.customer("PayPal, Inc.")
    book.invoice(paypal, "30001", "4200.00")
    rid = pay(store, "k1", "4200.00", "PAYPAL INC", "MARCH SERVICES", account="555001")
    reconcile(store)
    d = decision(store, rid)
    assert d.status != "auto_applied" and d.evidence["payer_network"]["network"] == "PayPal"
    referenced = pay(store, "k2", "4200.00", "PAYPAL INC", "INV 30001", account="555001")
    reconcile(store)
    assert (decision(store, referenced).status, applied(store, referenced)) == (
        "auto_applied",
        {"30001": "4200.00"},
    )


def test_a_payment_waits_for_a_customer_named_like_a_network(store: Store, book: Book) -> None:
    rid = pay(store, "k1", "4200.00", "PAYPAL HOLDINGS INC", "MARCH SERVICES", account="555001")
    reconcile(store)
    first = decision(store, rid)
    assert (first.status, first.exception_kind) == ("exception", "unidentified_payer")
    holdings = book.customer("PayPal Holdings, Inc.")
    book.invoice(holdings, "30001", "4200.00")
    summary = reconcile(store)
    again = decision(store, rid)
    assert (summary.late, again.status, again.customer_id) == (1, "auto_applied", holdings)
    assert again.evidence["decided_again"]["payer_now_known"] == "a customer of that name"


def test_the_network_table_is_consistent() -> None:
    """One row per network: each identifies no payer by its names, or has a descriptor whose
    merchant is the payer, or both; a name belongs to one network and is written as
    ``name_key`` writes it."""
    from canonical.keys import name_key
    from reconciler.references import PAYMENT_NETWORKS, payer_behind

    names = [n for network in PAYMENT_NETWORKS for n in network.network_names]
    assert len(names) == len(set(names)) and all(name_key(n) == n for n in names)
    assert all(n.network_names or n.descriptor_prefixes for n in PAYMENT_NETWORKS)
    both = {n.name for n in PAYMENT_NETWORKS if n.identifies_no_payer and n.descriptor_prefixes}
    assert both == {"PayPal", "Venmo", "Zelle"}
    for network in PAYMENT_NETWORKS:
        for prefix in network.descriptor_prefixes:
            assert payer_behind(f"{prefix.lower()} * Acme Tools") == (prefix, "Acme Tools")
    assert payer_behind("APPLEPAY*ACME") == ("APPLEPAY", "ACME")
