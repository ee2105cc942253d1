"""Fixtures for the receiver program: a real Icecast, a tone source, the fake station API."""

from __future__ import annotations

import shutil

import pytest
from fake_station import FakeStation
from receiver_helpers import MOUNT, IcecastSource
from support.icecast import icecast_server  # noqa: F401  (a fixture)



@pytest.fixture
def tone_on_air(icecast_server):  # noqa: F811
    """A 1 kHz tone on Icecast's /dai.mp3, as the station's fan-out would send it; stopped at teardown."""
    source = IcecastSource(icecast_server.source_url(MOUNT))
    icecast_server.wait_mount(MOUNT)
    yield source
    source.stop()


@pytest.fixture
def fake_station(icecast_server):  # noqa: F811
    """The station's receiver API (fake, per contract) whose config points at Icecast's /dai.mp3."""
    station = FakeStation(stream_url=icecast_server.listen_url(MOUNT)).up()
    yield station
    station.down()


@pytest.fixture
def api_only_station():
    """The fake station API with no stream (for tests that need no Icecast)."""
    station = FakeStation(stream_url=None).up()
    yield station
    station.down()


@pytest.fixture
def receivers(tmp_path):
    """Factory of ReceiverProcess; every one is stopped at teardown. Skips without PortAudio (the card)."""
    from receiver_helpers import ReceiverProcess

    from broadcaster.exceptions import PlayoutError
    from broadcaster.playout.devices import list_devices

    try:
        list_devices()
    except PlayoutError as exc:
        pytest.skip(f"PortAudio is not usable here (install libportaudio2): {exc}")

    made: list[ReceiverProcess] = []

    def start(name: str = "Cụm loa Thôn Đông", **kwargs) -> ReceiverProcess:
        folder = tmp_path / f"rx{len(made)}"
        folder.mkdir()
        proc = ReceiverProcess(folder, name=name, **kwargs)
        made.append(proc)
        return proc

    yield start
    for proc in made:
        if proc.proc.poll() is None:
            proc.proc.kill()
            proc.proc.wait(10)
        proc.capture.unlink(missing_ok=True)
        shutil.rmtree(proc.home, ignore_errors=True)
