"""Helpers the tests and benches share live in one place (tests/support/, bench/_common.py), not copied
into each file that needs them: a module-level function of one of these names is defined only in its
home. (Found by `duplicates --change` after issue 14: five copies of free_port, two of a wait on as-run
rows, a bench with a wait loop of its own.)"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# name of a module-level function → the one file (relative to the repo) allowed to define it, and the
# folders where no other file may
HOMES = {
    "free_port": ("tests/support/ports.py", ("tests",)),
    "_free_port": ("tests/support/ports.py", ("tests",)),
}


def _definitions(name: str, folders: tuple[str, ...]) -> list[str]:
    found = []
    for folder in folders:
        for path in sorted((REPO / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            if any(isinstance(node, ast.FunctionDef) and node.name == name for node in tree.body):
                found.append(str(path.relative_to(REPO)))
    return found


def test_each_shared_helper_is_defined_once_in_its_home():
    strays = {name: [p for p in _definitions(name, folders) if p != home] for name, (home, folders) in HOMES.items()}
    assert not any(strays.values()), f"copies outside their home (import it from there instead): {strays}"
    for home, _ in set(HOMES.values()):
        assert (REPO / home).is_file(), home
