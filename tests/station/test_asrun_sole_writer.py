"""The as-run log has one writer: station/asrun.py. Any other module that builds an AsRun row or
writes the as_run table by SQL is a second writer (issue #10 item 1); this reads the source."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import broadcaster

PACKAGE = Path(broadcaster.__file__).parent
WRITER = PACKAGE / "station" / "asrun.py"
# the receiver program's own log (issue 14): a loudspeaker cluster's rows in the cluster's own data
# directory, never the station's; it is that log's one writer as asrun.py is the station's
RECEIVER_WRITER = PACKAGE / "receiver" / "journal.py"
WRITERS = (WRITER, RECEIVER_WRITER)
# the schema's own backfill of a derived column (DDL, with the trigger): not a row written by the station
SCHEMA_BACKFILL = re.compile(r"UPDATE\s+as_run\s+SET\s+bulletin_class\s*=", re.IGNORECASE)
SQL_WRITE = re.compile(r"\b(INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+as_run\b", re.IGNORECASE)


def _sources() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if ".venv" not in p.parts)


def _builds_asrun(tree: ast.AST) -> list[int]:
    """Lines where an AsRun table row is made: AsRun(...) or models.AsRun(...)."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
            if name == "AsRun":
                lines.append(node.lineno)
    return lines


def test_the_scan_sees_the_writer_itself():
    # the check must be able to fail: the one writer is found by the same scan
    for writer in WRITERS:
        assert _builds_asrun(ast.parse(writer.read_text(encoding="utf-8"))), writer


def test_no_other_module_builds_an_asrun_row():
    offenders = []
    for path in _sources():
        if path in WRITERS:
            continue
        for line in _builds_asrun(ast.parse(path.read_text(encoding="utf-8"))):
            offenders.append(f"{path.relative_to(PACKAGE)}:{line}")
    assert offenders == [], f"AsRun rows made outside station/asrun.py: {offenders}"


def test_no_other_module_writes_the_as_run_table_by_sql():
    offenders = []
    for path in _sources():
        if path == WRITER:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if SQL_WRITE.search(line) and not SCHEMA_BACKFILL.search(line):
                offenders.append(f"{path.relative_to(PACKAGE)}:{number}")
    assert offenders == [], f"as_run written by SQL outside station/asrun.py: {offenders}"


def test_one_play_with_row_path():
    # "open the card if needed, play, close the row" is AsRunLog.play_with_row alone: no other module
    # opens a closed card on its way to playing an item (the runtime's ensure_device and the urgent CLI
    # open the card on purpose, before anything plays, and are not on that path)
    pattern = re.compile(r"if not \w*player\.is_open:\s*\n\s*\w*player\.open\(\)")
    found = [str(p.relative_to(PACKAGE)) for p in _sources() for _ in pattern.finditer(p.read_text(encoding="utf-8"))]
    assert found == ["station/asrun.py"]
