"""Do the systems agree on each invoice's balance? The figure the push is meant to move."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import col

from canonical.models import ExternalRef, Invoice
from canonical.store import Store


@dataclass(frozen=True)
class Agreement:
    """Invoices held by two or more systems, and how many of them show the same balance
    everywhere, equal to arsync's own."""

    invoices: int
    agree: int

    @property
    def disagree(self) -> int:
        return self.invoices - self.agree

    def __str__(self) -> str:
        share = f"{100 * self.agree / self.invoices:.1f}%" if self.invoices else "n/a"
        return f"{self.agree} of {self.invoices} invoices agree in every system ({share})"


def balance_agreement(store: Store, tenant: str = "default") -> Agreement:
    views: dict[str, set[str]] = defaultdict(set)
    systems: dict[str, int] = defaultdict(int)
    with store.session() as session:
        refs = session.execute(
            select(col(ExternalRef.canonical_id), ExternalRef.values).where(  # type: ignore[call-overload]
                col(ExternalRef.tenant) == tenant,
                col(ExternalRef.canonical_type) == "invoice",
                col(ExternalRef.deleted).is_(False),
            )
        )
        for canonical_id, values in refs:
            systems[canonical_id] += 1
            views[canonical_id].add(str((values or {}).get("balance_minor")))
        own = dict(
            session.execute(
                select(col(Invoice.id), col(Invoice.balance_minor)).where(
                    col(Invoice.tenant) == tenant
                )
            ).all()
        )
    shared = [cid for cid, n in systems.items() if n > 1]
    agree = sum(1 for cid in shared if views[cid] == {str(own.get(cid))})
    return Agreement(len(shared), agree)
