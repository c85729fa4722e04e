"""Payment-processor records -> canonical remittances."""

from mappings.processors.remittance import (
    reinstatement_from_record,
    remittance_from_record,
    reversal_from_record,
    with_words,
)

__all__ = [
    "reinstatement_from_record",
    "remittance_from_record",
    "reversal_from_record",
    "with_words",
]
