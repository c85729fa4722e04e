"""Bank-file remittances -> canonical records."""

from mappings.bankfiles.remittance import remittance_from_raw, structured_ref_dict

__all__ = ["remittance_from_raw", "structured_ref_dict"]
