"""The sound card boundary: the only module that imports sounddevice (PortAudio).

Everything that touches PortAudio goes through here, so the rest of the package (and
its tests) can run with a fake stream and without the PortAudio library. sounddevice
is imported lazily: the package must import on a machine without libportaudio, and
only say so, with a clear message, when a sound card is actually needed.

PortAudio is not thread-safe. The player calls `open_output_stream` and the stream
methods from its one owner thread; `list_devices`, `resolve_device` and
`reinitialize_portaudio` are meant for start-up, the CLI and device retries.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..exceptions import PlayoutError

log = logging.getLogger(__name__)

NOT_FOUND = "Không tìm thấy thiết bị âm thanh"


@dataclass(frozen=True)
class DeviceInfo:
    """One output-capable sound device as PortAudio lists it."""

    index: int
    name: str
    hostapi: str
    max_output_channels: int
    default_samplerate: float
    is_default: bool


def _sounddevice() -> Any:
    """The sounddevice module, or PlayoutError when the PortAudio library cannot be loaded."""
    try:
        import sounddevice
    except (OSError, ImportError) as exc:
        raise PlayoutError(
            "Không tải được thư viện âm thanh PortAudio (trên Debian/Ubuntu: cài gói libportaudio2) "
            f"/ PortAudio is unavailable: {exc}",
            reason=str(exc),
        ) from exc
    return sounddevice


def _fold(text: str) -> str:
    """Case- and normalization-insensitive form of a device name, for matching."""
    return unicodedata.normalize("NFC", text).casefold().strip()


def _default_output_index(sd: Any) -> int | None:
    try:
        return int(sd.query_devices(kind="output")["index"])
    except (sd.PortAudioError, ValueError, KeyError, TypeError):
        # PortAudio reports "no default output" as an error: that is a normal answer here.
        return None


def list_devices() -> list[DeviceInfo]:
    """Every device that can play sound, in PortAudio's order.

    Raises PlayoutError with a clear message when PortAudio itself is unavailable.
    An empty list means PortAudio works but sees no output device.
    """
    sd = _sounddevice()
    try:
        raw = sd.query_devices()
        hostapis = sd.query_hostapis()
    except sd.PortAudioError as exc:
        raise PlayoutError(f"Không liệt kê được thiết bị âm thanh / cannot list devices: {exc}") from exc
    default = _default_output_index(sd)
    found = []
    for index, dev in enumerate(raw):
        if int(dev["max_output_channels"]) < 1:
            continue
        found.append(
            DeviceInfo(
                index=index,
                name=str(dev["name"]),
                hostapi=str(hostapis[dev["hostapi"]]["name"]),
                max_output_channels=int(dev["max_output_channels"]),
                default_samplerate=float(dev["default_samplerate"]),
                is_default=index == default,
            )
        )
    return found


def resolve_device(spec: str | int | None) -> int | None:
    """The PortAudio index of an output device given as an index or part of its name.

    None or an empty string means the system default (returned as None). A name matches
    case-insensitively; an exact name wins over a partial one, and among partial matches
    the default host API wins (Windows lists each card once per host API).
    Raises PlayoutError "Không tìm thấy thiết bị âm thanh: …" when nothing matches.
    """
    if spec is None or (isinstance(spec, str) and not spec.strip()):
        return None
    devices = list_devices()
    if isinstance(spec, int) or (spec.strip().isascii() and spec.strip().isdecimal()):  # "²", "٣": a name
        index = int(spec)
        if any(d.index == index for d in devices):
            return index
        raise PlayoutError(f"{NOT_FOUND}: {spec} (không có thiết bị đầu ra số {index})", device=str(spec))
    needle = _fold(spec)
    exact = [d for d in devices if _fold(d.name) == needle]
    if exact:
        return exact[0].index
    partial = [d for d in devices if needle in _fold(d.name)]
    if not partial:
        names = ", ".join(f"{d.index}: {d.name}" for d in devices) or "không có thiết bị nào"
        raise PlayoutError(f"{NOT_FOUND}: {spec} (hiện có: {names})", device=str(spec))
    default_api = next((d.hostapi for d in devices if d.is_default), None)
    partial.sort(key=lambda d: (d.hostapi != default_api, d.index))
    return partial[0].index


def reinitialize_portaudio() -> None:
    """Restart PortAudio so it re-reads the ALSA configuration and sees re-plugged cards.

    Every open stream is closed by PortAudio when it terminates: call this only when no
    Player is open.
    """
    sd = _sounddevice()
    try:
        sd._terminate()
        sd._initialize()
    except sd.PortAudioError as exc:
        raise PlayoutError(f"Không khởi động lại được PortAudio / cannot restart PortAudio: {exc}") from exc


class SoundDeviceStream:
    """A running sounddevice output stream behind the small interface the player uses.

    Every PortAudio error surfaces as PlayoutError, so the player never needs to know
    sounddevice's exception type.
    """

    def __init__(self, stream: Any, *, device_name: str) -> None:
        self._stream = stream
        self.device_name = device_name

    @property
    def channels(self) -> int:
        """Channels the stream was opened with (1, or 2 when the card refused mono)."""
        return int(self._stream.channels)

    @property
    def samplerate(self) -> float:
        """Frames per second of the stream."""
        return float(self._stream.samplerate)

    @property
    def latency(self) -> float:
        """Output latency in seconds as PortAudio reports it: how much audio sits in buffers."""
        return float(self._stream.latency)

    def _call(self, what: str, method: Callable[[], None]) -> None:
        sd = _sounddevice()
        try:
            method()
        except sd.PortAudioError as exc:
            raise PlayoutError(f"Lỗi thiết bị âm thanh {self.device_name} ({what}): {exc}") from exc

    def start(self) -> None:
        """Start calling the callback."""
        self._call("start", self._stream.start)

    def stop(self) -> None:
        """Stop after the buffered audio has played."""
        self._call("stop", self._stream.stop)

    def abort(self) -> None:
        """Stop at once, dropping buffered audio."""
        self._call("abort", self._stream.abort)

    def close(self) -> None:
        """Release the device; the stream cannot be used afterwards."""
        self._call("close", self._stream.close)


def open_output_stream(
    *,
    device: str | int | None,
    samplerate: int,
    blocksize: int,
    dtype: str,
    callback: Callable[..., None],
    finished_callback: Callable[[], None],
) -> SoundDeviceStream:
    """Open (not start) an output stream on a device: stereo when the card has two channels.

    Our items are mono and the caller duplicates them into every channel it gets. Stereo
    comes first on purpose: PortAudio's ALSA backend accepts a mono stream on a card that
    only takes two channels and then leaves the second channel silent (it "adapts" by
    padding), so a station wired to the right channel would air nothing. Asking for two
    channels gives the same signal on both everywhere; mono is used only by mono-only
    devices. Raises PlayoutError with a Vietnamese message when the device is missing or
    refuses both.
    """
    sd = _sounddevice()
    index = resolve_device(device)
    try:
        info = sd.query_devices(index if index is not None else None, kind="output")
    except (sd.PortAudioError, ValueError) as exc:
        raise PlayoutError(
            f"{NOT_FOUND}: không có thiết bị đầu ra mặc định / no default output device ({exc})",
            device=str(device),
        ) from exc
    name = str(info["name"])
    max_channels = int(info["max_output_channels"])
    if max_channels < 1:
        raise PlayoutError(f"{NOT_FOUND}: {name} không phát được âm thanh", device=name)
    errors = []
    for channels in (2, 1) if max_channels >= 2 else (1,):
        try:
            sd.check_output_settings(device=index, channels=channels, dtype=dtype, samplerate=samplerate)
            stream = sd.OutputStream(
                device=index,
                samplerate=samplerate,
                blocksize=blocksize,
                channels=channels,
                dtype=dtype,
                callback=callback,
                finished_callback=finished_callback,
            )
        except (sd.PortAudioError, ValueError) as exc:
            errors.append(f"{channels} kênh: {exc}")
            continue
        log.info("opened %s (%s) with %d channel(s), latency %.3f s", name, index, channels, stream.latency)
        return SoundDeviceStream(stream, device_name=name)
    raise PlayoutError(
        f"Không mở được thiết bị âm thanh {name} ở {samplerate} Hz: {'; '.join(errors)}", device=name
    )


def open_input_stream(
    *,
    device: str | int | None,
    samplerate: int,
    blocksize: int,
    dtype: str,
    callback: Callable[..., None],
    finished_callback: Callable[[], None] | None = None,
) -> SoundDeviceStream:
    """Open (not start) a mono input stream (the microphone) on a device; None = the default input.

    A device is given by index or part of its name among the devices that can record.
    Raises PlayoutError with a Vietnamese message when there is no such device or it
    refuses the format.
    """
    sd = _sounddevice()
    index: int | None = None
    if device is not None and str(device).strip():
        try:
            raw = list(enumerate(sd.query_devices()))
        except sd.PortAudioError as exc:
            raise PlayoutError(f"Không liệt kê được thiết bị âm thanh / cannot list devices: {exc}") from exc
        inputs = [(i, d) for i, d in raw if int(d["max_input_channels"]) >= 1]
        spec = str(device).strip()
        if spec.isascii() and spec.isdecimal():  # an index in plain digits; "²" or "٣" is a name
            matches = [i for i, _ in inputs if i == int(spec)]
        else:
            needle = _fold(spec)
            matches = [i for i, d in inputs if _fold(str(d["name"])) == needle] or [
                i for i, d in inputs if needle in _fold(str(d["name"]))
            ]
        if not matches:
            names = ", ".join(f"{i}: {d['name']}" for i, d in inputs) or "không có thiết bị nào"
            raise PlayoutError(f"Không tìm thấy micro: {spec} (hiện có: {names})", device=spec)
        index = matches[0]
    try:
        info = sd.query_devices(index, kind="input")
    except (sd.PortAudioError, ValueError) as exc:
        raise PlayoutError(f"Không tìm thấy micro (không có thiết bị thu mặc định): {exc}", device=str(device)) from exc
    name = str(info["name"])
    try:
        sd.check_input_settings(device=index, channels=1, dtype=dtype, samplerate=samplerate)
        stream = sd.InputStream(
            device=index,
            samplerate=samplerate,
            blocksize=blocksize,
            channels=1,
            dtype=dtype,
            callback=callback,
            finished_callback=finished_callback,
        )
    except (sd.PortAudioError, ValueError) as exc:
        raise PlayoutError(f"Không mở được micro {name} ở {samplerate} Hz: {exc}", device=name) from exc
    log.info("opened input %s (%s), latency %.3f s", name, index, stream.latency)
    return SoundDeviceStream(stream, device_name=name)
