"""Regenerate tests/data/release-4af059f.sql: a data directory made by release 4af059f, as text.

Run it with THAT release's code, from the repository root:

    git worktree add /tmp/rel-4af059f 4af059f
    PYTHONPATH=/tmp/rel-4af059f .venv/bin/python tests/data/make_release_fixture.py
    git worktree remove /tmp/rel-4af059f

It initialises a data directory, adds accounts, bulletins in several states (each step writes its
audit rows), keeps the default timetable's slots, writes as-run rows of several kinds and statuses
through the station's own writer, then stores `sqlite3 broadcaster.db .dump` (Python's iterdump,
the same SQL text). Approval renders with espeak-ng, offline. tests/core/test_migrations.py opens it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

OUT = Path(__file__).resolve().parent / "release-4af059f.sql"
RELEASE = "4af059f"


def main() -> None:
    import broadcaster

    where = Path(broadcaster.__file__).resolve().parents[1]
    head = subprocess.run(["git", "-C", str(where), "rev-parse", "--short=7", "HEAD"], capture_output=True,
                          text=True).stdout.strip()
    if head != RELEASE:
        sys.exit(f"run with PYTHONPATH=<a {RELEASE} tree> (broadcaster comes from {where}, at {head or '?'})")
    os.environ["BROADCASTER_ENGINE_ORDER"] = '["espeak"]'
    from sqlmodel import Session

    from broadcaster import accounts, editorial
    from broadcaster.config import load_settings
    from broadcaster.models import AsRunKind, AsRunStatus, BulletinClass, Frequency
    from broadcaster.station.facade import Station

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        settings = load_settings(data)
        station = Station.open(settings, clock=lambda: datetime(2026, 3, 2, 5, 0, tzinfo=timezone.utc))
        with Session(station.db) as s:
            for name, role, full in (("quantri", "admin", "Nguyễn Văn Quản"), ("bientap", "editor", "Trần Thị Biên"),
                                     ("lanhdao", "leader", "Lê Văn Lãnh"), ("trucdai", "operator", "Phạm Thị Trực")):
                accounts.add_user(session=s, name=name, role=role, password="mat-khau-2026", by="quantri",
                                  full_name=full)
            s.commit()
            draft = editorial.create_draft(session=s, by="bientap", fields=editorial.clean_fields(
                title="Lịch tiêm phòng", text="Trạm y tế xã thông báo lịch tiêm phòng dại cho chó mèo.",
                topic="Y tế"))
            sent = editorial.create_draft(session=s, by="bientap", fields=editorial.clean_fields(
                title="Thu thuế đất", text="Đề nghị các hộ nộp thuế sử dụng đất phi nông nghiệp.",
                bulletin_class=BulletinClass.priority, frequency=Frequency.n_times, times=3))
            refused = editorial.create_draft(session=s, by="bientap", fields=editorial.clean_fields(
                title="Họp dân thôn Đông", text="Mời bà con dự họp.", valid_until=datetime(2026, 3, 31).date()))
            approved = editorial.create_draft(session=s, by="bientap", fields=editorial.clean_fields(
                title="Phòng chống bão", text="Bà con chằng chống nhà cửa, không ra khơi.",
                bulletin_class=BulletinClass.emergency, frequency=Frequency.chosen_slots,
                slot_names=["sang", "chieu"]))
            ids = [b.id for b in (draft, sent, refused, approved)]
            for bulletin_id in ids[1:]:
                editorial.submit(session=s, bulletin_id=bulletin_id, by="bientap")
            editorial.reject(session=s, bulletin_id=ids[2], by="lanhdao", comment="Thiếu giờ họp")
            s.commit()
        editorial.approve(station=station, bulletin_id=ids[3], by="lanhdao")
        planned = datetime(2026, 3, 2, 23, 30, tzinfo=timezone.utc)
        aired = station._open_row(title="Phòng chống bão", bulletin_id=ids[3], slot="sang", planned_at=planned,
                                  engine="espeak", path="cache/items/x.wav")
        station._close_row(aired, status=AsRunStatus.aired, ended_at=datetime(2026, 3, 2, 5, 1, tzinfo=timezone.utc))
        station.log_failure(title="Tiếp sóng VOV1", reason="Không kết nối được luồng tiếp sóng", slot="trua",
                            kind=AsRunKind.relay, planned_at=planned + timedelta(hours=5))
        station.log_missed(slot="chieu", planned_at=planned + timedelta(hours=10), reason="Máy tắt lúc đến giờ")
        urgent = station._open_row(title="Thông báo khẩn", kind=AsRunKind.urgent, operator="trucdai",
                                   requested_at=datetime(2026, 3, 2, 4, 59, 58, tzinfo=timezone.utc))
        station._close_row(urgent, status=AsRunStatus.interrupted, reason="Dừng bởi trực đài")
        station.log_alarm(title="Cảnh báo: im lặng", reason="Im lặng 12 giây trên đường ra")
        station.close()
        import sqlite3

        con = sqlite3.connect(settings.db_path)
        try:
            dump = "\n".join(con.iterdump()) + "\n"
        finally:
            con.close()
    OUT.write_text(dump, encoding="utf-8")
    print(f"wrote {OUT} ({len(dump.splitlines())} lines)")


if __name__ == "__main__":
    main()
