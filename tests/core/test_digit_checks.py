"""No `x.isdigit()` guards an `int(x)` in broadcaster/: "²", "③" pass str.isdigit() and int() refuses
them (a ValueError, a 500 page, a crash of the reader). The test that matches int() is isdecimal();
for numbers typed by a user (console, CLI) plain ASCII digits: `x.isascii() and x.isdecimal()`."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "broadcaster"
# bytes.isdigit() is ASCII only (bytes have no isdecimal): the Content-Length header
ALLOWED = {("web/app.py", "length")}


def _base(node: ast.AST) -> str | None:
    """The variable under wrappers: `d` for d, str(d), d.strip(), str(d).strip()."""
    while True:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            node = node.func.value  # d.strip()
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "str" and node.args:
            node = node.args[0]  # str(d)
        else:
            break
    return ast.unparse(node) if isinstance(node, (ast.Name, ast.Attribute, ast.Subscript)) else None


def isdigit_guards_int(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, what) for every function (or module) where `what.isdigit()` and `int(what)` both occur."""
    found = []
    scopes = [tree] + [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    for scope in scopes:
        body = [n for n in ast.walk(scope) if isinstance(n, ast.Call)]
        if scope is tree:  # module level: what is outside every function
            inner = {id(c) for f in scopes[1:] for c in ast.walk(f)}
            body = [n for n in body if id(n) not in inner]
        checked = {(_base(n.func.value), n.lineno) for n in body
                   if isinstance(n.func, ast.Attribute) and n.func.attr == "isdigit"}
        converted = {_base(n.args[0]) for n in body
                     if isinstance(n.func, ast.Name) and n.func.id == "int" and len(n.args) == 1}
        found += [(line, what) for what, line in checked if what is not None and what in converted]
    return sorted(set(found))


def test_the_check_finds_the_pattern():
    tree = ast.parse("n = int(page) if page.isdigit() else 1\nif s.strip().isdigit():\n    i = int(s)\n"
                     "d = [int(x) for x in xs if str(x).isdigit()]\nok = any(c.isdigit() for c in t)\n"
                     "def f(v):\n    if not v.isdigit():\n        raise ValueError\n    return int(v)\n"
                     "def g(v):\n    return int(w) if v.isdecimal() or v.isdigit() else 0\n")
    assert sorted(isdigit_guards_int(tree)) == [(1, "page"), (2, "s"), (4, "x"), (7, "v")]


def test_no_isdigit_guards_an_int():
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        for line, what in isdigit_guards_int(ast.parse(path.read_text(encoding="utf-8"))):
            if (rel, what) not in ALLOWED:
                bad.append(f"{rel}:{line}: {what}.isdigit() then int({what})")
    assert not bad, "use isdecimal() (ASCII digits for typed numbers): " + "; ".join(sorted(set(bad)))
