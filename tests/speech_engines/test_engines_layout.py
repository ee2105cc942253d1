"""speech/engines.py (the registry) imports the adapters; the adapters import only speech/base.py
(the Protocol and the audio types): no import cycle inside speech/ (issue 10 item 5)."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))
import import_graph  # noqa: E402


def test_no_import_cycle_inside_speech():
    found = [c for c in import_graph.cycles(import_graph.graph()) if any(m.startswith("broadcaster.speech") for m in c)]
    assert found == []


def test_the_adapters_import_the_base_not_the_registry():
    edges = import_graph.graph()
    for adapter in ("broadcaster.speech.espeak_engine", "broadcaster.speech.gtts_engine"):
        assert "broadcaster.speech.base" in edges[adapter]
        assert "broadcaster.speech.engines" not in edges[adapter]
    assert {"broadcaster.speech.espeak_engine", "broadcaster.speech.gtts_engine"} <= edges["broadcaster.speech.engines"]
