"""What the reading layer had to spell: the tokens an editor should give a reading.

``unknown_tokens(text, lexicon)`` normalizes the text line by line and returns, in order, every
token that no rule or lexicon entry knew and that is therefore spelled with Vietnamese letter
names (see spelling.py), with its line number and exactly how it will be read.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from .lexicon import Lexicon
from .normalize import normalize_line
from .spelling import Spelled


@dataclass(frozen=True)
class UnknownToken:
    """A token of line `line` (1-based) that will be spelled: how it is written and how it is read."""

    line: int
    token: str
    reading: str


def read_and_check(text: str, lexicon: Lexicon | None = None) -> tuple[str, list[UnknownToken]]:
    """(what will be said, every spelled token) in one pass: the same as normalize() plus the report."""
    lex = Lexicon.load(None) if lexicon is None else lexicon
    spoken: list[str] = []
    result: list[UnknownToken] = []
    for number, line in enumerate(unicodedata.normalize("NFC", text).split("\n"), start=1):
        found: list[Spelled] = []
        spoken.append(normalize_line(line, lex, found))
        result += [UnknownToken(number, item.token, item.reading) for item in found]
    return "\n".join(spoken), result


def unknown_tokens(text: str, lexicon: Lexicon | None = None) -> list[UnknownToken]:
    """Every spelled token of text, line by line, in reading order (repeats included)."""
    return read_and_check(text, lexicon)[1]
