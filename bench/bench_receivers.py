"""Loudspeaker clusters through Icecast (issue 14 Measure): 50 receivers on loopback.

Run: .venv/bin/python bench/bench_receivers.py [--receivers 50] [--urgents 5] [--cuts 3] [--cut-s 30] [--no-write]

Set-up, all real processes on this machine: Debian's icecast2 (tests/support/icecast.py, the
low-latency config `broadcaster icecast-config` prints); `broadcaster serve` with a stream_url,
its card an ALSA file capture; N `broadcaster receiver` processes (zones: none / Thôn Đông /
Xóm Bãi in turn), each with its own data directory and its own file card (ALSA `file` over
`null`: nothing audible, the player holds it to real time). One receiver runs inside a network
namespace of its own (tests/support/netns.py) when namespaces can be made here, for the link cuts.
A watcher tails every card's capture, so each sample handed to a card gets the wall time it
arrived (poll every 20 ms; the file device writes one ALSA buffer behind the player).

Measured:
* CPU and memory of the station (serve + its ffmpeg encoders: the process tree) over a window,
  in three states: a plain serve with no stream_url (idle, the reference), serve feeding Icecast
  with no receiver, and serve with every receiver playing and reporting. Icecast's own, and the
  receivers' mean per process tree.
* Urgent latency (`broadcaster urgent --text` for all clusters, out of silence): command → first
  tone sample handed to the station's card, to a bare ffmpeg listener on the main mount (in this
  process, low-latency flags: what Icecast + the decoder add), and to each receiver's card
  (median and worst over receivers and runs). Target ≤ 2 s.
* Resume: the namespaced receiver's link cut for --cut-s and restored, with a programme tone on
  air: link back → first programme sample on its card.

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
from datetime import datetime, timezone
from pathlib import Path

from _common import wait
from sections import write_section

MARK_BEGIN = "<!-- bench_receivers: begin -->"
MARK_END = "<!-- bench_receivers: end -->"
MESSAGE = "Thông báo khẩn cấp thử nghiệm cho các cụm loa."
TARGET_S = 2.0
RESUME_TARGET_S = 5.0
ZONES = (None, "Thôn Đông", "Xóm Bãi")
RATE = 48000


# ---------------------------------------------------------------------- process trees
def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(entry))
    return kids


def _tree(pid: int, kids: dict[int, list[int]]) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def _cpu_rss(pids: list[int]) -> tuple[float, float]:
    """(CPU seconds used so far, RSS MB now) summed over pids."""
    tick = os.sysconf("SC_CLK_TCK")
    cpu, rss = 0.0, 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            cpu += (int(fields[11]) + int(fields[12])) / tick
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss += int(line.split()[1]) / 1024
        except (OSError, IndexError, ValueError):
            continue
    return cpu, rss


def sample_load(roots: dict[str, list[int]], seconds: float) -> dict[str, tuple[float, float]]:
    """{name: (CPU % of one core, mean RSS MB)} of each group of process trees over `seconds`."""
    def snapshot():
        kids = _children()
        return {name: _cpu_rss([p for root in pids for p in _tree(root, kids)]) for name, pids in roots.items()}

    first, t0 = snapshot(), time.monotonic()
    rss: dict[str, list[float]] = {name: [] for name in roots}
    stop = threading.Event()
    while not stop.wait(1.0):
        for name, (_, r) in snapshot().items():
            rss[name].append(r)
        if time.monotonic() - t0 >= seconds:
            break
    last, t1 = snapshot(), time.monotonic()
    return {name: (100.0 * (last[name][0] - first[name][0]) / (t1 - t0), statistics.mean(rss[name] or [last[name][1]]))
            for name in roots}


# ---------------------------------------------------------------------- a bare listener
class Listener:
    """ffmpeg decoding a mount with the low-latency flags; dates the PCM as it arrives."""

    def __init__(self, url: str) -> None:
        import imageio_ffmpeg
        import numpy as np

        self.np = np
        self.proc = subprocess.Popen(
            [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-fflags", "nobuffer",
             "-probesize", "32k", "-analyzeduration", "0", "-i", url, "-f", "s16le", "-ar", str(RATE), "-ac", "1",
             "pipe:1"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        self.marks: list[tuple[float, int]] = []
        self.chunks: list = []
        self.frames = 0
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        rest = b""
        while chunk := self.proc.stdout.read1(8192):
            data = rest + chunk
            usable = len(data) - len(data) % 2
            rest = data[usable:]
            block = self.np.frombuffer(data[:usable], "<i2")
            with self.lock:
                self.chunks.append(block)
                self.frames += len(block)
                self.marks.append((time.time(), self.frames))

    def onset_after(self, wall: float, threshold: int = 1000) -> float | None:
        with self.lock:
            marks = list(self.marks)
            audio = self.np.concatenate(self.chunks) if self.chunks else self.np.zeros(0, "<i2")
        start = next((f for t, f in reversed(marks) if t <= wall), 0)
        hits = self.np.flatnonzero(self.np.abs(audio[start:].astype("int32")) >= threshold)
        if not len(hits):
            return None
        frame = start + int(hits[0])
        return next((t for t, f in marks if f > frame), None)

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(10)


# ---------------------------------------------------------------------- the run
def _epoch(text: str) -> float:
    value = datetime.fromisoformat(text)
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()


def _onset(watch, card, wall: float, threshold: int = 1000) -> float | None:
    from support.cards import first_loud_frame

    start = watch.frame_at(card, wall)
    frame = first_loud_frame(watch.samples(card, start), threshold=threshold)
    return None if frame is None else watch.wall_time(card, start + frame)


def run(args) -> dict:
    from support.cards import CaptureWatch, first_window, tone_windows, write_tone
    from support.clusters import ReceiverProc, StationProc, stop_all
    from support.icecast import IcecastServer
    from support.netns import NetNamespace, netns_available

    from broadcaster.streaming.urls import zone_mount

    work = Path(tempfile.mkdtemp(prefix="bench-rx-"))
    icecast = IcecastServer(bind_address=None).start()
    ns_ok, ns_reason = netns_available()
    ns = NetNamespace("bench").create() if ns_ok and args.cuts else None
    result: dict = {"receivers": args.receivers, "netns": ns_ok, "netns_reason": ns_reason}
    receivers: list = []
    station = None
    watch = None
    listener = None
    try:
        # ---- the reference: a plain serve, no stream_url
        plain = StationProc(work / "plain", icecast)
        plain.env.pop("BROADCASTER_STREAM_URL")
        plain.start()
        time.sleep(args.settle_s)  # start-up (imports, first render of the tone) out of the window
        result["plain"] = sample_load({"station": [plain.proc.pid]}, args.window_s)["station"]
        plain.stop()

        # ---- the station with its fan-out
        station = StationProc(work / "station", icecast, host="0.0.0.0", public_host=ns.host_ip if ns else None,
                              receiver_report_s=f"{args.report_s:g}", receiver_offline_s=f"{4 * args.report_s:g}")
        tokens = []
        for n in range(args.receivers):
            name, zone = f"Cụm loa {n + 1:02d}", ZONES[n % len(ZONES)]
            tokens.append((name, zone, station.add_receiver(name, zone)))
        station.start()
        zones = sorted({zone for _, zone, _ in tokens if zone})  # serve opens a zone's mount once it has a receiver
        result["zones"] = len(zones)
        for mount in ("/dai.mp3", *(zone_mount("/dai.mp3", zone) for zone in zones)):
            icecast.wait_mount(mount, timeout=120)
        time.sleep(args.settle_s)
        load = sample_load({"station": [station.proc.pid], "icecast": [icecast.proc.pid]}, args.window_s)
        result["fanout_idle"], result["icecast_idle"] = load["station"], load["icecast"]

        watch = CaptureWatch([station.card]).start()
        for n, (name, zone, token) in enumerate(tokens):
            in_ns = ns is not None and n == 0
            rx = ReceiverProc(work / f"rx{n:02d}", name, token, zone=zone, netns=ns if in_ns else None)
            watch.add(rx.card)
            rx.start(station.url_for(ns.host_ip) if in_ns else station.url)
            receivers.append(rx)
        started = time.monotonic()
        wait(lambda: sum(r["online"] for r in station.receivers()) == len(receivers), 300, "every receiver online",
             step=2.0)
        wait(lambda: all(watch.frames(r.card) > RATE for r in receivers), 120, "every receiver's card playing")
        result["all_online_s"] = time.monotonic() - started
        time.sleep(args.settle_s)
        load = sample_load({"station": [station.proc.pid], "icecast": [icecast.proc.pid],
                            "receivers": [r.proc.pid for r in receivers]}, args.window_s)
        result["fanout_busy"], result["icecast_busy"] = load["station"], load["icecast"]
        result["receiver_each"] = (load["receivers"][0] / len(receivers), load["receivers"][1] / len(receivers))

        # ---- urgent latency, out of silence
        listener = Listener(icecast.listen_url("/dai.mp3"))
        wait(lambda: listener.frames > RATE, 60, "the bare listener decoding")
        lat: dict[str, list[float]] = {"card": [], "listener": [], "receivers": [], "receiver_after_listener": [],
                                       "row": [], "capture_lag": []}
        warm = station.cli("urgent", "--text", MESSAGE, timeout=180)  # not counted: the first speech is cold
        if warm.returncode != 0:
            raise SystemExit(f"bench: urgent failed: {warm.stderr}")
        wait(lambda: station.as_run("kind = 'urgent' and status != 'on_air'")
             and not station.as_run("kind = 'urgent' and status = 'on_air'"), 120, "the warm-up urgent ends")
        def quiet() -> bool:  # every card has played silence for the last second
            t = time.time() - 1.0
            return all(_onset(watch, card, t) is None for card in [station.card, *[r.card for r in receivers]])

        for k in range(args.urgents):
            wait(quiet, 60, "silence on every card before the command")
            closed = len(station.as_run("kind = 'urgent' and status != 'on_air'"))
            closed_max = max((r["id"] for r in station.as_run("1")), default=0)
            t0 = time.time()
            run_ = station.cli("urgent", "--text", MESSAGE, timeout=180)
            if run_.returncode != 0:
                raise SystemExit(f"bench: urgent failed: {run_.stderr}")
            wait(lambda: _onset(watch, station.card, t0), 60, "the urgent on the station's card")
            card_t = _onset(watch, station.card, t0)
            heard_l = wait(lambda: listener.onset_after(t0), 60, "the urgent at the bare listener")
            onsets: dict[str, float | None] = {r.name: None for r in receivers}

            def every_card_heard() -> bool:
                for r in receivers:
                    if onsets[r.name] is None:
                        onsets[r.name] = _onset(watch, r.card, t0)
                return all(v is not None for v in onsets.values())

            wait(every_card_heard, 90, "the urgent on every receiver's card")
            # the tone's row is committed just before its first sample is handed to the card
            first_row = next(iter(station.as_run("kind = 'urgent' and id > ?", closed_max)), None)
            if first_row and first_row["started_at"]:
                lat["row"].append(_epoch(first_row["started_at"]) - t0)
                lat["capture_lag"].append(card_t - _epoch(first_row["started_at"]))
            lat["card"].append(card_t - t0)
            lat["listener"].append(heard_l - t0)
            lat["receivers"] += [t - t0 for t in onsets.values()]
            lat["receiver_after_listener"] += [t - heard_l for t in onsets.values()]
            wait(lambda: len(station.as_run("kind = 'urgent' and status != 'on_air'")) > closed
                 and not station.as_run("kind = 'urgent' and status = 'on_air'"), 120, "the urgent ends")
            print(f"urgent {k + 1}/{args.urgents}: card {card_t - t0:.2f} s, listener {heard_l - t0:.2f} s, "
                  f"receivers median {statistics.median(onsets.values()) - t0:.2f} s, "
                  f"worst {max(onsets.values()) - t0:.2f} s", file=sys.stderr)
        result["latency"] = lat

        # ---- resume after the link returns
        resumes = []
        if ns is not None:
            rx = receivers[0]
            length = args.cuts * (args.cut_s + 40) + 30
            station.add_tone_slot("Chương trình đo", write_tone(work / "programme.wav", 440, length), seconds=length)
            wait(lambda: tone_windows(watch.samples(rx.card), 440).sum() >= 40, 120, "the programme at the cluster")
            for k in range(args.cuts):
                ns.cut()
                threading.Event().wait(args.cut_s)
                ns.restore()
                t_back = time.time()
                since = watch.frame_at(rx.card, t_back)

                def heard():
                    first = first_window(tone_windows(watch.samples(rx.card, since), 440))
                    return None if first is None else watch.wall_time(rx.card, since + first * 2400)

                back = wait(heard, 120, "the cluster plays again")
                resumes.append(back - t_back)
                print(f"cut {k + 1}/{args.cuts}: resumed {back - t_back:.2f} s after the link returned", file=sys.stderr)
                time.sleep(10.0)  # playing steadily again before the next cut
        result["resume"] = resumes
        result["cpus"] = os.cpu_count()
        result["load"] = os.getloadavg()
    finally:
        if listener:
            listener.close()
        stop_all(*receivers, *([station] if station else []))
        if watch:
            watch.stop()
        if ns:
            ns.close()
        icecast.cleanup()
        if os.environ.get("BENCH_KEEP"):
            print("kept", work, file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return result


def section(r: dict, args) -> str:
    def cpu(v):
        return f"{v[0]:.1f} % | {v[1]:.0f} MB"

    lat = r["latency"]

    def row(label, values):
        if not values:
            return f"| {label} | – | – | 0 |"
        return f"| {label} | {statistics.median(values):.2f} s | {max(values):.2f} s | {len(values)} |"

    worst = max(lat["receivers"]) if lat["receivers"] else float("nan")
    median = statistics.median(lat["receivers"]) if lat["receivers"] else float("nan")
    share = (statistics.median(lat["listener"]) - statistics.median(lat["card"])) if lat["listener"] else float("nan")
    resume = r["resume"]
    now = datetime.now(timezone.utc)
    lines = [
        MARK_BEGIN,
        f"### Loudspeaker clusters through Icecast ({r['receivers']} receivers on loopback, {now:%Y-%m-%d %H:%M} UTC, "
        f"{platform.machine()}, {r['cpus']} cores, Python {platform.python_version()})",
        "",
        f"Command: `.venv/bin/python bench/bench_receivers.py --receivers {args.receivers} --urgents {args.urgents} "
        f"--cuts {args.cuts} --cut-s {args.cut_s:g} --report-s {args.report_s:g}`. Real icecast2, real `serve` and "
        f"`receiver` processes, each receiver reporting every {args.report_s:g} s (receiver_report_s); every "
        "card an ALSA file capture over `null` (held to real time by the player), tailed every 20 ms. Load "
        f"average at the end: {' / '.join(f'{x:.1f}' for x in r['load'])} (other sessions share the machine).",
        "",
        f"CPU (% of one core) and memory (RSS, process tree incl. ffmpeg), each over {args.window_s:g} s:",
        "",
        "| process | CPU | RSS |",
        "|---|---:|---:|",
        f"| station, idle: `serve` without stream_url (reference) | {cpu(r['plain'])} |",
        f"| station feeding Icecast (main + {r['zones']} zone mount{'' if r['zones'] == 1 else 's'}), no receiver "
        f"| {cpu(r['fanout_idle'])} |",
        f"| station feeding Icecast, {r['receivers']} receivers playing and reporting | {cpu(r['fanout_busy'])} |",
        f"| Icecast, no listener | {cpu(r['icecast_idle'])} |",
        f"| Icecast, {r['receivers']} listeners | {cpu(r['icecast_busy'])} |",
        f"| one receiver (mean per process tree: Python + its ffmpeg decoder) | {cpu(r['receiver_each'])} |",
        "",
        f"Urgent latency (`broadcaster urgent --text`, all clusters, {args.urgents} runs; every receiver counted "
        f"in each run). Target: command → first tone sample on each receiver's card ≤ {TARGET_S:g} s.",
        "",
        "| measure | median | worst | n |",
        "|---|---:|---:|---:|",
        row("command → the tone's as-run row on the station (committed just before its first sample)", lat["row"]),
        row("command → first tone sample on the station's card (capture)", lat["card"]),
        row("the file capture's own lag (as-run row → the sample in the capture file)", lat["capture_lag"]),
        row("command → first tone sample out of a bare ffmpeg listener on the main mount", lat["listener"]),
        row("command → first tone sample on a receiver's card", lat["receivers"]),
        row("bare listener → receiver's card (the receiver's own buffer + player)", lat["receiver_after_listener"]),
        "",
        f"Receivers: median {median:.2f} s, worst {worst:.2f} s: "
        + ("**target met**" if worst <= TARGET_S else "**target missed**")
        + f". Share of Icecast + encoder + decoder buffering (station card → bare listener, medians): {share:.2f} s.",
        "",
    ]
    if resume:
        lines.append(f"Resume after a link cut of {args.cut_s:g} s (the namespaced receiver, {len(resume)} cuts): "
                     f"median {statistics.median(resume):.2f} s, worst {max(resume):.2f} s from the link returning "
                     f"to the first programme sample on its card (target ≤ {RESUME_TARGET_S:g} s: "
                     + ("**met**" if max(resume) <= RESUME_TARGET_S else "**missed**") + ").")
    else:
        lines.append(f"Resume after a link cut: not measured ({r['netns_reason'] or 'no cuts asked'}).")
    lines.append(MARK_END)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--receivers", type=int, default=50)
    parser.add_argument("--urgents", type=int, default=5)
    parser.add_argument("--cuts", type=int, default=3)
    parser.add_argument("--cut-s", type=float, default=30.0)
    parser.add_argument("--report-s", type=float, default=5.0, help="receiver_report_s (the default: 5 s)")
    parser.add_argument("--window-s", type=float, default=20.0)
    parser.add_argument("--settle-s", type=float, default=5.0)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    result = run(args)
    text = section(result, args)
    print(text)
    if not args.no_write:
        write_section(text, MARK_BEGIN, MARK_END)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
