"""The package's shape (issue #10 item 5): no import cycle, no module over 600 lines, no class over
400, and imports only point down the layers of shared/ARCHITECTURE.md.

The graph comes from the source (bench/import_graph.py): imports inside functions count, those under
``if TYPE_CHECKING:`` do not.
"""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path


REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("import_graph", REPO / "bench" / "import_graph.py")
import_graph = importlib.util.module_from_spec(_spec)
sys.modules["import_graph"] = import_graph
_spec.loader.exec_module(import_graph)

MAX_MODULE_LINES = 600
MAX_CLASS_LINES = 400

# Top to bottom (ARCHITECTURE.md): a module may import its own layer or a lower one, never a higher.
LAYERS = {
    "cli": 5, "web": 5,
    "station": 4, "receiver": 4,
    "speech": 3, "audio": 3, "playout": 3, "scheduling": 3, "reports": 3, "backup": 3, "sources": 3,
    "streaming": 3,
    "db": 2, "migrations": 2, "config": 2, "config_help": 2, "media": 2, "localtime": 2, "disk": 2,
    "accounts": 2, "faults": 2, "resources": 2, "dbcopy": 2, "settings_errors": 2, "firstrun": 2, "datadir": 2,
    "voice_ids": 2, "settings_fields": 2,
    "models": 1, "exceptions": 1, "": 1,  # "" is broadcaster/__init__.py
}


def _layer(module: str) -> int:
    part = module.split(".")[1] if "." in module else ""
    if part not in LAYERS:
        raise AssertionError(f"{module}: not placed in a layer (add it to LAYERS in tests/test_layout.py)")
    return LAYERS[part]


def test_no_import_cycle():
    assert import_graph.cycles(import_graph.graph()) == []


def test_no_module_over_600_lines():
    assert import_graph.long_modules(MAX_MODULE_LINES) == {}


def test_no_class_over_400_lines():
    assert import_graph.long_classes(MAX_CLASS_LINES) == {}


def test_imports_point_down_the_layers():
    upward = sorted(
        f"{mod} → {target}"
        for mod, targets in import_graph.graph().items()
        for target in targets
        if _layer(target) > _layer(mod)
    )
    assert upward == []


def test_no_part_of_the_station_imports_the_facade():
    graph = import_graph.graph()
    callers = sorted(m for m, targets in graph.items()
                     if "broadcaster.station.facade" in targets and not m.startswith(("broadcaster.cli", "broadcaster.web")))
    assert callers == []


def test_the_checker_sees_what_it_must(tmp_path):
    """The graph finds cycles through imports inside functions and ignores TYPE_CHECKING ones."""
    pkg = tmp_path / "broadcaster"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from . import b\n")
    (pkg / "b.py").write_text("from .a import f\n")
    (pkg / "c.py").write_text(textwrap.dedent("""\
        from typing import TYPE_CHECKING
        if TYPE_CHECKING:
            from .d import X
        """))
    (pkg / "d.py").write_text("from .c import TYPE_CHECKING\n")
    (pkg / "big.py").write_text("class Big:\n" + "    x = 1\n" * 450 + "\n" * 200)
    graph = import_graph.graph(tmp_path)
    assert import_graph.cycles(graph) == [["broadcaster.a", "broadcaster.b"]]
    assert "broadcaster.d" not in graph["broadcaster.c"]
    assert import_graph.long_modules(MAX_MODULE_LINES, tmp_path) == {"broadcaster.big": 651}
    assert import_graph.long_classes(MAX_CLASS_LINES, tmp_path) == {"broadcaster.big.Big": 451}
