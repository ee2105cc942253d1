"""Benchmark: how long the reading layer takes on the plan document.

Times ``normalize()`` on shared/samples/ke-hoach-truyen-thong-chinh-sach-2026.txt (median of N
runs) next to a trivial reference pass over the same text in the same run (NFC + str.split),
so the ratio means something on any machine. Prints a Markdown snippet.

    .venv/bin/python bench/bench_normalize.py [PATH] [--runs N]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
import unicodedata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_TEXT = REPO / ".." / "shared" / "samples" / "ke-hoach-truyen-thong-chinh-sach-2026.txt"


def median_seconds(function, text: str, runs: int) -> float:
    """Median wall time of function(text) over runs calls."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function(text)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def reference(text: str) -> int:
    """The trivial pass: what any text handling costs at least."""
    return len(unicodedata.normalize("NFC", text).split())


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the Markdown snippet."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_TEXT, help="text to normalize")
    parser.add_argument("--runs", type=int, default=50, help="timed runs (median is reported)")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(REPO))
    from broadcaster.speech.normalize import normalize

    if not args.path.is_file():
        print(f"bench_normalize: no such text file: {args.path}", file=sys.stderr)
        return 1
    text = args.path.read_text(encoding="utf-8")
    start = time.perf_counter()
    normalize(text)  # first call: imports done, lexicon regex compiled
    first = time.perf_counter() - start
    normalize(text)
    reference(text)

    ours = median_seconds(normalize, text, args.runs)
    base = median_seconds(reference, text, args.runs)
    lines = text.count("\n") + 1
    print(f"### Text normalization (`bench/bench_normalize.py`, {platform.python_implementation()} "
          f"{platform.python_version()}, {platform.machine()})\n")
    print(f"Input: `{args.path.name}` — {len(text):,} characters, {lines} lines; median of {args.runs} runs.\n")
    per_k = 1000 / len(text)
    print("| pass | median | per 1,000 characters |")
    print("| --- | ---: | ---: |")
    print(f"| `normalize()` | {ours * 1000:.2f} ms | {ours * per_k * 1e6:.0f} µs |")
    print(f"| reference: NFC + `str.split` | {base * 1000:.3f} ms | {base * per_k * 1e6:.1f} µs |")
    print(f"\nRatio normalize / reference: **{ours / base:.0f}×**. First call (includes compiling the "
          f"lexicon pattern): {first * 1000:.1f} ms.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
