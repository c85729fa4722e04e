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


def mapping_version(system: str) -> str:
    """The version of a system's mappings (its package's ``VERSION``). Raising it makes the
    next pull of that system read and map every record again, so records an older mapping
    stored are corrected even though the system did not change them."""
    module = importlib.import_module(f"mappings.{system}")
    return str(getattr(module, "VERSION", "1"))


def mapper(system: str, stream: str) -> Mapper:
    try:
        return mappers(system)[stream]
    except KeyError:
        raise KeyError(f"no mapping for {system} {stream}") from None
