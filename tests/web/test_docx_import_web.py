"""Issue 11 item 4 in the console: importing an official .docx fills the form with the heading as
title and the text to read; the parts set aside are listed beside it, each with a button that puts
it back (tests/browser/test_recording_upload.py clicks it)."""

from __future__ import annotations

import html
import re

from support import documents as sample


def test_import_shows_what_was_dropped_and_offers_it_back(as_role):
    editor = as_role("editor")
    r = editor.form("/bulletins/import-docx",
                    files={"file": ("thong-bao.docx", sample.official_docx(), "application/octet-stream")})
    assert r.status_code == 200, r.text
    page = html.unescape(r.text)
    assert f'value="{sample.TITLE}"' in page
    text = re.search(r'<textarea name="text"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    for never in sample.NEVER_READ:
        assert never not in text, never
    assert "Thôn 3; 15; 7h30." in text
    dropped = re.search(r'<section class="card" id="dropped-parts">(.*?)</section>', page, re.S).group(1)
    for never in ("Số: 12/TB-UBND", "Nơi nhận:", "Lưu: VT", "KT. CHỦ TỊCH", "Hoàng Văn Thảo"):
        assert never in dropped, never
    buttons = re.findall(r'<button type="button" class="restore-part" data-where="(start|end)"', page)
    assert "start" in buttons and "end" in buttons
