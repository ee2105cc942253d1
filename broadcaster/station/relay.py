"""A relay slot on air: a file from the media folder or a network stream, for its set time.

`RelayAirer` is built with the settings, the clock and the as-run log; the slot airer calls it
under the air gate.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..exceptions import BroadcasterError, InputError
from ..models import AsRunPublic, AsRunStatus
from ..playout.outcome import Outcome, PlayResult
from .outcomes import as_run_status, reason_text

if TYPE_CHECKING:
    from ..config import Settings
    from ..playout.protocol import PlayerProtocol as Player
    from ..scheduling.timetable import Slot
    from .asrun import AsRunLog

log = logging.getLogger(__name__)

# how Player.play words a timeout: for a relay that is the normal end of its set time
STREAM_SCHEMES = ("http://", "https://", "rtmp://", "rtsp://", "mms://", "mmsh://", "udp://", "srt://")


def is_stream_url(source: str) -> bool:
    """A relay source that is a network stream rather than a file."""
    return source.strip().lower().startswith(STREAM_SCHEMES)


class RelayAirer:
    """Plays relay slots with their as-run row."""

    def __init__(self, *, settings: Settings, clock: Callable[[], datetime], asrun: AsRunLog) -> None:
        """settings: the media folder, output rate and cache; clock: now, UTC; asrun: writes the row."""
        self.settings = settings
        self.clock = clock
        self.asrun = asrun

    def relay_file(self, slot: Slot) -> Path:
        """The WAV a file relay plays: the file itself when it is 16-bit PCM at the output rate,
        else a copy converted once into the cache. NotFoundError/AudioError say why not."""
        import wave

        from ..media import decode, write_wav
        from ..sources import check_relay_source

        # inside the media folder, not a station file, and audio (ffmpeg decodes its start)
        # before anything in this process opens it: see sources.py for why that order matters
        source = check_relay_source(slot.source or "", self.settings)
        if not isinstance(source, Path):
            raise InputError(f"Nguồn tiếp sóng {source} là luồng, không phải tệp")
        rate = self.settings.sample_rate
        try:
            with wave.open(str(source), "rb") as wav:
                if wav.getsampwidth() == 2 and wav.getframerate() == rate and wav.getcomptype() == "NONE":
                    return source
        except (wave.Error, EOFError, OSError):
            pass  # MP3, M4A…: convert
        stat = source.stat()
        key = hashlib.sha256(f"{source.resolve()}|{stat.st_mtime_ns}|{stat.st_size}|{rate}|{slot.length_s}".encode())
        out = self.settings.cache_dir / "relay" / f"{key.hexdigest()[:32]}.wav"
        if not out.is_file():
            out.parent.mkdir(parents=True, exist_ok=True)
            samples = decode(source, sample_rate=rate, channels=1)[: int(rate * slot.length_s)]
            write_wav(out, samples, sample_rate=rate)  # whole or not at all (media.write_wav)
        return out


    def air_relay(self, *, slot: Slot, planned_at: datetime, player: Player, note: str | None
    ) -> tuple[AsRunPublic, Outcome | None]:
        """Air a relay slot (a stream or a file) for the rest of its set time; its row and what happened."""
        from datetime import timedelta

        from ..models import AsRunKind

        fields = {
            "title": f"Tiếp sóng: {slot.name}",
            "path": slot.source,
            "slot": slot.name,
            "planned_at": planned_at,
            "kind": AsRunKind.relay,
        }
        remaining = (planned_at + timedelta(seconds=slot.length_s) - self.clock()).total_seconds()
        if remaining <= 0:
            return self.asrun.log_failure(reason="Đã quá giờ kết thúc tiếp sóng", **fields), None
        source = slot.source or ""
        if is_stream_url(source):
            from ..sources import check_stream_url

            try:
                check_stream_url(source)  # an older database may hold rtsp://, file:…
            except BroadcasterError as exc:
                return self.asrun.log_failure(reason=str(exc), **fields), None

            def play():
                return player.play_stream(source, duration_s=remaining)
        else:
            try:
                path = self.relay_file(slot)
            except BroadcasterError as exc:
                return self.asrun.log_failure(reason=str(exc), **fields), None

            def play():
                return player.play(path, timeout=remaining)
        row_id = self.asrun.open_row(**fields)

        def relay_outcome(result: PlayResult) -> dict:
            if result.outcome is Outcome.TIMEOUT:
                result = replace(result, outcome=Outcome.AIRED)  # a relay ends when its set time is over
            status, reason = as_run_status(result.outcome), reason_text(result)
            if status == AsRunStatus.aired and note and not reason:
                reason = note
            return {"status": status, "reason": reason, "started_at": result.started_at,
                    "ended_at": result.ended_at}

        return self.asrun.play_with_row(
            row_id, player, play, what=f"relay {slot.name}", error_prefix="Lỗi tiếp sóng", outcome=relay_outcome
        )


__all__ = ["RelayAirer", "STREAM_SCHEMES", "is_stream_url"]
