"""render_item end to end: files in, a 48 kHz 16-bit mono item on disk, figures measured on it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from audio_helpers import RATE, dominant_hz, encode, lufs, read_back, speech_like, tone, true_peak
from broadcaster import media
from broadcaster.audio import ItemInfo, builtin_asset, load_audio, render_item
from broadcaster.exceptions import AudioError

TOLERANCE_LU = 0.5
PEAK_TOLERANCE_DB = 0.1


def _speech_file(tmp_path: Path, kind: str) -> Path:
    """The same 6 s of speech-like audio, delivered the ways it reaches the station."""
    voice = speech_like(6.0, seed=3)
    if kind == "wav48k":
        return media.write_wav(tmp_path / "speech.wav", voice, sample_rate=RATE)
    if kind == "quiet":
        return media.write_wav(tmp_path / "quiet.wav", voice * 0.01, sample_rate=RATE)
    if kind == "loud-clipped":
        return media.write_wav(tmp_path / "loud.wav", np.clip(voice * 8.0, -1, 1), sample_rate=RATE)
    if kind == "mp3":
        return encode(voice, tmp_path / "phone.mp3", codec_args=["-c:a", "libmp3lame", "-b:a", "96k"])
    if kind == "wav44k":
        return encode(voice, tmp_path / "speech44.wav", codec_args=["-ar", "44100", "-c:a", "pcm_s16le"])
    if kind == "stereo-float-wav":
        return encode(voice, tmp_path / "float.wav", codec_args=["-ac", "2", "-c:a", "pcm_f32le"])
    raise AssertionError(kind)


def _jingle_frames(name: str) -> int:
    return len(load_audio(builtin_asset(name), sample_rate=RATE))


@pytest.mark.parametrize("kind", ["wav48k", "quiet", "loud-clipped", "mp3", "wav44k", "stereo-float-wav"])
def test_rendered_item_is_on_target(tmp_path, settings, kind):
    source = _speech_file(tmp_path, kind)
    out = tmp_path / "items" / "item.wav"
    info = render_item(source, out, settings=settings)

    samples, rate = read_back(out)  # asserts 48 kHz, 16-bit, mono
    assert isinstance(info, ItemInfo) and info.path == out
    assert lufs(samples) == pytest.approx(settings.target_lufs, abs=TOLERANCE_LU)
    assert true_peak(samples) <= settings.true_peak_dbtp + PEAK_TOLERANCE_DB
    # the figures returned are those of the file on disk
    assert info.integrated_lufs == pytest.approx(lufs(samples), abs=0.02)
    assert info.true_peak_dbtp == pytest.approx(true_peak(samples), abs=0.05)
    assert info.duration_s == pytest.approx(len(samples) / RATE)
    # intro + gap + speech + gap + outro, within a few ms (ffmpeg trims the MP3 encoder delay and padding)
    gap = settings.jingle_gap_ms * RATE // 1000
    expected = _jingle_frames("intro") + gap + 6 * RATE + gap + _jingle_frames("outro")
    assert abs(len(samples) - expected) <= 5 * RATE // 1000
    assert not list(out.parent.glob("*.part"))


def test_order_intro_speech_outro(tmp_path, settings):
    intro_path = media.write_wav(tmp_path / "intro.wav", tone(1000, 1.0, 0.5), sample_rate=RATE)
    outro_path = encode(tone(2000, 1.0, 0.5), tmp_path / "outro.mp3", codec_args=["-c:a", "libmp3lame"])
    voice = speech_like(4.0, seed=4)
    speech_path = media.write_wav(tmp_path / "speech.wav", voice, sample_rate=RATE)
    station = settings.model_copy(update={"intro_jingle": intro_path, "outro_jingle": outro_path})

    render_item(speech_path, tmp_path / "item.wav", settings=station)
    item, _ = read_back(tmp_path / "item.wav")

    gap = station.jingle_gap_ms * RATE // 1000
    start = RATE + gap  # speech begins after the 1 s intro and the gap
    assert dominant_hz(item[: RATE // 4]) == pytest.approx(1000, abs=3)
    assert dominant_hz(item[-RATE // 2 :]) == pytest.approx(2000, abs=3)
    assert np.max(np.abs(item[RATE + 1000 : start - 1000])) == 0.0  # the gap is silence
    middle = item[start : start + len(voice)]
    assert np.corrcoef(middle, voice)[0, 1] > 0.95  # the speech, limited a little, in the middle


def test_builtin_intro_opens_the_item(tmp_path, settings, generator):
    speech_path = media.write_wav(tmp_path / "speech.wav", speech_like(3.0), sample_rate=RATE)
    render_item(speech_path, tmp_path / "item.wav", settings=settings)
    item, _ = read_back(tmp_path / "item.wav")
    first_note = generator.INTRO_NOTES[0][1]
    assert dominant_hz(item[: int(0.2 * RATE)]) == pytest.approx(first_note, abs=4)


def test_no_clicks_at_the_joints(tmp_path, settings):
    speech_path = media.write_wav(tmp_path / "speech.wav", speech_like(3.0) + 0.2, sample_rate=RATE)  # DC!
    render_item(speech_path, tmp_path / "item.wav", settings=settings)
    item, _ = read_back(tmp_path / "item.wav")
    gap = settings.jingle_gap_ms * RATE // 1000
    intro = _jingle_frames("intro")
    joints = [0, intro, intro + gap, intro + gap + 3 * RATE, intro + 2 * gap + 3 * RATE, len(item)]
    for at in joints:
        near = item[max(0, at - 48) : at + 48]  # ±1 ms: only the tail of a fade can be there
        assert np.max(np.abs(near)) < 0.05
        assert np.max(np.abs(np.diff(near))) < 0.01


def test_without_jingles(tmp_path, settings):
    speech_path = media.write_wav(tmp_path / "speech.wav", speech_like(3.0), sample_rate=RATE)
    info = render_item(speech_path, tmp_path / "item.wav", settings=settings, jingles=False)
    item, _ = read_back(tmp_path / "item.wav")
    assert len(item) == 3 * RATE and info.duration_s == pytest.approx(3.0)
    assert lufs(item) == pytest.approx(settings.target_lufs, abs=TOLERANCE_LU)


def test_a_loud_station_jingle_does_not_push_the_speech_down(tmp_path, settings):
    blaring = media.write_wav(tmp_path / "loud.wav", np.sign(tone(800, 2.0)) * 0.99, sample_rate=RATE)
    station = settings.model_copy(update={"intro_jingle": blaring})
    voice = speech_like(4.0)
    render_item(media.write_wav(tmp_path / "s.wav", voice, sample_rate=RATE), tmp_path / "i.wav", settings=station)
    item, _ = read_back(tmp_path / "i.wav")
    start = 2 * RATE + station.jingle_gap_ms * RATE // 1000
    assert lufs(item[start : start + len(voice)]) == pytest.approx(settings.target_lufs, abs=1.0)


def test_silent_speech_renders_silence_between_the_jingles(tmp_path, settings):
    speech_path = media.write_wav(tmp_path / "silence.wav", np.zeros(2 * RATE), sample_rate=RATE)
    info = render_item(speech_path, tmp_path / "item.wav", settings=settings)
    item, _ = read_back(tmp_path / "item.wav")
    assert np.all(np.isfinite([info.integrated_lufs, info.true_peak_dbtp]))
    start = _jingle_frames("intro") + settings.jingle_gap_ms * RATE // 1000
    assert not np.any(item[start : start + 2 * RATE])
    assert true_peak(item) <= settings.true_peak_dbtp + PEAK_TOLERANCE_DB


@pytest.mark.parametrize("jingles", [True, False])
def test_very_short_and_silent_speech_do_not_produce_nan(tmp_path, settings, jingles):
    for name, voice in [("short", speech_like(0.3)[4000:]), ("blip", np.array([0.2, -0.2])), ("mute", np.zeros(10))]:
        path = media.write_wav(tmp_path / f"{name}.wav", voice, sample_rate=RATE)
        info = render_item(path, tmp_path / f"{name}-item.wav", settings=settings, jingles=jingles)
        item, _ = read_back(info.path)
        assert np.all(np.isfinite(item))
        assert np.all(np.isfinite([info.duration_s, info.integrated_lufs, info.true_peak_dbtp]))


def test_missing_speech_file_names_the_path(tmp_path, settings):
    missing = tmp_path / "nowhere" / "speech.mp3"
    with pytest.raises(AudioError) as err:
        render_item(missing, tmp_path / "item.wav", settings=settings)
    assert str(missing) in str(err.value)
    assert not (tmp_path / "item.wav").exists()


@pytest.mark.parametrize("content", [b"", b"RIFF\x00\x00", b"not audio at all " * 100], ids=["empty", "cut", "junk"])
def test_unreadable_speech_file_names_the_path(tmp_path, settings, content):
    bad = tmp_path / "recording.m4a"
    bad.write_bytes(content)
    with pytest.raises(AudioError) as err:
        render_item(bad, tmp_path / "item.wav", settings=settings)
    assert str(bad) in str(err.value)


def test_wav_without_frames_is_refused(tmp_path, settings):
    empty = media.write_wav(tmp_path / "empty.wav", np.zeros(0), sample_rate=RATE)
    with pytest.raises(AudioError) as err:
        render_item(empty, tmp_path / "item.wav", settings=settings)
    assert str(empty) in str(err.value)


def test_missing_station_jingle_names_the_path(tmp_path, settings):
    speech_path = media.write_wav(tmp_path / "speech.wav", speech_like(1.0), sample_rate=RATE)
    station = settings.model_copy(update={"outro_jingle": tmp_path / "gone.mp3"})
    with pytest.raises(AudioError) as err:
        render_item(speech_path, tmp_path / "item.wav", settings=station)
    assert "gone.mp3" in str(err.value)


def test_load_audio_resamples_and_mixes_down(tmp_path):
    path = encode(tone(440, 1.0), tmp_path / "stereo44.wav", codec_args=["-ar", "44100", "-ac", "2"])
    x = load_audio(path, sample_rate=RATE)
    assert x.dtype == np.float32 and x.ndim == 1
    assert len(x) == pytest.approx(RATE, abs=48)
    assert dominant_hz(x) == pytest.approx(440, abs=2)


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_real_espeak_speech(tmp_path, settings):
    wav = tmp_path / "espeak.wav"
    text = "Thông báo của Ủy ban nhân dân xã về lịch tiêm phòng cho trẻ em vào sáng thứ bảy tuần này."
    subprocess.run(["espeak-ng", "-v", "vi", "-s", "140", "-w", str(wav), text], check=True, timeout=30)
    info = render_item(wav, tmp_path / "item.wav", settings=settings)
    item, _ = read_back(info.path)
    assert lufs(item) == pytest.approx(settings.target_lufs, abs=TOLERANCE_LU)
    assert true_peak(item) <= settings.true_peak_dbtp + PEAK_TOLERANCE_DB
