"""The benches of this tree against an older commit's, in one invocation (the machine is noisy).

Run: .venv/bin/python bench/compare_old.py --old /tmp/old [--rounds 2] [--web-runs 40]

`--old` is a work tree of the reference commit with its own venv (for the commit before the
issue #10 refactor: `git worktree add /tmp/old 4af059f && make -C /tmp/old install`).

* web: both trees generate the same data (their own bench/web_data.py), each gets a real
  `broadcaster serve` of its own venv, and the pages are requested from the two servers in
  turn (old, new, old, new …), so load on the machine falls on both alike;
* urgent latency, start accuracy and idle memory: each tree's own bench (--no-write), old and new in turn,
  `--rounds` times; the medians of each round are printed and the median over the rounds kept.

Prints a table of medians, p95 and new/old ratios; writes nothing. Not a test: nothing asserts.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from bench_web import PASSWORD, USER, free_port, login, no_sound_env, p95, timed_get  # noqa: E402

GENERATE = (
    "import sys; sys.path.insert(0, 'bench'); from pathlib import Path; from web_data import generate; "
    "generate(Path(sys.argv[1]), bulletins=int(sys.argv[2]), rows=int(sys.argv[3]))"
)


def _serve(tree: Path, data_dir: Path, env: dict) -> tuple[subprocess.Popen, str]:
    import json

    port = free_port()
    proc = subprocess.Popen([str(tree / ".venv" / "bin" / "broadcaster"), "serve", "--host", "127.0.0.1",
                             "--port", str(port), "--data-dir", str(data_dir)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    serve_json = data_dir / "run" / "serve.json"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{tree}: serve exited ({proc.returncode})")
        try:
            return proc, json.loads(serve_json.read_text())["url"]
        except (OSError, ValueError, KeyError):
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{tree}: serve wrote no run/serve.json")


def web(trees: dict[str, Path], runs: int, bulletins: int, rows: int) -> dict[str, dict[str, list[float]]]:
    today = datetime.now(timezone.utc)
    last_month = f"{today.year - (today.month == 1)}-{(today.month - 2) % 12 + 1:02d}"
    quarter = f"{today.year}-Q{(today.month - 1) // 3 + 1}"
    pages = {"login (reference)": "/login", "list": "/bulletins", "week": "/timetable", "log": "/log",
             "log filtered": "/log?bulletin_class=uu_tien&status=failed", "report last month":
             f"/reports?period={last_month}", "report this month": "/reports", "report quarter": f"/reports?period={quarter}"}
    times = {name: {page: [] for page in pages} for name in trees}
    with tempfile.TemporaryDirectory(prefix="bench-compare-") as tmp:
        procs, clients = [], {}
        try:
            for name, tree in trees.items():
                data_dir = Path(tmp) / name / "data"
                subprocess.run([str(tree / ".venv" / "bin" / "python"), "-c", GENERATE, str(data_dir), str(bulletins),
                                str(rows)], cwd=tree, check=True)
                env = no_sound_env(Path(tmp) / name / "home", data_dir)
                subprocess.run([str(tree / ".venv" / "bin" / "broadcaster"), "user", "add", USER, "--role", "admin",
                                "--password-stdin"], input=PASSWORD + "\n", text=True, env=env, check=True,
                               capture_output=True)
                proc, url = _serve(tree, data_dir, env)
                procs.append(proc)
                # the reference (/login) as the bench asks it: not logged in; the pages logged in
                anonymous, client = httpx.Client(base_url=url, timeout=60), httpx.Client(base_url=url, timeout=60)
                login(client)
                clients[name] = {page: anonymous if path == "/login" else client for page, path in pages.items()}
                for page, path in pages.items():  # warm-up
                    timed_get(clients[name][page], path, name)
            for _ in range(runs):
                for page, path in pages.items():
                    for name, by_page in clients.items():
                        times[name][page].append(timed_get(by_page[page], path, name))
        finally:
            for by_page in clients.values():
                for client in set(by_page.values()):
                    client.close()
            for proc in procs:
                proc.terminate()
                proc.wait(timeout=30)
    return times


# the figures each bench prints, read back from its section: (label, regex on the row, group)
URGENT = [("urgent fast entry", r"\| `broadcaster urgent` via .*?\| (\d+) ms"),
          ("urgent installed command", r"\| the installed `broadcaster urgent` command \| (\d+) ms"),
          ("urgent request → first sample", r"\| request received by the API .*?\| (\d+) ms")]
MEMORY = [("idle peak RSS (sampled), MB", r"reference: station \+ open player, idle \| [\d.]+ MB \| ([\d.]+) MB")]
START = [("start: row − planned", r"as-run row[^|]*\| ([\d.]+) ms"),
         ("start: heard spacing", r"heard[^|]*\| ([\d.]+) ms")]


def run_bench(tree: Path, script: str, extra: list[str], patterns) -> dict[str, float]:
    out = subprocess.run([str(tree / ".venv" / "bin" / "python"), f"bench/{script}", "--no-write", *extra],
                         cwd=tree, capture_output=True, text=True).stdout
    found = {}
    for label, pattern in patterns:
        match = re.search(pattern, out)
        found[label] = float(match.group(1)) if match else float("nan")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--web-runs", type=int, default=40)
    parser.add_argument("--only", choices=["web", "urgent", "start", "memory"], action="append")
    args = parser.parse_args()
    trees = {"old": args.old.resolve(), "new": REPO}
    only = set(args.only or ["web", "urgent", "start", "memory"])
    lines = ["| figure | old | new | new / old |", "|---|---:|---:|---:|"]
    if "web" in only:
        times = web(trees, args.web_runs, 10_000, 100_000)
        for page in times["old"]:
            o, n = times["old"][page], times["new"][page]
            lines.append(f"| web {page}: median | {statistics.median(o):.1f} ms | {statistics.median(n):.1f} ms | "
                         f"{statistics.median(n) / statistics.median(o):.2f} |")
            lines.append(f"| web {page}: p95 | {p95(o):.1f} ms | {p95(n):.1f} ms | {p95(n) / p95(o):.2f} |")
    for key, script, extra, patterns in (("urgent", "bench_urgent_latency.py", [], URGENT),
                                         ("start", "bench_start_accuracy.py", ["--slots", "50", "--spacing", "3"], START),
                                         ("memory", "bench_memory_60min.py", ["--speed", "60"], MEMORY)):
        if key not in only:
            continue
        rounds = {name: [] for name in trees}
        for i in range(args.rounds):
            for name, tree in trees.items():
                rounds[name].append(run_bench(tree, script, extra, patterns))
                print(f"{key} round {i + 1} {name}: {rounds[name][-1]}", flush=True)
        for label, _ in patterns:
            o = statistics.median(r[label] for r in rounds["old"])
            n = statistics.median(r[label] for r in rounds["new"])
            unit = "" if label.endswith("MB") else " ms"
            lines.append(f"| {label}: median of {args.rounds} rounds | {o:.1f}{unit} | {n:.1f}{unit} | {n / o:.2f} |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
