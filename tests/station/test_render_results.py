"""A render's result is written only over the bulletin it was made from (real station: SQLite, espeak-ng,
ffmpeg). A render takes seconds; an officer may attach a recording, edit the text or change the voice
meanwhile. Whatever was committed before the result is written must win, even when it lands between the
render's last look at the bulletin and its write: the moment `AtResultWrite` uses, which a test can hit
every time (an engine event on the statement that writes the result), where a sleep would only hope to."""

from __future__ import annotations

import array
import math
import threading
import wave
from pathlib import Path

from sqlalchemy import event
from sqlmodel import Session

from broadcaster.models import Bulletin
from broadcaster.station import bulletins

TEXT = "Ngày 21/3/2026 xã tổ chức tiêm phòng cho trẻ tại trạm y tế."
EDITED = TEXT + " Đề nghị các gia đình đưa trẻ đến đúng giờ."


class AtResultWrite:
    """Run `change` once, on the thread named `thread`, just before that thread's UPDATE of a bulletin's
    item reaches SQLite (after every read the render made of the bulletin)."""

    def __init__(self, engine, thread: str, change) -> None:
        self.engine, self.thread, self.change = engine, thread, change
        self.fired = threading.Event()
        event.listen(engine, "before_cursor_execute", self._before)

    def _before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self.fired.is_set() or threading.current_thread().name != self.thread:
            return
        if statement.lstrip().upper().startswith("UPDATE BULLETIN") and "item_path" in statement:
            self.fired.set()  # first: the change's own UPDATE comes through here too
            self.change()

    def remove(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)


def row(station, bid: int) -> Bulletin:
    with Session(station.db) as s:
        return s.get(Bulletin, bid)


def tone(path: Path, seconds: float = 1.5, rate: int = 44100) -> Path:
    samples = array.array("h", (int(8000 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(int(seconds * rate))))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return path


def _draft(station, text: str = TEXT, **fields) -> int:
    return station.bulletins.create(fields=bulletins.clean_fields(title="Lịch tiêm phòng", text=text, **fields),
                                    by="bientap")


def test_a_recording_attached_as_the_speech_render_is_written_is_what_airs(station, tmp_path):
    recording = tone(tmp_path / "giong.wav")
    bid = _draft(station)

    def attach() -> None:  # the officer's upload, committed while the worker writes its speech item
        station.bulletins.attach_recording(bulletin_id=bid, filename="giong.wav", by="bientap", source=recording)

    hook = AtResultWrite(station.db, "bulletin-renders", attach)
    try:
        station.renders.wake()
        assert hook.fired.wait(120), "the background render never wrote a result"
        assert station.renders.join(120), "the background renders never finished"
    finally:
        hook.remove()
    b = row(station, bid)
    assert b.recording_path and (b.render_state, b.render_error) == ("done", None)
    assert b.item_engine == "recording", "the speech render overwrote the recording attached meanwhile"
    assert b.item_duration_s > 1.5  # jingles around the 1.5 s recording


def test_an_edit_made_as_an_air_time_render_is_written_is_rendered_again(station):
    first = station.add_bulletin(title="Lịch tiêm phòng", text=TEXT, approve=True)
    assert first.item_path and first.render_error is None
    station.renders.join(120)  # the draft's own background render, if one started, is over
    with Session(station.db) as s:  # its file was lost (a full disk): the slot renders it again before air
        lost = s.get(Bulletin, first.id)
        lost.item_path, lost.render_state, lost.render_error = None, "failed", "Ổ đĩa đầy"
        s.add(lost)
        s.commit()
    Path(first.item_path).unlink()

    def edit() -> None:  # the editor's change, committed while that render writes its item
        with Session(station.db) as s:
            bulletins.update_draft(session=s, bulletin_id=first.id, by="bientap",
                                   fields=bulletins.clean_fields(title="Lịch tiêm phòng", text=EDITED))
            s.commit()

    hook = AtResultWrite(station.db, threading.current_thread().name, edit)
    try:
        station.items.prepare_bulletin(first.id)
    finally:
        hook.remove()
    assert hook.fired.is_set()
    b = row(station, first.id)
    assert (b.text, b.status) == (EDITED, "draft")
    # the old text's item is not recorded as this draft's: its own render is still to come
    assert (b.render_state, b.item_path) == ("queued", None)
    station.renders.wake()
    assert station.renders.join(120)
    b = row(station, first.id)
    assert b.render_state == "done" and b.item_path and b.item_path != first.item_path
    assert b.item_duration_s > first.item_duration_s

