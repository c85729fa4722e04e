"""Normalised keys used to recognise the same document or company across systems."""

from __future__ import annotations

import re
import unicodedata

_NON_ALNUM = re.compile(r"[^0-9A-Z]+")
_PREFIXES = r"(?:INVOICE|INV|CREDITMEMO|CREDITNOTE|ADJ|CM|CN|CR|NO|NR|DOC)+"
_DOC_PREFIX = re.compile(rf"^{_PREFIXES}(?=\d)")
_ANY_PREFIX = re.compile(rf"^{_PREFIXES}")
_LEGAL_SUFFIXES = frozenset(
    {
        "INC",
        "INCORPORATED",
        "LLC",
        "LLP",
        "LP",
        "LTD",
        "LIMITED",
        "CORP",
        "CORPORATION",
        "CO",
        "COMPANY",
        "GMBH",
        "AG",
        "SA",
        "SAS",
        "SARL",
        "BV",
        "NV",
        "PLC",
        "PTY",
        "SRL",
        "SPA",
        "AB",
        "AS",
        "OY",
        "KG",
        "GROUP",
        "THE",
    }
)


def fold(value: str) -> str:
    """Upper-case ASCII without accents."""
    if value.isascii():  # nearly always; ASCII has nothing to decompose or drop
        return value.upper()
    decomposed = unicodedata.normalize("NFKD", value)
    return decomposed.encode("ascii", "ignore").decode("ascii").upper()


def document_key(number: str | None) -> str:
    """``INV-001234``, ``inv 1234`` and ``1234`` all give ``1234``; other text is kept."""
    if not number:
        return ""
    compact = _NON_ALNUM.sub("", fold(number))
    compact = _DOC_PREFIX.sub("", compact)
    if compact.isdigit():
        compact = compact.lstrip("0") or "0"
    return compact


def split_prefix(number: str) -> tuple[str, str]:
    """A document number's word prefix (``INV``) and the rest, compacted and upper-cased."""
    compact = _NON_ALNUM.sub("", fold(number))
    match = _ANY_PREFIX.match(compact)
    return (match.group(0), compact[match.end() :]) if match else ("", compact)


_LEGAL_FORMS = {
    "INCORPORATED": "INC",
    "LIMITED": "LTD",
    "CORPORATION": "CORP",
    "COMPANY": "CO",
}


def legal_name_key(name: str | None) -> str:
    """A company name without case, accents or punctuation, keeping its legal form.

    ``Acme Foods, Inc.`` and ``ACME FOODS INCORPORATED`` agree; ``Acme Foods LLC`` does not:
    two customers whose :func:`name_key` is the same are told apart by this.
    """
    if not name:
        return ""
    words = [w for w in _NON_ALNUM.split(fold(name).replace("&", " AND ")) if w]
    return " ".join(_LEGAL_FORMS.get(w, w) for w in words if w != "THE")


NAME_KEY_LENGTH = 255  # the column's: a key is compared as the store keeps it


def name_key(name: str | None) -> str:
    """A company name without case, accents, punctuation or legal suffixes (its first
    ``NAME_KEY_LENGTH`` characters, as stored)."""
    if not name:
        return ""
    words = [w for w in _NON_ALNUM.split(fold(name).replace("&", " AND ")) if w]
    kept = [w for w in words if w not in _LEGAL_SUFFIXES]
    return " ".join(kept or words)[:NAME_KEY_LENGTH].rstrip()
