"""Issue 11 item 5: the "Cách đọc" view shows exactly what the speech engine is given."""

from __future__ import annotations

import html
import re

VOICED_SYMBOLS = re.compile(r"[*#_•▪●◦■►]|\./\.")


def test_the_reading_view_shows_what_the_engine_is_given(station, as_role):
    """The web "Cách đọc" view and the pieces the engine receives hold the same words, none of the markup."""
    from broadcaster.speech.synth import Synthesizer

    text = ("**THÔNG BÁO** lịch tiêm phòng\n- Tập trung lúc 7g sáng ngày 15/3 tại nhà văn hóa thôn 3.\n"
            "* Mang theo sổ tiêm #2.\n_Đề nghị_ bà con đi đúng giờ./.")
    reading = as_role("editor").htmx("/bulletins/reading", {"text": text})
    assert reading.status_code == 200
    # the view's words (its inner markup, e.g. the marks on spelled tokens, is the view's own)
    view = re.search(r'<div id="reading"[^>]*>(.*?)</div>', reading.text, re.S).group(1)
    shown = html.unescape(re.sub(r"<[^>]+>", " ", view))

    received: list[str] = []

    class Capture:
        name = "capture"

        def identity(self):
            return {"name": "capture"}

        def synthesize(self, piece):
            import numpy as np

            from broadcaster.speech.base import Speech

            received.append(piece)
            tone = 0.3 * np.sin(2 * np.pi * 440 * np.arange(4800) / 24000)
            return Speech(samples=tone.astype(np.float32), sample_rate=24000)

    synth = Synthesizer(settings=station.settings, engines={"capture": Capture()},
                        normalizer=station.items.normalize, cache_dir=station.settings.cache_dir / "capture")
    synth.speak(text, engine="capture")
    assert " ".join(shown.split()) == " ".join(" ".join(received).split())
    assert not VOICED_SYMBOLS.search(shown), shown
    assert "bảy giờ sáng" in shown and "gam" not in shown


def test_a_long_text_says_the_view_shows_only_its_beginning(as_role):
    """The live view reads the first MAX_READING_CHARS only (whole lines): it says so rather than
    passing off a part, cut inside a line, as what will be read."""
    from broadcaster.web.routes_bulletins import MAX_READING_CHARS

    line = "Ngày 15/3/2026 tiêm phòng cho trâu, bò tại thôn 3.\n"
    text = line * (MAX_READING_CHARS // len(line) + 50)
    reading = as_role("editor").htmx("/bulletins/reading", {"text": text})
    assert reading.status_code == 200
    assert "Chỉ hiện phần đầu" in reading.text
    # the view's words (its inner markup, e.g. the marks on spelled tokens, is the view's own)
    view = re.search(r'<div id="reading"[^>]*>(.*?)</div>', reading.text, re.S).group(1)
    shown = html.unescape(re.sub(r"<[^>]+>", " ", view))
    last = [row for row in shown.splitlines() if row.strip() and "Chỉ hiện" not in row][-1]
    assert last.strip() == "Ngày mười lăm tháng ba năm hai nghìn không trăm hai mươi sáu tiêm phòng cho trâu, bò tại thôn ba."
