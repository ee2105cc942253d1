"""Backups, retention, file modes and the serve-side daily backup, in process (issue 9, item 5).
The CLI round trip and the refusals are in tests/e2e/test_backup_cli.py."""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

T0 = datetime(2026, 12, 1, 3, 0, tzinfo=timezone.utc)


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def backup_names(settings) -> list[str]:
    return sorted(p.name for p in (settings.data_dir / "backups").glob("broadcaster-*.db"))


def test_database_files_are_private_in_a_private_data_dir(station):
    from broadcaster import backup

    settings = station.settings
    station.add_bulletin(title="Tin", text="Nội dung.")  # a write: the WAL and its index exist now
    db = settings.db_path
    assert mode(settings.data_dir) == 0o700
    assert mode(db) == 0o600
    for suffix in ("-wal", "-shm"):
        assert mode(Path(str(db) + suffix)) == 0o600, suffix
    made = backup.create_backup(settings)
    assert mode(made.path) == 0o600 and mode(made.path.parent) == 0o700
    assert (settings.data_dir / "run" / "station.json").exists()
    assert mode(settings.data_dir / "run" / "station.json") == 0o600


def test_an_existing_database_is_made_private_when_opened(settings):
    from broadcaster.station.facade import Station

    Station.open(settings).close()
    settings.db_path.chmod(0o644)
    Station.open(settings).close()
    assert mode(settings.db_path) == 0o600


def test_retention_keeps_the_newest(station):
    from broadcaster import backup

    settings = station.settings
    settings.backup_keep = 3
    stranger = settings.data_dir / "backups" / "ban-sao-cua-toi.db"
    for hours in range(5):
        backup.create_backup(settings, now=T0 + timedelta(hours=hours))
        if hours == 0:
            stranger.write_bytes(b"not ours")
    kept = [b.name for b in backup.list_backups(settings)]
    assert kept == ["broadcaster-2026-12-01T070000Z.db", "broadcaster-2026-12-01T060000Z.db",
                    "broadcaster-2026-12-01T050000Z.db"]  # newest first
    assert stranger.exists()  # only our own names are pruned
    # two in the same second do not overwrite each other
    backup.create_backup(settings, now=T0 + timedelta(hours=4))
    assert len(backup.list_backups(settings)) == 3
    assert "broadcaster-2026-12-01T070000Z-2.db" in backup_names(settings)


def test_backup_taken_while_writing_is_consistent(station):
    """Each transaction adds two rows; a backup that caught half of one would have an odd count."""
    from broadcaster import backup

    settings = station.settings
    stop = threading.Event()
    written = threading.Event()
    errors: list[BaseException] = []

    def writer():
        con = sqlite3.connect(settings.db_path, timeout=30)
        con.execute("CREATE TABLE IF NOT EXISTS pairs (n INTEGER)")
        con.commit()
        n = 0
        try:
            while not stop.is_set():
                with con:
                    con.execute("INSERT INTO pairs VALUES (?)", (n,))
                    con.execute("INSERT INTO pairs VALUES (?)", (n,))
                n += 1
                if n >= 50:
                    written.set()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            con.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert written.wait(60)
        counts = []
        for i in range(5):
            made = backup.create_backup(settings, now=T0 + timedelta(minutes=i))
            con = sqlite3.connect(f"{made.path.as_uri()}?mode=ro", uri=True)
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one self-contained file
            counts.append(con.execute("SELECT COUNT(*) FROM pairs").fetchone()[0])
            con.close()
    finally:
        stop.set()
        thread.join(60)
    assert not errors
    assert all(c % 2 == 0 and c >= 100 for c in counts), counts
    assert counts == sorted(counts)


def test_auto_backup_is_due_on_the_injected_clock(station):
    from broadcaster import backup

    settings = station.settings
    now = [T0]
    keeper = backup.AutoBackup(station, clock=lambda: now[0])
    assert keeper.tick() is True  # no backup yet: due at once
    keeper.join(60)
    assert backup_names(settings) == ["broadcaster-2026-12-01T030000Z.db"]
    now[0] = T0 + timedelta(hours=23, minutes=59)
    assert keeper.tick() is False
    now[0] = T0 + timedelta(hours=24)
    assert keeper.tick() is True
    keeper.join(60)
    assert backup_names(settings)[-1] == "broadcaster-2026-12-02T030000Z.db"
    settings.backup_interval_h = 0  # off
    now[0] = T0 + timedelta(days=5)
    assert keeper.tick() is False


def test_a_failed_backup_is_an_alarm_row_and_raises_nothing(station):
    from broadcaster import backup
    from broadcaster.models import AsRunStatus

    (station.settings.data_dir / "backups").write_bytes(b"a file where the folder should be")
    now = [T0]
    keeper = backup.AutoBackup(station, clock=lambda: now[0])
    assert keeper.tick() is True
    keeper.join(60)
    alarms = [r for r in station.as_run_log() if r.status == AsRunStatus.alarm]
    assert len(alarms) == 1 and "sao lưu" in alarms[0].title.lower(), alarms
    assert keeper.tick() is False  # not retried on every tick: no alarm flood
    now[0] = T0 + timedelta(hours=2)
    assert keeper.tick() is True
    keeper.join(60)
    assert len([r for r in station.as_run_log() if r.status == AsRunStatus.alarm]) == 2


def test_backup_of_an_emptied_database_is_refused(station):
    """A database emptied under a running serve must not become the newest 'good' backup."""
    from broadcaster import backup
    from broadcaster.exceptions import BroadcasterError

    station.close()
    station.settings.db_path.write_bytes(b"")
    for suffix in ("-wal", "-shm"):
        Path(str(station.settings.db_path) + suffix).unlink(missing_ok=True)
    with pytest.raises(BroadcasterError):
        backup.create_backup(station.settings)
    assert backup_names(station.settings) == []
    assert not list((station.settings.data_dir / "backups").glob("*.part"))


def test_a_backup_keeps_the_live_engines_locks(station):
    """Opening and closing the live file any other way than through SQLite drops this process's
    POSIX locks: the next reader elsewhere then checkpoints and unlinks the WAL under us, and our
    writes go to a file no one else sees (issue 9 item 1's symptom). A backup must not do that."""
    import subprocess
    import sys

    from broadcaster import backup

    settings = station.settings
    reader = ("import sqlite3, sys; c = sqlite3.connect(sys.argv[1], timeout=30); "
              "print(c.execute('SELECT COUNT(*) FROM bulletin').fetchone()[0]); c.close()")

    def seen_elsewhere() -> int:
        out = subprocess.run([sys.executable, "-c", reader, str(settings.db_path)], capture_output=True, text=True,
                             timeout=60, check=True)
        return int(out.stdout)

    station.add_bulletin(title="Một", text="Nội dung một.")
    keeper = backup.AutoBackup(station, clock=lambda: T0)  # serve's way, in its thread
    assert keeper.tick()
    keeper.join(60)
    backup.create_backup(settings)  # `backup create`'s way
    assert len(backup.list_backups(settings)) == 2
    station.add_bulletin(title="Hai", text="Nội dung hai.")
    assert seen_elsewhere() == 2
    station.add_bulletin(title="Ba", text="Nội dung ba.")  # after another process closed its connection
    assert seen_elsewhere() == 3


def test_restore_from_a_path_onto_a_new_machine(station, tmp_path):
    """A backup carried on a USB stick to a new PC: restored by path into a directory that does not exist."""
    from broadcaster import backup
    from broadcaster.config import load_settings
    from broadcaster.station.facade import Station

    station.add_bulletin(title="Giữ lại", text="Nội dung cần giữ.")
    made = backup.create_backup(station.settings)
    carried = tmp_path / "usb" / "ban-sao.db"
    carried.parent.mkdir()
    carried.write_bytes(made.path.read_bytes())
    new = load_settings(tmp_path / "new-pc" / "data", engine_order=["espeak"])
    outcome = backup.restore_backup(new, str(carried))
    assert outcome.aside is None and outcome.source == carried
    assert mode(new.data_dir) == 0o700 and mode(new.db_path) == 0o600
    # the restored station is the same station: its marker follows the database
    assert backup.read_marker(new)["station_id"] == backup.read_marker(station.settings)["station_id"]
    restored = Station.open(new)
    try:
        assert [b.title for b in restored.list_bulletins()] == ["Giữ lại"]
    finally:
        restored.close()
