"""Start accuracy: |actual − planned| start of a slot, over 50 slots, in real time.

Run: .venv/bin/python bench/bench_start_accuracy.py [--slots 50] [--spacing 3] [--no-write]

Set-up, all real: a private PulseAudio daemon with a paced null sink (tests/support/pulse.py)
as the sound card, recorded from its monitor with parec; `broadcaster serve` in a subprocess
on a fresh data directory whose timetable holds only N one-off slots a few seconds apart, each
airing one 1-second tone item. Measured per slot:

* row: the as-run row's `started_at` (committed just before the first sample is handed to
  the card) minus the planned time — what the log says;
* heard: when the tone's first sample appears in the recording, relative to the first slot,
  against the planned spacing — the jitter a listener hears (the recording's own start time is
  not known to the millisecond, so this is relative to slot 1).

Reference in the same invocation: a bare Python timer (threading.Event.wait until each planned
time, in this process, while serve runs) — the floor that the OS scheduler allows.

Writes its own section of docs/BENCHMARKS.md (between markers) unless --no-write.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import wave
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sections import write_section

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

MARK_BEGIN = "<!-- bench_start_accuracy: begin -->"
MARK_END = "<!-- bench_start_accuracy: end -->"
RATE = 48000
TARGET_P99_MS = 100.0


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(q * (len(ordered) - 1)))))
    return ordered[index]


def _tone(path: Path, seconds: float = 1.0, hz: float = 880.0) -> Path:
    t = np.arange(round(seconds * RATE)) / RATE
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(np.round(0.3 * 32767 * np.sin(2 * np.pi * hz * t)).astype("<i2").tobytes())
    return path


def _setup(data_dir: Path, item: Path, slots: int, spacing: float, lead: float) -> list[datetime]:
    from sqlmodel import Session

    from broadcaster.config import load_settings
    from broadcaster.models import Bulletin, BulletinStatus
    from broadcaster.scheduling import store
    from broadcaster.scheduling.timetable import Slot, Timetable
    from broadcaster.station.facade import Station

    station = Station.open(load_settings(data_dir, engine_order=["espeak"]))
    try:
        with Session(station.db) as session:
            store.replace_slots(session=session, timetable=Timetable(timezone=station.settings.timezone, slots=()))
        bulletin = station.add_bulletin(title="Tin đo giờ", text="Tin đo giờ.")
        with Session(station.db) as session:
            row = session.get(Bulletin, bulletin.id)
            row.status, row.approved_at = BulletinStatus.approved, datetime.now(timezone.utc)
            row.item_path, row.item_engine, row.item_duration_s = str(item), "bench", 1.0
            if hasattr(row, "render_state"):  # since issue 11: serve's render worker must not redo it
                row.render_state = "done"
            session.add(row)
            session.commit()
        first = (datetime.now(timezone.utc) + timedelta(seconds=lead)).replace(microsecond=0)
        planned = []
        for n in range(slots):
            at = first + timedelta(seconds=round(n * spacing))
            local = at.astimezone(station.tz)
            slot = Slot(name=f"Đo {n:03d}", at=local.time(), kind="oneoff", on_date=local.date(), max_minutes=1)
            with Session(station.db) as session:
                store.add_slot(session=session, slot=slot)
            planned.append(at)
        return planned
    finally:
        station.close()


def _reference(planned: list[datetime], out: list[float]) -> None:
    stop = threading.Event()
    for at in planned:
        stop.wait(max(0.0, (at - datetime.now(timezone.utc)).total_seconds()))
        out.append((datetime.now(timezone.utc) - at).total_seconds() * 1000)


def _onsets(samples: np.ndarray, count: int) -> list[int]:
    loud = np.flatnonzero(np.abs(samples) > 2000)
    if not len(loud):
        return []
    starts = [int(loud[0])] + [int(loud[i + 1]) for i in np.flatnonzero(np.diff(loud) > RATE // 2)]
    return starts[:count]


def run(slots: int, spacing: float) -> dict:
    from support.pulse import start_pulse_server

    work = Path(tempfile.mkdtemp(prefix="bench-start-"))
    server = start_pulse_server()
    try:
        data_dir = work / "data"
        item = _tone(work / "item.wav")
        lead = 12.0  # serve's start-up (imports, scheduler, sound card) stays out of the figures
        planned = _setup(data_dir, item, slots, spacing, lead)
        env = server.client_env(home=work / "home")
        env.update(BROADCASTER_DATA_DIR=str(data_dir), BROADCASTER_ENGINE_ORDER='["espeak"]', PYTHONUNBUFFERED="1")
        recorder = server.record(work / "heard.wav")
        recorder.wait_flowing()
        with open(work / "serve.log", "wb") as log:
            serve = subprocess.Popen(
                [str(Path(sys.executable).parent / "broadcaster"), "serve", "--port", "0"],
                env=env, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
            )
        reference: list[float] = []
        ref_thread = threading.Thread(target=_reference, args=(planned, reference), daemon=True)
        ref_thread.start()
        db = data_dir / "broadcaster.db"
        deadline = time.monotonic() + lead + slots * spacing + 60
        rows: list[tuple] = []
        while time.monotonic() < deadline:
            with sqlite3.connect(db, timeout=10) as con:
                rows = con.execute(
                    "SELECT slot, status, started_at, planned_at FROM as_run WHERE slot LIKE 'Đo %' "
                    "AND status != 'on_air' ORDER BY slot"
                ).fetchall()
            if len(rows) >= slots:
                break
            time.sleep(0.5)
        time.sleep(0.5)
        recorder.stop()
        serve.send_signal(signal.SIGINT)
        try:
            serve.wait(20)
        except subprocess.TimeoutExpired:
            serve.kill()
        ref_thread.join(5)
        by_slot = {r[0]: r for r in rows}
        row_ms, statuses = [], []
        for n, at in enumerate(planned):
            row = by_slot.get(f"Đo {n:03d}")
            if row is None:
                statuses.append("none")
                continue
            statuses.append(row[1])
            started = datetime.fromisoformat(row[2])
            started = started if started.tzinfo else started.replace(tzinfo=timezone.utc)
            row_ms.append(abs((started - at).total_seconds()) * 1000)
        onsets = _onsets(recorder.samples()[:, 0], slots)
        heard_ms = []
        if len(onsets) == slots:
            for n in range(1, slots):
                expected = (planned[n] - planned[0]).total_seconds()
                heard_ms.append(abs((onsets[n] - onsets[0]) / RATE - expected) * 1000)
        return {
            "row_ms": row_ms,
            "heard_ms": heard_ms,
            "reference_ms": [abs(v) for v in reference],
            "statuses": statuses,
            "onsets": len(onsets),
        }
    finally:
        server.stop()
        shutil.rmtree(server.directory, ignore_errors=True)
        if os.environ.get("BENCH_KEEP"):
            print("kept", work, file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


def section(result: dict, slots: int, spacing: float) -> str:
    def line(label: str, values: list[float]) -> str:
        if not values:
            return f"| {label} | – | – | – | 0 |"
        return (
            f"| {label} | {statistics.median(values):.1f} ms | {_pct(values, 0.99):.1f} ms | {max(values):.1f} ms "
            f"| {len(values)} |"
        )

    row_ms, ref = result["row_ms"], result["reference_ms"]
    p99 = _pct(row_ms, 0.99) if row_ms else float("nan")
    aired = sum(s == "aired" for s in result["statuses"])
    verdict = "**target met**" if row_ms and p99 <= TARGET_P99_MS and aired == slots else "**target missed**"
    ratio = (statistics.median(row_ms) / statistics.median(ref)) if row_ms and ref and statistics.median(ref) else None
    now = datetime.now(timezone.utc)
    return "\n".join([
        MARK_BEGIN,
        f"### Start accuracy ({slots} slots {spacing:g} s apart, {now:%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
        f"Python {platform.python_version()})",
        "",
        f"Command: `.venv/bin/python bench/bench_start_accuracy.py --slots {slots} --spacing {spacing:g}`. "
        "`broadcaster serve` in a subprocess on a paced PulseAudio null sink, real clock, one 1-s item per "
        "one-off slot. Target: p99 of |actual − planned| ≤ 100 ms.",
        "",
        "| measure | median | p99 | worst | n |",
        "|---|---:|---:|---:|---:|",
        line("as-run row `started_at` − planned (committed just before the first sample)", row_ms),
        line("heard in the recording: onset spacing − planned spacing (relative to slot 1)", result["heard_ms"]),
        line("reference: bare Python timer (`Event.wait` until the planned time, same run)", ref),
        "",
        f"Slots aired: {aired}/{slots}. Row p99 {p99:.1f} ms: {verdict}."
        + (f" Median row / median reference: {ratio:.1f}×." if ratio else ""),
        MARK_END,
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slots", type=int, default=50)
    parser.add_argument("--spacing", type=float, default=3.0)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    result = run(args.slots, args.spacing)
    text = section(result, args.slots, args.spacing)
    print(text)
    if not args.no_write:
        write_section(text, MARK_BEGIN, MARK_END)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
