"""Cache keys and file names stay exactly what they were before issue #10 (existing caches stay valid).

The formulas below are frozen copies of the code before the move (service.Station._item_key,
render_recording, filler_path; urgent._normalized_copy; editorial.attach_recording): an item made
then must be found again, never rendered a second time."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from broadcaster.media import write_wav


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _frozen_item_key(settings, speech_path: Path, jingles: bool) -> str:
    from broadcaster.audio import builtin_asset

    s = settings
    parts: dict[str, object] = {"speech": speech_path.name, "jingles": jingles, "gap": s.jingle_gap_ms,
                                "fade": s.fade_ms, "lufs": s.target_lufs, "peak": s.true_peak_dbtp,
                                "rate": s.sample_rate}
    if jingles:
        for name, override in (("intro", s.intro_jingle), ("outro", s.outro_jingle)):
            path = Path(override) if override else builtin_asset(name)
            parts[name] = _digest(path) if path.is_file() else str(path)
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


@pytest.fixture
def no_render(monkeypatch):
    """Any render or decode fails the test: a cached item must be found, not made again."""
    import broadcaster.audio as audio
    import broadcaster.audio.render as render

    def refuse(*a, **k):
        raise AssertionError("rendered again: the cache key changed")

    monkeypatch.setattr(audio, "render_item", refuse)
    monkeypatch.setattr(render, "render_item", refuse)
    return refuse


def _fake_item(path: Path, rate: int) -> None:
    write_wav(path, np.zeros(rate // 10, dtype=np.float32), sample_rate=rate)
    figures = {"duration_s": 7.5, "integrated_lufs": -16.0, "true_peak_dbtp": -1.5}
    path.with_suffix(".json").write_text(json.dumps(figures), encoding="utf-8")


@pytest.mark.parametrize("jingles", [True, False])
def test_text_item_made_before_is_found_again(station, settings, no_render, jingles):
    speech = station.speak("Thông báo lịch tiêm phòng.")
    key = _frozen_item_key(settings, speech.path, jingles)
    item = settings.cache_dir / "items" / f"{key}.wav"
    _fake_item(item, settings.sample_rate)
    outcome = station.render_text("Thông báo lịch tiêm phòng.", jingles=jingles)
    assert outcome.path == item and outcome.duration_s == 7.5


def test_recording_item_made_before_is_found_again(station, settings, tmp_path, no_render):
    recording = tmp_path / "thu.wav"
    write_wav(recording, np.full(settings.sample_rate, 0.1, dtype=np.float32), sample_rate=settings.sample_rate)
    inner = _frozen_item_key(settings, recording, True)
    key = hashlib.sha256(f"recording:{_digest(recording)}:{inner}".encode()).hexdigest()[:32]
    item = settings.cache_dir / "items" / f"{key}.wav"
    _fake_item(item, settings.sample_rate)
    outcome = station.render_recording(recording)
    assert outcome.path == item and outcome.engine == "recording" and outcome.duration_s == 7.5


def test_filler_converted_before_is_found_again(station, settings, tmp_path, monkeypatch):
    import broadcaster.media as media

    source = tmp_path / "filler.wav"
    write_wav(source, np.zeros(800, dtype=np.float32), sample_rate=8000)  # not at the output rate
    monkeypatch.setattr(settings, "filler", str(source))
    stat = source.stat()
    key = hashlib.sha256(f"{source.resolve()}|{stat.st_mtime_ns}|{stat.st_size}|{settings.sample_rate}".encode())
    out = settings.cache_dir / "filler" / f"{key.hexdigest()[:32]}.wav"
    write_wav(out, np.zeros(10, dtype=np.float32), sample_rate=settings.sample_rate)
    monkeypatch.setattr(media, "decode", lambda *a, **k: pytest.fail("converted again"))
    assert station.filler_path() == out


def test_urgent_copy_made_before_is_found_again(settings, tmp_path, no_render):
    from broadcaster.station.items import normalized_copy

    source = tmp_path / "ghi-am.wav"
    write_wav(source, np.full(800, 0.1, dtype=np.float32), sample_rate=8000)
    digest = hashlib.sha256(source.read_bytes())
    digest.update(f"|{settings.sample_rate}|{settings.target_lufs}|{settings.true_peak_dbtp}|{settings.fade_ms}".encode())
    out = settings.cache_dir / "urgent" / f"recording-{digest.hexdigest()[:32]}.wav"
    out.parent.mkdir(parents=True)
    out.write_bytes(b"made before")
    assert normalized_copy(settings, source, "recording") == out


def test_the_synthesizer_is_handed_the_items_normalize_not_the_facade(station):
    # issue #10 item 3: the speech chain never calls back up into Station
    normalize = station.synthesizer._normalize
    assert getattr(normalize, "__self__", None) is station.items
    assert normalize("UBND xã") == station.normalize("UBND xã")


def test_text_to_item_parts_never_import_the_facade():
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    sys.path.insert(0, str(root / "bench"))
    try:
        from import_graph import graph
    finally:
        sys.path.remove(str(root / "bench"))
    edges = graph(root)
    for part in ("broadcaster.station.bulletins", "broadcaster.station.items", "broadcaster.station.cache",
                 "broadcaster.station.documents", "broadcaster.speech.synth"):
        assert "broadcaster.station.facade" not in edges[part], part
        assert "broadcaster.editorial" not in edges[part], part


def test_speak_hands_the_synthesizer_one_call_whether_or_not_progress_is_given(settings):
    """Items.speak passes progress= through as it was given (None too): one call shape, which the
    synthesizer and every stand-in for it take, never a second shape for callers without progress."""
    from broadcaster.station.items import Items

    calls: list[object] = []

    class OneShapeSynthesizer:
        def speak(self, text, *, engine, voice, progress):  # all keywords required: the one shape
            calls.append((text, engine, voice, progress))
            return "speech"

    items = Items(settings=settings, engine=None, synthesizer=OneShapeSynthesizer())
    seen: list[float] = []
    assert items.speak("Xin chào bà con.") == "speech"
    assert items.speak("Xin chào bà con.", voice="espeak:vi", progress=seen.append) == "speech"
    assert calls == [("Xin chào bà con.", None, None, None), ("Xin chào bà con.", None, "espeak:vi", seen.append)]


def test_the_station_and_the_render_command_share_one_renderer(station):
    """issue 13 (start-up): `broadcaster render --text` builds station.renderer.Renderer from the
    settings alone; the station's items part is that renderer plus the bulletin records, never a
    second text → item path that could drift (no render method of its own)."""
    from broadcaster.station.items import Items
    from broadcaster.station.renderer import Renderer

    assert isinstance(station.items, Renderer)
    rendering = {name for name, value in vars(Renderer).items() if callable(value) and not name.startswith("__")}
    assert rendering >= {"render_text", "render_recording", "speak", "normalize", "item_key", "filler_path"}
    assert rendering.isdisjoint(vars(Items))  # Items overrides none of them
