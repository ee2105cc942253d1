"""Bulletin pages in-process over the real station (real SQLite, real espeak-ng and ffmpeg)."""

from __future__ import annotations

import io
import math
import re
import struct
import wave

from sqlmodel import Session, select

from broadcaster.models import AuditEntry, Bulletin


def _new(client, **overrides):
    data = {"title": "Lịch tiêm phòng", "text": "Ngày 21/3/2026 tiêm phòng cho trẻ.", "bulletin_class": "uu_tien",
            "valid_from": "2026-12-01", "valid_until": "2026-12-10", "frequency": "every_slot", "topic": "Y tế"}
    data.update(overrides)
    r = client.form("/bulletins", data)
    assert r.status_code == 303, r.text
    return int(r.headers["location"].rsplit("/", 1)[1])


def _rendered(station, bid, timeout=180.0) -> Bulletin:
    """The bulletin once its background render is done (approving never waits for it: issue 11 item 6)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with Session(station.db) as s:
            b = s.get(Bulletin, bid)
        if b.render_state in ("done", "failed"):
            return b
        time.sleep(0.05)
    raise AssertionError("the background render never finished")


def _wav_bytes(seconds=1.5, rate=44100, freq=440.0) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(rate)
        frames = b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * freq * i / rate)))
                          for i in range(int(seconds * rate)))
        w.writeframes(frames)
    return buf.getvalue()


def test_editor_writes_leader_approves_preview_plays(station, as_role):
    editor, leader = as_role("editor"), as_role("leader")
    bid = _new(editor)
    with Session(station.db) as s:
        b = s.get(Bulletin, bid)
        assert (b.status, b.created_by, b.topic, str(b.bulletin_class)) == ("draft", "editor1", "Y tế", "uu_tien")
    # the leader cannot approve a draft that was not submitted
    leader.form(f"/bulletins/{bid}/approve")
    with Session(station.db) as s:
        assert s.get(Bulletin, bid).status == "draft"
    assert editor.form(f"/bulletins/{bid}/submit").status_code == 303
    page = leader.get(f"/bulletins/{bid}")
    assert "Duyệt" in page.text and "hai mươi mốt" in page.text  # the reading view of 21/3/2026
    r = leader.form(f"/bulletins/{bid}/approve")
    assert r.status_code == 303
    _rendered(station, bid)
    with Session(station.db) as s:
        b = s.get(Bulletin, bid)
        assert (b.status, b.approved_by, b.render_error) == ("approved", "leader1", None)
        assert b.item_path and b.item_engine == "espeak"
        actions = [a.action for a in s.exec(select(AuditEntry).where(AuditEntry.object_id == str(bid)))]
    assert actions[:3] == ["bulletin.create", "bulletin.submit", "bulletin.approve"]
    audio = editor.get(f"/bulletins/{bid}/audio")
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
    assert audio.content[:4] == b"RIFF"
    assert f'src="/bulletins/{bid}/audio"' in editor.get(f"/bulletins/{bid}").text


def test_reject_needs_a_comment_and_edit_returns_to_draft(station, as_role):
    editor, leader = as_role("editor"), as_role("leader")
    bid = _new(editor)
    editor.form(f"/bulletins/{bid}/submit")
    leader.form(f"/bulletins/{bid}/reject", {"comment": "  "})
    with Session(station.db) as s:
        assert s.get(Bulletin, bid).status == "submitted"  # no comment: nothing changed
    leader.form(f"/bulletins/{bid}/reject", {"comment": "Sai ngày tiêm"})
    with Session(station.db) as s:
        b = s.get(Bulletin, bid)
        assert (b.status, b.review_comment, b.updated_by) == ("rejected", "Sai ngày tiêm", "leader1")
    assert "Sai ngày tiêm" in editor.get(f"/bulletins/{bid}/edit").text
    r = editor.form(f"/bulletins/{bid}", {"title": "Lịch tiêm phòng (sửa)", "text": "Ngày 22/3/2026 tiêm.",
                                          "bulletin_class": "thong_thuong", "frequency": "n_times", "times": "3"})
    assert r.status_code == 303
    with Session(station.db) as s:
        b = s.get(Bulletin, bid)
        assert (b.status, b.title, b.times, b.updated_by) == ("draft", "Lịch tiêm phòng (sửa)", 3, "editor1")


def test_bad_input_changes_nothing(station, as_role):
    editor = as_role("editor")
    bid = _new(editor)
    for bad in ({"title": ""}, {"valid_from": "2026-12-10", "valid_until": "2026-12-01"},
                {"frequency": "n_times", "times": ""}, {"frequency": "chosen_slots"}, {"valid_from": "hôm qua"}):
        data = {"title": "X", "text": "Nội dung", "bulletin_class": "thong_thuong", "frequency": "every_slot", **bad}
        r = editor.form(f"/bulletins/{bid}", data)
        assert r.status_code == 400 and 'class="error"' in r.text, bad
        r = editor.form("/bulletins", data)
        assert r.status_code == 400, bad
    with Session(station.db) as s:
        rows = s.exec(select(Bulletin)).all()
        assert [(b.id, b.title) for b in rows] == [(bid, "Lịch tiêm phòng")]


def test_chosen_slots_come_from_the_timetable(station, as_role):
    editor = as_role("editor")
    names = [slot.name for slot in station.timetable().slots]
    form = editor.get("/bulletins/new").text
    for name in names:
        assert f'name="slot_names" value="{name}"' in form
    bid = _new(editor, frequency="chosen_slots", slot_names=names[:1])
    with Session(station.db) as s:
        assert s.get(Bulletin, bid).slot_names == names[:1]


def test_live_reading_view_over_htmx(as_role):
    editor = as_role("editor")
    r = editor.htmx("/bulletins/reading", {"text": "Chỉ thị số 07/CT-TTg ngày 21/3/2023"})
    assert r.status_code == 200
    assert 'id="reading"' in r.text and "hai mươi mốt" in r.text and "<html" not in r.text


def test_recording_upload_is_checked_and_airs_instead_of_speech(station, as_role):
    editor, leader = as_role("editor"), as_role("leader")
    bid = _new(editor)
    r = editor.form(f"/bulletins/{bid}/recording", files={"file": ("giong.mp3", b"not audio at all", "audio/mpeg")})
    assert r.status_code == 400 and "không phải âm thanh" in r.text
    r = editor.form(f"/bulletins/{bid}/recording", files={"file": ("ghi.txt", b"x", "text/plain")})
    assert r.status_code == 400 and "MP3, WAV hoặc M4A" in r.text
    with Session(station.db) as s:
        assert s.get(Bulletin, bid).recording_path is None
    r = editor.form(f"/bulletins/{bid}/recording", files={"file": ("giong.wav", _wav_bytes(), "audio/wav")})
    assert r.status_code == 303, r.text
    editor.form(f"/bulletins/{bid}/submit")
    leader.form(f"/bulletins/{bid}/approve")
    _rendered(station, bid)
    with Session(station.db) as s:
        b = s.get(Bulletin, bid)
        assert b.recording_path.startswith(str(station.settings.data_dir))
        assert (b.status, b.item_engine, b.render_error) == ("approved", "recording", None)
        # jingles + 1.5 s of tone: longer than the recording alone
        assert b.item_duration_s > 1.5
    assert editor.get(f"/bulletins/{bid}/recording").status_code == 200


def test_docx_import_fills_the_form(as_role, tmp_path):
    from docx import Document

    doc = Document()
    doc.add_paragraph("Thông báo cắt điện")
    doc.add_paragraph("Ngày 5/12/2026 cắt điện từ 7 giờ đến 11 giờ.")
    table = doc.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Thôn Đông", "7h–9h"
    buf = io.BytesIO()
    doc.save(buf)
    editor = as_role("editor")
    r = editor.form("/bulletins/import-docx", files={"file": ("tb.docx", buf.getvalue(), "application/octet-stream")})
    assert r.status_code == 200
    assert 'value="Thông báo cắt điện"' in r.text
    assert "Ngày 5/12/2026 cắt điện" in r.text and "Thôn Đông; 7h–9h." in r.text  # a pause between cells
    r = editor.form("/bulletins/import-docx", files={"file": ("tb.docx", b"PK-not-a-docx", "application/octet-stream")})
    assert r.status_code == 400 and "docx" in r.text


def test_list_filters_and_pages(station, as_role):
    editor = as_role("editor")
    with Session(station.db) as s:
        for i in range(120):
            s.add(Bulletin(title=f"Tin {i}", text="x", status="approved" if i % 3 == 0 else "draft"))
        s.commit()
    page = editor.get("/bulletins?status=approved")
    titles = re.findall(r'<a href="/bulletins/\d+">([^<]+)</a>', page.text)
    assert len(titles) == 40 and titles[0] == "Tin 117"
    page2 = editor.get("/bulletins?page=2")
    assert "Trang 2/3" in page2.text and len(re.findall(r'<a href="/bulletins/\d+">', page2.text)) == 50
    assert "Tin 99<" in editor.get("/bulletins?q=Tin 99").text


def test_preview_serves_only_files_under_the_data_dir(station, as_role, tmp_path):
    outside = tmp_path / "secret.wav"
    outside.write_bytes(_wav_bytes(0.6))
    with Session(station.db) as s:
        b = Bulletin(title="x", text="y", status="approved", item_path=str(outside))
        s.add(b)
        s.commit()
        bid = b.id
    assert as_role("editor").get(f"/bulletins/{bid}/audio").status_code == 404
