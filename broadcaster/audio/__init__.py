"""Pure functions on audio: program-item assembly, jingles, loudness.

The public names are re-exported here; service code imports them from ``broadcaster.audio``.
"""

from .assemble import apply_fades, assemble_item
from .assets import BUILTIN_ASSETS, assets_dir, builtin_asset
from .files import load_audio
from .loudness import FLOOR_DB, Loudness, measure, normalize_loudness, true_peak_dbtp
from .render import ItemInfo, render_item

__all__ = [
    "BUILTIN_ASSETS",
    "FLOOR_DB",
    "ItemInfo",
    "Loudness",
    "apply_fades",
    "assemble_item",
    "assets_dir",
    "builtin_asset",
    "load_audio",
    "measure",
    "normalize_loudness",
    "render_item",
    "true_peak_dbtp",
]
