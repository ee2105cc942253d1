"""Issue 13 speed: `render_text(..., out=…)` (what `broadcaster render -o` runs) writes the
officer's copy alongside the item as it is rendered, rather than copying the finished item and
waiting for a second flush; a cached item is copied as before. The out path is checked before
any speech is made."""

from __future__ import annotations

import pytest

from broadcaster.exceptions import AudioError, InputError
from broadcaster.station import renderer as renderer_module

TEXT = "Ủy ban nhân dân xã thông báo lịch tiêm phòng cho trẻ em vào sáng thứ bảy tại trạm y tế."


def _no_copy_after(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the finished item was copied: the render should have written it alongside")

    monkeypatch.setattr(renderer_module.shutil, "copyfile", refuse)


def test_a_fresh_render_writes_the_copy_alongside_byte_for_byte(station, tmp_path, monkeypatch):
    _no_copy_after(monkeypatch)
    out = tmp_path / "ra" / "ban-tin.wav"
    outcome = station.render_text(TEXT, out=out)
    items = list((station.settings.cache_dir / "items").glob("*.wav"))
    assert outcome.path == out and len(items) == 1
    assert out.read_bytes() == items[0].read_bytes()
    assert list(out.parent.glob("*.part")) == [] and list(items[0].parent.glob("*.part")) == []


def test_a_cached_item_is_copied_from_the_cache(station, tmp_path, monkeypatch):
    station.render_text(TEXT)
    copies = []
    real = renderer_module.shutil.copyfile
    monkeypatch.setattr(renderer_module.shutil, "copyfile", lambda a, b: copies.append(a) or real(a, b))
    out = tmp_path / "lai.wav"
    outcome = station.render_text(TEXT, out=out)
    assert copies and out.read_bytes() == outcome_item(station).read_bytes()
    assert outcome.path == out


def outcome_item(station):
    (item,) = (station.settings.cache_dir / "items").glob("*.wav")
    return item


def test_an_out_path_that_is_a_folder_is_refused_before_any_speech(station, tmp_path):
    folder = tmp_path / "thu-muc"
    folder.mkdir()
    with pytest.raises(InputError):
        station.render_text(TEXT, out=folder)
    assert list((station.settings.cache_dir / "speech").glob("*")) == []  # nothing was spoken


def test_an_out_path_under_a_file_is_refused_before_any_speech(station, tmp_path):
    blocker = tmp_path / "la-tep"
    blocker.write_text("x")
    with pytest.raises(AudioError) as caught:
        station.render_text(TEXT, out=blocker / "ban-tin.wav")
    assert str(blocker / "ban-tin.wav") in str(caught.value)
    assert not (station.settings.cache_dir / "speech").exists() or \
        list((station.settings.cache_dir / "speech").glob("*")) == []
