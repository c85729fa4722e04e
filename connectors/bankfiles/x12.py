"""X12 tokenising: delimiters from the ISA segment (or inferred for bare ST..SE text), segments
with their line numbers."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass

from connectors.bankfiles.records import BankFileError

ISA_LENGTH = 106
_LINE_BREAK = re.compile(r"[\r\n]")
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
    """Read the delimiters from a fixed-length ISA segment at the start of ``text``.

    Text wrapped into fixed-length lines (80 characters, as banks pass CTX addenda on) breaks
    the ISA itself: a line break before its last character is not part of it. An ISA whose
    fields some payer's software trimmed of their blanks is read by its separators."""
    trimmed = _trimmed_isa(text)
    if trimmed is not None:
        return trimmed
    if _LINE_BREAK.search(text, 0, ISA_LENGTH - 1):
        text = _LINE_BREAK.sub("", text[: ISA_LENGTH * 2])
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


def _trimmed_isa(text: str) -> Delimiters | None:
    """The delimiters of an ISA not of the fixed length X12 gives it (its fields trimmed of
    their padding blanks), read by counting its sixteen element separators; ``None`` for a
    fixed-length ISA, or text that is no whole ISA on one line."""
    if not text.startswith("ISA") or len(text) < 4:
        return None
    element = text[3]
    if element.isalnum() or element.isspace():
        return None
    # the sixteenth separator right before ISA16 at its fixed position (103)
    fixed = len(text) >= ISA_LENGTH and text[3 : ISA_LENGTH - 2].count(element) == 16
    fixed = fixed and text[ISA_LENGTH - 3] == element
    line_end = _LINE_BREAK.search(text)
    head = text[: line_end.start() if line_end else len(text)]
    parts = head.split(element)
    if fixed or len(parts) < 17 or len(parts[16]) < 1:
        return None
    version, control = parts[12].strip(), parts[13].strip()
    if not (len(version) == 5 and version.isdigit() and len(control) == 9 and control.isdigit()):
        return None
    at = len(element.join(parts[:16])) + 1  # ISA16, the component separator
    component = text[at]
    segment = text[at + 1] if len(text) > at + 1 else ""
    if not segment or segment.isalnum() or segment in (element, component, " ", "\t"):
        return None
    if component.isalnum() or component.isspace():
        return None
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


def split_segments(
    text: str,
    delimiters: Delimiters,
    first_line: int = 1,
    first_index: int = 1,
    unwrap: bool = False,
) -> list[Segment]:
    """Segments in order, each with the line it starts on (``text`` starting on
    ``first_line``) and its position (the first ``first_index``); blank pieces and newlines
    around terminators are ignored. X12 data holds no line breaks: with ``unwrap`` (text
    that is X12 only, not X12 inside free text) one inside a segment is the wrapping of
    fixed-length lines, and is dropped."""
    segments: list[Segment] = []
    line = first_line
    unwrap = unwrap and delimiters.segment not in "\r\n"
    pieces = text.split(delimiters.segment)
    for piece in pieces:
        leading = len(piece) - len(piece.lstrip("\r\n\t "))
        start_line = line + piece.count("\n", 0, leading)
        line += piece.count("\n") + (1 if delimiters.segment == "\n" else 0)
        body = piece.strip("\r\n\t ")
        if unwrap and ("\n" in body or "\r" in body):
            body = _LINE_BREAK.sub("", body)
        if not body:
            continue
        parts = body.split(delimiters.element)
        segments.append(
            Segment(
                tag=parts[0].strip().upper(),
                elements=tuple(parts[1:]),
                line=start_line,
                index=first_index + len(segments),
                raw=body + delimiters.segment,
            )
        )
    return segments


def split_interchanges(text: str, first_line: int = 1) -> list[Segment]:
    """Segments of one or more interchanges in a row (``text`` starts with an ISA), each split
    with the delimiters of its own ISA: a VAN mailbox file concatenates interchanges of
    several payers, each with its own. An ISA without usable delimiters after the first is
    read with the delimiters before it (its envelope is then reported)."""
    delimiters = delimiters_from_isa(text)
    segments: list[Segment] = []
    start, line = 0, first_line
    while start < len(text):
        if start:
            with contextlib.suppress(BankFileError):  # kept: the ones before
                delimiters = delimiters_from_isa(text[start : start + ISA_LENGTH * 2])
        boundary = re.compile(re.escape(delimiters.segment) + _NEXT_ISA)
        found = boundary.search(text, start + ISA_LENGTH - 1)
        end = found.start("isa") if found else len(text)
        chunk = text[start:end]
        segments += split_segments(chunk, delimiters, line, len(segments) + 1, unwrap=True)
        line += chunk.count("\n")
        start = end
    return segments


# where the next interchange starts: after a segment terminator (and blank space), "ISA", a
# separator and the two digits of the authorization qualifier (ISA01)
_NEXT_ISA = r"[\r\n\t ]*(?P<isa>ISA)(?=[^0-9A-Za-z\s]\d\d)"
