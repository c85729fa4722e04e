"""Canonical identifiers."""

from __future__ import annotations

import uuid


def new_id() -> str:
    """A new canonical id: 32 hex characters, stable for the life of the record."""
    return uuid.uuid4().hex
