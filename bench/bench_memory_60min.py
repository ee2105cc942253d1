"""Peak memory (RSS) while airing a 60-minute programme, item by item.

Run: .venv/bin/python bench/bench_memory_60min.py [--speed 60] [--no-write]

Each measurement runs in a fresh child process (its peak RSS is its own):

* reference: the station opened, the Player open on the card, idle — what a waiting
  `serve` process holds;
* airing: the same, then `Station.air_slot` of one slot whose programme is 12 items of
  5 minutes (60 minutes), each with its as-run row, through the real Player.

The card is a fake that takes audio `speed` times faster than real time and keeps nothing
(the MemoryCard used by the tests keeps every sample, which would measure the fake), so an
hour airs in about a minute. Memory is sampled from /proc/self/status (VmRSS) every 50 ms
and from getrusage (ru_maxrss, the kernel's own peak).

Writes its own section of docs/BENCHMARKS.md (between markers) unless --no-write.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import wave
from datetime import datetime, timezone
from pathlib import Path

from sections import write_section
from types import SimpleNamespace

import numpy as np

REPO = Path(__file__).resolve().parents[1]
MARK_BEGIN = "<!-- bench_memory_60min: begin -->"
MARK_END = "<!-- bench_memory_60min: end -->"
RATE = 48000
ITEMS = 12
ITEM_MIN = 5
TARGET_MB = 300


class DiscardStream:
    """A callback stream that runs `speed`× real time and throws the audio away."""

    self_timed = True

    def __init__(self, *, blocksize: int, callback, finished_callback, speed: float, **_) -> None:
        self.channels, self.latency = 2, 0.02
        self._blocksize, self._callback, self._finished = blocksize, callback, finished_callback
        self._period = blocksize / RATE / speed
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        out = np.zeros((self._blocksize, self.channels), dtype=np.int16)
        status = SimpleNamespace(output_underflow=False)
        due = time.monotonic()
        while not self._halt.is_set():
            self._callback(out, self._blocksize, None, status)
            due += self._period
            delay = due - time.monotonic()
            if delay > 0:
                self._halt.wait(delay)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._halt.set()
        if self._thread is not threading.current_thread():
            self._thread.join(5)

    abort = stop

    def close(self) -> None:
        self.stop()


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _tone_item(path: Path, minutes: int) -> Path:
    """A 5-minute item written block by block (the bench itself must not hold it in memory)."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        t = np.arange(RATE) / RATE
        second = np.round(0.3 * 32767 * np.sin(2 * np.pi * 440 * t)).astype("<i2").tobytes()
        for _ in range(minutes * 60):
            out.writeframes(second)
    return path


def child(mode: str, work: Path, speed: float) -> dict:
    from sqlmodel import Session

    from broadcaster.config import load_settings
    from broadcaster.models import Bulletin, BulletinStatus
    from broadcaster.playout.player import Player
    from broadcaster.scheduling import store
    from broadcaster.scheduling.timetable import Slot, Timetable
    from broadcaster.station.facade import Station

    peak = {"sampled": 0.0}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak["sampled"] = max(peak["sampled"], _rss_mb())
            stop.wait(0.05)

    threading.Thread(target=sample, daemon=True).start()
    station = Station.open(load_settings(work / f"data-{mode}", engine_order=["espeak"]))
    with Session(station.db) as session:
        store.replace_slots(session=session, timetable=Timetable(timezone=station.settings.timezone, slots=()))
    items = sorted((work / "items").glob("*.wav"))
    for n in range(ITEMS):
        bulletin = station.add_bulletin(title=f"Mục {n + 1:02d}", text=f"Mục {n + 1}.")
        with Session(station.db) as session:
            row = session.get(Bulletin, bulletin.id)
            row.status, row.approved_at = BulletinStatus.approved, datetime.now(timezone.utc)
            row.item_path, row.item_engine = str(items[n % len(items)]), "bench"
            row.item_duration_s = ITEM_MIN * 60.0
            session.add(row)
            session.commit()
    player = Player(
        sample_rate=RATE,
        block_frames=station.settings.playout_block_frames,
        stream_factory=lambda **kw: DiscardStream(speed=speed, **kw),
        silence_s=station.settings.silence_s,
    )
    player.open()
    began = time.monotonic()
    statuses: list[str] = []
    if mode == "air":
        slot = Slot(name="Một giờ", at=datetime.now(station.tz).time().replace(microsecond=0), max_minutes=70)
        rows = station.air_slot(slot=slot, planned_at=datetime.now(timezone.utc), player=player)
        statuses = [r.status.value for r in rows]
    else:
        time.sleep(3.0)
    took = time.monotonic() - began
    player.close()
    station.close()
    stop.set()
    return {
        "mode": mode,
        "sampled_peak_mb": round(max(peak["sampled"], _rss_mb()), 1),
        "ru_maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "seconds": round(took, 1),
        "statuses": statuses,
    }


def run(speed: float) -> tuple[dict, dict]:
    work = Path(tempfile.mkdtemp(prefix="bench-mem-"))
    try:
        (work / "items").mkdir()
        for n in range(2):  # two distinct files, shared by the 12 bulletins (disk, not memory)
            _tone_item(work / "items" / f"item{n}.wav", ITEM_MIN)
        results = []
        for mode in ("idle", "air"):
            run = subprocess.run(
                [sys.executable, __file__, "--child", mode, "--work", str(work), "--speed", str(speed)],
                capture_output=True, text=True, cwd=REPO, timeout=3600,
            )
            if run.returncode != 0:
                raise SystemExit(f"child {mode} failed: {run.stderr[-2000:]}")
            results.append(json.loads(run.stdout.strip().splitlines()[-1]))
        return results[0], results[1]
    finally:
        shutil.rmtree(work, ignore_errors=True)


def section(idle: dict, air: dict, speed: float) -> str:
    aired = sum(s == "aired" for s in air["statuses"])
    peak = max(air["ru_maxrss_mb"], air["sampled_peak_mb"])
    verdict = "**target met**" if peak <= TARGET_MB and aired == ITEMS else "**target missed**"
    whole = ITEMS * ITEM_MIN * 60 * RATE * 2 / 1e6
    now = datetime.now(timezone.utc)
    return "\n".join([
        MARK_BEGIN,
        f"### Peak memory airing a 60-minute programme ({now:%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
        f"Python {platform.python_version()})",
        "",
        f"Command: `.venv/bin/python bench/bench_memory_60min.py --speed {speed:g}`. {ITEMS} items of {ITEM_MIN} min "
        f"through `Station.air_slot` and the real Player (as-run rows in SQLite); the card is a fake that takes audio "
        f"{speed:g}× faster than real time and keeps nothing. Each figure is a fresh child process. "
        f"Target: ≤ {TARGET_MB} MB.",
        "",
        "| measure | peak RSS (getrusage) | peak RSS (sampled VmRSS) |",
        "|---|---:|---:|",
        f"| reference: station + open player, idle | {idle['ru_maxrss_mb']:.1f} MB | {idle['sampled_peak_mb']:.1f} MB |",
        f"| airing the 60-minute programme ({air['seconds']:.0f} s wall) | {air['ru_maxrss_mb']:.1f} MB | "
        f"{air['sampled_peak_mb']:.1f} MB |",
        f"| airing − idle | {air['ru_maxrss_mb'] - idle['ru_maxrss_mb']:+.1f} MB | "
        f"{air['sampled_peak_mb'] - idle['sampled_peak_mb']:+.1f} MB |",
        "",
        f"Items aired: {aired}/{ITEMS}. Peak {peak:.1f} MB: {verdict} (ratio airing / idle "
        f"{air['ru_maxrss_mb'] / idle['ru_maxrss_mb']:.2f}×). For scale: the programme's samples alone are "
        f"{whole:.0f} MB (mono, 16-bit), which a whole-programme load would add.",
        MARK_END,
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speed", type=float, default=60.0)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--child", choices=["idle", "air"])
    parser.add_argument("--work", type=Path)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.work, args.speed)))
        return
    idle, air = run(args.speed)
    text = section(idle, air, args.speed)
    print(text)
    if not args.no_write:
        write_section(text, MARK_BEGIN, MARK_END)


if __name__ == "__main__":
    main()
