"""Markup and symbols a speech engine would voice, and hours written with g (issue 11 item 5).

Officers paste from chat apps and converted Word files: bullets, **bold**, _emphasis_, "#", a stray
"*" and the "./." that closes an official document. None of it is said; "#5" is "số 5" and
"3 * 4" is "3 nhân 4" (read as words). Run by the normalizer (speech.normalize) on every line, so
the "Cách đọc" view and the engine get the same text.

"7g sáng", "lúc 7g", "từ 7g đến 9g sáng": g after a number in a time phrase is an hour, never
grams; "500g" elsewhere stays a weight (the unit pass reads it).
"""

from __future__ import annotations

import re

from . import numbers as num

_BULLET_RE = re.compile(r"^\s*(?:[-–—•·▪▫●○◦■□►▶➢➤✓✔*+>]|#{1,6})[ \t]+")
_END_MARK_RE = re.compile(r"\s*\./\.")
_EMPHASIS_RE = re.compile(r"\*{2,}|_{2,}|~{2,}")
_TIMES_SIGN_RE = re.compile(r"(?<=\d)\s*[*×]\s*(?=\d)")
_HASH_NUMBER_RE = re.compile(r"#\s?(?=\d)")
_EDGE_UNDERSCORE_RE = re.compile(r"(?<!\w)_+|_+(?!\w)")
_STRAY_MARK_RE = re.compile(r"[*#]")
_INNER_UNDERSCORE_RE = re.compile(r"(?<=\w)_+(?=\w)")
_MARKS = ("*", "#", "_", "./.", "×")

_START = r"(?<![\w.,/])"
_DAY_PART = r"(?:sáng|trưa|chiều|tối|đêm|khuya)"
# N g, optionally a range to another hour, then a part of the day
_CLOCK_G_RE = re.compile(
    _START + r"(\d{1,2})\s?g(?!\w)(?=(?:\s*(?:đến|tới|-|–)\s*\d{1,2}\s?[gh](?:\d{2})?(?!\w))?\s+" + _DAY_PART + r"\b)"
)
_CLOCK_G_ANY_RE = re.compile(_START + r"(\d{1,2})\s?g(?!\w)")
_CLOCK_WORD_BEFORE_RE = re.compile(r"(?i:\b(?:lúc|vào lúc|từ lúc|đến lúc))\s*$")
_CLOCK_G_RANGE_END_RE = re.compile(r"(giờ\s*(?:đến|tới)\s*)(\d{1,2})\s?g(?!\w)")
_CONTEXT = 30


def unvoiced(line: str) -> str:
    """The line without bullets, emphasis marks, "#", stray "*", edge "_" and "./."."""
    if not (_BULLET_RE.match(line) or any(mark in line for mark in _MARKS)):
        return line
    line = _BULLET_RE.sub("", line)
    line = _END_MARK_RE.sub(".", line)
    line = _EMPHASIS_RE.sub("", line)
    line = _TIMES_SIGN_RE.sub(" nhân ", line)
    line = _HASH_NUMBER_RE.sub("số ", line)
    line = _EDGE_UNDERSCORE_RE.sub(" ", line)
    return _STRAY_MARK_RE.sub(" ", line)


def inner_underscores(line: str) -> str:
    """An underscore inside a word ("ho_ten") is a space by the end (after the lexicon: whole words only)."""
    return _INNER_UNDERSCORE_RE.sub(" ", line) if "_" in line else line


def _hour(digits: str) -> str:
    return f"{num.cardinal(int(digits))} giờ" if int(digits) <= 24 else digits + "g"


def clock_g(line: str) -> str:
    """An hour written with g ("7g sáng", "lúc 7g", "7g đến 9g sáng") → "N giờ"."""
    if "g" not in line:
        return line

    def after_word(match: re.Match[str]) -> str:
        before = match.string[max(0, match.start() - _CONTEXT): match.start()]
        return _hour(match.group(1)) if _CLOCK_WORD_BEFORE_RE.search(before) else match.group(0)

    line = _CLOCK_G_RE.sub(lambda m: _hour(m.group(1)), line)
    line = _CLOCK_G_ANY_RE.sub(after_word, line)
    if "giờ" in line:  # the end of a range whose start is already an hour: "từ bảy giờ đến 9g"
        line = _CLOCK_G_RANGE_END_RE.sub(lambda m: m.group(1) + _hour(m.group(2)), line)
    return line


__all__ = ["clock_g", "inner_underscores", "unvoiced"]
