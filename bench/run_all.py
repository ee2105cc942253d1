"""Run every benchmark and update docs/BENCHMARKS.md.

Run: make bench   (or .venv/bin/python bench/run_all.py)
Benchmarks are not tests: nothing here asserts; each script compares against a
reference run in the same invocation and reports medians and ratios.

The render and normalization benches print their report, which goes into the
"core" section; the others write their own sections (between their markers) and
leave the rest of the file alone, so one bench can be re-run without losing the others.
"""

from __future__ import annotations

import platform
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

from sections import write_section

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "BENCHMARKS.md"
PRINTING = ["bench_render.py", "bench_normalize.py"]
SELF_WRITING = [
    "bench_urgent_latency.py",
    "bench_start_accuracy.py",
    "bench_memory_60min.py",
    "bench_web.py",
    "bench_voices.py",
]
BEGIN, END = "<!-- core: begin -->", "<!-- core: end -->"


def _core_section() -> str:
    parts = [
        BEGIN,
        f"Produced by `make bench` (`.venv/bin/python bench/run_all.py`) on "
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
        f"Python {platform.python_version()}, {platform.system()}. Machines here are noisy: "
        "compare the ratios, not the seconds.\n",
    ]
    for name in PRINTING:
        run = subprocess.run([sys.executable, str(REPO / "bench" / name)], capture_output=True, text=True, cwd=REPO)
        parts.append(f"Command: `.venv/bin/python bench/{name}`\n")
        parts.append(run.stdout.strip() + "\n" if run.returncode == 0 else f"(failed: {run.stderr[-500:]})\n")
    parts.append(END)
    return "\n".join(parts)


def main() -> None:
    core = _core_section()
    write_section(core, BEGIN, END, OUT)
    for name in SELF_WRITING:
        run = subprocess.run([sys.executable, str(REPO / "bench" / name)], cwd=REPO)
        if run.returncode != 0:
            print(f"{name} failed (exit {run.returncode}); its section is unchanged", file=sys.stderr)
    print(OUT.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
