"""docs/BENCHMARKS.md is shared by every bench: each one owns the text between its two markers.

Run from the benches (`python bench/<name>.py` puts bench/ on sys.path).
"""

from __future__ import annotations

from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "docs" / "BENCHMARKS.md"


def write_section(section: str, begin: str, end: str, path: Path = BENCHMARKS) -> None:
    """Replace the text from `begin` to `end` (markers included) with `section`, which carries
    both markers itself; append it when the markers are not there yet. The rest is left alone."""
    section = section.rstrip("\n")
    doc = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if begin in doc and end in doc:
        doc = doc[: doc.index(begin)] + section + doc[doc.index(end) + len(end) :]
    else:
        doc = doc.rstrip("\n") + "\n\n" + section + "\n"
    path.parent.mkdir(exist_ok=True)
    path.write_text(doc, encoding="utf-8")
