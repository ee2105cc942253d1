"""Rows and items the reports tests write directly (the log is data there, not the subject)."""

from __future__ import annotations

import wave
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from broadcaster.models import AsRun, AsRunStatus, Bulletin, BulletinClass, BulletinStatus

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def vn(*args) -> datetime:
    return datetime(*args, tzinfo=VN)


def add_row(session, *, at: datetime, title="Tin", seconds=60.0, status=AsRunStatus.aired, **fields) -> AsRun:
    start = at.astimezone(timezone.utc)
    row = AsRun(
        title=title,
        started_at=start,
        ended_at=start + timedelta(seconds=seconds),
        duration_s=seconds,
        status=status,
        **fields,
    )
    session.add(row)
    return row


def add_bulletin(session, title, *, topic=None, klass=BulletinClass.normal, status=BulletinStatus.approved, **fields):
    bulletin = Bulletin(title=title, text=title + ".", bulletin_class=klass, topic=topic, status=status, **fields)
    session.add(bulletin)
    session.commit()
    session.refresh(bulletin)
    return bulletin


def write_wav(path, seconds: float, rate: int = 8000):
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\0\0" * int(seconds * rate))
    return path
