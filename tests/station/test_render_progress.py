"""Issue 13 items 4-5 at the station: render_text reports progress 0..1 across speech and item, and
the item render takes the speech's loudness from the speech sidecar instead of measuring it again."""

from __future__ import annotations

import broadcaster.audio.render as render_module

TEXT = "Ủy ban nhân dân xã thông báo lịch tiêm phòng. Bà con đưa trẻ đến trạm y tế đúng giờ."


def test_render_text_reports_progress_to_one(station):
    seen: list[float] = []
    outcome = station.render_text(TEXT, progress=seen.append)
    assert outcome.path.is_file()
    assert len(seen) >= 3 and seen == sorted(seen) and seen[-1] == 1.0 and seen[0] >= 0.0
    again: list[float] = []
    station.render_text(TEXT, progress=again.append)  # cached: done at once
    assert again == sorted(again) and again[-1] == 1.0 and len(again) <= 2


def test_item_render_uses_the_speech_loudness_from_its_sidecar(station, monkeypatch):
    measured: list[object] = []
    real = render_module._measure_piece

    def counting(*args, **kwargs):
        measured.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(render_module, "_measure_piece", counting)
    outcome = station.render_text(TEXT)
    assert outcome.integrated_lufs == -16.0 or abs(outcome.integrated_lufs + 16.0) <= 0.5
    assert measured == []
