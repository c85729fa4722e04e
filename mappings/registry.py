"""The mapping function for each (system, stream)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache

from canonical.records import RecordIn
from connectors.base import RawRecord
from mappings.base import MappingContext

Mapper = Callable[[RawRecord, MappingContext], RecordIn]


@cache
def mappers(system: str) -> dict[str, Mapper]:
    module = importlib.import_module(f"mappings.{system}")
    table: dict[str, Mapper] = module.MAPPERS
    return table


def mapper(system: str, stream: str) -> Mapper:
    try:
        return mappers(system)[stream]
    except KeyError:
        raise KeyError(f"no mapping for {system} {stream}") from None
