"""Which connector, config and sandbox serve each system (imported lazily)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from connectors.base import Connector, TokenStore
from connectors.http import RetryPolicy
from connectors.sandbox.server import SandboxServer

SYSTEMS = ("quickbooks", "intacct", "invoiced", "salesforce")
_PREFIX = {
    "quickbooks": "QuickBooks",
    "intacct": "Intacct",
    "invoiced": "Invoiced",
    "salesforce": "Salesforce",
}


class UnknownSystemError(KeyError):
    pass


@dataclass(frozen=True)
class SystemEntry:
    """The three classes of one system."""

    name: str
    config: type[BaseModel]
    connector: type[Connector]
    sandbox: type[SandboxServer]

    def parse_config(self, raw: dict[str, Any] | BaseModel) -> BaseModel:
        """The system's config model; a bad section raises pydantic's ``ValidationError``
        (``sync.settings.describe_validation_error`` makes it one line naming the key)."""
        if isinstance(raw, BaseModel):
            return raw
        return self.config.model_validate(raw)

    def build(
        self,
        config: dict[str, Any] | BaseModel,
        tokens: TokenStore,
        policy: RetryPolicy | None = None,
    ) -> Connector:
        connector: Connector = self.connector(  # type: ignore[call-arg]
            self.parse_config(config), tokens, policy=policy
        )
        return connector


def entry(system: str) -> SystemEntry:
    if system not in _PREFIX:
        raise UnknownSystemError(f"unknown system {system!r}; known: {', '.join(SYSTEMS)}")
    module = importlib.import_module(f"connectors.{system}")
    prefix = _PREFIX[system]
    return SystemEntry(
        name=system,
        config=getattr(module, f"{prefix}Config"),
        connector=getattr(module, f"{prefix}Connector"),
        sandbox=getattr(module, f"{prefix}Sandbox"),
    )
