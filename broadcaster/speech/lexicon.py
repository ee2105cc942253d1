"""The abbreviation lexicon: written form → spoken form, kept as data.

Two layers: the built-in list shipped in ``data/abbreviations.tsv`` and the station's own
entries in ``<data_dir>/lexicon.tsv`` (the same two-column TSV). A station entry overrides a
built-in one with the same written form; only station entries are ever written back.

Matching is whole-word (the character before and after a match is not a Unicode letter,
digit or underscore, so "TW" never matches inside "TWO") and longest first (a multi-word
entry wins over an entry that is a prefix of it). Entries written all in capitals match
exactly as written, because their lower-case form is often a real word ("TƯ" / "tư");
entries with lower-case letters ("Đ/c") also match in any other case ("đ/c", "Đ/C").
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from importlib import resources
from pathlib import Path

from ..exceptions import InputError, NotFoundError

BUILTIN_FILE = "abbreviations.tsv"
STATION_HEADER = (
    "# Từ điển viết tắt của đài (station lexicon): written<TAB>spoken, one entry a line.\n"
    "# Edit with `broadcaster lexicon add|remove`; entries here override the built-in list.\n"
)


def _clean(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def parse_tsv(text: str, source: str = "") -> tuple[dict[str, str], list[str]]:
    """Parse a lexicon TSV: returns (entries, problems). Comments (#) and blank lines are skipped.

    A line without a tab or with an empty side is reported in problems (with its line number)
    and skipped, so one bad hand edit never stops the station from reading bulletins.
    """
    entries: dict[str, str] = {}
    problems: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        written, tab, spoken = line.partition("\t")
        spoken = spoken.split("\t")[0]  # a third column is a comment
        written, spoken = _clean(written), _clean(spoken)
        if not tab or not written or not spoken:
            problems.append(f"{source}:{number}: dòng không hợp lệ (cần 'viết tắt<TAB>cách đọc'): {line!r}")
            continue
        entries[written] = spoken
    return entries, problems


@lru_cache(maxsize=1)
def builtin_entries() -> dict[str, str]:
    """The built-in abbreviation list shipped with the package (read once)."""
    text = resources.files("broadcaster.speech").joinpath("data", BUILTIN_FILE).read_text(encoding="utf-8")
    entries, _ = parse_tsv(text, BUILTIN_FILE)
    return entries


def _validate(written: str, spoken: str | None = None) -> None:
    for label, value in (("dạng viết", written), ("cách đọc", spoken)):
        if value is None:
            continue
        if any(ch in value for ch in "\t\r\n"):
            raise InputError(f"{label} không được chứa dấu tab hay xuống dòng: {value!r}")
        if not value.strip():
            raise InputError(f"{label} không được để trống")
    if not any(ch.isalnum() for ch in written):
        raise InputError(f"dạng viết phải có ít nhất một chữ hoặc số: {written!r}")


def _trie_pattern(entries: dict[str, str]) -> str:
    """One regex for every written form, as a trie: at each character longer forms are tried first.

    A flat alternation of several hundred forms costs a try of each at every word start; the trie
    costs one step per character. Forms with a lower-case letter match in any case, character by
    character. Siblings are ordered by the longest form below them, so the longest match wins.
    """
    trie: dict = {}
    for written in entries:
        any_case = any(ch.islower() for ch in written)
        node = trie
        for ch in written:
            atom = f"(?i:{re.escape(ch)})" if any_case and ch.lower() != ch.upper() else re.escape(ch)
            node = node.setdefault(atom, {})
        node[""] = {}

    def depth(node: dict) -> int:
        return max((1 + depth(child) for atom, child in node.items() if atom), default=0)

    def build(node: dict) -> str:
        children = sorted(((a, c) for a, c in node.items() if a), key=lambda ac: (-depth(ac[1]), ac[0]))
        branches = [atom + build(child) for atom, child in children]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return "(?:" + build(trie) + ")"


class Lexicon:
    """Built-in abbreviations plus the station's own entries (which win)."""

    def __init__(self, station: dict[str, str] | None = None, path: Path | None = None,
                 builtin: dict[str, str] | None = None) -> None:
        self.path = path
        self.problems: list[str] = []
        self._builtin = dict(builtin_entries() if builtin is None else builtin)
        self._station = dict(station or {})
        self._compiled: tuple[re.Pattern[str], dict[str, str], dict[str, str]] | None = None

    @classmethod
    def load(cls, station_path: Path | None = None) -> Lexicon:
        """The built-in list plus the station entries in station_path (a missing file = none yet)."""
        station: dict[str, str] = {}
        problems: list[str] = []
        if station_path is not None:
            station_path = Path(station_path)
            if station_path.exists():
                try:
                    text = station_path.read_text(encoding="utf-8-sig")
                except (OSError, UnicodeDecodeError) as exc:
                    raise InputError(f"Không đọc được từ điển {station_path}: {exc}") from exc
                station, problems = parse_tsv(text, str(station_path))
        lexicon = cls(station, station_path)
        lexicon.problems = problems
        return lexicon

    # -- editing -------------------------------------------------------------------------------

    def add(self, written: str, spoken: str) -> None:
        """Add or replace a station entry (it overrides a built-in one with the same written form)."""
        _validate(written, spoken)
        self._station[_clean(written)] = _clean(spoken)
        self._compiled = None

    def remove(self, written: str) -> None:
        """Remove a station entry. A built-in entry cannot be removed, only overridden with add()."""
        _validate(written)
        key = _clean(written)
        if key in self._station:
            del self._station[key]
            self._compiled = None
            return
        if key in self._builtin:
            raise InputError(
                f"'{key}' là mục có sẵn, không xóa được; dùng 'lexicon add' để đặt cách đọc khác"
            )
        raise NotFoundError(f"không có mục '{key}' trong từ điển của đài")

    def save(self) -> Path:
        """Write the station entries (only those) to self.path atomically; returns the path."""
        if self.path is None:
            raise InputError("từ điển này không gắn với tệp nào của đài, không lưu được")
        path = Path(self.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        body = STATION_HEADER + "".join(f"{w}\t{s}\n" for w, s in self._station.items())
        from ..disk import write_atomic

        write_atomic(path, body)  # whole or not at all, flushed to the disk before the rename
        return path

    # -- reading -------------------------------------------------------------------------------

    def entries(self) -> dict[str, str]:
        """The effective entries (built-ins overridden by station entries), sorted by written form."""
        merged = {**self._builtin, **self._station}
        return dict(sorted(merged.items(), key=lambda item: (item[0].casefold(), item[0])))

    def station_entries(self) -> dict[str, str]:
        """The station's own entries, in file order."""
        return dict(self._station)

    def builtin_entries(self) -> dict[str, str]:
        """The built-in entries (before station overrides)."""
        return dict(self._builtin)

    def source(self, written: str) -> str | None:
        """"station", "builtin" or None: where the effective entry for written comes from."""
        key = _clean(written)
        if key in self._station:
            return "station"
        if key in self._builtin:
            return "builtin"
        return None

    def fingerprint(self) -> str:
        """A stable short hash of the effective entries, for keying caches of rendered speech."""
        digest = hashlib.sha256()
        for written, spoken in self.entries().items():
            digest.update(f"{written}\t{spoken}\n".encode())
        return digest.hexdigest()[:16]

    def __contains__(self, written: object) -> bool:
        return isinstance(written, str) and self.lookup(written) is not None

    def _compile(self) -> tuple[re.Pattern[str], dict[str, str], dict[str, str]]:
        if self._compiled is None:
            entries = self.entries()
            exact = dict(entries)
            folded: dict[str, str] = {}
            for written in entries:
                if any(ch.islower() for ch in written):
                    folded.setdefault(written.casefold(), entries[written])
            if entries:
                pattern = re.compile(r"(?<!\w)" + _trie_pattern(entries) + r"(?!\w)")
            else:
                pattern = re.compile(r"(?!x)x")  # matches nothing
            self._compiled = (pattern, exact, folded)
        return self._compiled

    @property
    def pattern(self) -> re.Pattern[str]:
        """The compiled whole-word, longest-first pattern of every written form."""
        return self._compile()[0]

    def lookup(self, written: str) -> str | None:
        """The spoken form for a written form as it appears in text (case rules as in matching)."""
        _, exact, folded = self._compile()
        if written in exact:
            return exact[written]
        return folded.get(written.casefold())  # only entries that have lower-case letters

    def apply(self, text: str, keep: Callable[[re.Match[str]], bool] | None = None) -> str:
        """Replace every abbreviation in text by its spoken form.

        keep(match) may return True to leave one occurrence as written (the caller knows the
        context, e.g. "TƯ" inside the heading "THÔNG TƯ" is the word "tư").
        """
        pattern, _, _ = self._compile()

        def replace(match: re.Match[str]) -> str:
            if keep is not None and keep(match):
                return match.group(0)
            spoken = self.lookup(match.group(0))
            return match.group(0) if spoken is None else spoken

        return pattern.sub(replace, text)
