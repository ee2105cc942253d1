"""The limits on a bulletin's text and title (issue 9 item 4), checked before anything is stored or
rendered; NFC clean-up of what an officer typed.

Apart from the bulletin service (station.bulletins) so that what only renders a text (`broadcaster
render --text/--file`, station.renderer) checks it without loading the database layer.
"""

from __future__ import annotations

import unicodedata

from ..exceptions import InputError

MAX_TITLE_CHARS = 300
MAX_TEXT_CHARS = 100_000  # a bulletin this long already reads for hours; a 5 MB text took 4 GB to render


def nfc(value: str | None) -> str:
    """``value`` in NFC, stripped ("" for None)."""
    return unicodedata.normalize("NFC", value or "").strip()


def check_title(title: str) -> None:
    if len(title) > MAX_TITLE_CHARS:
        raise InputError(f"Tiêu đề dài quá {MAX_TITLE_CHARS} ký tự ({len(title)} ký tự)")


def check_text_length(text: str) -> None:
    """Refuse a text too long to air (before it is stored or rendered)."""
    if len(text) > MAX_TEXT_CHARS:
        raise InputError(f"Nội dung dài quá {MAX_TEXT_CHARS} ký tự ({len(text)} ký tự); hãy chia thành nhiều bản tin")
