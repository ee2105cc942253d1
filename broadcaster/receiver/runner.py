"""The receiver at work: the play loop (the caller's thread) and the reporter (its own thread).

Play loop: take the stream URL the station gave (kept in the data directory, so a cluster that
restarts while the station is down still plays what Icecast sends), air it with the Player
through a HeardSource, and when it breaks log the gap with its cause and try again after
0.5, 1, 2, 4, 4 … s: never more than RETRY_MAX_S, so a cluster plays again within about 5 s of
its link returning. Reporter: every report_s it posts the status, uploads the log rows not yet
stored (idempotent on the station, and the last uploaded id is kept in the data directory) and
now and then asks for the config again. A 401/403 from the station stops everything at once:
a revoked cluster must fall silent within one report period, not keep airing the commune's
stream; run() then returns the refusal and the command exits 3 (a service manager should not
restart it: the same token will be refused again).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import StrEnum
from pathlib import Path

from ..disk import write_atomic
from ..exceptions import AudioError, PlayoutError
from ..playout.outcome import Outcome
from .api import (LAST_ERROR_MAX, ReceiverConfig, ReceiverOptions, StationBadAnswer, StationClient,
                  StationRefused, StationUnreachable)
from .journal import STATE_FILE, UPLOAD_MAX_ROWS, GapCause, ReceiverJournal
from .monitor import Heard, HeardSource

log = logging.getLogger(__name__)

RETRY_S = (0.5, 1.0, 2.0, 4.0)  # waits between attempts; the last repeats
RETRY_MAX_S = RETRY_S[-1]
STALL_S = 4.0  # a connected stream that sends nothing this long is lost (Icecast sends all the time)
CONFIG_REFRESH_S = 30.0  # how often the config is asked again while the station answers
STATUS_TIMEOUT_S = 3.0


class ReceiverState(StrEnum):
    """The `state` of a status report (contract)."""

    PLAYING = "playing"
    CONNECTING = "connecting"
    DEAD_AIR = "dead_air"
    OFFLINE = "offline"
    STOPPED = "stopped"


@dataclass
class ReceiverParts:
    """What a Receiver is built with (the command line passes the real ones, tests may pass others)."""

    options: ReceiverOptions
    data_dir: Path
    journal: ReceiverJournal
    player: object  # playout.protocol.PlayerProtocol
    source_factory: Callable[[str], object]  # url -> a live Source (StreamSource)
    dead_air_s: float
    volume: float = 1.0
    silence_dbfs: float = -60.0
    sample_rate: int = 48000
    device_retry_s: float = 10.0
    reinitialize: Callable[[], None] | None = None  # PortAudio re-init before reopening a lost card
    say: Callable[[str], None] = lambda line: None


def _utc(unix: float | None = None) -> datetime:
    return datetime.fromtimestamp(time.time() if unix is None else unix, timezone.utc)


def classify(text: str | None) -> GapCause:
    """The cause of a failed or broken stream from ffmpeg's words (they never hold a secret: a listen URL)."""
    # the URL goes first: its port (…:40400) must not read as a status code
    low = re.sub(r"\S+://\S+", " ", (text or "").lower())
    if re.search(r"\b404\b", low) or "not found" in low:
        return GapCause.NO_MOUNT
    if re.search(r"\b40[13]\b", low) or "unauthorized" in low or "forbidden" in low:
        return GapCause.STREAM_REFUSED
    return GapCause.LINK_LOST


class Receiver:
    """One cluster: run() plays until stop() or a refusal; the reporter thread talks to the station."""

    def __init__(self, parts: ReceiverParts, *, client: StationClient | None = None) -> None:
        self.p = parts
        self.options = parts.options
        self.client = client or StationClient(parts.options)
        self.journal = parts.journal
        self.player = parts.player
        self.stop_event = threading.Event()
        self.refused: StationRefused | None = None
        self.state = ReceiverState.CONNECTING
        # what the station said in its last answer: it airs something for this cluster now (None: unknown).
        # Silence is dead air (a gap) only then: between programmes the stream is silent on purpose.
        self.station_on_air: bool | None = None
        self.mount: str | None = None
        self.last_error: str | None = None
        self._config_changed = threading.Event()
        self._first_answer = threading.Event()  # the station's first answer (or its silence) is in
        self._switching = False
        self._source: HeardSource | None = None
        self._state_path = Path(parts.data_dir) / STATE_FILE
        self._saved = self._load_state()
        self.config: ReceiverConfig | None = None
        try:
            if self._saved.get("config"):
                self.config = ReceiverConfig.from_json(self._saved["config"])
        except StationBadAnswer:
            self.config = None
        self.uploaded_through = int(self._saved.get("uploaded_through") or 0)
        self._reporter = threading.Thread(target=self._report_loop, name="receiver-report", daemon=True)

    # ------------------------------------------------------------------ state file
    def _load_state(self) -> dict:
        try:
            data = json.loads(self._state_path.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def _save_state(self) -> None:
        data = {"station": self.options.station, "name": self.options.name,
                "uploaded_through": self.uploaded_through,
                "config": self.config.to_json() if self.config else None}
        try:
            write_atomic(self._state_path, json.dumps(data, ensure_ascii=False, indent=1))
        except OSError as exc:  # a full disk: the cluster keeps playing
            log.error("receiver state not saved: %s", exc)

    # ------------------------------------------------------------------ control
    def stop(self) -> None:
        """Stop playing (any thread, a signal handler): run() returns soon after."""
        self.stop_event.set()
        self._config_changed.set()
        self._interrupt()

    def _interrupt(self) -> None:
        try:
            self.player.interrupt(Outcome.CLOSED)
        except Exception:  # noqa: BLE001  (nothing on air, a player already closed)
            pass

    def run_until_interrupted(self) -> StationRefused | None:
        """run(), with Ctrl+C stopping it cleanly like stop()."""
        try:
            return self.run()
        except KeyboardInterrupt:
            self.stop()
            return self.refused

    def _error(self, text: str) -> None:
        self.last_error = text[:LAST_ERROR_MAX]

    def _wait(self, seconds: float) -> None:
        """Wait, but wake for a stop or a new config."""
        self._config_changed.wait(seconds)
        self._config_changed.clear()

    # ------------------------------------------------------------------ the play loop
    def run(self) -> StationRefused | None:
        """Play until stop() (returns None) or until the station refuses this cluster (returns why)."""
        self.journal.recover()
        self._save_state()  # marks the data directory as a receiver's from the first start
        self._reporter.start()
        if self.config is None:  # no config kept from an earlier run: give the station's answer a moment
            self._first_answer.wait(STATUS_TIMEOUT_S * 2)
        attempt = 0
        try:
            while not self.stop_event.is_set():
                config = self.config
                if config is None:
                    self._gap(GapCause.NO_CONFIG, None)
                    self._wait(RETRY_S[min(attempt, len(RETRY_S) - 1)])
                    attempt += 1
                    continue
                if config.stream_url is None:
                    self._gap(GapCause.NO_STREAM, None)
                    self._wait(CONFIG_REFRESH_S)
                    continue
                if not self._card_ready():
                    continue
                if self._play(config):
                    attempt = 0  # it played: a new loss starts the waits from the shortest again
                if self.stop_event.is_set():
                    break
                if self._switching:
                    self._switching = False
                    continue
                self._wait(RETRY_S[min(attempt, len(RETRY_S) - 1)])
                attempt += 1
        finally:
            self._shutdown()
        return self.refused

    def _gap(self, cause: GapCause, mount: str | None, at: datetime | None = None, *, provisional=False) -> None:
        if self.journal.open_cause is not cause:
            self.p.say(f"{_utc().astimezone().strftime('%H:%M:%S')} Gián đoạn: {cause.text}")
        self.journal.gap(cause, mount, at or _utc(), provisional=provisional)
        self.state = ReceiverState.DEAD_AIR if cause is GapCause.SILENCE else (
            ReceiverState.STOPPED if cause is GapCause.NO_STREAM else ReceiverState.OFFLINE)

    def _card_ready(self) -> bool:
        if self.player.is_open:
            return True
        try:
            self.player.open()
            return True
        except PlayoutError as exc:
            self._error(f"{GapCause.CARD.text}: {exc}")
            self._gap(GapCause.CARD, self.mount)
            self._wait(self.p.device_retry_s)
            if self.p.reinitialize is not None and not self.stop_event.is_set():
                try:
                    self.p.reinitialize()
                except PlayoutError as again:
                    log.warning("PortAudio not reinitialized: %s", again)
            return False

    def _play(self, config: ReceiverConfig) -> bool:
        """One attempt at the stream; True when it connected (audio arrived)."""
        url, mount = config.stream_url, config.mount
        self.mount = mount
        if self.journal.open_cause is None:
            self.state = ReceiverState.CONNECTING
        try:
            inner = self.p.source_factory(url)
        except AudioError as exc:
            self._error(str(exc))
            self._gap(classify(str(exc)), mount)
            return False
        heard = False

        def on_event(kind: Heard, at: float) -> None:
            if kind is Heard.DEAD_AIR:
                if self.station_on_air is False:  # the station airs nothing: the heard row ends, no gap
                    self.journal.end(_utc(at))
                else:
                    self._gap(GapCause.SILENCE, mount, _utc(at))
            else:
                self.journal.heard(mount, _utc(at))
                self.state = ReceiverState.PLAYING

        def on_start() -> None:  # connected, audio flowing: the heard row starts with its first sound
            nonlocal heard
            heard = True
            if self.journal.open_cause is None:
                self.state = ReceiverState.PLAYING
            self.p.say(f"{_utc().astimezone().strftime('%H:%M:%S')} Đã nối luồng {url}")

        source = HeardSource(inner, sample_rate=self.p.sample_rate, dead_air_s=self.p.dead_air_s,
                             volume=self.p.volume, silence_dbfs=self.p.silence_dbfs, on_event=on_event)
        self._source = source
        try:
            result = self.player.play_source(source, label=mount, on_start=on_start)
        finally:
            self._source = None
        ended = result.ended_at if heard else _utc()
        if self.stop_event.is_set() or self._switching:
            self.journal.end(ended)
            return heard
        if result.outcome is Outcome.DEVICE_LOST:
            self._error(f"{GapCause.CARD.text}: {result.fault.value if result.fault else ''}")
            self._gap(GapCause.CARD, mount, ended)
            return heard
        detail = result.detail or ""
        if result.outcome is Outcome.NO_SIGNAL:
            cause = GapCause.LINK_LOST
        elif result.outcome is Outcome.FAILED:
            cause = classify(detail)
        else:  # the stream ended (AIRED/ENDED_EARLY: ffmpeg saw its end): Icecast or the source went
            cause = GapCause.LINK_LOST
        self._error(f"{cause.text}{': ' + detail if detail else ''}")
        # a stream that was playing and broke: what the next attempt finds says better why (404 or refused)
        self._gap(cause, mount, ended, provisional=heard)
        return heard

    def _shutdown(self) -> None:
        self.stop_event.set()
        self.journal.end(_utc())
        self.state = ReceiverState.STOPPED
        if self._reporter.is_alive():
            self._reporter.join(STATUS_TIMEOUT_S * 3 + 2)
        if self.refused is None:  # a last word to the station (a refused cluster has none to give)
            for step in (lambda: self.client.status(self._report(), timeout=STATUS_TIMEOUT_S), self._upload):
                try:
                    step()
                except (StationRefused, StationUnreachable, StationBadAnswer) as exc:
                    log.info("last report not delivered: %s", exc)
                    break
        try:
            self.player.close()
        except Exception as exc:  # noqa: BLE001  (a card already gone)
            log.info("closing the card: %s", exc)
        self._save_state()

    # ------------------------------------------------------------------ the reporter
    def _report(self) -> dict:
        config = self.config
        source = self._source
        return {
            "name": self.options.name,
            "zone": config.zone if config else self.options.zone,
            "state": self.state.value,
            "mount": self.mount,
            "buffer_s": round(source.buffered_s, 3) if source is not None else 0.0,
            "volume": self.p.volume,
            "last_error": self.last_error,
            "sent_at": _utc().isoformat(),
        }

    def _refresh_config(self) -> None:
        config = self.client.config()
        if config.name != self.options.name:
            from .api import Refusal

            raise StationRefused(Refusal.NAME)
        if self.options.zone and config.zone != self.options.zone and (self.config is None or
                                                                        self.config.zone != config.zone):
            self.p.say(f"Cảnh báo: đài xếp cụm loa vào vùng «{config.zone or 'không có'}», không phải "
                       f"«{self.options.zone}»; cụm loa nghe theo đài.")
        old = self.config
        self.config = config
        if old != config:
            self._save_state()
        if old is not None and old.stream_url != config.stream_url and self._source is not None:
            self._switching = True  # the station moved this cluster to another mount: follow at once
            self._interrupt()
        self._config_changed.set()
        self._first_answer.set()

    def _upload(self) -> None:
        while True:
            rows = self.journal.pending(self.uploaded_through)
            if not rows:
                return
            self.client.log(rows, timeout=STATUS_TIMEOUT_S * 2)
            self.uploaded_through = rows[-1]["local_id"]
            self._save_state()
            if len(rows) < UPLOAD_MAX_ROWS:
                return

    def _silent_while_on_air(self) -> None:
        """The station began to air while the stream was already silent (between programmes the dead
        air was no gap): the silence is dead air from now on."""
        source = self._source
        if (self.station_on_air is not False and source is not None and source.sounding is False
                and not self.journal.hearing and self.journal.open_cause is None):
            self._gap(GapCause.SILENCE, self.mount, _utc())

    def _report_loop(self) -> None:
        next_config = 0.0
        while not self.stop_event.is_set():
            try:
                if self.config is None or time.monotonic() >= next_config:
                    self._refresh_config()
                    next_config = time.monotonic() + CONFIG_REFRESH_S
                self.journal.split(_utc())  # an hour-long heard row becomes final (uploadable)
                self.station_on_air = self.client.status(self._report(), timeout=STATUS_TIMEOUT_S)
                self._silent_while_on_air()
                self._upload()
            except StationRefused as exc:
                self._refuse(exc)
                self._first_answer.set()  # after the refusal: the play loop then sees the stop
                return
            except (StationUnreachable, StationBadAnswer) as exc:
                # the station restarting or answering nonsense never stops the sound
                log.warning("station: %s", exc)
                self._error(str(exc))
            except Exception:  # noqa: BLE001  (a bug here must not stop the cluster)
                log.exception("receiver report failed")
            self._first_answer.set()
            period = self.config.report_s if self.config else RETRY_MAX_S
            self.stop_event.wait(period)

    def _refuse(self, refusal: StationRefused) -> None:
        self.refused = refusal
        self._error(str(refusal))
        self.p.say(f"{_utc().astimezone().strftime('%H:%M:%S')} {refusal}")
        self.journal.gap(GapCause.STATION_REFUSED, self.mount, _utc())
        self.stop()


__all__ = ["CONFIG_REFRESH_S", "RETRY_MAX_S", "RETRY_S", "Receiver", "ReceiverParts", "ReceiverState", "STALL_S",
           "classify"]
