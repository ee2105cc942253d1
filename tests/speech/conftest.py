"""Shared helpers for the reading-layer tests: the canonical comparison of READING.md and the case files."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent.parent / "data"
CASE_FILES = {
    "worked_case": DATA / "normalization-cases.tsv",
    "extra_case": DATA / "normalization-extra.tsv",
}

# Mirror of shared/speech/score.py: the comparison every case is scored with.
TONE_FOLD = {
    "oà": "òa", "oá": "óa", "oả": "ỏa", "oã": "õa", "oạ": "ọa",
    "oè": "òe", "oé": "óe", "oẻ": "ỏe", "oẽ": "õe", "oẹ": "ọe",
    "uỳ": "ùy", "uý": "úy", "uỷ": "ủy", "uỹ": "ũy", "uỵ": "ụy",
}
VARIANTS = [(r"\blinh\b", "lẻ"), (r"\bngàn\b", "nghìn"), (r"\bmươi bốn\b", "mươi tư")]


def canonical(text: str) -> str:
    """NFC, lower case, new-style tones, hyphens to spaces, no punctuation, one space, folded variants."""
    text = unicodedata.normalize("NFC", text).lower().replace("-", " ")
    for old, new in TONE_FOLD.items():
        text = re.sub(r"(?<!q)" + old + r"(?=\W|$)", new, text)
    text = re.sub(r"[^\w\s]", " ", text)
    text = re.sub(r"\s+", " ", text).strip()
    for pattern, repl in VARIANTS:
        text = re.sub(pattern, repl, text)
    return text


def read_cases(path: Path) -> list[tuple[str, str]]:
    """(written, spoken) pairs of a case TSV, skipping comments and blank lines."""
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            written, spoken = line.split("\t")
            cases.append((written, spoken))
    return cases


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    for fixture, path in CASE_FILES.items():
        if fixture in metafunc.fixturenames:
            cases = read_cases(path)
            metafunc.parametrize(fixture, cases, ids=[f"{i + 1:03d}" for i in range(len(cases))])


@pytest.fixture(name="canon")
def canon_fixture():
    """The canonical() function of READING.md."""
    return canonical
