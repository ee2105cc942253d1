"""Offline voices: time to first audio, real-time factor and intelligibility, espeak-ng at today's default
as the reference in the same run.

Run: .venv/bin/python bench/bench_voices.py [--data-dir DATA] [--sentences N] [--no-write]

Engines measured: espeak-ng at the default rate (140 words/min, the reference) and at 120 and 170;
the tests' stand-in Piper voice (a tone per phoneme id: it measures the engine's own overhead,
phonemizer + onnxruntime, and is by construction unintelligible); and every Piper voice installed
in --data-dir (what a station runs after `broadcaster voices install`).

Intelligibility: viet-asr (PyPI, its model inside the wheel; not a project dependency, install it by
hand: `pip install --pre viet-asr`) transcribes each rendering of the public sentences
(../shared/speech/normalization-cases.tsv, the text our normalizer hands the engines); CER and WER
against the expected spoken form of each case. Timing: per sentence, the first piece the synthesizer
would send (time to first audio: cold = a fresh engine, loading included; warm = median over the
sentences) and synthesis time / audio length (real-time factor, median). Writes its section of
docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
import unicodedata
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "speech_engines"))
CASES = REPO.parent / "shared" / "speech" / "normalization-cases.tsv"
if not CASES.is_file():
    CASES = REPO / "tests" / "data" / "normalization-cases.tsv"
BEGIN, END = "<!-- voices: begin -->", "<!-- voices: end -->"


def words(text: str) -> list[str]:
    text = unicodedata.normalize("NFC", text).lower()
    return "".join(ch if ch.isalnum() or ch.isspace() else " " for ch in text).split()


def edit_distance(a, b) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1]


def load_cases(limit: int | None) -> list[tuple[str, str]]:
    from broadcaster.speech.normalize import normalize

    rows = [line.split("\t") for line in CASES.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]
    return [(normalize(written), spoken) for written, spoken in rows[:limit]]


def engines(data_dir: Path | None, scratch: Path) -> list[tuple[str, object]]:
    from broadcaster.speech.espeak_engine import EspeakEngine
    from broadcaster.speech.piper_engine import PiperEngine

    chosen: list[tuple[str, object]] = [("espeak-ng vi, 140 wpm (default, reference)", EspeakEngine(rate=140)),
                                        ("espeak-ng vi, 120 wpm", EspeakEngine(rate=120)),
                                        ("espeak-ng vi, 170 wpm", EspeakEngine(rate=170))]
    try:
        from piper_helpers import write_voice

        chosen.append(("Piper stand-in voice (tone per phoneme id)", PiperEngine(write_voice(scratch / "standin"))))
    except ImportError as exc:  # onnx (a test dependency) missing
        print(f"stand-in voice skipped: {exc}", file=sys.stderr)
    if data_dir is not None:
        from broadcaster.config import load_settings
        from broadcaster.speech import piper_voices

        for voice in piper_voices.installed(load_settings(data_dir)):
            chosen.append((f"Piper {voice.name} (installed)", piper_voices.engine_for(voice)))
    return chosen


def recognizer():
    try:
        import vietasr
    except ImportError:
        return None
    return vietasr.Pipeline.preset("transcribe")


def measure(engine, cases, asr) -> dict:
    import numpy as np

    from broadcaster.speech.synth import resample, split_text

    firsts, rtfs, errors_c, errors_w, chars, total_words = [], [], 0, 0, 0, 0
    cold = None
    for spoken, expected in cases:
        pieces = split_text(spoken, 450)
        started = time.perf_counter()
        first = engine.synthesize(pieces[0])
        first_s = time.perf_counter() - started
        cold = first_s if cold is None else cold
        firsts.append(first_s)
        audio, seconds = [first.samples], first_s
        for piece in pieces[1:]:
            t0 = time.perf_counter()
            audio.append(engine.synthesize(piece).samples)
            seconds += time.perf_counter() - t0
        samples = np.concatenate(audio)
        rtfs.append(seconds / (len(samples) / first.sample_rate))
        if asr is not None:
            pcm = (np.clip(resample(samples, first.sample_rate, 16000), -1, 1) * 32767).astype(np.int16)
            heard = asr.transcribe(pcm, 16000.0).text
            ref, hyp = words(expected), words(heard)
            errors_w += edit_distance(ref, hyp)
            total_words += len(ref)
            errors_c += edit_distance(" ".join(ref), " ".join(hyp))
            chars += len(" ".join(ref))
    return {
        "cold_first_ms": cold * 1000, "warm_first_ms": statistics.median(firsts[1:] or firsts) * 1000,
        "rtf": statistics.median(rtfs),
        "cer": errors_c / chars if chars else None, "wer": errors_w / total_words if total_words else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="also measure the Piper voices installed here")
    parser.add_argument("--sentences", type=int, default=None, help="only the first N cases")
    parser.add_argument("--no-write", action="store_true", help="print, do not update docs/BENCHMARKS.md")
    args = parser.parse_args()
    cases = load_cases(args.sentences)
    asr = recognizer()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for label, engine in engines(args.data_dir, Path(scratch)):
            result = measure(engine, cases, asr)
            rows.append((label, result))
            print(label, {k: round(v, 3) if v is not None else None for k, v in result.items()}, file=sys.stderr)
    reference = rows[0][1]

    def rel(value, base):
        return f"{value / base:.2f}×" if value is not None and base else "–"

    def pct(value):
        return f"{value:.3f}" if value is not None else "–"

    lines = [
        BEGIN,
        f"### Offline voices (`bench/bench_voices.py`, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, "
        f"{platform.machine()}, Python {platform.python_version()}, {len(cases)} public sentences)",
        "",
        "| engine | first audio, cold (ms) | first audio, warm (median ms) | real-time factor (median) "
        "| CER | WER | CER vs reference |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, r in rows:
        lines.append(f"| {label} | {r['cold_first_ms']:.0f} | {r['warm_first_ms']:.0f} | {r['rtf']:.3f} "
                     f"| {pct(r['cer'])} | {pct(r['wer'])} | {rel(r['cer'], reference['cer'])} |")
    lines.append("")
    if asr is None:
        lines.append("Intelligibility not measured: viet-asr is not installed here (`pip install --pre viet-asr`; "
                     "its model ships inside the wheel).")
    else:
        from importlib import metadata

        lines.append(f"Recognizer: viet-asr {metadata.version('viet-asr')} (PyPI, pre-release; model embedded in "
                     "the wheel, offline). CER/WER against each case's expected spoken form; lower is better; the "
                     "reference is espeak-ng at today's default rate in this same run.")
    lines += [
        "The stand-in Piper voice emits a tone, not speech: its CER only shows the recognizer hears nothing in "
        "it; its timings are the Piper engine's own cost (espeak-ng phonemes, ids, onnxruntime) without a real "
        "model. A real voice (`broadcaster voices install …`, then `--data-dir`) adds its model's time here.",
        END,
    ]
    section = "\n".join(lines) + "\n"
    print(section)
    if not args.no_write:
        from sections import write_section

        write_section(section, BEGIN, END)


if __name__ == "__main__":
    main()
