"""The speech engine fakes of tests/speech_engines (engine_fakes, edge_fake, …) for tests in other folders.

They are imported by path under their own module names, once per process, so that every test file
that needs them shares one module (and its fake services' state) whatever folders pytest collects.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ENGINES_TESTS = Path(__file__).resolve().parents[1] / "speech_engines"


def load_fake(name: str):
    """tests/speech_engines/<name>.py as the module ``name`` (loaded on first use)."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ENGINES_TESTS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


__all__ = ["ENGINES_TESTS", "load_fake"]
