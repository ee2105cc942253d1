"""Fixtures for the CLI command tests: the scheduling tests' helpers (fake rendering) for the
`program` command, and settings that reach no speech engine."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# sched_helpers (FakeRender, add) lives with the scheduling tests; share it rather than copy it
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scheduling"))


@pytest.fixture
def settings(data_dir):
    from broadcaster.config import load_settings

    return load_settings(data_dir, engine_order=["espeak"], scheduler_poll_s=0.05)
