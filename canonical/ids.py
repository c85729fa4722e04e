"""Canonical identifiers."""

from __future__ import annotations

import os
import time


def new_id() -> str:
    """A new canonical id, stable for the record's life: 32 hex characters laid out as a
    UUIDv7 (RFC 9562) — 48 bits of Unix milliseconds, then random bits.

    Time-ordered ids land at the end of every index on them instead of at random pages, which
    keeps bulk inserts into a large store from thrashing the page cache.
    """
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & 0xFFFF_FFFF_FFFF) << 80 | rand
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 9562 variant
    return f"{value:032x}"
