"""The package's own import graph, drawn from its source (no import is executed).

Every ``import`` counts, including those inside functions; imports under ``if TYPE_CHECKING:`` do not.
Used by tests/test_layout.py (no cycles, module and class size limits) and runnable by hand:

    .venv/bin/python bench/import_graph.py            # edges by layer, then any cycle
    .venv/bin/python bench/import_graph.py --dot > deps.dot
    .venv/bin/python bench/import_graph.py --packages   # package → package, as a Mermaid graph
    .venv/bin/python bench/import_graph.py --markdown > docs/LAYOUT.md
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "broadcaster"


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path = ROOT) -> dict[str, Path]:
    return {module_name(p, root): p for p in sorted((root / PACKAGE).rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST, here: str, is_package: bool):
    """Yield the absolute names imported in ``tree``, skipping ``if TYPE_CHECKING:`` blocks."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.split(".") if is_package else here.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            yield prefix
            for alias in node.names:
                yield f"{prefix}.{alias.name}"
        stack.extend(ast.iter_child_nodes(node))


def graph(root: Path = ROOT) -> dict[str, set[str]]:
    """module → the package modules it imports (a name resolving to a package counts as that package)."""
    mods = modules(root)
    edges: dict[str, set[str]] = {}
    for name, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        targets = set()
        for imported in _imports(tree, name, path.name == "__init__.py"):
            if imported in mods and imported != name:
                targets.add(imported)
        edges[name] = targets
    return edges


def _without_package_inits(edges: dict[str, set[str]]) -> dict[str, set[str]]:
    # "from .playout import x" reads the package __init__; an __init__ that only re-exports its own
    # submodules would otherwise put every sibling import in a cycle with it. A package's __init__
    # is kept as a node, its edges to its own submodules are not.
    out = {}
    for mod, targets in edges.items():
        out[mod] = {t for t in targets if not t.startswith(mod + ".")}
    return out


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    edges = _without_package_inits(edges)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(found)


def long_modules(limit: int, root: Path = ROOT) -> dict[str, int]:
    out = {}
    for name, path in modules(root).items():
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > limit:
            out[name] = n
    return out


def long_classes(limit: int, root: Path = ROOT) -> dict[str, int]:
    out = {}
    for name, path in modules(root).items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                n = node.end_lineno - node.lineno + 1
                if n > limit:
                    out[f"{name}.{node.name}"] = n
    return out


def package_of(module: str) -> str:
    """broadcaster.station.slots → station; broadcaster.db → db; broadcaster → (package)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "(package)"


def package_edges(edges: dict[str, set[str]]) -> dict[str, dict[str, int]]:
    """Package → package → how many module imports make up that edge (within a package not counted)."""
    out: dict[str, dict[str, int]] = {}
    for mod, targets in edges.items():
        src = package_of(mod)
        out.setdefault(src, {})
        for target in targets:
            dst = package_of(target)
            if dst != src and dst != "(package)":
                out[src][dst] = out[src].get(dst, 0) + 1
    return out


# what every layer uses: drawn, they hide the shape of the rest
EVERYWHERE = ("exceptions", "models")


def mermaid(edges: dict[str, set[str]]) -> str:
    lines = ["```mermaid", "graph TD"]
    for src, targets in sorted(package_edges(edges).items()):
        for dst, n in sorted(targets.items()):
            if dst not in EVERYWHERE:
                lines.append(f"  {src} -->|{n}| {dst}")
    lines.append("```")
    return "\n".join(lines)


def markdown(edges: dict[str, set[str]]) -> str:
    """docs/LAYOUT.md: the package graph, then each package's modules and their sizes."""
    mods = modules()
    out = [
        "# The package as its imports draw it",
        "",
        "Made by `.venv/bin/python bench/import_graph.py --markdown > docs/LAYOUT.md` from the source",
        "(imports inside functions count, `if TYPE_CHECKING:` ones do not). An arrow is \"imports\", its",
        "number how many module imports make it up; imports of `exceptions` and `models`, which every",
        "layer uses, are left out. Data flows top to bottom (shared/ARCHITECTURE.md): cli, web → station →",
        "speech, audio, playout, scheduling, reports → db, config, media, localtime → models, exceptions.",
        "tests/test_package_layout.py keeps it so: no cycle, no upward import, no module over 600 lines,",
        "no class over 400.",
        "",
        mermaid(edges),
        "",
        f"cycles: {len(cycles(edges))}",
        "",
        "| package | modules (lines) |",
        "|---|---|",
    ]
    by_package: dict[str, list[str]] = {}
    for name, path in mods.items():
        n = len(path.read_text(encoding="utf-8").splitlines())
        by_package.setdefault(package_of(name), []).append(f"{name.split('.')[-1]} ({n})")
    for package, names in sorted(by_package.items()):
        out.append(f"| {package} | {', '.join(names)} |")
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    edges = graph()
    if "--packages" in argv:
        print(mermaid(edges))
        return 0
    if "--markdown" in argv:
        print(markdown(edges))
        return 0
    if "--dot" in argv:
        print("digraph broadcaster {\n  rankdir=TB; node [shape=box, fontsize=10];")
        for mod in sorted(edges):
            for target in sorted(edges[mod]):
                print(f'  "{mod}" -> "{target}";')
        print("}")
        return 0
    for mod in sorted(edges):
        if edges[mod]:
            print(f"{mod} -> {', '.join(sorted(edges[mod]))}")
    found = cycles(edges)
    print(f"\ncycles: {len(found)}")
    for comp in found:
        print("  " + " <-> ".join(comp))
    print(f"modules over 600 lines: {long_modules(600)}")
    print(f"classes over 400 lines: {long_classes(400)}")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
