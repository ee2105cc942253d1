"""Fixtures for the loudspeaker-cluster tests (issue 14): the console app over the real station (real
SQLite), a client logged in through the real form, clusters added through the service, and the
installed `broadcaster` command on an initialized data directory."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from broadcaster.web.app import create_app

from receivers_helpers import PASSWORD, bearer, cli, counts, login, make_user, snapshot  # noqa: F401

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
BIN = Path(sys.executable).parent / "broadcaster"


@pytest.fixture
def app(station):
    return create_app(station)


@pytest.fixture
def api(app) -> TestClient:
    """An anonymous client: the clusters' API needs only their token."""
    return TestClient(app, follow_redirects=False, raise_server_exceptions=False)


@pytest.fixture
def cli_env(tmp_path, data_dir):
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROADCASTER_")}
    env.update(HOME=str(home), BROADCASTER_DATA_DIR=str(data_dir), BROADCASTER_ENGINE_ORDER='["espeak"]')
    run = subprocess.run([str(BIN), "init"], capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    return env


