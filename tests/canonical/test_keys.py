"""Name keys: the spellings a company's name reaches us in."""

from __future__ import annotations

import pytest

from canonical.keys import (
    legal_name_key,
    name_key,
    other_spelling_key,
    spelled_legal_form,
    umlauts_written_out,
    without_spelled_legal_form,
)


@pytest.mark.parametrize(
    ("name", "written"),
    [
        ("Müller GmbH", "Mueller GmbH"),
        ("MÜLLER GMBH", "MUELLER GMBH"),
        ("Schäfer & Söhne KG", "Schaefer & Soehne KG"),
        ("Straße 1 AG", "Strasse 1 AG"),
        ("Mu\u0308ller GmbH", "Mueller GmbH"),  # a decomposed ü
        ("Acme Inc", None),
        ("Société Générale", None),  # accents, no umlaut: fold drops them
        (None, None),
        ("", None),
    ],
)
def test_umlauts_written_out(name: str | None, written: str | None) -> None:
    assert umlauts_written_out(name) == written


def test_the_written_out_spelling_keys_differently() -> None:
    assert name_key("Müller GmbH") == "MULLER"
    assert name_key(umlauts_written_out("Müller GmbH")) == "MUELLER"


@pytest.mark.parametrize(
    ("key", "form"),
    [
        ("ACME L L C", "LLC"),
        ("SIEMENS A G", ""),  # two letters: as likely initials (EDWARDS A G)
        ("ACME P L C", "PLC"),
        ("HOFFMANN G M B H", "GMBH"),
        ("A G EDWARDS", ""),  # letters first: the name
        ("L L C", ""),  # nothing but the letters
        ("ACME X Y", ""),  # no legal form
        ("ACME C", ""),  # one letter
        ("ACME", ""),
        ("", ""),
    ],
)
def test_spelled_legal_form(key: str, form: str) -> None:
    assert spelled_legal_form(key) == form


def test_a_key_without_its_spelled_legal_form() -> None:
    assert without_spelled_legal_form("ACME WIDGETS L L C") == "ACME WIDGETS"
    assert without_spelled_legal_form("A G EDWARDS") == "A G EDWARDS"
    assert without_spelled_legal_form("ACME") == "ACME"


def test_a_legal_form_written_with_dots_is_the_legal_form() -> None:
    assert legal_name_key("Acme Widgets, L.L.C.") == legal_name_key("ACME WIDGETS LLC")
    assert legal_name_key("Hoffmann G.m.b.H.") == "HOFFMANN GMBH"
    assert legal_name_key("Edwards, A.G.") == "EDWARDS A G"
    assert legal_name_key("A.G. Edwards") == "A G EDWARDS"


@pytest.mark.parametrize(
    ("name", "other"),
    [
        ("Müller GmbH", "MUELLER"),
        ("Müller, G.m.b.H.", "MUELLER"),
        ("Acme, L.L.C.", "ACME"),
        ("Acme LLC", ""),  # its name_key already
        ("Société Générale", ""),
        (None, ""),
    ],
)
def test_other_spelling_key(name: str | None, other: str) -> None:
    assert other_spelling_key(name) == other
