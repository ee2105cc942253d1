"""The CLI's shape (issue 10 items 4 and 5): one console-script entry module that takes the fast
urgent path without the full CLI, the commands in the `broadcaster.cli` package, no import cycle
through any CLI module, none of them over 600 lines. Read from the source by bench/import_graph.py
(imports inside functions count, `if TYPE_CHECKING:` ones do not)."""

from __future__ import annotations

import importlib.util
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))
import import_graph  # noqa: E402


def _is_cli(module: str) -> bool:
    return module == "broadcaster.cli" or module.startswith(("broadcaster.cli.", "broadcaster.cli_")) or (
        module == "broadcaster.urgent_client")


def test_no_import_cycle_goes_through_a_cli_module():
    found = [comp for comp in import_graph.cycles(import_graph.graph()) if any(_is_cli(m) for m in comp)]
    assert found == []


def test_the_commands_live_in_the_cli_package_each_under_600_lines():
    package = REPO / "broadcaster" / "cli"
    assert (package / "__init__.py").is_file() and (package / "entry.py").is_file()
    assert not list((REPO / "broadcaster").glob("cli_*.py")) and not (REPO / "broadcaster" / "cli.py").exists()
    assert not (REPO / "broadcaster" / "urgent_client.py").exists()
    long = {m: n for m, n in import_graph.long_modules(600).items() if _is_cli(m)}
    assert long == {}


def test_the_console_script_is_the_entry_module():
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["scripts"] == {"broadcaster": "broadcaster.cli.entry:main"}
    assert importlib.util.find_spec("broadcaster.cli.entry") is not None


def test_the_entry_module_imports_no_other_cli_module_at_module_level():
    # the full CLI is imported inside main() only when the fast path does not answer
    import ast

    tree = ast.parse((REPO / "broadcaster" / "cli" / "entry.py").read_text(encoding="utf-8"))
    top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    names = [n.module or "" for n in top if isinstance(n, ast.ImportFrom)] + [
        a.name for n in top if isinstance(n, ast.Import) for a in n.names]
    assert not [n for n in names if n.startswith(("app", "broadcaster.cli.app", ".app"))], names
