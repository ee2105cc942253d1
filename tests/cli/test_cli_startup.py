"""Issue 13 item 3: the CLI imports only what a command needs. `--help` of `broadcaster` and of
every subcommand (walked from the real typer app, so a new command is covered the day it is added),
`speech normalize` and `speech check` load none of the heavy libraries or the database layer;
`render --text/--file` loads no database layer, no library of an engine it does not use and no
progress bar without a terminal to draw it on."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import typer
from cli_helpers import cli_env  # noqa: F401  (fixture)

HEAVY = ("sqlalchemy", "sqlmodel", "pydantic_settings", "broadcaster.db", "broadcaster.models", "numpy",
         "fastapi", "apscheduler", "sounddevice", "onnxruntime", "edge_tts", "docx")


def _command_paths() -> list[list[str]]:
    from broadcaster.cli.app import app

    paths: list[list[str]] = []

    def walk(command, prefix: list[str]) -> None:  # typer may bundle its own click: duck-typed groups
        paths.append(prefix)
        if not getattr(command, "hidden", False):
            for name, sub in getattr(command, "commands", {}).items():
                walk(sub, prefix + [name])

    walk(typer.main.get_command(app), [])
    return paths


# each argv runs in a fresh interpreter: what one command loaded must not hide what another loads
PROBE = (
    "import sys\n"
    "argv = sys.argv[1:]\n"
    "sys.argv = ['broadcaster'] + argv\n"
    "from broadcaster.cli.entry import main\n"
    "try:\n    main()\nexcept SystemExit:\n    pass\n"
    "print('LOADED', sorted(m for m in {heavy!r} if m in sys.modules), file=sys.stderr)\n"
)


def _loaded(argv: list[str], heavy: tuple[str, ...] = HEAVY, env: dict | None = None) -> list[str] | str:
    """The modules of ``heavy`` the command loaded (its whole stderr instead when it failed)."""
    run = subprocess.run([sys.executable, "-c", PROBE.format(heavy=heavy), *argv], capture_output=True,
                         text=True, timeout=120, input="", env=env)
    for line in run.stderr.splitlines():
        if line.startswith("LOADED ") and "Traceback" not in run.stderr and run.returncode == 0:
            return json.loads(line[len("LOADED "):].replace("'", '"'))
    return run.stderr[-2000:]


def test_every_help_loads_no_heavy_library():
    paths = _command_paths()
    assert len(paths) > 20  # the walk found the groups' commands, not only the top level
    loaded = {" ".join(path + ["--help"]): _loaded(path + ["--help"]) for path in paths}
    assert {argv: mods for argv, mods in loaded.items() if mods != []} == {}


def test_speech_normalize_and_check_load_no_heavy_library(data_dir):
    data_dir.mkdir()
    text = "Ngày 1/2/2026, UBND xã họp với HTX Xyzq."
    loaded = {name: _loaded(["speech", name, text]) for name in ("normalize", "check")}
    assert loaded == {"normalize": [], "check": []}


# what `render --text` with engine_order ["espeak"] has no use for (issue 13 "Measure": start-up)
NOT_FOR_A_TEXT_RENDER = ("sqlalchemy", "sqlmodel", "broadcaster.db", "broadcaster.models", "broadcaster.accounts",
                         "gtts", "requests", "edge_tts", "rich.console", "rich.progress")


def test_render_of_a_text_loads_no_database_nor_unused_engine_and_still_renders(tmp_path, cli_env):
    text_file = tmp_path / "ban-tin.txt"
    text_file.write_text("Trạm y tế xã tiêm phòng cho trẻ em vào sáng thứ hai.", encoding="utf-8")
    loaded = {}
    for option, value in (("--text", "Tối nay họp dân ở nhà văn hóa thôn Đông."), ("--file", str(text_file))):
        out = tmp_path / f"{option[2:]}.wav"
        loaded[option] = _loaded(["render", option, value, "-o", str(out)], NOT_FOR_A_TEXT_RENDER, cli_env)
        assert out.is_file() and out.stat().st_size > 1000, loaded[option]
    assert loaded == {"--text": [], "--file": []}
    # the render itself still reports its figures (the probe's stderr carries them)
    run = subprocess.run([sys.executable, "-c", PROBE.format(heavy=()), "render", "--text", "Xin chào bà con.",
                          "-o", str(tmp_path / "c.wav")], capture_output=True, text=True, timeout=120, env=cli_env)
    assert run.returncode == 0 and "Đã dựng" in run.stderr and "LUFS" in run.stderr and "dBTP" in run.stderr, \
        run.stderr[-2000:]


def test_render_of_a_text_into_a_new_data_directory_keeps_it_owner_only(tmp_path, cli_env):
    # no station opened (no database made), but the folder the render cache goes into is made as
    # init makes it: 0700, so the database a later `init` puts there is not in a readable folder
    fresh = tmp_path / "moi"
    env = dict(cli_env, BROADCASTER_DATA_DIR=str(fresh))
    assert _loaded(["render", "--text", "Xin chào bà con.", "-o", str(tmp_path / "x.wav")], ("sqlmodel",), env) == []
    assert (tmp_path / "x.wav").is_file()
    assert fresh.stat().st_mode & 0o777 == 0o700


def test_class_choices_stay_the_stored_enum():
    from broadcaster.cli.common import BulletinClassChoice
    from broadcaster.models import BulletinClass

    assert {c.name: c.value for c in BulletinClassChoice} == {c.name: c.value for c in BulletinClass}
    assert all(choice.model() is BulletinClass(choice.value) for choice in BulletinClassChoice)


def test_lexicon_path_follows_the_settings_convention(data_dir):
    from broadcaster.cli.speech import _lexicon_path
    from broadcaster.config import Settings

    data_dir.mkdir()
    assert _lexicon_path(data_dir) == Settings.model_construct(data_dir=data_dir).lexicon_path


@pytest.mark.parametrize("tty_compatible", [None, "0", "1"])
@pytest.mark.parametrize("force_color", [None, "", "1"])
def test_the_progress_bar_precheck_never_hides_a_terminal_rich_would_draw_on(monkeypatch, tty_compatible,
                                                                           force_color):
    """render skips importing rich when stderr cannot be a terminal: wherever rich's own Console
    calls stderr (here a pipe) a terminal, the pre-check must say it may be one."""
    import os

    from rich.console import Console

    from broadcaster.cli.bulletins import _may_be_a_terminal

    for name, value in (("TTY_COMPATIBLE", tty_compatible), ("FORCE_COLOR", force_color)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    read, write = os.pipe()
    with os.fdopen(read) as _, os.fdopen(write, "w") as pipe:
        monkeypatch.setattr(sys, "stderr", pipe)
        rich_says = Console(stderr=True).is_terminal
        assert _may_be_a_terminal() or not rich_says
    assert rich_says == (tty_compatible == "1" or (tty_compatible != "0" and bool(force_color)))
