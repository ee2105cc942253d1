"""The shape of broadcaster.reports: one module per concern, a lower layer that never reaches up."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))
import import_graph  # noqa: E402  (bench/import_graph.py: the package's own imports, from the source)

# the layers above reports (ARCHITECTURE.md): reports may use none of them
HIGHER = ("broadcaster.station.facade", "broadcaster.station", "broadcaster.urgent", "broadcaster.onair",
          "broadcaster.web", "broadcaster.cli", "broadcaster.editorial")


def _reports_modules() -> dict[str, set[str]]:
    edges = import_graph.graph(REPO)
    return {m: t for m, t in edges.items() if m == "broadcaster.reports" or m.startswith("broadcaster.reports.")}


def test_reports_is_a_package_of_small_modules():
    spec = importlib.util.find_spec("broadcaster.reports")
    assert spec.submodule_search_locations, "broadcaster.reports should be a package"
    sizes = import_graph.long_modules(600, REPO)
    assert not {m: n for m, n in sizes.items() if m.startswith("broadcaster.reports") or m == "broadcaster.localtime"}
    assert {"broadcaster.reports.log", "broadcaster.reports.report", "broadcaster.reports.chart",
            "broadcaster.reports.week", "broadcaster.reports.topics"} <= set(_reports_modules())


def test_reports_never_import_a_higher_layer():
    reaching_up = {m: sorted(t for t in targets if t.startswith(HIGHER)) for m, targets in _reports_modules().items()}
    assert not {m: t for m, t in reaching_up.items() if t}


def test_init_is_a_docstring_only():
    tree = ast.parse((REPO / "broadcaster" / "reports" / "__init__.py").read_text(encoding="utf-8"))
    body = [n for n in tree.body if not (isinstance(n, ast.ImportFrom) and n.module == "__future__")]
    assert len(body) == 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)


def test_week_view_takes_no_station():
    import inspect

    from broadcaster.reports.week import week_view

    assert "station" not in inspect.signature(week_view).parameters
