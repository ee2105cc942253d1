"""A real install (issue 10, item 6): the wheel carries audio_assets/ and schedules/.

The wheel is built from a copy of the source tree (the build leaves nothing in the checkout), installed
non-editable into a fresh venv that has no pip and no broadcaster of its own (a .pth lends it this venv's
site-packages for the dependencies only: .pth files are not read in a directory a .pth adds, so this
venv's editable finder stays out), and run from a folder outside the repo. Nothing is downloaded:
`--no-build-isolation` builds with this venv's setuptools and every pip call is `--no-index --no-deps`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import wave
from pathlib import Path

import pytest

pytestmark = pytest.mark.install

REPO = Path(__file__).resolve().parents[2]
SENTENCE = "Ủy ban nhân dân xã Dân Tiến thông báo lịch tiêm phòng năm 2026."
# what the build needs of the checkout is everything but these (top level only)
_NOT_BUILD_INPUTS = {".git", ".venv", ".ci", "build", "dist", "data", "tests", "bench", "docs", ".pytest_cache",
                     ".hypothesis"}


def _ignore(directory: str, names: list[str]) -> set[str]:
    skipped = {n for n in names if n == "__pycache__" or n.endswith(".egg-info")}
    if Path(directory) == REPO:
        skipped |= _NOT_BUILD_INPUTS & set(names)
    return skipped


def _run(args: list, *, cwd: Path, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    r = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"{args[:4]} failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r


def _wav_seconds(path: Path) -> float:
    with wave.open(str(path)) as w:
        return w.getnframes() / w.getframerate()


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict:
    """Build the wheel, make the fresh venv, install the wheel into it. Returns the paths and an env."""
    import setuptools

    # setuptools builds wheels on its own from 70.1 on (older ones need the `wheel` package)
    version = tuple(int(p) for p in setuptools.__version__.split(".")[:2])
    assert version >= (70, 1), f"setuptools {setuptools.__version__} in {sys.prefix}: run `make install`"
    root = tmp_path_factory.mktemp("wheel_install")
    src, wheels, venv, outside = root / "src", root / "wheels", root / "venv", root / "elsewhere"
    shutil.copytree(REPO, src, ignore=_ignore)
    outside.mkdir()
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-index", "--no-build-isolation", "-q",
          "-w", wheels, src], cwd=root, timeout=300)
    (wheel,) = wheels.glob("broadcaster-*.whl")
    _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=root)
    python = venv / "bin" / "python"
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=outside)
                .stdout.strip())
    lent = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (site / "_lent_dependencies.pth").write_text("".join(f"{p}\n" for p in lent), encoding="utf-8")
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "-q", wheel],
         cwd=root, timeout=300)
    home = root / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("BROADCASTER_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(HOME=str(home), BROADCASTER_ENGINE_ORDER='["espeak"]', PATH=f"{venv / 'bin'}:{env.get('PATH', '')}")
    return {"wheel": wheel, "venv": venv, "python": python, "site": site, "outside": outside, "env": env}


def test_wheel_carries_the_assets_and_the_timetable(installed):
    import zipfile

    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    for asset in ("intro.wav", "outro.wav", "attention.wav", "filler.wav", "LICENSE.md"):
        assert f"broadcaster/audio_assets/{asset}" in names, f"{asset} is not in the wheel"
    assert "broadcaster/schedules/default.toml" in names


def test_installed_wheel_inits_and_renders_with_jingles_from_any_folder(installed):
    venv, outside, env = installed["venv"], installed["outside"], installed["env"]
    # the code and its data come from the venv the wheel went into, not from the checkout
    probe = _run([installed["python"], "-c",
                  "import json, broadcaster\n"
                  "from broadcaster.audio.assets import builtin_asset\n"
                  "from broadcaster.scheduling.timetable import builtin_schedule\n"
                  "print(json.dumps({'module': broadcaster.__file__, 'intro': str(builtin_asset('intro')),"
                  " 'outro': str(builtin_asset('outro')), 'schedule': str(builtin_schedule())}))"],
                 cwd=outside, env=env).stdout
    paths = {k: Path(v) for k, v in json.loads(probe.splitlines()[-1]).items()}
    for name, path in paths.items():
        assert path.is_relative_to(installed["site"]), f"{name} from {path}, not from the installed wheel"
        assert not path.resolve().is_relative_to(REPO), f"{name} from the checkout: {path}"
        assert path.is_file(), f"{name}: {path} is missing"

    cli = venv / "bin" / "broadcaster"
    data = outside / "station"
    r = _run([cli, "init", "--data-dir", data], cwd=outside, env=env)
    assert "Thư mục dữ liệu sẵn sàng" in r.stdout
    # the timetable was seeded from the wheel's schedules/default.toml
    listed = _run([cli, "schedule", "list", "--data-dir", data], cwd=outside, env=env).stdout
    assert "Buổi sáng" in listed and "Buổi chiều" in listed, listed

    _run([cli, "render", "--text", SENTENCE, "-o", "out.wav", "--engine", "espeak", "--data-dir", data],
         cwd=outside, env=env)
    _run([cli, "render", "--text", SENTENCE, "-o", "speech.wav", "--engine", "espeak", "--no-jingles",
          "--data-dir", data], cwd=outside, env=env)
    with_jingles, speech_only = _wav_seconds(outside / "out.wav"), _wav_seconds(outside / "speech.wav")
    jingles = _wav_seconds(paths["intro"]) + _wav_seconds(paths["outro"])
    assert speech_only > 2, speech_only
    # intro and outro (3.0 s + 2.5 s) are in the item, around the same speech
    assert with_jingles - speech_only >= jingles - 0.1, (with_jingles, speech_only, jingles)


def test_installed_wheel_migrates_a_database_of_the_previous_release(installed):
    """The migration scripts ship in the wheel: a data directory made by release 4af059f
    (tests/data/release-4af059f.sql) is upgraded to head by the installed code, backup first."""
    import sqlite3

    names = set(__import__("zipfile").ZipFile(installed["wheel"]).namelist())
    for script in ("env.py", "versions/0001_baseline.py", "versions/0002_login_failure.py"):
        assert f"broadcaster/migrations/{script}" in names, f"{script} is not in the wheel"
    venv, outside, env = installed["venv"], installed["outside"], installed["env"]
    data = outside / "old-station"
    data.mkdir(mode=0o700)
    con = sqlite3.connect(data / "broadcaster.db")
    con.executescript((REPO / "tests" / "data" / "release-4af059f.sql").read_text(encoding="utf-8"))
    con.close()
    listed = _run([venv / "bin" / "broadcaster", "bulletin", "list", "--data-dir", data], cwd=outside,
                  env={**env, "COLUMNS": "200"}).stdout
    assert "Phòng chống bão" in listed and "Thu thuế đất" in listed, listed
    head = _run([installed["python"], "-c", "from broadcaster.migrations import HEAD, MIGRATIONS_DIR; "
                 "print(HEAD, MIGRATIONS_DIR)"], cwd=outside, env=env).stdout.split()
    assert Path(head[1]).is_relative_to(installed["site"]), head
    con = sqlite3.connect(data / "broadcaster.db")
    assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == head[0]
    con.close()
    assert len(list((data / "backups").glob("before-upgrade-pre-alembic-*.sqlite"))) == 1
