"""Issue 11 item 6, in-process over the real station (real SQLite, espeak-ng, ffmpeg): a bulletin is
rendered in the background as soon as it is written, submitted or edited, with its progress on its
page; the leader's page plays the very file that will air, with its length and who made it, before
the Duyệt button; approving never waits for a render; a restart loses no render.

A long render is held back by a gate around the real espeak-ng engine (an Event, no sleeping), so
"the request returned while the render was still running" is a fact, not a race."""

from __future__ import annotations

import re
import threading
import time

import pytest
from sqlmodel import Session

from broadcaster.models import Bulletin

TEXT = "Ngày 21/3/2026 xã tổ chức tiêm phòng cho trẻ. Đề nghị các gia đình đưa trẻ đến trạm y tế đúng giờ."
LONG_TEXT = ("Thực hiện kế hoạch của Ủy ban nhân dân xã về phòng chống thiên tai, các thôn rà soát nhà ở, "
             "chằng chống mái tôn, khơi thông cống rãnh. ") * 150


def wait_for(check, timeout=180.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def row(station, bid) -> Bulletin:
    with Session(station.db) as s:
        return s.get(Bulletin, bid)


def rendered(station, bid):
    b = row(station, bid)
    return b if b.item_path and getattr(b, "render_state", None) == "done" else None


def _new(client, text=TEXT, title="Lịch tiêm phòng"):
    r = client.form("/bulletins", {"title": title, "text": text, "bulletin_class": "thong_thuong",
                                   "frequency": "every_slot"})
    assert r.status_code == 303, r.text
    return int(r.headers["location"].rsplit("/", 1)[1])


class Gate:
    """The real espeak-ng engine, held at its first piece until `open` is set."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.open = threading.Event()
        self.entered = threading.Event()
        self.name = engine.name

    def identity(self):
        return self.engine.identity()

    def synthesize(self, text):
        self.entered.set()
        assert self.open.wait(300), "the test never opened the gate"
        return self.engine.synthesize(text)


@pytest.fixture
def gate(station):
    engines = station.items.synthesizer.engines
    held = Gate(engines["espeak"])
    engines["espeak"] = held
    yield held
    held.open.set()


def test_a_submitted_bulletin_is_rendered_in_the_background(station, as_role):
    editor = as_role("editor")
    bid = _new(editor)
    assert editor.form(f"/bulletins/{bid}/submit").status_code == 303
    b = wait_for(lambda: rendered(station, bid), what="the render after submission")
    assert b.status == "submitted" and b.item_engine == "espeak" and b.item_duration_s > 1


def test_the_leader_hears_what_will_air_with_its_length_before_approving(station, as_role):
    editor, leader = as_role("editor"), as_role("leader")
    bid = _new(editor)
    editor.form(f"/bulletins/{bid}/submit")
    before = wait_for(lambda: rendered(station, bid), what="the render")
    page = leader.get(f"/bulletins/{bid}").text
    player = page.index(f'src="/bulletins/{bid}/audio"')
    assert player < page.index(f'action="/bulletins/{bid}/approve"')
    seconds = int(before.item_duration_s)
    assert f"{seconds // 60} phút {seconds % 60} giây" in page
    # the voice chosen and the engine that made it, next to the player
    around = page[player:player + 800]
    assert "espeak-ng" in around and "Giọng" in around and station.settings.espeak_voice in around
    assert leader.form(f"/bulletins/{bid}/approve").status_code == 303
    after = row(station, bid)
    # approving only marks it approved: the file heard is the file that airs
    assert after.status == "approved" and after.item_path == before.item_path
    assert leader.get(f"/bulletins/{bid}/audio").content == open(before.item_path, "rb").read()


def test_approving_a_long_bulletin_never_waits_for_its_render(station, as_role, gate):
    assert len(LONG_TEXT) >= 20_000
    editor, leader = as_role("editor"), as_role("leader")
    bid = _new(editor, text=LONG_TEXT[:20_000], title="Phòng chống thiên tai")
    assert editor.form(f"/bulletins/{bid}/submit").status_code == 303
    assert gate.entered.wait(120), "the render never started"
    # the render is running (held at its first piece): the page shows progress and stays usable
    page = leader.get(f"/bulletins/{bid}").text
    assert 'id="dung-am-thanh"' in page and "<progress" in page and "Đang dựng âm thanh" in page
    fragment = leader.get(f"/bulletins/{bid}/render", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text and "<progress" in fragment.text
    answer = leader.form(f"/bulletins/{bid}/approve")
    assert answer.status_code == 303 and row(station, bid).status == "approved"
    assert row(station, bid).render_state in ("queued", "rendering")  # the approval did not wait for it
    gate.open.set()
    b = wait_for(lambda: rendered(station, bid), timeout=600, what="the long render")
    assert b.status == "approved" and b.item_duration_s > 60
    done = leader.get(f"/bulletins/{bid}/render", headers={"HX-Request": "true"}).text
    assert f'src="/bulletins/{bid}/audio"' in done and "<progress" not in done


def test_progress_is_a_monotonic_fraction_reported_per_piece(station):
    seen: list[float] = []
    station.items.render_text(LONG_TEXT[:3000], progress=seen.append)
    assert len(seen) >= 5 and seen == sorted(seen)
    assert all(0.0 <= f <= 1.0 for f in seen) and seen[-1] == 1.0


def test_an_edit_renders_again_and_an_old_render_never_wins(station, as_role):
    editor = as_role("editor")
    bid = _new(editor)
    first = wait_for(lambda: rendered(station, bid), what="the first render")
    r = editor.form(f"/bulletins/{bid}", {"title": "Lịch tiêm phòng", "text": TEXT + " Xin cảm ơn.",
                                          "bulletin_class": "thong_thuong", "frequency": "every_slot"})
    assert r.status_code == 303
    second = wait_for(lambda: rendered(station, bid), what="the render of the edit")
    assert second.item_path != first.item_path and second.item_duration_s > first.item_duration_s


def test_a_restart_does_not_lose_a_queued_render(settings, station):
    from broadcaster.station import bulletins
    from broadcaster.station.facade import Station

    # written by a process that stopped before its render ran (the data function queues, nothing renders)
    with Session(station.db) as s:
        fields = bulletins.clean_fields(title="Lịch tiêm phòng", text=TEXT)
        bid = bulletins.create_draft(session=s, fields=fields, by="bientap").id
        s.commit()
    assert row(station, bid).render_state == "queued" and row(station, bid).item_path is None
    again = Station(settings)  # the next start of the station
    try:
        again.renders.resume()
        b = wait_for(lambda: rendered(again, bid), what="the resumed render")
        assert b.item_engine == "espeak"
    finally:
        again.close()


def test_a_failed_render_says_why_on_the_page(station, as_role, monkeypatch):
    from broadcaster.exceptions import SpeechError

    def broken(text):
        raise SpeechError("espeak-ng: không nạp được giọng 'vi'")

    monkeypatch.setattr(station.items.synthesizer.engines["espeak"], "synthesize", broken)
    editor = as_role("editor")
    bid = _new(editor)
    b = wait_for(lambda: row(station, bid).render_state == "failed" and row(station, bid), what="the failure")
    assert "không nạp được giọng" in b.render_error
    page = editor.get(f"/bulletins/{bid}").text
    assert re.search(r"Chưa dựng được âm thanh:[^<]*không nạp được giọng", page)


def test_a_rendering_panel_refresh_builds_no_voice_list(station, as_role, monkeypatch):
    """The Nghe thử panel polls every second while a render runs; the voice list (every engine asked for
    its voices) names the voice under the player only, so a refresh of a rendering bulletin's panel never
    builds it. The bulletin still names the voice of its last item (re-queued because that file is gone)."""
    from broadcaster.station import bulletins

    with Session(station.db) as s:  # written and claimed by a render, as the worker leaves it (no worker here)
        b = bulletins.create_draft(session=s, fields=bulletins.clean_fields(title="Lịch tiêm phòng", text=TEXT),
                                   by="bientap")
        b.render_state, b.item_engine, b.item_voice = "rendering", "espeak", "espeak:vi"
        s.add(b)
        s.commit()
        bid = b.id
    assert station.renders.join(60)  # no worker runs to claim it (nothing here wakes one)
    synthesizer = station.items.synthesizer
    real, builds = synthesizer.voices, []
    monkeypatch.setattr(synthesizer, "voices", lambda: builds.append(1) or real())
    editor = as_role("editor")
    for _ in range(3):  # three refreshes of the polling panel
        fragment = editor.get(f"/bulletins/{bid}/render", headers={"HX-Request": "true"})
        assert fragment.status_code == 200 and "<progress" in fragment.text
    assert builds == []
    # once the player shows, the voice is named by its label from the list (one build a refresh)
    item = station.settings.data_dir / "item.wav"
    item.write_bytes(b"RIFF")
    with Session(station.db) as s:
        done = s.get(Bulletin, bid)
        done.render_state, done.item_path, done.item_duration_s = "done", str(item), 12.0
        s.add(done)
        s.commit()
    fragment = editor.get(f"/bulletins/{bid}/render", headers={"HX-Request": "true"}).text
    assert 'id="giong-doc"' in fragment and "espeak-ng" in fragment and len(builds) == 1
