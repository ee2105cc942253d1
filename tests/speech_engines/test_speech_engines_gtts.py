"""gTTS through its own code; only the HTTP exchange with Google is intercepted (``responses``).

The reply is Google's batchexecute framing with a real MP3 made by ffmpeg, so gTTS parses it
exactly as it would parse the real service, and our adapter decodes real MP3 bytes.
"""

from __future__ import annotations

import numpy as np
import pytest
import requests

from broadcaster import media
from broadcaster.exceptions import SpeechError
from broadcaster.speech.gtts_engine import GTTS_SAMPLE_RATE, GttsEngine
from engine_fakes import MP3_RATE, MP3_SECONDS, SAMPLE_SENTENCE, batchexecute_body, gtts_url_re, speech_words

FRAME_S = 0.03  # an MP3 frame plus encoder padding: decoded length may differ by this much


def test_request_carries_the_text_and_the_audio_is_the_mp3(google, mp3_bytes):
    speech = GttsEngine(lang="vi", tld="com.vn", timeout=7.5).synthesize(SAMPLE_SENTENCE)
    assert google.texts == [SAMPLE_SENTENCE]
    assert speech.sample_rate == GTTS_SAMPLE_RATE == MP3_RATE
    assert speech.duration_s == pytest.approx(MP3_SECONDS, abs=FRAME_S)
    # The samples are the MP3's own, not something else of the right length.
    reference = media.decode(mp3_bytes, sample_rate=GTTS_SAMPLE_RATE)
    assert len(speech.samples) == len(reference)
    assert np.allclose(speech.samples, reference, atol=1e-4)


def test_every_request_carries_the_timeout(google):
    GttsEngine(timeout=7.5).synthesize(SAMPLE_SENTENCE)
    assert google.timeouts == [7.5]


def test_long_text_is_split_by_gtts_and_all_parts_are_joined(google):
    text = (
        "Ủy ban nhân dân xã Dân Tiến thông báo lịch tiêm phòng năm hai nghìn không trăm hai mươi sáu, "
        "đề nghị bà con đưa trẻ đến trạm y tế xã đúng giờ, mang theo sổ tiêm chủng và thẻ bảo hiểm y tế."
    )
    speech = GttsEngine().synthesize(text)
    assert len(google.texts) >= 2  # gTTS sends at most 100 characters per request
    assert speech_words(" ".join(google.texts)) == speech_words(text)
    assert all(timeout == 10.0 for timeout in google.timeouts)
    # Concatenated MP3 streams decode with each later stream's header/padding as ~60 ms of silence.
    parts = len(google.texts)
    assert parts * MP3_SECONDS - FRAME_S <= speech.duration_s <= parts * MP3_SECONDS + 0.1 * parts


def test_zero_or_negative_timeout_is_refused():
    # "no timeout" must never be expressible: it is how a half-open connection hangs forever.
    for timeout in (0, -1, None):
        with pytest.raises(ValueError):
            GttsEngine(timeout=timeout)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (requests.exceptions.ConnectionError("[Errno 111] Connection refused"), "ConnectionError"),
        (requests.exceptions.ReadTimeout("Read timed out. (read timeout=10.0)"), "ReadTimeout"),
        (requests.exceptions.ConnectTimeout("Connection to translate.google.com.vn timed out"), "ConnectTimeout"),
    ],
)
def test_network_failures_are_speech_errors_naming_the_cause(http, error, shown):
    http.add(http.POST, gtts_url_re(), body=error)
    with pytest.raises(SpeechError) as err:
        GttsEngine().synthesize(SAMPLE_SENTENCE)
    assert shown in str(err.value)
    assert err.value.fields["engine"] == "gtts"


def test_http_error_status_is_a_speech_error(http):
    http.add(http.POST, gtts_url_re(), status=429, body="Too Many Requests")
    with pytest.raises(SpeechError, match="429"):
        GttsEngine().synthesize(SAMPLE_SENTENCE)


def test_reply_without_audio_is_a_speech_error(http):
    http.add(http.POST, gtts_url_re(), body=")]}'\n\n25\n[[\"wrb.fr\",\"jQ1olc\",null]]\n")
    with pytest.raises(SpeechError):
        GttsEngine().synthesize(SAMPLE_SENTENCE)


def test_corrupt_audio_is_a_speech_error(http):
    http.add(http.POST, gtts_url_re(), body=batchexecute_body(b"this is not an mp3 at all" * 40))
    with pytest.raises(SpeechError, match="hỏng"):
        GttsEngine().synthesize(SAMPLE_SENTENCE)


def test_failure_leaves_no_file_behind(http, tmp_path, monkeypatch):
    # gTTS.save() would leave an empty .mp3; we only ever hold the bytes in memory.
    monkeypatch.chdir(tmp_path)
    http.add(http.POST, gtts_url_re(), body=requests.exceptions.ConnectionError("refused"))
    with pytest.raises(SpeechError):
        GttsEngine().synthesize(SAMPLE_SENTENCE)
    assert list(tmp_path.iterdir()) == []


def test_unknown_language_is_a_speech_error_without_a_request(http):
    with pytest.raises(SpeechError):
        GttsEngine(lang="xx-nowhere").synthesize(SAMPLE_SENTENCE)
    assert len(http.calls) == 0
