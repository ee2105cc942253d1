"""Run every benchmark and write docs/BENCHMARKS.md.

Run: make bench   (or .venv/bin/python bench/run_all.py)
Benchmarks are not tests: nothing here asserts; each script compares against a
reference run in the same invocation and reports medians and ratios.
"""

from __future__ import annotations

import platform
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCHES = ["bench_render.py", "bench_normalize.py"]


def main() -> None:
    parts = [
        "# Benchmarks\n",
        f"Produced by `make bench` (`.venv/bin/python bench/run_all.py`) on "
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
        f"Python {platform.python_version()}, {platform.system()}. Machines here are noisy: "
        "compare the ratios, not the seconds.\n",
    ]
    for name in BENCHES:
        script = REPO / "bench" / name
        if not script.exists():
            continue
        run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=REPO)
        parts.append(f"Command: `.venv/bin/python bench/{name}`\n")
        parts.append(run.stdout.strip() + "\n" if run.returncode == 0 else f"(failed: {run.stderr[-500:]})\n")
    out = REPO / "docs" / "BENCHMARKS.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text("\n".join(parts), encoding="utf-8")
    print(out.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
