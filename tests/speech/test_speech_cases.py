"""Every worked case of READING.md, and our own unseen-style cases, scored with the canonical comparison."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from broadcaster.speech.normalize import normalize

REPO = Path(__file__).resolve().parents[2]
SHARED_SPEECH = REPO.parent / "shared" / "speech"


def test_worked_case(worked_case, canon):
    written, spoken = worked_case
    assert canon(normalize(written)) == canon(spoken)


def test_extra_case(extra_case, canon):
    written, spoken = extra_case
    assert canon(normalize(written)) == canon(spoken)


def test_local_copy_matches_shared_worked_set():
    shared = SHARED_SPEECH / "normalization-cases.tsv"
    if not shared.exists():
        pytest.skip("shared/speech is not beside the repository")
    local = REPO / "tests" / "data" / "normalization-cases.tsv"
    assert local.read_text(encoding="utf-8") == shared.read_text(encoding="utf-8")


def test_shared_scorer_gives_full_marks_through_the_cli():
    score = SHARED_SPEECH / "score.py"
    if not score.exists():
        pytest.skip("shared/speech is not beside the repository")
    command = [sys.executable, "-c", "from broadcaster.cli.speech import speech_app; speech_app()", "normalize", "-"]
    run = subprocess.run(
        [sys.executable, str(score), str(SHARED_SPEECH / "normalization-cases.tsv"), "--min", "100", "--", *command],
        capture_output=True, text=True, timeout=120, cwd=REPO,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "(100.0%)" in run.stdout
