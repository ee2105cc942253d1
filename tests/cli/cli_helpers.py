"""The installed `broadcaster` command on a fresh, initialized data directory, and the bulletins it stored."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session, select

BIN = Path(sys.executable).parent / "broadcaster"


@pytest.fixture
def cli_env(tmp_path, data_dir):
    """Offline speech, a HOME of the test's own, and `broadcaster init` run on the data directory."""
    home = tmp_path / "home"
    home.mkdir()
    environ = dict(os.environ, HOME=str(home), BROADCASTER_DATA_DIR=str(data_dir),
                   BROADCASTER_ENGINE_ORDER='["espeak"]')
    run = subprocess.run([str(BIN), "init"], capture_output=True, text=True, env=environ, timeout=120)
    assert run.returncode == 0, run.stderr
    return environ


def invoke(app, *args, data_dir):
    """`app` run in this process by typer's CliRunner with --data-dir; an exception other than a clean
    exit (SystemExit, or a BroadcasterError the command reports) fails the test with its traceback."""
    from typer.testing import CliRunner

    from broadcaster.exceptions import BroadcasterError

    result = CliRunner().invoke(app, [*args, "--data-dir", str(data_dir)])
    if result.exception and not isinstance(result.exception, (SystemExit, BroadcasterError)):
        raise result.exception
    return result


def cli(env, *args, timeout=300):
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, env=env, timeout=timeout)


def rows(data_dir):
    """Every bulletin in the data directory's database."""
    from broadcaster.config import load_settings
    from broadcaster.db import make_engine
    from broadcaster.models import Bulletin

    engine = make_engine(load_settings(data_dir).db_path)
    try:
        with Session(engine) as session:
            return list(session.exec(select(Bulletin)).all())
    finally:
        engine.dispose()
