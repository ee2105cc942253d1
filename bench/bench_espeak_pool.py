"""In-process espeak-ng synthesis of the plan document's pieces on 1 and on 2 library instances (issue 13).

Run: .venv/bin/python bench/bench_espeak_pool.py [--runs 2] [--text PATH]

The text is normalized and split as the Synthesizer does for a render (its own normalizer and
``split``); the pieces are then spoken through the speech pipeline's ``_Speaker`` (the threads
``engine.concurrency`` asks for, pieces handed on in order) and consumed without any further
processing, so the figure is synthesis alone. Each measurement runs in a fresh subprocess whose
pool has 1 instance with espeak-ng's default 60 ms callbacks (the code before issue 13's pool),
1 instance, or 2 instances (interleaved, so machine noise hits all alike); the instances
are set up before the clock starts (library loaded, data read, the copy made). Raw
``espeak-ng -v vi -s 140 -f TEXT -w out.wav`` on the same text is timed beside them for scale.
Prints medians and the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BUFFER_MS = 1000  # espeak_engine.BUFFER_MS (not imported: the bench runs each kind in a subprocess)
DEFAULT_TEXT = REPO.parent / "shared" / "samples" / "ke-hoach-truyen-thong-chinh-sach-2026.txt"

ONE_RUN = r"""
import json, sys, threading, time
from pathlib import Path
from broadcaster.config import load_settings
from broadcaster.speech import espeak_engine, pipeline
from broadcaster.speech.synth import Synthesizer
size, buffer_ms = int(sys.argv[3]), int(sys.argv[4])
settings = load_settings(sys.argv[2], engine_order=["espeak"])
engine = espeak_engine.EspeakEngine.from_settings(settings)
espeak_engine._POOL = pool = espeak_engine._EspeakPool(size)
for instance in pool.instances:
    instance._buffer_ms = buffer_ms
synth = Synthesizer(settings=settings, engines={"espeak": engine})
pieces = synth.split(synth._normalize(Path(sys.argv[1]).read_text(encoding="utf-8")))
for instance in pool.instances:  # every instance set up before the clock starts
    with instance.lock:
        library_path, data_path = espeak_engine._default_paths()
        instance.speak(instance.prepare(library_path, data_path), text="xin chào", voice=engine.voice,
                       rate=engine.rate, pitch=engine.pitch)
speaker = pipeline._Speaker(engine, pieces)
t0 = time.perf_counter(); c0 = time.process_time()
speaker.start()
samples = sum(len(speech.samples) for _, speech in speaker)
elapsed = time.perf_counter() - t0
speaker.stop()
print(json.dumps({"seconds": elapsed, "cpu": time.process_time() - c0, "pieces": len(pieces),
                  "threads": speaker.concurrency, "audio_s": samples / 22050}))
"""


def run_one(text: Path, size: int, buffer_ms: int) -> dict:
    with tempfile.TemporaryDirectory() as data:
        out = subprocess.run([sys.executable, "-c", ONE_RUN, str(text), data, str(size), str(buffer_ms)], cwd=REPO,
                             capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise SystemExit(f"bench: the run with {size} instance(s) failed: {out.stderr.strip()[-400:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_reference(text: Path) -> float | None:
    exe = shutil.which("espeak-ng")
    if exe is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        subprocess.run([exe, "-v", "vi", "-s", "140", "-f", str(text), "-w", str(Path(tmp) / "out.wav")],
                       check=True, capture_output=True, timeout=600)
        return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="measurements of each kind (interleaved)")
    parser.add_argument("--text", type=Path, default=DEFAULT_TEXT)
    args = parser.parse_args()
    load_before = os.getloadavg()
    kinds = {"1 instance, 60 ms callbacks": (1, 0), "1 instance": (1, BUFFER_MS), "2 instances": (2, BUFFER_MS)}
    runs: dict[str, list[dict]] = {kind: [] for kind in kinds}
    reference: list[float] = []
    for _ in range(max(1, args.runs)):
        for kind, (size, buffer_ms) in kinds.items():
            runs[kind].append(run_one(args.text, size, buffer_ms))
        ref = run_reference(args.text)
        if ref is not None:
            reference.append(ref)
    load_after = os.getloadavg()
    first = runs["1 instance"][0]
    print(f"text: {args.text.name}: {first['pieces']} pieces, {first['audio_s']:.0f} s of audio; "
          f"cpu_count {os.cpu_count()}")
    for kind, results in runs.items():
        wall = statistics.median(r["seconds"] for r in results)
        cpu = statistics.median(r["cpu"] for r in results)
        print(f"{kind}, {results[0]['threads']} thread(s): median {wall:.3f} s wall, {cpu:.3f} s cpu "
              f"(runs: {', '.join(format(r['seconds'], '.3f') for r in results)})")
    if reference:
        print(f"raw espeak-ng -w: median {statistics.median(reference):.3f} s "
              f"(runs: {', '.join(f'{r:.3f}' for r in reference)})")
    print("load average before: {:.2f} {:.2f} {:.2f}; after: {:.2f} {:.2f} {:.2f}".format(*load_before, *load_after))


if __name__ == "__main__":
    main()
