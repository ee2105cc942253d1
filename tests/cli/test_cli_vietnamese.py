"""Issue #11 item 10: no English in `broadcaster --help` pages (typer's own words included) and
usage errors are one Vietnamese `Lỗi:` line."""

from __future__ import annotations

import re

import pytest
import typer.main

from broadcaster.cli.app import app, run

ENGLISH = [
    "Usage", "Options", "Commands", "Arguments", "Show this message", "and exit", "[default:", "[required]",
    "env var", "<str>", "<bool>", "<path>", "<int>", "<float>", "[OPTIONS]", "COMMAND", "[ARGS]", "Error",
    "Try '", "for help", "text normalization", "station lexicon", "what will be said", "as-run log",
]


def _command_paths() -> list[list[str]]:
    paths: list[list[str]] = []

    def walk(command, path):
        paths.append(path)
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return paths


PATHS = _command_paths()


def test_every_command_is_walked():
    names = {" ".join(p) for p in PATHS}
    assert {"", "speech check", "lexicon add", "schedule add", "user add", "backup restore", "serve"} <= names


@pytest.mark.parametrize("path", PATHS, ids=[" ".join(p) or "broadcaster" for p in PATHS])
def test_help_page_has_no_english(path, capsys):
    code = run([*path, "--help"])
    out = capsys.readouterr().out
    flat = " ".join(re.sub(r"[│╭╮╰╯─]", " ", out).split())  # the help column may wrap a sentence
    assert code == 0 and "Cách dùng: broadcaster" in flat and "Hiện hướng dẫn này rồi thoát." in flat
    found = [word for word in ENGLISH if word in out or word in flat]
    assert not found, f"{' '.join(path) or 'broadcaster'} --help shows {found}:\n{out}"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["khonglenh"], "Lỗi: không có lệnh 'khonglenh'"),
        (["log", "--khong-co"], "Lỗi: không có tùy chọn --khong-co"),
        (["user", "add"], "Lỗi: thiếu tham số"),
        (["lexicon", "add", "A", "b", "c"], "Lỗi: thừa tham số: c"),
    ],
)
def test_usage_errors_are_one_vietnamese_line(argv, expected, capsys):
    code = run(argv)
    err = capsys.readouterr().err
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(expected), err
    assert not re.search(r"No such|Missing|Got unexpected|Usage|Try ", err), err
