"""Helpers for the urgent tests: programme items made of tones, waiting, reading the capture."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

import numpy as np
from playout_helpers import RATE, tone, write_wav
from sqlmodel import Session
from support.waiting import wait_for  # noqa: F401  (the tests import it from here)

from broadcaster.models import Bulletin, BulletinStatus
from broadcaster.station.urgent import TONE_TITLE


def ready_bulletin(station, tmp_path, title: str, hz: float, seconds: float):
    """An approved bulletin whose programme item is a tone WAV (no speech engine needed)."""
    path = write_wav(tmp_path / f"{title}.wav", tone(hz, seconds))
    bulletin = station.add_bulletin(title=title, text=f"Nội dung {title}")
    with Session(station.db) as session:
        row = session.get(Bulletin, bulletin.id)
        row.status = BulletinStatus.approved
        row.approved_at = datetime.now(timezone.utc)
        row.item_path, row.item_engine, row.item_duration_s = str(path), "test", seconds
        session.add(row)
        session.commit()
    time.sleep(0.002)  # distinct approval times: a defined order
    return path


def air_in_thread(station, player, slot="Thử"):
    """Run station.air_slot in a thread; returns (thread, box) with box['rows'] when done."""
    box: dict = {}

    def run():
        box["rows"] = station.air_slot(slot=slot, planned_at=datetime.now(timezone.utc), player=player)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, box


def on_air_title(station):
    row = station.on_air_row()
    return row.title if row is not None else None


def summary(rows):
    return [(r.title, r.status.value, r.kind.value) for r in rows]


def attention_samples(station) -> np.ndarray:
    from broadcaster.station.urgent import prepare_attention_tone
    import wave

    with wave.open(str(prepare_attention_tone(station.settings)), "rb") as w:
        assert w.getframerate() == RATE
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")


def is_tone_row(row) -> bool:
    return row.title == TONE_TITLE
