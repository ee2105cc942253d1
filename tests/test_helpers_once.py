"""Helpers the tests and benches share live in one place (tests/support/, bench/_common.py), not copied
into each file that needs them: a module-level function of one of these names is defined only in its
home. (Found by `duplicates --change` after issue 14: five copies of free_port, two of a wait on as-run
rows, a bench with a wait loop of its own.)"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# name of a module-level function or class → the one file (relative to the repo) allowed to define it, and the
# folders where no other file may
HOMES = {
    "free_port": ("tests/support/ports.py", ("tests", "bench")),
    "_free_port": ("tests/support/ports.py", ("tests", "bench")),
    # a wait on the as-run rows a real `serve` writes (tests/failures, tests/streaming)
    "wait_rows": ("tests/support/serve.py", ("tests",)),
    "_wait_rows": ("tests/support/serve.py", ("tests",)),
    # a bench's wait on a condition (support.waiting.wait_for ending the bench with one line)
    "wait": ("bench/_common.py", ("bench",)),
    "_wait": ("bench/_common.py", ("bench",)),
    # the in-process API server the CLI finds like serve's (the urgent tests, the urgent latency bench)
    "ApiServer": ("tests/support/api_server.py", ("tests", "bench")),
}


def _definitions(name: str, folders: tuple[str, ...]) -> list[str]:
    found = []
    for folder in folders:
        for path in sorted((REPO / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            if any(isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == name for node in tree.body):
                found.append(str(path.relative_to(REPO)))
    return found


def test_each_shared_helper_is_defined_once_in_its_home():
    strays = {name: [p for p in _definitions(name, folders) if p != home] for name, (home, folders) in HOMES.items()}
    assert not any(strays.values()), f"copies outside their home (import it from there instead): {strays}"
    for home, _ in set(HOMES.values()):
        assert (REPO / home).is_file(), home


def test_wait_rows_fails_with_serves_output_once_serve_has_exited(tmp_path):
    """The as-run wait gives up as soon as serve is gone (not at its timeout), showing what serve said."""
    import sqlite3
    import subprocess
    import sys
    import time

    import pytest
    from support.serve import Serve, wait_rows

    db = tmp_path / "broadcaster.db"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE as_run (id, title, status, started_at, ended_at, reason, kind, slot, planned_at)")
        con.execute("INSERT INTO as_run VALUES (1, 'Tin', 'aired', NULL, NULL, NULL, 'item', 'Sáng', NULL)")

    exited = Serve.__new__(Serve)  # a Serve whose process has ended, having said one line
    exited.out, exited.err = tmp_path / "serve.out", tmp_path / "serve.err"
    exited.out.write_text("", encoding="utf-8")
    exited.err.write_text("Lỗi: đã dừng\n", encoding="utf-8")
    exited.process = subprocess.Popen([sys.executable, "-c", "pass"])
    exited.process.wait(30)

    assert wait_rows(db, lambda r: r[1] == "Tin", 30, exited) == [(1, "Tin", "aired", None, None, None,
                                                                    "item", "Sáng", None)]
    started = time.monotonic()
    with pytest.raises(AssertionError, match="serve exited .*Lỗi: đã dừng"):
        wait_rows(db, lambda r: r[1] == "Không có", 120, exited)
    assert time.monotonic() - started < 60  # gave up on the exit, far before the 120 s timeout
