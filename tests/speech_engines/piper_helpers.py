"""A tiny stand-in Piper voice with Piper's exact graph interface (no weights are ever downloaded).

The model takes ``input`` int64 [1, T], ``input_lengths`` int64 [1] and ``scales`` float32 [3]
(noise, length, noise_w) and returns a float32 waveform [1, 1, N] with N = T × round(256 ×
length_scale): a 440 Hz tone, 256 samples per phoneme id at the default speed, so a test can
assert the output length from the ids it fed. Its config is a real ``.onnx.json``:
``phoneme_id_map`` over the IPA inventory espeak-ng emits, ``audio.sample_rate``, ``espeak.voice``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

HOP = 256
SAMPLE_RATE = 22050

# Every symbol espeak-ng's IPA output uses (letters, IPA, tone digits, combining marks) plus the
# punctuation Piper keeps, after the three specials. Enough that no Vietnamese phoneme is dropped.
_SYMBOLS = (
    "_^$ !'(),-.:;?"
    "abcdefhijklmnopqrstuvwxyz"
    "æçðøħŋœǀǁǂǃɐɑɒɓɔɕɖɗɘəɚɛɜɞɟɠɡɢɣɤɥɦɧɨɪɫɬɭɮɯɰɱɲɳɴɵɶɸɹɺɻɽɾʀʁʂʃʄʈʉʊʋʌʍʎʏʐʑʒʔʕʘʙʛʜʝʟʡʢʲˈˌːˑ˞βθχᵻⱱ"
    "0123456789\u0327\u0303\u032a\u032f\u0329ʰˤε↓#\"↑\u033a\u033bgʦX\u031d\u030aɝʷ"
)


def phoneme_id_map() -> dict[str, list[int]]:
    return {symbol: [index] for index, symbol in enumerate(dict.fromkeys(_SYMBOLS))}


def stand_in_model_bytes(speakers: int = 1) -> bytes:
    """The ONNX graph: length = input_lengths × round(HOP × scales[1]) samples of a tone; a
    multi-speaker voice also takes ``sid`` int64 [1], and speaker s makes (s + 1) times as many."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    def const(name, value, dtype):
        return numpy_helper.from_array(np.array(value, dtype=dtype), name)

    nodes = [
        helper.make_node("Gather", ["scales", "one_index"], ["length_scale"], axis=0),
        helper.make_node("Mul", ["length_scale", "hop"], ["hop_scaled"]),
        helper.make_node("Round", ["hop_scaled"], ["hop_rounded"]),
        helper.make_node("Cast", ["hop_rounded"], ["per_id"], to=TensorProto.INT64),
        helper.make_node("Gather", ["input_lengths", "zero_index"], ["length"], axis=0),
        helper.make_node("Mul", ["length", "per_id"], ["total_one"]),
        *([helper.make_node("Gather", ["sid", "zero_index"], ["speaker"], axis=0),
           helper.make_node("Add", ["speaker", "one_i64"], ["speaker_factor"]),
           helper.make_node("Mul", ["total_one", "speaker_factor"], ["total"])] if speakers > 1
          else [helper.make_node("Identity", ["total_one"], ["total"])]),
        helper.make_node("Range", ["zero_i64", "total", "one_i64"], ["k"]),
        helper.make_node("Cast", ["k"], ["k_float"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["k_float", "omega"], ["phase"]),
        helper.make_node("Sin", ["phase"], ["tone"]),
        helper.make_node("Mul", ["tone", "amplitude"], ["scaled"]),
        helper.make_node("Reshape", ["scaled", "out_shape"], ["output"]),
    ]
    initializers = [
        const("one_index", 1, np.int64), const("zero_index", 0, np.int64),
        const("hop", float(HOP), np.float32), const("zero_i64", 0, np.int64), const("one_i64", 1, np.int64),
        const("omega", 2 * np.pi * 440.0 / SAMPLE_RATE, np.float32), const("amplitude", 0.5, np.float32),
        const("out_shape", [1, 1, -1], np.int64),
    ]
    graph = helper.make_graph(
        nodes, "piper-stand-in",
        inputs=[
            helper.make_tensor_value_info("input", TensorProto.INT64, [1, "phonemes"]),
            helper.make_tensor_value_info("input_lengths", TensorProto.INT64, [1]),
            helper.make_tensor_value_info("scales", TensorProto.FLOAT, [3]),
            *([helper.make_tensor_value_info("sid", TensorProto.INT64, [1])] if speakers > 1 else []),
        ],
        outputs=[helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 1, "samples"])],
        initializer=initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def stand_in_config(sample_rate: int = SAMPLE_RATE, length_scale: float = 1.0, speakers: int = 1) -> dict:
    return {
        "audio": {"sample_rate": sample_rate, "quality": "medium"},
        "espeak": {"voice": "vi"},
        "language": {"code": "vi_VN"},
        "inference": {"noise_scale": 0.667, "length_scale": length_scale, "noise_w": 0.8},
        "phoneme_type": "espeak",
        "phoneme_id_map": phoneme_id_map(),
        "num_symbols": len(phoneme_id_map()),
        "num_speakers": speakers,
        "speaker_id_map": {f"speaker{i}": i for i in range(speakers)} if speakers > 1 else {},
        "piper_version": "1.0.0",
    }


def write_voice(folder: Path, name: str = "vi_VN-test-medium", **config) -> Path:
    """``folder/name.onnx`` and ``folder/name.onnx.json``; returns the .onnx path."""
    folder.mkdir(parents=True, exist_ok=True)
    model = folder / f"{name}.onnx"
    model.write_bytes(stand_in_model_bytes(config.get("speakers", 1)))
    Path(f"{model}.json").write_text(json.dumps(stand_in_config(**config), ensure_ascii=False), encoding="utf-8")
    return model


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
