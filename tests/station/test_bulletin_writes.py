"""What the station writes to a bulletin on its own (a render's result, "scheduled", "expired") never
overwrites what an officer committed meanwhile (real station: SQLite, espeak-ng, ffmpeg).

A render takes seconds; an officer may attach a recording, edit the text or change the voice meanwhile.
Whatever was committed before the station's write must win, even when it lands between the station's last
look at the bulletin and its write: the moment `AtUpdate` uses, which a test can hit every time (an
engine event on the statement that writes), where a sleep would only hope to."""

from __future__ import annotations

import array
import math
import threading
import wave
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import event
from sqlmodel import Session

from broadcaster.models import Bulletin
from broadcaster.station import bulletins

TEXT = "Ngày 21/3/2026 xã tổ chức tiêm phòng cho trẻ tại trạm y tế."
EDITED = TEXT + " Đề nghị các gia đình đưa trẻ đến đúng giờ."


class AtUpdate:
    """Run `change` once, on the thread named `thread`, just before that thread's first UPDATE of a
    bulletin that sets `column` reaches SQLite (after every read the station made of the bulletin);
    with column None, before its first write of any kind (INSERT, UPDATE, DELETE)."""

    def __init__(self, engine, thread: str, change, column: str | None = "item_path") -> None:
        self.engine, self.thread, self.change, self.column = engine, thread, change, column
        self.fired = threading.Event()
        event.listen(engine, "before_cursor_execute", self._before)

    def _before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self.fired.is_set() or threading.current_thread().name != self.thread:
            return
        head = statement.lstrip().upper()
        if self.column is None:
            hit = head.startswith(("INSERT", "UPDATE", "DELETE"))
        else:
            hit = head.startswith("UPDATE BULLETIN SET") and self.column.upper() in head.split(" WHERE ")[0]
        if hit:
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

    hook = AtUpdate(station.db, "bulletin-renders", attach)
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

    hook = AtUpdate(station.db, threading.current_thread().name, edit)
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



def _edit(station, bid: int) -> None:
    _edit_on(station.db, bid)


def _edit_on(engine, bid: int) -> None:
    with Session(engine) as s:
        bulletins.update_draft(session=s, bulletin_id=bid, by="bientap",
                               fields=bulletins.clean_fields(title="Lịch tiêm phòng", text=EDITED))
        s.commit()


def test_an_edit_made_as_the_slot_marks_its_items_scheduled_stays_a_draft(station):
    from broadcaster.scheduling import store

    store.ensure_timetable(engine=station.db, settings=station.settings)
    approved = station.add_bulletin(title="Lịch tiêm phòng", text=TEXT, approve=True)
    station.renders.join(120)
    planned = datetime.now(station.tz).replace(microsecond=0)
    hook = AtUpdate(station.db, threading.current_thread().name, lambda: _edit(station, approved.id), column="status")
    try:
        programme = station.prerender_slot(slot="Buổi sáng", planned_at=planned)
    finally:
        hook.remove()
    assert hook.fired.is_set() and [i.bulletin_id for i in programme.items] == [approved.id]
    b = row(station, approved.id)
    # not "scheduled": a draft nobody approved would air at the slot
    assert (b.text, b.status, b.approved_by) == (EDITED, "draft", None)


def test_an_edit_made_as_a_bulletin_expires_stays_a_draft(station):
    approved = station.add_bulletin(title="Lịch tiêm phòng", text=TEXT, approve=True)
    station.renders.join(120)
    with Session(station.db) as s:  # its last day was yesterday: refresh_statuses expires it
        b = s.get(Bulletin, approved.id)
        b.valid_from = b.valid_until = datetime.now(station.tz).date() - timedelta(days=1)
        s.add(b)
        s.commit()
    hook = AtUpdate(station.db, threading.current_thread().name, lambda: _edit(station, approved.id), column="status")
    try:
        changed = station.refresh_statuses()
    finally:
        hook.remove()
    assert hook.fired.is_set() and changed == 0
    assert (row(station, approved.id).text, row(station, approved.id).status) == (EDITED, "draft")
    assert station.refresh_statuses() == 0  # drafts are not the calendar's to expire


def test_a_bulletin_is_never_approved_with_a_text_the_leader_did_not_see(station):
    """The leader's approval and an editor's save, in two requests at the same moment: whichever lands
    second sees the first. Here the save comes after the approval read the bulletin (its status checked)
and before it writes anything; it must wait for it
    (the approval holds the write lock from its check of the status to its write), never slip in
    between and be approved unread."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import OperationalError

    bid = _draft(station)
    with Session(station.db) as s:
        bulletins.submit(session=s, bulletin_id=bid, by="bientap")
        s.commit()
    # the editor's request, on its own connection, with no patience: a lock shows as an error at once
    editor = create_engine(f"sqlite:///{station.db.url.database}", connect_args={"timeout": 0})
    saves: list[str] = []

    def save() -> None:
        try:
            _edit_on(editor, bid)
            saves.append("saved")
        except OperationalError as exc:
            saves.append("locked" if "locked" in str(exc) else str(exc))

    hook = AtUpdate(station.db, threading.current_thread().name, save, column=None)
    try:
        station.bulletins.approve(bulletin_id=bid, by="lanhdao", background=lambda _: None)
    finally:
        hook.remove()
        editor.dispose()
    assert hook.fired.is_set()
    b = row(station, bid)
    assert not (b.status == "approved" and b.text == EDITED), "approved a text the leader never saw"
    assert saves == ["locked"] and (b.status, b.text, b.approved_by) == ("approved", TEXT, "lanhdao")
    _edit(station, bid)  # the same save a moment later (its request waits for the lock): a draft again
    assert (row(station, bid).status, row(station, bid).text) == ("draft", EDITED)
