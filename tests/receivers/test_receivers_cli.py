"""`broadcaster receivers add | revoke | list [--json]` and `broadcaster log --receivers` (issue 14
items 2, 4, 8): the token printed once with the command line to run at the cluster, one `Lỗi: …`
line for bad input with nothing written."""

from __future__ import annotations

import json
import shlex

from receivers_helpers import cli, counts

from broadcaster.config import load_settings


def test_add_prints_the_token_once_and_the_receiver_command(cli_env, data_dir):
    r = cli(cli_env, "receivers", "add", "Cụm loa chợ", "--zone", "Thôn Đông")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "Đã thêm cụm loa «Cụm loa chợ» (vùng Thôn Đông)."
    token = lines[1].rsplit(" ", 1)[1]
    command = shlex.split(next(line for line in lines if line.strip().startswith("broadcaster receiver ")))
    assert command == ["broadcaster", "receiver", "--station", "http://127.0.0.1:8080", "--token", token,
                       "--name", "Cụm loa chợ", "--zone", "Thôn Đông"]
    assert "127.0.0.1" in lines[-1] and "0.0.0.0" in lines[-1]  # the console listens on this PC only: say so
    import sqlite3

    con = sqlite3.connect(load_settings(data_dir).db_path)
    assert token not in "\n".join(con.iterdump())  # only its sha256 is kept
    con.close()
    listed = json.loads(cli(cli_env, "receivers", "list", "--json").stdout)
    assert listed == [{"name": "Cụm loa chợ", "zone": "Thôn Đông", "online": False, "revoked": False,
                       "last_seen": None, "playing": False, "state": None, "mount": None, "buffer_s": None,
                       "volume": None, "last_error": None}]
    table = cli(cli_env, "receivers", "list")
    assert table.returncode == 0 and "Cụm loa chợ" in table.stdout and "chưa kết nối lần nào" in table.stdout


def test_bad_input_is_one_line_and_writes_nothing(cli_env, data_dir):
    assert cli(cli_env, "receivers", "add", "Cụm 1").returncode == 0
    db = load_settings(data_dir).db_path
    before = counts(db)
    for args, words in ((("receivers", "add", "Cụm 1"), "Đã có cụm loa tên «Cụm 1»"),
                        (("receivers", "add", "x" * 61), "dài quá 60"),
                        (("receivers", "add", "Cụm 2", "--zone", "???"), "ít nhất một chữ cái"),
                        (("receivers", "revoke", "Cụm 9"), "Không có cụm loa «Cụm 9» (các cụm loa: Cụm 1)"),
                        (("log", "--receiver", "Cụm 9"), "Không có cụm loa «Cụm 9»")):
        r = cli(cli_env, *args)
        lines = (r.stdout + r.stderr).strip().splitlines()
        assert r.returncode != 0 and len(lines) == 1 and lines[0].startswith("Lỗi: ") and words in lines[0], (args, lines)
        assert counts(db) == before, args


def test_revoke_then_list_and_the_clusters_log(cli_env, data_dir):
    from broadcaster.station.facade import Station

    out = cli(cli_env, "receivers", "add", "Cụm 1").stdout
    token = out.splitlines()[1].rsplit(" ", 1)[1]
    station = Station(load_settings(data_dir))
    try:
        station.receivers.store_log(token, {"rows": [
            {"local_id": 7, "started_at": "2026-12-01T07:00:00+07:00", "ended_at": "2026-12-01T07:00:40+07:00",
             "kind": "gap", "mount": "/dai.mp3", "cause": "mất kết nối tới máy chủ phát"}]})
    finally:
        station.close()
    r = cli(cli_env, "log", "--receivers", "--json")
    assert r.returncode == 0, r.stderr
    (row,) = json.loads(r.stdout)
    assert (row["receiver"], row["kind"], row["started"], row["cause"]) == (
        "Cụm 1", "gap", "01/12/2026 07:00:00", "mất kết nối tới máy chủ phát")
    assert "mất kết nối tới máy chủ phát" in cli(cli_env, "log", "--receiver", "Cụm 1").stdout
    r = cli(cli_env, "receivers", "revoke", "Cụm 1")
    assert r.returncode == 0 and r.stdout.strip() == "Đã thu hồi mã của cụm loa «Cụm 1»."
    assert json.loads(cli(cli_env, "receivers", "list", "--json").stdout)[0]["revoked"] is True
    again = cli(cli_env, "receivers", "revoke", "Cụm 1")
    assert again.returncode != 0 and again.stderr.strip() == "Lỗi: Cụm loa «Cụm 1» đã bị thu hồi từ trước"
