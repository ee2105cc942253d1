"""`schedule list|add|remove|import|export` and `program`, through typer's CliRunner.

The commands are mounted the way cli/app.py mounts them. Rendering is faked (the
CLI opens its own Station, so bulletins are prepared through a station in the test).
"""

import json
from functools import partial

import pytest
import typer
from cli_helpers import invoke

from broadcaster.cli.schedule import program_cmd, schedule_app
from broadcaster.exceptions import BroadcasterError, ScheduleError
from broadcaster.models import DEFERRED_LABEL, BulletinClass

app = typer.Typer()
app.add_typer(schedule_app, name="schedule")
app.command("program")(program_cmd)
cli = partial(invoke, app)  # cli(*args, data_dir=...)


def test_list_shows_the_default_timetable(data_dir):
    r = cli("schedule", "list", "--json", data_dir=data_dir)
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    assert [(s["name"], s["time"], s["days"], s["kind"]) for s in rows] == [
        ("Buổi sáng", "06:00", None, "recurring"),
        ("Buổi chiều", "17:00", None, "recurring"),
    ]
    assert rows[0]["next_at"] and rows[0]["programme"]["items"] == []
    r = cli("schedule", "list", data_dir=data_dir)
    assert "Buổi sáng" in r.output and "hằng ngày" in r.output


def test_add_remove_enable(data_dir):
    r = cli("schedule", "add", "--name", "Trưa", "--time", "11:30", "--days", "T2,T4", "--max-minutes", "15",
            data_dir=data_dir)
    assert r.exit_code == 0, r.output
    new_id = int(r.output.strip())
    r = cli("schedule", "add", "--name", "VOV1", "--time", "05:00", "--kind", "relay",
            "--source", "https://vov.example.test/live", "--duration-min", "45", data_dir=data_dir)
    assert r.exit_code == 0, r.output
    r = cli("schedule", "add", "--name", "Họp", "--time", "19:00", "--kind", "oneoff", "--date", "2026-12-24",
            data_dir=data_dir)
    assert r.exit_code == 0, r.output
    rows = {s["name"]: s for s in json.loads(cli("schedule", "list", "--json", data_dir=data_dir).output)}
    assert rows["Trưa"]["days"] == [0, 2] and rows["Trưa"]["max_minutes"] == 15
    assert rows["VOV1"]["programme"]["relay"]["duration_s"] == 45 * 60
    assert rows["Họp"]["date"] == "2026-12-24"
    assert cli("schedule", "disable", "Trưa", data_dir=data_dir).exit_code == 0
    rows = {s["name"]: s for s in json.loads(cli("schedule", "list", "--json", data_dir=data_dir).output)}
    assert rows["Trưa"]["enabled"] is False and rows["Trưa"]["next_at"] is None
    r = cli("schedule", "remove", str(new_id), data_dir=data_dir)
    assert r.exit_code == 0 and "Trưa" in r.output
    assert "Trưa" not in cli("schedule", "list", data_dir=data_dir).output


@pytest.mark.parametrize("ref", ["²", "①", "٢"])
def test_a_slot_ref_in_digits_that_are_not_plain_digits_is_a_name(data_dir, ref):
    # "²" passes str.isdigit() and int() refuses it; "٢" is 2 to int(): a slot number is plain digits
    for command in ("disable", "remove"):
        r = cli("schedule", command, ref, data_dir=data_dir)
        assert r.exit_code != 0 and isinstance(r.exception, ScheduleError), r.output
        assert f"Không có khung giờ '{ref}'" in str(r.exception)
    rows = json.loads(cli("schedule", "list", "--json", data_dir=data_dir).output)
    assert [(s["name"], s["enabled"]) for s in rows] == [("Buổi sáng", True), ("Buổi chiều", True)]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--name", "x", "--time", "25:61"], "25:61"),
        (["--name", "x", "--time", "06:00", "--days", "thứ 9"], "thứ 9"),
        (["--name", "Buổi sáng", "--time", "07:00"], "Đã có"),
        (["--name", "x", "--time", "06:00", "--kind", "relay"], "source"),
        (["--name", "x", "--time", "06:00", "--kind", "oneoff", "--date", "mai"], "mai"),
    ],
)
def test_add_errors_are_explained(data_dir, args, message):
    r = cli("schedule", "add", *args, data_dir=data_dir)
    assert r.exit_code != 0 and isinstance(r.exception, BroadcasterError)
    assert message in str(r.exception)


def test_remove_unknown(data_dir):
    r = cli("schedule", "remove", "Không có", data_dir=data_dir)
    assert isinstance(r.exception, ScheduleError) and "Không có" in str(r.exception)


def test_export_import_round_trip(data_dir, tmp_path):
    cli("schedule", "add", "--name", "Cuối tuần", "--time", "18:30", "--days", "T7,CN", "--from", "2026-01-01",
        data_dir=data_dir)
    out = tmp_path / "export" / "xa.toml"
    out.parent.mkdir()  # an output file goes into an existing folder (a missing one is refused, issue 9)
    assert cli("schedule", "export", str(out), data_dir=data_dir).exit_code == 0
    before = json.loads(cli("schedule", "list", "--json", data_dir=data_dir).output)
    other = tmp_path / "other"
    r = cli("schedule", "import", str(out), data_dir=other)
    assert r.exit_code == 0 and "3 khung giờ" in r.output
    after = json.loads(cli("schedule", "list", "--json", data_dir=other).output)
    strip = lambda rows: [{k: v for k, v in s.items() if k != "id"} for s in rows]  # noqa: E731
    assert strip(after) == strip(before)
    stdout = cli("schedule", "export", "-", data_dir=other).output
    assert stdout == out.read_text(encoding="utf-8")


def test_a_bad_import_changes_nothing(data_dir, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[slot]]\nname = "A"\ntime = "06:00"\n[[slot]]\nname = "B"\ntime = "nửa đêm"\n', encoding="utf-8")
    r = cli("schedule", "import", str(bad), data_dir=data_dir)
    assert isinstance(r.exception, ScheduleError) and "khung giờ 2" in str(r.exception)
    names = [s["name"] for s in json.loads(cli("schedule", "list", "--json", data_dir=data_dir).output)]
    assert names == ["Buổi sáng", "Buổi chiều"]


def test_program_shows_order_length_and_overflow(settings, data_dir, monkeypatch):
    from sched_helpers import FakeRender, add

    from broadcaster.station.facade import Station

    st = Station.open(settings)
    render = FakeRender(st, {})
    monkeypatch.setattr(st.items, "render_text", render)
    add(st, render, "Lịch tiêm phòng", 20 * 60)
    add(st, render, "Ưu tiên: bão", 8 * 60, bulletin_class=BulletinClass.priority)
    add(st, render, "Họp dân", 5 * 60)
    render.fail["Nội dung Không dựng được"] = "espeak-ng hỏng"
    add(st, render, "Không dựng được", 1)
    st.close()

    r = cli("program", "--slot", "Buổi sáng", "--date", "2026-11-28", data_dir=data_dir)
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0].startswith("Buổi sáng — 06:00 28/11/2026")
    assert "1. 06:00:00" in lines[1] and "Ưu tiên: bão" in lines[1]
    assert "2. 06:08:00" in lines[2] and "Lịch tiêm phòng" in lines[2]
    assert "Không dựng được" in r.output and "chưa dựng được: espeak-ng hỏng" in r.output
    assert "Tổng thời lượng: 28 phút / tối đa 30 phút" in r.output
    assert f"Họp dân (5 phút): {DEFERRED_LABEL} (Buổi chiều 17:00 28/11)" in r.output

    data = json.loads(cli("program", "--date", "2026-11-28", "--json", data_dir=data_dir).output)
    assert [p["slot"] for p in data] == ["Buổi sáng", "Buổi chiều"]
    assert data[0]["total_s"] == 28 * 60
    assert [(d["title"], d["problem"]) for d in data[0]["overflow"]] == [("Họp dân", None), ("Không dựng được", "espeak-ng hỏng")]
    listing = cli("schedule", "list", data_dir=data_dir).output
    assert DEFERRED_LABEL in listing and "chưa dựng được" in listing


def test_program_for_a_day_the_slot_does_not_run(data_dir):
    cli("schedule", "add", "--name", "Thứ hai", "--time", "07:00", "--days", "T2", data_dir=data_dir)
    r = cli("program", "--slot", "Thứ hai", "--date", "2026-11-28", data_dir=data_dir)
    assert isinstance(r.exception, ScheduleError) and "không phát ngày 28/11/2026" in str(r.exception)
