"""The mapping function for each (system, stream)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache

from canonical.records import RecordIn
from connectors.base import RawRecord
from mappings.base import MappingContext, fit

Mapper = Callable[[RawRecord, MappingContext], RecordIn]


@cache
def mappers(system: str) -> dict[str, Mapper]:
    """The system's mappings, each fitting its records to the store (:func:`fit`): a value
    no backend can keep quarantines the record on SQLite and PostgreSQL alike."""
    module = importlib.import_module(f"mappings.{system}")
    table: dict[str, Mapper] = module.MAPPERS
    return {stream: _fitted(mapping) for stream, mapping in table.items()}


def _fitted(mapping: Mapper) -> Mapper:
    def fitted(raw: RawRecord, ctx: MappingContext) -> RecordIn:
        return fit(mapping(raw, ctx))

    return fitted


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
