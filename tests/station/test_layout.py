"""The air path's parts never import the facade (station.facade.Station) nor the CLI/web above them:
each is built with its collaborators passed in (issue #10 item 1). Type-only imports under
`if TYPE_CHECKING:` do not count. This reads the source."""

from __future__ import annotations

import ast
from pathlib import Path

import broadcaster

STATION = Path(broadcaster.__file__).parent / "station"
PARTS = ("asrun", "slots", "relay", "gate", "urgent", "urgent_job", "urgent_mic", "urgent_audio", "runtime", "amp")
ABOVE = ("broadcaster.station.facade", "broadcaster.cli", "broadcaster.web")


def _runtime_imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every import that runs (top level or inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            type_only |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    found = []
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative to broadcaster.station
                base = ["broadcaster", "station"][: 2 - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((node.lineno, module))
    return found


def test_every_part_of_the_air_path_is_a_module_of_its_own():
    assert sorted(p for p in PARTS if not (STATION / f"{p}.py").is_file()) == []


def test_no_part_imports_the_facade_or_a_layer_above():
    offenders = [
        f"station/{part}.py:{line} imports {module}"
        for part in PARTS
        for line, module in _runtime_imports(STATION / f"{part}.py")
        if module.startswith(ABOVE)
    ]
    assert offenders == []


def test_the_scan_sees_a_runtime_import_of_the_facade(tmp_path):
    # the check must be able to fail: an import of the facade inside a function is found
    probe = tmp_path / "probe.py"
    probe.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .facade import Station\n"
                     "def f():\n    from .facade import Station\n", encoding="utf-8")
    assert _runtime_imports(probe) == [(1, "typing"), (5, "broadcaster.station.facade")]


# ---------------------------------------------------------------- the serve runtime and the scheduler
FACADE_FREE = (STATION / "runtime.py", STATION.parent / "scheduling" / "scheduler.py")


def _names_station(path: Path) -> list[int]:
    """Lines where the facade's type `Station` is named: imported, annotated or used (even under
    TYPE_CHECKING, even as a string annotation)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.alias) and "Station" in (node.name.split(".")[-1], node.asname):
            lines.append(node.lineno)
        elif isinstance(node, ast.Name) and node.id == "Station":
            lines.append(node.lineno)
        elif isinstance(node, ast.Attribute) and node.attr == "Station":
            lines.append(node.lineno)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.strip() == "Station":
            lines.append(node.lineno)
    return sorted(lines)


def test_the_runtime_and_the_scheduler_never_name_the_facade():
    # OnAir and SlotScheduler are built from the station's parts (issue #10 item 1), not handed the facade
    offenders = {path.name: _names_station(path) for path in FACADE_FREE if _names_station(path)}
    assert offenders == {}


def test_the_name_scan_sees_a_type_only_facade(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .facade import Station\n"
                     "def f(station: Station) -> None:\n    pass\n", encoding="utf-8")
    assert _names_station(probe) == [3, 4]
