"""Every `.part` + rename write goes through disk.part_file, which flushes the data to the disk
before the rename (and the rename after it): after a power cut a file is its old or new self,
never a renamed-but-empty file (issue #10 item 5)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from broadcaster import disk


@pytest.fixture
def events(monkeypatch):
    """The order of fsync and replace calls made through the os module."""
    seen: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            target = "?"
        seen.append(("fsync", os.path.basename(target)))
        return real_fsync(fd)

    def replace(src, dst):
        seen.append(("replace", os.path.basename(str(dst))))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    return seen


def _file_synced_before_rename(events, name: str) -> bool:
    renamed = events.index(("replace", name))
    return any(kind == "fsync" and target.startswith(name) and target.endswith(".part")
               for kind, target in events[:renamed])


def test_write_atomic_fsyncs_the_data_before_the_rename(tmp_path, events):
    disk.write_atomic(tmp_path / "a.json", "{}")
    assert (tmp_path / "a.json").read_text() == "{}"
    assert _file_synced_before_rename(events, "a.json"), events


def test_write_wav_fsyncs_the_data_before_the_rename(tmp_path, events):
    from broadcaster.media import write_wav

    write_wav(tmp_path / "b.wav", np.zeros(100, dtype=np.float32), sample_rate=8000)
    assert _file_synced_before_rename(events, "b.wav"), events


def test_speech_cache_and_lexicon_use_the_one_helper(tmp_path, events):
    # the synthesizer's and the lexicon's own copies of the idiom are gone: they write through disk
    from broadcaster.speech import lexicon, synth

    assert not hasattr(synth, "_atomic_write")
    path = tmp_path / "lexicon.tsv"
    lex = lexicon.Lexicon.load(path)
    lex.add("UBND", "ủy ban nhân dân")
    lex.save()
    assert _file_synced_before_rename(events, "lexicon.tsv"), events
