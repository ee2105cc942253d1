"""Issue 11 item 3 in the console: a phone recording attached when the bulletin is written (not only
when edited), played back at once by its author; a bad upload is one Vietnamese line next to the
upload field, and nothing is stored. Real station (SQLite, ffmpeg)."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from broadcaster.models import Bulletin
from support.recordings import make_phone_recording

FIELD_ERROR = re.compile(r'<p class="error field-error" id="recording-error"[^>]*>([^<]*)</p>')


def _form(title="Thông báo của trưởng thôn", text=""):
    return {"title": title, "text": text, "bulletin_class": "thong_thuong", "frequency": "every_slot"}


def test_new_bulletin_form_takes_a_recording(as_role):
    page = as_role("editor").get("/bulletins/new").text
    form = re.search(r'<form[^>]*id="bulletin-form"[^>]*>', page).group(0)
    assert 'enctype="multipart/form-data"' in form
    assert re.search(r'<input type="file" name="recording"', page)


def test_a_phone_recording_attached_when_written_plays_back_at_once(station, as_role, tmp_path):
    editor = as_role("editor")
    phone = make_phone_recording(tmp_path / "ghi-am.m4a", channels=2)
    r = editor.form("/bulletins", _form(), files={"recording": ("ghi-am.m4a", phone.read_bytes(), "audio/mp4")})
    assert r.status_code == 303, r.text
    bid = int(r.headers["location"].rsplit("/", 1)[1])
    with Session(station.db) as s:
        b = s.get(Bulletin, bid)
        assert b.recording_path and b.status == "draft" and b.text == "Thông báo của trưởng thôn"
    view = editor.get(f"/bulletins/{bid}").text
    assert re.search(rf'<audio[^>]*src="/bulletins/{bid}/recording"', view)
    played = editor.get(f"/bulletins/{bid}/recording")
    assert played.status_code == 200 and played.headers["content-type"].startswith("audio/mp4")
    assert played.content == phone.read_bytes()


def test_a_bad_upload_is_one_line_next_to_the_field_and_stores_nothing(station, as_role, tmp_path):
    editor = as_role("editor")
    phone = make_phone_recording(tmp_path / "ghi-am.m4a").read_bytes()
    for name, data in (("ghi-am.m4a", phone[: len(phone) // 2]), ("ghi-am.docx", b"PK\x03\x04"),
                       ("trong.m4a", b"")):
        r = editor.form("/bulletins", _form(title="Giữ nguyên tiêu đề"),
                        files={"recording": (name, data, "audio/mp4")})
        assert r.status_code == 400, (name, r.text)
        [message] = FIELD_ERROR.findall(r.text)
        assert message.strip() and "\n" not in message.strip()
        for leak in ("ffmpeg", "moov", "Invalid", "Traceback", "pipe"):
            assert leak not in r.text
        # next to the upload field, and the form keeps what was typed
        assert r.text.index('id="recording-error"') - r.text.index('name="recording"') in range(0, 600)
        assert 'value="Giữ nguyên tiêu đề"' in r.text
    with Session(station.db) as s:
        assert s.exec(select(Bulletin)).all() == []
    kept = station.settings.data_dir / "recordings"
    assert not kept.exists() or not [p for p in kept.rglob("*") if p.is_file()]


def test_a_bad_upload_on_the_edit_page_is_shown_next_to_its_field(station, as_role, tmp_path):
    editor = as_role("editor")
    r = editor.form("/bulletins", _form(text="Nội dung."))
    bid = int(r.headers["location"].rsplit("/", 1)[1])
    r = editor.form(f"/bulletins/{bid}/recording", files={"file": ("hong.m4a", b"\x00" * 4000, "audio/mp4")})
    assert r.status_code == 400
    [message] = FIELD_ERROR.findall(r.text)
    assert "không phải âm thanh" in message and "ffmpeg" not in r.text
