"""Canonical ids."""

from __future__ import annotations

import os
import random
import time

# Ids need uniqueness, not secrecy: a generator seeded from the OS (and reseeded in every
# forked child, so two processes never share a sequence) costs no system call per id.
_bits = random.Random()
os.register_at_fork(after_in_child=_bits.seed)


def new_id() -> str:
    """A new canonical id, stable for the record's life: 32 hex characters laid out as a
    UUIDv7 (RFC 9562) — 48 bits of Unix milliseconds, then random bits.

    Time-ordered ids land at the end of every index on them instead of at random pages, which
    keeps bulk inserts into a large store from thrashing the page cache.
    """
    millis = time.time_ns() // 1_000_000
    value = (millis & 0xFFFF_FFFF_FFFF) << 80 | _bits.getrandbits(80)
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 9562 variant
    return f"{value:032x}"
