"""A station and its loudspeaker clusters, all real processes (issue 14 tests 6, 7 and the bench):
`broadcaster serve` with a stream_url into a real Icecast (tests/support/icecast.py), and
`broadcaster receiver` processes, each with its own file sound card (tests/support/cards.py) and
data directory, on loopback or inside a network namespace of its own (tests/support/netns.py).

    station = StationProc(tmp_path / "station", icecast)
    token = station.add_receiver("Cụm 1", zone="Thôn Đông")      # `broadcaster receivers add`
    station.start()
    rx = ReceiverProc(tmp_path / "rx1", "Cụm 1", token, zone="Thôn Đông").start(station.url)
    station.add_tone_slot("Tin thử", tone_wav, seconds=12)     # airs in ~2 s

Everything follows the contract of /work/notes/icecast_contract.md: the settings' env names, the
CLI commands, `receivers list --json`, the receiver's own `log --json --data-dir D`.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from support.cards import FileCard

BIN = Path(sys.executable).parent / "broadcaster"


def base_env(**extra: str) -> dict:
    """This environment without a data directory or PulseAudio of its own; offline speech."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BROADCASTER_", "PULSE_"))}
    env.update(BROADCASTER_ENGINE_ORDER='["espeak"]', PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def tail(path: Path, chars: int = 2000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


def _stop(proc: subprocess.Popen | None, timeout: float = 30.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


class StationProc:
    """`broadcaster serve` on a data directory of its own, its card a file capture, feeding Icecast."""

    def __init__(self, directory: Path, icecast, *, mount: str = "/dai.mp3", host: str = "127.0.0.1",
                 public_host: str | None = None, **settings: str) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.data_dir = self.directory / "data"
        self.card = FileCard(self.directory / "card", "station")
        self.icecast = icecast
        self.mount = mount
        self.host = host
        env = {"BROADCASTER_DATA_DIR": str(self.data_dir),
               "BROADCASTER_STREAM_URL": icecast.source_url(mount),
               "BROADCASTER_RECEIVER_REPORT_S": "1", "BROADCASTER_RECEIVER_OFFLINE_S": "6"}
        if public_host:
            env["BROADCASTER_STREAM_PUBLIC_HOST"] = public_host
        env.update({f"BROADCASTER_{k.upper()}": v for k, v in settings.items()})
        self.env = self.card.env(base_env(**env))
        self.log_path = self.directory / "serve.log"
        self.proc: subprocess.Popen | None = None
        self.url: str | None = None

    @property
    def db(self) -> Path:
        return self.data_dir / "broadcaster.db"

    def cli(self, *args: str, timeout: float = 120, input: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN), *args], env=self.env, capture_output=True, text=True, timeout=timeout,
                              input=input)

    def add_receiver(self, name: str, zone: str | None = None) -> str:
        """`broadcaster receivers add NAME [--zone Z]`: the token it prints once (from its command line)."""
        run = self.cli("receivers", "add", name, *(["--zone", zone] if zone else []))
        assert run.returncode == 0, run.stderr
        m = re.search(r"--token[ =](\S+)", run.stdout)
        assert m, f"no --token in what `receivers add` printed: {run.stdout!r}"
        return m.group(1).strip("'\"")

    def receivers(self) -> list[dict]:
        """`broadcaster receivers list --json`."""
        run = self.cli("receivers", "list", "--json")
        assert run.returncode == 0, run.stderr
        return json.loads(run.stdout)

    def receiver(self, name: str) -> dict:
        return next(r for r in self.receivers() if r["name"] == name)

    def start(self, timeout: float = 120) -> "StationProc":
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen([str(BIN), "serve", "--host", self.host, "--port", "0"], env=self.env,
                                         stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        info = self.data_dir / "run" / "serve.json"
        deadline = time.monotonic() + timeout
        while not info.exists():
            assert self.proc.poll() is None, f"serve exited {self.proc.returncode}: {tail(self.log_path)}"
            assert time.monotonic() < deadline, f"serve did not start: {tail(self.log_path)}"
            time.sleep(0.1)
        self.url = json.loads(info.read_text())["url"]
        return self

    def url_for(self, host: str) -> str:
        """The console's address as a receiver at `host`'s side reaches it (serve on 0.0.0.0)."""
        return f"http://{host}:{self.url.rsplit(':', 1)[1]}"

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        _stop(self.proc)

    def output(self) -> str:
        return tail(self.log_path, 100_000)

    # ------------------------------------------------------------------ the timetable
    def add_tone_slot(self, name: str, item: Path, *, seconds: float, lead_s: float = 2.0) -> datetime:
        """A one-off slot `lead_s` from now airing one approved bulletin whose item is `item` (marked
        rendered, as a finished render leaves it). The running serve picks it up (timetable version)."""
        from sqlmodel import Session

        from broadcaster.config import load_settings
        from broadcaster.models import Bulletin, BulletinStatus
        from broadcaster.scheduling import store
        from broadcaster.scheduling.timetable import Slot
        from broadcaster.station.facade import Station

        station = Station.open(load_settings(self.data_dir, engine_order=["espeak"]))
        try:
            bulletin = station.add_bulletin(title=name, text=f"{name}.")
            with Session(station.db) as session:
                row = session.get(Bulletin, bulletin.id)
                row.status, row.approved_at = BulletinStatus.approved, datetime.now(timezone.utc)
                row.item_path, row.item_engine, row.item_duration_s = str(item), "test", float(seconds)
                row.render_state = "done"
                session.add(row)
                session.commit()
            at = (datetime.now(timezone.utc) + timedelta(seconds=lead_s)).replace(microsecond=0) + timedelta(seconds=1)
            local = at.astimezone(station.tz)
            slot = Slot(name=name, at=local.time(), kind="oneoff", on_date=local.date(),
                        max_minutes=max(1, int(seconds // 60) + 2))
            with Session(station.db) as session:
                store.add_slot(session=session, slot=slot)
            return at
        finally:
            station.close()

    def as_run(self, sql_where: str = "1", *args) -> list[dict]:
        con = sqlite3.connect(self.db, timeout=30)
        con.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in con.execute(f"select * from as_run where {sql_where} order by id", args)]
        finally:
            con.close()

    def query(self, sql: str, *args) -> list[dict]:
        con = sqlite3.connect(self.db, timeout=30)
        con.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in con.execute(sql, args)]
        finally:
            con.close()


class ReceiverProc:
    """`broadcaster receiver` for one cluster: its own data directory and file card; inside a network
    namespace when `netns` is given (then it reaches the station at the namespace's host_ip)."""

    def __init__(self, directory: Path, name: str, token: str, *, zone: str | None = None, netns=None,
                 extra_args: tuple[str, ...] = (), **settings: str) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.name, self.token, self.zone, self.netns = name, token, zone, netns
        self.data_dir = self.directory / "data"
        self.card = FileCard(self.directory / "card", name)
        self.extra_args = tuple(extra_args)
        self.env = self.card.env(base_env(**{f"BROADCASTER_{k.upper()}": v for k, v in settings.items()}))
        self.log_path = self.directory / "receiver.log"
        self.proc: subprocess.Popen | None = None

    def argv(self, station_url: str) -> list[str]:
        return [str(BIN), "receiver", "--station", station_url, "--token", self.token, "--name", self.name,
                *(["--zone", self.zone] if self.zone else []), "--data-dir", str(self.data_dir), *self.extra_args]

    def start(self, station_url: str) -> "ReceiverProc":
        with open(self.log_path, "wb") as log:
            kw = dict(env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                      start_new_session=True)
            argv = self.argv(station_url)
            self.proc = self.netns.run(argv, **kw) if self.netns else subprocess.Popen(argv, **kw)
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        _stop(self.proc)

    def output(self) -> str:
        return tail(self.log_path, 100_000)

    def log_rows(self) -> list[dict]:
        """The cluster's own as-run log: `broadcaster log --json --data-dir D`."""
        run = subprocess.run([str(BIN), "log", "--json", "--data-dir", str(self.data_dir)], env=self.env,
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        return json.loads(run.stdout)


def stop_all(*procs) -> None:
    """Receivers first, then the station (it sees them go)."""
    for p in procs:
        try:
            p.stop()
        except Exception:  # a teardown: stop the others anyway
            pass


__all__ = ["BIN", "ReceiverProc", "StationProc", "base_env", "stop_all", "tail"]
