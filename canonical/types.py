"""Time types shared by the store's tables and the connectors' settings."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator
from sqlalchemy import DateTime, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Treat a naive datetime as UTC; convert an aware one to UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; an unknown one raises ValueError naming it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


def _known_zone(name: str) -> str:
    zone(name)
    return name


TimeZoneName = Annotated[str, AfterValidator(_known_zone)]
"""A setting naming an IANA time zone (``Europe/Berlin``), refused when unknown."""


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no zone; we put it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return as_utc(value)


NUL = "\x00"


def without_nul(value: str) -> str:
    """``value`` without NUL characters: PostgreSQL refuses them in text (SQLite keeps them),
    and in a name, number or narrative they never mean anything, so no backend stores them."""
    return value.replace(NUL, "") if NUL in value else value


class CleanText(TypeDecorator[str]):
    """Unbounded text (a narrative, a memo, an error message) without NUL characters."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> Any:
        return without_nul(value) if isinstance(value, str) else value


class ClippedString(TypeDecorator[str]):
    """A VARCHAR(length) whose longer values are cut to its length on every backend (SQLite
    ignores declared lengths, PostgreSQL refuses longer values): for names and descriptions
    a person reads, where the beginning is enough. Lookups are cut alike, so a value stored
    cut is found again by the whole one. Identifiers are never declared so: a mapping
    quarantines one too long (see :func:`mappings.base.fit`)."""

    impl = String
    cache_ok = True

    def __init__(self, length: int) -> None:
        super().__init__(length=length)
        self.limit = length

    def process_bind_param(self, value: str | None, dialect: Dialect) -> Any:
        if not isinstance(value, str):
            return value
        value = without_nul(value)
        return value[: self.limit] if len(value) > self.limit else value
