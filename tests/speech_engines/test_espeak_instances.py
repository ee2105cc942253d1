"""Issue 13: libespeak-ng on two cores, for real.

The C library keeps its state in process globals, so a second synthesis at once needs a second
instance of the library: a private copy of the wheel's .so under another file name, loaded on its
own. These tests use fresh instances (copies in the test's own folder) so that what each one says
depends only on what it said before: espeak-ng's output carries state from one call to the next
(its pitch flutter and wave phase run on), so "the same samples" means the same calls in the
same order on a fresh instance.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np
import pytest

from broadcaster.speech import espeak_engine
from broadcaster.speech.espeak_engine import EspeakEngine, _EspeakLibrary, _EspeakPool, _SYNTH_CALLBACK
from support.waiting import wait_for

TEXTS_A = [
    "Ủy ban nhân dân xã thông báo lịch tiêm phòng cho trẻ em trong thôn, sáng thứ hai tuần tới.",
    "Đề nghị bà con đưa trẻ đến đúng giờ, mang theo sổ tiêm chủng.",
]
TEXTS_B = [
    "Hội nông dân xã tổ chức tập huấn kỹ thuật chăm sóc lúa vụ đông xuân tại nhà văn hóa.",
    "Mời các hộ gia đình cử người tham dự đầy đủ.",
]


def _paths() -> tuple[str, str]:
    return espeak_engine._default_paths()


def _speak(instance: _EspeakLibrary, text: str, *, voice: str = "vi", rate: int = 140) -> np.ndarray:
    library_path, data_path = _paths()
    speech = instance.synthesize(text=text, voice=voice, rate=rate, pitch=50,
                                 library_path=library_path, data_path=data_path)
    return speech.samples


def _fresh(tmp_path, index: int, **kwargs) -> _EspeakLibrary:
    """A library instance of its own: the wheel's .so copied into the test's folder as copy ``index``."""
    return _EspeakLibrary(index, copy_dir=tmp_path / "copies", **kwargs)


def _watch(instance: _EspeakLibrary, on_audio) -> object:
    """Route the instance's synthesis callback through ``on_audio(numsamples)`` first (test side).

    The instance must have spoken once (its library is loaded and initialized). Returns the
    ctypes callback, which must be kept alive while the library may call it.
    """
    lib = instance._handles[_paths()[0]]

    def callback(wav, numsamples, events):
        on_audio(numsamples)
        return instance._on_audio(wav, numsamples, events)

    keep = _SYNTH_CALLBACK(callback)
    lib.espeak_SetSynthCallback(keep)
    return keep


def test_two_instances_speaking_at_once_give_the_samples_of_sequential_calls(tmp_path):
    # Sequential reference: two fresh instances, one after the other.
    reference_a, reference_b = _fresh(tmp_path, 1), _fresh(tmp_path, 2)
    expected_a = [_speak(reference_a, text) for text in TEXTS_A]
    expected_b = [_speak(reference_b, text) for text in TEXTS_B]

    # Two other fresh instances, each in its own thread, held inside their synthesis together:
    # both threads wait at a barrier in their first audio callback of the second text, so both
    # are in the middle of espeak_Synth at the same time (a shared global state would mix them).
    first, second = _fresh(tmp_path, 3), _fresh(tmp_path, 4)
    got: dict[str, list[np.ndarray]] = {"a": [_speak(first, TEXTS_A[0])], "b": [_speak(second, TEXTS_B[0])]}
    barrier = threading.Barrier(2, timeout=60)
    met: list[bool] = []

    def meet_once(calls: list[int]):
        def on_audio(numsamples):
            calls.append(numsamples)
            if len(calls) == 1:
                barrier.wait()
                met.append(True)
        return on_audio

    keep = [_watch(first, meet_once([])), _watch(second, meet_once([]))]
    errors: list[BaseException] = []

    def run(instance, texts, key):
        try:
            got[key].extend(_speak(instance, text) for text in texts[1:])
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(first, TEXTS_A, "a")),
               threading.Thread(target=run, args=(second, TEXTS_B, "b"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    del keep
    assert not errors, errors
    assert met == [True, True]  # both were inside espeak_Synth together
    for got_samples, expected in [(got["a"], expected_a), (got["b"], expected_b)]:
        assert len(got_samples) == len(expected)
        for samples, reference in zip(got_samples, expected):
            assert np.array_equal(samples, reference)


def test_one_callback_per_second_of_audio_and_the_same_samples_as_sixty_ms_chunks(tmp_path):
    chunked = _fresh(tmp_path, 1, buffer_ms=0)  # espeak-ng's default: 60 ms per callback
    default = _fresh(tmp_path, 2)
    expected = [_speak(chunked, text) for text in TEXTS_A]
    calls: list[int] = []
    first = _speak(default, TEXTS_A[0])
    keep = _watch(default, calls.append)
    second = _speak(default, TEXTS_A[1])
    del keep
    assert np.array_equal(first, expected[0]) and np.array_equal(second, expected[1])
    seconds = len(second) / 22050
    assert seconds > 2.0
    # about one callback per second of audio (60 ms chunks were 16 per second)
    assert 1 <= len(calls) <= seconds + 2, (len(calls), seconds)


def test_a_synthesis_goes_to_the_second_instance_while_the_first_is_held(tmp_path, monkeypatch):
    pool = _EspeakPool(2, copy_dir=tmp_path / "copies")
    monkeypatch.setattr(espeak_engine, "_POOL", pool)
    engine = EspeakEngine()
    assert engine.concurrency == 2
    spoke_on_first: list[str] = []
    first_speak = pool.instances[0].speak  # the process's own first instance, maybe set up by earlier tests
    monkeypatch.setattr(pool.instances[0], "speak", lambda *a, **k: spoke_on_first.append(k["text"]) or first_speak(*a, **k))
    results: list[object] = []
    with pool.instances[0].lock:  # the first instance is busy for as long as the test says
        thread = threading.Thread(target=lambda: results.append(engine.synthesize(TEXTS_A[1])), daemon=True)
        thread.start()
        thread.join(timeout=60)
        assert not thread.is_alive(), "the synthesis waited for the first instance"
    assert len(results) == 1 and results[0].duration_s > 1.0
    assert pool.instances[1].sample_rate == 22050  # the second instance spoke
    assert spoke_on_first == []  # the first one did not


def test_no_copy_of_the_library_means_one_instance_and_speech_all_the_same(tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the copies' folder should be")  # unwritable even for root
    pool = _EspeakPool(2, copy_dir=blocker / "copies")
    monkeypatch.setattr(espeak_engine, "_POOL", pool)
    engine = EspeakEngine()
    results: list[object] = []
    errors: list[BaseException] = []

    def speak():
        try:
            results.append(engine.synthesize(TEXTS_A[1]))
        except BaseException as exc:  # reported below
            errors.append(exc)

    caplog.set_level(logging.WARNING, logger=espeak_engine.__name__)
    with pool.instances[0].lock:  # the synthesis must try the second instance first
        thread = threading.Thread(target=speak, daemon=True)
        thread.start()
        wait_for(lambda: pool.instances[1].trouble is not None or not thread.is_alive(), 60,
                 "the second instance's copy to fail")
    thread.join(timeout=60)
    assert not thread.is_alive() and not errors, errors
    assert len(results) == 1 and results[0].duration_s > 1.0  # spoken on the first instance
    assert engine.concurrency == 1
    assert engine.synthesize(TEXTS_A[0]).duration_s > 1.0
    warnings = [r for r in caplog.records if r.name == espeak_engine.__name__ and r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "one instance" in warnings[0].getMessage()
    assert not list(tmp_path.rglob("*.part"))


def test_a_copy_is_made_once_and_reused(tmp_path):
    folder = tmp_path / "copies"
    library_path, _ = _paths()
    first = espeak_engine._private_copy(library_path, 1, folder)
    stamp = first.stat().st_mtime_ns
    again = espeak_engine._private_copy(library_path, 1, folder)
    assert again == first and again.stat().st_mtime_ns == stamp
    assert first.read_bytes() == open(library_path, "rb").read()
    # A damaged copy (a crash of an older version, a disk error) is not used: it is made again.
    first.write_bytes(b"broken")
    repaired = espeak_engine._private_copy(library_path, 1, folder)
    assert repaired.read_bytes() == open(library_path, "rb").read()
    assert sorted(p.name for p in folder.iterdir()) == [first.name]


def test_copies_of_other_wheels_are_removed_once_a_month_old(tmp_path):
    """A new espeakng-loader wheel gets copies of its own (another hash in the name); the old
    wheel's stay for another installation still using them, and go once unused for 30 days."""
    import os
    import time

    folder = tmp_path / "copies"
    library_path, _ = _paths()
    current = espeak_engine._private_copy(library_path, 1, folder)
    stem, suffix = Path(library_path).stem, Path(library_path).suffix
    old = folder / f"{stem}-0123456789abcdef-1{suffix}"
    recent = folder / f"{stem}-fedcba9876543210-1{suffix}"
    other = folder / "notes.txt"  # not a copy: never touched
    for path in (old, recent, other):
        path.write_bytes(b"x")
    month = 31 * 24 * 3600
    os.utime(old, (time.time() - month, time.time() - month))
    os.utime(other, (time.time() - month, time.time() - month))
    again = espeak_engine._private_copy(library_path, 1, folder)
    assert again == current
    assert sorted(p.name for p in folder.iterdir()) == sorted([current.name, recent.name, other.name])


def test_no_home_folder_on_a_system_without_user_ids(monkeypatch):
    """Windows has no os.getuid: a PC without a home folder must still get a folder for the copies."""
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)

    def no_home():
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(espeak_engine.Path, "home", staticmethod(no_home))
    monkeypatch.delattr(espeak_engine.os, "getuid", raising=False)
    folder = espeak_engine._copy_folder()
    assert folder.parts[-2:] == ("broadcaster", "espeak-ng")
    assert str(folder).startswith(espeak_engine.tempfile.gettempdir())


@pytest.mark.parametrize(("cpus", "size"), [(1, 1), (2, 2), (8, 2), (None, 1)])
def test_two_instances_on_two_cores_one_on_one(monkeypatch, cpus, size):
    monkeypatch.setattr(espeak_engine.os, "cpu_count", lambda: cpus)
    assert espeak_engine._pool_size() == size


def test_a_folder_others_may_write_to_is_not_used(tmp_path):
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o777)  # anyone could put a library of their own there
    with pytest.raises(OSError, match="own folder"):
        espeak_engine._private_copy(_paths()[0], 1, folder)
    assert not list(folder.iterdir())


def test_a_second_pool_shares_the_first_instance_and_leaves_no_dangling_callback(tmp_path):
    """Found by the fresh-clone CI run: a pool made beside the process's own loaded the wheel's
    library again as *its* first instance, which dlopen makes the same library (the same globals).
    Its synthesis set the library's callback to its own; once that pool was gone the callback
    pointed at freed memory, and the next synthesis through the engine crashed the process
    (SIGSEGV). Run in a child process so a crash fails this test instead of ending the session."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(f"""
        import gc
        from pathlib import Path
        from broadcaster.speech import espeak_engine as E
        engine = E.EspeakEngine()
        engine.synthesize("Xin chào bà con.")  # the process's pool, first instance set up
        pool = E._EspeakPool(2, copy_dir=Path({str(tmp_path / 'copies')!r}))
        lib, data = E._default_paths()
        pool.synthesize(text="Một hai ba.", voice="vi", rate=140, pitch=50, library_path=lib, data_path=data)
        assert pool.instances[0] is E._POOL.instances[0], "two objects own one loaded library"
        del pool
        gc.collect()
        for _ in range(3):
            speech = engine.synthesize("Thông báo của ủy ban nhân dân xã.")
            assert speech.samples.size > speech.sample_rate // 2
        print("ok")
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and run.stdout.strip().endswith("ok"), (run.returncode, run.stderr[-2000:])
