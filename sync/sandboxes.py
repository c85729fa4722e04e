"""Starting the four local sandboxes on loopback and pointing arsync at them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from connectors.registry import SYSTEMS, entry
from connectors.sandbox.server import Faults, SandboxServer
from connectors.sandbox.world import World


@dataclass
class SandboxFleet:
    """Running sandboxes by system, all rendering one world."""

    world: World
    servers: dict[str, SandboxServer]

    def settings_overrides(self) -> dict[str, Any]:
        """Per-system config sections pointing at the sandboxes (secrets included)."""
        out: dict[str, Any] = {}
        for system, server in self.servers.items():
            config = server.config()  # type: ignore[attr-defined]
            out[system] = config.model_dump()
        return out

    def initial_tokens(self) -> dict[str, dict[str, str]]:
        return {s: server.initial_tokens() for s, server in self.servers.items()}  # type: ignore[attr-defined]

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()


@contextmanager
def running_sandboxes(
    world: World | None = None,
    systems: tuple[str, ...] = SYSTEMS,
    faults: dict[str, Faults] | None = None,
) -> Iterator[SandboxFleet]:
    """Start sandboxes on free loopback ports; stop them on exit."""
    world = world or World.generate()
    servers: dict[str, SandboxServer] = {}
    fleet = SandboxFleet(world=world, servers=servers)
    try:
        for system in systems:
            server = entry(system).sandbox(world=world, faults=(faults or {}).get(system))
            server.start()
            servers[system] = server
        yield fleet
    finally:
        fleet.stop()
