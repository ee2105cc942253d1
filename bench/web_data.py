"""Generate a large station database for the web benchmark (and the screenshots).

Writes straight into a data directory's SQLite through the models' tables: N bulletins
(mostly finished, a few live with a rendered item), M as-run rows spread over the past
year (programme rows tied to bulletins and slots, urgent rows with operators, relays,
failures), so the log, report and timetable pages see a year of a busy station.
"""

from __future__ import annotations

import random
import wave
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import Session

from broadcaster.config import load_settings
from broadcaster.models import (
    AsRun,
    AsRunKind,
    AsRunStatus,
    Bulletin,
    BulletinClass,
    BulletinStatus,
    Frequency,
)
from broadcaster.reports.topics import DEFAULT_TOPICS, ensure_topics
from broadcaster.station.facade import init_data_dir
from broadcaster.station.facade import Station

TITLES = (
    "Thông báo cắt điện thôn {n}",
    "Lịch tiêm phòng gia súc đợt {n}",
    "Tuyên truyền phòng cháy chữa cháy số {n}",
    "Gọi công dân nhập ngũ năm 2026 (tin {n})",
    "Hướng dẫn dịch vụ công trực tuyến số {n}",
    "Phòng chống lừa đảo qua mạng (bài {n})",
    "Kế hoạch ra quân làm đường giao thông nông thôn {n}",
    "Chính sách hỗ trợ hộ nghèo năm 2026 ({n})",
)
TEXT = (
    "UBND xã Dân Tiến thông báo: Để bảo dưỡng đường dây, Điện lực Võ Nhai tạm ngừng cấp điện từ 6h30 "
    "đến 17h00 ngày 05/01/2026 tại các thôn 3, thôn 5 và thôn 10. Đề nghị nhân dân chủ động sắp xếp."
)
OPERATORS = ("trucdai", "trucdai2", "nguyenvana", "tranthib")


def _wav(path: Path, seconds: float = 1.0, rate: int = 48000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\0\0" * int(seconds * rate))
    return path


def generate(data_dir: Path, *, bulletins: int = 10_000, rows: int = 100_000, live: int = 40,
             today: date | None = None, seed: int = 5) -> dict:
    """Fill a fresh data directory; returns counts. `today` is the station-local 'now' day."""
    settings = load_settings(data_dir, engine_order=["espeak"])
    init_data_dir(settings)
    station = Station(settings)
    tz = ZoneInfo(settings.timezone)
    rng = random.Random(seed)
    today = today or datetime.now(tz).date()
    item = _wav(settings.cache_dir / "items" / "bench-item.wav", 1.0)
    with Session(station.db) as session:
        ensure_topics(session=session)
    topics = list(DEFAULT_TOPICS)
    now = datetime.now(timezone.utc)
    bulletin_rows = []
    for n in range(1, bulletins + 1):
        is_live = n > bulletins - live
        klass = rng.choices(list(BulletinClass), weights=(80, 17, 3))[0]
        created = now - timedelta(days=365 * (bulletins - n) / bulletins, minutes=rng.randint(0, 600))
        if is_live:
            status = BulletinStatus.approved
        else:
            status = rng.choices(
                [BulletinStatus.aired, BulletinStatus.expired, BulletinStatus.draft, BulletinStatus.rejected,
                 BulletinStatus.submitted],
                weights=(70, 20, 5, 3, 2),
            )[0]
        approved = status in (BulletinStatus.aired, BulletinStatus.expired, BulletinStatus.approved)
        bulletin_rows.append({
            "title": rng.choice(TITLES).format(n=n),
            "text": TEXT,
            "bulletin_class": klass,
            "valid_from": (today - timedelta(days=2)) if is_live else created.astimezone(tz).date(),
            "valid_until": (today + timedelta(days=14)) if is_live else created.astimezone(tz).date() + timedelta(days=7),
            "frequency": Frequency.every_slot if n % 3 else Frequency.n_times,
            "times": None if n % 3 else 3,
            "slot_names": None,
            "topic": rng.choice(topics) if n % 11 else None,
            "status": status,
            "created_at": created,
            "approved_at": created + timedelta(hours=2) if approved else None,
            "item_path": str(item) if approved else None,
            "item_engine": "espeak" if approved else None,
            "item_duration_s": float(rng.randint(40, 150)) if approved else None,
            "render_error": None,
            "created_by": "bientap",
            "approved_by": "lanhdao" if approved else None,
        })
    # one live bulletin that cannot be rendered: the timetable shows its problem
    bulletin_rows[-1].update(item_path=None, item_duration_s=None, render_error="Không có bộ đọc nào hoạt động")
    with station.db.begin() as conn:
        conn.execute(Bulletin.__table__.insert(), bulletin_rows)
    aired_ids = [n for n, b in enumerate(bulletin_rows, start=1) if b["approved_at"] is not None]
    slots = (("Buổi sáng", time(6, 0)), ("Buổi chiều", time(17, 0)))
    as_run = []
    per_day = max(1, rows // 365)
    start_day = today - timedelta(days=rows // per_day + 1)
    for n in range(rows):
        day = start_day + timedelta(days=n // per_day)
        slot_name, at = slots[n % 2]
        planned = datetime.combine(day, at, tzinfo=tz)
        started = planned + timedelta(seconds=(n % per_day) * 3)
        roll = rng.random()
        fields = {"slot": slot_name, "planned_at": planned, "operator": None, "requested_at": None}
        if roll < 0.03:
            kind, klass, bulletin_id = AsRunKind.urgent, BulletinClass.emergency, None
            title = "Thông báo khẩn cấp: mưa lớn, đề phòng lũ quét"
            fields.update(slot=None, planned_at=None, operator=rng.choice(OPERATORS), requested_at=started)
        elif roll < 0.05:
            kind, klass, bulletin_id, title = AsRunKind.relay, None, None, "Tiếp sóng VOV1"
        else:
            kind = AsRunKind.programme
            bulletin_id = rng.choice(aired_ids)
            # the slot loop writes programme rows without a class (the bulletin has it)
            klass, title = None, bulletin_rows[bulletin_id - 1]["title"]
        status = rng.choices(
            [AsRunStatus.aired, AsRunStatus.interrupted, AsRunStatus.failed, AsRunStatus.missed, AsRunStatus.deferred],
            weights=(92, 2, 2, 2, 2),
        )[0]
        duration = float(rng.randint(30, 150)) if status in (AsRunStatus.aired, AsRunStatus.interrupted) else 0.0
        as_run.append({
            "bulletin_id": bulletin_id,
            "title": title,
            "path": str(item),
            "engine": "espeak" if kind == AsRunKind.programme else None,
            "status": status,
            "reason": None if status == AsRunStatus.aired else "Lý do thử nghiệm",
            "started_at": started,
            "ended_at": started + timedelta(seconds=duration),
            "duration_s": duration,
            "kind": kind,
            "bulletin_class": klass,
            **fields,
        })
        if len(as_run) >= 20_000:
            with station.db.begin() as conn:
                conn.execute(AsRun.__table__.insert(), as_run)
            as_run = []
    if as_run:
        with station.db.begin() as conn:
            conn.execute(AsRun.__table__.insert(), as_run)
    station.close()
    return {"bulletins": bulletins, "as_run": rows, "live": live}


if __name__ == "__main__":  # pragma: no cover - a tool
    import sys
    import time as clock

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "bench-data")
    began = clock.perf_counter()
    print(generate(target), f"{clock.perf_counter() - began:.1f} s")
