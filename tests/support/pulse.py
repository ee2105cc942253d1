"""A paced software sound card for tests: a private PulseAudio daemon with a null sink.

ALSA's `null` device swallows audio as fast as it is written, so it can check content but
never timing. PulseAudio's null sink consumes audio in real time, and its monitor source
lets `parec` record exactly what was played. Each PulseServer is a daemon of its own, in
its own temporary directories, reachable only through its own socket: nothing touches a
desktop session's PulseAudio, and tests can kill it to stage a vanishing sound card.

How a test uses it — in-process, through the fixtures at the end of this file:

    # conftest.py
    from support.pulse import pulse_default_device, pulse_server  # noqa: F401

    def test_something(pulse_default_device, tmp_path):   # ALSA "default" → the daemon
        rec = pulse_default_device.record(tmp_path / "heard.wav")
        rec.wait_flowing()                                  # parec is receiving audio
        with Player() as player:                            # PortAudio's default device
            player.play(item)
        time.sleep(0.15)                                    # parec is ~20 ms behind the sink
        rec.stop()                                          # SIGINT: parec writes the WAV header
        heard = rec.samples()                               # int16, (frames, channels)

or for a subprocess (`broadcaster serve`): `env = pulse_server.client_env(home=tmp_path / "home")`.
A fresh daemon starts in ~0.15 s. It is woken and kept running by a throw-away recorder, so
no client meets the up-to-2-s stall of an idle null sink.

Needs the `pulseaudio` and `pulseaudio-utils` (parec, pactl) Debian packages, plus
`libasound2-plugins` for ALSA's pulse plugin. POSIX only (signals, unix socket).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

RATE = 48000
SINK = "out"
PULSE_ALSA_PLUGIN_GLOBS = (
    "/usr/lib/*/alsa-lib/libasound_module_pcm_pulse.so",
    "/usr/lib/alsa-lib/libasound_module_pcm_pulse.so",
    "/usr/lib64/alsa-lib/libasound_module_pcm_pulse.so",
)


def _find_prctl():
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux
        return None


_PRCTL = _find_prctl()  # looked up once here: a dlopen in a forked child could deadlock


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM when the test process dies (Linux), so an
    interrupted or crashed test run never leaves daemons and recorders behind.

    Linux ties this to the *thread* that started the child: start servers and recorders
    from the main thread (fixtures do), not from a short-lived helper thread.
    """
    if _PRCTL is not None:
        _PRCTL(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def missing_requirements() -> str | None:
    """Why paced tests cannot run here (a skip reason), or None when they can."""
    if os.name != "posix":
        return "PulseAudio null sink tests need a POSIX system"
    for tool, package in (("pulseaudio", "pulseaudio"), ("parec", "pulseaudio-utils"), ("pactl", "pulseaudio-utils")):
        if shutil.which(tool) is None:
            return f"`{tool}` not found: install the Debian package {package}"
    import glob

    if not any(glob.glob(pattern) for pattern in PULSE_ALSA_PLUGIN_GLOBS):
        return "ALSA's pulse plugin not found: install the Debian package libasound2-plugins"
    return None


def read_wav_lenient(path: Path) -> tuple[np.ndarray, int, int]:
    """(int16 samples shaped (frames, channels), rate, channels) from a PCM WAV with any header.

    Recorders killed mid-way (and ALSA's file plugin) leave bogus RIFF/data lengths, so the
    chunk sizes are ignored for the data chunk: everything after its header is audio.
    """
    raw = Path(path).read_bytes()
    if raw[:4] != b"RIFF" or raw[8:12] != b"WAVE":
        raise ValueError(f"{path}: not a WAV file")
    pos, rate, channels = 12, RATE, 1
    while pos + 8 <= len(raw):
        chunk_id, size = raw[pos : pos + 4], int.from_bytes(raw[pos + 4 : pos + 8], "little")
        body = pos + 8
        if chunk_id == b"fmt ":
            fmt = raw[body : body + 16]
            channels = int.from_bytes(fmt[2:4], "little")
            rate = int.from_bytes(fmt[4:8], "little")
            bits = int.from_bytes(fmt[14:16], "little")
            if bits != 16:
                raise ValueError(f"{path}: {bits}-bit, expected 16-bit PCM")
        elif chunk_id == b"data":
            data = raw[body:]
            data = data[: len(data) - len(data) % (2 * channels)]
            return np.frombuffer(data, dtype="<i2").reshape(-1, channels), rate, channels
        pos = body + size + (size & 1)
    raise ValueError(f"{path}: no data chunk")


@dataclass
class Recorder:
    """`parec` recording the null sink's monitor into a WAV file."""

    server: PulseServer
    path: Path
    channels: int
    process: subprocess.Popen | None = None

    def start(self) -> Recorder:
        """Start parec; its WAV header is completed when stop() sends SIGINT."""
        # a stale file would make frames_so_far() count audio that was never recorded
        self.path.unlink(missing_ok=True)
        with open(self._log_path, "wb") as log:  # a file, not a pipe: a full pipe would block parec
            self.process = subprocess.Popen(
                [
                    "parec", "--latency-msec=20", "--file-format=wav", "-d", f"{SINK}.monitor",
                    f"--rate={RATE}", f"--channels={self.channels}", "--format=s16le", str(self.path),
                ],
                env=self.server.client_env(),
                stdout=subprocess.DEVNULL,
                stderr=log,
                preexec_fn=_die_with_parent,
            )
        return self

    @property
    def _log_path(self) -> Path:
        return self.path.with_name(self.path.name + ".parec.log")

    def frames_so_far(self) -> int:
        """Frames written to the file so far (a clock in units of the recording)."""
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return 0
        return max(0, size - 44) // (2 * self.channels)

    def wait_flowing(self, *, frames: int = RATE // 10, timeout: float = 10.0) -> None:
        """Block until `frames` frames have been recorded: the sink is running and paced.

        The first client to wake an idle null sink may wait up to ~2 s; waiting here keeps
        that stall out of the measurements of the code under test.
        """
        deadline = time.monotonic() + timeout
        start = self.frames_so_far()
        while self.frames_so_far() - start < frames:
            if self.process is not None and self.process.poll() is not None:
                err = self._log_path.read_text(errors="replace") if self._log_path.exists() else ""
                raise RuntimeError(f"parec exited with {self.process.returncode}: {err}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"no audio recorded from {SINK}.monitor within {timeout} s")
            time.sleep(0.01)

    def stop(self) -> None:
        """SIGINT, so parec writes the WAV header; kill if it does not finish."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)

    def samples(self) -> np.ndarray:
        """The recording as int16 shaped (frames, channels); call after stop()."""
        data, rate, _ = read_wav_lenient(self.path)
        if rate != RATE:
            raise ValueError(f"recorded at {rate} Hz, expected {RATE}")
        return data

    def __enter__(self) -> Recorder:
        """The started recorder; stopped (header written) on exit."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Stop recording."""
        self.stop()


@dataclass
class PulseServer:
    """A private PulseAudio daemon: one null sink `out` (48 kHz s16le) and its monitor."""

    directory: Path
    channels: int = 1
    process: subprocess.Popen | None = None
    recorders: list[Recorder] = field(default_factory=list)
    _keepalive: subprocess.Popen | None = None
    _discarder: threading.Thread | None = None

    @property
    def socket(self) -> Path:
        """The daemon's native-protocol socket."""
        return self.directory / "run" / "native"

    @property
    def address(self) -> str:
        """The value of PULSE_SERVER for clients."""
        return f"unix:{self.socket}"

    @property
    def log_path(self) -> Path:
        """The daemon's log (useful when a paced test fails)."""
        return self.directory / "pulseaudio.log"

    def client_env(self, home: Path | None = None) -> dict[str, str]:
        """Environment for a client process (parec, pactl, a `broadcaster serve` subprocess).

        With `home`, HOME points there and gets an ~/.asoundrc routing ALSA's default device
        to this daemon, so PortAudio in the subprocess plays into the null sink.
        """
        env = dict(os.environ)
        env["PULSE_SERVER"] = self.address
        if home is not None:
            self.write_asoundrc(Path(home))
            env["HOME"] = str(home)
        return env

    def start(self, *, timeout: float = 15.0) -> PulseServer:
        """Start the daemon and wait until it answers with the sink loaded."""
        home, run = self.directory / "home", self.directory / "run"
        home.mkdir(parents=True, exist_ok=True)
        run.mkdir(parents=True, exist_ok=True)
        run.chmod(0o700)
        script = self.directory / "null-sink.pa"
        script.write_text(
            f"load-module module-native-protocol-unix auth-anonymous=1 socket={self.socket}\n"
            f"load-module module-null-sink sink_name={SINK} rate={RATE} format=s16le channels={self.channels}\n"
            f"set-default-sink {SINK}\n"
            f"set-default-source {SINK}.monitor\n"
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("PULSE_")}
        env.update(HOME=str(home), XDG_RUNTIME_DIR=str(run), XDG_CONFIG_HOME=str(home / ".config"))
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [
                    "pulseaudio", "-n", "-F", str(script), "--daemonize=no", "--exit-idle-time=-1",
                    "--system=false", "--use-pid-file=false", "--log-target=stderr",
                    "--log-level=debug",  # its underrun reports, read by underruns(); ~40 KB a test
                ],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                preexec_fn=_die_with_parent,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"pulseaudio exited with {self.process.returncode}: {self.log_tail()}")
            if self.socket.exists() and self._has_sink():
                break
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"pulseaudio did not start within {timeout} s: {self.log_tail()}")
            time.sleep(0.05)
        self._wake(deadline)
        return self

    def _wake(self, deadline: float) -> None:
        """Get the null sink running and keep it running, so clients never meet a sleeping sink.

        An idle null sink sleeps up to 2 s before it notices its first client. A recorder that
        stays connected (to a throw-away file) keeps it awake; suspending and resuming the
        sink once cuts the first sleep short.
        """
        self._keepalive = subprocess.Popen(
            [
                "parec", "--raw", "--latency-msec=50", "-d", f"{SINK}.monitor",
                f"--rate={RATE}", f"--channels={self.channels}", "--format=s16le",
            ],
            env=self.client_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
        flowing = threading.Event()
        self._discarder = threading.Thread(target=_discard, args=(self._keepalive.stdout, flowing), daemon=True)
        self._discarder.start()
        while not self._pactl("list", "short", "source-outputs").strip():
            if time.monotonic() > deadline or self._keepalive.poll() is not None:
                self.stop()
                raise TimeoutError(f"the keep-alive recorder did not connect: {self.log_tail()}")
            time.sleep(0.01)
        self._pactl("suspend-sink", SINK, "1")
        self._pactl("suspend-sink", SINK, "0")
        if not flowing.wait(max(0.0, deadline - time.monotonic())):
            self.stop()
            raise TimeoutError(f"the null sink did not start running: {self.log_tail()}")

    def _has_sink(self) -> bool:
        lines = self._pactl("list", "short", "sinks").splitlines()
        return any(line.split("\t")[1:2] == [SINK] for line in lines)

    def _pactl(self, *args: str) -> str:
        run = subprocess.run(
            ["pactl", "-s", self.address, *args], env=self.client_env(), capture_output=True, timeout=10
        )
        return run.stdout.decode(errors="replace") if run.returncode == 0 else ""

    def underruns(self) -> int:
        """Times a playing stream ran dry since the daemon started, as its debug log reports them.

        A client that does not write in time (its process starved of CPU on a loaded machine)
        leaves the sink to play silence, and the data that comes late is partly dropped: what
        the monitor records is then no longer what was sent. A stream's start (it begins dry,
        until its first data) is not counted: wait for a stream to flow before measuring it.
        """
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return 0
        return sum(1 for line in text.splitlines() if "Implicit underrun of" in line or "Underrun on" in line)

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of the daemon's log, its debug lines left out."""
        try:
            text = self.log_path.read_text(errors="replace")
            return "\n".join([line for line in text.splitlines() if not line.startswith("D:")][-lines:])
        except OSError:
            return ""

    def write_asoundrc(self, home: Path) -> Path:
        """An ~/.asoundrc in `home` that makes ALSA's default device this daemon."""
        home.mkdir(parents=True, exist_ok=True)
        path = home / ".asoundrc"
        path.write_text("pcm.!default { type pulse }\nctl.!default { type pulse }\n")
        return path

    def configure_client(self, home: Path, monkeypatch) -> None:
        """Point this process's ALSA default device at the daemon (HOME + PULSE_SERVER).

        PortAudio must be re-initialized afterwards to read the new ~/.asoundrc.
        """
        self.write_asoundrc(home)
        monkeypatch.setenv("HOME", str(home))
        monkeypatch.setenv("PULSE_SERVER", self.address)

    def record(self, path: Path) -> Recorder:
        """Start recording the sink's monitor into `path` (a started Recorder)."""
        recorder = Recorder(self, Path(path), self.channels).start()
        self.recorders.append(recorder)
        return recorder

    def sink_inputs(self) -> list[str]:
        """Playback streams connected to the daemon now (`pactl list short sink-inputs` lines)."""
        return [line for line in self._pactl("list", "short", "sink-inputs").splitlines() if line.strip()]

    def restart(self) -> PulseServer:
        """Bring a killed or stopped daemon back on the same socket (a sound card plugged back in)."""
        self.stop()
        self.recorders.clear()
        return self.start()

    def kill(self) -> None:
        """SIGKILL the daemon: for clients, the sound card vanishes at once."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)

    def stop(self) -> None:
        """Stop recorders (so their WAV headers are written), then the daemon; remove nothing."""
        for recorder in self.recorders:
            recorder.stop()
        if self._keepalive is not None:
            if self._keepalive.poll() is None:
                self._keepalive.terminate()
                self._keepalive.wait(5)
            if self._discarder is not None:
                self._discarder.join(5)
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.kill()


def _discard(pipe, flowing: threading.Event) -> None:
    """Read and drop the keep-alive recorder's audio; set `flowing` once 0.1 s has arrived."""
    received = 0
    with pipe:  # closed here at EOF, when the recorder ends with the daemon
        while chunk := pipe.read1(65536):
            received += len(chunk)
            if received >= RATE // 10 * 2:
                flowing.set()


def start_pulse_server(*, channels: int = 1) -> PulseServer:
    """Start a private daemon in a fresh short temporary directory.

    The directory is under the system temp dir, not pytest's tmp_path: a unix socket path
    must stay under ~100 bytes. Remove it with `shutil.rmtree(server.directory)`.
    """
    directory = Path(tempfile.mkdtemp(prefix="pa-"))
    return PulseServer(directory, channels=channels).start()


# ----------------------------------------------------------------------------- pytest fixtures
# Import these names into a conftest.py to use them:
#     from support.pulse import pulse_default_device, pulse_server  # noqa: F401
try:
    import pytest
except ImportError:  # pragma: no cover - the helper is usable without pytest
    pytest = None

if pytest is not None:

    @pytest.fixture
    def pulse_server():
        """A fresh private PulseAudio daemon with a paced null sink; skipped if PulseAudio is missing."""
        reason = missing_requirements()
        if reason:
            pytest.skip(reason)
        server = start_pulse_server()
        try:
            yield server
        finally:
            server.stop()
            shutil.rmtree(server.directory, ignore_errors=True)

    @pytest.fixture
    def pulse_default_device(pulse_server, tmp_path):
        """`pulse_server`, made the ALSA default device of this process's PortAudio.

        HOME becomes a per-test directory whose ~/.asoundrc routes ALSA to the daemon, and
        PortAudio is re-initialized to read it; both are restored at teardown. Close every
        Player before the test ends (re-initializing PortAudio closes any stream left open).
        """
        from broadcaster.exceptions import PlayoutError
        from broadcaster.playout.devices import reinitialize_portaudio

        patch = pytest.MonkeyPatch()
        try:
            pulse_server.configure_client(tmp_path / "pulse-client-home", patch)
            try:
                reinitialize_portaudio()
            except PlayoutError as exc:
                pytest.skip(f"PortAudio is not usable here (install libportaudio2): {exc}")
            yield pulse_server
        finally:
            patch.undo()
            reinitialize_portaudio()
