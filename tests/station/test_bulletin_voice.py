"""A bulletin aired in the voice its editor chose (issue 12 item 4), through the station's own parts.

The station builds its real engines from settings (Edge first, espeak-ng after it); edge-tts
speaks to the fake Edge service (tests/speech_engines/edge_fake.py) and the slot airs on the
memory sound card. What is checked is the record: the voice asked of the service, the bulletin's
item_voice/item_engine and the as-run row's voice/engine, also when Edge fails and espeak-ng
speaks instead.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from support.speech_fakes import load_fake
from sqlmodel import Session, select

from broadcaster.exceptions import InputError
from broadcaster.models import AsRun, AsRunStatus
from broadcaster.scheduling import store

NAMMINH = "Microsoft Server Speech Text to Speech Voice (vi-VN, NamMinhNeural)"


engine_fakes = load_fake("engine_fakes")
edge_fake = load_fake("edge_fake")


@pytest.fixture
def settings(data_dir):
    from broadcaster.config import load_settings

    return load_settings(data_dir, engine_order=["edge", "espeak"], edge_timeout=2)


@pytest.fixture(scope="module")
def mp3(tmp_path_factory) -> bytes:
    return engine_fakes.make_mp3(tmp_path_factory.mktemp("mp3") / "tone.mp3").read_bytes()


@pytest.fixture
def edge(mp3, monkeypatch):
    start, stop_all = edge_fake.edge_service_factory(mp3, monkeypatch)
    yield start
    stop_all()


def _air(station, player):
    store.ensure_timetable(engine=station.db, settings=station.settings)
    slot = station.timetable().slot_named("Buổi sáng")
    planned = datetime.now(station.tz).replace(microsecond=0)
    return station.air_slot(slot=slot, planned_at=planned, player=player)


def _row(station, row_id: int) -> AsRun:
    with Session(station.db) as session:
        return session.exec(select(AsRun).where(AsRun.id == row_id)).one()


def test_a_bulletin_airs_in_its_chosen_voice_and_the_log_says_which(station, player, edge):
    server = edge()
    bulletin = station.add_bulletin(title="Tiêm phòng", text="Kính thưa bà con, sáng mai tiêm phòng.",
                                    approve=True, voice="edge:vi-VN-NamMinhNeural")
    stored = station.get_bulletin(bulletin.id)
    assert stored.voice == "edge:vi-VN-NamMinhNeural"
    assert (stored.item_engine, stored.item_voice) == ("edge", "edge:vi-VN-NamMinhNeural")
    assert [r.voice for r in server.requests] == [NAMMINH]
    [row] = _air(station, player)
    assert row.status == AsRunStatus.aired and row.bulletin_id == bulletin.id
    assert (row.engine, row.voice) == ("edge", "edge:vi-VN-NamMinhNeural")
    assert _row(station, row.id).voice == "edge:vi-VN-NamMinhNeural"  # stored, not only returned
    from broadcaster.reports.log import log_csv

    with Session(station.db) as session:
        exported = b"".join(log_csv(session=session, tz=station.tz)).decode("utf-8-sig")
    assert "edge:vi-VN-NamMinhNeural" in exported  # the export's Bộ đọc column names the voice


def test_when_edge_fails_the_offline_voice_airs_and_the_log_says_so(station, player, edge):
    edge("forbidden")
    bulletin = station.add_bulletin(title="Họp xóm", text="Tối nay họp xóm tại nhà văn hóa.",
                                    approve=True, voice="edge:vi-VN-HoaiMyNeural")
    stored = station.get_bulletin(bulletin.id)
    assert stored.voice == "edge:vi-VN-HoaiMyNeural"  # the choice is kept for the next render
    assert (stored.item_engine, stored.item_voice) == ("espeak", "espeak:vi")
    [row] = _air(station, player)
    assert row.status == AsRunStatus.aired and (row.engine, row.voice) == ("espeak", "espeak:vi")


def test_the_station_default_voice_is_used_when_a_bulletin_names_none(data_dir, edge):
    from broadcaster.config import load_settings
    from broadcaster.station.facade import Station

    server = edge()
    settings = load_settings(data_dir, engine_order=["edge", "espeak"], default_voice="edge:vi-VN-NamMinhNeural")
    st = Station.open(settings)
    try:
        bulletin = st.add_bulletin(title="Thông báo", text="Thông báo của ủy ban xã.", approve=True)
        assert st.get_bulletin(bulletin.id).item_voice == "edge:vi-VN-NamMinhNeural"
        assert [r.voice for r in server.requests] == [NAMMINH]
    finally:
        st.close()


@pytest.mark.parametrize(
    ("voice", "shown"),
    [("edge:vi-VN-NoSuchNeural", "chưa được cài"), ("loa:giọng", "máy:giọng"), ("piper:vi_VN-x", "chưa được cài")],
)
def test_a_voice_not_installed_is_refused_before_anything_is_stored(station, voice, shown):
    with pytest.raises(InputError, match=shown):
        station.add_bulletin(title="Sai giọng", text="Nội dung.", voice=voice)
    assert station.bulletins.list() == []


def test_the_voice_list_names_every_installed_voice(station):
    ids = [v.id for v in station.voices()]
    assert ids == ["edge:vi-VN-HoaiMyNeural", "edge:vi-VN-NamMinhNeural", "espeak:vi"]  # gtts: not in the order
    assert {v.id: v.online for v in station.voices()}["espeak:vi"] is False


def test_the_background_render_reads_in_the_voice_the_editor_chose(station, edge):
    """The console's path: a draft is rendered by the background worker (station.renders), the leader
    hears that item and approving keeps it, so the worker must read in the bulletin's voice too."""
    server = edge()
    bulletin = station.add_bulletin(title="Tiêm phòng", text="Kính thưa bà con, sáng mai tiêm phòng.",
                                    voice="edge:vi-VN-NamMinhNeural")
    station.renders.wake()
    assert station.renders.join(120), "the background render never finished"
    stored = station.get_bulletin(bulletin.id)
    assert (stored.render_state, stored.render_error) == ("done", None)
    assert (stored.item_engine, stored.item_voice) == ("edge", "edge:vi-VN-NamMinhNeural")
    assert [r.voice for r in server.requests] == [NAMMINH]
