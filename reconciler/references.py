"""Finding invoice numbers in what payers write, and checking RF creditor references."""

from __future__ import annotations

import re

from canonical.keys import document_key, split_prefix

_TOKEN = re.compile(
    r"(?:(?:invoice|inv|rechnung|facture|factura|bill)\s*(?:no|nr|number|#)?\.?\s*[:#-]?\s*)?"
    r"#?\s*([A-Z0-9][A-Z0-9/_.-]*[0-9][A-Z0-9/_.-]*|[0-9OIlSB]{3,}[0-9][0-9OIlSB]*)",
    re.IGNORECASE,
)
_OCR = str.maketrans({"O": "0", "o": "0", "I": "1", "l": "1", "i": "1", "S": "5", "B": "8"})
_RF = re.compile(r"^RF(\d{2})([0-9A-Z]{1,21})$")


def rf_reference(value: str) -> str | None:
    """The creditor's reference inside a valid ISO 11649 RF reference, else None."""
    compact = re.sub(r"\s+", "", value or "").upper()
    match = _RF.match(compact)
    if not match:
        return None
    rearranged = match.group(2) + "RF" + match.group(1)
    digits = "".join(str(int(ch, 36)) for ch in rearranged)
    return match.group(2) if int(digits) % 97 == 1 else None


def text_tokens(text: str | None) -> list[tuple[str, str]]:
    """Candidate document keys in free text, as (what was written, normalised key).

    ``INV-001234``, ``inv 1234``, ``#1234`` and ``Invoice No. 1234`` all give ``1234``; a
    token whose letters look like digits (``1O23``) is read the OCR way too.
    """
    if not text:
        return []
    found: list[tuple[str, str]] = []
    seen: set[str] = set()
    for match in _TOKEN.finditer(text):
        written = match.group(0).strip()
        token = match.group(1)
        keys = [document_key(token)]
        # read letters that look like digits as digits, after the prefix (INV-) is gone
        prefix, rest = split_prefix(token)
        ocr = document_key(prefix + rest.translate(_OCR))
        if ocr != keys[0] and sum(ch.isdigit() for ch in keys[0]) >= len(keys[0]) // 2:
            keys.append(ocr)
        for key in keys:
            if key and len(key) >= 3 and key not in seen and any(ch.isdigit() for ch in key):
                seen.add(key)
                found.append((written, key))
    return found
