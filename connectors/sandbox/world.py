"""One seeded set of receivables that every sandbox renders in its own wire format.

The world is neutral (no system's field names). Each sandbox shows it with that system's
quirks: names spelled a little differently, document numbers formatted its own way, and a
few deliberate disagreements (a balance one system has not caught up with), so identity
resolution and drift detection have real work to do.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

_FIRST = (
    "Northwind",
    "Blue Harbor",
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Cyberdyne",
    "Soylent",
    "Hooli",
    "Vandelay",
    "Wonka",
    "Tyrell",
    "Gringotts",
    "Oceanic",
    "Pied Piper",
    "Massive Dynamic",
    "Aperture",
    "Black Mesa",
    "Bluth",
    "Dunder",
    "Sterling",
    "Prestige",
    "Monarch",
    "Atlas",
    "Summit",
    "Evergreen",
    "Riverbend",
    "Silverline",
    "Redwood",
    "Granite",
    "Harborview",
    "Lakeside",
    "Pinecrest",
    "Meridian",
    "Keystone",
    "Beacon",
    "Crescent",
    "Horizon",
    "Liberty",
    "Pioneer",
    "Sunrise",
    "Trident",
    "Vertex",
)
_SECOND = (
    "Traders",
    "Logistics",
    "Foods",
    "Industries",
    "Systems",
    "Holdings",
    "Manufacturing",
    "Supply",
    "Partners",
    "Labs",
    "Analytics",
    "Outfitters",
    "Paper",
    "Energy",
    "Medical",
    "Construction",
    "Software",
    "Freight",
    "Textiles",
    "Hospitality",
)
_SUFFIX = ("Inc.", "LLC", "Ltd", "Corp.", "GmbH", "Co.", "Group", "")
_CURRENCIES = ("USD",) * 8 + ("EUR", "GBP", "CAD")
_METHODS = ("check", "ach", "wire", "card")


@dataclass
class WCustomer:
    key: int
    name: str
    number: str
    email: str
    currency: str
    terms_days: int
    modified_at: datetime

    @classmethod
    def newcomer(cls, key: int, at: datetime) -> WCustomer:
        """The customer a sandbox's ``create`` adds after the world was generated: a USD
        company on net 30, modified ``at``."""
        return cls(
            key,
            f"Newcomer Trading {key} LLC",
            f"C-{key:05d}",
            f"ap@newcomer{key}.example.com",
            "USD",
            30,
            at,
        )


@dataclass
class WInvoice:
    key: int
    customer_key: int
    number: int
    currency: str
    issue_date: date
    due_date: date
    total: Decimal
    balance: Decimal
    po_number: str | None
    status: str  # open | paid | void
    modified_at: datetime


@dataclass
class WCreditMemo:
    key: int
    customer_key: int
    number: int
    currency: str
    issue_date: date
    total: Decimal
    balance: Decimal
    reference: str | None
    modified_at: datetime


@dataclass
class WApplication:
    invoice_key: int
    amount: Decimal
    credit_memo_key: int | None = None  # set when the credit memo, not cash, pays it


@dataclass
class WPayment:
    key: int
    customer_key: int
    currency: str
    received_on: date
    amount: Decimal
    method: str
    reference: str
    applications: list[WApplication]
    modified_at: datetime

    @property
    def unapplied(self) -> Decimal:
        return self.amount - sum(
            (a.amount for a in self.applications if a.credit_memo_key is None), Decimal(0)
        )


@dataclass
class World:
    """A tenant's receivables, generated from a seed."""

    seed: int
    customers: list[WCustomer] = field(default_factory=list)
    invoices: list[WInvoice] = field(default_factory=list)
    credit_memos: list[WCreditMemo] = field(default_factory=list)
    payments: list[WPayment] = field(default_factory=list)
    drift_invoice_keys: set[int] = field(default_factory=set)

    @classmethod
    def generate(
        cls,
        seed: int = 7,
        customers: int = 300,
        invoices: int = 3000,
        today: date | None = None,
    ) -> World:
        rng = random.Random(seed)
        today = today or datetime.now(UTC).date()
        stamp_floor = datetime.combine(today - timedelta(days=400), datetime.min.time(), UTC)
        span = int((timedelta(days=398)).total_seconds())
        world = cls(seed=seed)

        def stamp() -> datetime:
            return stamp_floor + timedelta(seconds=rng.randrange(span))

        used: set[str] = set()
        for key in range(1, customers + 1):
            while True:
                base = f"{rng.choice(_FIRST)} {rng.choice(_SECOND)}"
                name = f"{base} {rng.choice(_SUFFIX)}".strip()
                if name not in used:
                    break
                name = f"{base} {key}"
                if name not in used:
                    break
            used.add(name)
            slug = "".join(ch for ch in base.lower() if ch.isalnum())[:16]
            world.customers.append(
                WCustomer(
                    key=key,
                    name=name,
                    number=f"C-{key:05d}",
                    email=f"ap@{slug}{key}.example.com",
                    currency=rng.choice(_CURRENCIES),
                    terms_days=rng.choice((15, 30, 30, 45, 60)),
                    modified_at=stamp(),
                )
            )

        for key in range(1, invoices + 1):
            customer = world.customers[rng.randrange(len(world.customers))]
            issued = today - timedelta(days=rng.randrange(5, 390))
            total = Decimal(rng.randrange(5_000, 2_500_000)) / 100
            world.invoices.append(
                WInvoice(
                    key=key,
                    customer_key=customer.key,
                    number=1000 + key,
                    currency=customer.currency,
                    issue_date=issued,
                    due_date=issued + timedelta(days=customer.terms_days),
                    total=total,
                    balance=total,
                    po_number=f"PO-{rng.randrange(10000, 99999)}" if rng.random() < 0.4 else None,
                    status="open",
                    modified_at=stamp(),
                )
            )

        by_customer: dict[int, list[WInvoice]] = {}
        for invoice in world.invoices:
            by_customer.setdefault(invoice.customer_key, []).append(invoice)

        memo_sample = rng.sample(world.invoices, k=max(1, len(world.invoices) // 10))
        for memo_key, invoice in enumerate(memo_sample, start=1):
            amount = (invoice.total * Decimal(rng.choice((5, 10, 20, 50))) / 100).quantize(
                Decimal("0.01")
            )
            world.credit_memos.append(
                WCreditMemo(
                    key=memo_key,
                    customer_key=invoice.customer_key,
                    number=5000 + memo_key,
                    currency=invoice.currency,
                    issue_date=invoice.issue_date + timedelta(days=rng.randrange(1, 20)),
                    total=amount,
                    balance=amount,
                    reference=invoice.po_number,
                    modified_at=stamp(),
                )
            )

        payment_key = 0
        for customer_key, open_items in by_customer.items():
            customer = world.customers[customer_key - 1]
            pool = sorted(open_items, key=lambda i: i.issue_date)
            index = 0
            while index < len(pool):
                if rng.random() < 0.35:  # left open (some overdue)
                    index += 1
                    continue
                group = pool[index : index + rng.choice((1, 1, 1, 2, 3))]
                index += len(group)
                payment_key += 1
                applications: list[WApplication] = []
                amount = Decimal(0)
                for invoice in group:
                    share = invoice.balance
                    if rng.random() < 0.15:  # a partial payment
                        share = (share * Decimal(rng.choice((25, 50, 75))) / 100).quantize(
                            Decimal("0.01")
                        )
                    applications.append(WApplication(invoice.key, share))
                    invoice.balance -= share
                    amount += share
                if rng.random() < 0.05:  # over-payment left unapplied
                    amount += Decimal(rng.randrange(100, 5000)) / 100
                received = max(g.issue_date for g in group) + timedelta(days=rng.randrange(1, 50))
                world.payments.append(
                    WPayment(
                        key=payment_key,
                        customer_key=customer_key,
                        currency=customer.currency,
                        received_on=min(received, today),
                        amount=amount,
                        method=rng.choice(_METHODS),
                        reference=f"{rng.randrange(100000, 999999)}",
                        applications=applications,
                        modified_at=stamp(),
                    )
                )

        # credit memos applied to an open invoice of the same customer, by some payments
        for memo in world.credit_memos:
            if rng.random() < 0.5:
                continue
            targets = [
                i for i in by_customer.get(memo.customer_key, []) if i.balance >= memo.balance > 0
            ]
            if not targets:
                continue
            invoice = targets[0]
            payment_key += 1
            invoice.balance -= memo.balance
            world.payments.append(
                WPayment(
                    key=payment_key,
                    customer_key=memo.customer_key,
                    currency=memo.currency,
                    received_on=memo.issue_date,
                    amount=Decimal("0.00"),
                    method="credit",
                    reference=f"CM{memo.number}",
                    applications=[WApplication(invoice.key, memo.balance, memo.key)],
                    modified_at=stamp(),
                )
            )
            memo.balance = Decimal("0.00")

        for invoice in world.invoices:
            if invoice.balance == 0:
                invoice.status = "paid"
        for invoice in rng.sample(world.invoices, k=max(1, len(world.invoices) // 200)):
            if invoice.balance == invoice.total:
                invoice.status = "void"
        world.drift_invoice_keys = {
            i.key for i in rng.sample(world.invoices, k=max(1, len(world.invoices) // 100))
        }
        return world

    def customer(self, key: int) -> WCustomer:
        return self.customers[key - 1]

    def next_invoice_number(self) -> int:
        """The number of the first invoice a sandbox creates: after the world's highest."""
        return max((i.number for i in self.invoices), default=1000) + 1

    def next_memo_number(self) -> int:
        """The number of the first credit memo a sandbox creates: after the world's highest."""
        return max((m.number for m in self.credit_memos), default=5000) + 1


def name_variant(name: str, style: int) -> str:
    """The same company name as another system might spell it (style 0 is the original)."""
    if style == 0:
        return name
    words = name.replace(".", "").split()
    expansions = {"Inc": "Incorporated", "Corp": "Corporation", "Co": "Company", "Ltd": "Limited"}
    if style == 1:
        return " ".join(expansions.get(w, w) for w in words)
    if style == 2:
        return " ".join(words).upper()
    return " ".join(w for w in words if w not in expansions and w not in ("LLC", "GmbH", "Group"))
