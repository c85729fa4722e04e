"""Payment-processor records -> canonical remittances."""

from mappings.processors.remittance import remittance_from_record, reversal_from_record

__all__ = ["remittance_from_record", "reversal_from_record"]
