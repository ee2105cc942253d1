"""The bulletin workflow's data access (broadcaster.editorial) and recordings in Station.prepare_bulletin."""

from __future__ import annotations

import io
import math
import struct
import wave

import pytest
from sqlmodel import Session, select

from broadcaster import editorial
from broadcaster.exceptions import InputError
from broadcaster.models import AuditEntry, Bulletin


def _fields(**kw):
    base = dict(title="Thông báo", text="Nội dung thông báo.")
    base.update(kw)
    return editorial.clean_fields(**base)


def _draft(station, **kw) -> int:
    with Session(station.db) as s:
        b = editorial.create_draft(session=s, fields=_fields(**kw), by="bientap")
        s.commit()
        return b.id


def _tone_wav(seconds: float, rate: int = 22050) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(2), w.setsampwidth(2), w.setframerate(rate)
        w.writeframes(b"".join(struct.pack("<hh", v, v) for v in (
            int(9000 * math.sin(2 * math.pi * 330 * i / rate)) for i in range(int(seconds * rate)))))
    return buf.getvalue()


def test_clean_fields_normalizes_to_nfc_and_checks():
    decomposed = "Tho\u0302ng ba\u0301o"  # "Thông báo" typed with combining marks
    f = _fields(title=f"  {decomposed}  ", topic="  ")
    assert f.title == "Thông báo" and f.topic is None
    with pytest.raises(InputError, match="Tiêu đề"):
        _fields(title=" ")
    with pytest.raises(InputError, match="số lần"):
        _fields(frequency="n_times")
    with pytest.raises(InputError, match="Loại tin"):
        _fields(bulletin_class="rat_gap")
    # times only kept for n_times, slot names only for chosen_slots
    f = _fields(frequency="every_slot", times=3, slot_names=["Buổi sáng"])
    assert (f.times, f.slot_names) == (None, None)


def test_states_are_checked(station):
    bid = _draft(station)
    with Session(station.db) as s:
        with pytest.raises(InputError, match="chờ duyệt"):
            editorial.reject(session=s, bulletin_id=bid, by="lanhdao", comment="x")
    with pytest.raises(InputError, match="chờ duyệt"):
        editorial.approve(station=station, bulletin_id=bid, by="lanhdao")
    with Session(station.db) as s:
        editorial.submit(session=s, bulletin_id=bid, by="bientap")
        s.commit()
        with pytest.raises(InputError, match="bản nháp"):
            editorial.submit(session=s, bulletin_id=bid, by="bientap")
    result = editorial.approve(station=station, bulletin_id=bid, by="lanhdao")
    assert result.status == "approved" and result.approved_by == "lanhdao" and result.item_path
    with Session(station.db) as s:
        b = s.get(Bulletin, bid)
        b.status = "aired"
        s.add(b)
        s.commit()
        with pytest.raises(InputError, match="không sửa được"):
            editorial.update_draft(session=s, bulletin_id=bid, fields=_fields(title="Khác"), by="bientap")


def test_editing_an_approved_bulletin_revokes_the_approval(station):
    bid = _draft(station)
    with Session(station.db) as s:
        editorial.submit(session=s, bulletin_id=bid, by="bientap")
        s.commit()
    editorial.approve(station=station, bulletin_id=bid, by="lanhdao")
    with Session(station.db) as s:
        editorial.update_draft(session=s, bulletin_id=bid, fields=_fields(text="Nội dung mới."), by="bientap2")
        s.commit()
        b = s.get(Bulletin, bid)
        assert (b.status, b.approved_by, b.item_path, b.updated_by) == ("draft", None, None, "bientap2")
        actions = [a.action for a in s.exec(select(AuditEntry).where(AuditEntry.object_id == str(bid)))]
    assert actions == ["bulletin.create", "bulletin.submit", "bulletin.approve", "bulletin.edit"]


def test_recording_checks(station):
    rate = station.settings.sample_rate
    with pytest.raises(InputError, match="quá ngắn"):
        editorial.check_recording(data=_tone_wav(0.2), filename="a.wav", sample_rate=rate)
    with pytest.raises(InputError, match="không phải âm thanh"):
        editorial.check_recording(data=b"ID3" + b"\x00" * 500, filename="a.mp3", sample_rate=rate)
    with pytest.raises(InputError, match="MP3, WAV hoặc M4A"):
        editorial.check_recording(data=_tone_wav(1), filename="a.ogg", sample_rate=rate)
    assert editorial.check_recording(data=_tone_wav(1.0), filename="A.WAV", sample_rate=rate) == pytest.approx(1.0, abs=0.05)


def test_a_bad_recording_leaves_nothing_behind(station):
    bid = _draft(station)
    with pytest.raises(InputError):
        editorial.attach_recording(station=station, bulletin_id=bid, data=b"rubbish", filename="x.mp3", by="bientap")
    folder = editorial.recordings_dir(station.settings)
    assert not folder.exists() or list(folder.iterdir()) == []
    with Session(station.db) as s:
        assert s.get(Bulletin, bid).recording_path is None


def test_prepare_bulletin_uses_the_recording_offline_too(station):
    bid = _draft(station)
    editorial.attach_recording(station=station, bulletin_id=bid, data=_tone_wav(2.0), filename="giong.wav",
                               by="bientap")
    prepared = station.prepare_bulletin(bid)
    assert prepared.item_engine == "recording" and prepared.render_error is None
    from broadcaster.audio import load_audio, measure

    samples = load_audio(prepared.item_path, sample_rate=station.settings.sample_rate)
    loud = measure(samples, station.settings.sample_rate)
    assert abs(loud.integrated_lufs - station.settings.target_lufs) < 1.0
    assert loud.true_peak_dbtp <= station.settings.true_peak_dbtp + 0.1
    assert prepared.item_duration_s > 2.0  # the recording plus the jingles
    again = station.prepare_bulletin_offline(bid)  # air-time render: the recording, not espeak
    assert (again.item_engine, again.item_path) == ("recording", prepared.item_path)


def test_import_docx():
    from docx import Document

    doc = Document()
    doc.add_paragraph("")
    doc.add_paragraph("Tiêu đề ở đây")
    doc.add_paragraph("Dòng một.")
    doc.add_paragraph("Dòng hai.")
    buf = io.BytesIO()
    doc.save(buf)
    assert editorial.import_docx(buf.getvalue()) == ("Tiêu đề ở đây", "Dòng một.\nDòng hai.")
    empty = io.BytesIO()
    Document().save(empty)
    with pytest.raises(InputError, match="không có chữ"):
        editorial.import_docx(empty.getvalue())
    with pytest.raises(InputError, match=".docx"):
        editorial.import_docx(b"%PDF-1.4 not a word file")


def test_list_page_is_paged_newest_first_and_uses_the_status_index(station):
    with Session(station.db) as s:
        for i in range(130):
            s.add(Bulletin(title=f"Tin {i}", text="x", status="submitted" if i % 2 else "draft"))
        s.commit()
        page = editorial.list_page(session=s, status="submitted", page=2, page_size=50)
        assert (page.total, page.pages, page.page) == (65, 2, 2)
        assert [b.title for b in page.items][:2] == ["Tin 29", "Tin 27"]
        with pytest.raises(InputError):
            editorial.list_page(session=s, status="bogus")
        plan = s.connection().exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT * FROM bulletin WHERE status = 'submitted' ORDER BY id DESC LIMIT 50"
        ).fetchall()
    assert any("ix_bulletin_status" in str(row) for row in plan), plan
