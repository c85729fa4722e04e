"""Payment-processor records -> canonical remittances."""

from mappings.processors.remittance import (
    references_for,
    reinstatement_from_record,
    remittance_from_record,
    reversal_from_record,
    with_words,
)

__all__ = [
    "references_for",
    "reinstatement_from_record",
    "remittance_from_record",
    "reversal_from_record",
    "with_words",
]
