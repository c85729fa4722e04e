"""Canonical identifiers."""

from __future__ import annotations

import os


def new_id() -> str:
    """A new canonical id: 128 random bits as 32 hex characters, stable for the record's life."""
    return os.urandom(16).hex()
