"""Offline render against raw `espeak-ng -v vi -w` on the same text, and the CLI's start-up (issue 13).

Run: .venv/bin/python bench/bench_render.py [--runs 3] [--text PATH]

In one run, interleaved so machine noise hits every side alike (each measurement in a fresh
subprocess with a fresh data directory and render cache, so nothing is reused, and started only
once the disk has written what the measurements before it left: `settle`):

- the plan document: raw espeak-ng, `Station.render_text` in-process (timed inside the process),
  the same whole process (interpreter start-up and imports included), and the command an officer
  runs, `broadcaster render --file`, end to end (the whole-process ratio); peak memory (max RSS);
- four times the plan document's text: peak memory (must stay flat: ≤ 1.2× the plan's);
- a 20-second bulletin through the installed command `broadcaster render --text … -o …`, end to end;
- `broadcaster --help` against `python -c pass`.

Reports medians, both ratios against raw espeak-ng, and the targets of issue 13.

Before timing, the package is byte-compiled (`python -m compileall -q broadcaster`, with
PYTHONDONTWRITEBYTECODE unset for that one command), as `make install` does: a real install has its
.pyc files, and a machine that sets PYTHONDONTWRITEBYTECODE=1 would otherwise compile every module on
every run and time that instead of the start-up.

`--profile` instead renders the plan document and the 20-second bulletin once each in this
process under cProfile, every thread profiled (the synthesis threads and the render lanes:
threading.Thread.run wrapped; the resampling (libsoxr) on its own thread), and prints the wall time of the two stages
(speech into the cache, the item) and the functions with the most own time over all threads.
`--stages TREE [TREE …]` times the plan document's stages (speech, probe, write) in-process for
each source tree in turn (this one and e.g. a `git worktree` of an older commit), `--runs` each.
`--cpu` is the render's CPU budget: for `--runs` interleaved runs, the reference's wall and CPU
time, and the in-process render's wall time, its process CPU time and each thread's (the synthesis
threads, the caller's thread in the speech stage and in the item stage, the item's meter lane and
its resampler), with the cores each stage kept busy; "at perfect packing" is the process CPU
spread over two cores, the shortest the render could take on this machine without less work.
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
DEFAULT_TEXT = REPO.parent / "shared" / "samples" / "ke-hoach-truyen-thong-chinh-sach-2026.txt"
BIN = Path(sys.executable).parent / "broadcaster"
# about 20 seconds of espeak-ng speech at 140 words per minute
BULLETIN = ("Ủy ban nhân dân xã Dân Tiến thông báo: sáng thứ hai tuần tới, trạm y tế xã tổ chức tiêm phòng "
            "cho trẻ em dưới năm tuổi tại nhà văn hóa thôn Đông. Đề nghị bà con đưa trẻ đến đúng giờ, mang theo "
            "sổ tiêm chủng.")

OURS = r"""
import json, resource, sys, time
from pathlib import Path
from broadcaster.config import load_settings
from broadcaster.station.facade import Station
text = Path(sys.argv[1]).read_text(encoding="utf-8") * int(sys.argv[3])
station = Station.open(load_settings(sys.argv[2], engine_order=["espeak"]))
t0 = time.perf_counter()
out = station.render_text(text, out=Path(sys.argv[2]) / "plan.wav")
elapsed = time.perf_counter() - t0
print(json.dumps({"seconds": elapsed, "audio_s": out.duration_s, "lufs": out.integrated_lufs,
                  "peak": out.true_peak_dbtp,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


# the render's stages timed in-process, from the tree given (argv: tree, text): for --stages
STAGES = r"""
import sys, time, tempfile, json
from pathlib import Path
tree = sys.argv[1]; sys.path.insert(0, tree)
from broadcaster.config import load_settings
from broadcaster.station.facade import Station
import broadcaster.audio as A
from broadcaster.speech import pipeline
import broadcaster.audio.render as R
stages = {}
def timed(name, mod, attr):
    fn = getattr(mod, attr)
    def w(*a, **k):
        t = time.perf_counter()
        try: return fn(*a, **k)
        finally: stages[name] = stages.get(name, 0) + time.perf_counter() - t
    setattr(mod, attr, w)
timed("speech", pipeline, "render_pieces"); timed("item", A, "render_item")
timed("probe", R._StreamNormalizer, "_probe"); timed("write", R._StreamNormalizer, "_write")
writes = []
_w = R._StreamNormalizer._write
def cw(self, *a, **k):
    writes.append(1); return _w(self, *a, **k)
R._StreamNormalizer._write = cw
text = Path(sys.argv[2]).read_text(encoding="utf-8")
with tempfile.TemporaryDirectory() as tmp:
    st = Station.open(load_settings(tmp, engine_order=["espeak"]))
    st.render_text("Xin chào.", out=Path(tmp)/"w.wav"); stages.clear(); writes.clear()
    t = time.perf_counter(); out = st.render_text(text, out=Path(tmp)/"o.wav"); total = time.perf_counter() - t
print(json.dumps({"tree": tree, "total": round(total,2), **{k: round(v,2) for k,v in stages.items()}, "lufs": round(out.integrated_lufs,2), "tp": round(out.true_peak_dbtp,2), "writes": len(writes)}))
"""


# the CPU time of each of the render's threads, and of the caller's thread per stage (argv: tree, text)
CPU = r"""
import json, resource, sys, threading, time
from collections import defaultdict
from pathlib import Path
sys.path.insert(0, sys.argv[1])
cpu = defaultdict(float)
_run = threading.Thread.run
def run(self):
    try: _run(self)
    finally: cpu[self.name.rstrip("0123456789-_ ")] += time.thread_time()
threading.Thread.run = run
import broadcaster.audio as A
from broadcaster.speech import pipeline
def timed(name, mod, attr):
    fn = getattr(mod, attr)
    def w(*a, **k):
        t, w0 = time.thread_time(), time.perf_counter()
        try: return fn(*a, **k)
        finally:
            cpu["main " + name] += time.thread_time() - t
            cpu["wall " + name] += time.perf_counter() - w0
    setattr(mod, attr, w)
timed("speech", pipeline, "render_pieces"); timed("item", A, "render_item")
import tempfile
from broadcaster.config import load_settings
from broadcaster.station.facade import Station
text = Path(sys.argv[2]).read_text(encoding="utf-8")
with tempfile.TemporaryDirectory() as tmp:
    station = Station.open(load_settings(tmp, engine_order=["espeak"]))
    r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    station.render_text(text, out=Path(tmp) / "plan.wav")
    wall, r1 = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF)
cpu["wall"], cpu["process"] = wall, r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime
print(json.dumps(cpu))
"""


def cpu_budget(text: Path, runs: int) -> None:
    """The render's CPU time, thread by thread, against the reference's (see the module's docstring)."""
    import resource  # Unix only, as the in-process figures' max RSS

    sys.path.insert(0, str(REPO))
    from broadcaster.config import Settings

    exe = ensure_espeak_ng()
    rate = Settings.model_fields["espeak_rate"].default
    byte_compile()
    refs, rows = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            settle()
            before, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
            subprocess.run([exe, "-v", "vi", "-s", str(rate), "-f", str(text), "-w", f"{tmp}/ref.wav"], check=True)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            refs.append((time.perf_counter() - t0, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime))
        settle()
        proc = subprocess.run([sys.executable, "-c", CPU, str(REPO), str(text)], check=True, capture_output=True,
                              text=True, cwd=tempfile.gettempdir())
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    med = statistics.median

    def m(key: str) -> float:
        return med(r.get(key, 0.0) for r in rows)

    ref_wall, ref_cpu = med(w for w, _ in refs), med(c for _, c in refs)
    speech_cpu = m("speech-synth") + m("main speech")
    item_cpu = m("main item") + m("render-lane") + m("render-resample")
    print(f"### The render's CPU budget (plan document, {runs} runs each, interleaved)\n")
    print("| measure | median |\n|---|---:|")
    print(f"| reference: wall / CPU | {ref_wall:.2f} s / {ref_cpu:.2f} s |")
    print(f"| render in-process: wall / process CPU | {m('wall'):.2f} s / {m('process'):.2f} s |")
    print(f"| speech stage: wall; CPU of the synthesis threads + the caller's | {m('wall speech'):.2f} s; "
          f"{m('speech-synth'):.2f} + {m('main speech'):.2f} s ({speech_cpu / max(m('wall speech'), 1e-9):.2f} cores) |")
    print(f"| item stage: wall; CPU of the caller's thread + meter lane + resampler | {m('wall item'):.2f} s; "
          f"{m('main item'):.2f} + {m('render-lane'):.2f} + {m('render-resample'):.2f} s "
          f"({item_cpu / max(m('wall item'), 1e-9):.2f} cores) |")
    print(f"| ratio in-process render / reference | {m('wall') / ref_wall:.2f}× |")
    print(f"| same at perfect packing (process CPU / 2 cores / reference) | {m('process') / 2 / ref_wall:.2f}× |")


def ensure_espeak_ng() -> str:
    exe = shutil.which("espeak-ng")
    if exe:
        return exe
    print("installing Debian's espeak-ng for the reference run …", file=sys.stderr)
    subprocess.run(["apt-get", "install", "-y", "-qq", "espeak-ng"], check=True)
    return shutil.which("espeak-ng") or sys.exit("espeak-ng not available")


def settle() -> None:
    """Before each measurement: the disk has written what the ones before left (os.sync waits for
    it). The render writes ~190 MB (speech cache, item, the officer's copy) and the reference 30 MB;
    without this, the kernel's flusher writes one measurement's files, and frees the blocks of the
    temporary folders just removed, while the next is timed: seen here to add 0.06 → 0.34 CPU-s to
    the render's own writes, at random."""
    os.sync()


def run_reference(exe: str, text: Path, rate: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        settle()
        t0 = time.perf_counter()
        subprocess.run([exe, "-v", "vi", "-s", str(rate), "-f", str(text), "-w", f"{tmp}/ref.wav"], check=True)
        return time.perf_counter() - t0


def run_ours(text: Path, repeat: int = 1) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        settle()
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", OURS, str(text), tmp, str(repeat)], check=True, capture_output=True, text=True
        )
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        result["wall_s"] = time.perf_counter() - t0  # includes interpreter start and imports
        return result


def run_bulletin() -> float:
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, BROADCASTER_DATA_DIR=tmp, BROADCASTER_ENGINE_ORDER='["espeak"]')
        subprocess.run([str(BIN), "init"], check=True, capture_output=True, env=env)
        settle()
        t0 = time.perf_counter()
        subprocess.run([str(BIN), "render", "--text", BULLETIN, "-o", f"{tmp}/b.wav"], check=True,
                       capture_output=True, env=env)
        return time.perf_counter() - t0


def byte_compile() -> None:
    """The package's .pyc files written (only stale ones), as `make install` writes them."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "broadcaster")], check=True, env=env)


def run_command(text: Path) -> float:
    """`broadcaster render --file TEXT -o OUT` end to end: what an officer's render costs, start-up included."""
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, BROADCASTER_DATA_DIR=tmp, BROADCASTER_ENGINE_ORDER='["espeak"]')
        subprocess.run([str(BIN), "init"], check=True, capture_output=True, env=env)
        settle()
        t0 = time.perf_counter()
        subprocess.run([str(BIN), "render", "--file", str(text), "-o", f"{tmp}/plan.wav"], check=True,
                       capture_output=True, env=env)
        return time.perf_counter() - t0


def run_timed(cmd: list[str]) -> float:
    settle()
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t0


def profile(text: Path, top: int = 25) -> None:
    """Both renders in this process under cProfile, every thread included; prints where the time goes."""
    import cProfile
    import io
    import pstats
    import threading

    sys.path.insert(0, str(REPO))
    import broadcaster.audio as item_render  # items.py imports render_item from the package at call time
    from broadcaster.config import load_settings
    from broadcaster.speech import pipeline
    from broadcaster.station.facade import Station

    profiles: list[cProfile.Profile] = []
    real_run = threading.Thread.run

    def profiled_run(self):
        prof = cProfile.Profile()
        profiles.append(prof)
        prof.enable()
        try:
            real_run(self)
        finally:
            prof.disable()

    stages: dict[str, float] = {}

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                stages[name] = stages.get(name, 0.0) + time.perf_counter() - t0
        return wrapper

    pipeline_render = pipeline.render_pieces
    item_render_fn = item_render.render_item
    for label, body in (("plan document", text.read_text(encoding="utf-8")), ("20-second bulletin", BULLETIN)):
        with tempfile.TemporaryDirectory() as tmp:
            station = Station.open(load_settings(tmp, engine_order=["espeak"]))
            station.render_text("Xin chào.", out=Path(tmp) / "warm.wav")  # imports and first-use caches outside
            stages.clear()
            profiles.clear()
            threading.Thread.run = profiled_run
            pipeline.render_pieces = timed("speech (synthesis, speech loudness, cache write at the engine rate)", pipeline_render)
            item_render.render_item = timed("item (probe, gain + limiter, meters, resample and write)", item_render_fn)
            main_prof = cProfile.Profile()
            t0 = time.perf_counter()
            main_prof.enable()
            try:
                out = station.render_text(body, out=Path(tmp) / "out.wav")
            finally:
                main_prof.disable()
                threading.Thread.run = real_run
                pipeline.render_pieces = pipeline_render
                item_render.render_item = item_render_fn
            total = time.perf_counter() - t0
            print(f"## {label}: {out.duration_s:.1f} s of audio, render_text {total:.2f} s (under the profiler)")
            for name, seconds in stages.items():
                print(f"- {name}: {seconds:.2f} s")
            buffer = io.StringIO()
            stats = pstats.Stats(main_prof, stream=buffer)
            for prof in profiles:
                stats.add(prof)
            stats.sort_stats("tottime").print_stats(top)
            print(buffer.getvalue())


def stages(text: Path, trees: list[Path], runs: int) -> None:
    """The plan document's render stages timed in-process for each tree in turn (e.g. this one and a
    `git worktree` of the commit before), ``runs`` interleaved runs each; prints the medians."""
    results: dict[str, list[dict]] = {str(t): [] for t in trees}
    for _ in range(runs):
        for tree in trees:
            settle()
            proc = subprocess.run([sys.executable, "-c", STAGES, str(tree), str(text)], check=True,
                                  capture_output=True, text=True, cwd=tempfile.gettempdir())
            results[str(tree)].append(json.loads(proc.stdout.strip().splitlines()[-1]))
    keys = ["total", "speech", "item", "probe", "write", "writes", "lufs", "tp"]
    print("| tree | " + " | ".join(keys) + " |\n|---|" + "---:|" * len(keys))
    for tree, rows in results.items():
        cells = [f"{statistics.median(r.get(k, 0) for r in rows):.2f}" for k in keys]
        print(f"| {tree} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--text", type=Path, default=DEFAULT_TEXT)
    parser.add_argument("--profile", action="store_true", help="profile one render of each in this process")
    parser.add_argument("--stages", type=Path, nargs="+", metavar="TREE",
                        help="time the render's stages in-process for each source tree in turn")
    parser.add_argument("--cpu", action="store_true", help="the render's CPU time, thread by thread")
    args = parser.parse_args()
    if args.cpu:
        cpu_budget(args.text, args.runs)
        return
    if args.profile:
        profile(args.text)
        return
    if args.stages:
        stages(args.text, args.stages, args.runs)
        return
    sys.path.insert(0, str(REPO))
    from broadcaster.config import Settings

    rate = Settings.model_fields["espeak_rate"].default
    exe = ensure_espeak_ng()
    byte_compile()
    refs, ours, fours, bulletins, helps, passes, commands = [], [], [], [], [], [], []
    for _ in range(args.runs):
        refs.append(run_reference(exe, args.text, rate))
        ours.append(run_ours(args.text))
        commands.append(run_command(args.text))
        fours.append(run_ours(args.text, repeat=4))
        bulletins.append(run_bulletin())
        passes.append(run_timed([sys.executable, "-c", "pass"]))
        helps.append(run_timed([str(BIN), "--help"]))
    med = statistics.median
    ref_med = med(refs)
    our_med = med(r["seconds"] for r in ours)
    wall_med = med(r["wall_s"] for r in ours)
    command_med = med(commands)
    peak = max(r["maxrss_mb"] for r in ours)
    peak4 = max(r["maxrss_mb"] for r in fours)
    help_extra = med(helps) - med(passes)
    # each run's render against the reference measured just before it: this machine's speed drifts
    # from minute to minute (a VM's steal time), so the spread of these says how far to trust a ratio
    paired = [o["seconds"] / r for r, o in zip(refs, ours)]
    chars = len(args.text.read_text(encoding="utf-8"))

    def ok(flag: bool) -> str:
        return "met" if flag else "**not met**"

    print(f"### Offline render of the plan document ({chars} characters, {args.runs} runs each, interleaved)\n")
    print("| measure | median | target |\n|---|---|---|")
    print(f"| raw `espeak-ng -v vi -s {rate} -w` (reference) | {ref_med:.2f} s | |")
    print(f"| `Station.render_text` espeak-ng (normalize, synth, jingles, loudness, write) | {our_med:.2f} s | |")
    print(f"| same, whole process incl. Python start-up, imports and `Station.open` | {wall_med:.2f} s | |")
    print(f"| `broadcaster render --file` (the command, end to end) | {command_med:.2f} s | |")
    print(f"| **ratio in-process render / reference** | **{our_med / ref_med:.2f}×** | ≤ 1.5× {ok(our_med / ref_med <= 1.5)} |")
    print(f"| same, each run against the reference just before it: median (lowest–highest) | "
          f"{med(paired):.2f}× ({min(paired):.2f}–{max(paired):.2f}×) | |")
    print(f"| ratio whole process (`python -c`, Station.open) / reference | {wall_med / ref_med:.2f}× | |")
    print(f"| **ratio whole process (the command) / reference** | **{command_med / ref_med:.2f}×** | "
          f"≤ 3× {ok(command_med / ref_med <= 3)} |")
    print(f"| audio produced | {ours[0]['audio_s'] / 60:.1f} min at {ours[0]['lufs']:.2f} LUFS, "
          f"{ours[0]['peak']:.2f} dBTP | -16 ± 0.5 LUFS, ≤ -1 dBTP |")
    print(f"| peak memory (max RSS), plan document | {peak:.0f} MB | ≤ 300 MB {ok(peak <= 300)} |")
    print(f"| peak memory, four times the text ({fours[0]['audio_s'] / 60:.1f} min) | {peak4:.0f} MB "
          f"({peak4 / peak:.2f}× the plan's) | ≤ 1.2× {ok(peak4 <= 1.2 * peak)} |")
    print(f"| 20-second bulletin, `broadcaster render --text` end to end | {med(bulletins):.2f} s | "
          f"≤ 1 s {ok(med(bulletins) <= 1.0)} |")
    print(f"| `broadcaster --help` | {med(helps):.2f} s | |")
    print(f"| `python -c pass` | {med(passes):.2f} s | |")
    print(f"| **`--help` − `python -c pass`** | **{help_extra:.2f} s** | ≤ 0.4 s {ok(help_extra <= 0.4)} |")


if __name__ == "__main__":
    main()
