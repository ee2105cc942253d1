"""`broadcaster log`'s text table says where each urgent went, as its --json output does (issue 14:
urgent rows carry their zones since migration 0006)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

from cli_helpers import invoke
from sqlmodel import Session

from broadcaster.models import AsRun, AsRunKind, AsRunStatus, BulletinClass


def _rows(station):
    start = datetime(2026, 12, 2, 2, 0, tzinfo=timezone.utc)
    urgent = {"kind": AsRunKind.urgent, "bulletin_class": BulletinClass.emergency}
    with Session(station.db) as session:
        for minutes, title, fields in ((0, "Tin sáng", {}),
                                       (60, "Thông báo khẩn cấp: lũ", {"zones": ["Thôn Đông", "Xóm Bãi"], **urgent}),
                                       (120, "Thông báo khẩn cấp: bão", urgent)):
            at = start + timedelta(minutes=minutes)
            session.add(AsRun(title=title, started_at=at, ended_at=at + timedelta(seconds=60), duration_s=60.0,
                              status=AsRunStatus.aired, **fields))
        session.commit()


def test_the_log_table_names_each_urgents_zones(station, data_dir, monkeypatch):
    from broadcaster.cli.app import app

    _rows(station)
    monkeypatch.setenv("COLUMNS", "200")  # a wide terminal: each cell on its own line(s), unwrapped
    result = invoke(app, "log", data_dir=data_dir)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    flood = next(i for i, line in enumerate(lines) if "Thông báo khẩn cấp: lũ" in line)
    storm = next(i for i, line in enumerate(lines) if "Thông báo khẩn cấp: bão" in line)
    assert "Vùng: Thôn Đông, Xóm Bãi" in lines[flood + 1], result.output  # under the urgent's title
    assert "Vùng: Tất cả" in lines[storm + 1], result.output  # an urgent to every cluster
    assert len(re.findall("Vùng:", result.output)) == 2, result.output  # a programme row names no zone
    as_json = json.loads(invoke(app, "log", "--json", data_dir=data_dir).output)
    assert [r["zones"] for r in as_json] == [None, ["Thôn Đông", "Xóm Bãi"], None]
