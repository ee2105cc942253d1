"""A full disk (issue 9, item 3), on a small tmpfs the test mounts and always unmounts: the data
directory lives on it, a file fills it, then the file goes and the station must have recovered.

* a slot due on the full disk airs what is already rendered; its as-run rows (and the alarm row)
  are written once space returns; the operator is told (serve's output, the console's banner);
* renders are refused below min_free_mb with one Vietnamese line, and a render cut short by the
  disk leaves no `.part` file and no speech sidecar without its audio;
* `serve` starts on a disk that a crashed render had filled, and says one clear line when the
  disk really is full.
"""

from __future__ import annotations

import errno
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import timezone
from pathlib import Path

import pytest

from support.serve import BIN, add_oneoff, add_tone_bulletin, clear_timetable, rows, tone_wav

SIZE_MB = 48


def _load_sched_helpers():
    # FakePlayer and wait_for of tests/scheduling, loaded by path under a unique name
    name = "disk_full_sched_helpers"
    if name not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "scheduling" / "sched_helpers.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


sched = _load_sched_helpers()
FakePlayer, wait_for, local = sched.FakePlayer, sched.wait_for, sched.local


@pytest.fixture
def small_disk(tmp_path):
    """A SIZE_MB tmpfs mounted for this test (root only; skipped otherwise), unmounted afterwards."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if shutil.which("mount") is None or shutil.which("umount") is None:
        pytest.skip("mount/umount are not installed")
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE_MB}m,mode=0755", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {made.stderr.strip()}")
    try:
        yield mount
    finally:
        for _ in range(50):
            if subprocess.run(["umount", str(mount)], capture_output=True).returncode == 0:
                break
            time.sleep(0.1)  # a child still closing its files
        else:
            subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def fill(disk: Path, *, leave_bytes: int = 0) -> Path:
    """Fill the disk with one file until at most `leave_bytes` are free; returns the file."""
    path = disk / "filler.bin"
    block = b"\xa5" * (1 << 20)
    with open(path, "ab") as out:
        try:
            while True:
                free = shutil.disk_usage(disk).free
                if free <= leave_bytes:
                    break
                out.write(block[: max(4096, min(len(block), free - leave_bytes))])
                out.flush()
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
    return path


def parts(root: Path) -> list[Path]:
    return sorted(root.rglob("*.part"))


def station_on(disk: Path, clock=None, **overrides):
    from broadcaster.config import load_settings
    from broadcaster.station.facade import Station

    overrides.setdefault("min_free_mb", 10)
    settings = load_settings(disk / "data", engine_order=["espeak"], **overrides)
    return Station.open(settings, **({"clock": clock.now} if clock else {}))


# ----------------------------------------------------------------------------------- a slot
def test_a_slot_due_on_a_full_disk_airs_and_its_rows_are_written_when_space_returns(small_disk):
    from fastapi.testclient import TestClient

    from broadcaster.disk import LOW_TITLE
    from broadcaster.exceptions import DiskFullError
    from broadcaster.scheduling.clock import FakeClock
    from broadcaster.web.app import create_app

    clock = FakeClock(local(2026, 11, 28, 8, 0))
    station = station_on(small_disk, clock, device_retry_s=0.5)
    data = station.settings.data_dir
    clear_timetable(station)
    item = tone_wav(station.settings.cache_dir / "items" / "ready.wav", seconds=0.2)
    bulletin = add_tone_bulletin(station, "Tin đã dựng sẵn", item, 0.2)
    planned = add_oneoff(station, "Khung thử", local(2026, 11, 28, 8, 10).astimezone(timezone.utc))
    player = FakePlayer(clock, {str(item): 60.0})
    said: list[str] = []
    onair = station.on_air(player_factory=lambda: player, clock=clock, say=said.append)
    runner = threading.Thread(target=onair.run, daemon=True)
    runner.start()
    filler = None
    try:
        wait_for(lambda: any("Đài đang chạy" in line for line in said), timeout=30)
        # the render-ahead of the slot is done before the disk fills
        wait_for(lambda: station.get_bulletin(bulletin.id).status == "scheduled", timeout=30)
        console = TestClient(create_app(station, onair=onair))
        assert "sắp đầy" not in console.get("/login").text

        filler = fill(small_disk)
        # serve's output says so (the station checks while it waits), and so does the console
        wait_for(lambda: any("Ổ đĩa chứa dữ liệu đài sắp đầy" in line for line in said), timeout=30)
        page = console.get("/login")
        assert page.status_code == 200 and "Ổ đĩa chứa dữ liệu đài sắp đầy" in page.text
        # a new render is refused with one line, and nothing is left behind
        with pytest.raises(DiskFullError) as refused:
            station.render_text("Bản tin mới soạn khi ổ đĩa đầy.")
        assert "\n" not in str(refused.value) and "Không dựng bản tin được" in str(refused.value)

        clock.set(planned)  # the slot falls due on the full disk
        wait_for(lambda: player.played, timeout=30)  # what was rendered airs
        assert player.played[0][0] == str(item)
        wait_for(lambda: any(line.startswith("  Tin đã dựng sẵn:") for line in said), timeout=30)  # slot over
        assert [r for r in rows(station.settings.db_path) if r[1] == "Tin đã dựng sẵn"] == []  # not written yet
    finally:
        if filler is not None:
            filler.unlink()
    try:
        # space is back: the rows the full disk held back are written, once each
        def written():
            found = rows(station.settings.db_path)
            return found if any(r[1] == "Tin đã dựng sẵn" for r in found) else None

        found = wait_for(written, timeout=30)
        aired = [r for r in found if r[1] == "Tin đã dựng sẵn"]
        assert len(aired) == 1 and aired[0][2] == "aired" and aired[0][7] == "Khung thử"
        assert aired[0][8].startswith(planned.strftime("%Y-%m-%d %H:%M:%S"))
        alarms = [r for r in found if r[6] == "alarm" and r[1] == LOW_TITLE]
        assert alarms and "sắp đầy" in alarms[0][5]
        assert station.slot_handled(slot="Khung thử", planned_at=planned)
        wait_for(lambda: any("Ổ đĩa đã có đủ chỗ trống" in line for line in said), timeout=30)
        assert "sắp đầy" not in console.get("/login").text
        assert parts(data) == []
    finally:
        onair.stop.set()
        runner.join(30)
        station.close()
    assert not runner.is_alive()


# ---------------------------------------------------------------------------------- renders
def test_renders_are_refused_below_min_free_mb_with_one_line(small_disk):
    station = station_on(small_disk)
    try:
        fill(small_disk, leave_bytes=5 * 1024 * 1024)  # 5 MB free: under the 10 MB floor
        r = subprocess.run([str(BIN), "render", "--text", "Xin chào bà con.", "-o", str(small_disk / "out.wav")],
                           capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, BROADCASTER_DATA_DIR=str(station.settings.data_dir),
                                    BROADCASTER_ENGINE_ORDER='["espeak"]', BROADCASTER_MIN_FREE_MB="10"))
        lines = [line for line in r.stderr.splitlines() if line.strip()]
        assert r.returncode != 0
        assert len(lines) == 1 and lines[0].startswith("Lỗi: Không dựng bản tin được: Ổ đĩa"), r.stderr
        assert not (small_disk / "out.wav").exists()
        assert list((station.settings.cache_dir / "speech").glob("*")) == []  # not even the speech
        # a bulletin approved now keeps the reason, and the slot would say it
        bulletin = station.add_bulletin(title="Tin mới", text="Nội dung tin mới.", approve=True)
        assert bulletin.item_path is None and "Ổ đĩa chứa dữ liệu đài sắp đầy" in bulletin.render_error
    finally:
        station.close()


def test_the_min_free_mb_floor_is_enforced(tmp_path):
    from broadcaster.config import MIN_FREE_MB_FLOOR, load_settings
    from broadcaster.exceptions import ConfigError

    # a data directory of its own (with none given and none found, settings now say so instead)
    with pytest.raises(ConfigError) as bad:
        load_settings(tmp_path, min_free_mb=MIN_FREE_MB_FLOOR - 1)
    assert "min_free_mb" in str(bad.value)
    assert load_settings(tmp_path, min_free_mb=MIN_FREE_MB_FLOOR).min_free_mb == MIN_FREE_MB_FLOOR


def test_a_render_cut_short_by_the_disk_leaves_nothing_behind(small_disk, monkeypatch):
    from broadcaster.exceptions import BroadcasterError

    station = station_on(small_disk)
    data = station.settings.data_dir
    speech_dir = station.settings.cache_dir / "speech"
    # free space looked fine when checked, then the disk filled during the render (another writer)
    monkeypatch.setattr(station.settings, "min_free_mb", 0)
    filler = None
    try:
        # 1) the speech itself does not fit: no sidecar may stay without its audio
        filler = fill(small_disk, leave_bytes=16 * 1024)
        with pytest.raises(BroadcasterError):
            station.render_text("Thông báo về lịch tiêm phòng cho trẻ em trong xã vào sáng thứ bảy.")
        assert sorted(p.name for p in speech_dir.glob("*")) == []
        assert parts(data) == []
        filler.unlink()
        filler = None

        # 2) the speech fits, the program item does not: no cache/items/*.wav.part
        text = "Thông báo về lịch tiêm phòng cho trẻ em trong xã vào sáng thứ bảy."
        station.speak(text)
        filler = fill(small_disk, leave_bytes=16 * 1024)
        with pytest.raises(BroadcasterError):
            station.render_text(text)
        assert parts(data) == []
        assert list((station.settings.cache_dir / "items").glob("*")) == []
        filler.unlink()
        filler = None

        # space is back: the same render works and is whole
        outcome = station.render_text(text)
        assert outcome.path.is_file() and outcome.duration_s > 1
        assert parts(data) == []
    finally:
        if filler is not None:
            filler.unlink()
        station.close()


def test_the_officers_copy_on_a_full_disk_is_one_clear_error_and_leaves_nothing(small_disk, tmp_path):
    """`render -o` onto a full disk (a USB stick, say) while the data directory has room: the copy
    is written alongside the item as it renders, so the disk fills during the render. One
    AudioError naming the copy, no .part left on either disk; once there is room the same render
    lands whole (the copy equal to the cached item)."""
    from broadcaster.config import load_settings
    from broadcaster.exceptions import AudioError
    from broadcaster.station.facade import Station

    station = Station.open(load_settings(tmp_path / "data", engine_order=["espeak"]))
    text = "Thông báo về lịch tiêm phòng cho trẻ em trong xã vào sáng thứ bảy, mời bà con đưa trẻ đến đúng giờ."
    out = small_disk / "ban-tin.wav"
    filler = fill(small_disk, leave_bytes=64 * 1024)
    try:
        with pytest.raises(AudioError) as caught:
            station.render_text(text, out=out)
        assert str(out) in str(caught.value)
        assert parts(small_disk) == [] and parts(tmp_path / "data") == []
        assert not out.exists()
        filler.unlink()
        filler = None
        outcome = station.render_text(text, out=out)
        (item,) = (station.settings.cache_dir / "items").glob("*.wav")
        assert outcome.path == out and out.read_bytes() == item.read_bytes()
    finally:
        if filler is not None:
            filler.unlink()
        station.close()


# ------------------------------------------------------------------------------------ serve
def _serve_env(data: Path, home: Path) -> dict:
    home.mkdir(exist_ok=True)
    (home / ".asoundrc").write_text("pcm.!default { type hw; card 97 }\nctl.!default { type hw; card 97 }\n")
    return dict(os.environ, HOME=str(home), BROADCASTER_DATA_DIR=str(data), BROADCASTER_ENGINE_ORDER='["espeak"]',
                BROADCASTER_OUTPUT_DEVICE="không-có-card-này", BROADCASTER_DEVICE_RETRY_S="1",
                BROADCASTER_MIN_FREE_MB="10", PYTHONUNBUFFERED="1")


def _start_serve(env: dict, log: Path):
    with open(log, "wb") as out:
        return subprocess.Popen([str(BIN), "serve", "--port", "0"], stdout=out, stderr=subprocess.STDOUT, env=env,
                                stdin=subprocess.DEVNULL, start_new_session=True)


def _stop(proc) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _wait_text(log: Path, proc, needle: str, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        text = log.read_text(errors="replace")
        if needle in text:
            return text
        assert proc.poll() is None, text
        assert time.monotonic() < deadline, text
        time.sleep(0.1)


def test_serve_starts_on_a_disk_a_crashed_render_filled(small_disk, tmp_path):
    data = small_disk / "data"
    env = _serve_env(data, tmp_path / "home")
    assert subprocess.run([str(BIN), "init"], env=env, capture_output=True, timeout=120).returncode == 0
    # the station's database was in use when the disk filled (its -wal/-shm are there) ...
    import sqlite3

    con = sqlite3.connect(data / "broadcaster.db")
    con.execute("SELECT COUNT(*) FROM as_run").fetchall()
    # ... filled by a render killed half-way: its .part is all that is on the disk
    leftover = fill(small_disk)
    part = data / "cache" / "items" / "0123456789abcdef.wav.part"
    part.parent.mkdir(parents=True, exist_ok=True)
    leftover.rename(part)
    old = time.time() - 3600
    os.utime(part, (old, old))
    con.close()
    assert shutil.disk_usage(small_disk).free < 1024 * 1024

    log = tmp_path / "serve.log"
    proc = _start_serve(env, log)
    try:
        text = _wait_text(log, proc, "Đài đang chạy", timeout=90)
        assert "Traceback" not in text and "disk I/O error" not in text
        assert not part.exists()  # the leftover went
    finally:
        _stop(proc)
    assert proc.returncode == 0, log.read_text(errors="replace")


def test_serve_on_a_really_full_disk_says_one_clear_line_then_starts_once_space_returns(small_disk, tmp_path):
    data = small_disk / "data"
    env = _serve_env(data, tmp_path / "home")
    assert subprocess.run([str(BIN), "init"], env=env, capture_output=True, timeout=120).returncode == 0
    import sqlite3

    con = sqlite3.connect(data / "broadcaster.db")
    con.execute("SELECT COUNT(*) FROM as_run").fetchall()
    filler = fill(small_disk)  # someone else's file: the station must not touch it
    con.close()
    try:
        r = subprocess.run([str(BIN), "serve", "--port", "0"], env=env, capture_output=True, text=True, timeout=120)
        if r.returncode == 0:  # pragma: no cover - a station that managed to start and was stopped
            pytest.fail(f"serve exited 0 on a full disk: {r.stdout} {r.stderr}")
        lines = [line for line in r.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("Lỗi:") and "ổ đĩa" in lines[0].lower(), r.stderr
        assert "Background on this error" not in r.stderr and "sqlite3." not in r.stderr
        assert filler.exists()
    finally:
        filler.unlink()
    log = tmp_path / "serve.log"
    proc = _start_serve(env, log)
    try:
        _wait_text(log, proc, "Đài đang chạy", timeout=90)
    finally:
        _stop(proc)
    assert proc.returncode == 0, log.read_text(errors="replace")


# ------------------------------------------------------------------------------- microphone
def _playout_helpers():
    if "playout_helpers" not in sys.modules:  # the same module tests/urgent loads, by path
        path = Path(__file__).resolve().parents[1] / "playout" / "playout_helpers.py"
        spec = importlib.util.spec_from_file_location("playout_helpers", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["playout_helpers"] = module
        spec.loader.exec_module(module)
    return sys.modules["playout_helpers"]


def test_the_microphone_stays_on_air_when_its_archive_cannot_be_written(small_disk):
    import numpy as np

    from broadcaster.playout.live import MicSource

    archive = small_disk / "archive" / "mic.wav"
    archive.parent.mkdir()
    filler = fill(small_disk)
    source = MicSource(archive=archive, sample_rate=48000, block_frames=1024,
                       stream_factory=_playout_helpers().FakeToneInput)
    try:
        got: list[np.ndarray] = []

        def heard_a_second():
            block = source.read(4096)  # what the player hands to the card
            if block is not None and len(block):
                got.append(block)
            return sum(len(b) for b in got) >= 48000

        wait_for(heard_a_second, timeout=30)  # the live audio keeps coming on a full disk
        assert source.archive_error and source.error is None
    finally:
        source.close()
        filler.unlink()
    assert not archive.exists() and parts(small_disk) == []  # no half-written archive left
