"""Tokens the reading layer does not know, spelled with Vietnamese letter names (and reported).

An all-capitals abbreviation that is in no lexicon ("XYZ") or a code such as "ĐT.265" or "H5N1"
would otherwise reach the speech engine as it is written, and an engine reads it as a run of
Latin letters (or worse, as an English word). Here each such token is read the way a Vietnamese
announcer spells it: letter names ("đê tê"), with the digit groups read as numbers ("hai trăm
sáu mươi lăm"); a letter prefix that is a lexicon entry is read from the lexicon ("QL1A" → "quốc
lộ một a"). Every spelled token is reported to the caller, so an editor can give it a reading.

Left alone (other rules read them): words in capitals spelled like a Vietnamese syllable, Roman
numerals, unit symbols (USD, MW …), the weekday abbreviations T2 … T7, and single letters without
a digit ("C. Đáp án").

The same pass also reads two symbols of administrative writing as words: "&" is "và" and an
ellipsis closing a list (", …" / ", ...") is "vân vân".
"""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass

from . import numbers as num
from .lexicon import Lexicon
from .syllables import is_syllable

LETTER_NAMES: dict[str, str] = {
    "A": "a", "Ă": "á", "Â": "ớ", "B": "bê", "C": "xê", "D": "dê", "Đ": "đê", "E": "e", "Ê": "ê",
    "F": "ép", "G": "giê", "H": "hát", "I": "i", "J": "gi", "K": "ca", "L": "e lờ", "M": "em mờ",
    "N": "en nờ", "O": "o", "Ô": "ô", "Ơ": "ơ", "P": "pê", "Q": "quy", "R": "e rờ", "S": "ét xì",
    "T": "tê", "U": "u", "Ư": "ư", "V": "vê", "W": "vê kép", "X": "ích xì", "Y": "i dài", "Z": "dét",
}

# A candidate: letters/digits, possibly joined by "." or "-" to more letters/digits ("ĐT.265").
_TOKEN_RE = re.compile(r"(?<![\w.\-/])[^\W_]+(?:[.\-][^\W_]+)*(?![\w])")
# Every token this pass reads has two capitals in a row or a capital next to a digit ("VT", "B2",
# "ĐT.265"); a line without such a pair (most lines) skips the token scan.
_CANDIDATE_RE = re.compile(r"[A-ZĐ](?:[.\-]?[A-ZĐ\d])|\d[A-ZĐ]|[A-ZÀ-ỸĐ][A-ZĐ]")
_PART_RE = re.compile(r"[^\W\d_]+|\d+")
_SEPARATOR_RE = re.compile(r"[^\W_]+|[.\-]")
_WORD_DOT_DIGIT_RE = re.compile(r"(?<=[^\W\d_])\.(?=\d)")
_ROMAN_RE = re.compile(r"[IVX]+|[IVXLC]{2,}")
_WEEKDAY_RE = re.compile(r"T[2-7]")
_AMPERSAND_RE = re.compile(r"\s*&\s*")
_LIST_ELLIPSIS_RE = re.compile(r",\s*(?:…|\.{3})(?!\.)")


@dataclass(frozen=True)
class Spelled:
    """One token the reading layer did not know, and how it is read instead."""

    token: str
    reading: str


def spell_letters(letters: str) -> str:
    """Vietnamese letter names for a run of capitals: "LĐVP" → "e lờ đê vê pê"."""
    return " ".join(LETTER_NAMES.get(ch, ch.lower()) for ch in letters.upper())


def _read_digits(run: str) -> str:
    if len(run) <= 4 and (run == "0" or not run.startswith("0")):
        return num.integer(run)
    return num.digits(run)


def _is_unknown(token: str, units: Container[str]) -> bool:
    """A token in capitals that no other rule reads (token has no "." or "-" unless it has a digit)."""
    letters = [ch for ch in token if ch.isalpha()]
    if not letters or not token[0].isalpha() or any(not ch.isupper() for ch in letters):
        return False
    if token in units or _WEEKDAY_RE.fullmatch(token):
        return False
    if token.isalpha():
        if len(token) == 1 or _ROMAN_RE.fullmatch(token) or is_syllable(token):
            return False
    return True


def reading_of(token: str, lexicon: Lexicon) -> tuple[str, bool]:
    """(how the token is read, whether any of it had to be spelled letter by letter)."""
    parts = _PART_RE.findall(token)
    words: list[str] = []
    spelled = False
    prefix_known = False
    for index, part in enumerate(parts):
        if part.isdecimal():  # not isdigit(): "²" is a digit to it, and int() refuses it
            words.append(_read_digits(part))
            continue
        known = lexicon.lookup(part) if index == 0 and len(parts) > 1 else None
        if known is not None:
            words.append(known)
            prefix_known = True
        else:
            words.append(spell_letters(part))
            # "QL1A": a known prefix with a one-letter suffix is a road number, read right already
            spelled = spelled or not (prefix_known and len(part) == 1)
    return " ".join(words), spelled


def spell_unknown(line: str, lexicon: Lexicon, units: Container[str] = (),
                  found: list[Spelled] | None = None) -> str:
    """Spell every unknown token of a line (after the lexicon pass); append each to found."""
    if "&" in line:
        line = _AMPERSAND_RE.sub(" và ", line)
    if "…" in line or "..." in line:
        line = _LIST_ELLIPSIS_RE.sub(", vân vân", line)

    def spell(token: str) -> str:
        if not _is_unknown(token, units):
            return token
        reading, spelled = reading_of(token, lexicon)
        if spelled and found is not None:
            found.append(Spelled(token, reading))
        return reading

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if any(ch.isdigit() for ch in token):
            return spell(token)  # a code such as "ĐT.265": one token
        # Words joined by "." or "-" ("KINH TẾ-XÃ HỘI", "ABC-XYZ") are judged one by one.
        return _SEPARATOR_RE.sub(lambda m: m.group(0) if m.group(0) in ".-" else spell(m.group(0)), token)

    if _CANDIDATE_RE.search(line):
        line = _TOKEN_RE.sub(replace, line)
    # "QL.3" after the lexicon is "quốc lộ.3": the dot only joined the code, it is no sentence end.
    return _WORD_DOT_DIGIT_RE.sub(" ", line) if "." in line else line
