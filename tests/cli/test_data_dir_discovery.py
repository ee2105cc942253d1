"""Issue 11 item 2: the data directory does not silently change with the folder a command runs in.

Without --data-dir and BROADCASTER_DATA_DIR a command finds the station's data directory (./data,
then the project's data/); when there is none it says where it looked and how to point at one,
and creates nothing. Only `init` creates one. `make run` takes PORT=…"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from broadcaster import datadir
from broadcaster.cli.app import run

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def elsewhere(tmp_path, monkeypatch):
    """A folder outside any station, no BROADCASTER_DATA_DIR, and a project checkout of our own."""
    monkeypatch.delenv("BROADCASTER_DATA_DIR", raising=False)
    monkeypatch.setenv("BROADCASTER_ENGINE_ORDER", '["espeak"]')
    outside = tmp_path / "ở-ngoài"
    outside.mkdir()
    project = tmp_path / "du-an"
    project.mkdir()
    monkeypatch.setattr(datadir, "PROJECT_ROOT", project)
    monkeypatch.chdir(outside)
    return outside, project


@pytest.mark.parametrize("argv", [["log"], ["user", "list"], ["schedule", "list"], ["backup", "list"], ["serve"],
                                  ["lexicon", "add", "TDP", "tổ dân phố"]])
def test_no_data_dir_found_says_where_it_looked_and_creates_nothing(elsewhere, capsys, argv):
    outside, project = elsewhere
    code = run(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0
    assert len(err) == 1 and err[0].startswith("Lỗi: Không tìm thấy thư mục dữ liệu của đài"), err
    assert str(outside / "data") in err[0] and str(project / "data") in err[0]
    assert "--data-dir" in err[0] and "BROADCASTER_DATA_DIR" in err[0] and "broadcaster init" in err[0]
    assert list(outside.iterdir()) == [] and list(project.iterdir()) == []  # nothing was created


def test_only_init_creates_one_and_the_others_then_find_it_from_anywhere(elsewhere, capsys, monkeypatch):
    outside, project = elsewhere
    monkeypatch.chdir(project)
    assert run(["init"]) == 0  # as `make run` does, in the project folder
    assert (project / "data" / "broadcaster.db").is_file()
    monkeypatch.chdir(outside)
    capsys.readouterr()
    assert run(["log", "--json"]) == 0, capsys.readouterr().err
    assert capsys.readouterr().out.strip() == "[]"
    assert list(outside.iterdir()) == []  # found the project's, made no ./data here


def test_the_fast_urgent_path_follows_the_same_rule(elsewhere):
    from broadcaster.cli.urgent_client import fast_urgent

    outside, project = elsewhere
    assert fast_urgent(["--text", "Thử"]) == 1  # one Lỗi line (no data directory), not a fresh one
    assert list(outside.iterdir()) == []


def test_explicit_data_dir_and_environment_still_win(elsewhere, tmp_path, monkeypatch):
    chosen = tmp_path / "đài"
    assert datadir.locate(chosen) == chosen
    monkeypatch.setenv("BROADCASTER_DATA_DIR", str(chosen))
    assert datadir.locate(None) == chosen


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_takes_port():
    env = dict(os.environ)
    env.pop("PORT", None)
    chosen = subprocess.run(["make", "-n", "-C", str(REPO), "run", "PORT=8765"], capture_output=True, text=True,
                            env=env, timeout=60)
    assert chosen.returncode == 0, chosen.stderr
    serve_lines = [line for line in chosen.stdout.splitlines() if "broadcaster serve" in line]
    assert serve_lines and "--port 8765" in serve_lines[-1], chosen.stdout
    default = subprocess.run(["make", "-n", "-C", str(REPO), "run"], capture_output=True, text=True, env=env, timeout=60)
    assert default.returncode == 0 and "--port" not in [l for l in default.stdout.splitlines() if "broadcaster serve" in l][-1]
