"""Offline render of the whole plan document vs raw `espeak-ng -v vi -w` on the same text.

Run: .venv/bin/python bench/bench_render.py [--runs 3] [--text PATH]
Each measurement runs in a fresh subprocess (fresh render cache, so nothing is reused)
and the two sides are interleaved so machine noise hits both alike. Reports medians,
the ratio of medians, and the peak memory (max RSS) of our render.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_TEXT = REPO.parent / "shared" / "samples" / "ke-hoach-truyen-thong-chinh-sach-2026.txt"

OURS = r"""
import json, resource, sys, time
from pathlib import Path
from broadcaster.config import load_settings
from broadcaster.station.facade import Station
text = Path(sys.argv[1]).read_text(encoding="utf-8")
station = Station.open(load_settings(sys.argv[2], engine_order=["espeak"]))
t0 = time.perf_counter()
out = station.render_text(text, out=Path(sys.argv[2]) / "plan.wav")
elapsed = time.perf_counter() - t0
print(json.dumps({"seconds": elapsed, "audio_s": out.duration_s, "lufs": out.integrated_lufs,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def ensure_espeak_ng() -> str:
    exe = shutil.which("espeak-ng")
    if exe:
        return exe
    print("installing Debian's espeak-ng for the reference run …", file=sys.stderr)
    subprocess.run(["apt-get", "install", "-y", "-qq", "espeak-ng"], check=True)
    return shutil.which("espeak-ng") or sys.exit("espeak-ng not available")


def run_reference(exe: str, text: Path, rate: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        subprocess.run([exe, "-v", "vi", "-s", str(rate), "-f", str(text), "-w", f"{tmp}/ref.wav"], check=True)
        return time.perf_counter() - t0


def run_ours(text: Path) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", OURS, str(text), tmp], check=True, capture_output=True, text=True
        )
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        result["wall_s"] = time.perf_counter() - t0  # includes interpreter start and imports
        return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--text", type=Path, default=DEFAULT_TEXT)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from broadcaster.config import Settings

    rate = Settings.model_fields["espeak_rate"].default
    exe = ensure_espeak_ng()
    refs, ours = [], []
    for _ in range(args.runs):
        refs.append(run_reference(exe, args.text, rate))
        ours.append(run_ours(args.text))
    ref_med = statistics.median(refs)
    our_med = statistics.median(r["seconds"] for r in ours)
    wall_med = statistics.median(r["wall_s"] for r in ours)
    peak = max(r["maxrss_mb"] for r in ours)
    chars = len(args.text.read_text(encoding="utf-8"))
    print(f"### Offline render of the plan document ({chars} characters, {args.runs} runs each)\n")
    print("| measure | median |\n|---|---|")
    print(f"| raw `espeak-ng -v vi -s {rate} -w` (reference) | {ref_med:.2f} s |")
    print(f"| `Station.render_text` espeak-ng (normalize, synth, jingles, loudness, write) | {our_med:.2f} s |")
    print(f"| same, whole process incl. Python start-up and imports | {wall_med:.2f} s |")
    print(f"| **ratio render / reference** (target ≤ 1.5) | **{our_med / ref_med:.2f}×** |")
    print(f"| ratio whole process / reference | {wall_med / ref_med:.2f}× |")
    print(f"| audio produced | {ours[0]['audio_s'] / 60:.1f} min at {ours[0]['lufs']:.1f} LUFS |")
    print(f"| peak memory (max RSS) of the render process | {peak:.0f} MB |")


if __name__ == "__main__":
    main()
