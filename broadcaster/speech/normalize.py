"""The one normalization entry point: written Vietnamese → what is said.

(Placeholder pass-through; the reading layer replaces the body.)
"""

from __future__ import annotations

import unicodedata


def normalize(text: str, lexicon: object | None = None) -> str:
    """Return the text as it should be spoken (NFC)."""
    return unicodedata.normalize("NFC", text)
