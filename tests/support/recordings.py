"""Phone recordings made in the test with imageio-ffmpeg's binary: M4A/MP4 with the index (moov atom)
written at the end, as a phone's recorder leaves it (no +faststart)."""

from __future__ import annotations

import subprocess
from pathlib import Path

# long enough that ffmpeg cannot find the index at the end of the file when read from a pipe
PHONE_SECONDS = 12.0


def ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def make_phone_recording(path: Path, *, codec: str = "aac", channels: int = 1, rate: int = 44100,
                         seconds: float = PHONE_SECONDS, container: str | None = None) -> Path:
    """A speech-like tone (a 300 Hz tone with pink noise) encoded as a phone does: moov at the end."""
    encoder = {"aac": ["-c:a", "aac", "-b:a", "64k"], "opus": ["-c:a", "libopus", "-b:a", "32k"]}[codec]
    fmt = ["-f", container] if container else []
    cmd = [
        ffmpeg(), "-hide_banner", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"sine=frequency=300:duration={seconds}:sample_rate={rate}",
        "-f", "lavfi", "-i", f"anoisesrc=d={seconds}:c=pink:r={rate}:a=0.05",
        "-filter_complex", "[0][1]amix=inputs=2,volume=2[a]", "-map", "[a]",
        "-ac", str(channels), "-ar", str(rate), *encoder, *fmt, str(path),
    ]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    data = path.read_bytes()
    assert data.find(b"moov") > data.find(b"mdat") > 0, "the index must be at the end, as a phone writes it"
    return path
