"""The push adapter of each system: ``mappings/<system>/push.py`` defines ``ADAPTER``."""

from __future__ import annotations

import importlib

from connectors.base import Connector
from sync.outbox.adapter import PushAdapter


def adapter_for(system: str, connector: Connector) -> PushAdapter:
    try:
        module = importlib.import_module(f"mappings.{system}.push")
    except ModuleNotFoundError:
        raise KeyError(f"{system}: arsync cannot write to it yet") from None
    adapter: type[PushAdapter] = module.ADAPTER
    return adapter(connector)
