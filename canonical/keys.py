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
    if form := spelled_legal_form(" ".join(words)):  # Acme, L.L.C.: ACME LLC
        words[-len(form) :] = [form]
    return " ".join(_LEGAL_FORMS.get(w, w) for w in words if w != "THE")


# words of a name that say its legal form (GROUP and THE are in _LEGAL_SUFFIXES for
# name_key's sake, but are no legal form)
_LEGAL_FORM_WORDS = frozenset(_LEGAL_FORMS.get(w, w) for w in _LEGAL_SUFFIXES) - {"GROUP", "THE"}
# one kind of company however written: a US corporation is an Inc or a Corp, a Pty is a
# Pty Ltd (Acme Pty and Acme Pty Ltd are one company; Acme Pty and Acme LLC are two)
_SAME_KIND = {"INC": "CORP", "PTY": "LTD"}
# a word that says no kind of company alone: Company is as often part of the name
_PART_OF_A_FORM = frozenset({"CO"})


def legal_form(name: str | None) -> str:
    """The kind of company a name ends with, as far as it tells two companies apart:
    ``Acme Foods, Inc.`` and ``Acme Foods Corp``: ``CORP``; ``Acme Foods LLC``: ``LLC``;
    ``Toyota Tsusho Co., Ltd.``: ``LTD``; "" when it shows none (``Acme Foods``, ``Acme
    Group``, and ``Acme Trading Company`` or ``Smith & Co``: a company is as often part of
    the name as its form)."""
    words = legal_name_key(name).split()
    while len(words) > 1 and words[-1] in _LEGAL_FORM_WORDS:
        word = words.pop()
        if word not in _PART_OF_A_FORM:
            return _SAME_KIND.get(word, word)
    return ""


def spelled_legal_form(key: str) -> str:
    """The legal form a key ends with, written letter by letter (``ACME L L C`` of
    ``Acme, L.L.C.``, ``HOFFMANN G M B H``): ``LLC``, ``GMBH``; else "". Only at the end,
    after the company's own words (``A G EDWARDS`` is a name), and of three letters or more:
    ``EDWARDS A G`` and ``JONES S A`` are as likely a person's initials as AG or SA."""
    words = key.split()
    letters = 0
    while letters < len(words) and len(words[-1 - letters]) == 1:
        letters += 1
    form = "".join(words[len(words) - letters :])
    return form if 3 <= letters < len(words) and form in _LEGAL_SUFFIXES else ""


def without_spelled_legal_form(key: str) -> str:
    """A name key without the legal form it ends with letter by letter: ``ACME L L C``
    (``Acme, L.L.C.``) is ``ACME``, as ``Acme LLC``'s is; other keys as they are."""
    form = spelled_legal_form(key)
    return " ".join(key.split()[: -len(form)]) if form else key


NAME_KEY_LENGTH = 255  # the column's: a key is compared as the store keeps it


_WRITTEN_OUT = str.maketrans(
    {"Ä": "AE", "Ö": "OE", "Ü": "UE", "ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ẞ": "SS"}
)


def umlauts_written_out(name: str | None) -> str | None:
    """The name with German umlauts and ß written out, as banks whose character set has
    none write it (``Müller`` as ``Mueller``, ``Straße`` as ``Strasse``); None when it has
    none. :func:`fold` drops the dots instead (``Muller``): a customer's name is known by
    both spellings."""
    if not name or name.isascii():
        return None
    composed = unicodedata.normalize("NFC", name)
    written = composed.translate(_WRITTEN_OUT)
    return written if written != composed else None


def name_key(name: str | None) -> str:
    """A company name without case, accents, punctuation or legal suffixes (its first
    ``NAME_KEY_LENGTH`` characters, as stored)."""
    if not name:
        return ""
    words = [w for w in _NON_ALNUM.split(fold(name).replace("&", " AND ")) if w]
    kept = [w for w in words if w not in _LEGAL_SUFFIXES]
    return " ".join(kept or words)[:NAME_KEY_LENGTH].rstrip()


def other_spelling_key(name: str | None) -> str:
    """The key of a name as a bank may spell it otherwise: umlauts written out and a legal
    form written with dots dropped (``Müller, G.m.b.H.``: ``MUELLER``, where its
    :func:`name_key` is ``MULLER G M B H``); "" where that is its :func:`name_key`."""
    if not name:
        return ""
    key = without_spelled_legal_form(name_key(umlauts_written_out(name) or name))
    return "" if key == name_key(name) else key
