"""The voice of a typed urgent message: the best offline voice that is ready in time (issue 12 item 4).

The attention tone airs while the message is prepared, so a slower, better offline voice costs
nothing as long as its audio is ready when the tone ends. `FastVoice` wraps the items' renderer
for the urgent desk: each better engine (Piper, when it is installed) is given the length of the
attention tone; the first one ready in that time speaks, else the engine the desk asked for
(espeak-ng, fast and always there) renders it at once. A render that missed the tone goes on in
its thread and lands in the cache, so repeating the same message later is instant.

It never asks an online engine: the candidates are offline engines only (``ONLINE_ENGINES`` are
refused here whatever the caller passes).
"""

from __future__ import annotations

import logging
import threading
import wave
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from ..exceptions import BroadcasterError
from ..voice_ids import ONLINE_ENGINES

log = logging.getLogger(__name__)

# better offline engines first; the desk's own engine (espeak) is the fallback
PREFERRED = ("piper",)


def wav_seconds(path: Path) -> float:
    """A WAV file's length in seconds (0.0 when it cannot be read)."""
    try:
        with wave.open(str(path), "rb") as wav:
            return wav.getnframes() / float(wav.getframerate() or 1)
    except (OSError, EOFError, wave.Error):
        return 0.0


class FastVoice:
    """The urgent desk's renderer: `render_text` (Items.render_text) with the engine chosen here.

    built: the engine names built on this station, asked on the first message (building the
    engines imports their libraries: never on the way to the first tone sample); tone_seconds: how
    long the attention tone lasts (the time a better voice is given).
    """

    def __init__(
        self, *, render_text: Callable[..., Any], built: Callable[[], Sequence[str]],
        tone_seconds: Callable[[], float],
    ) -> None:
        self._render_text = render_text
        self._built = built
        self._candidates: list[str] | None = None
        self._tone_seconds = tone_seconds

    @property
    def candidates(self) -> list[str]:
        """The better offline engines built here, best first (online ones never)."""
        if self._candidates is None:
            built = self._built()
            self._candidates = [name for name in PREFERRED if name in built and name not in ONLINE_ENGINES]
        return self._candidates

    def __call__(self, text: str, *, engine: str | None, jingles: bool, space_check: bool) -> Any:
        """Render `text` with the first candidate ready within the tone, else with `engine`."""
        budget = self._tone_seconds() if self.candidates else 0.0
        for candidate in self.candidates:
            ready: Future = Future()

            def render(name: str = candidate, out: Future = ready) -> None:
                try:
                    out.set_result(self._render_text(text, engine=name, jingles=jingles, space_check=space_check))
                except BaseException as exc:
                    out.set_exception(exc)

            threading.Thread(target=render, name=f"urgent-{candidate}", daemon=True).start()
            try:
                return ready.result(timeout=budget)
            except BroadcasterError as exc:
                log.warning("urgent: %s failed (%s); the next voice speaks", candidate, exc)
            except TimeoutError:
                log.warning("urgent: %s not ready within the %.1f s tone; the next voice speaks", candidate, budget)
        return self._render_text(text, engine=engine, jingles=jingles, space_check=space_check)
