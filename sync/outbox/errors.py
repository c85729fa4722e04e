"""Why a command cannot be written."""

from __future__ import annotations


class Unwritable(Exception):
    """The command cannot be written as decided. ``conflict``: the system's record no longer
    allows it (paid elsewhere, voided, deleted); otherwise something is missing (no record
    of the customer or invoice in that system, no configured write-off account)."""

    def __init__(self, reason: str, *, conflict: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.conflict = conflict
