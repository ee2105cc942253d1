"""The database is kept (issue 9, item 5), through the installed `broadcaster` command:
an emptied or replaced database is refused by every command, naming the newest backup;
`broadcaster backup create | list | restore` round-trips accounts, slots and bulletins;
restore is refused while `serve` runs; `serve` makes the daily backup itself."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path


BIN = Path(sys.executable).parent / "broadcaster"




def cli(*args, env, input=None, timeout=120):
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, env=env, input=input, timeout=timeout)


def ok(*args, env, input=None) -> str:
    r = cli(*args, env=env, input=input)
    assert r.returncode == 0, (args, r.stdout, r.stderr)
    return r.stdout


def one_error_line(r) -> str:
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert r.returncode != 0, (r.stdout, r.stderr)
    assert len(lines) == 1 and lines[0].startswith("Lỗi:"), r.stderr
    assert "Traceback" not in r.stderr and "sqlalchemy" not in r.stderr.lower()
    return lines[0]


def make_station(env) -> dict:
    """An account, a slot of our own and a bulletin: what a restore must bring back."""
    ok("user", "add", "bientap", "--role", "editor", "--password-stdin", env=env, input="mat-khau-bien-tap\n")
    ok("schedule", "add", "--name", "Trưa", "--time", "11:30", env=env)
    ok("bulletin", "add", "--title", "Lịch tiêm phòng", "--text", "Tiêm phòng dại cho chó mèo.", env=env)
    return snapshot(env)


def snapshot(env) -> dict:
    return {
        "users": [(u["name"], u["role"]) for u in json.loads(ok("user", "list", "--json", env=env))],
        "slots": sorted(s["name"] for s in json.loads(ok("schedule", "list", "--json", env=env))),
        "bulletins": [(b["id"], b["title"]) for b in json.loads(ok("bulletin", "list", "--json", env=env))],
    }


# every command that opens the station's data (devices, the lexicon editor and `render --text/--file`,
# which needs only the settings, the engines and the render cache, do not)
COMMANDS = [
    ["init"],
    ["user", "list"],
    ["user", "add", "moi", "--role", "admin", "--password-stdin"],
    ["bulletin", "list"],
    ["bulletin", "add", "--title", "Tin", "--text", "Nội dung."],
    ["schedule", "list"],
    ["program"],
    ["log"],
    ["render", "--bulletin", "1", "-o", "OUT"],
    ["urgent", "--text", "Khẩn cấp."],
    ["serve", "--port", "0"],
    ["backup", "create"],
]


def assert_every_command_refused(env, tmp_path, needles: list[str]) -> None:
    for args in COMMANDS:
        args = [str(tmp_path / "out.wav") if a == "OUT" else a for a in args]
        line = one_error_line(cli(*args, env=env, input="mat-khau-moi-123\n", timeout=60))
        for needle in needles:
            assert needle in line, (args, line)


def test_emptied_database_is_refused_by_every_command_naming_the_newest_backup(env, data_dir, tmp_path):
    make_station(env)
    ok("backup", "create", env=env)
    newest = sorted((data_dir / "backups").glob("broadcaster-*.db"))[-1]
    db = data_dir / "broadcaster.db"
    db.write_bytes(b"")  # `: > broadcaster.db` behind the station
    assert_every_command_refused(env, tmp_path, ["trống", newest.name, "broadcaster backup restore"])
    assert db.stat().st_size == 0  # nothing recreated a fresh station in it
    assert not (tmp_path / "out.wav").exists()
    # a text rendered to a file reads no station record: it still works, and leaves the database alone
    ok("render", "--text", "Xin chào.", "-o", str(tmp_path / "text.wav"), env=env)
    assert (tmp_path / "text.wav").stat().st_size > 44
    assert db.stat().st_size == 0


def test_emptied_database_without_backups_is_refused_too(env, data_dir, tmp_path):
    ok("user", "add", "bientap", "--role", "editor", "--password-stdin", env=env, input="mat-khau-bien-tap\n")
    db = data_dir / "broadcaster.db"
    db.write_bytes(b"")
    for args in (["user", "list"], ["schedule", "list"], ["init"]):
        line = one_error_line(cli(*args, env=env))
        assert "trống" in line and "không có bản sao lưu" in line, line
    assert db.stat().st_size == 0


def test_deleted_or_replaced_database_is_refused(env, data_dir, tmp_path):
    make_station(env)
    ok("backup", "create", env=env)
    db = data_dir / "broadcaster.db"
    # replaced by a schemaless SQLite file
    db.unlink()
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE other (x)")
    con.close()
    assert "broadcaster backup restore" in one_error_line(cli("user", "list", env=env))
    # replaced by another station's (fresh) database
    other = tmp_path / "other"
    assert cli("init", env=dict(env, BROADCASTER_DATA_DIR=str(other))).returncode == 0
    db.unlink()
    (other / "broadcaster.db").replace(db)
    line = one_error_line(cli("user", "list", env=env))
    assert "đài khác" in line and "broadcaster backup restore" in line, line
    # deleted
    db.unlink()
    assert "broadcaster backup restore" in one_error_line(cli("schedule", "list", env=env))
    assert not db.exists()


def test_fresh_data_dir_still_inits_and_marks_the_station(env, data_dir):
    out = ok("init", env=env)
    assert "Thư mục dữ liệu sẵn sàng" in out
    marker = data_dir / "run" / "station.json"
    station_id = json.loads(marker.read_text(encoding="utf-8"))["station_id"]
    assert station_id
    ok("init", env=env)  # again: nothing refused, the same station
    assert json.loads(marker.read_text(encoding="utf-8"))["station_id"] == station_id
    assert sorted(s["name"] for s in json.loads(ok("schedule", "list", "--json", env=env))) == [
        "Buổi chiều", "Buổi sáng"]


def test_backup_create_list_restore_round_trip(env, data_dir):
    before = make_station(env)
    out = ok("backup", "create", env=env)
    backups = sorted((data_dir / "backups").glob("broadcaster-*.db"))
    assert len(backups) == 1 and backups[0].name in out
    listed = ok("backup", "list", env=env)
    assert backups[0].name in listed and "KB" in listed
    rows = json.loads(ok("backup", "list", "--json", env=env))
    assert [r["name"] for r in rows] == [backups[0].name] and rows[0]["size_bytes"] == backups[0].stat().st_size

    # later changes, then the database is lost
    ok("user", "add", "sau", "--role", "editor", "--password-stdin", env=env, input="mat-khau-sau-nay\n")
    ok("schedule", "remove", "Trưa", env=env)
    db = data_dir / "broadcaster.db"
    db.write_bytes(b"")

    out = ok("backup", "restore", env=env)  # no name: the newest
    assert backups[0].name in out
    assert not Path(str(db) + "-wal").exists() and not Path(str(db) + "-shm").exists()
    aside = list(data_dir.glob("broadcaster.db.before-restore-*"))
    assert len(aside) == 1 and aside[0].stat().st_size == 0  # the bad one kept aside
    assert snapshot(env) == before  # accounts, slots, bulletins as they were at the backup

    # restore by name over a good database: the current one (with its WAL) is kept aside and readable
    ok("user", "add", "thu3", "--role", "editor", "--password-stdin", env=env, input="mat-khau-thu-ba\n")
    ok("backup", "restore", backups[0].name, env=env)
    assert snapshot(env) == before
    aside = sorted(data_dir.glob("broadcaster.db.before-restore-*[0-9]Z"))
    assert len(aside) == 2
    con = sqlite3.connect(f"{aside[-1].as_uri()}?mode=ro", uri=True)
    assert "thu3" in {r[0] for r in con.execute("SELECT name FROM web_user")}
    con.close()


def test_restore_refuses_a_bad_backup_and_an_unknown_name(env, data_dir):
    before = make_station(env)
    backups = data_dir / "backups"
    backups.mkdir(exist_ok=True)
    (backups / "broadcaster-2099-01-01T000000Z.db").write_bytes(b"SQLite format 3\x00" + b"\x07" * 5000)
    line = one_error_line(cli("backup", "restore", env=env))
    assert "broadcaster-2099-01-01T000000Z.db" in line
    with sqlite3.connect(backups / "broadcaster-2099-01-02T000000Z.db") as con:
        con.execute("CREATE TABLE other (x)")
    con.close()
    one_error_line(cli("backup", "restore", "broadcaster-2099-01-02T000000Z.db", env=env))
    assert "không có" in one_error_line(cli("backup", "restore", "khong-co.db", env=env)).lower()
    assert snapshot(env) == before
    assert not list(data_dir.glob("broadcaster.db.before-restore-*"))  # nothing was touched


def wait_for(predicate, proc, what: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        if proc.poll() is not None:
            raise AssertionError(f"serve ended before {what}: {proc.communicate()}")
        time.sleep(0.1)
    raise AssertionError(f"{what} never happened")


def test_serve_makes_the_daily_backup_and_restore_waits_for_it_to_stop(env, data_dir):
    before = make_station(env)
    proc = subprocess.Popen([str(BIN), "serve", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, start_new_session=True)
    try:
        wait_for(lambda: (data_dir / "run" / "serve.json").exists(), proc, "serve.json")
        # no backup yet: the first is due at once
        backup = wait_for(lambda: sorted((data_dir / "backups").glob("broadcaster-*.db")), proc, "the backup")[-1]
        con = sqlite3.connect(f"{backup.as_uri()}?mode=ro", uri=True)
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert [r[0] for r in con.execute("SELECT name FROM web_user")] == ["bientap"]
        con.close()
        assert backup.stat().st_mode & 0o777 == 0o600
        line = one_error_line(cli("backup", "restore", env=env))
        assert "đang chạy" in line, line
        assert not list(data_dir.glob("broadcaster.db.before-restore-*"))
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    ok("backup", "restore", env=env)  # stopped: now it may
    assert snapshot(env) == before
