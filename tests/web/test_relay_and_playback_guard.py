"""The console never hands out the station's own files, nor lets a relay slot point at them.

* The timetable form refuses a relay source that is the database, run/api-token or a file
  outside the media folder: one Vietnamese line, 400, nothing stored (no slot, no audit row).
* GET /log/N/audio serves only what the station wrote into data/archive/ or data/cache/: a row
  whose path is run/api-token or the database (an older database could hold one) gets the 404
  page, never the file.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlmodel import Session, select
from w2_helpers import login, make_app, text_of, wav

from broadcaster.models import AsRun, AsRunKind, AsRunStatus, AuditEntry, SlotRecord
from broadcaster.scheduling import store

TOKEN_TEXT = "s3cr3t-api-token-value-0123456789"




@pytest.fixture
def token(station) -> Path:
    path = station.settings.data_dir / "run" / "api-token"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(TOKEN_TEXT, encoding="utf-8")
    return path


@pytest.fixture
def app(station):
    return make_app(station)


def slot_names(station) -> set[str]:
    with Session(station.db) as session:
        return {s.name for s in store.list_slots(session=session)}


def relay_form(source: str) -> dict:
    return {"name": "Tiếp sóng lạ", "time": "19:00", "kind": "relay", "source": source, "duration_min": "30",
            "max_minutes": "30", "enabled": "on"}


@pytest.mark.parametrize("which", ["db", "token", "outside"])
def test_the_timetable_form_refuses_station_files_as_relay_source(app, station, token, tmp_path, which):
    source = {"db": station.settings.db_path, "token": token, "outside": wav(tmp_path / "ngoai.wav")}[which]
    before = slot_names(station)
    client = login(app, station, "quantri", "admin")
    answer = client.post("/timetable/slots", relay_form(str(source)))
    assert answer.status_code == 400
    text = text_of(answer.text)
    assert "nguồn tiếp sóng" in text or "thư mục media" in text, text[:2000]
    assert "Traceback" not in answer.text and TOKEN_TEXT not in answer.text
    assert slot_names(station) == before
    with Session(station.db) as session:
        assert session.exec(select(AuditEntry).where(AuditEntry.action == "slot.add")).first() is None
    # editing an existing slot into one is refused the same way
    morning = next(s for s in store.list_slots(session=Session(station.db)) if s.name == "Buổi sáng")
    answer = client.post(f"/timetable/slots/{morning.id}", relay_form(str(source)))
    assert answer.status_code == 400
    with Session(station.db) as session:
        assert session.get(SlotRecord, morning.id).kind.value == "recurring"


def test_the_form_accepts_a_file_in_the_media_folder(app, station):
    wav(station.settings.media_path / "tinh.wav")
    answer = login(app, station, "quantri", "admin").post("/timetable/slots", relay_form("tinh.wav"))
    assert answer.status_code == 303, text_of(answer.text)[:2000]
    assert "Tiếp sóng lạ" in slot_names(station)


def _row(station, path: str, title: str) -> int:
    at = datetime(2026, 12, 1, 6, 0, tzinfo=timezone.utc)
    with Session(station.db) as session:
        row = AsRun(title=title, status=AsRunStatus.aired, kind=AsRunKind.relay, started_at=at,
                    ended_at=at + timedelta(seconds=30), duration_s=30.0, path=path)
        session.add(row)
        session.commit()
        return row.id


def test_log_audio_serves_only_the_archive_and_the_cache(app, station, token):
    data_dir = station.settings.data_dir
    cached = _row(station, str(wav(data_dir / "cache" / "items" / "tin.wav")), "Tin")
    archived = _row(station, str(wav(data_dir / "archive" / "urgent" / "mic.wav")), "Micro")
    refused = {
        "token": _row(station, str(token), "Mã"),
        "db": _row(station, str(station.settings.db_path), "CSDL"),
        "db via ..": _row(station, str(data_dir / "cache" / ".." / "broadcaster.db"), "CSDL 2"),
        "media": _row(station, str(wav(data_dir / "media" / "tinh.wav")), "Media"),
        "uploads": _row(station, str(wav(data_dir / "uploads" / "urgent" / "x.wav")), "Tải lên"),
    }
    link = data_dir / "cache" / "items" / "lo.wav"
    link.symlink_to(token)  # a link inside the cache that leads to the token
    refused["symlink"] = _row(station, str(link), "Liên kết")
    client = login(app, station, "trucdai", "operator")
    for row_id in (cached, archived):
        answer = client.get(f"/log/{row_id}/audio")
        assert answer.status_code == 200 and answer.content[:4] == b"RIFF"
    for what, row_id in refused.items():
        answer = client.get(f"/log/{row_id}/audio")
        assert answer.status_code == 404, what
        assert TOKEN_TEXT.encode() not in answer.content and b"SQLite format" not in answer.content, what
        assert "Không còn tệp âm thanh" in text_of(answer.text), what
    # the database is whole: its WAL survives another process's connection, writes are seen
    db = station.settings.db_path
    code = "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('select count(*) from as_run').fetchall(); c.close()"
    subprocess.run([sys.executable, "-c", code, str(db)], check=True, timeout=60)
    assert Path(f"{db}-wal").exists()
    new = _row(station, str(data_dir / "cache" / "items" / "tin.wav"), "Sau")
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as other:
        assert other.execute("select count(*) from as_run where id = ?", (new,)).fetchone()[0] == 1


def test_bulletin_audio_never_serves_the_station_files(app, station, token):
    from broadcaster.models import Bulletin

    with Session(station.db) as session:
        row = Bulletin(title="Cũ", text="Nội dung.", item_path=str(station.settings.db_path),
                       recording_path=str(token))
        session.add(row)
        session.commit()
        bid = row.id
    client = login(app, station, "bientap", "editor")
    for url in (f"/bulletins/{bid}/audio", f"/bulletins/{bid}/recording"):
        answer = client.get(url)
        assert answer.status_code == 404, url
        assert TOKEN_TEXT.encode() not in answer.content and b"SQLite format" not in answer.content, url
