"""The Synthesizer: normalization once, the render cache, the fallback chain, splitting and joining.

Cache and chain logic is tested with FakeEngine (it passes the same contract as the real
engines); the fallback from gTTS to espeak-ng is also tested with both real engines, Google
intercepted or made unreachable.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import numpy as np
import pytest
import requests
from hypothesis import HealthCheck, given, settings as hyp_settings, strategies as st

from broadcaster.exceptions import InputError, SpeechError
from broadcaster.media import read_wav
from broadcaster.speech.espeak_engine import EspeakEngine
from broadcaster.speech.synth import Synthesizer, fade_edges, join_pieces, split_text
from engine_fakes import MP3_SECONDS, SAMPLE_SENTENCE, FakeEngine, gtts_url_re, speech_words

BULLETIN = (
    "Thông báo lịch tiêm phòng. Ủy ban nhân dân xã Dân Tiến đề nghị bà con đưa trẻ đến trạm y tế!\n"
    "Thời gian: sáng thứ hai; địa điểm: nhà văn hóa thôn Đông."
)


def _identity(text: str) -> str:
    return text


@pytest.fixture
def fakes():
    return {"gtts": FakeEngine("gtts"), "espeak": FakeEngine("espeak", sample_rate=22050)}


@pytest.fixture
def synth(speech_settings, fakes, tmp_path):
    return Synthesizer(settings=speech_settings, engines=fakes, normalizer=_identity, cache_dir=tmp_path / "cache")


# ----------------------------------------------------------------------------- cache
def test_result_is_a_wav_at_the_engine_rate_with_a_sidecar(synth, speech_settings, fakes):
    """Issue 13: the speech is kept at the rate the engine spoke it (the item render resamples
    once, at its end), and the sidecar says which."""
    result = synth.speak(BULLETIN)
    assert (result.engine, result.cached, result.failures, result.spoken_text) == ("gtts", False, (), BULLETIN)
    samples, rate = read_wav(result.path)
    assert rate == fakes["gtts"].sample_rate != speech_settings.sample_rate
    assert len(samples) / rate > 1.0
    sidecar = json.loads(result.path.with_suffix(".json").read_text(encoding="utf-8"))
    assert (sidecar["sample_rate"], sidecar["frames"]) == (rate, len(samples))
    assert sidecar["engine"] == "gtts"
    assert sidecar["identity"] == {"engine": "gtts", "rate": 100}
    assert sidecar["spoken_text"] == BULLETIN
    assert datetime.fromisoformat(sidecar["created"]).tzinfo is not None
    assert result.path.stem == sidecar["key"] == synth.cache_key(BULLETIN, synth.engines["gtts"])


def test_second_speak_comes_from_the_cache(synth, fakes):
    first = synth.speak(BULLETIN)
    calls = len(fakes["gtts"].calls)
    second = synth.speak(BULLETIN)
    assert second.cached and not first.cached
    assert second.path == first.path and second.engine == "gtts"
    assert len(fakes["gtts"].calls) == calls
    assert fakes["espeak"].calls == []


def test_cache_survives_a_new_synthesizer(speech_settings, fakes, tmp_path):
    Synthesizer(settings=speech_settings, engines=fakes, normalizer=_identity, cache_dir=tmp_path).speak(BULLETIN)
    fresh = {"gtts": FakeEngine("gtts"), "espeak": FakeEngine("espeak")}
    again = Synthesizer(settings=speech_settings, engines=fresh, normalizer=_identity, cache_dir=tmp_path)
    assert again.speak(BULLETIN).cached
    assert fresh["gtts"].calls == []


def test_sound_settings_give_new_keys(speech_settings, tmp_path):
    synth = Synthesizer(settings=speech_settings, engines={}, normalizer=_identity, cache_dir=tmp_path)
    base = synth.cache_key("xin chào", EspeakEngine(rate=140))
    assert synth.cache_key("xin chào", EspeakEngine(rate=140)) == base
    assert synth.cache_key("xin chào", EspeakEngine(rate=160)) != base
    assert synth.cache_key("xin chào", EspeakEngine(voice="vi-VN-x-south")) != base
    assert synth.cache_key("xin chào.", EspeakEngine(rate=140)) != base
    for change in ({"sentence_gap_ms": 400}, {"fade_ms": 5}, {"speech_chunk_chars": 100}):
        other = Synthesizer(
            settings=speech_settings.model_copy(update=change), engines={}, normalizer=_identity, cache_dir=tmp_path
        )
        assert other.cache_key("xin chào", EspeakEngine(rate=140)) != base, change
    # the speech is kept at the engine's rate: the station's output rate does not change it
    other = Synthesizer(settings=speech_settings.model_copy(update={"sample_rate": 44100}), engines={},
                        normalizer=_identity, cache_dir=tmp_path)
    assert other.cache_key("xin chào", EspeakEngine(rate=140)) == base


def test_changed_rate_renders_again(speech_settings, tmp_path):
    slow, fast = FakeEngine("espeak", rate=100), FakeEngine("espeak", rate=150)
    first = Synthesizer(settings=speech_settings, engines={"espeak": slow}, normalizer=_identity, cache_dir=tmp_path)
    second = Synthesizer(settings=speech_settings, engines={"espeak": fast}, normalizer=_identity, cache_dir=tmp_path)
    a, b = first.speak(BULLETIN, engine="espeak"), second.speak(BULLETIN, engine="espeak")
    assert a.path != b.path and not b.cached and fast.calls


def test_a_truncated_cache_file_is_rendered_again(synth, fakes):
    result = synth.speak(BULLETIN)
    result.path.write_bytes(result.path.read_bytes()[:100])
    again = synth.speak(BULLETIN)
    assert not again.cached and again.path == result.path
    assert read_wav(again.path)[0].size > 0


def test_a_crash_while_writing_leaves_no_cache_file(synth, fakes, monkeypatch):
    real_fsync = os.fsync

    def power_cut(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", power_cut)  # disk.part_file fsyncs every write
    with pytest.raises(SpeechError, match="ghi"):
        synth.speak(BULLETIN)
    assert list(synth.cache_dir.glob("*.wav")) == []
    assert [p for p in synth.cache_dir.iterdir() if p.name.endswith(".part")] == []
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert not synth.speak(BULLETIN).cached


def test_concurrent_speaks_of_one_text_synthesize_once(synth, fakes):
    fakes["gtts"].delay = 0.05
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda _: synth.speak("Xin chào bà con."), range(6)))
    assert len(fakes["gtts"].calls) == 1
    assert sum(not r.cached for r in results) == 1
    assert len({r.path for r in results}) == 1


# ------------------------------------------------------------------------- normalizer
def test_text_is_normalized_exactly_once_and_engines_read_the_result(speech_settings, fakes, tmp_path):
    seen: list[str] = []

    def normalizer(text: str) -> str:
        seen.append(text)
        return text.replace("UBND", "Ủy ban nhân dân")

    synth = Synthesizer(settings=speech_settings, engines=fakes, normalizer=normalizer, cache_dir=tmp_path)
    result = synth.speak("UBND xã thông báo.")
    assert seen == ["UBND xã thông báo."]
    assert result.spoken_text == "Ủy ban nhân dân xã thông báo."
    assert fakes["gtts"].calls == ["Ủy ban nhân dân xã thông báo."]
    # The key is the spoken text: another spelling of the same words is the same render.
    assert synth.speak("Ủy ban nhân dân xã thông báo.").cached


def test_default_normalizer_is_the_project_one(speech_settings, fakes, tmp_path):
    from broadcaster.speech.normalize import normalize

    synth = Synthesizer(settings=speech_settings, engines=fakes, cache_dir=tmp_path)
    result = synth.speak(SAMPLE_SENTENCE)
    assert result.spoken_text == normalize(SAMPLE_SENTENCE)


@pytest.mark.parametrize("text", ["", "   ", "\n\n", "... !", "—"])
def test_nothing_to_say_is_an_input_error(synth, fakes, text):
    with pytest.raises(InputError):
        synth.speak(text)
    assert fakes["gtts"].calls == [] and fakes["espeak"].calls == []


def test_normalizer_returning_nothing_is_an_input_error(speech_settings, fakes, tmp_path):
    synth = Synthesizer(settings=speech_settings, engines=fakes, normalizer=lambda _: "", cache_dir=tmp_path)
    with pytest.raises(InputError):
        synth.speak("TW")


# ------------------------------------------------------------------------------ chain
def test_failure_falls_back_and_is_recorded(synth, fakes):
    fakes["gtts"].fail = "mất mạng"
    result = synth.speak(BULLETIN)
    assert result.engine == "espeak" and not result.cached
    assert result.failures == ("gtts: mất mạng",)
    assert json.loads(result.path.with_suffix(".json").read_text(encoding="utf-8"))["engine"] == "espeak"


def test_cached_fallback_render_is_reused_but_the_first_engine_is_tried_again(synth, fakes):
    fakes["gtts"].fail = "mất mạng"
    first = synth.speak(BULLETIN)
    espeak_calls, gtts_calls = len(fakes["espeak"].calls), len(fakes["gtts"].calls)
    again = synth.speak(BULLETIN)
    assert (again.engine, again.cached, again.path) == ("espeak", True, first.path)
    assert again.failures == ("gtts: mất mạng",)
    assert len(fakes["gtts"].calls) == gtts_calls + 1  # tried once more, the better voice is worth it
    assert len(fakes["espeak"].calls) == espeak_calls  # never synthesized twice
    fakes["gtts"].fail = None  # the network is back: the better voice is rendered and used
    better = synth.speak(BULLETIN)
    assert (better.engine, better.cached, better.failures) == ("gtts", False, ())


def test_forced_engine_does_not_fall_back(synth, fakes):
    assert synth.speak(BULLETIN, engine="espeak").engine == "espeak"
    assert fakes["gtts"].calls == []
    fakes["gtts"].fail = "mất mạng"
    with pytest.raises(SpeechError, match="gtts: mất mạng"):
        synth.speak("Một bản tin khác.", engine="gtts")
    assert fakes["espeak"].calls.count("Một bản tin khác.") == 0


def test_unknown_forced_engine_is_an_input_error(synth):
    with pytest.raises(InputError, match="piper"):
        synth.speak(BULLETIN, engine="piper")


def test_order_argument_overrides_settings(synth, fakes):
    assert synth.speak(BULLETIN, order=["espeak", "gtts"]).engine == "espeak"
    assert fakes["gtts"].calls == []


def test_all_engines_failing_lists_every_reason(synth, fakes):
    fakes["gtts"].fail = "Failed to connect (ConnectionError)"
    fakes["espeak"].fail = "không nạp được giọng 'vi'"
    with pytest.raises(SpeechError) as err:
        synth.speak(BULLETIN)
    message = str(err.value)
    assert message.startswith("Không tạo được giọng đọc")
    assert "gtts: Failed to connect (ConnectionError)" in message
    assert "espeak: không nạp được giọng 'vi'" in message
    assert err.value.fields["failures"] == (
        "gtts: Failed to connect (ConnectionError)",
        "espeak: không nạp được giọng 'vi'",
    )
    assert not synth.cache_dir.exists() or list(synth.cache_dir.glob("*.wav")) == []


def test_an_engine_bug_is_a_failure_not_a_crash(synth, fakes, monkeypatch):
    monkeypatch.setattr(fakes["gtts"], "synthesize", lambda text: 1 / 0)
    result = synth.speak(BULLETIN)
    assert result.engine == "espeak"
    assert result.failures == ("gtts: ZeroDivisionError: division by zero",)


def test_an_engine_missing_from_the_order_is_skipped_with_a_reason(speech_settings, tmp_path):
    espeak = FakeEngine("espeak")
    synth = Synthesizer(settings=speech_settings, engines={"espeak": espeak}, normalizer=_identity, cache_dir=tmp_path)
    result = synth.speak(BULLETIN)
    assert result.engine == "espeak" and result.failures[0].startswith("gtts:")


# ------------------------------------------------------------- real engines, real chain
@pytest.mark.parametrize(
    "error",
    [
        requests.exceptions.ConnectionError("[Errno 111] Connection refused"),
        requests.exceptions.ReadTimeout("Read timed out. (read timeout=10.0)"),
        requests.exceptions.ConnectTimeout("Connection to translate.google.com.vn timed out. (connect timeout=10.0)"),
    ],
    ids=["refused", "read-timeout", "connect-timeout"],
)
def test_real_chain_falls_back_to_espeak_when_google_fails(speech_settings, http, error):
    http.add(http.POST, gtts_url_re(), body=error)
    synth = Synthesizer(settings=speech_settings)
    result = synth.speak(SAMPLE_SENTENCE)
    assert result.engine == "espeak"
    assert len(result.failures) == 1 and result.failures[0].startswith("gtts: ")
    assert type(error).__name__ in result.failures[0]
    assert len(http.calls) == 1
    samples, rate = read_wav(result.path)
    assert 2.0 <= len(samples) / rate <= 8.0


def test_real_chain_uses_google_when_it_answers(speech_settings, google):
    synth = Synthesizer(settings=speech_settings)
    result = synth.speak(SAMPLE_SENTENCE)
    assert (result.engine, result.failures) == ("gtts", ())
    assert google.texts == [result.spoken_text]  # Google got the normalized text
    assert google.timeouts == [speech_settings.gtts_timeout]
    samples, rate = read_wav(result.path)
    assert rate == 24000  # Google's MP3 rate, kept (the item render resamples once)
    assert len(samples) / rate == pytest.approx(MP3_SECONDS, abs=0.1)  # minus trimmed edges, plus fades


@pytest.fixture
def half_open_proxy(monkeypatch):
    """A local HTTPS proxy that accepts connections and never answers: the half-open case."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    for name in ("NO_PROXY", "no_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{server.getsockname()[1]}")
    monkeypatch.setenv("https_proxy", f"http://127.0.0.1:{server.getsockname()[1]}")
    yield held
    server.close()
    for conn in held:
        conn.close()


def test_real_timeout_on_a_half_open_connection_falls_back(data_dir, half_open_proxy):
    # No interception here: gTTS really connects and really waits; only the timeout ends it.
    from broadcaster.config import load_settings

    settings = load_settings(data_dir, engine_order=["gtts", "espeak"], gtts_timeout=0.5)
    started = time.perf_counter()
    result = Synthesizer(settings=settings).speak(SAMPLE_SENTENCE)
    elapsed = time.perf_counter() - started
    assert half_open_proxy, "gTTS never connected"
    assert result.engine == "espeak"
    assert "ReadTimeout" in result.failures[0]
    assert elapsed < 5.0


# -------------------------------------------------------------------- splitting/joining
def test_sentences_are_split_at_their_ends():
    pieces = split_text("Một. Hai! Ba? Bốn; năm\nSáu… bảy", 450)
    assert pieces == ["Một.", "Hai!", "Ba?", "Bốn;", "năm", "Sáu…", "bảy"]


def test_numbers_and_abbreviations_with_dots_inside_are_not_split():
    assert split_text("Diện tích 2.5 ha, giá 1.500.000 đồng.", 450) == ["Diện tích 2.5 ha, giá 1.500.000 đồng."]


def test_a_long_sentence_is_split_at_commas_then_between_words():
    clause = "bà con nhân dân trong thôn"
    sentence = ", ".join([clause] * 6) + "."
    pieces = split_text(sentence, 60)
    assert all(len(p) <= 60 for p in pieces)
    assert all(p.endswith((",", ".")) for p in pieces)  # cut at commas, not mid-clause
    assert speech_words(" ".join(pieces)) == speech_words(sentence)
    no_commas = " ".join(["đường"] * 40) + "."
    assert all(len(p) <= 30 for p in split_text(no_commas, 30))


def test_a_word_longer_than_the_limit_is_kept_whole():
    url = "https://example.vn/" + "a" * 80
    assert split_text(f"Xem {url} nhé.", 40) == ["Xem", url, "nhé."]


def test_punctuation_only_pieces_are_dropped():
    assert split_text("Một.\n...\n— \nHai.", 450) == ["Một.", "Hai."]


_WORD = st.text(alphabet="aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạếềểễệ", min_size=1, max_size=12)
_PUNCT = st.sampled_from(["", "", "", ",", ".", "!", "?", ";", ":", "…", "\"", ".\""])
_SEP = st.sampled_from([" ", " ", " ", "  ", "\n", " \n "])


@hyp_settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    words=st.lists(st.tuples(_WORD, _PUNCT, _SEP), min_size=1, max_size=120),
    max_chars=st.integers(min_value=14, max_value=300),
)
def test_split_never_exceeds_the_limit_and_keeps_every_word(words, max_chars):
    text = "".join(word + punct + sep for word, punct, sep in words)
    pieces = split_text(text, max_chars)
    assert all(0 < len(piece) <= max_chars for piece in pieces)
    assert all("\n" not in piece for piece in pieces)
    assert " ".join(pieces).split() == text.split()  # every word, in order, none cut
    for piece in pieces:  # a sentence end only ever ends a piece
        inner = piece.split()[:-1]
        assert not any(w.rstrip("\"").endswith((".", "!", "?", ";", "…")) for w in inner)


def test_joints_have_no_click(speech_settings, tmp_path):
    engine = FakeEngine("espeak", sample_rate=48000)
    synth = Synthesizer(settings=speech_settings, engines={"espeak": engine}, normalizer=_identity, cache_dir=tmp_path)
    result = synth.speak("Một hai ba. Bốn năm sáu. Bảy tám chín.", engine="espeak")
    samples, rate = read_wav(result.path)
    assert len(engine.calls) == 3
    steady = 0.8 * 2 * np.pi * 300 / rate  # the tone's own largest step
    assert np.abs(np.diff(samples)).max() <= steady * 1.1
    assert abs(samples[0]) < 1e-3 and abs(samples[-1]) < 1e-3
    # Two gaps of sentence_gap_ms of digital silence between the three pieces.
    gap = int(rate * speech_settings.sentence_gap_ms / 1000)
    silent = np.abs(samples) < 1e-4
    runs = np.diff(np.flatnonzero(np.diff(np.concatenate([[0], silent.astype(int), [0]]))))[::2]
    assert sum(run >= gap for run in runs) == 2
    # Without the fades the same pieces would click: the guard above is not vacuous.
    raw = np.concatenate([engine.synthesize("a").samples[800:-800]] * 2)
    assert np.abs(np.diff(raw)).max() > 10 * steady


def test_join_trims_silence_and_spaces_pieces_by_the_gap():
    rate = 1000
    piece = np.concatenate([np.zeros(300), np.full(100, 0.5), np.zeros(300)]).astype(np.float32)
    joined = join_pieces([piece, piece], rate, gap_ms=200, fade_ms=10)
    # each piece: its 100 loud samples (the fades lie inside them), plus one 200 ms gap
    assert len(joined) == 2 * 100 + 200
    assert np.allclose(joined[10:90], 0.5) and np.all(joined[100:300] == 0.0)
    assert joined[0] == 0.0 and joined[-1] == 0.0


def test_join_refuses_a_silent_piece():
    with pytest.raises(SpeechError):
        join_pieces([np.zeros(1000, np.float32)], 1000, gap_ms=100, fade_ms=10)


def test_fade_is_smooth_and_ends_at_zero():
    faded = fade_edges(np.ones(1000, np.float32), 1000, fade_ms=50)
    assert faded[0] == 0.0 and faded[-1] == 0.0
    assert np.all(np.diff(faded[:50]) >= 0) and np.abs(np.diff(faded)).max() < 0.05


def test_real_espeak_bulletin_is_joined_cleanly(speech_settings, tmp_path):
    synth = Synthesizer(settings=speech_settings, engines={"espeak": EspeakEngine()}, cache_dir=tmp_path)
    started = time.perf_counter()
    result = synth.speak(BULLETIN, engine="espeak")
    elapsed = time.perf_counter() - started
    samples, rate = read_wav(result.path)
    pieces = synth.split(result.spoken_text)
    assert len(pieces) >= 4
    assert 5.0 <= len(samples) / rate <= 30.0
    assert abs(samples[0]) < 1e-3 and abs(samples[-1]) < 1e-3
    gap = int(rate * speech_settings.sentence_gap_ms / 1000)
    silent = np.abs(samples) < 1e-4
    edges = np.flatnonzero(np.diff(np.concatenate([[0], silent.astype(int), [0]])))
    starts, ends = edges[::2], edges[1::2]
    joints = [(s, e) for s, e in zip(starts, ends) if e - s >= gap]
    assert len(joints) >= len(pieces) - 1
    for start, end in joints:  # around every joint the waveform moves gently in and out of silence
        window = np.concatenate([samples[max(0, start - 48): start], samples[end: end + 48]])
        assert np.abs(np.diff(window)).max() < 0.1
    assert elapsed < 10.0
