"""X12 tokenising: delimiters from the ISA segment (or inferred for bare ST..SE text), segments
with their line numbers."""

from __future__ import annotations

import re
from dataclasses import dataclass

from connectors.bankfiles.records import BankFileError

ISA_LENGTH = 106
_BARE_TERMINATORS = ("~", "\\", "'", "\n")
# where an RMR segment starts in free text: the tag, an element separator (neither a letter,
# digit nor space), a reference qualifier (RMR01, 2 or 3 characters) and the same separator
# again, as in "RMR*IV*" or "RMR¦IK¦"; "RMR GROUP INC" or "RMR-2231 RENT" stay words
RMR_SEGMENT = re.compile(r"\bRMR(?P<sep>[^0-9A-Za-z\s])[0-9A-Za-z]{2,3}(?P=sep)")
# where X12 text opens an 820, as NACHA CTX addenda do: with its interchange (ISA and an
# authorization qualifier), group (GS and a functional identifier), transaction set (ST*820)
# or beginning segment (BPR and a handling code), each followed by the same separator
START_820 = re.compile(
    r"\s*(?:ISA(?P<i>[^0-9A-Za-z\s])\d\d(?P=i)|GS(?P<g>[^0-9A-Za-z\s])[A-Z]{2}(?P=g)"
    r"|ST(?P<s>[^0-9A-Za-z\s])820(?P=s)|BPR(?P<b>[^0-9A-Za-z\s])[0-9A-Z]{1,2}(?P=b))"
)


@dataclass(frozen=True)
class Delimiters:
    element: str
    component: str
    segment: str


@dataclass(frozen=True)
class Segment:
    """One segment; ``elements[0]`` is the first data element after the tag."""

    tag: str
    elements: tuple[str, ...]
    line: int
    index: int  # 1-based position of the segment in the text
    raw: str

    def get(self, position: int) -> str:
        """Data element ``position`` (1-based, as in ``BPR02``); empty when absent."""
        if 1 <= position <= len(self.elements):
            return self.elements[position - 1].strip()
        return ""

    @property
    def location(self) -> str:
        return f"line {self.line}, segment {self.index} ({self.tag})"


def delimiters_from_isa(text: str) -> Delimiters:
    """Read the delimiters from a fixed-length ISA segment at the start of ``text``."""
    if not text.startswith("ISA"):
        raise BankFileError("line 1", "an X12 interchange must start with an ISA segment")
    if len(text) < ISA_LENGTH:
        raise BankFileError("line 1", "the ISA segment is shorter than 106 characters")
    element, component, segment = text[3], text[104], text[105]
    if element.isalnum() or segment.isalnum() or element == segment:
        raise BankFileError("line 1", "the ISA segment does not carry usable delimiters")
    if text[3:106].count(element) != 16:
        raise BankFileError("line 1", "the ISA segment must have exactly 16 elements")
    return Delimiters(element=element, component=component, segment=segment)


def infer_delimiters(text: str) -> Delimiters:
    """Delimiters of bare X12 text that starts with a segment tag (CTX addenda have no ISA)."""
    stripped = text.lstrip()
    if stripped.startswith("ISA"):
        return delimiters_from_isa(stripped)
    if len(stripped) < 3 or not stripped[:2].isalpha():
        raise BankFileError("line 1", "X12 text must start with a segment tag")
    tag_end = 3 if stripped[2].isalnum() else 2
    element = stripped[tag_end]
    found = [(stripped.find(t), t) for t in _BARE_TERMINATORS if stripped.find(t) > tag_end]
    segment = min(found)[1] if found else "~"
    return Delimiters(element=element, component=":" if element != ":" else ">", segment=segment)


def split_segments(text: str, delimiters: Delimiters, first_line: int = 1) -> list[Segment]:
    """Segments in order, each with the line it starts on (``text`` starting on
    ``first_line``); blank pieces and newlines around terminators are ignored."""
    segments: list[Segment] = []
    line = first_line
    pieces = text.split(delimiters.segment)
    for piece in pieces:
        leading = len(piece) - len(piece.lstrip("\r\n\t "))
        start_line = line + piece.count("\n", 0, leading)
        line += piece.count("\n") + (1 if delimiters.segment == "\n" else 0)
        body = piece.strip("\r\n\t ")
        if not body:
            continue
        parts = body.split(delimiters.element)
        segments.append(
            Segment(
                tag=parts[0].strip().upper(),
                elements=tuple(parts[1:]),
                line=start_line,
                index=len(segments) + 1,
                raw=body + delimiters.segment,
            )
        )
    return segments
