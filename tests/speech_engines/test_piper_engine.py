"""The Piper engine against a stand-in voice with Piper's exact interface, and against piper-tts itself.

piper-tts (a test dependency) is the reference: for the same text and config, the phoneme ids
our engine feeds the model must be exactly those piper-tts's own phonemizer and id mapping
produce, sentence by sentence; and its PiperVoice on the same stand-in model must make the same
number of samples.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import numpy as np
import pytest

from piper_helpers import HOP, SAMPLE_RATE, write_voice

SHARED_CASES = Path(__file__).resolve().parents[3] / "shared" / "speech" / "normalization-cases.tsv"
REPO_CASES = Path(__file__).resolve().parents[1] / "data" / "normalization-cases.tsv"

PUNCTUATION_CASES = [
    "Xin chào bà con, hôm nay trời nắng đẹp.",
    "Câu hỏi? Vâng! Một; hai: ba",
    "Giá ba phẩy năm triệu đồng... và thế thôi",
    "đồng… và",
    "Một.” Hai",
    "Một\n\nHai",
    "xã?! Vâng",
    "a,b, c",
    "Hết.",
    "không dấu chấm",
    " ".join(["một hai ba bốn năm sáu bảy tám chín mười"] * 12),
]


def _public_sentences() -> list[str]:
    """The public normalization cases' inputs, normalized the way the synthesizer hands them to engines."""
    from broadcaster.speech.normalize import normalize

    path = SHARED_CASES if SHARED_CASES.is_file() else REPO_CASES
    lines = [line.split("\t")[0] for line in path.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    return [normalize(line) for line in lines]


@pytest.fixture(scope="module")
def voice_path(tmp_path_factory) -> Path:
    return write_voice(tmp_path_factory.mktemp("voice"))


@pytest.fixture(scope="module")
def reference(voice_path):
    piper_voice = pytest.importorskip("piper.voice", reason="piper-tts (test dependency) is not installed")
    return piper_voice.PiperVoice.load(voice_path)


def _reference_ids(reference, text: str) -> list[list[int]]:
    return [reference.phonemes_to_ids(p) for p in reference.phonemize(text) if p]


def test_phoneme_ids_equal_piper_tts_on_the_public_sentences(voice_path, reference):
    from broadcaster.speech.piper_engine import PiperEngine

    engine = PiperEngine(voice_path)
    texts = _public_sentences() + PUNCTUATION_CASES
    assert len(texts) >= 48 + len(PUNCTUATION_CASES)
    mismatched = [text for text in texts if engine.sentence_ids(text) != _reference_ids(reference, text)]
    assert mismatched == []


def test_no_clause_is_left_behind_for_the_next_text(voice_path, reference):
    # a text ending mid-clause ("… c") once left "c" inside espeak-ng, spoken before the next text
    from broadcaster.speech.piper_engine import PiperEngine

    engine = PiperEngine(voice_path)
    engine.sentence_ids("a,b, c")
    assert engine.sentence_ids("Xin chào bà con.") == _reference_ids(reference, "Xin chào bà con.")


def test_output_length_follows_the_ids_and_the_length_scale(voice_path, tmp_path):
    from broadcaster.speech.piper_engine import PiperEngine

    text = "Xin chào bà con. Hôm nay trời nắng."
    engine = PiperEngine(voice_path)
    ids = engine.sentence_ids(text)
    assert len(ids) == 2  # two sentences, two runs of the model
    speech = engine.synthesize(text)
    assert speech.sample_rate == SAMPLE_RATE
    assert len(speech.samples) == sum(len(s) for s in ids) * HOP
    assert speech.samples.dtype == np.float32 and float(np.max(np.abs(speech.samples))) == pytest.approx(1.0)

    slow = PiperEngine(voice_path, length_scale=1.5).synthesize(text)
    assert len(slow.samples) == sum(len(s) for s in ids) * round(HOP * 1.5)
    # the voice's own inference.length_scale is used when the station sets none
    own = write_voice(tmp_path / "own", name="vi_VN-slow-low", length_scale=2.0)
    assert len(PiperEngine(own).synthesize(text).samples) == sum(len(s) for s in ids) * 2 * HOP


def test_same_sample_count_as_piper_tts(voice_path, reference):
    from broadcaster.speech.piper_engine import PiperEngine

    text = "Thông báo: lịch tiêm chủng, tháng này, vào thứ hai."
    ours = PiperEngine(voice_path).synthesize(text)
    theirs = sum(len(chunk.audio_float_array) for chunk in reference.synthesize(text))
    assert len(ours.samples) == theirs


def test_identity_changes_with_the_voice_files(voice_path, tmp_path):
    from broadcaster.speech.piper_engine import PiperEngine

    other = write_voice(tmp_path / "other", length_scale=1.2)
    assert PiperEngine(voice_path).identity() != PiperEngine(other).identity()
    assert PiperEngine(voice_path).identity() == PiperEngine(voice_path).identity()
    json.dumps(PiperEngine(voice_path).identity())


@pytest.mark.parametrize("damage", ["truncated", "not_onnx", "bad_config", "no_config", "wrong_inputs"])
def test_a_broken_voice_is_a_speech_error_not_a_crash(tmp_path, damage):
    from broadcaster.exceptions import SpeechError
    from broadcaster.speech.piper_engine import PiperEngine

    model = write_voice(tmp_path)
    config = Path(f"{model}.json")
    if damage == "truncated":
        model.write_bytes(model.read_bytes()[: len(model.read_bytes()) // 2])
    elif damage == "not_onnx":
        model.write_bytes(b"<html>404</html>")
    elif damage == "bad_config":
        config.write_text('{"audio": {}}', encoding="utf-8")
    elif damage == "no_config":
        config.unlink()
    elif damage == "wrong_inputs":
        _write_foreign_model(model)
    with pytest.raises(SpeechError) as caught:
        PiperEngine(model).synthesize("Xin chào.")
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message
    assert unicodedata.is_normalized("NFC", message)


def _write_foreign_model(path: Path) -> None:
    """A valid ONNX model that is not a Piper voice (one input named x)."""
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "foreign",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    path.write_bytes(model.SerializeToString())
    onnx.checker.check_model(model)


def test_a_multi_speaker_voice_gets_its_speaker_id(tmp_path):
    # vivos is a 65-speaker voice: Piper feeds `sid` (the config's default speaker unless one is chosen)
    from broadcaster.speech.piper_engine import PiperEngine

    model = write_voice(tmp_path, name="vi_VN-many-x_low", speakers=4)
    text = "Xin chào bà con."
    engine = PiperEngine(model)
    per_speaker = sum(len(s) for s in engine.sentence_ids(text)) * HOP
    assert len(engine.synthesize(text).samples) == per_speaker  # default speaker 0
    assert len(PiperEngine(model, speaker_id=2).synthesize(text).samples) == 3 * per_speaker
