"""Issue 11 item 3 from the CLI: `broadcaster bulletin add --recording FILE` with a phone's M4A/MP4
(index at the end, AAC or Opus, mono or stereo, 8-48 kHz), checked from the file on disk, and a bad
file refused with one line before anything is stored. Real ffmpeg (imageio-ffmpeg), real SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import cli, rows
from cli_helpers import cli_env as env  # noqa: F401  (fixture)

from support.recordings import PHONE_SECONDS, make_phone_recording

@pytest.mark.parametrize(
    ("name", "codec", "channels", "rate", "container"),
    [
        ("ghi-am.m4a", "aac", 2, 44100, None),  # an iPhone/Android voice recorder: AAC stereo
        ("ghi-am-8k.m4a", "aac", 1, 8000, None),  # a call recorder: AAC mono, 8 kHz
        ("ghi-am-opus.mp4", "opus", 1, 48000, "mp4"),  # Opus in MP4, mono, 48 kHz
    ],
)
def test_bulletin_add_with_a_phone_recording_airs_it(env, data_dir, tmp_path, name, codec, channels, rate,
                                                       container):
    recording = make_phone_recording(tmp_path / name, codec=codec, channels=channels, rate=rate,
                                     container=container)
    run = cli(env, "bulletin", "add", "--title", "Thông báo của trưởng thôn", "--recording", str(recording),
              "--approve")
    assert run.returncode == 0, run.stdout + run.stderr
    bulletin_id = int(run.stdout.strip().splitlines()[-1])
    [bulletin] = rows(data_dir)
    assert bulletin.id == bulletin_id
    assert bulletin.recording_path and Path(bulletin.recording_path).is_file()
    assert Path(bulletin.recording_path).read_bytes() == recording.read_bytes()
    assert (bulletin.status, bulletin.item_engine, bulletin.render_error) == ("approved", "recording", None)
    # jingles + the whole recording: the program item is longer than the recording alone
    assert bulletin.item_duration_s > PHONE_SECONDS
    assert bulletin.text  # the title stands for the text when only a recording is given


def test_bulletin_add_with_a_bad_recording_stores_nothing(env, data_dir, tmp_path):
    broken = tmp_path / "hong.m4a"
    good = make_phone_recording(tmp_path / "tot.m4a")
    broken.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])  # cut off: no index at all
    for path in (broken, tmp_path / "khong-co.m4a", tmp_path / "ghi.txt"):
        if path.suffix == ".txt":
            path.write_text("không phải âm thanh", encoding="utf-8")
        run = cli(env, "bulletin", "add", "--title", "Tin", "--recording", str(path))
        assert run.returncode != 0
        lines = run.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Lỗi: "), run.stderr
        for leak in ("ffmpeg", "moov", "Invalid data", "Traceback", "pipe:"):
            assert leak not in run.stderr
    assert rows(data_dir) == []
    recordings = data_dir / "recordings"
    assert not recordings.exists() or not [p for p in recordings.rglob("*") if p.is_file()]


def test_a_recording_longer_than_the_setting_is_refused(env, data_dir, tmp_path):
    recording = make_phone_recording(tmp_path / "dai.m4a")
    run = cli(dict(env, BROADCASTER_RECORDING_MAX_MINUTES="0.1"), "bulletin", "add", "--title", "Tin",
              "--recording", str(recording))
    assert run.returncode != 0
    assert run.stderr.strip() == "Lỗi: Tệp ghi âm dài 0 phút 12 giây: quá 0.1 phút cho phép", run.stderr
    assert rows(data_dir) == []


def test_render_of_a_recorded_bulletin_renders_its_recording(env, data_dir, tmp_path):
    """`broadcaster render --bulletin N` makes what the slot airs: for a bulletin with an officer's
    recording that is the recording in the jingles, the very item the station keeps, not its title read."""
    recording = make_phone_recording(tmp_path / "ghi-am.m4a")
    run = cli(env, "bulletin", "add", "--title", "Thông báo của trưởng thôn", "--recording", str(recording),
              "--approve")
    assert run.returncode == 0, run.stdout + run.stderr
    [bulletin] = rows(data_dir)
    out = tmp_path / "nghe-thu.wav"
    run = cli(env, "render", "--bulletin", str(bulletin.id), "-o", str(out))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "giọng thu" in run.stderr and "espeak" not in run.stderr, run.stderr
    assert out.read_bytes() == Path(bulletin.item_path).read_bytes()
    run = cli(env, "render", "--bulletin", str(bulletin.id), "-o", str(out), "--engine", "espeak")
    assert run.returncode != 0 and run.stderr.strip().startswith("Lỗi: ") and "ghi âm" in run.stderr, run.stderr
