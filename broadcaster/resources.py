"""Files the package ships as data (audio_assets/, schedules/), found with importlib.resources.

The two folders stay at the top of the repository; setup.py maps them into the package as
broadcaster.audio_assets and broadcaster.schedules, so an editable install finds them in the
checkout and a wheel install in site-packages, from any working directory.
"""

from __future__ import annotations

import atexit
from contextlib import ExitStack
from functools import cache
from importlib.resources import as_file, files
from importlib.resources.abc import Traversable
from pathlib import Path

#: The data folders shipped inside the package (folder at the top of the repo = subpackage name).
DATA_PACKAGES = ("audio_assets", "schedules")

_extracted = ExitStack()
atexit.register(_extracted.close)


def _folder(folder: str) -> Traversable:
    if folder not in DATA_PACKAGES:
        raise ValueError(f"unknown data folder {folder!r} (known: {', '.join(DATA_PACKAGES)})")
    return files(f"{__package__}.{folder}")


def data_dir(folder: str) -> Path:
    """The directory of one shipped data folder, "audio_assets" or "schedules" (an installed folder)."""
    resource = _folder(folder)
    if not isinstance(resource, Path):
        raise RuntimeError(f"{__package__}.{folder} is not a folder on disk ({resource!r}): use data_file()")
    return resource


@cache
def data_file(folder: str, name: str) -> Path:
    """Path of one shipped data file, e.g. data_file("schedules", "default.toml").

    The path is returned even if the file is missing (reading it then fails naming the path)."""
    resource = _folder(folder).joinpath(name)
    if isinstance(resource, Path):
        return resource
    # an import that is not plain files (a zip): a real copy for the life of the process
    return _extracted.enter_context(as_file(resource))
