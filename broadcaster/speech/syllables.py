"""Is a written word a Vietnamese syllable?

Used to tell a heading word in capitals ("NỘI DUNG", read as words) from an abbreviation
("LĐVP", which no one can read as a word). The check is orthographic and slightly generous:
onset + optional medial + nucleus + optional final, with the tone marks removed first.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Combining grave, acute, tilde, hook above, dot below: the five tone marks. The vowel shape marks
# (circumflex, breve, horn) stay because they decide which nucleus it is.
_TONE_MARKS = dict.fromkeys(map(ord, "\u0300\u0301\u0303\u0309\u0323"))

_SYLLABLE_RE = re.compile(
    r"(?P<onset>ngh|ng|nh|ch|gh|gi|kh|ph|th|tr|qu|[bcdđghklmnprstvx])?"
    r"(?P<medial>[ou](?=[aăâeêơy]))?"
    r"(?P<nucleus>iê|yê|uô|ươ|ia|ya|ua|ưa|[aăâeêioôơuưy])"
    r"(?P<final>ch|nh|ng|[cmnpt]|[iyou])?"
)


def _toneless(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word.lower()).translate(_TONE_MARKS)
    return unicodedata.normalize("NFC", decomposed)


@lru_cache(maxsize=4096)
def is_syllable(word: str) -> bool:
    """True when the word (any case) is spelled like one Vietnamese syllable."""
    match = _SYLLABLE_RE.fullmatch(_toneless(word))
    if not match:
        return False
    onset, nucleus, final = match.group("onset"), match.group("nucleus"), match.group("final")
    if final in ("i", "y") and nucleus in ("i", "y", "ia", "ya", "iê", "yê"):
        return False  # "ii", "vii": Roman numerals, not syllables
    if final in ("u", "o") and nucleus in ("u", "o", "ô", "uô", "ua"):
        return False
    first = (match.group("medial") or nucleus)[0]
    if onset == "c" and first in "ieêy":
        return False  # written k before i/e/ê/y
    if onset == "k" and first not in "ieêy":
        return False
    return True
