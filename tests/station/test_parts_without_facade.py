"""The air path's parts built with their collaborators only (no Station facade): a real SQLite
database, a fake player and a fake items object. A slot airs and its rows are in the log."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlmodel import Session

import slot_fixtures  # noqa: F401  (loads tests/scheduling/sched_helpers by path)
from sched_helpers import FakePlayer, local, write_wav  # noqa: E402

from broadcaster.config import load_settings  # noqa: E402
from broadcaster.db import create_schema, make_engine  # noqa: E402
from broadcaster.exceptions import NotFoundError  # noqa: E402
from broadcaster.models import AsRun, AsRunStatus, Bulletin, BulletinPublic, BulletinStatus  # noqa: E402
from broadcaster.scheduling import store  # noqa: E402
from broadcaster.scheduling.clock import FakeClock  # noqa: E402
from broadcaster.station.asrun import AsRunLog  # noqa: E402
from broadcaster.station.gate import AirGate  # noqa: E402
from broadcaster.station.slots import SlotAirer  # noqa: E402


class FakeItems:
    """What the slot airer asks of the items: the bulletin as stored, and no renders (all are ready)."""

    def __init__(self, engine, filler: Path) -> None:
        self.engine = engine
        self.filler = filler
        self.prepared: list[int] = []

    def get_bulletin(self, bulletin_id: int) -> BulletinPublic:
        with Session(self.engine) as session:
            row = session.get(Bulletin, bulletin_id)
            if row is None:
                raise NotFoundError(f"no bulletin {bulletin_id}")
            return BulletinPublic.model_validate(row)

    def prepare_bulletin(self, bulletin_id: int) -> BulletinPublic:
        self.prepared.append(bulletin_id)
        return self.get_bulletin(bulletin_id)

    def prepare_bulletin_offline(self, bulletin_id: int) -> BulletinPublic:
        return self.prepare_bulletin(bulletin_id)

    def filler_path(self) -> Path:
        return self.filler


@pytest.fixture
def parts(tmp_path):
    settings = load_settings(tmp_path / "station", engine_order=["espeak"])
    settings.data_dir.mkdir(parents=True)
    engine = make_engine(settings.db_path)
    create_schema(engine)
    store.ensure_timetable(engine=engine, settings=settings)
    clock = FakeClock(local(2026, 11, 28, 6, 0))
    asrun = AsRunLog(engine=engine, settings=settings, clock=clock.now)
    gate = AirGate()
    items = FakeItems(engine, write_wav(tmp_path / "filler.wav"))
    airer = SlotAirer(settings=settings, engine=engine, clock=clock.now, asrun=asrun, gate=gate, items=items)
    yield settings, engine, clock, asrun, airer
    engine.dispose()


def _ready_bulletin(engine, title: str, path: Path) -> int:
    with Session(engine) as session:
        row = Bulletin(title=title, text=f"Nội dung {title}", status=BulletinStatus.approved,
                       approved_at=datetime(2026, 11, 27, 1, 0, tzinfo=timezone.utc), item_path=str(path), item_engine="fake",
                       item_duration_s=60.0)
        session.add(row)
        session.commit()
        return row.id


def test_a_slot_airs_through_the_parts_and_its_row_is_in_the_log(parts, tmp_path):
    settings, engine, clock, asrun, airer = parts
    item = write_wav(tmp_path / "tin.wav")
    bulletin_id = _ready_bulletin(engine, "Tin tiêm phòng", item)
    player = FakePlayer(clock, {str(item): 60.0})
    six = local(2026, 11, 28, 6, 0)
    slot = airer.timetable().slot_named("Buổi sáng")

    rows = airer.air_slot(slot=slot, planned_at=six, player=player)

    assert [(r.title, r.status.value, r.bulletin_id) for r in rows] == [("Tin tiêm phòng", "aired", bulletin_id)]
    logged = asrun.as_run_log()
    assert [(r.id, r.title, r.status.value, r.slot) for r in logged] == [(rows[0].id, "Tin tiêm phòng", "aired", "Buổi sáng")]
    assert logged[0].duration_s == pytest.approx(60.0)
    assert airer.slot_handled(slot=slot, planned_at=six)
    assert player.played == [(str(item), six, six + timedelta(seconds=60))]


def test_a_failed_player_leaves_a_failed_row_not_an_open_one(parts, tmp_path):
    settings, engine, clock, asrun, airer = parts
    item = write_wav(tmp_path / "tin.wav")
    _ready_bulletin(engine, "Tin A", item)
    player = FakePlayer(clock, fail_open=True)
    six = local(2026, 11, 28, 6, 0)

    rows = airer.air_slot(slot="Buổi sáng", planned_at=six, player=player)

    assert [(r.status.value, r.reason) for r in rows] == [("failed", "no card in this test")]
    assert asrun.on_air_row() is None


def test_a_web_view_over_another_engine_shares_the_held_rows(parts):
    settings, engine, clock, asrun, airer = parts
    other = make_engine(settings.db_path)
    try:
        view = asrun.over_engine(other)
        held = asrun._hold_row(_held_row(clock))  # as a full disk leaves it
        assert [r.title for r in view.pending_rows] == ["Giữ lại"]
        view.close_row(held, status=AsRunStatus.aired)
        assert asrun.pending_rows == [] and [r.title for r in asrun.as_run_log()] == ["Giữ lại"]
    finally:
        other.dispose()


def _held_row(clock):
    return AsRun(status=AsRunStatus.on_air, started_at=clock.now(), title="Giữ lại")


class FakeDesk:
    """The urgent desk OnAir builds through its factory: nothing urgent in this test."""

    def __init__(self, player, **kwargs) -> None:
        self.player, self.kwargs = player, kwargs
        self.stopped = False

    def status(self) -> dict:
        return {"active": [], "recent": []}

    def shutdown(self) -> None:
        self.stopped = True


def test_the_serve_runtime_airs_a_slot_built_from_the_parts(parts, tmp_path):
    from broadcaster.station.runtime import OnAir

    settings, engine, clock, asrun, airer = parts
    item = write_wav(tmp_path / "tin.wav")
    _ready_bulletin(engine, "Tin tiêm phòng", item)
    player = FakePlayer(clock, {str(item): 60.0})
    said: list[str] = []
    onair = OnAir(settings=settings, engine=engine, asrun=asrun, slots=airer, items=airer.items, gate=airer.gate,
                  urgent_desk=FakeDesk, player_factory=lambda: player, clock=clock, say=said.append)
    assert isinstance(onair.urgent, FakeDesk) and onair.urgent.player is player
    six = local(2026, 11, 28, 6, 0)

    onair.on_slot(airer.timetable().slot_named("Buổi sáng"), six)

    assert [(r.title, r.status.value, r.slot) for r in asrun.as_run_log()] == [("Tin tiêm phòng", "aired", "Buổi sáng")]
    assert said[0] == "Đến giờ phát: Buổi sáng (06:00 28/11/2026)."
    assert said[-1] == "  Tin tiêm phòng: aired"
    assert onair.status()["device_open"] is True
