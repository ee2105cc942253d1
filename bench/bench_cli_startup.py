"""CLI start-up (issue 13 item 3): `broadcaster --help` and `speech normalize` against `python -c pass`,
interleaved runs in one invocation; with --before TREE, the same commands from another checkout's
source tree (e.g. `git worktree add /tmp/before HEAD~2`) in the same runs.

    .venv/bin/python bench/bench_cli_startup.py --runs 9 [--before /tmp/before]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent / "broadcaster"
# the source tree comes from $SRC, not the editable install's finder, so two trees run the same way
PROBE = (
    "import os, sys\n"
    "sys.meta_path = [f for f in sys.meta_path if 'editable' not in str(f)]\n"
    "sys.path.insert(0, os.environ['SRC'])\n"
    "sys.argv = ['broadcaster'] + sys.argv[1:]\n"
    "from broadcaster.cli.entry import main\n"
    "main()\n"
)


def timed(cmd: list[str], src: Path | None = None) -> float:
    env = dict(os.environ, SRC=str(src)) if src else None
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--before", type=Path, default=None, help="another checkout's tree to compare")
    args = parser.parse_args()
    trees = {"this tree": REPO} | ({"before": args.before} if args.before else {})
    commands = {"--help": ["--help"], "speech normalize": ["speech", "normalize", "Ngày 1/2/2026"]}
    times: dict[str, list[float]] = {"python -c pass": [], "broadcaster --help (console script)": []}
    for _ in range(args.runs):
        times["python -c pass"].append(timed([sys.executable, "-c", "pass"]))
        times["broadcaster --help (console script)"].append(timed([str(BIN), "--help"]))
        for tree, src in trees.items():
            for name, argv in commands.items():
                times.setdefault(f"{name}, {tree}", []).append(timed([sys.executable, "-c", PROBE, *argv], src))
    base = statistics.median(times["python -c pass"])
    print(f"| command ({args.runs} interleaved runs) | median | min | median − `python -c pass` |")
    print("|---|---:|---:|---:|")
    for name, values in times.items():
        med = statistics.median(values)
        print(f"| {name} | {med:.3f} s | {min(values):.3f} s | {med - base:+.3f} s |")


if __name__ == "__main__":
    main()
