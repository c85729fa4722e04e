"""The connectors' TokenStore, kept in the canonical store (rotated refresh tokens survive)."""

from __future__ import annotations

from sqlmodel import select

from canonical.models import Credential
from canonical.store import Store
from canonical.types import utcnow


class StoredTokens:
    """Secrets of one system for one tenant, each write committed at once."""

    def __init__(self, store: Store, system: str, tenant: str = "default") -> None:
        self.store = store
        self.system = system
        self.tenant = tenant

    def get(self, key: str) -> str | None:
        with self.store.session() as session:
            row = session.exec(
                select(Credential).where(
                    Credential.tenant == self.tenant,
                    Credential.system == self.system,
                    Credential.key == key,
                )
            ).first()
            return row.value if row else None

    def set(self, key: str, value: str) -> None:
        with self.store.session() as session:
            row = session.get(Credential, (self.tenant, self.system, key))
            if row is None:
                session.add(
                    Credential(tenant=self.tenant, system=self.system, key=key, value=value)
                )
            else:
                row.value = value
                row.updated_at = utcnow()
                session.add(row)

    def seed(self, values: dict[str, str]) -> None:
        """Store initial secrets from configuration unless a rotated value is already kept."""
        for key, value in values.items():
            if self.get(key) is None:
                self.set(key, value)
