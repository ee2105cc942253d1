"""Where the station's data directory is, when a command is not told (issue 11 item 2).

Standard library only: the fast urgent path (cli/urgent_client.py) finds the data directory by the
same rule as the full CLI (config.resolve_data_dir), without importing pydantic.

The rule: the --data-dir given, else $BROADCASTER_DATA_DIR, else the first existing data directory
of: ./data (the folder the command runs in), then <project>/data (the checkout this package runs
from, where `make run` keeps it). When none exists, only `init` may make one (./data); every other
command says where it looked and how to point at the station's, instead of starting an empty
station in whatever folder it was run from.
"""

from __future__ import annotations

import os
from pathlib import Path

from .exceptions import ConfigError

DATA_DIR_ENV = "BROADCASTER_DATA_DIR"
DEFAULT_DATA_DIR = Path("data")
# the files init writes: a folder with one of them is a station's data directory, any other is not
MARKER_FILES = ("broadcaster.db", "settings.toml")


def _project_root() -> Path | None:
    """The source checkout this package runs from (an editable install), or None (a wheel)."""
    root = Path(__file__).resolve().parents[1]
    return root if (root / "pyproject.toml").is_file() and (root / "broadcaster").is_dir() else None


PROJECT_ROOT: Path | None = _project_root()


def is_data_dir(path: Path) -> bool:
    return any((path / name).is_file() for name in MARKER_FILES)


def candidates() -> list[Path]:
    """The folders looked in, in order (absolute, without repeats)."""
    found = [(Path.cwd() / DEFAULT_DATA_DIR)]
    if PROJECT_ROOT is not None:
        found.append(PROJECT_ROOT / DEFAULT_DATA_DIR)
    unique: list[Path] = []
    for path in found:
        if path not in unique:
            unique.append(path)
    return unique


def not_found_message(looked: list[Path]) -> str:
    where = ", ".join(str(path) for path in looked)
    return (
        f"Không tìm thấy thư mục dữ liệu của đài (đã tìm ở: {where}). Hãy chạy lệnh trong thư mục của đài, "
        f"hoặc chỉ rõ thư mục bằng --data-dir THƯ_MỤC hay biến môi trường {DATA_DIR_ENV}=THƯ_MỤC; "
        "chưa có đài nào thì tạo thư mục dữ liệu bằng `broadcaster init`."
    )


def locate(option: str | Path | None = None, *, create: bool = False) -> Path:
    """The data directory by the rule above. With `create` (init) a missing one is ./data (made by the
    caller); without it, a missing one raises ConfigError naming the folders looked in."""
    if option:
        return Path(option)
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env)
    looked = candidates()
    for path in looked:
        if is_data_dir(path):
            return DEFAULT_DATA_DIR if path == Path.cwd() / DEFAULT_DATA_DIR else path
    if create:
        return DEFAULT_DATA_DIR
    raise ConfigError(not_found_message(looked))
