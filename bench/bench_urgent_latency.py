"""Urgent latency: from the command to the first sample of the attention tone handed to the card.

Run: .venv/bin/python bench/bench_urgent_latency.py [--runs 20] [--no-write]

Set-up, all on this machine and real: a private PulseAudio daemon with a paced null sink
(tests/support/pulse.py) as the sound card; a station with its OnAir (player, urgent desk)
and the HTTP API in this process (uvicorn: the urgent tests' ApiServer, tests/support/api_server.py),
found by the CLI through run/serve.json like a real `serve`; a long programme item on air, so every
request cuts in on it. Each run starts
`broadcaster urgent --text …` as a new process and reads the tone's as-run row: its
`started_at` is when the first sample was handed to the card, `requested_at` when the API got
the request. Two entries are measured, interleaved: the fast one (cli.entry.main, what the
`broadcaster` script runs once pointed at it) and the installed `broadcaster` script today.
Reference in the same invocation: a bare `python -c pass` start-up.

Writes its own section of docs/BENCHMARKS.md (between markers) unless --no-write.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import wave
from datetime import datetime, timezone
from pathlib import Path

import _common  # noqa: F401  (tests/ on sys.path: support.pulse, support.api_server)
from sections import write_section

MARK_BEGIN = "<!-- bench_urgent_latency: begin -->"
MARK_END = "<!-- bench_urgent_latency: end -->"
MESSAGE = "Thông báo khẩn cấp thử nghiệm."
TARGET_MS = 500


def _quantiles(values: list[float]) -> tuple[float, float]:
    return statistics.median(values), max(values)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    from support.pulse import missing_requirements, start_pulse_server

    reason = missing_requirements()
    if reason:
        sys.exit(f"cannot run: {reason}")
    tmp = Path(tempfile.mkdtemp(prefix="bench-urgent-"))
    server = start_pulse_server()
    try:
        # this process's PortAudio plays into the daemon (before sounddevice is imported)
        server.write_asoundrc(tmp / "home")
        os.environ.update(HOME=str(tmp / "home"), PULSE_SERVER=server.address)
        results = _measure(tmp, args.runs)
    finally:
        server.stop()
        shutil.rmtree(server.directory, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
    section = _report(results, args.runs)
    print(section)
    if not args.no_write:
        write_section(section, MARK_BEGIN, MARK_END)


def _measure(tmp: Path, runs: int) -> dict[str, list[float]]:
    from support.api_server import ApiServer

    from broadcaster.config import load_settings
    from broadcaster.playout.player import Player
    from broadcaster.station.facade import Station

    data_dir = tmp / "data"
    settings = load_settings(data_dir, engine_order=["espeak"])
    station = Station.open(settings)
    onair = station.on_air(
        player_factory=lambda: Player(sample_rate=settings.sample_rate, fade_ms=settings.fade_ms),
        stop=threading.Event(),
        say=lambda message: None,
    )
    if not onair.ensure_device():
        sys.exit("the PulseAudio sink could not be opened")
    with ApiServer(station, onair, data_dir):  # found by the CLI through run/serve.json, like serve
        results = _measure_runs(tmp, station, onair, settings, data_dir, runs)
    onair.player.close()
    station.close()
    return results


def _measure_runs(tmp: Path, station, onair, settings, data_dir: Path, runs: int) -> dict[str, list[float]]:
    from broadcaster.db import as_utc
    from broadcaster.playout.outcome import Outcome

    # a long programme item on air: every request cuts in on it, and it resumes after
    item = tmp / "programme.wav"
    with wave.open(str(item), "wb") as w:
        import numpy as np

        w.setnchannels(1), w.setsampwidth(2), w.setframerate(settings.sample_rate)
        t = np.arange(settings.sample_rate * 600) / settings.sample_rate
        w.writeframes((0.3 * 32767 * np.sin(2 * np.pi * 440 * t)).astype("<i2").tobytes())
    gate = station.air_gate

    def air_programme() -> None:
        # the slot loop's side of the gate, as in Station.air_slot
        while not stop_programme.is_set():
            gate.enter_item()
            try:
                station.play_file(item, player=onair.player, title="Chương trình")
            finally:
                gate.leave_item()
            gate.wait_clear()

    stop_programme = threading.Event()
    programme = threading.Thread(target=air_programme, daemon=True)
    programme.start()
    station.render_text(MESSAGE, engine="espeak", jingles=False)  # a warm speech cache for the message
    env = dict(os.environ, BROADCASTER_DATA_DIR=str(data_dir), BROADCASTER_ENGINE_ORDER='["espeak"]')
    entries = {
        "dispatch": [sys.executable, "-c", "from broadcaster.cli.entry import main; main()", "urgent"],
        "script": [str(Path(sys.executable).parent / "broadcaster"), "urgent"],
    }
    results: dict[str, list[float]] = {"dispatch": [], "script": [], "in_station": [], "python_start": []}
    for n in range(runs):
        for name, command in entries.items():
            time.sleep(1.0)  # the programme is back on air
            t0 = datetime.now(timezone.utc)
            run = subprocess.run([*command, "--text", MESSAGE], env=env, capture_output=True, text=True, timeout=60)
            if run.returncode != 0:
                sys.exit(f"urgent failed: {run.stderr}")
            job = onair.urgent.jobs()[-1]
            job.done.wait(60)
            if job.state != "done":
                sys.exit(f"urgent job ended {job.state}: {job.error}")
            tone_row = next(r for r in station.as_run_log() if r.id == job.row_ids[0])
            first = as_utc(tone_row.started_at)
            results[name].append((first - t0).total_seconds() * 1000)
            results["in_station"].append((first - as_utc(tone_row.requested_at)).total_seconds() * 1000)
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        results["python_start"].append((time.perf_counter() - t) * 1000)
        print(f"run {n + 1}/{runs}: dispatch {results['dispatch'][-1]:.0f} ms, script {results['script'][-1]:.0f} ms",
              file=sys.stderr)
    stop_programme.set()
    onair.player.interrupt(Outcome.INTERRUPTED)
    onair.urgent.shutdown()
    return results


def _report(results: dict[str, list[float]], runs: int) -> str:
    rows = [
        ("`broadcaster urgent` via `cli.entry.main` (fast entry) → first tone sample", results["dispatch"]),
        ("the installed `broadcaster urgent` command", results["script"]),
        ("request received by the API → first tone sample (inside the station)", results["in_station"]),
        ("reference: bare `python -c pass` start-up", results["python_start"]),
    ]
    lines = [
        MARK_BEGIN,
        f"### Urgent latency ({runs} runs per entry, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, "
        f"{platform.machine()}, Python {platform.python_version()})",
        "",
        "Command: `.venv/bin/python bench/bench_urgent_latency.py`. Paced PulseAudio null sink; API server "
        "in-process (uvicorn, found through run/serve.json); each request cuts in on a programme item. "
        "Target: command → first sample of the attention tone handed to the card ≤ 500 ms.",
        "",
        "| measure | median | worst |",
        "|---|---:|---:|",
    ]
    for label, values in rows:
        median, worst = _quantiles(values)
        lines.append(f"| {label} | {median:.0f} ms | {worst:.0f} ms |")
    d_med, d_worst = _quantiles(results["dispatch"])
    s_med, s_worst = _quantiles(results["script"])
    lines += [
        "",
        f"Fast entry: {'**target met**' if d_worst <= TARGET_MS else '**target missed**'} "
        f"(worst {d_worst:.0f} ms). Installed `broadcaster` command: "
        f"{'**target met**' if s_worst <= TARGET_MS else '**target missed**'} (median {s_med:.0f} ms, worst "
        f"{s_worst:.0f} ms): its entry point is `broadcaster.cli.entry:main`, which sends `urgent` to a "
        "running serve before importing the rest of the CLI (with the full CLI imported first it took ~880 ms).",
        MARK_END,
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
