"""The one "convert once into the cache" helper: a file named by what decides its content is made
the first time it is asked for and found again every time after.

Every source → cached file path goes through here (program items from text or recordings, the
filler, urgent copies, officers' uploads). The names themselves are the callers' (their keys are
part of existing caches and must not change); this module only decides *when* to make a file,
and that it is made whole or not at all.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

from ..exceptions import AudioError

_LOCKS: dict[Path, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _lock_for(path: Path) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(path, threading.Lock())


def convert_once(path: Path, make: Callable[[Path], object]) -> Path:
    """`path`, made by `make(path)` only when no file is there yet (its folder created first).

    `make` must write the file whole or not at all (media.write_wav, disk.write_atomic,
    audio.render_item do): a file that exists is complete. Two threads asking for the same
    path make it once."""
    path = Path(path)
    if path.is_file():
        return path
    with _lock_for(path):
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            make(path)
    return path


def cached_figures(item: Path, *, render: Callable[[Path], dict], measure: Callable[[Path], dict] | None = None,
                   ) -> dict:
    """A cached program item and its figures (duration, loudness) in the `<item>.json` sidecar.

    Neither rendered nor measured twice: an item and its sidecar are used as they are; an item
    without a readable sidecar is measured once by `measure(item)` (when given, else rendered
    again); no item at all is made by `render(item)`, which returns the figures."""
    item = Path(item)
    sidecar = item.with_suffix(".json")
    with _lock_for(item):
        if item.exists() and sidecar.exists():
            try:
                return json.loads(sidecar.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                pass
        if item.exists() and measure is not None:
            figures = measure(item)
        else:
            item.parent.mkdir(parents=True, exist_ok=True)
            figures = render(item)
        _write_or_say(sidecar, json.dumps(figures))
    return figures


def _write_or_say(path: Path, text: str) -> None:
    """write_atomic, with a failing disk said as an AudioError (one line) rather than a bare OSError."""
    from ..disk import write_atomic

    try:
        write_atomic(path, text)
    except OSError as exc:
        raise AudioError(f"Không ghi được tệp {path}: {exc.strerror or exc}", path=str(path)) from exc


__all__ = ["convert_once", "cached_figures"]
