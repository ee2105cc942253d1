"""Audio a user names (a relay slot's source, an urgent file), checked before the station opens it.

* A relay source is an http(s) stream URL or an audio file inside the media folder
  (settings.media_path; symlinks and `..` resolved first, so nothing leads out of it),
  proved to be audio by decoding its start with ffmpeg (a subprocess).
* The station's own files are never a source: the database with its WAL/SHM/journal,
  settings.toml, everything in run/ (the API token). SQLite's POSIX locks belong to the
  process, and closing *any* descriptor of the database file drops them all: one
  open()+close() of broadcaster.db inside `serve` (reading a "WAV" header, serving the file)
  lets the next connection of another process think it is the last one and unlink the WAL
  under the running station, whose writes no one else then sees. So only stat() is used
  on a named file until it is known not to be one of them, and decoding runs in ffmpeg.

Errors are InputError / NotFoundError / AudioError with one Vietnamese line.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from .exceptions import AudioError, InputError, NotFoundError

if TYPE_CHECKING:
    from .config import Settings

HTTP_SCHEMES = ("http", "https")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]+):")
PROBE_S = 1.0  # how much of a file is decoded to prove it is audio
PROBE_TIMEOUT_S = 30.0
DB_SUFFIXES = ("", "-wal", "-shm", "-journal")


def looks_like_url(source: str) -> bool:
    """A source naming a protocol (http://, rtsp://, file:, concat:…) rather than a path."""
    text = source.strip()
    return "://" in text or bool(_SCHEME.match(text))


def is_http_url(source: str) -> bool:
    """An http:// or https:// address with a host: the only streams a relay may air."""
    try:
        parts = urlsplit(source.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in HTTP_SCHEMES and bool(parts.hostname)


def check_stream_url(source: str) -> str:
    """The URL itself when it is an http(s) stream address; InputError otherwise."""
    text = source.strip()
    if any(ord(ch) < 32 or ch.isspace() for ch in text) or not is_http_url(text):
        raise InputError(
            f"Nguồn tiếp sóng «{_short(text)}» không hợp lệ: chỉ nhận luồng http:// hoặc https://, "
            "hoặc tệp âm thanh trong thư mục media của đài"
        )
    return text


def _short(text: str, limit: int = 120) -> str:
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _file_id(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


def station_file_ids(settings: Settings) -> set[tuple[int, int]]:
    """(device, inode) of the station's own files: hard links and symlinks to them are caught too."""
    data_dir = Path(settings.data_dir)
    candidates = [Path(f"{settings.db_path}{suffix}") for suffix in DB_SUFFIXES]
    candidates += [settings.settings_path, settings.lexicon_path]
    run = data_dir / "run"
    try:
        candidates += list(run.iterdir())
    except OSError:
        pass
    return {fid for fid in (_file_id(p) for p in candidates) if fid is not None}


def is_station_file(path: Path, settings: Settings) -> bool:
    """Whether `path` (resolved) is the database, its WAL/SHM, settings, or anything in run/."""
    try:
        run = (Path(settings.data_dir) / "run").resolve()
        db = Path(settings.db_path).resolve()
    except (OSError, RuntimeError):
        return True  # cannot tell: refuse
    if path.is_relative_to(run) or any(path == Path(f"{db}{suffix}") for suffix in DB_SUFFIXES):
        return True
    fid = _file_id(path)
    return fid is not None and fid in station_file_ids(settings)


def resolve_media_file(source: str, settings: Settings, *, what: str = "Tệp tiếp sóng") -> Path:
    """The resolved path of a relay file: relative to the media folder, inside it after symlinks
    and `..` are resolved, an existing regular file, not one of the station's own files."""
    text = source.strip()
    if not text or "\x00" in text:
        raise InputError(f"{what} không hợp lệ")
    root_dir = settings.media_path
    path = Path(text).expanduser()
    if not path.is_absolute():
        path = root_dir / path
    try:
        resolved = path.resolve()
        root = root_dir.resolve()
    except (OSError, RuntimeError):
        raise InputError(f"{what} «{_short(text)}» không hợp lệ (liên kết vòng?)") from None
    if is_station_file(resolved, settings):
        raise InputError(f"Không dùng được tệp dữ liệu của đài ({resolved.name}) làm nguồn tiếp sóng")
    if not resolved.is_relative_to(root):
        raise InputError(f"{what} phải nằm trong thư mục media của đài ({root}): «{_short(text)}»")
    if not resolved.is_file():
        raise NotFoundError(f"Không tìm thấy {what[0].lower() + what[1:]}: {resolved}", path=str(resolved))
    return resolved


def probe_audio(path: Path, *, what: str = "Tệp") -> None:
    """Decode the first second of a file with ffmpeg (a subprocess, never opened here);
    AudioError when it yields no audio (a text file, a database, an image)."""
    from .media import ffmpeg_exe

    cmd = [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin",
        # "file:" keeps ffmpeg from reading a protocol (concat:, subfile:…) into the name
        "-i", f"file:{Path(path).resolve()}", "-t", str(PROBE_S), "-vn",
        "-f", "s16le", "-acodec", "pcm_s16le", "-ac", "1", "-ar", "8000", "pipe:1",
    ]
    try:
        run = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=PROBE_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise AudioError(f"{what} {Path(path).name} không phải âm thanh (giải mã quá {PROBE_TIMEOUT_S:g} giây)") from None
    except OSError as exc:
        raise AudioError(f"Không chạy được ffmpeg để kiểm tra {Path(path).name}: {exc}") from exc
    if run.returncode != 0 or not run.stdout:
        raise AudioError(f"{what} {Path(path).name} không phải âm thanh (không giải mã được)", path=str(path))


def check_relay_source(source: str, settings: Settings, *, decode: bool = True) -> Path | str:
    """A relay source that may air: the URL (http/https) or the resolved media file, decoded
    when `decode`. InputError / NotFoundError / AudioError say why not, in one line."""
    text = (source or "").strip()
    if looks_like_url(text):
        return check_stream_url(text)
    path = resolve_media_file(text, settings)
    if decode:
        probe_audio(path, what="Tệp tiếp sóng")
    return path


def check_audio_file(source: str | Path, settings: Settings, *, what: str = "Tệp ghi âm") -> Path:
    """An audio file named by a user anywhere on the PC (an urgent recording): it exists, is not
    one of the station's own files, and decodes. Returns it resolved."""
    text = str(source).strip()
    if not text or "\x00" in text:
        raise InputError(f"{what} không hợp lệ")
    path = Path(text).expanduser()
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError):
        raise InputError(f"{what} «{_short(text)}» không hợp lệ") from None
    if not resolved.is_file():
        raise NotFoundError(f"Không tìm thấy {what[0].lower() + what[1:]}: {path}", path=str(path))
    if is_station_file(resolved, settings):
        raise InputError(f"Không dùng được tệp dữ liệu của đài ({resolved.name}) làm {what[0].lower() + what[1:]}")
    probe_audio(resolved, what=what)
    return resolved


__all__ = [
    "check_audio_file",
    "check_relay_source",
    "check_stream_url",
    "is_http_url",
    "is_station_file",
    "looks_like_url",
    "probe_audio",
    "resolve_media_file",
]
